"""Cleans what users type before the core reads it. Nothing a user writes is executed or echoed as markup;
this only decides what text retrieval sees and whether the input can be used at all."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUESTION_CHARS = 4000

_PLATFORM_MARKUP = re.compile(r"<[@#!][^>]*>")  # Slack mentions, channels, <!channel>, <!here>
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_TEAMS_AT = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_FORMATTING = re.compile(r"[*_`~>#|\[\]{}]+")


@dataclass(frozen=True)
class CleanText:
    text: str
    problem: str | None = None  # "empty" or "too_long"


def strip_controls(text: str) -> str:
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)


def clean_question(raw: str | None) -> CleanText:
    """The question as plain words; `problem` says why it cannot be answered as it stands."""
    text = strip_controls(raw or "")
    if len(text) > MAX_QUESTION_CHARS:
        return CleanText(text[:MAX_QUESTION_CHARS], "too_long")
    text = _TEAMS_AT.sub(" ", text)
    text = _PLATFORM_MARKUP.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _FORMATTING.sub(" ", text)
    text = " ".join(text.split())
    return CleanText(text, None if text.strip(" ?.!") else "empty")
