"""Which statements answer a question, for the situation it describes: the clauses of the asked intents
whose scope fits the slots read from the question, the corrections of what it wrongly presumes, and the
way of their own that askers with a role get."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from bot.reading import Claim, Reading
from knowledge.model import Actor, Clause, ClauseRef, GuidelineModel, Scope
from knowledge.triage_flow import Flow


class Fit(Enum):
    EXACT = "exact"  # every condition of the scope is known and met
    OPEN = "open"  # nothing contradicts it, something it needs is unknown
    CONTRADICTED = "contradicted"


def fit(scope: Scope, excluded: Scope, slots: dict[str, str]) -> Fit:
    if any(slot in slots and slots[slot] not in values for slot, values in scope.items()):
        return Fit.CONTRADICTED
    if excluded and all(slots.get(slot) in values for slot, values in excluded.items()):
        return Fit.CONTRADICTED
    # the exclusion is ruled out once one of its conditions is known not to hold
    excluded_settled = not excluded or any(
        slot in slots and slots[slot] not in values for slot, values in excluded.items()
    )
    if all(slot in slots for slot in scope) and excluded_settled:
        return Fit.EXACT
    return Fit.OPEN


@dataclass
class Selection:
    """One intent's answer for the situation: the clauses that say it, and whether the situation left
    several cases open."""

    intent: str
    clauses: list[Clause]
    undetermined: bool = False
    contradicted: bool = False  # every clause's scope is contradicted by the situation
    from_correction: bool = False  # states the facts behind a correction, not what was asked


def select(refs: Iterable[ClauseRef], intent: str, slots: dict[str, str]) -> Selection:
    fits = [(ref, fit(ref.scope, ref.excluded, slots)) for ref in refs]
    usable = [(r, f) for r, f in fits if f is not Fit.CONTRADICTED and (f is Fit.EXACT or not r.exact_only)]
    main = [(r, f) for r, f in usable if not r.also]
    exact = [r for r, f in main if f is Fit.EXACT]
    chosen = exact or [r for r, _ in main]
    chosen += [r for r, _ in usable if r.also]
    return Selection(
        intent=intent,
        clauses=[r.clause for r in chosen],
        undetermined=not exact and len(main) > 1,
        contradicted=bool(fits) and not usable,
    )


@dataclass
class Correction:
    text: str  # in the reply's language
    clauses: list[Clause] = field(default_factory=list)
    answer: str | None = None  # the intent that states what the guidelines do say


def correct(
    claim: Claim, reading: Reading, model: GuidelineModel, language: str, flow: Flow
) -> Correction | None:
    """The correction of a claim the guidelines contradict; None when they agree or say nothing."""
    predicate = model.predicates[claim.predicate]
    if predicate.of_situation:
        said = select(model.intents[predicate.answer].refs, predicate.answer, reading.slots)
        clauses = [] if said.undetermined else said.clauses
        return Correction(predicate.correction.get(language), clauses, None if clauses else predicate.answer)
    actor = model.actors[claim.actor]
    name = actor.names.get(language)
    describe = [model.clauses[actor.describe]] if actor.describe else []
    wrong = _contradicts(claim, reading, model, flow)
    if wrong is None:
        return None
    if claim.actor in model.notes and claim.predicate in ("told", "same_as"):
        return Correction(model.notes[claim.actor].get(language), [], predicate.answer)
    text = (predicate.confirmed if claim.negated and predicate.confirmed else predicate.correction).get(
        language
    )
    return Correction(text.format(actor=name), describe, wrong)


def _contradicts(claim: Claim, reading: Reading, model: GuidelineModel, flow: Flow) -> str | None:
    """The intent that states the facts when the guidelines contradict the claim, else None."""
    actor = model.actors[claim.actor]
    answer = model.predicates[claim.predicate].answer
    holds = actor.holds
    match claim.predicate:
        case "decides":
            wrong = not holds & {"decides", "decides_escalated"}
        case "carries_out":
            wrong = "carries_out" not in holds
        case "told":
            wrong = "told" not in holds
        case "first_contact":
            if actor.reached_via:
                return _reached_through(actor.reached_via, model) or answer
            stated = [c for slot, c in flow.concerns.items() if reading.slots.get(slot) == "yes"]
            if stated:
                # for a concern, its own contacts come first
                first = {cid for clause in stated[0].clauses for cid in model.clauses[clause].contacts}
                return None if actor.contact in first else stated[0].intent
            wrong = "first_contact" not in holds
        case "optional":
            wrong = "must_contact" in holds
            answer = (actor.describe and _intent_of(model, actor.describe)) or answer
        case "directly":
            wrong = bool(actor.reached_via)
        case "same_as":
            wrong = actor.same_as_not is not None
        case _:
            wrong = False
    return answer if wrong else None


def _reached_through(contacts: tuple[str, ...], model: GuidelineModel) -> str | None:
    """The intent whose first clause names exactly the contacts an actor is reached through."""
    return next(
        (i.id for i in model.intents.values() if i.refs and i.refs[0].clause.contacts == contacts), None
    )


def _intent_of(model: GuidelineModel, clause_id: str) -> str | None:
    return next((i.id for i in model.intents.values() if any(r.clause.id == clause_id for r in i.refs)), None)


def unresolvable(reading: Reading, model: GuidelineModel) -> frozenset[str]:
    """Intents that only say what kind of thing is asked and that this message gives nothing to resolve:
    "what is it?" when it names no one whose description the model has."""
    described = any(model.actors[a].describe for a in reading.subjects)
    return frozenset() if described else frozenset({"what_is_actor"})


def resolve_generic(
    intent: str, reading: Reading, model: GuidelineModel, previous: list[str], flow: Flow
) -> list[str]:
    """Intents that only say what kind of thing is asked get their subject from the question (the actor
    it names, the concern it describes) or from the conversation's previous answer."""
    if intent == "what_is_actor":
        described = _described([model.actors[a] for a in reading.subjects], model, reading.slots)
        return [f"clause:{c}" for c in described]
    if intent == "contact_generic":
        by_concern = [c.intent for slot, c in flow.concerns.items() if reading.slots.get(slot) == "yes"]
        if by_concern:
            return by_concern
        named = [model.actors[a].describe for a in reading.named if model.actors[a].contact]
        if named and named[0]:
            return [f"clause:{named[0]}"]
        return _contact_intent_for(previous, model) or ["support"]
    return [intent]


def _described(actors: list[Actor], model: GuidelineModel, slots: dict[str, str]) -> list[str]:
    """What the text says the actors are or do: each one's description, then what else it asks of them;
    for the situation asked about, what applies to it first and nothing it rules out; three clauses at
    most, so that the answer stays about the ones asked of."""
    found = [a.describe for a in actors if a.describe] + [c for a in actors for c in a.duties]
    fits = {c: fit(model.clauses[c].scope, model.clauses[c].excluded, slots) for c in dict.fromkeys(found)}
    usable = [c for c, f in fits.items() if f is not Fit.CONTRADICTED]
    usable.sort(key=lambda c: not (fits[c] is Fit.EXACT and model.clauses[c].scope))
    return usable[:3]


CONTACT_INTENTS = ("support", "ethics_contact", "security_contact", "animals", "escalate")


def _contact_intent_for(previous: list[str], model: GuidelineModel) -> list[str]:
    """After an answer, "who do I contact about that?": the contact intent that shares most contacts with
    the clauses of the previous answer."""
    before = {c for cid in previous if cid in model.clauses for c in model.clauses[cid].contacts}
    if not before:
        return []

    def shared(intent: str) -> int:
        return len(before & {c for r in model.intents[intent].refs for c in r.clause.contacts})

    best = max(CONTACT_INTENTS, key=shared)
    return [best] if shared(best) else []


def for_the_asker(intents: list[str], reading: Reading, model: GuidelineModel) -> list[str]:
    """A contact asking where to send what they cannot answer themselves asks for the way on from them:
    the statement that names them and who comes next, in place of an answer that would send them to
    themselves."""
    actor = model.actors[reading.asker] if reading.asker else None
    if actor is None or not actor.next or not actor.describe:
        return intents

    def to_self(intent: str) -> bool:
        found = model.intents.get(intent)
        if found is None or found.form not in {"told", "contact"} or not found.refs:
            return False
        return actor.contact in found.refs[0].clause.contacts

    return [f"clause:{actor.describe}" if to_self(i) else i for i in intents]


def asker_path(
    reading: Reading, model: GuidelineModel, clauses: list[Clause], contacts: list[str]
) -> list[Clause]:
    """The way of their own the guidelines give an asker's role, when the answer concerns it: the
    coordinator and the ombudsman may escalate to the Committee rather than be sent to themselves; heads of
    department have the Security Forum's support in their decisions."""
    if reading.asker is None:
        return []
    actor = model.actors[reading.asker]
    if not actor.path:
        return []
    path = model.clauses[actor.path]
    routed_to_self = actor.contact is not None and actor.contact in contacts
    if routed_to_self:  # their own way comes first, even where the answer would mention it later
        return [path]
    answered = any(c.id == actor.path for c in clauses)
    return [path] if not answered and set(path.contacts) & set(contacts) else []
