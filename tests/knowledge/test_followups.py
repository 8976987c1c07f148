"""Follow-ups answered in the context of the previous answer, and situations read from what a sentence
denies: on messages written for these tests (none is in an evaluation set)."""

from __future__ import annotations

from typing import Any

import pytest

from bot import slots
from bot.followup import Context

pytestmark = pytest.mark.slow


def _after(answerer: Any, first: str, language: str = "en") -> Context:
    answer = answerer.ask(first)
    return Context.from_json(answer.understood, language)


def test_asking_for_the_other_language_repeats_the_answer_in_it(answerer: Any) -> None:
    context = _after(answerer, "Who do I turn to first for help with a risk assessment?")
    again = answerer.ask("Kan jag få det på svenska?", context)
    assert again.language == "sv" and again.grounded
    assert again.citations[0].section == "4.1" and "administrativa stöd" in again.answer
    back = answerer.ask("In English please", Context.from_json(again.understood, "sv"))
    assert back.language == "en" and "administrative support" in back.answer


def test_a_plural_which_after_document_data_asks_for_people_too(answerer: Any) -> None:
    context = _after(answerer, "Vem har beslutat om riktlinjerna?", "sv")
    answer = answerer.ask("vilka var med och tog fram dem?", context)
    assert answer.grounded and answer.citations[0].section == "meta"
    assert "Fakultetsnämnden" in answer.answer


def test_animals_not_at_ki_are_abroad() -> None:
    assert (
        slots.extract("the pigs will never be at KI, they stay at the partner's farm")["animals_abroad"]
        == "yes"
    )
    assert slots.extract("djuren kommer inte att vara i Sverige")["animals_abroad"] == "yes"
    assert slots.extract("the zebrafish work is done here at KI")["animals_abroad"] == "no"
    assert slots.extract("försöken görs i vårt eget djurhus i Huddinge")["animals_abroad"] == "no"


def test_a_denied_area_word_names_no_area() -> None:
    assert "area" not in slots.extract("We are not researchers and not teachers, we run the library.")
    assert slots.extract("no contract yet for our research project")["area"] == "research"


def test_why_after_an_animal_answer_keeps_the_experiments_abroad(answerer: Any) -> None:
    context = _after(
        answerer, "Our partner in Kenya will run the mouse studies for us. Whom must we contact?"
    )
    answer = answerer.ask("why, the mice are not even in Sweden?", context)
    assert answer.grounded and answer.citations[0].section == "4.4", answer.answer


def test_what_if_changes_a_condition_and_asks_the_same(answerer: Any) -> None:
    context = _after(
        answerer, "A colleague in Peru and I informally share protocols. Who assesses the risks?"
    )
    answer = answerer.ask("what if our two universities sign a collaboration agreement?", context)
    assert "research group and department" in answer.answer.split("\n\n", 1)[0], answer.answer


def test_a_pronoun_in_a_follow_up_is_the_person_of_the_previous_answer(answerer: Any) -> None:
    context = _after(answerer, "Who is told the outcome of a risk assessment for a course?")
    answer = answerer.ask("In English, please. And what are they expected to do with it?", context)
    assert answer.language == "en" and answer.grounded, answer.answer
    assert "head of department" in answer.answer.split("\n\n", 1)[0], answer.answer


def test_why_gives_the_answer_again_and_the_purpose(answerer: Any) -> None:
    context = _after(answerer, "Must we always consider whether a risk assessment is needed?")
    answer = answerer.ask("why, though?", context)
    sections = [c.section for c in answer.citations[:3]]
    assert sections[0] == "3.2" and "2" in sections, sections


def test_that_person_equated_with_ones_own_supervisor_is_set_apart(answerer: Any) -> None:
    context = _after(
        answerer, "Doctoral student here, informal project with a lab in Chile: who gets my outcome?"
    )
    answer = answerer.ask("so is that my phd supervisor?", context)
    assert answer.answer.startswith("In the guidelines the immediate supervisor is the line manager")
