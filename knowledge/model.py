"""The guidelines as a model: the actors the text names, every sentence as a statement, and what the
sentences state in structured form (clauses with scope, roles and contacts), plus the labelled example
questions that understanding is built on. Loaded from `data/model.yaml` and `data/questions.yaml` and
checked against the source: every statement is one sentence of its section, every quote is verbatim.

Answers and the triage outcome both read their rules from here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.corpus import MAIN_DOC, Document, guidelines
from knowledge.text import any_of, sentences
from knowledge.types import Passage, Text

DATA = Path(__file__).parent / "data"
MODEL_FILE = DATA / "model.yaml"
QUESTIONS_FILE = DATA / "questions.yaml"
CONCERN = "concern:"  # label prefix of the worries told in the user's own words
FORMS = frozenset(
    {"carries_out", "told", "decides", "contact", "what", "when", "where", "which", "why", "yesno"}
)
ROLE_KEYS = frozenset({"carries_out", "told", "decides", "ensures", "ultimate"})
Scope = dict[str, tuple[str, ...]]


class ModelError(ValueError):
    """The model files disagree with the source or with themselves; the message says where."""


@dataclass(frozen=True)
class Actor:
    id: str
    names: Text
    aliases: tuple[str, ...]
    holds: frozenset[str]
    role: bool = False
    contact: str | None = None
    advisory: bool = False
    reached_via: tuple[str, ...] = ()
    describe: str | None = None  # the clause that says what this actor does
    duties: tuple[str, ...] = ()  # further clauses that ask something of this actor, in the text's order
    next: str | None = None  # the contact after this one, when this one is the asker
    path: str | None = None  # a clause that gives this actor a way of its own
    same_as_not: str | None = None  # an actor it is often taken for


@dataclass(frozen=True)
class Clause:
    id: str
    section: str
    passage_id: str
    quote: str  # verbatim: the statement's sentence, or the part of it the clause rests on
    lead: Text
    scope: Scope = field(default_factory=dict)
    excluded: Scope = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)
    contacts: tuple[str, ...] = ()
    must: bool = False
    also: bool = False
    footnotes: tuple[str, ...] = ()  # the footnotes its passage points to


@dataclass(frozen=True)
class ClauseRef:
    """A clause as one intent uses it; `scope` replaces the clause's own when given."""

    clause: Clause
    scope: Scope
    excluded: Scope
    also: bool
    exact_only: bool = False


@dataclass(frozen=True)
class Intent:
    id: str
    form: str
    refs: tuple[ClauseRef, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class OutOfScope:
    id: str
    reason: Text
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Predicate:
    """Something a question may presume of an actor: approves, carries out, is told, comes first..."""

    id: str
    cues: tuple[re.Pattern[str], ...]
    answer: str  # the intent whose clauses state what the guidelines do say
    correction: Text
    confirmed: Text | None = None
    # said of an actor only in a sentence that also names the actor it is taken for ("is my main supervisor
    # the immediate supervisor?"): the identity words are too common to count anywhere else
    between_look_alikes: bool = False
    # said of the situation, not of an actor ("informal collaborations need no risk assessment"): corrected
    # with what the answering intent's clauses say for that situation
    of_situation: bool = False

    @cached_property
    def any_cue(self) -> re.Pattern[str]:
        """All of the cues in one pattern: most questions presume nothing, and one search per predicate
        says so."""
        return any_of(c.pattern for c in self.cues)


@dataclass(frozen=True)
class Statement:
    section: str
    passage_id: str
    text: str
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class GuidelineModel:
    actors: dict[str, Actor]
    statements: tuple[Statement, ...]
    clauses: dict[str, Clause]
    intents: dict[str, Intent]
    out_of_scope: dict[str, OutOfScope]
    handover: tuple[str, ...]
    predicates: dict[str, Predicate]
    notes: dict[str, Text]
    situation_words: frozenset[str] = frozenset()
    section_titles: dict[str, str] = field(default_factory=dict)
    translated_titles: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> section -> title
    concerns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # slot -> worries told in own words

    def title(self, section: str, language: str) -> str:
        """A section's title in `language` where the model has it, else as the document has it."""
        english = self.section_titles.get(section, section)
        return self.translated_titles.get(language, {}).get(section, english)

    def examples(self) -> list[tuple[str, str]]:
        """(label, text) for every labelled example: an intent id, `out:<kind>`, `concern:<slot>` or
        `handover`. An intent's
        examples are its questions and, in both languages, the statement it answers with first: a question
        that uses the statement's own words is close to it."""
        out = [(i.id, q) for i in self.intents.values() for q in i.examples]
        out += [
            (i.id, t)
            for i in self.intents.values()
            if i.refs
            for t in (i.refs[0].clause.lead.en, i.refs[0].clause.lead.sv)
        ]
        out += [(f"out:{k.id}", q) for k in self.out_of_scope.values() for q in k.examples]
        out += [(f"{CONCERN}{slot}", q) for slot, examples in self.concerns.items() for q in examples]
        return out + [("handover", q) for q in self.handover]

    def without_situation(self, text: str) -> str:
        """Lower-case text without the words of the situation (research, programme, course, formal...)."""
        return " ".join(w for w in text.lower().split() if w.strip("?.,!:;") not in self.situation_words)

    def without_names(self, text: str) -> str:
        """Lower-case text without the actors' names and the words of the situation: what is left says
        what is asked."""
        return self.without_situation(_names_pattern(self).sub(" ", text.lower()))

    def contact_actor(self, contact_id: str) -> Actor | None:
        return next((a for a in self.actors.values() if a.contact == contact_id), None)


_NAME_PATTERNS: dict[int, re.Pattern[str]] = {}


def _names_pattern(model: GuidelineModel) -> re.Pattern[str]:
    found = _NAME_PATTERNS.get(id(model))
    if found is None:
        aliases = sorted({a for actor in model.actors.values() for a in actor.aliases}, key=len, reverse=True)
        found = re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(a) for a in aliases) + r")(?:s|en|et|n)?(?![\w-])"
        )
        _NAME_PATTERNS[id(model)] = found
    return found


def _text(raw: Mapping[str, str]) -> Text:
    return Text(en=" ".join(str(raw["en"]).split()), sv=" ".join(str(raw["sv"]).split()))


def _scope(raw: Mapping[str, Any] | None) -> Scope:
    return {str(k): tuple(str(v) for v in values) for k, values in (raw or {}).items()}


def _actor(aid: str, raw: Mapping[str, Any]) -> Actor:
    return Actor(
        id=aid,
        names=_text(raw["names"]),
        aliases=tuple(str(a).lower() for a in raw.get("aliases", [])),
        holds=frozenset(raw.get("holds", [])),
        role=bool(raw.get("role", False)),
        contact=raw.get("contact"),
        advisory=bool(raw.get("advisory", False)),
        reached_via=tuple(raw.get("reached_via", [])),
        describe=raw.get("describe"),
        duties=tuple(raw.get("duties", [])),
        next=raw.get("next"),
        path=raw.get("path"),
        same_as_not=raw.get("same_as_not"),
    )


def _locate(doc: Document, section: str, contains: str) -> tuple[Passage, str]:
    """(passage, sentence) of the one sentence of `section` that contains `contains`."""
    found = [
        (p, s) for p in doc.passages() if p.section == section for s in sentences(p.text) if contains in s
    ]
    if len(found) != 1:
        raise ModelError(f"statement phrase {contains!r} matches {len(found)} sentences in section {section}")
    return found[0]


def _statement(doc: Document, raw: Mapping[str, Any]) -> Statement:
    section = str(raw["at"]["section"])
    passage, sentence = _locate(doc, section, str(raw["at"]["contains"]))
    passage_id = passage.id
    quote = str(raw.get("quote", sentence))
    if quote not in sentence:
        raise ModelError(f"quote {quote!r} is not part of its sentence in section {section}")
    clauses = tuple(
        Clause(
            id=str(c["id"]),
            section=section,
            passage_id=passage_id,
            quote=quote,
            lead=_text(c["lead"]),
            scope=_scope(c.get("scope")),
            excluded=_scope(c.get("except")),
            roles={str(k): str(v) for k, v in (c.get("roles") or {}).items()},
            contacts=tuple(c.get("contacts", [])),
            must=bool(c.get("must", False)),
            also=bool(c.get("also", False)),
            footnotes=passage.footnotes,
        )
        for c in raw["clauses"]
    )
    return Statement(section, passage_id, sentence, clauses)


def _ref(raw: Any, clauses: dict[str, Clause], intent: str) -> ClauseRef:
    spec = raw if isinstance(raw, Mapping) else {"id": raw}
    clause = clauses.get(str(spec["id"]))
    if clause is None:
        raise ModelError(f"intent {intent}: unknown clause {spec['id']!r}")
    scope = _scope(spec["scope"]) if "scope" in spec else clause.scope
    excluded = (
        _scope(spec["except"]) if "except" in spec else (clause.excluded if "scope" not in spec else {})
    )
    return ClauseRef(
        clause, scope, excluded, bool(spec.get("also", clause.also)), bool(spec.get("exact", False))
    )


def _predicate(pid: str, raw: Mapping[str, Any]) -> Predicate:
    confirmed = raw.get("confirmed")
    return Predicate(
        id=pid,
        cues=tuple(re.compile(p) for p in raw["cues"]),
        answer=str(raw["answer"]),
        correction=_text(raw["correction"]),
        confirmed=_text(confirmed) if confirmed else None,
        between_look_alikes=bool(raw.get("between_look_alikes", False)),
        of_situation=bool(raw.get("of_situation", False)),
    )


def build(model_raw: Mapping[str, Any], questions_raw: Mapping[str, Any], doc: Document) -> GuidelineModel:
    actors = {aid: _actor(aid, raw) for aid, raw in model_raw["actors"].items()}
    statements = tuple(_statement(doc, raw) for raw in model_raw["statements"])
    clauses: dict[str, Clause] = {}
    for statement in statements:
        for clause in statement.clauses:
            if clause.id in clauses:
                raise ModelError(f"clause id {clause.id!r} is used twice")
            clauses[clause.id] = clause
    intents = {
        iid: Intent(
            id=iid,
            form=str(raw["form"]),
            refs=tuple(_ref(r, clauses, iid) for r in raw.get("clauses", [])),
            examples=tuple(str(q) for q in raw["examples"]),
        )
        for iid, raw in questions_raw["intents"].items()
    }
    out_of_scope = {
        kid: OutOfScope(kid, _text(raw["reason"]), tuple(str(q) for q in raw["examples"]))
        for kid, raw in questions_raw["out_of_scope"].items()
    }
    model = GuidelineModel(
        actors=actors,
        statements=statements,
        clauses=clauses,
        intents=intents,
        out_of_scope=out_of_scope,
        handover=tuple(str(q) for q in questions_raw["handover"]["examples"]),
        concerns={
            str(slot): tuple(str(q) for q in examples)
            for slot, examples in (questions_raw.get("concerns") or {}).items()
        },
        predicates={pid: _predicate(pid, raw) for pid, raw in model_raw["predicates"].items()},
        notes={aid: _text(raw) for aid, raw in model_raw.get("notes", {}).items()},
        situation_words=frozenset(str(w) for w in model_raw.get("situation_words", [])),
        section_titles={sid: section.title for sid, section in doc.sections.items()},
        translated_titles={
            str(lang): {str(k): str(v) for k, v in titles.items()}
            for lang, titles in model_raw.get("section_titles", {}).items()
        },
    )
    check(model)
    return model


def check(model: GuidelineModel) -> None:
    """What the files must agree on beyond their shape."""
    for intent in model.intents.values():
        if intent.form not in FORMS:
            raise ModelError(f"intent {intent.id}: unknown form {intent.form!r}")
    for clause in model.clauses.values():
        unknown = [r for r in clause.roles if r not in ROLE_KEYS]
        if unknown:
            raise ModelError(f"clause {clause.id}: unknown role keys {unknown}")
        absent = [a for a in clause.roles.values() if a not in model.actors]
        if absent:
            raise ModelError(f"clause {clause.id}: unknown actors {absent}")
    for predicate in model.predicates.values():
        if predicate.answer not in model.intents:
            raise ModelError(f"predicate {predicate.id}: unknown intent {predicate.answer!r}")
    for language, titles in model.translated_titles.items():
        unknown = sorted(set(titles) - set(model.section_titles))
        if unknown:
            raise ModelError(f"section_titles.{language}: unknown sections {unknown}")
    for actor in model.actors.values():
        for ref in (actor.describe, actor.path, *actor.duties):
            if ref is not None and ref not in model.clauses:
                raise ModelError(f"actor {actor.id}: unknown clause {ref!r}")


@lru_cache(maxsize=1)
def guideline_model() -> GuidelineModel:
    doc = guidelines()
    if doc.doc_id != MAIN_DOC:
        raise ModelError("the model describes KI's guidelines")
    model_raw = yaml.safe_load(MODEL_FILE.read_text(encoding="utf-8"))
    questions_raw = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))
    return build(model_raw, questions_raw, doc)
