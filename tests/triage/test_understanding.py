"""Slots understood from free text (English and Swedish), and the development set's triage cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation import ConversationEngine
from bot.slots import extract
from connectors.evaluation import run_triage_case

PHRASES = yaml.safe_load((Path(__file__).parent / "slot_phrases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", PHRASES, ids=[c["text"][:50] for c in PHRASES])
def test_free_text_is_understood(case: dict[str, Any]) -> None:
    found = extract(case["text"])
    for slot, value in case["slots"].items():
        assert found.get(slot) == value, f"{slot}: {found}"


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("we have a signed MoU", "formalised", "yes"),
        ("we work together informally", "formalised", "no"),
        ("mouse experiments at the partner lab abroad", "animals_abroad", "yes"),
        ("zebrafish experiments at the partner lab abroad", "animals_abroad", "yes"),
        ("my PhD student", "area", "doctoral_education"),
        ("the programme wants a partner", "level", "programme"),
        ("a course with a study visit", "level", "course"),
        ("a programme managed by KU", "ku_managed", "yes"),
        ("the partner could misuse our technology", "security_concern", "yes"),
        ("it is dual use technology", "security_concern", "yes"),
        ("there is a risk of espionage", "security_concern", "yes"),
        ("the partner has questionable ethics", "ethical_concern", "yes"),
        ("no animals involved", "animals_abroad", "no"),
        ("no security concerns", "security_concern", "no"),
        ("no ethical issues", "ethical_concern", "no"),
        ("it is not formalised", "formalised", "no"),
        ("the programme is not managed by KU", "ku_managed", "no"),
        ("vi har ett undertecknat avtal", "formalised", "yes"),
        ("inga djurförsök", "animals_abroad", "no"),
    ],
)
def test_the_kinds_of_statement_the_issue_names(text: str, slot: str, value: str) -> None:
    assert extract(text).get(slot) == value


@pytest.mark.parametrize(
    "text",
    ["Hello", "What does the guideline say?", "We collaborate with a university in Chile.", "Of course!"],
)
def test_nothing_is_invented_from_text_that_does_not_say_it(text: str) -> None:
    found = extract(text)
    assert not {"formalised", "animals_abroad", "security_concern", "ethical_concern", "ku_managed"} & set(
        found
    )


def test_dev_triage_cases_come_out_right_asking_at_most_half(
    dev_set: dict[str, Any], engine: ConversationEngine
) -> None:
    cases = dev_set["triage"]
    assert len(cases) >= 8
    for case in cases:
        result = run_triage_case(case, engine)
        assert result["ok"], (case["id"], result["errors"])
        assert result["asked"] * 2 <= result["slots"], (case["id"], result["asked"], result["slots"])


def test_a_case_the_flow_cannot_answer_is_reported_not_passed(engine: ConversationEngine) -> None:
    wrong = {
        "id": "x",
        "text": "I want to collaborate informally with a researcher in Chile.",
        "slots": {
            "area": "research",
            "formalised": "no",
            "animals_abroad": "no",
            "security_concern": "no",
            "ethical_concern": "no",
        },
        "expect": {"responsible": "research_group_and_department"},
    }
    result = run_triage_case(wrong, engine)
    assert not result["ok"] and "responsible" in result["errors"][0]
    missing = {"id": "y", "text": "Something with a partner.", "slots": {"area": "research"}, "expect": {}}
    result = run_triage_case(missing, engine)
    assert not result["ok"] and "does not list" in result["errors"][0]


EXTRA_CASES = yaml.safe_load((Path(__file__).parent / "triage_cases.yaml").read_text(encoding="utf-8"))[
    "triage"
]


@pytest.mark.parametrize("case", EXTRA_CASES, ids=[c["id"] for c in EXTRA_CASES])
def test_more_cases_of_the_same_kind(case: dict[str, Any], engine: ConversationEngine) -> None:
    result = run_triage_case(case, engine)
    assert result["ok"], result["errors"]
    assert result["asked"] * 2 <= result["slots"], (result["asked"], result["slots"])


def _line(engine: ConversationEngine, text: str, answers: dict[str, str]) -> dict[str, Any]:
    from bot.protocol import triage_line
    from bot.types import Turn

    return triage_line(
        engine.triage(Turn(platform="cli", conversation_id="one-process", user_id="cli", text=text), answers)
    )


def test_each_line_is_a_separate_assessment(engine: ConversationEngine) -> None:
    """Lines of `ribot triage --json` in one process never see each other: a KU programme's answers do
    not turn the next line's research contract into a programme case."""
    programme = {"area": "first_second_cycle_education", "level": "programme", "ku_managed": "yes"}
    first = _line(engine, "Our KU-run programme wants a partner abroad.", {**programme, "concerns": "none"})
    assert first["status"] == "done" and first["outcome"]["report_to"] == "dean_higher_education"
    second = _line(engine, "We will sign a research contract with a university in Canada.", {})
    assert second["status"] == "need_input" and second["known"]["area"] == "research"
    assert second["known"].get("level") is None and second["known"].get("ku_managed") is None
    done = _line(
        engine, "We will sign a research contract with a university in Canada.", {"concerns": "none"}
    )
    assert done["outcome"]["responsible"] == "research_group_and_department"


def test_a_question_that_settles_several_slots_lists_them_and_assumes_none(
    engine: ConversationEngine,
) -> None:
    line = _line(engine, "An informal research exchange with a colleague in Peru.", {})
    question = line["question"]
    assert question["slot"] == "concerns"
    assert question["slots"] == ["animals_abroad", "security_concern", "ethical_concern"]
    # answering one of them settles that one only; the others are asked again, with "none of the others"
    again = _line(
        engine, "An informal research exchange with a colleague in Peru.", {"animals_abroad": "yes"}
    )
    assert again["question"]["slots"] == ["security_concern", "ethical_concern"]
    assert again["known"]["animals_abroad"] == "yes" and again["known"]["security_concern"] is None
    assert again["question"]["choices"][-1]["value"] == "none"


def test_concerns_in_the_opening_message_are_read(engine: ConversationEngine) -> None:
    line = _line(
        engine,
        "We are starting an informal research project with a lab abroad and I worry they could pass our "
        "results on to their military.",
        {},
    )
    assert line["known"]["security_concern"] == "yes"
