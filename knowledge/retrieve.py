"""Hybrid retrieval: dense similarity to the indexed passage vectors and BM25 over the same passages, fused by
reciprocal rank. Questions are expanded with the domain glossary first (Swedish terms and common variants
mapped onto the guidelines' wording)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from knowledge.embedding import one_blas_thread
from knowledge.glossary import Glossary, glossary
from knowledge.intent_index import IntentIndex
from knowledge.kinds import KindModel
from knowledge.lexical import bm25_index
from knowledge.model import GuidelineModel, guideline_model
from knowledge.text import detect_language
from knowledge.types import Hit, Passage, Retrieval

# Fusion. Each passage gets, with equal weights, its cosine similarity, its BM25 score relative to the best
# BM25 score for the question, and its reciprocal ranks in the dense and the lexical list (scaled so rank 0
# gives 1). Pure reciprocal rank fusion throws away how far ahead a passage is: on the development set a
# paragraph that shares every key word ("before and during") lost to paraphrase-level dense matches. Pure
# score fusion is brittle when one list is flat. The sum keeps both; measured on the development set, any
# dense weight between 0.3 and 0.6 and RRF_K between 10 and 60 gave the same ranking.
RRF_K = 60
MAX_FUSED = 2.0  # all four parts at their best; scores are shown divided by it, in [0, 1]


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
        self._ids = list(self.passages)
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
        with one_blas_thread():
            return self._search(questions, k)

    def _search(self, questions: list[str], k: int) -> list[Retrieval]:
        languages = [detect_language(q) for q in questions]
        expanded = [self.glossary.expand(q, lang) for q, lang in zip(questions, languages, strict=True)]
        vectors = self.encoder.encode(expanded)
        similarities = vectors @ self.vectors.T  # cosine: all rows have unit length
        intents = (
            self.intents.scores(vectors, expanded, languages) if self.intents else [() for _ in questions]
        )
        kinds = self.kinds.ranked(vectors, expanded) if self.kinds else [() for _ in questions]
        return [
            replace(self._fuse(q, lang, text, sims, k), intents=near, kinds=kind)
            for q, lang, text, sims, near, kind in zip(
                questions, languages, expanded, similarities, intents, kinds, strict=True
            )
        ]

    def _fuse(self, question: str, language: str, expanded: str, sims: np.ndarray, k: int) -> Retrieval:
        """Each passage's fused score (see the weights above), over all passages at once."""
        n = len(self._ids)
        ranked = np.argsort(-sims, kind="stable")[:DENSE_CANDIDATES]
        dense = np.zeros(n)
        dense[ranked] = sims[ranked]
        dense_rank = np.full(n, float(n))
        dense_rank[ranked] = np.arange(len(ranked))
        lexical = self.bm25.scores(expanded)
        found = np.flatnonzero(lexical > 0)
        lexical_order = found[np.argsort(-lexical[found], kind="stable")]
        lexical_rrf = np.zeros(n)
        lexical_rrf[lexical_order] = 0.5 * RRF_K / (RRF_K + np.arange(len(lexical_order)))
        top_lexical = float(lexical.max()) if n and lexical.max() > 0 else 1.0
        fused = 0.5 * dense + 0.5 * lexical / top_lexical + 0.5 * RRF_K / (RRF_K + dense_rank) + lexical_rrf
        hits = tuple(
            Hit(
                passage=self.passages[self._ids[i]],
                score=round(min(1.0, float(fused[i]) / MAX_FUSED), 4),
                dense=float(dense[i]),
                lexical=float(lexical[i]),
            )
            for i in np.argsort(-fused, kind="stable")[:k]
        )
        return Retrieval(query=question, language=language, hits=hits, expanded=expanded)
