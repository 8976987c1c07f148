"""What the core needs of the knowledge base: search, the passages and the model of the guidelines. The
knowledge base's retriever (knowledge.retrieve.HybridRetriever) is one."""

from __future__ import annotations

from typing import Protocol

from knowledge.model import GuidelineModel
from knowledge.types import Passage, Retrieval


class KnowledgeBase(Protocol):
    """What the answerer needs of the knowledge base: search, the passages and the guidelines' model."""

    model: GuidelineModel

    def search_many(self, questions: list[str], k: int = 5) -> list[Retrieval]: ...

    def passage(self, passage_id: str) -> Passage | None: ...
