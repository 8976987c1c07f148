"""`ribot triage --json` as CONTRACT.md specifies it, and `ribot chat` in a real terminal-less process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from triage_support import ribot


def lines(*items: Any) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


def test_triage_json_follows_the_contract(index_copy: Path) -> None:
    done = ribot(
        ["triage", "--json"],
        lines(
            {"text": "A partner abroad will do the zebrafish experiments in my informal project."},
            {
                "text": "A partner abroad will do the zebrafish experiments in my informal project.",
                "answers": {"security_concern": "no", "ethical_concern": "no"},
            },
        ),
        index_copy,
    )
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["status"] == "need_input"
    assert set(first["question"]) >= {"slot", "text", "choices"}
    assert all(set(c) >= {"value", "label"} for c in first["question"]["choices"])
    assert first["known"]["area"] == "research" and first["known"]["animals_abroad"] == "yes"
    assert first["known"]["security_concern"] is None
    assert second["status"] == "done"
    outcome = second["outcome"]
    assert set(outcome) >= {"responsible", "report_to", "decides", "contacts", "risk_areas", "citations"}
    assert outcome["responsible"] == "individual_researcher" and outcome["decides"] is None
    assert "animal_welfare_body" in [c["id"] for c in outcome["contacts"]]
    assert all(set(c) >= {"id", "name", "why"} for c in outcome["contacts"])
    assert all(set(c) >= {"section", "title", "quote"} for c in outcome["citations"])


def test_triage_json_survives_bad_lines(index_copy: Path) -> None:
    done = ribot(
        ["triage", "--json"],
        lines(
            {"text": "Our department will sign a research agreement with a university in Japan."},
            "{not json",
            '["a list"]',
            {"text": 5},
            {"text": "", "answers": {"area": ["research"]}},
            {"text": "", "answers": {"security_concern": "perhaps"}},
            {"text": "x" * 10_000},
            "",
            {"text": "none of these"},
        ),
        index_copy,
    )
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["status"] for o in out] == [
        "need_input",
        "error",
        "error",
        "error",
        "error",
        "need_input",
        "need_input",
        "need_input",
    ]
    assert out[1]["error"].startswith("not valid JSON")
    # every line is an assessment of its own: an answer that fits no slot changes nothing, and is said so
    assert "nothing was changed" in out[5]["message"] and out[5]["question"]["slot"] == "activity"
    assert "10,000 characters" in out[6]["message"]
    assert out[7]["question"]["slot"] == "activity"  # "none of these" alone is not a situation


def test_chat_talks_in_the_terminal_and_saves_a_summary(tmp_path: Path, index_copy: Path) -> None:
    done = ribot(
        ["chat", "--summary-dir", str(tmp_path / "out")],
        lines(
            "I'm planning a collaboration with a university in Brazil; our department will sign an MoU.",
            "yes",
            "1",
            "1 3",
            "summary",
        ),
        index_copy,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Shall we start?" in text
    assert "1. Research" in text and "What I understood so far" in text
    assert "Carries out the risk assessment: The research group and the department" in text
    assert (
        "KI's Animal Welfare Body" in text and "The Committee for Ethics and Good Research Practice" in text
    )
    saved = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert saved == [".html", ".md"]
    html = next((tmp_path / "out").glob("*.html")).read_text(encoding="utf-8")
    assert "Dnr 1-1181/2025" in html and "<script" not in html
