"""The durable inbox: every delivery a platform hands ribot is stored here before it is acknowledged, and
answered from here.

A row is keyed by the delivery's idempotence key (a Slack message, a Teams activity id, a web message id),
so a resend finds the row that is already there instead of making a second one. A worker takes a row by
writing its name and a lease expiry into it; whoever finds a pending row whose lease has run out (the worker
died, or its process was killed) takes it over. Every later write of the holder names the holder in its
WHERE clause, so a worker that lost its lease cannot overwrite the one that took over (`LeaseLost`).

Answering a row goes: the replies become a plan of outgoing messages (stored), each message is posted and
counted (`sent`), and the row is marked done. `in_doubt` is set while a message is on its way: a row taken
over with it set may or may not have that message posted already, and the platform is asked first where it
can tell (see connectors.worker). The user's text is cleared from the row once it is done; the key stays
until `purge` so late resends are still recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.base import Base, Database, utcnow
from bot.store.events import event_key
from bot.store.outbox import add_messages
from bot.store.turns import first_in_line

PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_ERROR_CHARS = 2000


class InboxRow(Base):
    """One delivery from a platform (revision 0005_inbox)."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_due", "status", "not_before"),
        Index("ix_inbox_created_at", "created_at"),
    )

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    surface: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the turn and where its replies go
    plan: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # the outgoing messages, once known
    sent: Mapped[int] = mapped_column(Integer, default=0)  # how many of them are posted
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)  # message number `sent` was on its way
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    not_before: Mapped[datetime] = mapped_column(DateTime)  # a failed attempt waits until then
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LeaseLost(RuntimeError):
    """Another worker has taken this delivery over; this one must stop working on it."""


@dataclass(frozen=True)
class Held:
    """A delivery this worker holds the lease of."""

    key: str
    surface: str
    payload: dict[str, Any]
    plan: list[Any] | None
    sent: int
    in_doubt: bool
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Arrived:
    """A delivery to store: `hold` takes it for this worker at once."""

    key: str
    surface: str
    payload: dict[str, Any]
    hold: bool


@dataclass(frozen=True)
class Found:
    """Where a delivery stands, for a resend that meets it."""

    status: str
    plan: list[Any] | None
    sent: int
    held: bool  # some worker's lease on it is still running


def _found(session: Session, keys: set[str]) -> dict[str, Found]:
    if not keys:
        return {}
    now = utcnow()
    columns = (InboxRow.key, InboxRow.status, InboxRow.plan, InboxRow.sent, InboxRow.lease_until)
    query = select(*columns).where(InboxRow.key.in_(keys))
    return {
        key: Found(status, list(plan) if plan is not None else None, sent, lease is not None and lease > now)
        for key, status, plan, sent, lease in session.execute(query)
    }


def _held(row: InboxRow) -> Held:
    return Held(
        row.key,
        row.surface,
        dict(row.payload or {}),
        list(row.plan) if row.plan is not None else None,
        row.sent,
        row.in_doubt,
        row.attempts,
        row.created_at,
    )


class Inbox:
    """The inbox as seen by one worker, `owner`, which takes leases of `lease` length."""

    def __init__(self, db: Database, owner: str, lease: timedelta, max_attempts: int = 8) -> None:
        self.db = db
        self.owner = owner
        self.lease = lease
        self.max_attempts = max_attempts

    # ---- arriving ---------------------------------------------------------------------------------------

    def accept(self, key: str, surface: str, payload: dict[str, Any], hold: bool) -> Found | None:
        """Stores a delivery: None when it is new (with `hold`, this worker takes it at once), else where the
        stored one stands."""
        return self.accept_many([Arrived(key, surface, payload, hold)])[0]

    def accept_many(self, arrivals: list[Arrived]) -> list[Found | None]:
        """`accept` for several deliveries in one statement (they arrived together)."""
        now = utcnow()
        keys = [event_key(a.key) for a in arrivals]
        first: dict[str, Arrived] = {}
        for key, arrived in zip(keys, arrivals, strict=True):
            first.setdefault(key, arrived)
        rows = [self._row(key, arrived, now) for key, arrived in first.items()]
        table = InboxRow.__table__
        insert = self.db.insert_ignoring_duplicates(table)  # type: ignore[arg-type]
        # rows as parameters, not as VALUES in the statement: compiled once, not once per batch
        statement = insert.returning(table.c.key)
        with first_in_line(), self.db.session() as session, session.begin():
            new = set(session.scalars(statement, rows))
            stored = _found(session, set(keys) - new)
        results: list[Found | None] = []
        for key, arrived in zip(keys, arrivals, strict=True):
            if key in new and first[key] is arrived:
                results.append(None)
            elif key in new:  # a copy of one stored just now, in this very batch
                results.append(Found(PENDING, None, 0, first[key].hold))
            else:
                results.append(stored.get(key) or Found(DONE, None, 0, False))  # or purged meanwhile
        return results

    def _row(self, key: str, arrived: Arrived, now: datetime) -> dict[str, Any]:
        return {
            "key": key,
            "surface": arrived.surface,
            "status": PENDING,
            "payload": arrived.payload,
            "sent": 0,
            "in_doubt": False,
            "attempts": 1 if arrived.hold else 0,
            "owner": self.owner if arrived.hold else None,
            "lease_until": now + self.lease if arrived.hold else None,
            "not_before": now,
            "created_at": now,
            "updated_at": now,
        }

    def find(self, key: str) -> Found | None:
        key = event_key(key)
        with self.db.session() as session:
            return _found(session, {key}).get(key)

    # ---- taking work --------------------------------------------------------------------------------------

    def _free(self, now: datetime) -> Any:
        return (
            (InboxRow.status == PENDING)
            & (InboxRow.not_before <= now)
            & or_(InboxRow.lease_until.is_(None), InboxRow.lease_until < now)
        )

    def take(self, key: str) -> Held | None:
        """This one delivery, when no one else holds it and it is due."""
        return next(iter(self._take([event_key(key)])), None)

    def take_due(self, limit: int, surfaces: list[str]) -> list[Held]:
        """Up to `limit` due deliveries of these surfaces that no one holds, oldest first."""
        if limit <= 0 or not surfaces:
            return []
        return self._take(None, limit, surfaces)

    def _take(self, keys: list[str] | None, limit: int = 1, surfaces: list[str] | None = None) -> list[Held]:
        now = utcnow()
        with self.db.session() as session, session.begin():
            query = select(InboxRow.key).where(self._free(now))
            if keys is not None:
                query = query.where(InboxRow.key.in_(keys))
            if surfaces is not None:
                query = query.where(InboxRow.surface.in_(surfaces))
            query = query.order_by(InboxRow.created_at).limit(limit).with_for_update(skip_locked=True)
            found = list(session.scalars(query))
            if not found:
                return []
            session.execute(
                update(InboxRow)
                .where(InboxRow.key.in_(found), self._free(now))
                .values(
                    owner=self.owner,
                    lease_until=now + self.lease,
                    attempts=InboxRow.attempts + 1,
                    updated_at=now,
                )
            )
            rows = session.scalars(
                select(InboxRow).where(InboxRow.key.in_(found), InboxRow.owner == self.owner)
            )
            return sorted((_held(r) for r in rows), key=lambda h: h.created_at)

    def renew(self) -> int:
        """Extends the lease of every delivery this worker holds; how many it still holds."""
        now = utcnow()
        with self.db.session() as session, session.begin():
            result = session.execute(
                update(InboxRow)
                .where(InboxRow.owner == self.owner, InboxRow.status == PENDING)
                .values(lease_until=now + self.lease)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def release_all(self) -> int:
        """Lets go of every delivery this worker holds (shutting down): others may take them at once."""
        with self.db.session() as session, session.begin():
            result = session.execute(
                update(InboxRow)
                .where(InboxRow.owner == self.owner, InboxRow.status == PENDING)
                .values(owner=None, lease_until=None)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    # ---- answering (each write names the holder) ----------------------------------------------------------

    def _mine(self, session: Session, key: str, **values: Any) -> None:
        result = session.execute(
            update(InboxRow)
            .where(InboxRow.key == key, InboxRow.owner == self.owner, InboxRow.status == PENDING)
            .values(updated_at=utcnow(), **values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost(key)

    def _write(self, key: str, **values: Any) -> None:
        with self.db.session() as session, session.begin():
            self._mine(session, key, **values)

    def save_plan(self, key: str, plan: list[Any]) -> None:
        """The outgoing messages; the first of them is about to be posted."""
        self._write(key, plan=plan, sent=0, in_doubt=bool(plan))

    def posted(self, key: str, sent: int, more: bool) -> None:
        """`sent` messages are posted; with `more`, the next one is about to be."""
        self._write(key, sent=sent, in_doubt=more)

    def finish(self, key: str, sent: int, keep_plan: bool = False, plan: list[Any] | None = None) -> None:
        """Done: the user's text goes; the plan (`plan`, or the stored one) stays only for surfaces that hand
        it back on a resend."""
        now = utcnow()
        extra: dict[str, Any] = {"plan": plan if keep_plan else None}
        if keep_plan and plan is None:
            del extra["plan"]
        self._write(
            key, status=DONE, sent=sent, in_doubt=False, payload={}, done_at=now, lease_until=None, **extra
        )

    def post_to_outbox(
        self, key: str, index: int, platform: str, conversation_id: str, payloads: list[dict[str, Any]]
    ) -> list[int]:
        """Puts messages where a polling client finds them and counts them as posted, in one transaction:
        they appear exactly once however the worker stops."""
        with self.db.session() as session, session.begin():
            self._mine(session, key, sent=index + 1, in_doubt=False)
            return add_messages(session, platform, conversation_id, payloads)

    def retry_later(self, key: str, error: str, delay: timedelta, in_doubt: bool | None = None) -> bool:
        """A failed attempt: let go, to be tried again after `delay`. `in_doubt` False says the message on
        its way certainly did not get through; None leaves the mark as it was. False when the delivery
        has had its attempts and is given up (status failed)."""
        now = utcnow()
        with self.db.session() as session, session.begin():
            row = session.get(InboxRow, key)
            if row is None or row.owner != self.owner or row.status != PENDING:
                raise LeaseLost(key)
            give_up = row.attempts >= self.max_attempts
            self._mine(
                session,
                key,
                status=FAILED if give_up else PENDING,
                owner=None,
                lease_until=None,
                not_before=now + delay,
                in_doubt=row.in_doubt if in_doubt is None else in_doubt,
                error=error[:MAX_ERROR_CHARS],
                payload={} if give_up else row.payload,
            )
            return not give_up


def count_open(db: Database) -> int:
    """Deliveries not yet answered, by any worker."""
    with db.session() as session:
        return int(session.scalar(select(func.count()).where(InboxRow.status == PENDING)) or 0)


def purge_inbox(db: Database, before: datetime) -> int:
    """Forgets answered and given-up deliveries older than `before`; pending ones are kept."""
    with db.session() as session, session.begin():
        result = session.execute(
            delete(InboxRow).where(InboxRow.status != PENDING, InboxRow.created_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
