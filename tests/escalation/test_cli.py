"""`ribot coordinators`, `ribot escalations`, `ribot purge` and `ribot export-user` as processes, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.store import coordinators
from bot.store.base import Database
from bot.store.escalations import NewEscalation, create_escalation, get_escalation

RIBOT = [sys.executable, "-m", "connectors.cli"]
REPO = Path(__file__).resolve().parents[2]


def _ribot(db_url: str, data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RIBOT_", "DATABASE_URL", "SLACK_"))}
    env |= {"RIBOT_DATA_DIR": str(data), "DATABASE_URL": db_url, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [*RIBOT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def _escalation(db: Database, key: str, category: str, note: str = "", platform: str = "web") -> Any:
    ref = {"platform": platform, "conversation_id": f"conv-{key}"}
    new = NewEscalation(
        key, platform, f"conv-{key}", f"{platform}:conv-{key}", ref, category=category, note=note
    )
    return create_escalation(db, new, "user:test")[0]


def test_coordinators_add_list_remove(db: Database, db_url: str, tmp_path: Path) -> None:
    added = _ribot(
        db_url, tmp_path, "coordinators", "add", "Anna@KI.se", "--name", "Anna S", stdin="long enough pw!\n"
    )
    assert added.returncode == 0, added.stderr
    assert coordinators.authenticate(db, "anna@ki.se", "long enough pw!") is not None
    short = _ribot(db_url, tmp_path, "coordinators", "add", "bo@ki.se", stdin="short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    oidc_only = _ribot(db_url, tmp_path, "coordinators", "add", "cy@ki.se", "--no-password")
    assert oidc_only.returncode == 0
    listed = _ribot(db_url, tmp_path, "coordinators", "list")
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(r[1], r[3], r[4]) for r in rows] == [
        ("anna@ki.se", "coordinator", "password"),
        ("cy@ki.se", "coordinator", "OIDC only"),
    ]
    assert _ribot(db_url, tmp_path, "coordinators", "remove", "anna@ki.se").returncode == 0
    assert _ribot(db_url, tmp_path, "coordinators", "remove", "nobody@ki.se").returncode == 1
    account = coordinators.authenticate(db, "anna@ki.se", "long enough pw!")
    assert account is not None and not account.is_coordinator


def test_coordinators_add_without_a_terminal_or_input_says_no_password_was_read(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    nothing = _ribot(db_url, tmp_path, "coordinators", "add", "di@ki.se", stdin="")
    assert nothing.returncode == 1
    assert "no password was read" in nothing.stderr and "at least" not in nothing.stderr
    assert coordinators.authenticate(db, "di@ki.se", "") is None
    listed = _ribot(db_url, tmp_path, "coordinators", "list")
    assert "di@ki.se" not in listed.stdout


def test_escalations_take_the_reference_users_are_shown(db: Database, db_url: str, tmp_path: Path) -> None:
    made = _escalation(db, "r", "ethics", "By reference")
    assert made.reference.startswith("ESC-0")
    for written in (made.reference, made.reference.lower(), f"ESC-{made.id}"):
        shown = _ribot(db_url, tmp_path, "escalations", "show", written, "--json")
        assert shown.returncode == 0, (written, shown.stderr)
        assert json.loads(shown.stdout)["id"] == made.id
    resolved = _ribot(db_url, tmp_path, "escalations", "resolve", made.reference, "--comment", "phoned")
    assert resolved.returncode == 0 and made.reference in resolved.stdout
    missing = _ribot(db_url, tmp_path, "escalations", "show", "ESC-99999")
    assert missing.returncode == 1 and "ESC-99999" in missing.stderr
    for bad in ("ESC-", "ESC-12a", "XYZ-00012"):
        refused = _ribot(db_url, tmp_path, "escalations", "show", bad)
        assert refused.returncode == 2 and "reference (ESC-00012)" in refused.stderr


def test_escalations_list_show_resolve(db: Database, db_url: str, tmp_path: Path) -> None:
    first = _escalation(db, "a", "ethics", "First <!channel>")
    second = _escalation(db, "b", "animals", "Second", platform="slack")
    listed = _ribot(db_url, tmp_path, "escalations", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [e["id"] for e in data] == [second.id, first.id]  # newest first
    for item in data:
        assert {"id", "status", "category", "platform", "created_at"} <= set(item)
    assert data[0]["platform"] == "slack" and data[1]["category"] == "ethics" and data[1]["status"] == "open"
    filtered = json.loads(
        _ribot(db_url, tmp_path, "escalations", "list", "--json", "--category", "ethics").stdout
    )
    assert [e["id"] for e in filtered] == [first.id]
    text = _ribot(db_url, tmp_path, "escalations", "list").stdout
    assert first.reference in text and second.reference in text

    shown = _ribot(db_url, tmp_path, "escalations", "show", str(first.id), "--json")
    detail = json.loads(shown.stdout)
    assert detail["note"] == "First <!channel>" and detail["history"][0]["kind"] == "created"

    resolved = _ribot(db_url, tmp_path, "escalations", "resolve", str(first.id), "--comment", "done by phone")
    assert resolved.returncode == 0 and first.reference in resolved.stdout
    stored = get_escalation(db, first.id)
    assert stored is not None and stored.status == "resolved"
    assert stored.events[-1].actor.startswith("cli:") and stored.events[-1].detail["text"] == "done by phone"
    again = _ribot(db_url, tmp_path, "escalations", "resolve", str(first.id))
    assert again.returncode == 1 and "resolved" in again.stderr
    missing = _ribot(db_url, tmp_path, "escalations", "show", "99999")
    assert missing.returncode == 1 and "no escalation 99999" in missing.stderr
    bad = _ribot(db_url, tmp_path, "escalations", "show", "abc")
    assert bad.returncode == 2


def test_purge_and_export_user(db: Database, db_url: str, tmp_path: Path) -> None:
    kept = _escalation(db, "k", "general", "still open")
    exported = _ribot(db_url, tmp_path, "export-user", "web:conv-k")
    assert exported.returncode == 0
    data = json.loads(exported.stdout)
    assert data["user_id"] == "web:conv-k" and [e["id"] for e in data["escalations"]] == [kept.id]
    assert (
        json.loads(_ribot(db_url, tmp_path, "export-user", "web:conv-k", "--platform", "slack").stdout)[
            "escalations"
        ]
        == []
    )
    purged = _ribot(db_url, tmp_path, "purge", "--older-than", "0")
    assert purged.returncode == 0 and "escalations: 0" in purged.stdout  # open ones stay
    assert get_escalation(db, kept.id) is not None
    assert _ribot(db_url, tmp_path, "purge", "--older-than", "-3").returncode == 1
    assert _ribot(db_url, tmp_path, "purge").returncode == 2
