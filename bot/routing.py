"""Which contacts an answer offers, in the order a user should try them."""

from __future__ import annotations

from collections.abc import Iterable

from bot.types import ContactRef
from knowledge.contacts import contact, contact_rank, routing_rules
from knowledge.glossary import glossary
from knowledge.text import fold, words


def _mentions(question: str, language: str, topic: str) -> bool:
    text = " ".join([fold(question), glossary().expand(question, language).lower()])
    if " " in topic:
        return topic in text
    return any(w.startswith(topic) for w in words(text))


def contacts_for_answer(question: str, language: str, cited_sections: Iterable[str]) -> list[ContactRef]:
    """Contacts whose section the answer quotes or whose topic the question names, best first. The Ethics
    Committee is only ever listed with, and after, the two who can refer matters to it (4.3)."""
    cited = set(cited_sections)
    chosen = {
        rule.contact_id
        for rule in routing_rules()
        if rule.cited_in & cited or any(_mentions(question, language, t) for t in rule.topics)
    }
    if "ethics_committee" in chosen:
        chosen |= {"network_coordinator", "scientific_ombudsman"}
    return [contact(c) for c in sorted(chosen, key=contact_rank)]


def fallback_contacts() -> list[ContactRef]:
    """Where to turn when the guidelines do not answer: a person at the International Office."""
    return [
        contact(
            "network_coordinator",
            "The guidelines do not answer this; the network coordinator at the International Office can help "
            "or point you to the right person (4.1).",
        )
    ]
