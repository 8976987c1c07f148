"""Taking turns at SQLite's single write lock within one process.

Every SQLite transaction that may write takes the write lock up front (bot.store.base). When several threads
want it, SQLite's own busy wait polls with sleeps of up to 100 ms and lets late comers overtake, so a short
write can wait for seconds behind a stream of others. Queueing in the process instead hands the lock over in order,
with the writes someone is waiting on (`first_in_line`) ahead of background work. Transactions that only
read (`only_reading`) take no turn at all: in WAL mode a reader sees the last commit and waits for no writer."""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

_FIRST_IN_LINE: contextvars.ContextVar[bool] = contextvars.ContextVar("first_in_line", default=False)
_READING: contextvars.ContextVar[bool] = contextvars.ContextVar("reading", default=False)


@contextmanager
def _marked(flag: contextvars.ContextVar[bool]) -> Iterator[None]:
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


def first_in_line() -> AbstractContextManager[None]:
    """Transactions begun inside go before the others waiting for the lock in this process: for the short
    writes a client waits on (storing a delivery before it is acknowledged)."""
    return _marked(_FIRST_IN_LINE)


def is_first_in_line() -> bool:
    return _FIRST_IN_LINE.get()


def only_reading() -> AbstractContextManager[None]:
    """Transactions begun inside only read: they neither take a turn nor SQLite's write lock."""
    return _marked(_READING)


def is_only_reading() -> bool:
    return _READING.get()


class TakeTurns:
    """A lock handed over in the order it was asked for, urgent askers first; the holding thread may take it
    again (a second connection of that thread then waits on SQLite itself, as it would without this)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: list[tuple[int, int]] = []  # (0 urgent or 1, ticket): the smallest is served next
        self._tickets = itertools.count()
        self._holder: int | None = None
        self._depth = 0

    def acquire(self, urgent: bool = False) -> None:
        me = threading.get_ident()
        with self._changed:
            if self._holder == me:
                self._depth += 1
                return
            place = (0 if urgent else 1, next(self._tickets))
            heapq.heappush(self._waiting, place)
            self._changed.wait_for(lambda: self._holder is None and self._waiting[0] == place)
            heapq.heappop(self._waiting)
            self._holder, self._depth = me, 1

    def release(self) -> None:
        with self._changed:
            self._depth -= 1
            if self._depth <= 0:
                self._holder, self._depth = None, 0
                self._changed.notify_all()
