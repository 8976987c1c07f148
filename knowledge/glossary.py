"""Expands a question with the guidelines' own words: Swedish domain terms are translated, common English
variants are mapped onto the wording the text uses. Retrieval matches the expanded question."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.text import fold, words

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary.yaml"
_SWEDISH_ENDINGS = ("arna", "erna", "orna", "en", "et", "na", "ar", "er", "or", "n", "t")


@dataclass(frozen=True)
class Glossary:
    swedish: dict[str, str]
    synonyms: dict[str, str]

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

    def terms_for(self, word: str, language: str) -> str | None:
        """The guideline words a single user word stands for, if the glossary knows it."""
        if language == "sv":
            found = self._lookup(self.swedish, word, swedish=True)
            if found:
                return found
        return self._lookup(self.synonyms, word, swedish=False)

    def expand(self, question: str, language: str) -> str:
        """The question with glossary terms appended (Swedish words replaced by their English terms)."""
        folded = fold(question)
        found = words(folded)
        extra: list[str] = []
        kept: list[str] = []
        for phrase in (p for p in (*self.swedish, *self.synonyms) if " " in p and p in folded):
            extra.append(self.swedish.get(phrase) or self.synonyms[phrase])
        for word in found:
            english = self._lookup(self.swedish, word, swedish=True) if language == "sv" else None
            if english:
                extra.append(english)
            else:
                kept.append(word)
            synonym = self._lookup(self.synonyms, word, swedish=False)
            if synonym:
                extra.append(synonym)
        base = " ".join(kept) if language == "sv" else question
        return " ".join([base, *extra]).strip()


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    data = yaml.safe_load(GLOSSARY_FILE.read_text(encoding="utf-8"))
    return Glossary(swedish=dict(data.get("swedish", {})), synonyms=dict(data.get("synonyms", {})))
