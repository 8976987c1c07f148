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
from onnx import TensorProto, helper, numpy_helper

from knowledge.embedding import EMBEDDING_DIM, GRAPH_FILE, OnnxEncoder, SentenceTransformerEncoder
from knowledge.index_files import ENCODER_DIR
from knowledge.onnx_export import fuse_shared_products

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
    assert np.abs(ours - one_by_one).max() < 1e-5  # batching and padding change nothing


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


def _outputs(path: Path, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feed), strict=True))


def test_products_of_one_input_become_one_product_with_the_same_results(tmp_path: Path) -> None:
    rng = np.random.default_rng(14)
    widths = {"q": 4, "k": 5, "v": 6}
    constants = [
        numpy_helper.from_array(rng.normal(size=(8, w)).astype(np.float32), f"w_{n}")
        for n, w in widths.items()
    ]
    constants += [
        numpy_helper.from_array(rng.normal(size=w).astype(np.float32), f"b_{n}") for n, w in widths.items()
    ]
    constants.append(numpy_helper.from_array(rng.normal(size=(8, 3)).astype(np.float32), "w_other"))
    nodes = [helper.make_node("MatMul", ["x", f"w_{n}"], [f"p_{n}"], name=f"product_{n}") for n in widths]
    nodes += [helper.make_node("Add", [f"b_{n}", f"p_{n}"], [n], name=f"bias_{n}") for n in widths]
    nodes += [  # a product without a bias of its own, and one of another input: both left as they are
        helper.make_node("MatMul", ["x", "w_other"], ["unbiased"], name="unbiased"),
        helper.make_node("MatMul", ["y", "w_q"], ["elsewhere"], name="elsewhere"),
    ]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, None, 8]) for n in ("x", "y")]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in [*widths, "unbiased", "elsewhere"]
    ]
    graph = helper.make_graph(nodes, "products", inputs, outputs, constants)
    path = tmp_path / "products.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    feed = {n: rng.normal(size=(2, 7, 8)).astype(np.float32) for n in ("x", "y")}
    before = _outputs(path, feed)

    fuse_shared_products(path)

    fused = onnx.load(str(path)).graph
    assert sorted(n.op_type for n in fused.node) == ["Add", "MatMul", "MatMul", "MatMul", "Split"]
    assert "w_q" in {t.name for t in fused.initializer}  # still used by the other input's product
    assert not {"w_k", "b_q"} & {t.name for t in fused.initializer}
    after = _outputs(path, feed)
    assert all(np.allclose(after[name], value, rtol=0, atol=1e-5) for name, value in before.items())


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
