"""Removal of personal data that users type into messages, applied before any text is stored.

Covers Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer),
e-mail addresses and phone numbers (Swedish domestic and +46 forms, and international numbers written with
a country code). The patterns lean towards removing too much: a lost digit string costs less than a
stored identity number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERSONNUMMER_LABEL = "[personnummer removed]"
EMAIL_LABEL = "[e-mail removed]"
PHONE_LABEL = "[phone number removed]"

# Day 61-91 marks a samordningsnummer (birth day + 60).
_DAY = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"
_PERSONNUMMER = re.compile(
    rf"(?<![\w+\-/.])(?P<century>1[89]|20)?(?P<yy>\d{{2}}){_MONTH}{_DAY}"
    r"(?P<sep>[ \u00a0]?[-+\u2010\u2011\u2013][ \u00a0]?|[ \u00a0])?(?P<tail>\d{4})(?![\w\-/])"
)
_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_SEP = r"[ \u00a0.\-\u2010\u2011\u2013]"
_INTERNATIONAL = re.compile(
    rf"(?<![\w+])(?:\+|00)[1-9]\d{{0,2}}{_SEP}?(?:\(0\){_SEP}?)?\(?\d{{1,4}}\)?(?:{_SEP}?\d{{1,4}}){{1,6}}(?![\w])"
)
_AREA_SEP = r"[ \u00a0/\-\u2010\u2011\u2013]"
_DOMESTIC = re.compile(
    rf"(?<![\w+])\(?0[1-9]\d{{0,2}}\)?{_AREA_SEP}?\d{{2,4}}(?:{_SEP}?\d{{2,4}}){{0,3}}(?![\w])"
)


@dataclass(frozen=True)
class Redaction:
    text: str
    kinds: tuple[str, ...]  # which kinds were removed: "personnummer", "email", "phone"

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        value = int(ch) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _personnummer(match: re.Match[str]) -> str:
    bare = match.group("sep") is None and match.group("century") is None
    digits = re.sub(r"\D", "", match.group(0))[-10:]
    # A bare ten-digit run starting with 0 is more often a phone number (070...); the phone rule takes it
    # unless it checks out as an identity number.
    if bare and digits.startswith("0") and not _luhn_ok(digits):
        return match.group(0)
    return PERSONNUMMER_LABEL


def _count_digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _longest_number(text: str, low: int, high: int, skip: int = 0) -> str:
    """Label the longest leading run of digit groups that has a phone number's length; a run that
    swallowed a following number (a year, a count) keeps that tail."""
    for group in reversed(list(re.finditer(r"\d+", text))):
        head = text[: group.end()]
        if low <= _count_digits(head) - skip <= high:
            return PHONE_LABEL + text[group.end() :]
    return text


def _international(match: re.Match[str]) -> str:
    text = match.group(0)
    return _longest_number(text, 7, 15, skip=2 if text.startswith("00") else 0)


def _domestic(match: re.Match[str]) -> str:
    return _longest_number(match.group(0), 7, 10)


def redact_with_report(text: str) -> Redaction:
    """The text with personal data replaced by labels, and which kinds were found."""
    kinds: list[str] = []
    out = _EMAIL.sub(EMAIL_LABEL, text)
    if out != text:
        kinds.append("email")
    step = _PERSONNUMMER.sub(_personnummer, out)
    if step != out:
        kinds.append("personnummer")
    out = step
    step = _INTERNATIONAL.sub(_international, out)
    step = _DOMESTIC.sub(_domestic, step)
    if step != out:
        kinds.append("phone")
    return Redaction(step, tuple(kinds))


def redact(text: str) -> str:
    """The text with personal identity numbers, e-mail addresses and phone numbers removed."""
    return redact_with_report(text).text
