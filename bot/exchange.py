"""The state of one conversation as the engine keeps it (`Talk`), and the message being handled
(`Exchange`): shared by the engine (bot.conversation) and by what decides a message's meaning
(bot.dialogue)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.followup import Context
from bot.store.conversations import OpenConversation
from bot.triage import TriageState
from bot.types import Answer, Reply, Turn


@dataclass
class Talk:
    """The stored state of one conversation."""

    mode: str = "idle"  # idle, offered, triage, done
    language: str = "en"
    triage: TriageState = field(default_factory=TriageState)
    offer: dict[str, str] = field(default_factory=dict)  # slots read from the message that got an offer
    description_id: int | None = None  # transcript line that described the plan
    done_on: str | None = None
    answered: dict[str, Any] = field(default_factory=dict)  # what the last answer understood, for follow-ups

    def to_json(self) -> dict[str, Any]:
        return {
            "triage": self.triage.to_json(),
            "offer": self.offer,
            "description_id": self.description_id,
            "done_on": self.done_on,
            "answered": self.answered,
        }

    @classmethod
    def load(cls, convo: OpenConversation) -> Talk:
        data = convo.state
        return cls(
            mode=convo.mode,
            language=convo.row.language or "en",
            triage=TriageState.from_json(data.get("triage")),
            offer=dict(data.get("offer") or {}),
            description_id=data.get("description_id"),
            done_on=data.get("done_on"),
            answered=dict(data.get("answered") or {}),
        )


@dataclass(frozen=True)
class Prepared:
    """What the answerer makes of a message, worked out before the conversation was locked: the answer to
    `text` in `context` and the situation `text` describes, each where the message will need it."""

    text: str
    context: Context
    answer: Answer | None = None
    situation: dict[str, str] | None = None

    def answer_to(self, question: str, context: Context) -> Answer | None:
        return self.answer if question == self.text and context == self.context else None

    def situation_of(self, text: str) -> dict[str, str] | None:
        return dict(self.situation) if self.situation is not None and text == self.text else None


@dataclass
class Exchange:
    """One message being handled: the open conversation, its state and the replies so far."""

    turn: Turn
    convo: OpenConversation
    talk: Talk
    message_id: int
    replies: list[Reply] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)  # lines shown before the next question
    prepared: Prepared | None = None
