"""Which contacts an answer offers, in the order a user should try them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.types import Citation, ContactRef
from knowledge.contacts import contact, contact_rank, routing_rules
from knowledge.glossary import glossary
from knowledge.text import fold, words

GATEKEEPERS = ("network_coordinator", "scientific_ombudsman")
# Quotes other than the first bring their section's contacts only when they match nearly as well.
SECONDARY_SHARE = 0.85


def _mentions(question: str, language: str, topic: str) -> bool:
    text = " ".join([fold(question), glossary().expand(question, language).lower()])
    if " " in topic:
        return topic in text
    return any(w.startswith(topic) for w in words(text))


def contacts_for_answer(question: str, language: str, cited: Sequence[Citation]) -> list[ContactRef]:
    """Contacts for an answer, best first: those the question names or the first quote's section brings,
    then those of other well-matching quotes. The Ethics Committee is only ever listed with, and after, the
    two who can refer matters to it (4.3)."""
    top = cited[0].score if cited else 0.0
    first = {cited[0].section} if cited else set()
    others = {c.section for c in cited[1:] if c.score >= SECONDARY_SHARE * top}
    primary: set[str] = set()
    secondary: set[str] = set()
    for rule in routing_rules():
        if rule.cited_in & first or any(_mentions(question, language, t) for t in rule.topics):
            primary.add(rule.contact_id)
        elif rule.cited_in & others:
            secondary.add(rule.contact_id)
    ordered = [*sorted(primary, key=contact_rank), *sorted(secondary - primary, key=contact_rank)]
    if "ethics_committee" in ordered:
        ordered.remove("ethics_committee")
        ordered = [c for c in ordered if c not in GATEKEEPERS]
        at = 0 if "ethics_committee" in primary else len(ordered)
        ordered[at:at] = [*GATEKEEPERS, "ethics_committee"]
    return [contact(c) for c in ordered]


def fallback_contacts() -> list[ContactRef]:
    """Where to turn when the guidelines do not answer: a person at the International Office."""
    return [
        contact(
            "network_coordinator",
            "The guidelines do not answer this; the network coordinator at the International Office can help "
            "or point you to the right person (4.1).",
        )
    ]
