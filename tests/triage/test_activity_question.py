"""The first question of an assessment whose opening names no kind of activity: one question whose choices
settle the kind together with what follows from it (formalised or not, programme or course), so no kind of
activity asks more than half of its slots. Through the real engine and through `ribot triage --json`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from triage_support import Chat

from bot.conversation import ConversationEngine
from connectors.evaluation import run_triage_lines, triage_figures
from knowledge.triage_flow import default_flow

BLANK = "I'd like to assess a collaboration abroad"
SV_BLANK = "Jag vill bedöma ett samarbete utomlands"
CONCERNS_NO = {"animals_abroad": "no", "security_concern": "no", "ethical_concern": "no"}


def case(name: str, slots: dict[str, str], expect: dict[str, Any], text: str = BLANK) -> dict[str, Any]:
    return {"id": name, "text": text, "slots": {**CONCERNS_NO, **slots}, "expect": expect}


# Every kind of activity from a blank opening, with the roles the guidelines give it.
KINDS = [
    case(
        "research-informal",
        {"area": "research", "formalised": "no"},
        {"responsible": "individual_researcher", "report_to": "immediate_supervisor", "decides": None},
    ),
    case(
        "research-agreement",
        {"area": "research", "formalised": "yes", "security_concern": "yes"},
        {"responsible": "research_group_and_department", "decides": "agreement_signatory"},
    ),
    case(
        "doctoral-informal",
        {"area": "doctoral_education", "formalised": "no", "animals_abroad": "yes"},
        {"responsible": "individual_researcher", "contacts_any": ["animal_welfare_body"]},
    ),
    case(
        "doctoral-agreement",
        {"area": "doctoral_education", "formalised": "yes"},
        {"responsible": "research_group_and_department", "decides": "agreement_signatory"},
    ),
    case(
        "programme-ku",
        {"area": "first_second_cycle_education", "level": "programme", "ku_managed": "yes"},
        {"responsible": "programme_board", "report_to": "dean_higher_education"},
    ),
    case(
        "programme-department",
        {"area": "first_second_cycle_education", "level": "programme", "ku_managed": "no"},
        {"responsible": "programme_board", "report_to": "head_of_department"},
    ),
    case(
        "course",
        {"area": "first_second_cycle_education", "level": "course", "ethical_concern": "yes"},
        {"responsible": "course_education_board", "ethics_order": True},
    ),
    case("student-mobility", {"area": "student_mobility"}, {"contacts_any": ["international_office"]}),
    case("other", {"area": "other"}, {"responsible": "manager"}),
    case(
        "sv-research-agreement",
        {"area": "research", "formalised": "yes"},
        {"responsible": "research_group_and_department"},
        SV_BLANK,
    ),
    case("sv-course", {"area": "first_second_cycle_education", "level": "course"}, {}, SV_BLANK),
]


def test_every_kind_from_a_blank_opening_asks_at_most_half_its_slots(engine: ConversationEngine) -> None:
    figures = triage_figures(KINDS, engine)
    assert figures["failures"] == [] and figures["correct"] == len(KINDS)
    assert figures["over_half"] == []


@pytest.mark.slow
def test_every_kind_through_ribot_triage_json_lines(lines: Callable[[str], Any]) -> None:
    process = lines("triage")
    seen: list[dict[str, Any]] = []

    def send(text: str, answers: dict[str, str]) -> dict[str, Any]:
        seen.append(process.send({"text": text, "answers": answers}))
        return seen[-1]

    for kind in KINDS:
        seen.clear()
        result = run_triage_lines(kind, send)
        assert result["ok"], (kind["id"], result["errors"])
        assert result["asked"] * 2 <= result["slots"], (kind["id"], result["asked"], result["slots"])
        first = seen[0]["question"]
        assert first["slot"] == "activity" and first["slots"] == ["area", "formalised", "level"]
        assert set(first["slots"]) <= set(seen[0]["known"]), kind["id"]
        swedish = kind["text"] == SV_BLANK
        assert first["text"] == default_flow().combined["activity"].text.get("sv" if swedish else "en")


def test_the_question_lists_every_slot_it_settles(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage(BLANK)
    question = user.question
    assert question["slot"] == "activity" and question["multiple"] is False
    assert question["slots"] == ["area", "formalised", "level"]
    assert user.last.data["known"] == {"area": None, "formalised": None, "level": None}
    assert [c["value"] for c in question["choices"]] == [
        "research_informal",
        "research_agreement",
        "doctoral_informal",
        "doctoral_agreement",
        "programme",
        "course",
        "student_mobility",
        "other",
    ]
    assert question["help"] and "formalised" in question["help"]
    buttons = [a.value for a in user.last.actions if a.value.startswith("triage:answer:")]
    assert buttons == [f"triage:answer:activity:{c['value']}" for c in question["choices"]]


def test_answers_for_any_of_its_slots_are_taken(chat: Callable[..., Chat]) -> None:
    for answers, asked in [
        ({"area": "research", "formalised": "no"}, "concerns"),
        ({"area": "research"}, "formalised"),
        ({"area": "first_second_cycle_education"}, "level"),
        ({"area": "first_second_cycle_education", "level": "programme"}, "ku_managed"),
        ({"area": "student_mobility"}, "concerns"),
        ({"activity": "doctoral_agreement"}, "concerns"),
        ({"activity": "course"}, "concerns"),
    ]:
        user = chat()
        user.triage(BLANK, answers)
        assert user.question["slot"] == asked, answers


def test_only_what_the_opening_left_open_is_offered_and_set(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("We will sign an MoU with a partner university abroad.")
    question = user.question
    assert user.last.data["known"]["formalised"] == "yes"
    assert question["slot"] == "activity" and question["slots"] == ["area", "level"]
    values = [c["value"] for c in question["choices"]]
    assert "research_informal" not in values and "doctoral_informal" not in values
    user.press("triage:answer:activity:doctoral_informal")  # not offered: it would undo what was said
    assert "no longer applies" in user.last.text and user.question["slot"] == "activity"
    user.press("triage:answer:activity:doctoral_agreement")
    assert user.last.data["known"]["area"] == "doctoral_education" and user.question["slot"] == "concerns"


def test_a_known_kind_asks_its_own_questions_as_before(chat: Callable[..., Chat]) -> None:
    for opening, asked in [
        ("A research collaboration with a lab abroad.", "formalised"),
        ("First and second cycle education with a partner abroad.", "level"),
        ("My course will include a study visit to a lab in Estonia.", "concerns"),
    ]:
        user = chat()
        user.triage(opening)
        assert user.question["slot"] == asked, opening


def test_buttons_numbers_words_and_back(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.say("start assessment")
    user.press("triage:answer:activity:programme")
    known = user.last.data["known"]
    assert (known["area"], known["level"]) == ("first_second_cycle_education", "programme")
    assert user.question["slot"] == "ku_managed"
    user.say("back")  # one step back undoes everything the choice settled
    assert user.question["slot"] == "activity" and user.last.data["known"]["level"] is None
    user.say("yes")  # not a choice: said so, not taken for a tick-what-applies answer
    assert "couldn't match" in user.last.text and user.question["slot"] == "activity"
    user.say("7")
    assert user.last.data["known"]["area"] == "student_mobility" and user.question["slot"] == "concerns"
    user.say("back")
    user.say("an informal research collaboration")
    assert user.last.data["known"]["formalised"] == "no" and user.question["slot"] == "concerns"


def test_a_swedish_assessment_stays_swedish(chat: Callable[..., Chat]) -> None:
    flow = default_flow()
    activity = flow.combined["activity"]
    user = chat()
    user.say("starta bedömning")
    assert user.last.language == "sv" and user.question["text"] == activity.text.sv
    assert [c["label"] for c in user.question["choices"]] == [c.label.sv for c in activity.choices]
    assert activity.help.sv in user.question["help"]
    for choice in activity.choices:
        assert f"{choice.label.sv}" in user.last.text
    user.say("ett program")
    assert user.last.language == "sv" and user.question["slot"] == "ku_managed"
    assert user.question["text"] == flow.question("ku_managed").text.sv
    user.say("tillbaka")
    user.say("2")
    known = user.last.data["known"]
    assert (known["area"], known["formalised"]) == ("research", "yes") and user.last.language == "sv"
    assert user.question["text"] == flow.groups["concerns"].text.sv
