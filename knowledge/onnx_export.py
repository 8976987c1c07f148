"""Exports the packaged model to ONNX for the query path. Run by ingestion: it needs torch and
sentence-transformers, which a process that answers never imports.

The graph takes `input_ids`, `attention_mask` and `token_type_ids` and returns `sentence_embedding`: the
model's mean pooling over the attention mask and its L2 normalisation, the two modules after the transformer
in its sentence-transformers configuration, are part of the graph. Before its weights are quantised, the
graph is rewritten into fewer steps with the same results (knowledge/graph_rewrites.py). Its word-embedding
table, four fifths of its bytes, is kept beside it as ONNX external data, for the encoder to read once and
share between its sessions (knowledge/embedding.py).

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
import onnx
import torch
from onnx.external_data_helper import set_external_data
from sentence_transformers import SentenceTransformer

from knowledge.embedding import (
    GRAPH_FILE,
    MAX_TOKENS,
    TOKENIZER_FILE,
    WORDS,
    WORDS_FILE,
    OnnxEncoder,
    model_path,
    quiet_transformers,
)
from knowledge.graph_rewrites import simplify

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
        # The additive mask that eager attention builds from `attention_mask` (0 where a token is kept, the
        # lowest float where it is padding), built here once per text, (texts, 1, 1, tokens), and broadcast
        # over the queries: the model takes a 4-dimensional mask as it is. Traced, its own construction is
        # about forty steps for the same numbers; without them a question's pass is about 4 % shorter (2
        # cores, the questions of dev.yaml, dev2.yaml and the probe set), its vector the same bit for bit.
        keep = attention_mask[:, None, None, :].to(torch.bool)
        additive = torch.where(keep, 0.0, torch.finfo(torch.float32).min)
        hidden = self.transformer(
            input_ids=input_ids, attention_mask=additive, token_type_ids=token_type_ids
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
    _quantise(simplify(onnx.load(str(raw))), folder / GRAPH_FILE)
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


def _quantise(graph: onnx.ModelProto, target: Path) -> None:
    quantiser = _quantiser_class()(
        graph,
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
    tables = [tensor for tensor in quantiser.model.model.graph.initializer if tensor.name == WORDS]
    if len(tables) != 1:
        raise ExportError(f"the traced graph has no word-embedding table named {WORDS}")
    (table,) = tables
    # ONNX's external data: the table's bytes alone in a file beside the graph, which the graph names
    (target.parent / WORDS_FILE).unlink(missing_ok=True)  # saving appends to the file
    set_external_data(table, location=WORDS_FILE)
    quantiser.model.save_model_to_file(str(target), use_external_data_format=False)
    (target.parent / WORDS_FILE).chmod(target.stat().st_mode & 0o777)  # ONNX writes it for its owner only


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
