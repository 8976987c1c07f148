"""Fits the scope cut-offs on the labelled examples alone: each example is scored against all the others
(leave-one-out), as an unseen question would be, and the floor and margin that best separate the in-scope
examples from the out-of-scope ones are reported with their balanced accuracy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.intent_index import IntentIndex


@dataclass(frozen=True)
class Held:
    label: str
    best_in: float  # best score of an in-scope intent
    best_out: float  # best score of a kind the guidelines do not answer
    top: str  # the label scoring best

    @property
    def inside(self) -> bool:
        return not self.label.startswith("out:") and self.label != "handover"


def leave_one_out(index: IntentIndex) -> list[Held]:
    out = []
    outside = np.array([n.startswith("out:") for n in index.names])
    inside = ~outside & np.array([n != "handover" for n in index.names])
    for i, label in enumerate(index.labels):
        sims = index.similarities(
            index.vectors[i : i + 1], [index.texts[i]] if index.texts else (), leave_out=i
        )
        row = index.label_scores(sims)[0]
        top = index.names[int(np.argmax(row))]
        out.append(Held(label, float(row[inside].max()), float(row[outside].max()), top))
    return out


def balanced_accuracy(held: list[Held], floor: float, margin: float) -> float:
    def accepted(h: Held) -> bool:
        return h.best_in >= floor and h.best_in - h.best_out >= margin

    ins = [h for h in held if h.inside]
    outs = [h for h in held if h.label.startswith("out:")]
    return (sum(accepted(h) for h in ins) / len(ins) + sum(not accepted(h) for h in outs) / len(outs)) / 2


# Grid points this close to the best accuracy count as equally good; among them the highest floor wins,
# since a floor is what keeps a message close to nothing at all (gibberish) from being answered.
TIE = 0.005


def fit(held: list[Held]) -> tuple[float, float, float]:
    """(floor, margin, balanced accuracy) at the best grid point."""
    grid = [
        (round(float(f), 2), round(float(m), 2), balanced_accuracy(held, f, m))
        for f in np.arange(0.30, 0.90, 0.02)
        for m in np.arange(-0.10, 0.20, 0.01)
    ]
    best = max(g[2] for g in grid)
    return max((g for g in grid if g[2] >= best - TIE), key=lambda g: (g[0], g[2]))
