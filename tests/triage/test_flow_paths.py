"""Walks every path through the flow, through the engine, and checks each outcome against CONTRACT.md's ids,
the rules of issue 3 and the guideline text."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from triage_support import Chat, RecordingAnswerer

from connectors.evaluation import ethics_order_ok
from knowledge.corpus import section_passages
from knowledge.model import guideline_model
from knowledge.triage_flow import FLOW_PATH, SCHEMA_PATH, FlowError, build, load_flow
from tests.contract_ids import CONTACT_IDS, ROLE_IDS, SECTION_IDS
from tests.contract_ids import RISK_AREAS as CONTRACT_RISK_AREAS

ROLES, CONTACTS, SECTIONS = ROLE_IDS, CONTACT_IDS, SECTION_IDS
RISK_AREAS = list(CONTRACT_RISK_AREAS)
SLOT_VALUES = {
    "area": {"research", "doctoral_education", "first_second_cycle_education", "student_mobility", "other"},
    "formalised": {"yes", "no"},
    "level": {"programme", "course"},
    "ku_managed": {"yes", "no"},
    "animals_abroad": {"yes", "no"},
    "security_concern": {"yes", "no"},
    "ethical_concern": {"yes", "no"},
}


def answer_options(question: dict[str, Any]) -> list[dict[str, str]]:
    """Every way to answer a question: each choice, or for a group every combination of its items."""
    if not question["multiple"]:
        return [{question["slot"]: c["value"]} for c in question["choices"]]
    slots = question["slots"]
    return [
        dict(zip(slots, combo, strict=True)) for combo in itertools.product(["yes", "no"], repeat=len(slots))
    ]


def walk(new_chat: Callable[[], Chat]) -> list[tuple[list[dict[str, str]], dict[str, Any]]]:
    """Depth-first over answers; each path is replayed in a fresh conversation of the real engine."""
    finished: list[tuple[list[dict[str, str]], dict[str, Any]]] = []
    pending: list[list[dict[str, str]]] = [[]]
    while pending:
        path = pending.pop()
        chat = new_chat()
        # each `ribot triage --json` line is a whole assessment: it carries every answer given so far
        chat.triage("", known(path))
        if chat.last.outcome is not None:
            finished.append((path, chat.last.outcome))
            continue
        assert len(path) < 10, f"the flow does not end: {path}"
        pending.extend([*path, option] for option in answer_options(chat.question))
    return finished


@pytest.fixture(scope="module")
def every_path(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[list[dict[str, str]], dict[str, Any]]]:
    from bot.conversation import ConversationEngine
    from bot.store import migrate, open_database

    url = f"sqlite:///{tmp_path_factory.mktemp('paths') / 'paths.sqlite3'}"
    migrate(url)
    engine = ConversationEngine(RecordingAnswerer(), open_database(url), ttl_hours=24)
    return walk(lambda: Chat(engine))


def test_the_walk_covers_every_branch(every_path: list[tuple[list[dict[str, str]], dict[str, Any]]]) -> None:
    # research and doctoral: 2 (formalised) x 8 (concerns); programme: 2 x 8; course, mobility, other: 8 each
    assert len(every_path) == 16 + 16 + 16 + 8 + 8 + 8
    # every clause that states who carries out the assessment leads some outcome
    rules = {outcome["rule"] for _, outcome in every_path}
    model = guideline_model()
    carrying = {r.clause.id for r in model.intents["who_carries_out"].refs if r.clause.roles}
    assert carrying <= rules


def quote_is_verbatim(section: str, quote: str) -> bool:
    return any(quote in p.text for p in section_passages(section))


def test_every_outcome_has_valid_ids_and_verbatim_citations(
    every_path: list[tuple[list[dict[str, str]], dict[str, Any]]],
) -> None:
    for path, outcome in every_path:
        where = f"path {path}"
        for key in ("responsible", "report_to", "decides", "ultimate_responsibility"):
            assert outcome[key] is None or outcome[key] in ROLES, where
        assert set(outcome["raise_with"]) <= ROLES, where
        ids = [c["id"] for c in outcome["contacts"]]
        assert set(ids) <= CONTACTS and len(ids) == len(set(ids)), where
        assert all(c["name"] and c["why"] for c in outcome["contacts"]), where
        assert ids and ids[0] != "ethics_committee", where
        assert ethics_order_ok(ids), where
        if "gvs" in ids:
            assert ids.index("department_admin_support") < ids.index("gvs"), where
        assert outcome["risk_areas"] == RISK_AREAS, where
        assert [a["id"] for a in outcome["risk_checklist"]] == RISK_AREAS and all(
            a["prompt"] for a in outcome["risk_checklist"]
        ), where
        assert outcome["citations"], where
        for citation in outcome["citations"]:
            assert citation["section"] in SECTIONS, where
            assert quote_is_verbatim(citation["section"], citation["quote"]), (where, citation)
        cited = {c["section"] for c in outcome["citations"]}
        for statement in outcome["statements"]:
            assert statement["text"] and statement["sections"], (where, statement)
            assert set(statement["sections"]) <= cited, (where, statement)
        assert "3.1" in cited, where
        for slot, value in outcome["slots"].items():
            assert value in SLOT_VALUES[slot], where


def known(path: list[dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for answers in path:
        merged.update(answers)
    return merged


def settled(path: list[dict[str, str]]) -> dict[str, str]:
    """The slots a path's answers settle: a combined question's choice stands for the slots it sets."""
    slots = known(path)
    for cid, combined in load_flow().combined.items():
        choice = combined.choice(slots.pop(cid, None), {})
        slots.update(choice.sets if choice else {})
    return slots


def test_every_outcome_follows_the_rules_of_the_issue(
    every_path: list[tuple[list[dict[str, str]], dict[str, Any]]],
) -> None:
    for path, outcome in every_path:
        slots = settled(path)
        assert {s: outcome["slots"][s] for s in slots} == slots, path
        ids = [c["id"] for c in outcome["contacts"]]
        cited = {c["section"] for c in outcome["citations"]}
        area = slots["area"]
        expected = expected_roles(slots)
        assert (outcome["responsible"], outcome["report_to"], outcome["decides"]) == expected, path
        if area in ("research", "doctoral_education"):
            assert outcome["ultimate_responsibility"] == "head_of_department" and "fn6" in cited, path
        if area == "first_second_cycle_education" and slots.get("ku_managed") == "yes":
            assert "fn5" in cited, path
        if area == "student_mobility":
            assert "international_office" in ids and {"3", "fn4"} <= cited, path
            assert any("name no one" in s["text"] for s in outcome["statements"]), path
            assert ("animal_welfare_body" in ids) == (slots["animals_abroad"] == "yes"), path
            continue
        assert ids[:2] == ["department_admin_support", "gvs"], path
        assert ("animal_welfare_body" in ids) == (slots["animals_abroad"] == "yes"), path
        assert ("security_forum" in ids) == (slots["security_concern"] == "yes"), path
        assert (outcome["raise_with"] == ["head_of_department"]) == (slots["security_concern"] == "yes"), path
        ethics = {"network_coordinator", "scientific_ombudsman", "ethics_committee"}
        assert (ethics <= set(ids)) == (slots["ethical_concern"] == "yes"), path
        assert "4.1" in cited and "3.1" in cited, path


def expected_roles(slots: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    area = slots["area"]
    if area in ("research", "doctoral_education"):
        if slots["formalised"] == "yes":
            return "research_group_and_department", "immediate_supervisor", "agreement_signatory"
        return "individual_researcher", "immediate_supervisor", None
    if area == "first_second_cycle_education":
        if slots["level"] == "course":
            return "course_education_board", "head_of_department", None
        report = "dean_higher_education" if slots["ku_managed"] == "yes" else "head_of_department"
        return "programme_board", report, None
    if area == "other":
        return "manager", None, None
    return None, None, None


def test_the_flow_file_satisfies_its_schema() -> None:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(FLOW_PATH.read_text(encoding="utf-8")))


def test_every_statement_of_an_outcome_comes_from_the_model(
    every_path: list[tuple[list[dict[str, str]], dict[str, Any]]],
) -> None:
    """No second copy of the rules: each statement of an outcome is a clause of the model, in its words."""
    model = guideline_model()
    for path, outcome in every_path:
        for statement in outcome["statements"]:
            clause = model.clauses[statement["id"]]
            assert statement["text"] == clause.lead.en and statement["sections"] == [clause.section], path


def broken(mutate: Callable[[dict[str, Any]], None]) -> str:
    raw = yaml.safe_load(FLOW_PATH.read_text(encoding="utf-8"))
    mutate(raw)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    with pytest.raises(FlowError) as caught:
        build(raw, schema)
    return str(caught.value)


def test_invalid_flows_are_refused_with_a_reason() -> None:
    def unknown_role(raw: dict[str, Any]) -> None:
        raw["outcome"]["raise_with"][0]["role"] = "the_president"

    def wrong_value(raw: dict[str, Any]) -> None:
        raw["questions"][1]["choices"][0]["value"] = "maybe"

    def retyped_quote(raw: dict[str, Any]) -> None:
        raw["risk_areas"]["cite"][0] = {"section": "3.1", "contains": "the researcher alone decides"}

    def missing_swedish(raw: dict[str, Any]) -> None:
        del raw["questions"][0]["text"]["sv"]

    def missing_statement(raw: dict[str, Any]) -> None:
        raw["outcome"]["statements"].append({"clause": "nowhere"})

    assert "the_president" in broken(unknown_role) or "raise_with" in broken(unknown_role)
    assert "formalised" in broken(wrong_value)
    assert "matches 0 sentences" in broken(retyped_quote)
    assert "sv" in broken(missing_swedish)
    assert "nowhere" in broken(missing_statement)


def test_invalid_combined_questions_are_refused_with_a_reason() -> None:
    def choices(raw: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = raw["combined"]["activity"]["choices"]
        return found

    def unlisted_slot(raw: dict[str, Any]) -> None:
        choices(raw)[4]["set"]["ku_managed"] = "yes"

    def never_asked(raw: dict[str, Any]) -> None:
        choices(raw)[5]["set"]["formalised"] = "no"  # a course is never formalised or not

    def no_other(raw: dict[str, Any]) -> None:
        raw["combined"]["activity"]["choices"] = choices(raw)[:-1]

    def no_area(raw: dict[str, Any]) -> None:
        del choices(raw)[0]["set"]["area"]

    def twice(raw: dict[str, Any]) -> None:
        choices(raw)[1]["value"] = choices(raw)[0]["value"]

    def alike(raw: dict[str, Any]) -> None:
        choices(raw)[1]["set"] = dict(choices(raw)[0]["set"])

    def bad_value(raw: dict[str, Any]) -> None:
        choices(raw)[0]["set"]["formalised"] = "maybe"

    def in_a_group(raw: dict[str, Any]) -> None:
        raw["combined"]["activity"]["slots"] = ["animals_abroad", "area"]

    def named_as_a_group(raw: dict[str, Any]) -> None:
        raw["combined"]["concerns"] = raw["combined"].pop("activity")

    assert "ku_managed" in broken(unlisted_slot)
    assert "never asks" in broken(never_asked)
    assert "no choice for area ['other']" in broken(no_other)
    assert "must set area" in broken(no_area)
    assert "distinct" in broken(twice)
    assert "alike" in broken(alike)
    assert "maybe" in broken(bad_value)
    assert "group" in broken(in_a_group)
    assert "taken" in broken(named_as_a_group)


def test_a_flow_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "flow.yaml"
    bad.write_text("questions: [unclosed", encoding="utf-8")
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow(bad)


def test_wording_changes_need_no_code(tmp_path: Path) -> None:
    text = FLOW_PATH.read_text(encoding="utf-8")
    changed = text.replace("What is the international activity about?", "Which kind of activity is it?")
    assert changed != text
    path = tmp_path / "flow.yaml"
    path.write_text(changed, encoding="utf-8")
    assert load_flow(path).question("area").text.en == "Which kind of activity is it?"
    assert re.search(r"sv: .+", text)
