"""Fixed-window counters in the database, for rate limits shared by every process on one database when no
Redis is configured. One row per counter; an increment is a single INSERT … ON CONFLICT DO UPDATE, so two
processes counting at once never lose a hit. Times are seconds since the epoch (time.time())."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Float, Integer, String, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, Database

MAX_KEY = 255


class RateCounter(Base):
    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


def increment(db: Database, key: str, expiry: float, amount: int = 1) -> int:
    """Add `amount` to the counter and return its new value; a counter whose window has passed starts over
    with a window of `expiry` seconds from now."""
    now = time.time()
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    statement: Any = dialect.insert(RateCounter).values(key=key, count=amount, expires_at=now + expiry)
    expired = RateCounter.expires_at <= now
    statement = statement.on_conflict_do_update(
        index_elements=[RateCounter.key],
        set_={
            "count": case(
                (expired, statement.excluded.count), else_=RateCounter.count + statement.excluded.count
            ),
            "expires_at": case((expired, statement.excluded.expires_at), else_=RateCounter.expires_at),
        },
    ).returning(RateCounter.count)
    with db.session() as session, session.begin():
        return int(session.execute(statement).scalar_one())


def count(db: Database, key: str) -> int:
    """The counter's value in its current window (0 when there is none)."""
    query = select(RateCounter.count).where(RateCounter.key == key, RateCounter.expires_at > time.time())
    with db.session() as session:
        return int(session.scalar(query) or 0)


def expires_at(db: Database, key: str) -> float:
    """When the counter's window ends (now when there is none)."""
    now = time.time()
    query = select(RateCounter.expires_at).where(RateCounter.key == key, RateCounter.expires_at > now)
    with db.session() as session:
        return float(session.scalar(query) or now)


def clear(db: Database, key: str) -> None:
    with db.session() as session, session.begin():
        session.execute(delete(RateCounter).where(RateCounter.key == key))


def clear_all(db: Database) -> int:
    with db.session() as session, session.begin():
        total = int(session.scalar(select(func.count()).select_from(RateCounter)) or 0)
        session.execute(delete(RateCounter))
        return total


def purge_expired(db: Database) -> int:
    """Remove counters whose window has passed; how many."""
    with db.session() as session, session.begin():
        result = session.execute(delete(RateCounter).where(RateCounter.expires_at <= time.time()))
        return int(result.rowcount)  # type: ignore[attr-defined]
