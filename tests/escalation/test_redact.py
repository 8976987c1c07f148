"""Redaction of personal data on real-format numbers, alone and inside running text."""

from __future__ import annotations

import pytest

from bot.redact import EMAIL_LABEL, PERSONNUMMER_LABEL, PHONE_LABEL, redact, redact_with_report


def _luhn_ok(ten_digits: str) -> bool:
    total = 0
    for i, ch in enumerate(ten_digits):
        value = int(ch) * (2 - i % 2)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# Every number below has a valid check digit, as a real personnummer or samordningsnummer does.
PERSONNUMMER = [
    "19121212-1212",  # Skatteverket's published example, with century and hyphen
    "191212121212",  # with century, no separator
    "121212-1212",  # without century
    "1212121212",  # without century or separator
    "121212+1212",  # plus: the holder is 100 or older
    "19811218-9876",
    "811218-9876",
    "20030405-6781",
    "0304056781",  # born 2003, bare: starts with 0 like a mobile number
    "19701063-2391",  # samordningsnummer: day 03 + 60
    "701063-2391",
    "811218 9876",  # a space instead of a hyphen
    "811218\u20139876",  # an en dash pasted from a word processor
]

EMAILS = ["anna.svensson@ki.se", "Erik.Berg+ri@stud.ki.se", "first_last@example.co.uk", "x@y.museum"]

PHONES = [
    "08-524 800 00",  # KI's switchboard, domestic
    "08 524 800 00",
    "(08) 524 800 00",
    "+46 8 524 800 00",
    "+46 (0)8 524 800 00",
    "0046 8 524 800 00",
    "070-123 45 67",
    "070 123 45 67",
    "0701234567",
    "+46701234567",
    "+46 70-123 45 67",
    "+1 (555) 010-4477",
    "+44 20 7946 0958",
    "+49 30 1234567",
    "+86 10 6552 9988",
]


def test_the_example_numbers_are_real_format() -> None:
    for number in PERSONNUMMER:
        digits = "".join(ch for ch in number if ch.isdigit())
        assert len(digits) in (10, 12)
        assert _luhn_ok(digits[-10:]), number


@pytest.mark.parametrize("number", PERSONNUMMER)
def test_personnummer_alone_and_in_text(number: str) -> None:
    assert redact(number) == PERSONNUMMER_LABEL
    text = f"Hej! Mitt personnummer är {number}, kan ni kolla mitt ärende?"
    out = redact_with_report(text)
    assert out.text == f"Hej! Mitt personnummer är {PERSONNUMMER_LABEL}, kan ni kolla mitt ärende?"
    assert out.kinds == ("personnummer",)
    assert number not in out.text


@pytest.mark.parametrize("address", EMAILS)
def test_email_alone_and_in_text(address: str) -> None:
    assert redact(address) == EMAIL_LABEL
    assert redact(f"Write to <{address}> please.") == f"Write to <{EMAIL_LABEL}> please."


@pytest.mark.parametrize("number", PHONES)
def test_phone_alone_and_in_text(number: str) -> None:
    assert redact(number) == PHONE_LABEL
    assert redact(f"Call me on {number} tomorrow.") == f"Call me on {PHONE_LABEL} tomorrow."


def test_everything_in_one_message() -> None:
    text = (
        "I'm Anna, 19811218-9876, anna.svensson@ki.se, mobile 070-123 45 67; my colleague in Shanghai is "
        "on +86 10 6552 9988. Is a MoU with them covered by section 4.1?"
    )
    out = redact_with_report(text)
    assert out.text == (
        f"I'm Anna, {PERSONNUMMER_LABEL}, {EMAIL_LABEL}, mobile {PHONE_LABEL}; my colleague in Shanghai is "
        f"on {PHONE_LABEL}. Is a MoU with them covered by section 4.1?"
    )
    assert set(out.kinds) == {"personnummer", "email", "phone"}


def test_a_number_next_to_a_phone_number_keeps_its_own_digits() -> None:
    assert redact("ring 070 123 45 67 2024") == f"ring {PHONE_LABEL} 2024"


@pytest.mark.parametrize(
    "text",
    [
        "What does section 4.4 say about animal experiments?",
        "The decision 1-576/2024 was taken on 2024-06-12.",
        "We collaborated 2020-2024 with 12 partners, budget 250 000 SEK.",
        "Version 3.14.5 of the tool, page 12 of 40.",
        "Ref. VR 2023-01234",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    out = redact_with_report(text)
    assert out.text == text
    assert not out.changed


def test_invalid_dates_are_not_taken_for_identity_numbers() -> None:
    # month 13 and day 00 cannot be a birth date; the digits are kept (they are no phone number either)
    assert redact("code 811318-9876") == "code 811318-9876"
    assert redact("code 811200-9876") == "code 811200-9876"


def test_huge_input_is_handled() -> None:
    text = ("lorem 19121212-1212 ipsum " * 20000) + "a@b.se"
    out = redact(text)
    assert "19121212-1212" not in out
    assert out.endswith(EMAIL_LABEL)


# The forms a red-team run found stored in clear text, and their look-alikes.
OBFUSCATED = [
    ("pnr19900101-1234", f"pnr{PERSONNUMMER_LABEL}"),
    ("19900101/1234", PERSONNUMMER_LABEL),
    ("１９９００１０１－１２３４", PERSONNUMMER_LABEL),  # full-width digits and hyphen
    ("８１１２１８-９８７６", PERSONNUMMER_LABEL),
    ("19900101\u22121234", PERSONNUMMER_LABEL),  # a minus sign
    ("070.123.45.67", PHONE_LABEL),
    ("０７０－１２３ ４５ ６７", PHONE_LABEL),
    ("phone+46701234567", f"phone{PHONE_LABEL}"),
    ("tel:+46701234567", f"tel:{PHONE_LABEL}"),
    ("anna(at)ki.se", EMAIL_LABEL),
    ("anna [at] ki [dot] se", EMAIL_LABEL),
    ("ＡＮＮＡ＠ＫＩ．ＳＥ", EMAIL_LABEL),
]


@pytest.mark.parametrize(("text", "expected"), OBFUSCATED)
def test_obfuscated_and_full_width_forms_are_removed(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(f"Hej, {text} tack.") == f"Hej, {expected} tack."


def test_text_around_a_normalised_match_keeps_the_characters_typed() -> None:
    text = "Ｈｅｊ! Mitt nr är １９９００１０１－１２３４, ﬁne?"
    assert redact(text) == f"Ｈｅｊ! Mitt nr är {PERSONNUMMER_LABEL}, ﬁne?"


@pytest.mark.parametrize("text", ["We met at ki.se", "due 01.02.2024", "see 1-576/2024", "room 2.07"])
def test_look_alikes_that_are_not_personal_data_stay(text: str) -> None:
    assert redact(text) == text
