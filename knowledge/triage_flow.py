"""The guided assessment flow: `triage_flow.yaml` checked against `triage_schema.json` and turned into typed
objects. Loading also checks what a schema cannot: that every citation phrase points at exactly one sentence
of the guidelines (the quote is that sentence, taken from the source), that referenced statements and
groups and contacts exist, that the contact order keeps the Ethics Committee behind the contacts that reach
it, and that a combined question's choices settle only what its slots' own questions would ask
(knowledge.triage_checks)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.flow_types import (
    Combined,
    ComboChoice,
    Concern,
    Condition,
    ContactRule,
    Flow,
    FlowChoice,
    FlowError,
    Group,
    OutcomeSpec,
    Question,
    Ref,
    RiskArea,
    matches,
)
from knowledge.text import sentences
from knowledge.triage_checks import check
from knowledge.types import Citation, Text

__all__ = [
    "FLOW_PATH",
    "SCHEMA_PATH",
    "Combined",
    "ComboChoice",
    "Concern",
    "Condition",
    "ContactRule",
    "Flow",
    "FlowChoice",
    "FlowError",
    "Group",
    "OutcomeSpec",
    "Question",
    "Ref",
    "RiskArea",
    "build",
    "cite",
    "default_flow",
    "load_flow",
    "matches",
]

FLOW_PATH = Path(__file__).with_name("triage_flow.yaml")
SCHEMA_PATH = Path(__file__).with_name("triage_schema.json")
LANGUAGES = ("en", "sv")


def cite(section: str, contains: str) -> Citation:
    """The one sentence of `section` that contains `contains`, as a citation with the verbatim quote."""
    from knowledge.corpus import section_passages, section_title

    found = [s for p in section_passages(section) for s in sentences(p.text) if contains in s]
    if len(found) != 1:
        raise FlowError(f"citation phrase {contains!r} matches {len(found)} sentences in section {section}")
    return Citation(section=section, title=section_title(section), quote=found[0], score=1.0)


def _text(raw: dict[str, str]) -> Text:
    return Text(en=" ".join(raw["en"].split()), sv=" ".join(raw["sv"].split()))


def _condition(raw: dict[str, list[str]] | None) -> Condition:
    return {slot: tuple(str(v) for v in values) for slot, values in (raw or {}).items()}


def _citations(raw: list[dict[str, str]]) -> tuple[Citation, ...]:
    return tuple(cite(str(c["section"]), c["contains"]) for c in raw)


def _question(raw: dict[str, Any]) -> Question:
    option = raw.get("option")
    return Question(
        slot=raw["slot"],
        text=_text(raw["text"]),
        help=_text(raw["help"]),
        choices=tuple(FlowChoice(str(c["value"]), _text(c["label"])) for c in raw["choices"]),
        when=_condition(raw.get("when")),
        group=raw.get("group"),
        option=_text(option) if option else None,
    )


def _combined(cid: str, raw: dict[str, Any]) -> Combined:
    choices = tuple(
        ComboChoice(str(c["value"]), _text(c["label"]), {k: str(v) for k, v in c["set"].items()})
        for c in raw["choices"]
    )
    return Combined(cid, tuple(raw["slots"]), _text(raw["text"]), _text(raw["help"]), choices)


def _ref(raw: dict[str, Any]) -> Ref:
    return Ref(
        intent=raw.get("intent"),
        clause=raw.get("clause"),
        roles=tuple(raw.get("roles", [])),
        when=_condition(raw.get("when")),
    )


def _outcome(raw: dict[str, Any]) -> OutcomeSpec:
    return OutcomeSpec(
        roles={key: _ref(r) for key, r in raw["roles"].items()},
        statements=tuple(_ref(r) for r in raw["statements"]),
        contacts=tuple(
            ContactRule(_condition(c["when"]), c["id"], _text(c["why"]) if "why" in c else None)
            for c in raw.get("contacts", [])
        ),
        raise_with=tuple((_condition(r["when"]), r["role"]) for r in raw.get("raise_with", [])),
    )


def _concerns(slots: dict[str, Any]) -> dict[str, Concern]:
    return {
        slot: Concern(
            tuple(spec["concern"]["clauses"]),
            tuple(spec["concern"]["intents"]),
            spec["concern"].get("person"),
        )
        for slot, spec in slots.items()
        if "concern" in spec
    }


def _slot_values(schema: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    props = schema["$defs"]["condition"]["properties"]
    return {slot: tuple(spec["items"]["enum"]) for slot, spec in props.items()}


def validate(raw: Any, schema: dict[str, Any]) -> None:
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(top)"
        raise FlowError(f"triage flow invalid at {where}: {errors[0].message}")


def build(raw: dict[str, Any], schema: dict[str, Any]) -> Flow:
    validate(raw, schema)
    flow = Flow(
        slot_values=_slot_values(schema),
        slot_labels={slot: _text(s["label"]) for slot, s in raw["slots"].items()},
        questions=tuple(_question(q) for q in raw["questions"]),
        groups={
            gid: Group(
                gid, _text(g["text"]), _text(g["none_label"]), _text(g["done_label"]), _text(g["help"])
            )
            for gid, g in raw["groups"].items()
        },
        roles={rid: _text(t) for rid, t in raw["roles"].items()},
        risk_areas=tuple(
            RiskArea(a["id"], _text(a["title"]), _text(a["prompt"])) for a in raw["risk_areas"]["areas"]
        ),
        risk_citations=_citations(raw["risk_areas"]["cite"]),
        outcome=_outcome(raw["outcome"]),
        messages={key: _text(t) for key, t in raw["messages"].items()},
        reads={slot: str(spec["read"]) for slot, spec in raw["slots"].items()},
        concerns=_concerns(raw["slots"]),
        structural=frozenset(slot for slot, spec in raw["slots"].items() if spec.get("structural")),
        categories={
            slot: dict(spec["categories"]) for slot, spec in raw["slots"].items() if "categories" in spec
        },
        combined={cid: _combined(cid, c) for cid, c in (raw.get("combined") or {}).items()},
    )
    check(flow)
    return flow


def load_flow(path: Path | None = None) -> Flow:
    import yaml

    source = path or FLOW_PATH
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(f"{source.name} is not valid YAML: {exc}") from exc
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return build(raw, schema)


@lru_cache(maxsize=1)
def default_flow() -> Flow:
    return load_flow()
