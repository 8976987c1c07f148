"""The outcome of an assessment: CONTRACT's `done` object, read from the model of the guidelines for the
known slots. Who carries out, who is told and who decides are the roles the model's clauses give for this
situation; the statements are those clauses said plainly, each citing its sentence verbatim. ribot states
who is responsible, who is told and who decides; it never approves or rejects anything."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.routing import order_contacts
from bot.selection import Fit, fit
from knowledge.model import Clause, GuidelineModel, guideline_model
from knowledge.triage_flow import Flow, Ref, matches
from knowledge.types import Citation


class IncompleteTriage(ValueError):
    """A slot the outcome needs is still unknown."""


def _clauses(ref: Ref, known: dict[str, str], model: GuidelineModel) -> list[Clause]:
    """The clauses whose scope the known slots meet exactly: an outcome states nothing conditional."""
    if not matches(ref.when, known):
        return []
    if ref.intent is not None:
        refs = model.intents[ref.intent].refs
        return [r.clause for r in refs if fit(r.scope, r.excluded, known) is Fit.EXACT]
    clause = model.clauses[str(ref.clause)]
    return [clause] if fit(clause.scope, clause.excluded, known) is Fit.EXACT else []


def _role(ref: Ref, known: dict[str, str], model: GuidelineModel) -> str | None:
    for clause in _clauses(ref, known, model):
        for kind in ref.roles:
            if kind in clause.roles:
                return clause.roles[kind]
    return None


def _rule(flow: Flow, known: dict[str, str], model: GuidelineModel) -> str | None:
    """The clause that says who is responsible in this situation."""
    ref = flow.outcome.roles["responsible"]
    return next((c.id for c in _clauses(ref, known, model) if set(ref.roles) & set(c.roles)), None)


def _statement_clauses(flow: Flow, known: dict[str, str], model: GuidelineModel) -> list[Clause]:
    found = [c for ref in flow.outcome.statements for c in _clauses(ref, known, model)]
    for slot, concern in flow.concerns.items():
        if known.get(slot) == "yes":
            found += [model.clauses[cid] for cid in concern.clauses]
    return list({c.id: c for c in found}.values())


def _citations(
    flow: Flow, clauses: list[Clause], model: GuidelineModel, language: str
) -> list[dict[str, Any]]:
    """Each clause's sentence verbatim, the footnotes its passage points to, then the risk areas (3.1)."""
    footnotes = {c.section: c for c in model.clauses.values() if c.section.startswith("fn")}
    cited: dict[tuple[str, str], Citation] = {}
    for clause in clauses:
        cited.setdefault((clause.section, clause.quote), Citation(clause.section, "", clause.quote, 1.0))
        for note in clause.footnotes:
            cited.setdefault((note, footnotes[note].quote), Citation(note, "", footnotes[note].quote, 1.0))
    for citation in flow.risk_citations:
        cited.setdefault((citation.section, citation.quote), citation)
    return [replace(c, title=model.title(c.section, language)).to_json() for c in cited.values()]


def _contacts(
    flow: Flow, clauses: list[Clause], known: dict[str, str], language: str
) -> list[dict[str, Any]]:
    rules = [r for r in flow.outcome.contacts if matches(r.when, known)]
    ids = [r.id for r in rules] + [cid for c in clauses for cid in c.contacts]
    why = {r.id: r.why.get(language) for r in rules if r.why}
    out = []
    for ref in order_contacts(ids, language):
        data = ref.to_json()
        data["why"] = why.get(ref.id, data["why"])
        out.append(data)
    return out


def build_outcome(flow: Flow, known: dict[str, str], language: str = "en") -> dict[str, Any]:
    open_slots = [q.slot for q in flow.questions if q.slot not in known and matches(q.when, known)]
    if "area" not in known or open_slots:
        raise IncompleteTriage(f"still unknown: {open_slots or ['area']}")
    model = guideline_model()
    roles = {key: _role(ref, known, model) for key, ref in flow.outcome.roles.items()}
    clauses = _statement_clauses(flow, known, model)
    return {
        **roles,
        "raise_with": list(
            dict.fromkeys(role for when, role in flow.outcome.raise_with if matches(when, known))
        ),
        "contacts": _contacts(flow, clauses, known, language),
        "risk_areas": [a.id for a in flow.risk_areas],
        "risk_checklist": [
            {"id": a.id, "title": a.title.get(language), "prompt": a.prompt.get(language)}
            for a in flow.risk_areas
        ],
        "statements": [{"id": c.id, "text": c.lead.get(language), "sections": [c.section]} for c in clauses],
        "citations": _citations(flow, clauses, model, language),
        "rule": _rule(flow, known, model) or (clauses[0].id if clauses else None),
        "slots": {slot: known[slot] for slot in flow.slots if slot in known},
        "language": language,
    }
