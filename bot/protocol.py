"""The JSON-lines protocols of `ribot triage --json` and `ribot chat --json` (CONTRACT.md): input lines in,
result lines out. Shared by the commands and by the evaluation, so both see exactly the same results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.types import Reply


@dataclass(frozen=True)
class Line:
    text: str
    answers: dict[str, str]
    conversation: str | None = None


class BadLine(ValueError):
    pass


def _object(raw: str) -> dict[str, Any] | None:
    stripped = raw.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        data = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f": {exc.msg} at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BadLine(f"not valid JSON{where}") from exc
    if not isinstance(data, dict):
        raise BadLine("each line must be a JSON object")
    return data


def _text(data: dict[str, Any]) -> str:
    text = data.get("text") or ""
    if not isinstance(text, str):
        raise BadLine('"text" must be a string')
    return text


def parse_line(raw: str) -> Line:
    """`{"text": "...", "answers": {"slot": "value"}}`; a line that is not JSON is taken as plain text."""
    data = _object(raw)
    if data is None:
        return Line(raw.strip(), {})
    answers = data.get("answers") or {}
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise BadLine('"answers" must map slot names to string values')
    return Line(_text(data), {str(k): v for k, v in answers.items()})


def parse_chat_line(raw: str) -> Line:
    """`{"conversation": "ID", "text": "..."}`."""
    data = _object(raw)
    if data is None:
        raise BadLine('each line must be a JSON object with "conversation" and "text"')
    conversation = data.get("conversation")
    if not isinstance(conversation, str) or not conversation.strip() or len(conversation) > 200:
        raise BadLine('"conversation" must be a non-empty string of at most 200 characters')
    return Line(_text(data), {}, conversation)


def triage_line(replies: list[Reply]) -> dict[str, Any]:
    """The result for one triage line: the last question or outcome decides the status."""
    message = "\n\n".join(r.text for r in replies)
    answers = [r.answer.to_json() for r in replies if r.answer is not None]
    out: dict[str, Any]
    final = next((r for r in reversed(replies) if r.question or r.outcome or r.kind == "escalation"), None)
    if final is not None and final.question:
        out = {"status": "need_input", "question": final.question, "known": final.data.get("known", {})}
    elif final is not None and final.outcome:
        out = {"status": "done", "outcome": final.outcome}
    elif final is not None:
        out = {"status": "escalation", "escalation": final.data}
    else:
        out = {"status": "idle"}
    if answers:
        out["answers"] = answers
    out["message"] = message
    return out


def chat_line(conversation: str, replies: list[Reply]) -> dict[str, Any]:
    """The result for one chat line: what the user sees, and the turn's answer or outcome as data."""
    answer = next((r.answer for r in replies if r.answer is not None), None)
    outcome = next((r.outcome for r in replies if r.outcome), None)
    citations: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    if answer is not None:
        citations = [c.to_json() for c in answer.citations]
        contacts = [c.to_json() for c in answer.contacts]
    elif outcome is not None:
        citations, contacts = list(outcome["citations"]), list(outcome["contacts"])
    triage = triage_line(replies) if any(r.question or r.outcome for r in replies) else None
    if triage is not None:
        triage.pop("message", None)
        triage.pop("answers", None)
    return {
        "conversation": conversation,
        "text": "\n\n".join(r.text for r in replies),
        "language": replies[-1].language if replies else "en",
        "grounded": answer.grounded if answer is not None else True,
        "citations": citations,
        "contacts": contacts,
        "handover": any(r.kind == "escalation" and r.data.get("handover", True) for r in replies),
        "triage": triage,
    }


def error_line(problem: str) -> dict[str, Any]:
    return {"status": "error", "error": problem}
