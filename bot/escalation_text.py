"""What ribot says while handing a conversation to a person, and how an escalation gets its category."""

from __future__ import annotations

import re
from typing import Any

MESSAGES: dict[str, str] = {
    "ask_note": (
        "I can pass this conversation to the network coordinator at the International Office, who will "
        "answer you here. In a few sentences, what do you need help with? Please leave out personal "
        "identity numbers and other personal details."
    ),
    "note_empty": "I need a few words about what you need help with before I pass this on. What is it about?",
    "note_too_long": (
        "That note is longer than {limit} characters. Please shorten it to the essentials; the coordinator "
        "also sees our conversation."
    ),
    "redacted": (
        "I removed personal details (identity numbers, e-mail addresses or phone numbers) from your note "
        "before saving it."
    ),
    "consent_known": (
        "May I share your name and e-mail address ({who}) with the coordinator, so they can contact you "
        "directly? Either way, their answer will come here."
    ),
    "consent_unknown": (
        "The coordinator's answer will come here in this chat. May I also share who you are, as far as this "
        "chat knows it, so they can contact you directly?"
    ),
    "consent_repeat": "Please answer yes or no, or cancel.",
    "sent": (
        "Done: I passed this to the network coordinator at the International Office. Your reference is "
        "{reference}. Their answer will appear in this conversation."
    ),
    "already_sent": (
        "This request was already passed on to the network coordinator; your reference is {reference}. "
        "Their answer will appear in this conversation."
    ),
    "identity_shared": "You agreed to share your name and e-mail address with them.",
    "cancelled": "Cancelled. Nothing was sent to the coordinator.",
    "nothing_open": "There is no request to a person open in this conversation.",
    "expired": "That request to a person is no longer open. Press the button to start a new one.",
    "unknown_action": "I did not recognise that button. Press the button below to ask for a person.",
    "offer_ungrounded": (
        "The guidelines do not settle this. Would you like me to pass your question to the network "
        "coordinator at the International Office?"
    ),
    "offer_ethics": (
        "You mentioned an ethical concern. The network coordinator can help and, where needed, bring the "
        "matter to the Committee for Ethics and Good Research Practice. Shall I pass this on?"
    ),
    "offer_security": (
        "You mentioned a security concern. The network coordinator can help and, where needed, bring the "
        "matter to KI's Security Forum. Shall I pass this on?"
    ),
}

_KEYWORDS: list[tuple[str, re.Pattern[str]]] = [
    ("animals", re.compile(r"\b(?:animal|djur|försöksdjur|mice|mouse|rats?|möss|råttor)", re.IGNORECASE)),
    (
        "security",
        re.compile(
            r"\b(?:security|säkerhet|export control|exportkontroll|dual[- ]use|espionage|spionage|sanction)",
            re.IGNORECASE,
        ),
    ),
    ("ethics", re.compile(r"\b(?:ethic|etik|etisk|human rights|mänskliga rättigheter)", re.IGNORECASE)),
    (
        "research",
        re.compile(
            r"\b(?:research|forskning|collaborat|samarbete|phd|doktorand|grant|project|mou|agreement|avtal)",
            re.IGNORECASE,
        ),
    ),
    (
        "education",
        re.compile(
            r"\b(?:course|programme|program|student|exchange|utbildning|kurs|utbyte|teaching)", re.IGNORECASE
        ),
    ),
]


def _from_triage(known: dict[str, Any]) -> str | None:
    if known.get("animals_abroad") == "yes":
        return "animals"
    if known.get("security_concern") == "yes":
        return "security"
    if known.get("ethical_concern") == "yes":
        return "ethics"
    area = known.get("area")
    if area in ("research", "doctoral_education"):
        return "research"
    if area in ("first_second_cycle_education", "student_mobility"):
        return "education"
    return None


def category_for(reason: str, known: dict[str, Any], note: str, transcript: list[dict[str, Any]]) -> str:
    """general, research, education, ethics, security or animals: triage's flags first, then the reason
    the offer was made, then the words of the note and of the user's messages."""
    found = _from_triage(known)
    if found in ("animals", "security", "ethics"):
        return found
    if reason in ("ethics", "security"):
        return reason
    if found:
        return found
    user_text = " ".join(str(m.get("text", "")) for m in transcript if m.get("role") == "user")
    for text in (note, user_text):
        for category, pattern in _KEYWORDS:
            if pattern.search(text):
                return category
    return "general"
