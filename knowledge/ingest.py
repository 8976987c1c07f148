"""`ribot ingest`: embeds the sources' passages into a persistent Chroma collection.

Idempotent: each passage's content hash is stored with its vector, so a rerun embeds only new or changed
passages and deletes the ones whose source is gone."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.corpus import content_hash, load_documents
from knowledge.types import Passage

COLLECTION = "ribot-passages"
MODEL_NAME = "all-MiniLM-L6-v2"
BATCH = 32
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


def vector_store(client: Any, embeddings: Any) -> Any:
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=COLLECTION,
        client=client,
        embedding_function=embeddings,
        collection_metadata={"hnsw:space": "cosine", "model": MODEL_NAME},
    )


def all_passages(sources_dir: Path | None) -> list[Passage]:
    return [p for doc in load_documents(sources_dir) for p in doc.passages()]


def _metadata(passage: Passage) -> dict[str, Any]:
    return {
        "doc_id": passage.doc_id,
        "section": passage.section,
        "title": passage.title,
        "hash": content_hash(passage),
        "order": passage.order,
    }


def ingest(index_dir: Path, sources_dir: Path | None = None, progress: bool = True) -> IngestReport:
    from knowledge.embedding import document_embeddings

    passages = all_passages(sources_dir)
    store = vector_store(chroma_client(index_dir), document_embeddings())
    existing = store.get(include=["metadatas"])
    stored = {i: (m or {}).get("hash") for i, m in zip(existing["ids"], existing["metadatas"], strict=True)}
    current = {p.id: p for p in passages}
    stale = [i for i in stored if i not in current]
    todo = [p for p in passages if stored.get(p.id) != content_hash(p)]
    if stale:
        store.delete(ids=stale)
    _embed(store, todo, progress)
    updated = sum(1 for p in todo if p.id in stored)
    return IngestReport(
        added=len(todo) - updated,
        updated=updated,
        removed=len(stale),
        unchanged=len(passages) - len(todo),
        total=len(passages),
    )


def _embed(store: Any, todo: list[Passage], progress: bool) -> None:
    if not todo:
        return
    from tqdm import tqdm

    with tqdm(total=len(todo), desc="Embedding passages", unit="passage", disable=not progress) as bar:
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            store.add_texts(
                texts=[p.search_text for p in chunk],
                metadatas=[_metadata(p) for p in chunk],
                ids=[p.id for p in chunk],
            )
            bar.update(len(chunk))


def reset_index(index_dir: Path) -> None:
    """Deletes the index; Chroma's per-process client cache is cleared too, or it would keep the old files."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    shutil.rmtree(index_dir, ignore_errors=True)
