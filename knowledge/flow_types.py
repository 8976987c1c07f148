"""The guided assessment flow as typed objects: what knowledge.triage_flow builds from the flow file and
knowledge.triage_checks checks, shared by both."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.types import Citation, Text

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
