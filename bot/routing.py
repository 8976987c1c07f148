"""Which contacts an answer offers, in the order a user should try them."""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.contacts import contact
from knowledge.types import ContactRef

GATEKEEPERS = ("network_coordinator", "scientific_ombudsman")
# A longer list stops being advice; the Ethics Committee always follows its gatekeepers, so a cut never
# leaves it without them.
MAX_CONTACTS = 4


def order_contacts(
    ids: Iterable[str], language: str, exclude: str | None = None, fallback: bool = False
) -> list[ContactRef]:
    """The contacts in the order given (the order the statements name them), each once, never the asker's
    own; the Ethics Committee only after, and with, the contacts that reach it (4.3)."""
    ordered = [c for c in dict.fromkeys(ids) if c != exclude]
    limit = MAX_CONTACTS
    if "ethics_committee" in ordered:
        ordered.remove("ethics_committee")
        for gatekeeper in GATEKEEPERS:
            if gatekeeper not in ordered and gatekeeper != exclude:
                ordered.append(gatekeeper)
        last = max(ordered.index(g) for g in GATEKEEPERS if g in ordered)
        ordered.insert(last + 1, "ethics_committee")
        limit = max(MAX_CONTACTS, last + 2)
    return [contact(c, language=language, fallback=fallback) for c in ordered[:limit]]
