"""Retrieval, routing, grounding and quotes on the development set and on ribot's own probe set."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.evaluation import evaluate

pytestmark = pytest.mark.slow
PROBE = Path(__file__).resolve().parent.parent / "data" / "probe.yaml"


def _without_triage(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "triage"}


def test_the_development_sets_meet_the_bar_and_beat_the_langchain_baseline(answerer: Any) -> None:
    """On dev.yaml and dev2.yaml together: Recall@3 0.95, top-1 0.9, lead correct 0.9, every routing check
    and answer fact right, every out-of-scope request declined and nothing in scope declined."""
    from knowledge.baseline import baseline_ranked
    from tests.conftest import DEV_SETS

    data: dict[str, list[Any]] = {"questions": [], "out_of_scope": []}
    for path in DEV_SETS[:2]:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in data:
            data[key] += loaded.get(key) or []
    report = evaluate(data, answerer, baseline=partial(baseline_ranked, encoder=answerer.retriever.encoder))
    assert report["recall_at_3"] >= 0.95 and report["top1"] >= 0.9, report["failures"]
    assert report["lead_correct"] >= 0.9, report["failures"]
    assert report["routing"][0] == report["routing"][1] >= 15, report["failures"]
    assert report["facts"][0] == report["facts"][1] >= 50, report["failures"]
    assert report["not_declined"] == [] and report["wrongly_declined"] == []
    assert report["quotes"][0] == report["quotes"][1] >= len(data["questions"])
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


def test_uncovered_requests_say_why_and_offer_a_person(answerer: Any) -> None:
    answer = answerer.ask("Which countries are blacklisted for research partnerships?")
    assert not answer.grounded and answer.citations == ()
    assert "no list of countries" in answer.answer
    assert [c.id for c in answer.contacts] == ["network_coordinator"]


def test_the_lead_names_the_section_of_each_statement_it_rests_on(answerer: Any) -> None:
    answer = answerer.ask("Who is responsible for collaborations at programme level?")
    text = answer.answer.split("\n\n", 1)[0]
    assert "programme-responsible board (UN/PN)" in text and text.rstrip(".").endswith("(3.2)")
    assert answer.citations[0].section == "3.2"
    assert "programme-responsible board (UN/PN)" in answer.citations[0].quote


def test_eval_scores_the_triage_cases_with_the_same_answerer(answerer: Any, dev_set: dict[str, Any]) -> None:
    from connectors.cli_eval import engine_on_scratch_database

    with engine_on_scratch_database(answerer) as engine:
        report = evaluate({"triage": dev_set["triage"]}, answerer, lambda: engine)
    triage = report["triage"]
    assert triage["cases"] == len(dev_set["triage"]) and triage["correct"] == triage["cases"]
    assert triage["over_half"] == [] and triage["asked"] * 2 <= triage["slots"]
