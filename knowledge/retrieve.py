"""Hybrid retrieval: dense similarity to the indexed passage vectors and BM25 over the same passages, fused by
reciprocal rank. Questions are expanded with the domain glossary first (Swedish terms and common variants
mapped onto the guidelines' wording)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from knowledge.glossary import Glossary, glossary
from knowledge.intent_index import IntentIndex
from knowledge.kinds import KindModel
from knowledge.lexical import bm25_index
from knowledge.model import GuidelineModel, guideline_model
from knowledge.text import QUESTION_WORDS, content_words, detect_language
from knowledge.types import Hit, Passage, Retrieval

# Fusion. Each passage gets, with equal weights, its cosine similarity, its BM25 score relative to the best
# BM25 score for the question, and its reciprocal ranks in the dense and the lexical list (scaled so rank 0
# gives 1). Pure reciprocal rank fusion throws away how far ahead a passage is: on the development set a
# paragraph that shares every key word ("before and during") lost to paraphrase-level dense matches. Pure
# score fusion is brittle when one list is flat. The sum keeps both; measured on the development set, any
# dense weight between 0.3 and 0.6 and RRF_K between 10 and 60 gave the same ranking.
RRF_K = 60
MAX_FUSED = 2.0  # all four parts at their best; scores are shown divided by it, in [0, 1]
# Clauses: users often describe their situation ("My postdoc wants to start a project with a lab in Brazil,")
# before the question ("who does the risk assessment?"); the question part is what must be covered.
_SENTENCES = re.compile(r"(?<=[.!?;:])\s+|\n+")
_CLAUSES = re.compile(r"(?<=[.!?;:,])\s+|\n+")


DENSE_CANDIDATES = 60  # passages ranked by similarity for each question


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray:
        """Shape (len(texts), 384), float32, rows of unit length."""
        ...


class HybridRetriever:
    def __init__(
        self,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        encoder: Encoder,
        terms: Glossary | None = None,
        intents: IntentIndex | None = None,
        model: GuidelineModel | None = None,
        kinds: KindModel | None = None,
    ) -> None:
        """`vectors`: one unit-length row per passage, in the order of `passages`."""
        self.passages = {p.id: p for p in passages}
        self.bm25 = bm25_index(tuple(passages))
        self.vectors = vectors
        self.encoder = encoder
        self.glossary = terms or glossary()
        self.intents = intents
        self.kinds = kinds
        self.model = model or guideline_model()

    def passage(self, passage_id: str) -> Passage | None:
        return self.passages.get(passage_id)

    def search(self, question: str, k: int = 5) -> Retrieval:
        return self.search_many([question], k)[0]

    def search_many(self, questions: list[str], k: int = 5) -> list[Retrieval]:
        if not questions:
            return []
        languages = [detect_language(q) for q in questions]
        expanded = [self.glossary.expand(q, lang) for q, lang in zip(questions, languages, strict=True)]
        vectors = self.encoder.encode(expanded)
        dense = self._dense(vectors)
        intents = (
            self.intents.scores(vectors, expanded, languages) if self.intents else [() for _ in questions]
        )
        kinds = self.kinds.ranked(vectors, expanded) if self.kinds else [() for _ in questions]
        return [
            replace(self._fuse(q, lang, text, sims, k), intents=near, kinds=kind)
            for q, lang, text, sims, near, kind in zip(
                questions, languages, expanded, dense, intents, kinds, strict=True
            )
        ]

    def _dense(self, vectors: np.ndarray) -> list[dict[str, float]]:
        similarities = vectors @ self.vectors.T  # cosine: all rows have unit length
        ids = list(self.passages)
        best = np.argsort(-similarities, axis=1, kind="stable")[:, :DENSE_CANDIDATES]
        return [{ids[i]: float(row[i]) for i in order} for row, order in zip(similarities, best, strict=True)]

    def _fuse(self, question: str, language: str, expanded: str, sims: dict[str, float], k: int) -> Retrieval:
        lexical = dict(zip(self.passages, self.bm25.scores(expanded), strict=True))
        dense_rank = {pid: r for r, pid in enumerate(sorted(sims, key=sims.__getitem__, reverse=True))}
        lexical_order = sorted((p for p in lexical if lexical[p] > 0), key=lexical.__getitem__, reverse=True)
        lexical_rank = {pid: r for r, pid in enumerate(lexical_order)}
        top_lexical = max(lexical.values()) or 1.0
        fused: dict[str, float] = {}
        for pid in self.passages:
            score = 0.5 * sims.get(pid, 0.0) + 0.5 * lexical[pid] / top_lexical
            score += 0.5 * RRF_K / (RRF_K + dense_rank.get(pid, len(self.passages)))
            if pid in lexical_rank:
                score += 0.5 * RRF_K / (RRF_K + lexical_rank[pid])
            fused[pid] = score
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        hits = tuple(
            Hit(
                passage=self.passages[pid],
                score=round(min(1.0, fused[pid] / MAX_FUSED), 4),
                dense=sims.get(pid, 0.0),
                lexical=lexical[pid],
            )
            for pid in best
        )
        return Retrieval(
            query=question,
            language=language,
            hits=hits,
            coverage=self._coverage(question, language),
            expanded=expanded,
        )

    def _coverage(self, question: str, language: str) -> float:
        """Share of the subject words that the guidelines (or the glossary) know, for the best-covered
        sentence, or clause of two subject words or more: a greeting, an instruction or a description of the
        user's situation around a real question does not hide it."""
        clauses = [c for c in _CLAUSES.split(question) if len(self._subject(c, language)) >= 2]
        parts = [*_SENTENCES.split(question), *clauses]
        return max((self._sentence_coverage(c, language) for c in parts), default=0.0)

    def _subject(self, text: str, language: str) -> list[str]:
        return [w for w in content_words(text, language) if w not in QUESTION_WORDS]

    def _sentence_coverage(self, sentence: str, language: str) -> float:
        subject = self._subject(sentence, language)
        if not subject:
            return 0.0
        known = 0
        for word in subject:
            terms = self.glossary.terms_for(word, language) or ""
            known += bool(self.bm25.known_share(f"{word} {terms}") > 0)
        return known / len(subject)
