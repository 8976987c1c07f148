"""Network coordinator accounts (argon2 password hashes or an OIDC subject) and console sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.base import Database, utcnow
from bot.store.escalation_tables import Coordinator, ReviewSession

SESSION_LIFETIME = timedelta(hours=12)
_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    is_coordinator: bool
    has_password: bool


@dataclass(frozen=True)
class SessionInfo:
    token: str  # only ever returned when the session is created; stored hashed
    account: Account
    csrf_token: str
    expires_at: datetime


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _account(row: Coordinator) -> Account:
    return Account(row.id, row.email, row.name, row.is_coordinator, row.password_hash is not None)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def add_account(
    db: Database, email: str, name: str, password: str | None, *, coordinator: bool = True
) -> Account:
    """Create an account, or update the name, password and role of an existing one."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise ValueError("give the coordinator's e-mail address")
    with db.session() as session, session.begin():
        row = session.scalar(select(Coordinator).where(Coordinator.email == email))
        if row is None:
            row = Coordinator(email=email, name=name or email, is_coordinator=coordinator)
            session.add(row)
        row.name = name or row.name
        row.is_coordinator = coordinator
        if password is not None:
            row.password_hash = hash_password(password)
        session.flush()
        return _account(row)


def list_accounts(db: Database) -> list[Account]:
    with db.session() as session:
        rows = session.scalars(select(Coordinator).order_by(Coordinator.email))
        return [_account(r) for r in rows]


def set_coordinator(db: Database, email: str, coordinator: bool) -> bool:
    with db.session() as session, session.begin():
        row = session.scalar(select(Coordinator).where(Coordinator.email == normalise_email(email)))
        if row is None:
            return False
        row.is_coordinator = coordinator
        if not coordinator:
            session.execute(delete(ReviewSession).where(ReviewSession.account_id == row.id))
        return True


def authenticate(db: Database, email: str, password: str) -> Account | None:
    """The account when the password matches. Unknown addresses cost as much time as wrong passwords."""
    global _DUMMY_HASH
    with db.session() as session, session.begin():
        row = session.scalar(select(Coordinator).where(Coordinator.email == normalise_email(email)))
        if row is None or row.password_hash is None:
            _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(row.password_hash, password):
            return None
        if _hasher().check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        row.last_login_at = utcnow()
        return _account(row)


class OidcLinkError(ValueError):
    """The sign-in cannot be bound to an account; the message is safe to show."""


def oidc_account(
    db: Database, subject: str, email: str | None, name: str, *, coordinator_by_claim: bool
) -> Account:
    """The account of someone who signed in with OIDC, bound to the provider's stable `subject`.

    An account already bound to the subject is theirs. Otherwise a verified `email` (None when the provider
    did not vouch for it) links them to the account with that address, if it is not bound to another
    subject yet, or creates one without the coordinator role unless the provider's claim grants it."""
    try:
        return _sign_in(db, subject, email, name, coordinator_by_claim)
    except IntegrityError:  # the same first sign-in twice at once: the second finds the first's row
        return _sign_in(db, subject, email, name, coordinator_by_claim)


def _sign_in(db: Database, subject: str, email: str | None, name: str, coordinator_by_claim: bool) -> Account:
    with db.session() as session, session.begin():
        row = session.scalar(select(Coordinator).where(Coordinator.oidc_subject == subject))
        if row is None:
            row = _link(session, subject, email, name)
        if coordinator_by_claim:
            row.is_coordinator = True
        row.last_login_at = utcnow()
        session.flush()
        return _account(row)


def _link(session: Session, subject: str, email: str | None, name: str) -> Coordinator:
    if email is None:
        raise OidcLinkError(
            "The identity provider did not confirm your e-mail address, so ribot cannot tell which account "
            "is yours. An administrator can trust the provider's address claim (REVIEW_OIDC_TRUSTED_EMAIL_CLAIM)."
        )
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise OidcLinkError("The identity provider gave no usable e-mail address.")
    row = session.scalar(select(Coordinator).where(Coordinator.email == email))
    if row is not None and row.oidc_subject is not None:
        raise OidcLinkError(
            "The account for this address is linked to another sign-in. Ask an administrator to check it."
        )
    if row is None:
        row = Coordinator(email=email, name=name or email, is_coordinator=False)
        session.add(row)
    row.oidc_subject = subject
    return row


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, account_id: int, lifetime: timedelta = SESSION_LIFETIME) -> SessionInfo:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = utcnow() + lifetime
    with db.session() as session, session.begin():
        session.execute(delete(ReviewSession).where(ReviewSession.expires_at < utcnow()))
        row = ReviewSession(
            token_hash=_digest(token), account_id=account_id, csrf_token=csrf, expires_at=expires
        )
        session.add(row)
        session.flush()
        return SessionInfo(token, _account(row.account), csrf, expires)


def find_session(db: Database, token: str) -> SessionInfo | None:
    if not token or len(token) > 200:
        return None
    with db.session() as session:
        row = session.get(ReviewSession, _digest(token))
        if row is None or row.expires_at <= utcnow():
            return None
        return SessionInfo("", _account(row.account), row.csrf_token, row.expires_at)


def end_session(db: Database, token: str) -> None:
    with db.session() as session, session.begin():
        session.execute(delete(ReviewSession).where(ReviewSession.token_hash == _digest(token)))
