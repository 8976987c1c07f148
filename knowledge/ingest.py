"""`ribot ingest`: embeds the sources' passages into a persistent Chroma collection, with the encoder that
answers questions (exported to ONNX into the index first, when missing or stale), and writes the passage
vectors that a process answering questions loads (knowledge/index_files.py).

Idempotent: each passage's content hash and the model's digest are stored with its vector, so a rerun
embeds only new or changed passages (all of them for a new model) and deletes the ones whose source is
gone."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.corpus import content_hash, load_documents
from knowledge.embedding import BATCH, EMBEDDING_DIM, OnnxEncoder
from knowledge.index_files import ENCODER_DIR, LOCK_FILE, prepare_encoder, save_vectors
from knowledge.types import Passage

COLLECTION = "ribot-passages"
MODEL_NAME = "all-MiniLM-L6-v2"
PASSAGE_VECTORS = "passages"  # passages.npy and passages.json in the index folder
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestReport:
    added: int
    updated: int
    removed: int
    unchanged: int
    total: int

    def __str__(self) -> str:
        return (
            f"{self.total} passages: {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} unchanged"
        )


def chroma_client(index_dir: Path) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    )


def passage_collection(index_dir: Path) -> Any:
    return chroma_client(index_dir).get_or_create_collection(
        COLLECTION, metadata={"hnsw:space": "cosine", "model": MODEL_NAME}
    )


def all_passages(sources_dir: Path | None) -> list[Passage]:
    return [p for doc in load_documents(sources_dir) for p in doc.passages()]


def _metadata(passage: Passage, model: str) -> dict[str, Any]:
    return {
        "doc_id": passage.doc_id,
        "section": passage.section,
        "title": passage.title,
        "hash": content_hash(passage),
        "model": model,
        "order": passage.order,
    }


def ingest(index_dir: Path, sources_dir: Path | None = None, progress: bool = True) -> IngestReport:
    passages = all_passages(sources_dir)
    files = prepare_encoder(index_dir)
    collection = passage_collection(index_dir)
    existing = collection.get(include=["metadatas"])
    stored = {i: m or {} for i, m in zip(existing["ids"], existing["metadatas"], strict=True)}
    current = {p.id: p for p in passages}
    stale = [i for i in stored if i not in current]
    todo = [
        p
        for p in passages
        if (stored.get(p.id, {}).get("hash"), stored.get(p.id, {}).get("model"))
        != (content_hash(p), files.model)
    ]
    if stale:
        collection.delete(ids=stale)
    if todo:
        _embed(collection, OnnxEncoder(files.folder), todo, files.model, progress)
    _write_passage_vectors(index_dir, collection, passages, files.model)
    updated = sum(1 for p in todo if p.id in stored)
    return IngestReport(
        added=len(todo) - updated,
        updated=updated,
        removed=len(stale),
        unchanged=len(passages) - len(todo),
        total=len(passages),
    )


def _embed(collection: Any, encoder: OnnxEncoder, todo: list[Passage], model: str, progress: bool) -> None:
    from tqdm import tqdm

    with tqdm(total=len(todo), desc="Embedding passages", unit="passage", disable=not progress) as bar:
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            collection.upsert(
                ids=[p.id for p in chunk],
                embeddings=encoder.encode([p.search_text for p in chunk]),
                documents=[p.search_text for p in chunk],
                metadatas=[_metadata(p, model) for p in chunk],
            )
            bar.update(len(chunk))


def _write_passage_vectors(index_dir: Path, collection: Any, passages: list[Passage], model: str) -> None:
    """The collection's vectors of `passages`, in their order, for processes that answer (no Chroma there)."""
    ids = [p.id for p in passages]
    found = collection.get(ids=ids, include=["embeddings", "metadatas"]) if ids else {"ids": []}
    rows = {i: n for n, i in enumerate(found["ids"])}
    if set(rows) != set(ids):
        raise RuntimeError(f"the collection lacks {len(set(ids) - set(rows))} of the passages just embedded")
    for p in passages:
        meta = found["metadatas"][rows[p.id]] or {}
        if (meta.get("hash"), meta.get("model")) != (content_hash(p), model):
            raise RuntimeError(f"the collection holds another version of passage {p.id}")
    matrix = np.asarray([found["embeddings"][rows[i]] for i in ids], dtype=np.float32)
    matrix = matrix.reshape(len(ids), EMBEDDING_DIM)
    save_vectors(index_dir / PASSAGE_VECTORS, model, ids, [content_hash(p) for p in passages], matrix)


def reset_index(index_dir: Path) -> None:
    """Deletes the index but its exported encoder (which is checked by content on every open) and its lock
    (which another process may hold); Chroma's per-process client cache is cleared too, or it would keep
    the old files."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    if not index_dir.exists():
        return
    for entry in index_dir.iterdir():
        if entry.name in (ENCODER_DIR, LOCK_FILE):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
