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


def test_a_client_that_answers_only_the_named_slot_gets_the_same_outcomes(
    dev_set: dict[str, Any], engine: ConversationEngine
) -> None:
    """A JSON-lines client that answers `question.slot` alone (not every slot of a grouped question)."""
    from bot.protocol import triage_line as result_line
    from bot.types import Turn
    from connectors.evaluation import outcome_problems as check_outcome

    for case in [*dev_set["triage"], *EXTRA_CASES]:
        turn = Turn(platform="cli", conversation_id=f"naive-{case['id']}", user_id="cli")
        line = result_line(engine.triage(Turn(**{**turn.__dict__, "text": case["text"]})))
        asked = 0
        while line["status"] == "need_input":
            asked += 1
            assert asked <= 6, case["id"]
            slot = line["question"]["slot"]
            line = result_line(engine.triage(turn, {slot: case["slots"][slot]}))
        assert check_outcome(line["outcome"], case["expect"], case["slots"]) == [], case["id"]
        assert asked * 2 <= len(case["slots"]), case["id"]
