"""The outcome of an assessment: CONTRACT's `done` object, built from the flow's rules for the known slots.
ribot states who is responsible, who is told and who decides; it never approves or rejects anything."""

from __future__ import annotations

from typing import Any

from knowledge.triage_flow import Flow, Rule, matches
from knowledge.types import Citation


class IncompleteTriage(ValueError):
    """No routing rule applies yet: a slot the rules need is still unknown."""


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _contacts(flow: Flow, rules: list[Rule], language: str) -> list[dict[str, Any]]:
    from knowledge.contacts import contact, contact_rank

    why: dict[str, str | None] = {}
    for rule in rules:
        for entry in rule.contacts:
            if entry.id not in why or entry.why is not None:
                why[entry.id] = entry.why.get(language) if entry.why else why.get(entry.id)
    ordered = sorted(why, key=contact_rank)
    return [contact(cid, why[cid], language).to_json() for cid in ordered]


def _citations(citations: list[Citation]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], Citation] = {}
    for c in citations:
        seen.setdefault((c.section, c.quote), c)
    return [c.to_json() for c in seen.values()]


def build_outcome(flow: Flow, known: dict[str, str], language: str = "en") -> dict[str, Any]:
    route = flow.route(known)
    if route is None:
        raise IncompleteTriage(f"no routing rule applies to {known}")
    rules = [route, *(r for r in flow.additions if matches(r.when, known))]
    statement_ids = _unique([s for r in rules for s in r.statements])
    statements = [flow.statements[s] for s in statement_ids]
    cited = [c for s in statements for c in s.citations] + list(flow.risk_citations)
    return {
        "responsible": route.responsible,
        "report_to": route.report_to,
        "decides": route.decides or next((r.decides for r in rules if r.decides), None),
        "ultimate_responsibility": route.ultimate,
        "raise_with": _unique([role for r in rules for role in r.raise_with]),
        "contacts": _contacts(flow, rules, language),
        "risk_areas": [a.id for a in flow.risk_areas],
        "risk_checklist": [
            {"id": a.id, "title": a.title.get(language), "prompt": a.prompt.get(language)}
            for a in flow.risk_areas
        ],
        "statements": [
            {"id": s.id, "text": s.text.get(language), "sections": _unique([c.section for c in s.citations])}
            for s in statements
        ],
        "citations": _citations(cited),
        "rule": route.id,
        "slots": {slot: known[slot] for slot in flow.slots if slot in known},
        "language": language,
    }
