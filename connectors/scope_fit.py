"""Fits the answerer's scope cut-offs (bot.answering.Scope) on development sets: every in-scope question
should be answered and every out-of-scope request declined. Retrieval is run once per text and reused,
so the grid costs only the answering logic. `python -m connectors.scope_fit FILE...` prints the best
grid points."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.answering import Answerer, Scope
from bot.knowledge_base import KnowledgeBase
from knowledge.model import GuidelineModel
from knowledge.types import Passage, Retrieval

# Grid points this close to the best accuracy count as equally good; among them the one in the middle of
# the plateau is chosen (the median floor, then the median margin at that floor), the farthest from its
# edges on both sides: answering too little and answering too much.
TIE = 0.005


class Remembering:
    """A knowledge base that retrieves each text once."""

    def __init__(self, inner: KnowledgeBase) -> None:
        self.inner = inner
        self.model: GuidelineModel = inner.model
        self._found: dict[str, Retrieval] = {}

    def search_many(self, questions: list[str], k: int = 5) -> list[Retrieval]:
        missing = [q for q in dict.fromkeys(questions) if q not in self._found]
        if missing:
            self._found.update(zip(missing, self.inner.search_many(missing, k), strict=True))
        return [self._found[q] for q in questions]

    def passage(self, passage_id: str) -> Passage | None:
        return self.inner.passage(passage_id)


@dataclass(frozen=True)
class Point:
    scope: Scope
    answered: float  # share of in-scope questions answered
    declined: float  # share of out-of-scope requests declined

    @property
    def balanced(self) -> float:
        return (self.answered + self.declined) / 2


def questions_of(files: Sequence[Path]) -> tuple[list[str], list[str]]:
    inside: list[str] = []
    outside: list[str] = []
    for path in files:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        inside += [str(c["q"]) for c in data.get("questions") or []]
        outside += [str(c["q"]) for c in data.get("out_of_scope") or []]
    return inside, outside


def grid(kb: KnowledgeBase, inside: list[str], outside: list[str]) -> list[Point]:
    remembering = Remembering(kb)
    points = []
    for floor in np.arange(0.50, 0.80, 0.04):
        for margin in np.arange(-0.3, 0.65, 0.1):
            scope = Scope(round(float(floor), 2), round(float(margin), 2))
            answerer = Answerer(remembering, scope)
            answered = sum(a.grounded for a in answerer.ask_many(inside)) / max(len(inside), 1)
            declined = sum(not a.grounded for a in answerer.ask_many(outside)) / max(len(outside), 1)
            points.append(Point(scope, answered, declined))
    return points


def best(points: list[Point]) -> Point:
    top = max(p.balanced for p in points)
    tied = [p for p in points if p.balanced >= top - TIE]
    floors = sorted({p.scope.floor for p in tied})
    floor = floors[len(floors) // 2]
    at_floor = sorted((p for p in tied if p.scope.floor == floor), key=lambda p: p.scope.margin)
    return at_floor[len(at_floor) // 2]


def main(argv: list[str]) -> int:
    from bot.settings import get_settings
    from knowledge.index import open_retriever

    inside, outside = questions_of([Path(a) for a in argv])
    points = grid(open_retriever(get_settings()), inside, outside)  # type: ignore[arg-type]
    for p in sorted(points, key=lambda p: -p.balanced)[:10]:
        print(f"{p.scope}  answered {p.answered:.3f}  declined {p.declined:.3f}  balanced {p.balanced:.3f}")
    chosen = best(points)
    print(f"chosen: {chosen.scope} balanced {chosen.balanced:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
