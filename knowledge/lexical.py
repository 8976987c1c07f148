"""Okapi BM25 over passages' stemmed search text. The corpus is small, so the index lives in memory: it is
built once per set of passages and process and shared by every retriever opened on them. Building it takes
about 5 ms for the guidelines' 38 passages on a busy 2-core machine; reading it from a file would take under
1 ms but would go stale silently whenever the stemmer or the stop words change, for under 1 % of a cold
start."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from knowledge.text import tokens
from knowledge.types import Passage


class BM25:
    def __init__(self, passages: Sequence[Passage], k1: float = 1.2, b: float = 0.6) -> None:
        self.passages = list(passages)
        self.k1, self.b = k1, b
        docs = [Counter(tokens(p.search_text)) for p in self.passages]
        lengths = [sum(d.values()) for d in docs]
        average = sum(lengths) / max(len(lengths), 1)
        frequency: Counter[str] = Counter()
        for doc in docs:
            frequency.update(doc.keys())
        n = len(docs)
        idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self.vocabulary = frozenset(frequency)
        # Each term's weight in each passage that has it, computed once: a query's scores are the sum of its
        # terms' postings, not a loop over every passage (the example questions number almost two thousand).
        found: dict[str, tuple[list[int], list[float]]] = {t: ([], []) for t in frequency}
        for row, (doc, length) in enumerate(zip(docs, lengths, strict=True)):
            norm = k1 * (1 - b + b * length / average)
            for term, count in doc.items():
                found[term][0].append(row)
                found[term][1].append(idf[term] * count * (k1 + 1) / (count + norm))
        self._postings = {t: (np.array(rows), np.array(weights)) for t, (rows, weights) in found.items()}

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.passages))
        for term in set(tokens(query)) & self.vocabulary:
            rows, weights = self._postings[term]
            out[rows] += weights
        return out


@lru_cache(maxsize=4)
def bm25_index(passages: tuple[Passage, ...]) -> BM25:
    """The BM25 index of exactly these passages, built on first use."""
    return BM25(passages)
