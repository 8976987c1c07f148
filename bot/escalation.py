"""Handing a conversation to a person: the network coordinator at the International Office.

The conversation engine gives this module every `escalate:*` button press, "talk to a person", and every
message while a request for a person is open. The flow: the request, a short note, consent to share who
the user is, then the escalation. Everything happens inside the engine's transaction for the conversation,
so the escalation is committed before the reply that gives its reference leaves the server, and a retried
or doubled click on the last step finds the escalation it already made.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.escalation_text import CANCEL, CONSENT_NO, CONSENT_YES, START, Voice, category_for
from bot.redact import redact_with_report
from bot.store.escalation_drafts import (
    Draft,
    drop_draft,
    get_draft,
    idempotency_key,
    set_note,
    start_draft,
    submit_draft,
)
from bot.store.escalations import EscalationView, NewEscalation
from bot.store.models import Message
from bot.types import Reply, Turn
from knowledge.triage_flow import Flow

MAX_NOTE_CHARS = 2000
MAX_TRANSCRIPT_MESSAGES = 60
REASONS = ("user", "ungrounded", "ethics", "security")

_REQUEST = re.compile(
    r"\b(?:talk|speak|chat|get in touch)\s+(?:to|with)\s+(?:a |an |some |the )?(?:real )?"
    r"(?:person|human|someone|somebody|people|coordinator|network coordinator)\b"
    r"|\bhuman please\b|\bprata med (?:en |någon )?(?:person|människa|handläggare|samordnare\w*)\b"
    r"|\bprata med någon\b|\bkontakta en (?:person|människa)\b",
    re.IGNORECASE,
)
_YES = re.compile(r"^\s*(?:yes|y|ok|okay|sure|ja|gärna|absolut)\s*[.!]*\s*$", re.IGNORECASE)
_NO = re.compile(r"^\s*(?:no|n|nope|nej|helst inte)\s*[.!]*\s*$", re.IGNORECASE)
_CANCEL_TEXT = re.compile(r"^\s*(?:cancel|stop|never ?mind|avbryt|strunta i det)\s*[.!]*\s*$", re.IGNORECASE)


class Request(Protocol):
    """What the engine hands over (bot.conversation.EscalationRequest)."""

    @property
    def turn(self) -> Turn: ...
    @property
    def conversation_id(self) -> int: ...  # the engine's conversation row
    @property
    def language(self) -> str: ...
    @property
    def known(self) -> dict[str, str]: ...  # triage slots known so far
    @property
    def mode(self) -> str: ...
    @property
    def session(self) -> Session | None: ...  # the engine's open transaction


def _session(request: Request) -> Session:
    if request.session is None:
        raise ValueError("the escalation flow runs inside the conversation's transaction; none was given")
    return request.session


def is_request(text: str) -> bool:
    """Whether a message asks for a person."""
    return bool(_REQUEST.search(text or ""))


def _key(turn: Turn) -> tuple[str, str]:
    conversation = turn.conversation_id
    if len(conversation) > 500:
        conversation = "sha256:" + hashlib.sha256(conversation.encode()).hexdigest()
    return turn.platform[:20], conversation


class EscalationFlow:
    """The engine's escalation hook: `wants` says whether a turn belongs here, `handle` answers it, in the
    conversation's language."""

    def __init__(self, flow: Flow | None = None) -> None:
        if flow is None:
            from knowledge.triage_flow import default_flow

            flow = default_flow()
        self.flow = flow

    def _voice(self, request: Request) -> Voice:
        return Voice(self.flow, request.language)

    def wants(self, request: Request) -> bool:
        turn = request.turn
        if turn.action and turn.action.startswith("escalate:"):
            return True
        if not turn.action and is_request(turn.text):
            return True
        draft = get_draft(_session(request), *_key(turn))
        if draft is None or not draft.open:
            return False
        if turn.action:  # another button: the user left the request for a person
            drop_draft(_session(request), *_key(turn))
            return False
        return True

    def handle(self, request: Request) -> list[Reply]:
        turn, session, voice = request.turn, _session(request), self._voice(request)
        draft = get_draft(session, *_key(turn))
        if turn.action:
            return self._press(request, draft)
        open_draft = draft if draft and draft.open else None
        if open_draft is None or (open_draft.step == "consent" and is_request(turn.text)):
            note = _REQUEST.sub(" ", turn.text)
            return self._start(request, "user", turn.text if len(note.split()) >= 4 else "")
        if _CANCEL_TEXT.match(turn.text):
            drop_draft(session, *_key(turn))
            return [voice.reply("cancelled")]
        if open_draft.step == "consent":
            if _YES.match(turn.text) or _NO.match(turn.text):
                return self._consent(request, open_draft, bool(_YES.match(turn.text)))
            return [_consent_question(voice, turn, repeat=True)]
        return self._note(request)

    def _press(self, request: Request, draft: Draft | None) -> list[Reply]:
        action, voice = request.turn.action or "", self._voice(request)
        if action == START or action.startswith(START + ":"):
            reason = action.removeprefix(START).lstrip(":")
            return self._start(request, reason if reason in REASONS else "user", "")
        if action == CANCEL:
            if draft and draft.open:
                drop_draft(_session(request), *_key(request.turn))
                return [voice.reply("cancelled")]
            return [voice.reply("nothing_open", actions=[voice.start()])]
        if action in (CONSENT_YES, CONSENT_NO):
            return self._consent(request, draft, action == CONSENT_YES)
        return [voice.reply("unknown_action", actions=[voice.start()])]

    def _start(self, request: Request, reason: str, text: str) -> list[Reply]:
        voice = self._voice(request)
        if reason == "user":
            reason = self._reason_from(request.known)
        note, warnings = _clean_note(voice, text[:MAX_NOTE_CHARS]) if text else ("", [])
        draft = start_draft(_session(request), *_key(request.turn), reason, note)
        if draft.step == "note":
            return [voice.reply("ask_note", actions=[voice.cancel()])]
        return [*warnings, _consent_question(voice, request.turn)]

    def _note(self, request: Request) -> list[Reply]:
        turn, voice = request.turn, self._voice(request)
        if len(turn.text) > MAX_NOTE_CHARS:
            return [voice.reply("note_too_long", actions=[voice.cancel()], limit=MAX_NOTE_CHARS)]
        note, warnings = _clean_note(voice, turn.text)
        if not note:
            return [voice.reply("note_empty", actions=[voice.cancel()])]
        if set_note(_session(request), *_key(turn), note) is None:
            return [voice.reply("expired", actions=[voice.start()])]
        return [*warnings, _consent_question(voice, turn)]

    def _consent(self, request: Request, draft: Draft | None, share: bool) -> list[Reply]:
        voice = self._voice(request)
        if draft is None:
            return [voice.reply("expired", actions=[voice.start()])]
        if draft.step == "note":
            return [voice.reply("ask_note", actions=[voice.cancel()])]
        new = self._new_escalation(request, draft, share) if draft.step == "consent" else _already(request)
        result = submit_draft(_session(request), new, f"user:{request.turn.platform}:{request.turn.user_id}")
        if result is None:
            return [voice.reply("expired", actions=[voice.start()])]
        return [_sent_reply(voice, *result)]

    def _outcome(self, known: dict[str, str], request: Request) -> dict[str, Any] | None:
        if request.mode != "done":
            return None
        from bot.triage_outcome import build_outcome

        try:
            return build_outcome(self.flow, known, request.language)
        except ValueError:
            return None

    def _reason_from(self, known: dict[str, str]) -> str:
        """The reason of a hand-over the user asked for: the first flagged concern that offers a person."""
        for slot, concern in self.flow.concerns.items():
            if concern.person and known.get(slot) == "yes":
                return concern.person
        return "user"

    def _new_escalation(self, request: Request, draft: Draft, share: bool) -> NewEscalation:
        turn = request.turn
        platform, conversation = _key(turn)
        transcript = _transcript(_session(request), request.conversation_id)
        known = dict(request.known)
        return NewEscalation(
            idempotency_key=idempotency_key(draft),
            platform=platform,
            conversation_id=conversation,
            user_id=turn.user_id[:300],
            reply_ref=_reply_ref(turn),
            category=category_for(self.flow, draft.reason, known, draft.note, transcript),
            reason=draft.reason,
            note=draft.note,
            identity_shared=share,
            user_name=_shared(turn.user_name, share, 200),
            user_email=_shared(turn.user_email, share, 320),
            transcript=transcript,
            triage={"known": known, "mode": request.mode, "outcome": self._outcome(known, request)},
            citations=_citations(transcript),
        )


def _already(request: Request) -> NewEscalation:
    # The draft was sent before: submit_draft returns that escalation and inserts nothing.
    platform, conversation = _key(request.turn)
    return NewEscalation("", platform, conversation, request.turn.user_id, {})


def _shared(value: str | None, share: bool, limit: int) -> str | None:
    return value[:limit] if share and value else None


def _transcript(session: Session, conversation_row: int) -> list[dict[str, Any]]:
    query = (
        select(Message)
        .where(Message.conversation_id == conversation_row)
        .order_by(Message.id.desc())
        .limit(MAX_TRANSCRIPT_MESSAGES)
    )
    rows = list(reversed(list(session.scalars(query))))
    return [
        {
            "role": m.role,
            "kind": m.kind,
            "text": redact_with_report(m.text).text,
            "at": m.created_at.isoformat() + "Z",
            "data": m.data or {},
        }
        for m in rows
    ]


def _citations(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The passages ribot's answers in this conversation quoted, each once, most recent first."""
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for message in reversed(transcript):
        for cite in (message.get("data") or {}).get("citations") or []:
            key = (str(cite.get("section")), str(cite.get("quote")))
            if isinstance(cite, dict) and key not in seen:
                seen.add(key)
                out.append({k: cite.get(k) for k in ("section", "title", "quote")})
    return out


def _reply_ref(turn: Turn) -> dict[str, Any]:
    ref = dict(turn.reply_ref)
    ref.setdefault("platform", turn.platform)
    ref.setdefault("conversation_id", turn.conversation_id)
    return ref


def _clean_note(voice: Voice, text: str) -> tuple[str, list[Reply]]:
    redaction = redact_with_report(text.replace("\r\n", "\n").strip())
    warnings = [voice.reply("redacted")] if redaction.changed else []
    return redaction.text.strip(), warnings


def _consent_question(voice: Voice, turn: Turn, repeat: bool = False) -> Reply:
    """Whether to share who the user is: named as the surface knows it, or as far as it knows it."""
    what, who = voice.identity(turn.user_name, turn.user_email)
    key = "consent_known" if who else "consent_unknown"
    reply = voice.reply(key, actions=voice.consent_choices(), what=what, who=who)
    if repeat:
        reply.text = voice.text("consent_repeat") + "\n\n" + reply.text
    return reply


def _sent_reply(voice: Voice, escalation: EscalationView, created: bool) -> Reply:
    """The reference, and what the coordinator received about who the user is."""
    reply = voice.reply("sent" if created else "already_sent", reference=escalation.reference)
    shared = voice.shared(escalation.identity_shared, escalation.user_name, escalation.user_email)
    reply.text += " " + shared
    reply.data.update({"escalation_id": escalation.id, "reference": escalation.reference})
    return reply
