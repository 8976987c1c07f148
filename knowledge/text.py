"""Tokens, a light English stemmer, stop words and language detection for lexical matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

_WORD = re.compile(r"[a-zåäöéü0-9]+(?:[-/][a-zåäöéü0-9]+)*", re.IGNORECASE)

_WORDS = yaml.safe_load((Path(__file__).parent / "data" / "words.yaml").read_text(encoding="utf-8"))
STOPWORDS = frozenset(_WORDS["english_stopwords"].split())

_SUFFIXES = (
    ("isations", "is"),
    ("izations", "is"),
    ("isation", "is"),
    ("ization", "is"),
    ("ational", "ate"),
    ("ical", "ic"),
    ("ising", "is"),
    ("izing", "is"),
    ("ised", "is"),
    ("ized", "is"),
    ("ises", "is"),
    ("izes", "is"),
    ("ise", "is"),
    ("ize", "is"),
    ("nesses", ""),
    ("ness", ""),
    ("ments", ""),
    ("ment", ""),
    ("ities", "ity"),
    ("ies", "y"),
    ("ings", ""),
    ("ing", ""),
    ("ied", "y"),
    ("ed", ""),
    ("ers", "er"),
    ("ses", "s"),
    ("es", "e"),
    ("s", ""),
)


def any_of(patterns: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    """One pattern that matches wherever any of `patterns` does, each kept whole in its own group."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


def fold(text: str) -> str:
    """Lower-case, NFC-normalised text with typographic quotes and dashes made plain."""
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")


@lru_cache(maxsize=16384)  # the same words come back in question after question
def stem(word: str) -> str:
    word = word.removesuffix("'s")
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)] + replacement
    return word


def words(text: str) -> list[str]:
    return [w.strip("-/") for w in _WORD.findall(fold(text).replace("'s ", " "))]


def content_words(text: str, language: str = "en") -> list[str]:
    stop = STOPWORDS | SWEDISH_STOPWORDS if language == "sv" else STOPWORDS
    return [w for w in words(text) if w not in stop and len(w) > 1]


def tokens(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and matches."""
    out: list[str] = []
    for word in content_words(text):
        out.append(stem(word))
        if "/" in word or "-" in word:
            out.extend(stem(part) for part in re.split(r"[-/]", word) if part and part not in STOPWORDS)
    return out


SWEDISH_STOPWORDS = frozenset(_WORDS["swedish_stopwords"].split())

_SWEDISH_HINTS = frozenset(_WORDS["swedish_hints"].split())


def detect_language(text: str) -> str:
    """'sv' when the text reads as Swedish, else 'en'. Good enough to choose a glossary and a notice."""
    found = words(text)
    if not found:
        return "en"
    swedish = sum(1 for w in found if w in _SWEDISH_HINTS or any(ch in w for ch in "åäö"))
    # an English question that names a Swedish body ("What does Säkerhetsforum do?") has more English
    # function words than Swedish words; a Swedish one that borrows an English term has fewer
    english = sum(1 for w in found if w in _ENGLISH_HINTS and w not in _SWEDISH_HINTS)
    return "sv" if swedish / len(found) >= 0.25 and swedish > english else "en"


_ENGLISH_HINTS = frozenset(
    "the a an is are was do does did who what where when why how which can could should would will i we "
    "you my our to of for in on with and or not it this that by whom if about please".split()
)


# Asking for a language by name ("in Swedish, please", "kan du svara på engelska?") chooses it, whatever the
# language the request itself is written in.
_ASKED_FOR = (
    ("sv", re.compile(r"\b(?:in|into|på|to) (?:swedish|svenska)\b|\bsvenska,? (?:tack|please)\b", re.I)),
    ("en", re.compile(r"\b(?:in|into|på|to) (?:english|engelska)\b|\benglish,? (?:please|tack)\b", re.I)),
)


def asked_language(text: str) -> tuple[str, str] | None:
    """The language a message asks for by name, and the message without the sentence that asks for it."""
    for language, pattern in _ASKED_FOR:
        if pattern.search(text):
            rest = [s for s in re.split(r"(?<=[.?!])\s+", text) if not pattern.search(s)]
            return language, " ".join(rest)
    return None


def language_of(text: str, fallback: str) -> str:
    """The language a message asks for or is written in, or `fallback` when it does not tell: "ok", "GVS?"
    or "2" keep a conversation's language; a switch needs Swedish words or English ones."""
    asked = asked_language(text)
    if asked:
        return asked[0]
    found = words(text)
    if not found:
        return fallback
    if detect_language(text) == "sv":
        return "sv"
    english = sum(1 for w in found if w in _ENGLISH_HINTS)
    return "en" if english and english / len(found) >= 0.2 and len(found) >= 2 else fallback


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])")


def sentences(text: str) -> list[str]:
    """The sentences of a passage ("ref. no. 1-576/2024" stays whole: a sentence starts with a capital)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
