"""The micro-batching answerer: answers reach the right caller, batches form, nothing is lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.types import Answer
from connectors.batching import BatchClosedError, BatchingAnswerer


class Echo:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    def ask(self, question: str, context: object = None) -> Answer:
        if question == "poison":
            raise ValueError("cannot answer poison")
        return Answer(answer=question.upper(), grounded=True, citations=(), contacts=())

    def ask_many(self, questions: list[str], contexts: object = None) -> list[Answer]:
        self.batches.append(list(questions))
        self.entered.set()
        self.hold.wait(10)
        return [self.ask(q) for q in questions]


def test_questions_waiting_behind_a_busy_batch_are_answered_together() -> None:
    echo = Echo()
    echo.hold.clear()
    batcher = BatchingAnswerer(echo, window_ms=0, max_batch=100)
    first = batcher.submit("first")
    assert echo.entered.wait(5)
    waiting = [batcher.submit(f"q{n}") for n in range(40)]
    echo.hold.set()
    assert first.result(5).answer == "FIRST"
    assert [f.result(5).answer for f in waiting] == [f"Q{n}" for n in range(40)]
    assert echo.batches == [["first"], [f"q{n}" for n in range(40)]]
    batcher.close()


def test_batches_never_exceed_the_maximum() -> None:
    echo = Echo()
    echo.hold.clear()
    batcher = BatchingAnswerer(echo, window_ms=0, max_batch=8)
    first = batcher.submit("first")
    assert echo.entered.wait(5)
    waiting = [batcher.submit(f"q{n}") for n in range(20)]
    echo.hold.set()
    first.result(5)
    [f.result(5) for f in waiting]
    assert [len(b) for b in echo.batches] == [1, 8, 8, 4]
    batcher.close()


def test_many_threads_each_get_their_own_answers() -> None:
    batcher = BatchingAnswerer(Echo(), window_ms=1, max_batch=16)

    def worker(n: int) -> list[str]:
        return [batcher.ask(f"t{n}-{i}").answer for i in range(50)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(worker, range(8)))
    assert results == [[f"T{n}-{i}" for i in range(50)] for n in range(8)]
    assert [a.answer for a in batcher.ask_many(["x", "y"])] == ["X", "Y"]
    batcher.close()


def test_two_workers_lose_nothing_and_stop_together() -> None:
    batcher = BatchingAnswerer(Echo(), window_ms=1, max_batch=8, workers=2)

    def worker(n: int) -> list[str]:
        return [batcher.ask(f"w{n}-{i}").answer for i in range(40)]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(worker, range(6)))
    assert results == [[f"W{n}-{i}" for i in range(40)] for n in range(6)]
    queued = [batcher.submit(f"late{n}") for n in range(30)]
    batcher.close(timeout=10)
    assert [f.result(0).answer for f in queued] == [f"LATE{n}" for n in range(30)]


def test_a_failing_question_fails_alone() -> None:
    batcher = BatchingAnswerer(Echo(), window_ms=50, max_batch=16)
    good, bad, other = batcher.submit("good"), batcher.submit("poison"), batcher.submit("other")
    assert good.result(5).answer == "GOOD"
    assert other.result(5).answer == "OTHER"
    with pytest.raises(ValueError, match="poison"):
        bad.result(5)
    batcher.close()


def test_close_answers_what_was_queued_then_refuses() -> None:
    echo = Echo()
    echo.hold.clear()
    batcher = BatchingAnswerer(echo, window_ms=0, max_batch=4)
    futures = [batcher.submit(f"q{n}") for n in range(10)]
    assert echo.entered.wait(5)
    closer = threading.Thread(target=batcher.close)
    closer.start()
    echo.hold.set()
    closer.join(10)
    assert [f.result(0).answer for f in futures] == [f"Q{n}" for n in range(10)]
    with pytest.raises(BatchClosedError):
        batcher.submit("late")


def test_a_cancelled_caller_is_skipped() -> None:
    echo = Echo()
    echo.hold.clear()
    batcher = BatchingAnswerer(echo, window_ms=0, max_batch=16)
    first = batcher.submit("first")
    assert echo.entered.wait(5)
    gone, kept = batcher.submit("gone"), batcher.submit("kept")
    assert gone.cancel()
    echo.hold.set()
    assert first.result(5).answer == "FIRST" and kept.result(5).answer == "KEPT"
    assert echo.batches[1] == ["kept"]
    batcher.close()
