"""Questions and passages are embedded by the same model: the lean query encoder gives the vectors that
sentence-transformers (used at ingestion) gives."""

from __future__ import annotations

import math

import pytest

from knowledge.embedding import EMBEDDING_DIM, document_embeddings, query_encoder

pytestmark = pytest.mark.slow
TEXTS = [
    "Who carries out the risk assessment for an individual research collaboration?",
    "Vem ger råd om etiska frågor i internationella samarbeten?",
    "ok",
    "A much longer text about animal experiments abroad, " * 20,
]


def test_query_encoder_matches_sentence_transformers() -> None:
    ours = query_encoder().encode(TEXTS)
    theirs = document_embeddings().embed_documents(TEXTS)
    for a, b in zip(ours, theirs, strict=True):
        assert len(a) == len(b) == EMBEDDING_DIM
        assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-4)
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.9999


def test_different_texts_get_different_vectors() -> None:
    first, second = query_encoder().encode(TEXTS[:2])
    assert sum(x * y for x, y in zip(first, second, strict=True)) < 0.95
