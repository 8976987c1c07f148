"""Slot ids are data: the assessment and the hand-over read which slots are structural, which are concerns
and how a hand-over is filed from the flow file, and their code names no slot."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import bot.escalation
import bot.escalation_text
import bot.triage
from bot.escalation_text import category_for
from bot.triage import Triage, TriageState
from knowledge.triage_flow import FLOW_PATH, Flow, default_flow, load_flow


def _literals(module: ModuleType) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


@pytest.mark.parametrize(
    "module", [bot.triage, bot.escalation, bot.escalation_text], ids=lambda m: m.__name__
)
def test_the_code_names_no_slot(module: ModuleType) -> None:
    assert not _literals(module) & set(default_flow().slots)


def _flow(tmp_path: Path, change: Any) -> Flow:
    raw = yaml.safe_load(FLOW_PATH.read_text(encoding="utf-8"))
    change(raw["slots"])
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_flow(path)


def test_structural_slots_are_read_from_the_flow(tmp_path: Path) -> None:
    """Words in passing do not change a structural slot once known; which slots those are is data."""
    known = {"area": "research", "formalised": "no"}
    passing = "ok, and we might sign an agreement with them later"

    def read(flow: Flow) -> dict[str, str]:
        state = TriageState(
            slots=dict(known), pending=["animals_abroad", "security_concern", "ethical_concern"]
        )
        return Triage(flow).read(state, passing).updates

    assert read(default_flow()).get("formalised") == "yes"

    def formalised_is_structural(slots: dict[str, Any]) -> None:
        slots["formalised"]["structural"] = True

    assert "formalised" not in read(_flow(tmp_path, formalised_is_structural))


def test_hand_over_categories_are_read_from_the_flow(tmp_path: Path) -> None:
    known = {"area": "research", "animals_abroad": "yes"}
    assert category_for(default_flow(), "user", known, "", []) == "animals"
    assert category_for(default_flow(), "user", {"area": "student_mobility"}, "", []) == "education"

    def refiled(slots: dict[str, Any]) -> None:
        slots["animals_abroad"]["categories"] = {"yes": "ethics"}
        slots["area"]["categories"]["student_mobility"] = "research"

    flow = _flow(tmp_path, refiled)
    assert category_for(flow, "user", known, "", []) == "ethics"
    assert category_for(flow, "user", {"area": "student_mobility"}, "", []) == "research"
    # a concern files the hand-over before the kind of activity, whichever order the file lists them in
    assert (
        category_for(flow, "user", {"area": "student_mobility", "security_concern": "yes"}, "", [])
        == "security"
    )


def test_a_category_for_a_value_the_slot_does_not_have_is_refused(tmp_path: Path) -> None:
    from knowledge.triage_flow import FlowError

    def bad(slots: dict[str, Any]) -> None:
        slots["area"]["categories"]["postdoc"] = "research"

    with pytest.raises(FlowError, match="categories"):
        _flow(tmp_path, bad)
