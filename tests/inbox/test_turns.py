"""SQLite's write lock taken in turns within a process: in the order asked, urgent askers first."""

from __future__ import annotations

import threading
import time

from bot.store.turns import TakeTurns


def test_the_lock_goes_in_order_with_urgent_askers_first() -> None:
    turns = TakeTurns()
    turns.acquire()
    served: list[str] = []

    def ask(name: str, urgent: bool) -> None:
        turns.acquire(urgent)
        served.append(name)
        turns.release()

    threads = []
    for name, urgent in (("first", False), ("second", False), ("urgent", True), ("third", False)):
        thread = threading.Thread(target=ask, args=(name, urgent))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # each has asked before the next one does
    turns.release()
    for thread in threads:
        thread.join(5)
    assert served == ["urgent", "first", "second", "third"]


def test_the_holder_may_take_it_again() -> None:
    turns = TakeTurns()
    turns.acquire()
    turns.acquire()
    other = threading.Thread(target=lambda: (turns.acquire(), turns.release()))
    other.start()
    turns.release()
    other.join(0.2)
    assert other.is_alive()  # still held once
    turns.release()
    other.join(5)
    assert not other.is_alive()
