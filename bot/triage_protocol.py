"""The JSON-lines protocol of `ribot triage --json` (CONTRACT.md): input lines in, result lines out. Shared
by the command and by the evaluation, so both see exactly the same results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.types import Reply


@dataclass(frozen=True)
class Line:
    text: str
    answers: dict[str, str]


class BadLine(ValueError):
    pass


def parse_line(raw: str) -> Line:
    """`{"text": "...", "answers": {"slot": "value"}}`; a line that is not JSON is taken as plain text."""
    stripped = raw.strip()
    if not stripped.startswith(("{", "[")):
        return Line(stripped, {})
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON: {exc.msg} at character {exc.pos}") from exc
    if not isinstance(data, dict):
        raise BadLine("each line must be a JSON object")
    text = data.get("text") or ""
    answers = data.get("answers") or {}
    if not isinstance(text, str):
        raise BadLine('"text" must be a string')
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise BadLine('"answers" must map slot names to string values')
    return Line(text, {str(k): v for k, v in answers.items()})


def result_line(replies: list[Reply]) -> dict[str, Any]:
    """The result for one input line: the last question or outcome decides the status."""
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


def error_line(problem: str) -> dict[str, Any]:
    return {"status": "error", "error": problem}
