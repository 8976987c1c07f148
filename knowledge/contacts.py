"""The contacts users are routed to, from `data/contacts.yaml` (ids fixed by CONTRACT.md), in English and
Swedish."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.types import ContactRef, Text

CONTACTS_FILE = Path(__file__).parent / "data" / "contacts.yaml"


@dataclass(frozen=True)
class Contact:
    id: str
    name: Text
    why: Text
    fallback: Text | None = None
    url: str | None = None


def _text(raw: dict[str, str]) -> Text:
    return Text(en=str(raw["en"]), sv=str(raw["sv"]))


@lru_cache(maxsize=1)
def _contacts() -> dict[str, Contact]:
    entries = yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8"))["contacts"]
    return {
        e["id"]: Contact(
            e["id"],
            _text(e["name"]),
            _text(e["why"]),
            _text(e["fallback"]) if "fallback" in e else None,
            e.get("url"),
        )
        for e in entries
    }


def contact(
    contact_id: str, why: str | None = None, language: str = "en", fallback: bool = False
) -> ContactRef:
    """The contact with this id in `language`; `why` replaces the default reason when the context gives a
    better one, `fallback` gives the reason used when the guidelines do not answer."""
    found = _contacts()[contact_id]
    reason = why or (found.fallback if fallback and found.fallback else found.why).get(language)
    return ContactRef(found.id, found.name.get(language), reason, found.url)


def all_contacts() -> list[ContactRef]:
    return [contact(c) for c in _contacts()]


def contact_rank(contact_id: str) -> int:
    """Position in the order a user should try contacts (4.1 first, the Ethics Committee after its gatekeepers)."""
    return list(_contacts()).index(contact_id)
