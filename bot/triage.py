"""The guided assessment as a state machine over the flow in knowledge/triage_flow.yaml.

The state is plain data (stored as JSON by the conversation engine): the slots known so far, snapshots for
"back", and the slots the open question covers. Slots are filled from free text whenever the user writes,
so only what is still unknown is asked; questions of a group that are open together are asked as one, and
a combined question (the kind of activity with what follows from it) stands in for its first slot's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot import slots as extractor
from knowledge.triage_flow import Combined, ComboChoice, Flow, FlowChoice, Question, matches

Choice = TypeVar("Choice", FlowChoice, ComboChoice)

MAX_HISTORY = 50
NONE = "none"  # the answer "none of these" to a group question
_NUMBERS = re.compile(r"^\s*\d+(?:\s*(?:,|and|och|&|\+|\s)\s*\d+)*\s*[.)]?\s*$")


@dataclass
class TriageState:
    slots: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, str]] = field(default_factory=list)  # slots before each change, for "back"
    pending: list[str] = field(default_factory=list)  # slots the open question covers

    def to_json(self) -> dict[str, Any]:
        return {
            "slots": dict(self.slots),
            "history": [dict(h) for h in self.history],
            "pending": list(self.pending),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TriageState:
        data = data or {}
        return cls(
            slots={str(k): str(v) for k, v in (data.get("slots") or {}).items()},
            history=[{str(k): str(v) for k, v in h.items()} for h in data.get("history") or []],
            pending=[str(s) for s in data.get("pending") or []],
        )


@dataclass(frozen=True)
class Reading:
    """What one message or button said about the open question and the slots."""

    updates: dict[str, str]
    answered: bool  # the open question got an answer


class Triage:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    # -- what is known and what is asked next -------------------------------------------------------
    def open_slots(self, known: dict[str, str]) -> list[str]:
        return [q.slot for q in self.flow.questions if q.slot not in known and matches(q.when, known)]

    def next_pending(self, known: dict[str, str]) -> list[str]:
        """The slots the next question covers: one slot, every open slot of its group, or the open slots a
        combined question standing in for the first one can settle."""
        open_slots = self.open_slots(known)
        if not open_slots:
            return []
        first = self.flow.question(open_slots[0])
        combined = self.flow.combined_for(first.slot)
        if combined is not None:
            offered = combined.offered(known)
            return [s for s in combined.slots if any(s in c.settles(known) for c in offered)]
        if first.group is None:
            return [first.slot]
        return [s for s in open_slots if self.flow.question(s).group == first.group]

    def combined_open(self, pending: list[str]) -> Combined | None:
        """The combined question that is open, if the open question is one."""
        return self.flow.combined_for(pending[0]) if pending else None

    def is_group(self, pending: list[str]) -> bool:
        return self._group_of(pending) is not None

    def known(self, known: dict[str, str], pending: list[str] | None = None) -> dict[str, str | None]:
        """Every slot that applies so far or that the open question asks, with its value or None;
        CONTRACT's `known`."""
        asked = set(pending or ())
        return {
            q.slot: known.get(q.slot)
            for q in self.flow.questions
            if q.slot in known or q.slot in asked or matches(q.when, known)
        }

    def valid(self, slot: str, value: str) -> bool:
        return value in self.flow.slot_values.get(slot, ())

    # -- changing the state ---------------------------------------------------------------------------
    def update(self, state: TriageState, updates: dict[str, str]) -> dict[str, str]:
        """Applies valid updates, remembering the previous slots for "back"; returns what changed."""
        changed = {s: v for s, v in updates.items() if self.valid(s, v) and state.slots.get(s) != v}
        if changed:
            state.history = [*state.history, dict(state.slots)][-MAX_HISTORY:]
            state.slots.update(changed)
        state.pending = self.next_pending(state.slots)
        return changed

    def back(self, state: TriageState) -> bool:
        if not state.history:
            return False
        state.slots = state.history.pop()
        state.pending = self.next_pending(state.slots)
        return True

    def answers(self, state: TriageState, given: dict[str, str]) -> Reading:
        """Answers given as slot values (JSON `answers`, buttons): each slot only as given, never another
        one assumed. A combined question's choice (`{"activity": "course"}`, its button) is the slots it
        settles that are still open; a group question answered "none" (`{"concerns": "none"}`, its "None of
        these" button) is "no" for each of its open slots."""
        updates = {s: v for s, v in given.items() if self.valid(s, v)}
        pending = state.pending
        combined = self.combined_open(pending)
        choice = combined.choice(given.get(combined.id), state.slots) if combined else None
        if choice is not None:
            updates = {**choice.settles(state.slots), **updates}
        group = self._group_of(pending)
        if group is not None and given.get(group) == NONE:
            updates = {**{s: extractor.NO for s in pending}, **updates}
        return Reading(updates, any(s in updates for s in pending))

    def given(self, known: dict[str, str], answers: dict[str, str]) -> dict[str, str]:
        """Answers of a `ribot triage --json` line as slot values: valid slot values as they are, a combined
        question's choice as the slots it settles that are still open, and a group answered "none" as "no"
        for each of its slots still open."""
        valid = {s: v for s, v in answers.items() if self.valid(s, v)}
        for combined in self.flow.combined.values():
            choice = combined.choice(answers.get(combined.id), known)
            if choice is not None:
                valid = {**choice.settles({**known, **valid}), **valid}
        settled = {**known, **valid}
        for group in (g for g, v in answers.items() if g in self.flow.groups and v == NONE):
            for q in self.flow.questions:
                if q.group == group and q.slot not in settled and matches(q.when, settled):
                    valid[q.slot] = extractor.NO
        return valid

    def _group_of(self, pending: list[str]) -> str | None:
        if len(pending) < 2 or self.combined_open(pending) is not None:
            return None
        return self.flow.question(pending[0]).group

    def read(self, state: TriageState, text: str) -> Reading:
        """A typed message: a choice (number, value or label) for the open question, or own words. Words in
        passing never change what kind of activity it is (area, level) once known: that takes an answer to
        that question, "back" or "restart" (the flow's structural slots)."""
        from_text = {
            slot: value
            for slot, value in extractor.extract(text).items()
            if slot not in self.flow.structural or slot not in state.slots or slot in state.pending
        }
        combined = self.combined_open(state.pending)
        if combined is not None:
            picked = _pick(combined.offered(state.slots), text)
            chosen = picked.settles(state.slots) if picked else {}
        elif len(state.pending) > 1:
            chosen = self._group_answer(state.pending, text, from_text)
        elif state.pending:
            chosen = self._single_answer(self.flow.question(state.pending[0]), text, from_text)
        else:
            chosen = {}
        return Reading({**from_text, **chosen}, bool(chosen) or any(s in from_text for s in state.pending))

    def _single_answer(self, question: Question, text: str, from_text: dict[str, str]) -> dict[str, str]:
        picked = _pick(question.choices, text)
        value = picked.value if picked else None
        if (
            value is None
            and question.slot not in from_text
            and set(self.flow.slot_values[question.slot])
            == {
                extractor.YES,
                extractor.NO,
            }
        ):
            value = extractor.yes_no(text)
        return {question.slot: value} if value else {}

    def _group_answer(self, pending: list[str], text: str, from_text: dict[str, str]) -> dict[str, str]:
        """Tick-what-applies: the items named (by number, slot id or in words) are yes, the rest no."""
        said = extractor.normalise(text)
        named: set[str] = set()
        if _NUMBERS.match(said):
            numbers = [int(n) for n in re.findall(r"\d+", said)]
            if any(n < 1 or n > len(pending) + 1 for n in numbers):
                return {}
            if numbers == [len(pending) + 1]:
                return {s: extractor.NO for s in pending}
            named = {pending[n - 1] for n in numbers if n <= len(pending)}
        else:
            stated = {s: extractor.named(s, text) for s in pending}
            named = {s for s in pending if s in said.replace(" ", "_") or stated[s] == extractor.YES}
            if not named and self._says_none(said, pending):
                return {s: extractor.NO for s in pending}
            if not named:
                return {s: v for s, v in stated.items() if v is not None}
        return {s: extractor.YES if s in named else extractor.NO for s in pending}

    def _says_none(self, said: str, pending: list[str]) -> bool:
        group = self.flow.question(pending[0]).group
        labels = {extractor.normalise(t) for t in self._none_labels(group)} if group else set()
        return said.strip(" .!") in labels or extractor.says_none(said)

    def _none_labels(self, group: str) -> tuple[str, ...]:
        found = self.flow.groups[group]
        return (found.none_label.en, found.none_label.sv, found.done_label.en, found.done_label.sv)

    # -- the question as data -------------------------------------------------------------------------
    def question(self, state: TriageState, language: str) -> dict[str, Any] | None:
        """The open question as CONTRACT's need_input `question` (plus `slots`, `multiple`, `help`)."""
        pending = state.pending
        if not pending:
            return None
        combined = self.combined_open(pending)
        if combined is not None:
            return _single(combined.id, combined, combined.offered(state.slots), pending, language)
        first = self.flow.question(pending[0])
        if len(pending) == 1:
            return _single(first.slot, first, first.choices, pending, language)
        group = self.flow.groups[first.group or ""]
        items = [self.flow.question(s) for s in pending]
        choices = [{"value": q.slot, "label": (q.option or q.text).get(language)} for q in items]
        started = any(q.slot in state.slots for q in self.flow.questions if q.group == group.id)
        none = (group.done_label if started else group.none_label).get(language)
        return {
            "slot": group.id,
            "text": group.text.get(language),
            "choices": [*choices, {"value": NONE, "label": none}],
            "slots": list(pending),
            "multiple": True,
            "help": group.help.get(language),
        }


def _single(
    slot: str,
    asked: Question | Combined,
    choices: Sequence[FlowChoice | ComboChoice],
    slots: list[str],
    language: str,
) -> dict[str, Any]:
    """A single-choice question as data: one slot's, or a combined one's that settles `slots`."""
    return {
        "slot": slot,
        "text": asked.text.get(language),
        "choices": [{"value": c.value, "label": c.label.get(language)} for c in choices],
        "slots": list(slots),
        "multiple": False,
        "help": asked.help.get(language),
    }


def _pick(choices: Sequence[Choice], text: str) -> Choice | None:
    """The choice a typed answer names: by its number, its value or its label in either language, or by
    the start of one label alone ("doctoral" for "Doctoral education (PhD)")."""
    said = extractor.normalise(text).strip(" .!").replace("_", " ")
    if said.isdigit():
        index = int(said) - 1
        return choices[index] if 0 <= index < len(choices) else None
    labels = {
        c.value: {c.value.replace("_", " "), extractor.normalise(c.label.en), extractor.normalise(c.label.sv)}
        for c in choices
    }
    exact = [c for c in choices if said in labels[c.value]]
    if exact:
        return exact[0]
    started = [c for c in choices if len(said) >= 4 and any(lab.startswith(said) for lab in labels[c.value])]
    return started[0] if len(started) == 1 else None
