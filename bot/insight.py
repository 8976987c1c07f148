"""What the coordinator learns from the conversations: questions ribot could not answer from the
guidelines, escalations per category and week, and the users' feedback on answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.store.base import Database, utcnow
from bot.store.escalation_tables import CATEGORIES, Escalation
from bot.store.models import Conversation, Message

SCAN_ANSWERS = 5000  # most recent answers examined for the unanswered list


@dataclass(frozen=True)
class Unanswered:
    question: str
    asked_at: datetime
    platform: str


@dataclass(frozen=True)
class Insight:
    weeks: list[str]  # ISO weeks, oldest first ("2026-W47")
    per_week: dict[str, dict[str, int]]  # week -> category -> escalations
    unanswered: list[Unanswered]  # newest first
    feedback: dict[str, int]  # "up" / "down" -> answers rated so, in the period
    since: datetime

    @property
    def categories(self) -> tuple[str, ...]:
        return CATEGORIES

    def week_total(self, week: str) -> int:
        return sum(self.per_week[week].values())

    @property
    def total(self) -> int:
        return sum(self.week_total(week) for week in self.weeks)

    def category_total(self, category: str) -> int:
        return sum(counts[category] for counts in self.per_week.values())


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks(now: datetime, count: int) -> tuple[list[str], datetime]:
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = monday - timedelta(weeks=count - 1)
    return [week_of(start + timedelta(weeks=i)) for i in range(count)], start


def _escalations(db: Database, weeks: list[str], since: datetime) -> dict[str, dict[str, int]]:
    per_week = {week: dict.fromkeys(CATEGORIES, 0) for week in weeks}
    query = select(Escalation.created_at, Escalation.category).where(Escalation.created_at >= since)
    with db.session() as session:
        for created_at, category in session.execute(query):
            week = week_of(created_at)
            if week in per_week and category in per_week[week]:
                per_week[week][category] += 1
    return per_week


def _unanswered(db: Database, since: datetime, limit: int) -> list[Unanswered]:
    answers = (
        select(Message)
        .where(Message.role == "bot", Message.kind == "answer", Message.created_at >= since)
        .order_by(Message.id.desc())
        .limit(SCAN_ANSWERS)
    )
    found: list[Unanswered] = []
    with db.session() as session:
        for answer in session.scalars(answers):
            if (answer.data or {}).get("grounded") is not False:
                continue
            asked = session.execute(
                select(Message.text, Message.created_at, Conversation.platform)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Message.conversation_id == answer.conversation_id,
                    Message.role == "user",
                    Message.id < answer.id,
                )
                .order_by(Message.id.desc())
                .limit(1)
            ).first()
            if asked is not None:
                found.append(Unanswered(asked.text, asked.created_at, asked.platform))
            if len(found) >= limit:
                break
    return found


def _feedback(db: Database, since: datetime) -> dict[str, int]:
    counts = {}
    with db.session() as session:
        for vote in ("up", "down"):
            query = select(func.count(func.distinct(Message.text))).where(
                Message.role == "user",
                Message.kind == "action",
                Message.text.like(f"feedback:{vote}:%"),
                Message.created_at >= since,
            )
            counts[vote] = int(session.scalar(query) or 0)
    return counts


def gather(db: Database, weeks: int = 12, unanswered: int = 50, now: datetime | None = None) -> Insight:
    labels, since = _weeks(now or utcnow(), weeks)
    return Insight(
        weeks=labels,
        per_week=_escalations(db, labels, since),
        unanswered=_unanswered(db, since, unanswered),
        feedback=_feedback(db, since),
        since=since,
    )
