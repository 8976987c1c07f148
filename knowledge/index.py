"""Opens the knowledge index for answering: builds it when missing, repairs it when stale or unreadable."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot.settings import Settings, get_settings
from knowledge.corpus import content_hash
from knowledge.glossary import Glossary, glossary
from knowledge.ingest import COLLECTION, MODEL_NAME, all_passages, chroma_client, ingest, reset_index
from knowledge.intent_index import IntentIndex
from knowledge.model import guideline_model
from knowledge.text import detect_language
from knowledge.types import Passage, Retriever
from knowledge.vectors import open_unit_vectors

log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """Raised when the index cannot be opened or rebuilt; the message says what to do."""


def _collection_if_current(index_dir: Path, expected: dict[str, str]) -> Any | None:
    """The Chroma collection when it holds exactly the current passages, else None."""
    if not (index_dir / "chroma.sqlite3").exists():
        return None
    collection = chroma_client(index_dir).get_collection(COLLECTION)
    stored = collection.get(include=["metadatas"])
    hashes = {i: (m or {}).get("hash") for i, m in zip(stored["ids"], stored["metadatas"], strict=True)}
    return collection if hashes == expected else None


def open_collection(index_dir: Path, sources_dir: Path | None, passages: list[Passage]) -> Any:
    """The index's collection holding exactly `passages` (the sources' current ones), built when needed."""
    expected = {p.id: content_hash(p) for p in passages}
    try:
        found = _collection_if_current(index_dir, expected)
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
    found = _collection_if_current(index_dir, expected)
    if found is None:
        raise IndexUnavailable(f"The knowledge index at {index_dir} is inconsistent; run `ribot ingest`.")
    return found


def open_intents(index_dir: Path, encoder: Any, terms: Glossary) -> IntentIndex:
    """The model's labelled example questions, embedded as questions are (glossary applied)."""
    model = guideline_model()
    examples = model.examples()
    languages = [detect_language(q) for _, q in examples]
    texts = [terms.expand(q, language) for (_, q), language in zip(examples, languages, strict=True)]
    # The situation is the slot reader's to read; in the examples it would only pull a question towards
    # the intents whose examples happen to name the same situation.
    vectors = open_unit_vectors(index_dir, [model.without_situation(t) for t in texts], encoder, MODEL_NAME)
    return IntentIndex([label for label, _ in examples], vectors, texts, model.without_names, languages)


def open_retriever(settings: Settings | None = None) -> Retriever:
    from knowledge.embedding import query_encoder
    from knowledge.retrieve import HybridRetriever

    settings = settings or get_settings()
    passages = all_passages(settings.ribot_sources_dir)
    collection = open_collection(settings.index_dir, settings.ribot_sources_dir, passages)
    encoder, terms = query_encoder(), glossary()
    intents = open_intents(settings.index_dir, encoder, terms)
    return HybridRetriever(passages, collection, encoder, terms, intents)
