"""Exports the packaged model to ONNX for the query path. Run by ingestion: it needs torch and
sentence-transformers, which a process that answers never imports.

The graph takes `input_ids`, `attention_mask` and `token_type_ids` and returns `sentence_embedding`: the
model's mean pooling over the attention mask and its L2 normalisation, the two modules after the transformer
in its sentence-transformers configuration, are part of the graph. ONNX Runtime's transformer optimiser then
fuses attention, layer normalisation and GELU (measured: 2.6 ms instead of 3.6 ms per short query). Before
the files are kept, the graph's vectors are compared with sentence-transformers' on sample texts."""

from __future__ import annotations

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
MIN_AGREEMENT = 0.9999  # cosine between the graph's and sentence-transformers' vectors of the same text
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
    # Eager attention exports as plain matrix products, which the optimiser fuses into one Attention node.
    model = SentenceTransformer(
        str(model_path()), device="cpu", model_kwargs={"attn_implementation": "eager"}
    )
    _check_configuration(model)
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "unoptimised.onnx"
    transformer: Any = model[0].auto_model
    _trace(transformer, raw)
    _optimise(raw, folder / GRAPH_FILE, transformer.config)
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


def _optimise(source: Path, target: Path, config: Any) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    optimised = optimize_model(
        str(source), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    optimised.save_model_to_file(str(target))


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
