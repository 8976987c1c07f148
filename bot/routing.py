"""Which contacts an answer offers, in the order a user should try them."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.contacts import contact, contact_rank, routing_rules
from knowledge.glossary import glossary
from knowledge.text import fold, words
from knowledge.types import Citation, ContactRef

GATEKEEPERS = ("network_coordinator", "scientific_ombudsman")
# Quotes other than the first bring their section's contacts only when they match nearly as well.
SECONDARY_SHARE = 0.85
# A longer list stops being advice; the Ethics Committee always follows its gatekeepers, so a cut never
# leaves it without them.
MAX_CONTACTS = 4


def _mentions(question: str, expanded_words: list[str], topic: str) -> bool:
    """A phrase must stand in the question as written; a word may start a word of the question or of its
    glossary expansion."""
    if " " in topic:
        return topic in question
    return any(w.startswith(topic) for w in expanded_words)


def contacts_for_answer(question: str, language: str, cited: Sequence[Citation]) -> list[ContactRef]:
    """Contacts for an answer, best first: those the question names, then those the first quote's section
    brings, then those of other well-matching quotes; within each group in the order of contacts.yaml. The
    Ethics Committee is only ever listed with, and after, the two who can refer matters to it (4.3)."""
    top = cited[0].score if cited else 0.0
    first = {cited[0].section} if cited else set()
    others = {c.section for c in cited[1:] if c.score >= SECONDARY_SHARE * top}
    folded = fold(question)
    expanded = words(f"{folded} {glossary().expand(question, language).lower()}")
    groups: tuple[list[str], list[str], list[str]] = ([], [], [])
    for rule in routing_rules():
        if any(_mentions(folded, expanded, t) for t in rule.topics):
            groups[0].append(rule.contact_id)
        elif rule.cited_in & first:
            groups[1].append(rule.contact_id)
        elif rule.cited_in & others:
            groups[2].append(rule.contact_id)
    ordered = [c for group in groups for c in sorted(group, key=contact_rank)]
    if "ethics_committee" in ordered:
        committee = ordered.index("ethics_committee")
        ordered = [c for i, c in enumerate(ordered) if c not in GATEKEEPERS or i < committee]
        committee = ordered.index("ethics_committee")
        ordered[committee:committee] = [g for g in GATEKEEPERS if g not in ordered]
    return [contact(c) for c in ordered[:MAX_CONTACTS]]


def fallback_contacts() -> list[ContactRef]:
    """Where to turn when the guidelines do not answer: a person at the International Office."""
    return [
        contact(
            "network_coordinator",
            "The guidelines do not answer this; the network coordinator at the International Office can help "
            "or point you to the right person (4.1).",
        )
    ]
