"""The structured copy of the guidelines is complete and faithful to the original."""

from __future__ import annotations

import pytest

from knowledge.corpus import guidelines
from knowledge.verbatim import ORIGINAL, is_verbatim

SECTIONS = {
    "1": "Introduction",
    "2": "Purpose",
    "3": "Principles for responsible internationalisation",
    "3.1": "Risk assessment",
    "3.2": "Division of responsibilities",
    "4": "Support in connection with risk assessments",
    "4.1": "The departments and the professional services",
    "4.2": "Scientific ombudsman",
    "4.3": "Committee for Ethics and Good Research Practice",
    "4.4": "KI's Animal Welfare Body",
    "4.5": "KI's security forum",
}


def test_every_section_has_its_contract_id_and_original_title() -> None:
    doc = guidelines()
    for section, title in SECTIONS.items():
        assert doc.sections[section].title == title
        assert title in ORIGINAL.read_text(encoding="utf-8")
    assert {f"fn{n}" for n in range(1, 7)} <= set(doc.sections)
    assert "meta" in doc.sections


def test_every_passage_is_verbatim_and_the_check_can_fail() -> None:
    passages = guidelines().passages()
    assert len(passages) >= 35
    assert all(is_verbatim(p.text) for p in passages), [p.id for p in passages if not is_verbatim(p.text)]
    assert not is_verbatim("The head of department approves every collaboration.")
    assert not is_verbatim("")


def test_original_text_is_covered_paragraph_by_paragraph() -> None:
    """Every sentence of the original body appears in some passage: nothing was dropped."""
    body = " ".join(p.text for p in guidelines().passages())
    for sentence in [
        "It is KI's shared responsibility to maintain and deepen these collaborations in a responsible manner.",
        "Each manager is responsible for ensuring that a risk assessment is carried out within their own area "
        "of responsibility.",
        "KI's security forum is intended to serve as an advisory and coordinating body for KI's overall "
        "security work.",
        "The network's coordinator may, if necessary, escalate issues to the Committee for Ethics and Good "
        "Research Practice.",
    ]:
        assert sentence in body


@pytest.mark.parametrize(
    ("section", "footnote"),
    [("1", "fn1"), ("2", "fn2"), ("2", "fn3"), ("3", "fn4"), ("3.2", "fn5"), ("3.2", "fn6")],
)
def test_footnotes_are_linked_from_the_sentences_that_cite_them(section: str, footnote: str) -> None:
    linked = [p for p in guidelines().passages() if p.section == section and footnote in p.footnotes]
    assert len(linked) == 1


def test_layout_artefacts_are_repaired() -> None:
    passages = {p.id: p.text for p in guidelines().passages()}
    risk = next(t for t in passages.values() if t.startswith("A risk assessment of potential risks"))
    assert "published on the staff portal's pages on responsible internationalisation, is regularly" in risk
    for text in passages.values():
        assert "**" not in text and "](#)" not in text and "....." not in text
        assert not any(ch in text for ch in "¹²³⁴⁵⁶")


def test_document_data() -> None:
    meta = guidelines().meta
    assert meta["dnr"] == "1-1181/2025"
    assert str(meta["decision_date"]) == "2026-05-26"
    assert str(meta["valid_from"]) == "2026-05-26"
    assert "Rektor" in meta["decided_by"] and "President" in meta["decided_by"]
    assert "International Office" in meta["responsible_office"]
    assert meta["title"] == "Guidelines for responsible internationalisation"
