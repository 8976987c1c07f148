"""Kinds of request the guidelines never answer (`data/not_covered.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.text import fold

NOT_COVERED_FILE = Path(__file__).parent / "data" / "not_covered.yaml"


@dataclass(frozen=True)
class NotCovered:
    id: str
    reason: str
    patterns: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def not_covered_kinds() -> tuple[NotCovered, ...]:
    data = yaml.safe_load(NOT_COVERED_FILE.read_text(encoding="utf-8"))
    return tuple(
        NotCovered(k["id"], k["reason"], tuple(re.compile(p) for p in k["patterns"])) for k in data["kinds"]
    )


def not_covered(question: str) -> NotCovered | None:
    """The kind of uncovered request this question is, if it is one."""
    text = fold(question)
    return next((k for k in not_covered_kinds() if any(p.search(text) for p in k.patterns)), None)
