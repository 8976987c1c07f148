"""Every part of a message answered or named as not found, and premises in Swedish and in other words:
on messages written for these tests (none is in an evaluation set)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow


def lead(answer: Any) -> str:
    return str(answer.answer).split("\n\n", 1)[0]


def test_an_elliptical_second_question_is_answered_too(answerer: Any) -> None:
    answer = answerer.ask("For a course our department gives: who does the risk assessment, and who is told?")
    text = lead(answer)
    assert "education board" in text and "head of department" in text, text


def test_a_part_the_guidelines_do_not_answer_is_named(answerer: Any) -> None:
    answer = answerer.ask(
        "Who do I contact first for help with a risk assessment, and which train goes to Flemingsberg?"
    )
    text = lead(answer)
    assert answer.grounded and "administrative support" in text
    assert "which train goes to Flemingsberg" in text and "nothing in the guidelines" in text, text


@pytest.mark.parametrize(
    ("question", "section", "said"),
    [
        ("Fattar etiknämnden beslut om vilka partner vi får välja?", "4.3", "Nej"),
        (
            "We can skip KI's Animal Welfare Body since the partner runs the rat studies abroad, right?",
            "4.4",
            "No",
        ),
        ("The Security Forum rules on which partnerships may go ahead, doesn't it?", "4.5", "No"),
    ],
)
def test_premises_in_other_words_are_corrected(answerer: Any, question: str, section: str, said: str) -> None:
    answer = answerer.ask(question)
    assert lead(answer).startswith(said), lead(answer)
    assert section in [c.section for c in answer.citations[:3]], answer.citations


def test_a_role_after_a_conjunction_is_not_the_askers(answerer: Any) -> None:
    answer = answerer.ask(
        "I'm a postdoc and my academic supervisor says I should hand my risk assessment to him. Is he the "
        "immediate supervisor the guidelines mean?"
    )
    text = lead(answer)
    assert answer.understood["slots"] is not None and "line manager" in text, text
    assert text.startswith("In the guidelines the immediate supervisor is the line manager"), text


@pytest.mark.parametrize(
    ("question", "section"), [("What does fotnot 4 say?", "fn4"), ("footnote 1 - which document?", "fn1")]
)
def test_a_footnote_named_by_number_is_answered_with_it(answerer: Any, question: str, section: str) -> None:
    answer = answerer.ask(question)
    assert answer.citations[0].section == section, answer.answer


def test_who_should_do_it_asks_who_carries_it_out(answerer: Any) -> None:
    answer = answerer.ask(
        "Our department's course in tropical medicine will send students to a clinic in Laos for a week. "
        "Somebody has to look at the risks first. Who should do it?"
    )
    assert "education board" in lead(answer), answer.answer


def test_a_grounded_answer_always_has_a_lead(answerer: Any) -> None:
    from tests.conftest import DEV_SETS

    questions = [
        str(case["q"])
        for path in DEV_SETS
        for case in (yaml.safe_load(path.read_text(encoding="utf-8")).get("questions") or [])
    ]
    questions += ["How should we weigh this?", "What is it?", "And what about that one?"]
    empty = [
        q for q, a in zip(questions, answerer.ask_many(questions), strict=True) if a.grounded and not lead(a)
    ]
    assert not empty, empty


@pytest.mark.parametrize(
    "question",
    [
        "What is the ref no of the President's decision on contacting the Animal Welfare Body?",
        "ombudsman or the security forum - which one should I ask first about a worrying partner?",
        "I can't decide whether to send our assessment to GVS or to the Security Forum. Where should it go?",
    ],
)
def test_asking_about_a_body_is_not_presuming_it_decides(answerer: Any, question: str) -> None:
    assert not lead(answerer.ask(question)).startswith("No:"), question


def test_an_administrator_is_shown_the_way_on_for_an_ethics_question(answerer: Any) -> None:
    answer = answerer.ask(
        "I'm in the administrative support team of my department. A researcher is uneasy that a partner "
        "abroad pays participants in a coercive way. Where do I refer her?"
    )
    ids = [c.id for c in answer.contacts]
    assert "department_admin_support" not in ids, ids
    assert {"network_coordinator", "scientific_ombudsman"} <= set(ids), ids
