"""Checks that quotes are the source document's own words.

The original text file carries page-layout artefacts: footnote texts dropped in the middle of sentences,
superscript footnote markers and link markup. A quote counts as verbatim when it appears in the text with
those removed, up to white space; a footnote's quote must appear among the footnote texts."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

ORIGINAL = (
    Path(__file__).parent / "data" / "original" / "ki-guidelines-responsible-internationalisation-2026.txt"
)
_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_FOOTNOTE_LINE = re.compile(rf"^\s*[{_SUPERSCRIPTS}]+\s*(.+)$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _squash(text: str) -> str:
    text = _LINK.sub(r"\1", text).replace("**", "").replace("\t", " ")
    text = "".join(ch for ch in text if ch not in _SUPERSCRIPTS)
    return " ".join(text.replace("’", "'").split())


@lru_cache(maxsize=4)
def source_parts(path: Path) -> tuple[str, tuple[str, ...]]:
    """The running text and the footnote texts of the original document, each squashed."""
    body: list[str] = []
    notes: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        note = _FOOTNOTE_LINE.match(line)
        if note:
            notes.append(_squash(note.group(1)))
        else:
            body.append(line)
    return _squash("\n".join(body)), tuple(notes)


def is_verbatim(quote: str, source: Path = ORIGINAL) -> bool:
    body, notes = source_parts(source)
    wanted = _squash(quote)
    return bool(wanted) and (wanted in body or any(wanted in n for n in notes))
