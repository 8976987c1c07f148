"""The guided assessment flow: `triage_flow.yaml` checked against `triage_schema.json` and turned into typed
objects. Loading also checks what a schema cannot: that every citation phrase points at exactly one sentence
of the guidelines (the quote is that sentence, taken from the source), that referenced statements and
groups and contacts exist, that the contact order keeps the Ethics Committee behind the contacts that reach
it, and that a combined question's choices settle only what its slots' own questions would ask
(knowledge.triage_checks)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.text import sentences
from knowledge.types import Citation, Text

FLOW_PATH = Path(__file__).with_name("triage_flow.yaml")
SCHEMA_PATH = Path(__file__).with_name("triage_schema.json")
LANGUAGES = ("en", "sv")


Condition = dict[str, tuple[str, ...]]


class FlowError(ValueError):
    """The flow file is invalid; the message says where."""


@dataclass(frozen=True)
class FlowChoice:
    value: str
    label: Text


@dataclass(frozen=True)
class Question:
    slot: str
    text: Text
    help: Text
    choices: tuple[FlowChoice, ...]
    when: Condition
    group: str | None = None
    option: Text | None = None  # how the slot reads as one item of its group's question

    def choice(self, value: str) -> FlowChoice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class ComboChoice:
    value: str
    label: Text
    sets: dict[str, str]  # the slots the choice settles, with their values

    def settles(self, known: dict[str, str]) -> dict[str, str]:
        """What the choice sets: only the slots that are still open."""
        return {slot: value for slot, value in self.sets.items() if slot not in known}


@dataclass(frozen=True)
class Combined:
    """One question for several slots ("research, with a signed agreement"), asked in place of the question
    of its first slot while that slot is open."""

    id: str
    slots: tuple[str, ...]
    text: Text
    help: Text
    choices: tuple[ComboChoice, ...]

    @property
    def head(self) -> str:
        return self.slots[0]

    def offered(self, known: dict[str, str]) -> tuple[ComboChoice, ...]:
        """The choices that agree with what is known, each once by what it would still settle."""
        seen: set[tuple[tuple[str, str], ...]] = set()
        out = []
        for choice in self.choices:
            if any(known.get(slot, value) != value for slot, value in choice.sets.items()):
                continue
            effect = tuple(sorted(choice.settles(known).items()))
            if effect not in seen:
                seen.add(effect)
                out.append(choice)
        return tuple(out)

    def choice(self, value: str | None, known: dict[str, str]) -> ComboChoice | None:
        return next((c for c in self.offered(known) if c.value == value), None)


@dataclass(frozen=True)
class Group:
    id: str
    text: Text
    none_label: Text
    done_label: Text  # "none of these" once some of the group have been chosen
    help: Text


@dataclass(frozen=True)
class Concern:
    """What a concern slot brings to an outcome and to answers: the clauses naming whom to turn to, the
    intent a question about it is, and the reason of a hand-over (`person`) when it offers a person."""

    clauses: tuple[str, ...]
    intents: tuple[str, ...]  # the first: whom to contact about it
    person: str | None = None

    @property
    def intent(self) -> str:
        return self.intents[0]


@dataclass(frozen=True)
class Ref:
    """A clause of the model, or the clauses an intent selects for the known slots."""

    intent: str | None = None
    clause: str | None = None
    roles: tuple[str, ...] = ()
    when: Condition = field(default_factory=dict)


@dataclass(frozen=True)
class ContactRule:
    when: Condition
    id: str
    why: Text | None


@dataclass(frozen=True)
class OutcomeSpec:
    roles: dict[str, Ref]
    statements: tuple[Ref, ...]
    contacts: tuple[ContactRule, ...] = ()
    raise_with: tuple[tuple[Condition, str], ...] = ()


@dataclass(frozen=True)
class RiskArea:
    id: str
    title: Text
    prompt: Text


@dataclass(frozen=True)
class Flow:
    slot_values: dict[str, tuple[str, ...]]
    slot_labels: dict[str, Text]
    questions: tuple[Question, ...]
    groups: dict[str, Group]
    roles: dict[str, Text]
    risk_areas: tuple[RiskArea, ...]
    risk_citations: tuple[Citation, ...]
    outcome: OutcomeSpec
    messages: dict[str, Text]
    reads: dict[str, str]  # slot -> the reader of bot.slots that reads it from free text
    concerns: dict[str, Concern]  # concern slots
    structural: frozenset[str] = frozenset()  # slots that say what kind of activity it is
    categories: dict[str, dict[str, str]] = field(default_factory=dict)  # slot -> value -> hand-over category
    combined: dict[str, Combined] = field(default_factory=dict)

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(self.slot_values)

    def question(self, slot: str) -> Question:
        for q in self.questions:
            if q.slot == slot:
                return q
        raise KeyError(slot)

    def combined_for(self, slot: str) -> Combined | None:
        """The combined question asked in place of `slot`'s own question, if any."""
        return next((c for c in self.combined.values() if c.head == slot), None)

    def relevant(self, slot: str, known: dict[str, str]) -> bool:
        """Whether the flow would ask for `slot`, given what is known."""
        return matches(self.question(slot).when, known)

    def say(self, key: str, language: str, **values: object) -> str:
        """A message from the flow's `messages`, with `{name}` places filled in."""
        text = self.messages[key].get(language)
        return text.format(**values) if values else text


def matches(when: Condition, known: dict[str, str]) -> bool:
    return all(known.get(slot) in values for slot, values in when.items())


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
    from knowledge.triage_checks import check

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
