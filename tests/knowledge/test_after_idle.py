"""How the encoder chooses the session for a pass that starts after a pause (knowledge/embedding.py)."""

from __future__ import annotations

from knowledge.embedding import EXPLORE, _AfterIdle


def test_each_session_is_measured_before_the_cheaper_one_is_chosen() -> None:
    choice = _AfterIdle(2, window=4, first=2)
    picks = []
    for cost in (3.0, 3.0, 1.0, 1.0):
        picks.append(choice.pick())
        choice.record(picks[-1], cost)
    assert picks == [0, 0, 1, 1]
    later = [choice.pick() for _ in range(5, 5 + 2 * EXPLORE)]
    assert later == [0 if n % EXPLORE == 0 else 1 for n in range(5, 5 + 2 * EXPLORE)]


def test_a_session_that_grows_slower_gives_way() -> None:
    choice = _AfterIdle(2, window=4, first=2)
    for session, cost in ((0, 3.0), (0, 3.0), (1, 1.0), (1, 1.0)):
        choice.record(session, cost)
    for _ in range(3):
        choice.record(1, 5.0)  # the window keeps the last four: 1, 5, 5, 5
    assert choice.pick() == 0


def test_with_one_session_every_pass_runs_on_it() -> None:
    choice = _AfterIdle(1, first=1)
    choice.record(0, 1.0)
    assert {choice.pick() for _ in range(3 * EXPLORE)} == {0}
