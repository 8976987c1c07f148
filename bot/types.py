"""Platform-neutral value types shared by the core, the knowledge base and every connector."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from knowledge.types import Citation, ContactRef

__all__ = ["Answer", "Choice", "Citation", "ContactRef", "Reply", "ReplyKind", "Turn"]


@dataclass(frozen=True)
class Answer:
    answer: str
    grounded: bool
    citations: tuple[Citation, ...]
    contacts: tuple[ContactRef, ...]
    language: str = "en"
    notice: str | None = None  # e.g. "input was shortened" or "answered in English"
    offer_assessment: bool = False  # the situation decides the answer and the question did not settle it
    handover: bool = False  # the message asks for a person rather than an answer
    understood: dict[str, Any] = field(default_factory=dict)  # situation and intents, for follow-ups

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "grounded": self.grounded,
            "citations": [c.to_json() for c in self.citations],
            "contacts": [c.to_json() for c in self.contacts],
            "language": self.language,
        }


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


ReplyKind = Literal["answer", "question", "outcome", "text", "escalation", "error"]


@dataclass
class Reply:
    """One message from ribot. `text` is always a complete plain-text rendering; connectors that can do
    better render the structured parts (answer, question, outcome) instead."""

    kind: ReplyKind
    text: str
    answer: Answer | None = None
    question: dict[str, Any] | None = None  # triage question as in CONTRACT's need_input
    outcome: dict[str, Any] | None = None  # triage outcome as in CONTRACT's done
    actions: list[Choice] = field(default_factory=list)  # buttons offered with the message
    data: dict[str, Any] = field(default_factory=dict)
    language: str = "en"  # the language the message is written in

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["answer"] = self.answer.to_json() if self.answer else None
        return out


@dataclass(frozen=True)
class Turn:
    """One user message or button press, as every connector hands it to the core."""

    platform: str  # "web", "slack", "teams", "cli"
    conversation_id: str  # channel + thread, Teams conversation id, web session id
    user_id: str
    text: str = ""
    action: str | None = None  # a button value, when the user pressed one
    user_name: str | None = None
    user_email: str | None = None
    reply_ref: dict[str, Any] = field(default_factory=dict)  # how to reach the user later
    event_id: str | None = None  # platform delivery id, for idempotence
    # The language the user chose in the surface itself (the web chat's language button): the conversation
    # continues in it. A message's own words still switch it (bot.dialogue).
    language: str | None = None
