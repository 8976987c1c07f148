"""`ribot chat --json` as CONTRACT.md describes it, and `ribot chat` giving the session to come back to: real
processes on a real database, conversations continued in later processes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from triage_support import ribot

CHAT_KEYS = {"conversation", "text", "language", "grounded", "citations", "contacts", "handover", "triage"}


def chat_json(database: str, data_dir: Path, *lines: Any) -> list[dict[str, Any]]:
    stdin = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    done = ribot(["chat", "--json", "--database", database], stdin, data_dir)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len([line for line in lines if line]), done.stdout
    return out


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chat.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_chat_json_keeps_interleaved_conversations_apart_and_continues_them_later(
    database: str, tmp_path: Path
) -> None:
    first = chat_json(
        database,
        tmp_path,
        {"conversation": "alice", "text": "start assessment"},
        {"conversation": "bo", "text": "starta bedömning"},
        {"conversation": "alice", "text": "research"},
        "this is not json",
        {"conversation": "bo", "text": "utbildning på grundnivå"},
        {"conversation": "alice", "text": "yes"},
        {"conversation": "carl", "text": "I want to talk to a person"},
        {"conversation": "carl", "text": "cancel"},
    )
    alice, bo, alice2, bad, bo2, alice3, carl, carl2 = first
    for line in (alice, bo, alice2, bo2, alice3, carl, carl2):
        assert set(line) == CHAT_KEYS
    assert bad["status"] == "error"
    assert alice["conversation"] == "alice" and alice["language"] == "en"
    assert alice["triage"]["status"] == "need_input" and alice["triage"]["question"]["slot"] == "activity"
    assert alice["grounded"] is True and alice["handover"] is False and alice["citations"] == []
    assert bo["language"] == "sv" and bo["triage"]["question"]["text"].startswith("Vilken sorts")
    assert alice2["triage"]["question"]["slot"] == "formalised"
    assert bo2["triage"]["known"]["area"] == "first_second_cycle_education"
    assert bo2["triage"]["known"]["level"] is None and "formalised" not in bo2["triage"]["known"]
    assert bo2["triage"]["question"]["slot"] == "level" and bo2["language"] == "sv"
    assert alice3["triage"]["question"]["slot"] == "concerns"
    assert alice3["triage"]["known"]["formalised"] == "yes" and "level" not in alice3["triage"]["known"]
    assert carl["handover"] is True and carl["triage"] is None
    assert carl2["handover"] is False and "Nothing was sent" in carl2["text"]

    later = chat_json(
        database,
        tmp_path,
        {"conversation": "alice", "text": "none of these"},
        {"conversation": "bo", "text": "kursnivå"},
    )
    done, bo3 = later
    assert done["triage"]["status"] == "done"
    assert done["triage"]["outcome"]["responsible"] == "research_group_and_department"
    assert done["citations"] and {"section", "title", "quote"} <= set(done["citations"][0])
    assert done["contacts"] and done["contacts"] == done["triage"]["outcome"]["contacts"]
    assert "The research group and the department" in done["text"]
    assert bo3["language"] == "sv" and bo3["triage"]["known"]["level"] == "course"
    assert bo3["triage"]["question"]["slot"] == "concerns"


def test_chat_json_refuses_lines_without_a_conversation(tmp_path: Path) -> None:
    out = chat_json(
        f"sqlite:///{tmp_path / 'chat.sqlite3'}",
        tmp_path,
        {"text": "hello"},
        {"conversation": "", "text": "hello"},
        {"conversation": 7, "text": "hello"},
        {"conversation": "x" * 201, "text": "hello"},
        '["a list"]',
    )
    assert [line["status"] for line in out] == ["error"] * 5
    assert '"conversation"' in out[0]["error"]


def test_chat_gives_the_session_to_come_back_to(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'chat.sqlite3'}"
    first = ribot(["chat", "--database", database], "start assessment\nresearch\n", tmp_path)
    assert first.returncode == 0, first.stderr
    found = re.search(r"ribot chat --resume (\S+)", first.stdout)
    assert found is not None, first.stdout
    session = found[1]
    assert f"Conversation {session}." in first.stdout
    assert "Is the collaboration formalised" in first.stdout
    assert first.stdout.rstrip().endswith(f"ribot chat --resume {session}")  # said again on leaving

    resumed = ribot(["chat", "--resume", session, "--database", database], "yes\nnone of these\n", tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Continuing conversation {session}." in resumed.stdout
    assert "Carries out the risk assessment: The research group and the department" in resumed.stdout

    other = ribot(["chat", "--database", database], "back\n", tmp_path)
    assert session not in other.stdout
    assert "There is no assessment in progress" in other.stdout
