"""Puts a question in the guidelines' words before it is matched: Swedish words are translated in place
(function words dropped), the short forms staff use are spelt out, the document's own name becomes
"the guidelines" and the name of a country abroad becomes "abroad": all that either says about what is
asked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.places import abroad_for_places
from knowledge.text import SWEDISH_STOPWORDS, fold, words

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary.yaml"
_SWEDISH_ENDINGS = ("arna", "erna", "orna", "en", "et", "na", "ar", "er", "or", "n", "t")
# KI staff write Swedish terms into English questions ("report to the prefekt?"); a Swedish word this long
# is not also an English one (shorter ones are: "chef", "land", "labb"), so its English terms are added; so
# are those of a Swedish phrase ("närmaste chef").
MIXED_IN_LENGTH = 6


@dataclass(frozen=True)
class Glossary:
    swedish: dict[str, str]
    abbreviations: dict[str, str]
    names: tuple[str, ...] = ()
    framing: tuple[str, ...] = ()
    _phrases: tuple[str, ...] = field(init=False, repr=False)  # the Swedish entries of several words

    def __post_init__(self) -> None:
        object.__setattr__(self, "_phrases", tuple(p for p in self.swedish if " " in p))

    def _lookup(self, table: dict[str, str], word: str, swedish: bool) -> str | None:
        if word in table:
            return table[word]
        if not swedish:
            return None
        for ending in _SWEDISH_ENDINGS:
            if word.endswith(ending) and word[: -len(ending)] in table:
                return table[word[: -len(ending)]]
        return self._compound(table, word)

    def _compound(self, table: dict[str, str], word: str) -> str | None:
        """Swedish compounds ("forskningssamarbete"): a known head word after a known first part."""
        for cut in range(3, len(word) - 3):
            head = self._lookup(table, word[cut:], swedish=False) or next(
                (
                    table[word[cut : -len(e)]]
                    for e in _SWEDISH_ENDINGS
                    if word.endswith(e) and word[cut : -len(e)] in table
                ),
                None,
            )
            if head is None:
                continue
            first = word[:cut]
            modifier = table.get(first) or table.get(first.removesuffix("s"))
            return f"{modifier} {head}" if modifier else head
        return None

    def _plain_name(self, folded: str) -> str:
        for name in self.names:
            folded = folded.replace(name, " the guidelines ")
        for phrase in self.framing:
            folded = folded.replace(phrase, " ")
        return folded

    def expand(self, question: str, language: str) -> str:
        """The question in the guidelines' words: English kept as written (abbreviations and Swedish terms
        spelt out after it), Swedish translated word by word in place."""
        folded = abroad_for_places(self._plain_name(fold(question)))
        if language != "sv":
            found = words(folded)
            extra = [self.abbreviations[w] for w in found if w in self.abbreviations]
            extra += [self.swedish[w] for w in found if len(w) >= MIXED_IN_LENGTH and w in self.swedish]
            extra += [self.swedish[p] for p in self._phrases if f" {p} " in f" {folded} "]
            return " ".join([re.sub(r"\s+", " ", folded).strip(), *extra]).strip()
        for phrase in (p for p in self._phrases if p in folded):
            folded = folded.replace(phrase, f" {self.swedish[phrase]} ")
        out = []
        for word in words(folded):
            english = self._lookup(self.swedish, word, swedish=True) or self.abbreviations.get(word)
            if english:
                out.append(english)
            elif word not in SWEDISH_STOPWORDS:
                out.append(word)
        return " ".join(out)


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    data = yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8"))
    return Glossary(
        swedish=dict(data.get("swedish", {})),
        abbreviations=dict(data.get("abbreviations", {})),
        names=tuple(sorted((str(n) for n in data.get("names", [])), key=len, reverse=True)),
        framing=tuple(str(p) for p in data.get("framing", [])),
    )
