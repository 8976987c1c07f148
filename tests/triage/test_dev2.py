"""The triage cases and the conversations of ../shared/eval/dev2.yaml through the real engine (the real
answerer over the session's index, a real database), in this process and through `ribot triage --json` and
`ribot chat --json`: every case and every turn right, each triage case asking at most half of its slots."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation import ConversationEngine
from bot.store import Database
from connectors.evaluation import conversation_figures, run_triage_lines, triage_figures, turn_problems

pytestmark = pytest.mark.slow


def test_every_triage_case_is_right_asking_at_most_half(
    dev2_set: dict[str, Any], answerer: Any, sqlite_db: Database
) -> None:
    cases = dev2_set["triage"]
    figures = triage_figures(cases, ConversationEngine(answerer, sqlite_db, ttl_hours=1))
    assert figures["cases"] == len(cases) >= 12
    assert figures["failures"] == []
    assert figures["over_half"] == []


def test_every_conversation_is_right_turn_by_turn(
    dev2_set: dict[str, Any], answerer: Any, sqlite_db: Database
) -> None:
    conversations = dev2_set["conversations"]
    figures = conversation_figures(conversations, ConversationEngine(answerer, sqlite_db, ttl_hours=1))
    assert figures["conversations"] == len(conversations) >= 10
    assert figures["failures"] == []
    assert figures["turns_right"] == figures["turns"]


def test_triage_cases_in_one_ribot_triage_process(dev2_set: dict[str, Any], lines: Any) -> None:
    process = lines("triage")
    for case in dev2_set["triage"]:
        result = run_triage_lines(
            case, lambda text, answers: process.send({"text": text, "answers": answers})
        )
        assert result["ok"], (case["id"], result["errors"])
        assert result["asked"] * 2 <= result["slots"], (case["id"], result["asked"])


def test_conversations_interleaved_in_one_ribot_chat_process(dev2_set: dict[str, Any], lines: Any) -> None:
    """Every conversation's turns in one process, round by round, so no two turns of one conversation
    follow each other: their state is each conversation's own."""
    process = lines("chat")
    conversations = dev2_set["conversations"]
    problems = []
    for n in range(max(len(c["turns"]) for c in conversations)):
        for convo in (c for c in conversations if n < len(c["turns"])):
            step = convo["turns"][n]
            line = process.send({"conversation": convo["id"], "text": step["text"]})
            assert line["conversation"] == convo["id"]
            problems += [
                f"{convo['id']} turn {n + 1}: {p}" for p in turn_problems(line, step.get("expect") or {})
            ]
    assert problems == []
