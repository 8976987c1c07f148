"""Exports the packaged model to ONNX for the query path. Run by ingestion: it needs torch and
sentence-transformers, which a process that answers never imports.

The graph takes `input_ids`, `attention_mask` and `token_type_ids` and returns `sentence_embedding`: the
model's mean pooling over the attention mask and its L2 normalisation, the two modules after the transformer
in its sentence-transformers configuration, are part of the graph.

Every weight matrix of the transformer is then stored in 8 bits, in blocks of 32 along its input with a
scale per block, and multiplied in 8-bit integers (ONNX Runtime's MatMulNBits at accuracy level 4, which
quantises each row of activations in the same blocks). Measured on 2 cores with the 168 questions of
dev.yaml, dev2.yaml and the probe set, one at a time: 2.0 ms per question instead of 2.9 ms, as the weights
(10 MB instead of 42 MB) stay in the cache. A scale per block rather than per matrix keeps the vectors:
cosine to sentence-transformers' at least 0.9992 on those questions and on every passage, 0.9974 on the
shortest texts ("right?"), whose few tokens leave the [CLS] and [SEP] positions, where activations are
largest, most of the mean. One scale per output channel (ONNX Runtime's dynamic quantisation) gave 0.98 and
lost an answer on dev.yaml. It is faster, its products 2.4 times as fast as MatMulNBits' on a CPU with AVX2
and without VNNI, but it quantises all of a text's activations with one scale, and a few channels (99 after
every LayerNorm, one after each GELU) reach 10 to 30 times the others, most at [CLS]. Moving them into the
others' range did not give speed and vectors together (calibrated on the labelled examples and the passages,
measured on the questions above): dividing them by a factor taken into the weights (SmoothQuant) kept part of
the speed but reached cosine 0.974; splitting each into copies reached 0.989 and was no faster than
MatMulNBits, for the Gather and Mul nodes it adds. Before the files are kept, the graph's vectors are compared
with sentence-transformers' on sample texts; the tests hold the answers to the development sets to the ones
full-precision vectors give."""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from knowledge.embedding import (
    GRAPH_FILE,
    MAX_TOKENS,
    TOKENIZER_FILE,
    OnnxEncoder,
    model_path,
    quiet_transformers,
)

OPSET = 17
BITS, BLOCK = 8, 32
INTEGER_PRODUCTS = 4  # MatMulNBits' accuracy level: activations quantised to int8 per block
# Cosine between the graph's and sentence-transformers' vectors of the same text, at least: a check that the
# graph is this model's (a wrong pooling or a lost normalisation gives 0.9 or less), with room under the
# 0.9983 that the shortest check text ("ok") gets from the 8-bit graph.
MIN_AGREEMENT = 0.997
CHECK_TEXTS = [
    "Who carries out the risk assessment for an individual research collaboration?",
    "Vem kontaktar jag om djurförsök utomlands?",
    "ok",
    "The head of department is informed. " * 60,  # longer than MAX_TOKENS: truncated alike
]
_AXES = {0: "texts", 1: "tokens"}


class ExportError(RuntimeError):
    """The model is not one this export reproduces, or the exported graph disagrees with it."""


class _PooledEncoder(torch.nn.Module):
    """The transformer followed by mean pooling and L2 normalisation."""

    def __init__(self, transformer: Any) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def export_encoder(folder: Path) -> None:
    """Writes the graph and the tokenizer into `folder` (created), checked against sentence-transformers."""
    quiet_transformers()
    # Eager attention exports the projections as plain matrix products, each of which is quantised.
    model = SentenceTransformer(
        str(model_path()), device="cpu", model_kwargs={"attn_implementation": "eager"}
    )
    _check_configuration(model)
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "float32.onnx"
    transformer: Any = model[0].auto_model
    _trace(transformer, raw)
    fuse_shared_products(raw)
    _quantise(raw, folder / GRAPH_FILE)
    raw.unlink()
    shutil.copyfile(model_path() / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    _check_agreement(model, folder)


def _check_configuration(model: Any) -> None:
    modules = [type(m).__name__ for m in model]
    pooling = getattr(model[1], "pooling_mode", None) if len(model) > 1 else None
    if (
        modules != ["Transformer", "Pooling", "Normalize"]
        or pooling != "mean"
        or model.max_seq_length != MAX_TOKENS
    ):
        raise ExportError(
            f"the packaged model has modules {modules}, pooling {pooling!r} and max_seq_length "
            f"{model.max_seq_length}; the export reproduces Transformer, mean Pooling, Normalize with {MAX_TOKENS}"
        )


def _trace(transformer: Any, target: Path) -> None:
    sample = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shape-dependent Python branches
        torch.onnx.export(
            _PooledEncoder(transformer).eval(),
            (sample, sample, torch.zeros_like(sample)),
            str(target),
            dynamo=False,
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes={**{n: _AXES for n in names}, "sentence_embedding": {0: "texts"}},
            opset_version=OPSET,
        )


def fuse_shared_products(path: Path) -> None:
    """Products of one input by constant matrices, each followed by its constant bias, become one product by
    the matrices side by side, one bias and a split: each layer's query, key and value. The quantised
    weights are the same (a scale per block of one column), and so are the vectors, bit for bit. Measured on
    2 cores with the questions of dev.yaml and dev2.yaml, one at a time: a pass about a tenth shorter (24
    products instead of 36, each wider, so fewer and larger steps to share between the threads)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    replaced: dict[str, list[Any]] = {}
    for source, members in _shared_products(graph, constants).items():
        name = f"{members[0][0].name}_shared"
        weight = np.concatenate([constants[product.input[1]] for product, _, _ in members], axis=1)
        bias = np.concatenate([constants[bias] for _, _, bias in members])
        widths = np.array([constants[product.input[1]].shape[1] for product, _, _ in members], np.int64)
        for suffix, value in (("weight", weight), ("bias", bias), ("widths", widths)):
            graph.initializer.append(numpy_helper.from_array(value, f"{name}_{suffix}"))
        outputs = [add.output[0] for _, add, _ in members]
        replaced.update({node.output[0]: [] for product, add, _ in members for node in (product, add)})
        replaced[members[0][0].output[0]] = _product_and_split(name, source, outputs)
    nodes = [new for node in graph.node for new in replaced.get(node.output[0], [node])]
    used = {name for node in nodes for name in node.input}
    kept = [tensor for tensor in graph.initializer if tensor.name in used]
    del graph.node[:], graph.initializer[:]
    graph.node.extend(nodes)
    graph.initializer.extend(kept)
    onnx.save(model, str(path))


def _shared_products(graph: Any, constants: dict[str, np.ndarray]) -> dict[str, list[tuple[Any, Any, str]]]:
    """By input, the (product, bias addition, bias name) of each product of that input by a constant
    matrix whose only use is the addition of a constant bias; only inputs with more than one."""
    users: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    groups: dict[str, list[tuple[Any, Any, str]]] = {}
    for product in graph.node:
        after = users.get(product.output[0], [])
        if product.op_type != "MatMul" or product.input[1] not in constants or len(after) != 1:
            continue
        bias = [name for name in after[0].input if name in constants]
        if after[0].op_type == "Add" and len(bias) == 1:
            groups.setdefault(product.input[0], []).append((product, after[0], bias[0]))
    return {source: members for source, members in groups.items() if len(members) > 1}


def _product_and_split(name: str, source: str, outputs: list[str]) -> list[Any]:
    from onnx import helper

    return [
        helper.make_node("MatMul", [source, f"{name}_weight"], [f"{name}_product"], name=name),
        helper.make_node("Add", [f"{name}_product", f"{name}_bias"], [f"{name}_sum"], name=f"{name}_add"),
        helper.make_node("Split", [f"{name}_sum", f"{name}_widths"], outputs, name=f"{name}_split", axis=-1),
    ]


def _quantise(source: Path, target: Path) -> None:
    import onnx

    quantiser = _quantiser_class()(
        onnx.load(str(source)),
        bits=BITS,
        block_size=BLOCK,
        is_symmetric=True,
        accuracy_level=INTEGER_PRODUCTS,
    )
    quantiser_log = logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer")
    level = quantiser_log.level
    quantiser_log.setLevel(logging.WARNING)  # it logs a line for every node it leaves alone
    try:
        quantiser.process()
    finally:
        quantiser_log.setLevel(level)
    quantiser.model.save_model_to_file(str(target), use_external_data_format=False)


def _quantiser_class() -> Any:
    """ONNX Runtime's quantiser; importing it calls logging.basicConfig, which would give the importing
    process a root handler at INFO when it had none, so what it set up is undone."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    root.handlers[:] = handlers
    root.setLevel(level)
    return MatMulNBitsQuantizer


def _check_agreement(model: Any, folder: Path) -> None:
    ours = OnnxEncoder(folder, threads=1).encode(CHECK_TEXTS)
    theirs = model.encode(
        CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    agreement = float(np.min(np.sum(ours * theirs, axis=1)))
    if agreement < MIN_AGREEMENT:
        raise ExportError(
            f"the exported graph agrees with sentence-transformers only to cosine {agreement:.6f}"
        )
