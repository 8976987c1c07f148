"""The exported ONNX graph, with its 8-bit products, gives the vectors that sentence-transformers gives: for
every passage (as indexed) and every development question, cosine >= 0.999. That it answers alike is
checked in test_onnx_index.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import helper
from tokenizers import Tokenizer

from knowledge.embedding import (
    EMBEDDING_DIM,
    GRAPH_FILE,
    TOKENIZER_FILE,
    OnnxEncoder,
    SentenceTransformerEncoder,
)
from knowledge.index_files import ENCODER_DIR

pytestmark = pytest.mark.slow
MIN_COSINE = 0.999
# Texts of a word or none are mostly the [CLS] and [SEP] positions, whose activations are the largest and
# lose most to 8-bit products: "" and "ok" measured 0.9983 and 0.9984 (knowledge/onnx_export.py).
MIN_COSINE_SHORT = 0.997


@pytest.fixture(scope="module")
def torch_encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


def _check_unit_rows(vectors: np.ndarray, count: int) -> None:
    assert vectors.shape == (count, EMBEDDING_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_every_development_question_gets_the_same_vector(
    retriever: Any, torch_encoder: SentenceTransformerEncoder, development_questions: list[str]
) -> None:
    questions = development_questions
    assert len(questions) > 100
    assert isinstance(retriever.encoder, OnnxEncoder)
    ours = retriever.encoder.encode(questions)
    one_by_one = np.vstack([retriever.encoder.encode([q]) for q in questions])
    theirs = torch_encoder.encode(questions)
    _check_unit_rows(ours, len(questions))
    _check_unit_rows(theirs, len(questions))
    assert np.sum(ours * theirs, axis=1).min() >= MIN_COSINE
    assert np.abs(ours - one_by_one).max() < 1e-5  # batching changes nothing


def test_every_indexed_passage_has_the_vector_sentence_transformers_gives(
    retriever: Any, torch_encoder: SentenceTransformerEncoder
) -> None:
    passages = list(retriever.passages.values())
    assert len(passages) >= 35
    theirs = torch_encoder.encode([p.search_text for p in passages])
    _check_unit_rows(retriever.vectors, len(passages))
    assert np.sum(retriever.vectors * theirs, axis=1).min() >= MIN_COSINE


def test_long_short_and_empty_input(retriever: Any, torch_encoder: SentenceTransformerEncoder) -> None:
    texts = ["", "ok", "Vem ger råd om etiska frågor?", "Animal experiments abroad. " * 200]
    ours = retriever.encoder.encode(texts)
    agreement = np.sum(ours * torch_encoder.encode(texts), axis=1)
    assert agreement[:2].min() >= MIN_COSINE_SHORT and agreement[2:].min() >= MIN_COSINE
    assert retriever.encoder.encode([]).shape == (0, EMBEDDING_DIM)
    first, second = ours[1], ours[2]
    assert float(first @ second) < 0.95


def test_each_layers_query_key_and_value_are_one_product(data_dir: Path, retriever: Any) -> None:
    graph = onnx.load(str(data_dir / "index" / ENCODER_DIR / GRAPH_FILE)).graph
    producers = {output: node for node in graph.node for output in node.output}
    splits = [node for node in graph.node if node.op_type == "Split"]
    assert len(splits) == 6  # one per layer of all-MiniLM-L6-v2
    for split in splits:
        product = producers[producers[split.input[0]].input[0]]  # the bias addition's product
        sizes = {a.name: helper.get_attribute_value(a) for a in product.attribute}
        assert product.op_type == "MatMulNBits" and sizes["N"] == 3 * sizes["K"] == 3 * EMBEDDING_DIM
        assert len(split.output) == 3
    constants = {tensor.name for tensor in graph.initializer}
    heads = [node for node in graph.node if node.op_type == "Reshape" and "/attention/" in node.name]
    assert len(heads) == 24 and all(node.input[1] in constants for node in heads)


def test_padded_texts_get_the_vectors_they_get_alone(data_dir: Path, retriever: Any) -> None:
    """ribot passes texts of one length together, but the graph keeps its attention mask for any caller that
    pads: a padded batch gives each text the vector it gets alone."""
    texts = ["ok", "Who decides whether a cooperation can proceed?", "Vem ger råd om etiska frågor?"]
    folder = data_dir / "index" / ENCODER_DIR
    session = onnxruntime.InferenceSession(str(folder / GRAPH_FILE), providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.no_padding()
    tokens = [tokenizer.encode(text).ids for text in texts]
    width = max(len(ids) for ids in tokens)
    padded = np.array([ids + [0] * (width - len(ids)) for ids in tokens], dtype=np.int64)
    mask = np.array([[1] * len(ids) + [0] * (width - len(ids)) for ids in tokens], dtype=np.int64)
    feed = {"input_ids": padded, "attention_mask": mask, "token_type_ids": np.zeros_like(padded)}
    (together,) = session.run(["sentence_embedding"], feed)
    alone = retriever.encoder.encode(texts)
    assert np.abs(together - alone).max() < 1e-5
