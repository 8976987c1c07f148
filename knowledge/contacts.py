"""The contacts users are routed to, from `data/contacts.yaml` (ids fixed by CONTRACT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.types import ContactRef

CONTACTS_FILE = Path(__file__).parent / "data" / "contacts.yaml"


@lru_cache(maxsize=1)
def _contacts() -> dict[str, ContactRef]:
    entries = yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8"))["contacts"]
    return {e["id"]: ContactRef(id=e["id"], name=e["name"], why=e["why"], url=e.get("url")) for e in entries}


def contact(contact_id: str, why: str | None = None) -> ContactRef:
    """The contact with this id; `why` replaces the default reason when the context gives a better one."""
    found = _contacts()[contact_id]
    return ContactRef(found.id, found.name, why or found.why, found.url)


@dataclass(frozen=True)
class RoutingRule:
    contact_id: str
    cited_in: frozenset[str]
    topics: tuple[str, ...]


@lru_cache(maxsize=1)
def routing_rules() -> tuple[RoutingRule, ...]:
    entries = yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8"))["contacts"]
    return tuple(
        RoutingRule(e["id"], frozenset(e.get("cited_in", [])), tuple(e.get("topics", []))) for e in entries
    )


def all_contacts() -> list[ContactRef]:
    return list(_contacts().values())


def contact_rank(contact_id: str) -> int:
    """Position in the order a user should try contacts (4.1 first, the Ethics Committee after its gatekeepers)."""
    return list(_contacts()).index(contact_id)
