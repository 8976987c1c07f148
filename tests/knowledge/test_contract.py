"""`ribot ask --json` prints exactly CONTRACT.md's object, one per question, from a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.contract_ids import CONTACT_IDS, SECTION_IDS

pytestmark = pytest.mark.slow


def ribot(args: list[str], data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "connectors.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def check_shape(obj: dict[str, Any]) -> None:
    assert set(obj) == {"answer", "grounded", "citations", "contacts", "language"}
    assert isinstance(obj["answer"], str) and obj["answer"] and isinstance(obj["grounded"], bool)
    assert obj["language"] in {"en", "sv"}
    for c in obj["citations"]:
        assert {"section", "title", "quote", "score"} <= set(c) and c["section"] in SECTION_IDS
        assert 0.0 <= c["score"] <= 1.0 and c["quote"]
    for c in obj["contacts"]:
        assert set(c) >= {"id", "name", "why"} and c["id"] in CONTACT_IDS and c["why"]


def test_single_question(data_dir: Path, settings_factory: Callable[..., Any], answerer: Any) -> None:
    done = ribot(["ask", "--json", "Who must be contacted about animal experiments abroad?"], data_dir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    check_shape(obj)
    assert obj["grounded"] and obj["citations"][0]["section"] == "4.4"
    assert obj["contacts"][0]["id"] == "animal_welfare_body"
    scores = [c["score"] for c in obj["citations"][:3]]
    assert scores == sorted(scores, reverse=True)


def test_batch_mode_answers_every_line_in_order(data_dir: Path, answerer: Any) -> None:
    questions = [
        "What does the scientific ombudsman do?",
        "",
        "Tell me a joke.",
        "Vem ger råd om säkerhetsfrågor?",
        "What is the registration number of the guidelines?",
    ]
    done = ribot(["ask", "--json"], data_dir, stdin="\n".join(questions) + "\n")
    assert done.returncode == 0, done.stderr
    objs = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(objs) == len(questions)
    for obj in objs:
        check_shape(obj)
    assert objs[0]["citations"][0]["section"] == "4.2"
    assert not objs[1]["grounded"] and "ask a question" in objs[1]["answer"]
    assert not objs[2]["grounded"]
    assert objs[3]["language"] == "sv" and objs[3]["citations"][0]["section"] == "4.5"
    assert "1-1181/2025" in objs[4]["answer"]


def test_human_readable_answer(data_dir: Path, answerer: Any) -> None:
    done = ribot(["ask", "Who", "decides", "whether", "a", "cooperation", "can", "proceed?"], data_dir)
    assert done.returncode == 0, done.stderr
    assert "Section 3.2" in done.stdout and "Division of responsibilities" in done.stdout


def test_a_reader_that_stops_early_ends_the_answer_quietly(data_dir: Path, answerer: Any) -> None:
    """`ribot ask ... | head -1`: the pipe closes before the answer is written."""
    env = {**os.environ, "RIBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    read, write = os.pipe()
    os.close(read)  # nobody will read what ribot writes
    with os.fdopen(write, "w") as closed_pipe:
        done = subprocess.run(
            [sys.executable, "-m", "connectors.cli", "ask", "Who decides whether a cooperation can proceed?"],
            stdout=closed_pipe,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
