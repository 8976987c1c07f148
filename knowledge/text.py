"""Tokens, a light English stemmer, stop words and language detection for lexical matching."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-zåäöéü0-9]+(?:[-/][a-zåäöéü0-9]+)*", re.IGNORECASE)

STOPWORDS = frozenset(
    """a about against against all also am an and any are as at be because been being
    between both but by can could did do does doing each few for from had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now of
    off on once only or other our ours out over own same she should so some such than that the their theirs
    them then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours i'm i've we're what's who's it's let lets
    me my us our s t don't doesn't isn't aren't should've must shall may might get got any anyone someone
    something thing things there's""".split()
)

# Words that carry the question's form, not its subject: never counted as unknown.
QUESTION_WORDS = frozenset(
    """tell explain define definition mean means meaning describe say says said need needs needed know
    want wants like please help kind sort type happen happens work works role roles go goes give gives find
    told ok okay hi hello hey thanks thank""".split()
)

_SUFFIXES = (
    ("isations", "is"), ("izations", "is"), ("isation", "is"), ("ization", "is"), ("ational", "ate"), ("ical", "ic"),
    ("ising", "is"), ("izing", "is"), ("ised", "is"), ("ized", "is"), ("ises", "is"), ("izes", "is"),
    ("ise", "is"), ("ize", "is"), ("nesses", ""), ("ness", ""), ("ments", ""), ("ment", ""),
    ("ities", "ity"), ("ies", "y"), ("ings", ""), ("ing", ""), ("ied", "y"), ("ed", ""), ("ers", "er"),
    ("ses", "s"), ("es", "e"), ("s", ""),
)


def fold(text: str) -> str:
    """Lower-case, NFC-normalised text with typographic quotes and dashes made plain."""
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")


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


SWEDISH_STOPWORDS = frozenset(
    """och att det som en ett är för på med av till om inte vem vad hur var vart när vilka vilken vilket ska
    skall kan kunna måste jag vi ni du han hon de dem den denna detta dessa min mitt mina din ditt dina vår vårt
    våra er ert era sig mig dig oss hos från eller också där här vid mot under över efter innan sedan så då
    bara även redan ju nog man få får fick gör göra gjorde blir bli vara varit har hade ha finns något någon
    några inga ingen alla allt mycket mer mest vilken vilket""".split()
)

_SWEDISH_HINTS = frozenset(
    """och att det som en ett är för på med av till om inte vem vad hur var när vilka vilken vilket ska
    kan måste jag vi ni min mitt mina vår vårt våra har hos från eller också där här dem den detta dessa
    frågor fråga samarbete samarbeten riktlinjer ansvar""".split()
)


def detect_language(text: str) -> str:
    """'sv' when the text reads as Swedish, else 'en'. Good enough to choose a glossary and a notice."""
    found = words(text)
    if not found:
        return "en"
    swedish = sum(1 for w in found if w in _SWEDISH_HINTS or any(ch in w for ch in "åäö"))
    return "sv" if swedish / len(found) >= 0.25 else "en"
