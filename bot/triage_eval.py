"""Scores one triage case of an evaluation file (`triage:` in eval/*.yaml) through the same engine path as
`ribot triage --json`: the case's text first, then each question answered from the case's slots."""

from __future__ import annotations

import uuid
from typing import Any

from bot.conversation import ConversationEngine
from bot.triage_protocol import result_line
from bot.types import Turn

MAX_QUESTIONS = 20
GATEKEEPERS = ("network_coordinator", "scientific_ombudsman")


def run_triage_case(case: dict[str, Any], engine: ConversationEngine) -> dict[str, Any]:
    """{"ok", "asked", "slots", "outcome", "within_budget", "errors", "problem"} for one case."""
    truth: dict[str, str] = {str(k): str(v) for k, v in (case.get("slots") or {}).items()}
    turn = Turn(
        platform="eval", conversation_id=f"{case.get('id', 'case')}-{uuid.uuid4().hex}", user_id="eval"
    )
    line = result_line(engine.triage(Turn(**{**turn.__dict__, "text": str(case.get("text", ""))})))
    asked, errors = 0, []
    while line["status"] == "need_input" and asked < MAX_QUESTIONS:
        asked += 1
        wanted = line["question"].get("slots") or [line["question"]["slot"]]
        answers = {s: truth[s] for s in wanted if s in truth}
        if not answers:
            errors.append(f"asked about {wanted}, which the case does not list")
            break
        line = result_line(engine.triage(turn, answers))
    outcome = line.get("outcome")
    if outcome is None:
        errors.append(f"ended with status {line['status']}")
    else:
        errors += check_outcome(outcome, case.get("expect") or {}, truth)
    return {
        "ok": not errors,
        "asked": asked,
        "slots": len(truth),
        "outcome": outcome,
        "within_budget": asked * 2 <= len(truth),
        "errors": errors,
        "problem": "; ".join(errors) or None,
    }


def check_outcome(outcome: dict[str, Any], expect: dict[str, Any], truth: dict[str, str]) -> list[str]:
    errors = [
        f"slot {slot}: understood {outcome['slots'].get(slot)!r}, expected {value!r}"
        for slot, value in truth.items()
        if outcome["slots"].get(slot) != value
    ]
    ids = [c["id"] for c in outcome["contacts"]]
    for key, wanted in expect.items():
        if key == "contacts_all" and not set(wanted) <= set(ids):
            errors.append(f"contacts {ids} lack some of {wanted}")
        elif key == "contacts_any" and not set(wanted) & set(ids):
            errors.append(f"contacts {ids} include none of {wanted}")
        elif key == "contacts_none" and set(wanted) & set(ids):
            errors.append(f"contacts {ids} include one of {wanted}")
        elif key == "ethics_order" and wanted and not ethics_order_ok(ids):
            errors.append(f"contacts {ids}: the Ethics Committee must come after its gatekeepers")
        elif key in outcome and outcome[key] != wanted:
            errors.append(f"{key}: {outcome[key]!r}, expected {wanted!r}")
    return errors


def ethics_order_ok(ids: list[str]) -> bool:
    if "ethics_committee" not in ids:
        return True
    position = ids.index("ethics_committee")
    before = [ids.index(g) for g in GATEKEEPERS if g in ids]
    return position > 0 and bool(before) and all(p < position for p in before)
