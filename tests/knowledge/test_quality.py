"""Retrieval, routing, grounding and quotes on the development set and on ribot's own probe set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.evaluation import evaluate

pytestmark = pytest.mark.slow
PROBE = Path(__file__).resolve().parent.parent / "data" / "probe.yaml"


def _without_triage(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "triage"}


def test_dev_set_meets_the_thresholds_and_beats_the_langchain_baseline(
    answerer: Any, dev_set: dict[str, Any]
) -> None:
    from knowledge.baseline import baseline_ranked

    report = evaluate(_without_triage(dev_set), answerer, baseline=baseline_ranked)
    assert report["recall_at_3"] >= 0.95 and report["mrr"] >= 0.90, report["failures"]
    assert report["routing"][0] == report["routing"][1] >= 5
    assert report["facts"][0] == report["facts"][1] >= 3
    assert report["not_declined"] == [] and report["wrongly_declined"] == []
    assert report["quotes"][0] == report["quotes"][1] >= len(dev_set["questions"])
    base = report["baseline"]
    assert report["recall_at_3"] >= base["recall_at_3"] and report["mrr"] > base["mrr"]


def test_probe_set_generalises(answerer: Any) -> None:
    report = evaluate(yaml.safe_load(PROBE.read_text(encoding="utf-8")), answerer)
    assert report["recall_at_3"] >= 0.9 and report["mrr"] >= 0.85, report["failures"]
    assert report["not_declined"] == [] and report["wrongly_declined"] == []
    assert report["routing"][0] == report["routing"][1] and report["quotes"][0] == report["quotes"][1]


def test_ethics_committee_is_never_the_first_contact(answerer: Any) -> None:
    for question in [
        "I want to raise an ethical concern with the Committee for Ethics and Good Research Practice.",
        "Who can escalate issues to the ethics committee?",
    ]:
        ids = [c.id for c in answerer.ask(question).contacts]
        assert ids and ids[0] != "ethics_committee"
        if "ethics_committee" in ids:
            assert ids.index("network_coordinator") < ids.index("ethics_committee")


def test_swedish_questions_are_answered_in_english_and_say_so(answerer: Any) -> None:
    answer = answerer.ask("Vem ska informeras om resultatet av riskbedömningen i forskningen?")
    assert answer.language == "sv" and answer.grounded
    assert answer.citations[0].section == "3.2"
    assert "engelska" in answer.answer and "English" in answer.answer


def test_uncovered_requests_say_why_and_offer_a_person(answerer: Any) -> None:
    answer = answerer.ask("Which countries are blacklisted for research partnerships?")
    assert not answer.grounded and answer.citations == ()
    assert "no list of countries" in answer.answer
    assert [c.id for c in answer.contacts] == ["network_coordinator"]


def test_the_lead_is_a_sentence_of_the_quoted_passages_with_its_source(answerer: Any) -> None:
    answer = answerer.ask("Who is responsible for collaborations at programme level?")
    assert answer.answer.startswith(
        "According to section 3.2 (Division of responsibilities), in first and second"
    )
    assert "programme-responsible board (UN/PN)" in answer.answer
    first = answer.answer.split(", ", 1)[1].split(". ")[0]
    assert any(f"I{first[1:]}" in c.quote for c in answer.citations)


def test_the_lead_adds_the_english_footnote_its_sentence_points_to(answerer: Any) -> None:
    answer = answerer.ask(
        "Who receives the outcome of the risk assessment in first and second cycle education?"
    )
    assert "reported to the head of department" in answer.answer
    assert "the head of department is equivalent to the dean for higher education" in answer.answer
    research = answerer.ask("Who carries out the risk assessment for an individual research collaboration?")
    assert "dean" not in research.answer


def test_eval_scores_the_triage_cases_with_the_same_answerer(answerer: Any, dev_set: dict[str, Any]) -> None:
    from connectors.cli_eval import engine_on_scratch_database

    with engine_on_scratch_database(answerer) as engine:
        report = evaluate({"triage": dev_set["triage"]}, answerer, lambda: engine)
    triage = report["triage"]
    assert triage["cases"] == len(dev_set["triage"]) and triage["correct"] == triage["cases"]
    assert triage["over_half"] == [] and triage["asked"] * 2 <= triage["slots"]
