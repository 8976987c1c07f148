"""Opens the knowledge index for answering: builds it when missing, repairs it when stale or unreadable.

When the index is current, opening it reads the exported encoder and the passage vectors kept beside
Chroma's files (knowledge/index_files.py) and imports neither torch nor chromadb; only building or repairing
it does (ingestion)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.corpus import content_hash
from knowledge.embedding import EMBEDDING_DIM, OnnxEncoder, SentenceTransformerEncoder
from knowledge.glossary import Glossary, glossary
from knowledge.index_files import (
    EncoderFiles,
    current_model,
    index_lock,
    load_vectors,
    prepare_encoder,
    save_vectors,
    text_digest,
)
from knowledge.ingest import PASSAGE_VECTORS, all_passages, ingest, reset_index
from knowledge.intent_index import IntentIndex
from knowledge.kinds import KindModel, open_kinds
from knowledge.model import guideline_model
from knowledge.retrieve import Encoder, HybridRetriever
from knowledge.text import detect_language
from knowledge.types import Passage

UNIT_VECTORS = "units"  # units.npy and units.json in the index folder
log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """Raised when the index cannot be opened or rebuilt; the message says what to do."""


def _cached_passage_vectors(index_dir: Path, passages: list[Passage], model: str) -> np.ndarray | None:
    """The cached vectors when the cache holds exactly these passages, else None."""
    cached = load_vectors(index_dir / PASSAGE_VECTORS, model)
    if len(cached) != len(passages) or any(cached.get(p.id, ("",))[0] != content_hash(p) for p in passages):
        return None
    return (
        np.stack([cached[p.id][1] for p in passages])
        if passages
        else np.zeros((0, EMBEDDING_DIM), np.float32)
    )


def open_passage_vectors(
    index_dir: Path, sources_dir: Path | None, passages: list[Passage], model: str
) -> np.ndarray:
    """The vectors of `passages` (the sources' current ones) by `model`, in their order; the index is built
    or brought up to date first when it does not hold exactly them."""
    try:
        found = _cached_passage_vectors(index_dir, passages, model)
        if found is not None:
            return found
        log.info("index at %s is missing or out of date: building it", index_dir)
        ingest(index_dir, sources_dir, progress=False)
    except Exception as exc:  # a corrupt Chroma directory raises many kinds of errors
        log.warning("index at %s is unreadable (%s): rebuilding it", index_dir, exc)
        reset_index(index_dir)
        try:
            ingest(index_dir, sources_dir, progress=False)
        except Exception as again:
            raise IndexUnavailable(
                f"The knowledge index at {index_dir} could not be built ({again}). "
                f"Delete that folder and run `ribot ingest`."
            ) from again
    found = _cached_passage_vectors(index_dir, passages, model)
    if found is None:
        raise IndexUnavailable(f"The knowledge index at {index_dir} is inconsistent; run `ribot ingest`.")
    return found


def open_intents(index_dir: Path, encoder: Encoder, terms: Glossary) -> tuple[IntentIndex, KindModel]:
    """The model's labelled example questions, embedded as questions are (glossary applied), and the
    classifier of question kinds fitted on them."""
    model = guideline_model()
    examples = model.examples()
    languages = [detect_language(q) for _, q in examples]
    texts = [terms.expand(q, language) for (_, q), language in zip(examples, languages, strict=True)]
    # The situation is the slot reader's to read; in the examples it would only pull a question towards
    # the intents whose examples happen to name the same situation.
    units = [(str(n), model.without_situation(t)) for n, t in enumerate(texts)]
    vectors = open_unit_vectors(index_dir, units, encoder)
    labels = [label for label, _ in examples]
    kinds = open_kinds(index_dir, labels, texts, vectors, model.without_names)
    return IntentIndex(labels, vectors, texts, model.without_names, languages), kinds


class IndexSettings(Protocol):
    """What opening the index needs of the settings (bot.settings.Settings has it)."""

    @property
    def index_dir(self) -> Path: ...

    @property
    def ribot_sources_dir(self) -> Path | None: ...

    @property
    def ribot_encoder(self) -> str: ...

    @property
    def encoder_threads(self) -> int: ...

    @property
    def encoder_spin_us(self) -> int: ...


def open_encoder(files: EncoderFiles, settings: IndexSettings) -> Encoder:
    """The encoder that embeds questions: the exported graph, or sentence-transformers for comparison."""
    if settings.ribot_encoder == "sentence-transformers":
        return SentenceTransformerEncoder(settings.encoder_threads)
    return OnnxEncoder(files.folder, settings.encoder_threads, settings.encoder_spin_us)


def open_retriever(settings: IndexSettings) -> HybridRetriever:
    with index_lock(settings.index_dir):
        return _open_retriever(settings)


def _open_retriever(settings: IndexSettings) -> HybridRetriever:
    passages = all_passages(settings.ribot_sources_dir)
    try:
        files = prepare_encoder(settings.index_dir)
    except Exception as exc:
        raise IndexUnavailable(
            f"The embedding model could not be exported into {settings.index_dir} ({exc}); run `ribot ingest`."
        ) from exc
    vectors = open_passage_vectors(settings.index_dir, settings.ribot_sources_dir, passages, files.model)
    encoder, terms = open_encoder(files, settings), glossary()
    intents, kinds = open_intents(settings.index_dir, encoder, terms)
    return HybridRetriever(passages, vectors, encoder, terms, intents, kinds=kinds)


def open_unit_vectors(index_dir: Path, units: list[tuple[str, str]], encoder: Encoder) -> np.ndarray:
    """Vectors of further texts given as (id, text), in the given order, cached with the index: only new
    or changed texts are embedded (by `encoder`, the retriever's), and texts no longer given are dropped."""
    ids = [unit_id for unit_id, _ in units]
    if len(set(ids)) != len(ids):
        raise ValueError("unit ids must be unique")
    model = current_model(index_dir)
    cached = load_vectors(index_dir / UNIT_VECTORS, model)
    hashes = [text_digest(text) for _, text in units]
    out = np.zeros((len(units), EMBEDDING_DIM), dtype=np.float32)
    missing = []
    for n, (unit_id, digest) in enumerate(zip(ids, hashes, strict=True)):
        if cached.get(unit_id, ("",))[0] == digest:
            out[n] = cached[unit_id][1]
        else:
            missing.append(n)
    if missing:
        out[missing] = encoder.encode([units[n][1] for n in missing])
    if missing or len(cached) != len(ids):
        save_vectors(index_dir / UNIT_VECTORS, model, ids, hashes, out)
    return out
