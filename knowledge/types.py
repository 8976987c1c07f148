"""Value types of the knowledge base, shared by the core and every connector: passages, what retrieval
found, citations, contacts and bilingual texts. This module imports nothing of the project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Text:
    """A text in English and Swedish."""

    en: str
    sv: str

    def get(self, language: str) -> str:
        return self.sv if language == "sv" else self.en


@dataclass(frozen=True)
class Passage:
    """A paragraph of a source document: the unit that is indexed, retrieved and quoted."""

    id: str
    doc_id: str
    section: str
    title: str
    text: str  # the exact wording, quoted to users
    search_text: str  # text plus section title and keywords, only for matching
    footnotes: tuple[str, ...] = ()
    order: int = 0


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused relevance in [0, 1]
    dense: float = 0.0  # cosine similarity of query and passage
    lexical: float = 0.0  # normalised BM25


@dataclass(frozen=True)
class Retrieval:
    """What a retriever found for one question."""

    query: str
    language: str
    hits: tuple[Hit, ...]
    expanded: str = ""  # the question in the guidelines' words (glossary applied)
    # (label, similarity) of the nearest labelled example questions, best first: intent ids,
    # `out:<kind>` for kinds the guidelines do not answer, `handover` for requests for a person
    intents: tuple[tuple[str, float], ...] = ()
    # (label, probability) from the classifier of question kinds, best first: which kind is asked
    kinds: tuple[tuple[str, float], ...] = ()


class Retriever(Protocol):
    def search(self, question: str, k: int = 5) -> Retrieval: ...

    def search_many(self, questions: list[str], k: int = 5) -> list[Retrieval]: ...


@dataclass(frozen=True)
class Citation:
    section: str
    title: str
    quote: str
    score: float
    document: str = "ki-guidelines"

    @property
    def titled_alone(self) -> bool:
        """Named by its title alone: a footnote's ("Footnote 6: ...") and the document data's carry their
        label; a section's is its number and title."""
        return self.section == "meta" or self.section.startswith("fn")

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "title": self.title,
            "quote": self.quote,
            "score": round(self.score, 4),
            "document": self.document,
        }


@dataclass(frozen=True)
class ContactRef:
    id: str
    name: str
    why: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"id": self.id, "name": self.name, "why": self.why}
        if self.url:
            data["url"] = self.url
        return data
