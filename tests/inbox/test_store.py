"""The durable inbox on SQLite and PostgreSQL: one row per delivery key, leases that exclude other workers
until they run out, writes fenced by the holder, and the progress of posting kept across a takeover."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.store.base import Database, utcnow
from bot.store.escalation_tables import OutboxMessage
from bot.store.inbox import (
    DONE,
    FAILED,
    PENDING,
    Arrived,
    Inbox,
    InboxRow,
    LeaseLost,
    count_open,
    purge_inbox,
)

LONG = timedelta(minutes=5)
SHORT = timedelta(milliseconds=300)


def payload(text: str = "Who do I contact about animal experiments abroad?") -> dict[str, object]:
    return {"turn": {"platform": "slack", "conversation_id": "T1:D1", "user_id": "U1", "text": text}}


def test_a_key_is_stored_once_and_a_resend_finds_it(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG)
    assert inbox.accept("slack:msg:T1:D1:1.1", "slack", payload(), True) is None
    again = inbox.accept("slack:msg:T1:D1:1.1", "slack", payload("changed"), False)
    assert again is not None and again.status == PENDING and again.held and again.plan is None
    assert inbox.find("slack:msg:T1:D1:1.1") == again
    with db.session() as session:
        row = session.get(InboxRow, "slack:msg:T1:D1:1.1")
        assert row is not None and row.payload["turn"]["text"].startswith("Who do I")
    assert inbox.find("slack:msg:T1:D1:9.9") is None


def test_deliveries_arriving_together_are_stored_in_one_go(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG)
    inbox.accept("k-old", "slack", payload(), False)
    batch = [
        Arrived("k-new", "slack", payload(), True),
        Arrived("k-old", "slack", payload(), False),  # a resend of one stored before
        Arrived("k-new", "slack", payload(), False),  # a copy of the first, in the same batch
        Arrived("k-other", "teams", payload(), False),
    ]
    first, old, copy, other = inbox.accept_many(batch)
    assert first is None and other is None
    assert old is not None and old.status == PENDING and not old.held
    assert copy is not None and copy.status == PENDING and copy.held
    assert sorted(h.key for h in Inbox(db, "worker-b", LONG).take_due(10, ["slack", "teams"])) == [
        "k-old",
        "k-other",
    ]


def test_a_very_long_key_is_hashed_and_still_matches(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG)
    key = "web:" + "x" * 400
    assert inbox.accept(key, "web", payload(), False) is None
    assert inbox.accept(key, "web", payload(), False) is not None
    assert inbox.find(key) is not None


def test_a_held_delivery_waits_for_its_lease_and_then_moves_to_another_worker(db: Database) -> None:
    first, second = Inbox(db, "worker-a", SHORT), Inbox(db, "worker-b", LONG)
    first.accept("k1", "slack", payload(), True)
    assert second.take("k1") is None and second.take_due(10, ["slack"]) == []
    time.sleep(SHORT.total_seconds() + 0.1)
    taken = second.take_due(10, ["slack"])
    assert [t.key for t in taken] == ["k1"] and taken[0].attempts == 2
    with pytest.raises(LeaseLost):
        first.save_plan("k1", [{"op": "post"}])  # the first worker woke up too late: it may not write
    second.save_plan("k1", [{"op": "post"}])
    second.finish("k1", 1)
    assert second.find("k1").status == DONE  # type: ignore[union-attr]


def test_renewing_keeps_the_lease(db: Database) -> None:
    holder, other = Inbox(db, "worker-a", SHORT), Inbox(db, "worker-b", LONG)
    holder.accept("k1", "teams", payload(), True)
    for _ in range(3):
        time.sleep(SHORT.total_seconds() / 2)
        assert holder.renew() == 1
        assert other.take("k1") is None


@pytest.mark.parametrize("workers", [6])
def test_concurrent_workers_take_each_delivery_once(db: Database, workers: int) -> None:
    producer = Inbox(db, "producer", LONG)
    for n in range(60):
        producer.accept(f"k{n:03d}", "web", payload(), False)
    taken: dict[str, list[str]] = {}
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def work(name: str) -> None:
        inbox = Inbox(db, name, LONG)
        start.wait()
        while True:
            batch = inbox.take_due(4, ["web"])
            if not batch:
                return
            with lock:
                for held in batch:
                    taken.setdefault(held.key, []).append(name)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == [f"k{n:03d}" for n in range(60)]
    assert all(len(owners) == 1 for owners in taken.values()), taken
    assert len({owner for owners in taken.values() for owner in owners}) > 1


def test_only_the_surfaces_a_worker_serves_are_taken(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG)
    inbox.accept("slack-1", "slack", payload(), False)
    inbox.accept("teams-1", "teams", payload(), False)
    assert [h.key for h in inbox.take_due(10, ["teams"])] == ["teams-1"]
    assert inbox.take_due(10, []) == []


def test_progress_survives_a_takeover_and_marks_the_message_in_doubt(db: Database) -> None:
    first, second = Inbox(db, "worker-a", SHORT), Inbox(db, "worker-b", LONG)
    first.accept("k1", "slack", payload(), True)
    plan = [{"op": "post", "n": 0}, {"op": "post", "n": 1}, {"op": "post", "n": 2}]
    first.save_plan("k1", plan)
    first.posted("k1", 1, True)  # message 0 is out, message 1 is on its way when the worker dies
    time.sleep(SHORT.total_seconds() + 0.1)
    (held,) = second.take_due(1, ["slack"])
    assert held.plan == plan and held.sent == 1 and held.in_doubt is True
    second.posted("k1", 2, True)
    second.finish("k1", 3)
    with db.session() as session:
        row = session.get(InboxRow, "k1")
        assert row is not None
        assert (row.status, row.sent, row.in_doubt, row.payload, row.plan) == (DONE, 3, False, {}, None)


def test_a_surface_that_answers_resends_keeps_its_plan(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG)
    inbox.accept("web:c:m1", "web", payload(), True)
    inbox.finish("web:c:m1", 0, True, [{"replies": [{"text": "hi"}]}])
    found = inbox.find("web:c:m1")
    assert found is not None and found.status == DONE and found.plan == [{"replies": [{"text": "hi"}]}]


def test_a_failed_attempt_waits_and_is_given_up_after_its_attempts(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG, max_attempts=2)
    inbox.accept("k1", "slack", payload(), True)
    inbox.save_plan("k1", [{"op": "post"}])
    assert inbox.retry_later("k1", "ratelimited", timedelta(seconds=30), None) is True
    assert inbox.take_due(10, ["slack"]) == []  # not due yet
    with db.session() as session, session.begin():
        row = session.get(InboxRow, "k1")
        assert row is not None and row.in_doubt is True and row.owner is None
        row.not_before = utcnow() - timedelta(seconds=1)
    (held,) = inbox.take_due(10, ["slack"])
    assert held.attempts == 2 and held.plan == [{"op": "post"}]
    assert inbox.retry_later("k1", "channel_not_found", timedelta(seconds=1), False) is False
    with db.session() as session:
        row = session.get(InboxRow, "k1")
        assert row is not None and row.status == FAILED and row.payload == {} and "channel" in str(row.error)
    assert count_open(db) == 0


def test_outbox_messages_and_their_count_are_written_together(db: Database) -> None:
    first, second = Inbox(db, "worker-a", SHORT), Inbox(db, "worker-b", LONG)
    first.accept("web:c:m1", "web", payload(), True)
    first.save_plan("web:c:m1", [{"replies": []}])
    time.sleep(SHORT.total_seconds() + 0.1)
    assert second.take("web:c:m1") is not None
    with pytest.raises(LeaseLost):
        first.post_to_outbox("web:c:m1", 0, "web", "c", [{"text": "from the worker that lost it"}])
    ids = second.post_to_outbox("web:c:m1", 0, "web", "c", [{"text": "one"}, {"text": "two"}])
    assert len(ids) == 2
    with db.session() as session:
        texts = [m.payload["text"] for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert texts == ["one", "two"]
        assert session.get(InboxRow, "web:c:m1").sent == 1  # type: ignore[union-attr]


def test_releasing_lets_others_take_at_once(db: Database) -> None:
    stopping, other = Inbox(db, "worker-a", LONG), Inbox(db, "worker-b", LONG)
    stopping.accept("k1", "slack", payload(), True)
    stopping.accept("k2", "slack", payload(), True)
    assert other.take_due(10, ["slack"]) == []
    assert stopping.release_all() == 2
    assert sorted(h.key for h in other.take_due(10, ["slack"])) == ["k1", "k2"]


def test_purge_forgets_old_answered_deliveries_and_keeps_pending_ones(db: Database) -> None:
    inbox = Inbox(db, "worker-a", LONG)
    inbox.accept("old-done", "slack", payload(), True)
    inbox.finish("old-done", 1)
    inbox.accept("old-pending", "slack", payload(), False)
    assert purge_inbox(db, utcnow() - timedelta(days=1)) == 0
    assert purge_inbox(db, utcnow() + timedelta(seconds=1)) == 1
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 1
    assert inbox.find("old-pending") is not None and inbox.find("old-done") is None
