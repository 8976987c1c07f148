"""Removal of personal data that users type into messages, applied before any text is stored.

Covers Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer),
e-mail addresses (also written `name(at)ki.se`) and phone numbers (Swedish domestic and +46 forms, and
international numbers written with a country code). The patterns lean towards removing too much: a lost
digit string costs less than a stored identity number.

Matching runs on the NFKC form of each character, so full-width digits (`１９９０…`), full-width `＠` and
similar look-alikes are caught; everything outside a removed span keeps the characters the user typed.
Check digits come from python-stdnum (Luhn) and phone numbers are also found by Google's libphonenumber
(`phonenumbers`), which knows each country's numbering plan.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn

PERSONNUMMER_LABEL = "[personnummer removed]"
EMAIL_LABEL = "[e-mail removed]"
PHONE_LABEL = "[phone number removed]"
LABELS = {"email": EMAIL_LABEL, "personnummer": PERSONNUMMER_LABEL, "phone": PHONE_LABEL}

# Day 61-91 marks a samordningsnummer (birth day + 60).
_DAY = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2212"
# A letter may stand right before the number ("pnr19900101-1234"); a digit or a joiner may not.
_PERSONNUMMER = re.compile(
    rf"(?<![\d_+{_DASHES}/.])(?P<century>1[89]|20)?(?P<yy>\d{{2}}){_MONTH}{_DAY}"
    rf"(?P<sep>[ \u00a0]?[+/{_DASHES}][ \u00a0]?|[ \u00a0])?(?P<tail>\d{{4}})(?![\w{_DASHES}/])"
)
_AT = r"(?:@|\s?[(\[{<]\s?at\s?[)\]}>]\s?)"
_DOT = r"(?:\.|\s?[(\[{<]\s?dot\s?[)\]}>]\s?)"
_EMAIL = re.compile(
    rf"(?<![\w.+%-])[\w.+%-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,}}(?![\w-])", re.IGNORECASE
)
_SEP = rf"[ \u00a0.{_DASHES}]"
_INTERNATIONAL = re.compile(
    rf"(?<![\w+])(?:\+|00)[1-9]\d{{0,2}}{_SEP}?(?:\(0\){_SEP}?)?\(?\d{{1,4}}\)?(?:{_SEP}?\d{{1,4}}){{1,6}}(?![\w])"
)
_AREA_SEP = rf"[ \u00a0/{_DASHES}]"
_DOMESTIC = re.compile(
    rf"(?<![\w+.])\(?0[1-9]\d{{0,2}}\)?{_AREA_SEP}?\d{{2,4}}(?:{_SEP}?\d{{2,4}}){{0,3}}(?![\w])"
)
_DIGIT_GROUP = re.compile(r"\d+")
PHONE_REGION = "SE"  # numbers written without a country code are read as Swedish


@dataclass(frozen=True)
class Redaction:
    text: str
    kinds: tuple[str, ...]  # which kinds were removed: "personnummer", "email", "phone"

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


def _normalised(text: str) -> tuple[str, list[int]]:
    """The NFKC form of each character, and for each character of it the index it came from."""
    if text.isascii():
        return text, list(range(len(text)))
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        form = unicodedata.normalize("NFKC", char) if not char.isascii() else char
        parts.append(form)
        origin.extend([index] * len(form))
    return "".join(parts), origin


def _personnummer_spans(text: str) -> Iterator[_Span]:
    for match in _PERSONNUMMER.finditer(text):
        bare = match.group("sep") is None and match.group("century") is None
        digits = re.sub(r"\D", "", match.group(0))[-10:]
        # A bare ten-digit run starting with 0 is more often a phone number (070...); the phone rules take
        # it unless it checks out as an identity number.
        if bare and digits.startswith("0") and not luhn.is_valid(digits):
            continue
        yield _Span(match.start(), match.end(), "personnummer")


def _count_digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phone_end(text: str, low: int, high: int, skip: int = 0) -> int | None:
    """Where the longest leading run of digit groups with a phone number's length ends; a run that swallowed
    a following number (a year, a count) leaves that tail out."""
    for group in reversed(list(_DIGIT_GROUP.finditer(text))):
        if low <= _count_digits(text[: group.end()]) - skip <= high:
            return group.end()
    return None


def _pattern_phone_spans(text: str) -> Iterator[_Span]:
    for match in _INTERNATIONAL.finditer(text):
        found = match.group(0)
        end = _phone_end(found, 7, 15, skip=2 if found.startswith("00") else 0)
        if end is not None:
            yield _Span(match.start(), match.start() + end, "phone")
    for match in _DOMESTIC.finditer(text):
        end = _phone_end(match.group(0), 7, 10)
        if end is not None:
            yield _Span(match.start(), match.start() + end, "phone")


def _library_phone_spans(text: str) -> Iterator[_Span]:
    if _count_digits(text) < 7:
        return
    for match in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION, leniency=phonenumbers.Leniency.VALID):
        yield _Span(match.start, match.end, "phone")


def _overlaps(kept: list[_Span], span: _Span) -> bool:
    """Whether `span` overlaps one of `kept` (sorted by start, none overlapping each other)."""
    at = bisect.bisect_left(kept, span.start, key=lambda k: k.start)
    before = kept[at - 1] if at > 0 else None
    after = kept[at] if at < len(kept) else None
    return bool((before and before.end > span.start) or (after and after.start < span.end))


def _spans(text: str) -> list[_Span]:
    """Every span to remove, earlier kinds first: an e-mail address is never read as a phone number."""
    kept: list[_Span] = []
    detectors = (
        (_Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)),
        _personnummer_spans(text),
        _pattern_phone_spans(text),
        _library_phone_spans(text),
    )
    for detector in detectors:
        for span in detector:
            if not _overlaps(kept, span):
                bisect.insort(kept, span, key=lambda k: k.start)
    return kept


def redact_with_report(text: str) -> Redaction:
    """The text with personal data replaced by labels, and which kinds were found."""
    normal, origin = _normalised(text)
    spans = _spans(normal)
    if not spans:
        return Redaction(text, ())
    out: list[str] = []
    position = 0
    for span in spans:
        start, end = origin[span.start], origin[span.end - 1] + 1
        out.append(text[position:start])
        out.append(LABELS[span.kind])
        position = end
    out.append(text[position:])
    kinds = tuple(dict.fromkeys(kind for kind in LABELS if any(s.kind == kind for s in spans)))
    return Redaction("".join(out), kinds)


def redact(text: str) -> str:
    """The text with personal identity numbers, e-mail addresses and phone numbers removed."""
    return redact_with_report(text).text
