"""Escalation statuses and their audit log, coordinator accounts and sessions, the outbox, purge and export,
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.outbound import DeliveryError, OutboundRegistry, WebInbox
from bot.privacy import export_user, purge
from bot.redact import EMAIL_LABEL, PHONE_LABEL
from bot.review import Actor, ReviewDesk, announce_pending
from bot.store import coordinators
from bot.store.base import Database, utcnow
from bot.store.escalation_tables import Escalation
from bot.store.escalations import (
    NewEscalation,
    QueueFilter,
    TransitionError,
    create_escalation,
    get_escalation,
    list_escalations,
)
from bot.store.outbox import Outbox
from bot.types import Reply


def _new(key: str, conversation: str = "c-1", category: str = "general", **extra: Any) -> NewEscalation:
    ref = {"platform": "web", "conversation_id": conversation}
    return NewEscalation(key, "web", conversation, f"web:{conversation}", ref, category=category, **extra)


def test_creation_is_idempotent_by_key(db: Database) -> None:
    first, created = create_escalation(db, _new("k-1", note="first"), "user:a")
    again, created_again = create_escalation(db, _new("k-1", note="second"), "user:a")
    assert created and not created_again
    assert again.id == first.id and again.note == "first"
    assert len(list_escalations(db)) == 1
    with pytest.raises(ValueError):
        create_escalation(db, _new("k-2", category="weather"), "user:a")


def test_statuses_and_audit_log(db: Database) -> None:
    anna = coordinators.add_account(db, "anna@ki.se", "Anna", "a long enough password")
    bo = coordinators.add_account(db, "bo@ki.se", "Bo", "another long password")
    esc, _ = create_escalation(db, _new("k-1"), "user:web:x")
    desk = ReviewDesk(db, OutboundRegistry())
    as_anna = Actor("coordinator:anna@ki.se", anna.id)

    assert desk.claim(esc.id, as_anna).status == "claimed"
    assigned = desk.assign(esc.id, bo.id, as_anna)
    assert assigned.assignee_name == "Bo"
    forwarded = desk.forward(esc.id, "ethics_committee", as_anna, "needs an advisory opinion")
    assert forwarded.status == "forwarded" and forwarded.forwarded_to == "ethics_committee"
    with pytest.raises(TransitionError):
        desk.forward(esc.id, "the_press", as_anna)
    noted = desk.note(esc.id, "Called the user.", as_anna)
    assert noted.status == "forwarded"
    resolved = desk.resolve(esc.id, as_anna, "done")
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    with pytest.raises(TransitionError):
        desk.claim(esc.id, as_anna)
    with pytest.raises(TransitionError):
        desk.note(esc.id, "   ", as_anna)
    reopened = desk.reopen(esc.id, as_anna)
    assert reopened.status == "open"

    log = get_escalation(db, esc.id)
    assert log is not None
    assert [(e.kind, e.from_status, e.to_status) for e in log.events] == [
        ("created", None, "open"),
        ("claim", "open", "claimed"),
        ("assign", "claimed", "claimed"),
        ("forward", "claimed", "forwarded"),
        ("note", "forwarded", "forwarded"),
        ("resolve", "forwarded", "resolved"),
        ("reopen", "resolved", "open"),
    ]
    assert {e.actor for e in log.events[1:]} == {"coordinator:anna@ki.se"}
    assert log.events[4].detail["text"] == "Called the user."
    with pytest.raises(TransitionError):
        desk.assign(esc.id, 99999, as_anna)
    with pytest.raises(LookupError):
        desk.claim(424242, as_anna)


def test_reply_reaches_the_web_inbox_and_failures_are_logged(db: Database) -> None:
    registry = OutboundRegistry()
    inbox = WebInbox(Outbox(db))
    registry.register("web", inbox)
    esc, _ = create_escalation(db, _new("k-1", conversation="conv-abc"), "user:web:x")
    desk = ReviewDesk(db, registry)
    actor = Actor("coordinator:anna@ki.se")

    answered = asyncio.run(desk.reply(esc.id, "Hello <b>there</b>", actor))
    assert answered.status == "answered"
    waiting = inbox.pending("conv-abc")
    assert len(waiting) == 1 and waiting[0]["reply"]["data"]["message"] == "Hello <b>there</b>"
    assert inbox.pending("conv-abc", after=waiting[0]["id"]) == []
    assert inbox.pending("another") == []

    other, _ = create_escalation(db, NewEscalation("k-2", "slack", "C1:1.2", "U1", {}), "user:slack:U1")
    with pytest.raises(DeliveryError):
        asyncio.run(desk.reply(other.id, "Hi", actor))
    after = get_escalation(db, other.id)
    assert after is not None and after.status == "open"
    assert after.events[-1].kind == "delivery_failed" and "slack" in after.events[-1].detail["error"]
    with pytest.raises(TransitionError):
        asyncio.run(desk.reply(esc.id, "", actor))


def test_coordinator_texts_are_stored_without_personal_data(db: Database) -> None:
    registry = OutboundRegistry()
    inbox = WebInbox(Outbox(db))
    registry.register("web", inbox)
    esc, _ = create_escalation(db, _new("k-1", conversation="conv-pd"), "user:web:x")
    desk = ReviewDesk(db, registry)
    actor = Actor("coordinator:anna@ki.se")
    secrets = ["19900101-1234", "anna(at)ki.se", "０７０－１２３ ４５ ６７", "phone+46701234567"]

    desk.note(esc.id, f"User gave pnr{secrets[0]} and {secrets[1]}", actor)
    asyncio.run(desk.reply(esc.id, f"Call me on {secrets[2]} or {secrets[3]}", actor))
    asyncio.run(desk.reply(esc.id, f"Or mail {secrets[1]}", actor))
    desk.forward(esc.id, "ethics_committee", actor, f"Her number: {secrets[2]}")
    desk.resolve(esc.id, actor, f"Closed; {secrets[0]}")
    other, _ = create_escalation(db, NewEscalation("k-2", "slack", "C1:1.2", "U1", {}), "user:slack:U1")
    with pytest.raises(DeliveryError):
        asyncio.run(desk.reply(other.id, f"Mail {secrets[1]}", actor))

    # the audit log keeps the coordinator's words without the numbers
    events = get_escalation(db, esc.id)
    assert events is not None
    texts = [e.detail["text"] for e in events.events if "text" in e.detail]
    assert len(texts) == 5 and all("removed]" in text for text in texts), texts
    assert not any(secret in _stored(db, "escalation_events", "detail") for secret in _digits(secrets))

    # the user receives them as written, and they are kept so until the page says it has them ...
    waiting, later = inbox.pending("conv-pd")
    assert secrets[2] in waiting["reply"]["data"]["message"] and secrets[3] in waiting["reply"]["text"]
    assert secrets[2] in inbox.pending("conv-pd")[0]["reply"]["data"]["message"]  # a lost response, again
    # ... then only without them; the next one still arrives as written
    assert inbox.pending("conv-pd", after=waiting["id"]) == [later]
    assert secrets[1] in later["reply"]["data"]["message"]
    assert all(secret not in _stored(db, "outbox_messages", "payload") for secret in _digits(secrets[2:]))
    assert secrets[1] in _stored(db, "outbox_messages", "payload")
    assert inbox.pending("conv-pd", after=later["id"]) == []
    outbox = _stored(db, "outbox_messages", "payload")
    assert PHONE_LABEL in outbox and EMAIL_LABEL in outbox
    assert not any(secret in outbox for secret in _digits(secrets))


def _stored(db: Database, table: str, column: str) -> str:
    """A JSON column's values as stored, read back as text with every character as it is (no escapes)."""
    import json

    import sqlalchemy as sa

    with db.session() as session:
        values = session.execute(sa.text(f"SELECT {column} FROM {table}")).scalars()
        return " ".join(
            json.dumps(json.loads(v) if isinstance(v, str) else v, ensure_ascii=False) for v in values
        )


def _digits(secrets: list[str]) -> list[str]:
    """Each secret and its last four characters, which would give a number away on their own."""
    return [part for secret in secrets for part in (secret, secret[-4:])]


def test_announcements_are_retried_until_every_hook_succeeds(db: Database) -> None:
    registry = OutboundRegistry()
    seen: list[str] = []
    failing = [True]

    async def hook(notice: Any) -> None:
        if failing[0]:
            raise RuntimeError("channel unavailable")
        seen.append(notice.reference)

    registry.on_announce(hook)
    esc, _ = create_escalation(db, _new("k-1", note="<!channel> help"), "user:x")
    assert asyncio.run(announce_pending(db, registry, "https://ribot.example.org")) == 0
    failing[0] = False
    assert asyncio.run(announce_pending(db, registry, "https://ribot.example.org")) == 1
    assert asyncio.run(announce_pending(db, registry, "https://ribot.example.org")) == 0
    assert seen == [esc.reference]


def test_queue_filters(db: Database) -> None:
    a, _ = create_escalation(db, _new("k-1", category="ethics"), "u")
    b, _ = create_escalation(db, _new("k-2", category="animals"), "u")
    with db.session() as session, session.begin():
        row = session.get(Escalation, a.id)
        assert row is not None
        row.created_at = utcnow() - timedelta(days=10)
    ReviewDesk(db, OutboundRegistry()).resolve(b.id, Actor("cli"))
    ids = lambda f: [e.id for e in list_escalations(db, f)]  # noqa: E731
    assert ids(QueueFilter()) == [b.id, a.id]
    assert ids(QueueFilter(statuses=("open",))) == [a.id]
    assert ids(QueueFilter(category="animals")) == [b.id]
    assert ids(QueueFilter(older_than=utcnow() - timedelta(days=7))) == [a.id]
    assert ids(QueueFilter(newer_than=utcnow() - timedelta(days=1))) == [b.id]


def test_accounts_hash_passwords_and_sessions_expire(db: Database) -> None:
    account = coordinators.add_account(db, " Anna@KI.se ", "Anna", "correct horse battery")
    assert account.email == "anna@ki.se"
    from bot.store.escalation_tables import Coordinator

    with db.session() as session:
        stored = session.get(Coordinator, account.id)
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$") and "correct horse" not in stored.password_hash
    assert coordinators.authenticate(db, "ANNA@ki.se", "correct horse battery") is not None
    assert coordinators.authenticate(db, "anna@ki.se", "wrong") is None
    assert coordinators.authenticate(db, "nobody@ki.se", "correct horse battery") is None

    live = coordinators.start_session(db, account.id)
    found = coordinators.find_session(db, live.token)
    assert found is not None and found.csrf_token == live.csrf_token and found.account.is_coordinator
    assert coordinators.find_session(db, live.token + "x") is None
    expired = coordinators.start_session(db, account.id, lifetime=timedelta(seconds=-1))
    assert coordinators.find_session(db, expired.token) is None
    coordinators.set_coordinator(db, "anna@ki.se", False)
    assert coordinators.find_session(db, live.token) is None  # revoking signs out
    with pytest.raises(ValueError):
        coordinators.add_account(db, "not-an-address", "X", "whatever password")


def test_purge_and_export(db: Database, engine: Any) -> None:
    from bot.types import Turn

    def turn(conversation: str, text: str = "", action: str | None = None) -> Turn:
        ref = {"platform": "web", "conversation_id": conversation}
        return Turn("web", conversation, f"web:{conversation}", text=text, action=action, reply_ref=ref)

    for conversation in ("old-conv-1", "new-conv-2"):
        engine.handle(
            turn(conversation, "Talk to a person about a joint course with Makerere, call 0701234569")
        )
        engine.handle(turn(conversation, action="escalate:consent:no"))
    old = next(e for e in list_escalations(db) if e.conversation_id == "old-conv-1")
    desk = ReviewDesk(db, OutboundRegistry())
    desk.resolve(old.id, Actor("cli"))
    asyncio.run(
        WebInbox(Outbox(db)).deliver({"conversation_id": "old-conv-1"}, [Reply(kind="text", text="hi")])
    )

    exported = export_user(db, "web:old-conv-1")
    assert [c["conversation_id"] for c in exported["conversations"]] == ["old-conv-1"]
    assert exported["conversations"][0]["messages"][0]["role"] == "user"
    assert [e["id"] for e in exported["escalations"]] == [old.id]
    assert exported["escalations"][0]["history"][-1]["kind"] == "resolve"
    assert exported["delivered_messages"][0]["reply"]["text"] == "hi"
    assert "0701234569" not in repr(exported)

    nothing = purge(db, timedelta(days=30))
    assert nothing["conversations"] == 0 and nothing["escalations"] == 0
    later = utcnow() + timedelta(days=31)
    counts = purge(db, timedelta(days=30), now=later)
    assert counts["conversations"] == 2 and counts["escalations"] == 1 and counts["outbox_messages"] == 1
    remaining = list_escalations(db)
    assert [e.conversation_id for e in remaining] == ["new-conv-2"]  # still open: kept
    assert export_user(db, "web:old-conv-1")["escalations"] == []


def test_the_identity_migration_drops_subjects_linked_under_the_old_rule(db_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from bot.store.base import MIGRATIONS, make_engine, migrate

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0003_platform_refs")
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO review_accounts (email, name, oidc_subject, is_coordinator, created_at) "
                    "VALUES ('bo@ki.se', 'Bo', 'linked-by-unverified-mail', true, CURRENT_TIMESTAMP)"
                )
            )
        migrate(db_url)
        with engine.connect() as connection:
            subject = connection.execute(sa.text("SELECT oidc_subject FROM review_accounts")).scalar_one()
            counters = connection.execute(sa.text("SELECT count(*) FROM rate_limit_counters")).scalar_one()
        assert subject is None and counters == 0
    finally:
        engine.dispose()
