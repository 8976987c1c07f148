"""SQLite's write lock taken in turns within a process: in the order asked, urgent askers first; readers take
no turn."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from bot.store import migrate, open_database
from bot.store.conversations import ConversationStore
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


def test_a_reader_waits_for_no_writer_and_sees_the_last_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ribot.sqlite3'}"
    migrate(url)
    db = open_database(url)
    store = ConversationStore(db, timedelta(hours=1))
    try:
        with store.open("web", "c1", "u1") as convo:
            convo.save("offered", "sv", {})
        writing = threading.Event()
        done = threading.Event()

        def write() -> None:
            with store.open("web", "c1", "u1") as convo:  # holds the write lock until `done`
                convo.save("triage", "en", {})
                convo.session.flush()
                writing.set()
                done.wait(5)

        writer = threading.Thread(target=write)
        writer.start()
        assert writing.wait(5)
        started = time.monotonic()
        seen = store.peek("web", "c1", "u1")
        assert time.monotonic() - started < 1.0
        assert seen is not None and (seen.mode, seen.language) == ("offered", "sv")
        done.set()
        writer.join(5)
        seen = store.peek("web", "c1", "u1")
        assert seen is not None and seen.mode == "triage"
    finally:
        db.dispose()
