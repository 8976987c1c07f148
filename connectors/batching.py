"""Micro-batching of questions: concurrent `ask` calls are embedded and answered together.

One worker thread collects the questions that arrive within a few milliseconds of each other and hands
them to `Answerer.ask_many` in one call, so a burst of questions costs one embedding call (one forward pass
per batch of similar length) instead of one each. With more than one worker, one batch's Python work
(ranking, composing) can overlap the next batch's embedding, which runs outside the GIL; that helps on a
host where the encoder cannot have every core. Callers on any thread get a future; async code awaits it with
`asyncio.wrap_future`. Nothing submitted before `close()` is dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

from bot.followup import Context
from bot.types import Answer

log = logging.getLogger("ribot.batching")


class AnswererLike(Protocol):
    def ask(self, question: str, context: Context | None = None) -> Answer: ...

    def ask_many(
        self, questions: list[str], contexts: Sequence[Context | None] | None = None
    ) -> list[Answer]: ...


BatchObserver = Callable[[int, float], None]  # (batch size, seconds spent answering)


@dataclass
class _Job:
    question: str
    context: Context | None = None
    future: Future[Answer] = field(default_factory=Future)


class BatchClosedError(RuntimeError):
    """Raised by `submit` after `close()`."""


class BatchingAnswerer:
    """Wraps an Answerer; `ask` and `ask_many` keep their meaning and are safe from any thread."""

    def __init__(
        self,
        answerer: AnswererLike,
        *,
        window_ms: float = 2.0,
        max_batch: int = 64,
        workers: int = 1,
        observer: BatchObserver | None = None,
    ) -> None:
        if max_batch < 1 or workers < 1:
            raise ValueError("max_batch and workers must be at least 1")
        self._answerer = answerer
        self._window = max(window_ms, 0.0) / 1000.0
        self._max_batch = max_batch
        self._observer = observer
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"ribot-batcher-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def inner(self) -> AnswererLike:
        return self._answerer

    def submit(self, question: str, context: Context | None = None) -> Future[Answer]:
        job = _Job(question, context)
        with self._lock:
            if self._closed:
                raise BatchClosedError("the answering queue is closed")
            self._queue.put(job)
        return job.future

    def ask(self, question: str, context: Context | None = None) -> Answer:
        return self.submit(question, context).result()

    def ask_many(
        self, questions: list[str], contexts: Sequence[Context | None] | None = None
    ) -> list[Answer]:
        futures = [
            self.submit(q, c) for q, c in zip(questions, contexts or [None] * len(questions), strict=True)
        ]
        return [f.result() for f in futures]

    def situation(self, text: str) -> dict[str, str]:
        """The slots a message states (one message, not batched: the triage reads it once)."""
        reader = getattr(self._answerer, "situation", None)
        return dict(reader(text)) if reader is not None else {}

    def close(self, timeout: float | None = None) -> None:
        """Stop taking questions, answer the ones already queued, then stop the worker."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)  # one stop mark per worker, queued behind every question
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch, stopping = self._collect(first)
            self._answer(batch)

    def _collect(self, first: _Job) -> tuple[list[_Job], bool]:
        batch = [first]
        deadline = time.monotonic() + self._window
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
        return batch, False

    def _answer(self, batch: Sequence[_Job]) -> None:
        live = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not live:
            return
        started = time.perf_counter()
        try:
            answers = self._answerer.ask_many([job.question for job in live], [job.context for job in live])
            if len(answers) != len(live):
                raise RuntimeError(f"ask_many returned {len(answers)} answers for {len(live)} questions")
        except Exception:
            log.exception("batch of %d failed; answering one by one", len(live))
            self._answer_singly(live)
        else:
            for job, answer in zip(live, answers, strict=True):
                job.future.set_result(answer)
        if self._observer is not None:
            try:
                self._observer(len(live), time.perf_counter() - started)
            except Exception:
                log.exception("batch observer failed")

    def _answer_singly(self, jobs: Sequence[_Job]) -> None:
        for job in jobs:
            try:
                job.future.set_result(self._answerer.ask(job.question, job.context))
            except Exception as exc:
                job.future.set_exception(exc)
