"""Vectors of short texts (the model's example questions), kept beside the index: each text's vector is
stored under the hash of the text and of the model that embedded it, so a change embeds only what changed
and a missing or unreadable file is simply rebuilt."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)
FILE_NAME = "unit-vectors.npz"


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> Any: ...


def text_key(text: str, model: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    try:
        with np.load(path) as stored:
            return {str(k): v for k, v in zip(stored["keys"], stored["vectors"], strict=True)}
    except Exception as exc:  # a truncated or foreign file: rebuild it
        log.warning("unit vectors at %s are unreadable (%s): embedding again", path, exc)
        return {}


def as_matrix(vectors: Any) -> np.ndarray:
    """Encoder output as float32 rows of unit length."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def open_unit_vectors(index_dir: Path, texts: Sequence[str], encoder: Encoder, model: str) -> np.ndarray:
    """The vectors of `texts`, in order, embedding only those not stored yet; the file then holds exactly
    these texts' vectors."""
    path = index_dir / FILE_NAME
    stored = _read(path)
    keys = [text_key(t, model) for t in texts]
    missing = [i for i, k in enumerate(keys) if k not in stored]
    if missing:
        fresh = as_matrix(encoder.encode([texts[i] for i in missing]))
        for i, row in zip(missing, fresh, strict=True):
            stored[keys[i]] = row
    if missing or set(stored) != set(keys):
        index_dir.mkdir(parents=True, exist_ok=True)
        unique = list(dict.fromkeys(keys))
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, keys=np.array(unique), vectors=np.stack([stored[k] for k in unique]))
        temporary.replace(path)
    return np.stack([stored[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)
