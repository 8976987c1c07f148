"""`ribot coordinators`, `ribot escalations`, `ribot purge` and `ribot export-user`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import timedelta
from typing import Any

from bot.settings import get_settings
from bot.store.base import Database
from bot.store.escalation_tables import escalation_id, reference
from bot.store.escalations import EscalationView

MIN_PASSWORD = 12


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "coordinators":
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = sub.add_parser("add", help="create a coordinator account, or update its name and password")
        add.add_argument("email")
        add.add_argument("--name", default="", help="display name (default: the e-mail address)")
        add.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input, not a prompt",
        )
        add.add_argument("--no-password", action="store_true", help="sign-in through OIDC only")
        sub.add_parser("list", help="list accounts")
        remove = sub.add_parser("remove", help="take the coordinator role away (signs the account out)")
        remove.add_argument("email")
    elif name == "escalations":
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="escalations, newest first")
        listing.add_argument("--json", action="store_true", help="a JSON array (CONTRACT.md)")
        listing.add_argument("--status", choices=["open", "claimed", "answered", "resolved", "forwarded"])
        listing.add_argument("--category")
        listing.add_argument("--limit", type=int, default=1000)
        show = sub.add_parser("show", help="one escalation with its transcript and history")
        show.add_argument("id", type=_escalation_id, help="the id or the reference users see, e.g. ESC-00012")
        show.add_argument("--json", action="store_true")
        resolve = sub.add_parser("resolve", help="mark an escalation resolved")
        resolve.add_argument("id", type=_escalation_id, help="the id or the reference, e.g. ESC-00012")
        resolve.add_argument("--comment", default="", help="internal closing comment")
    elif name == "purge":
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS", help="age in days")
    else:
        parser.add_argument("user_id", help="the user's platform id (web users: web:<conversation id>)")
        parser.add_argument("--platform", help="only this platform (web, slack, teams)")


def _escalation_id(text: str) -> int:
    found = escalation_id(text)
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an escalation id (12) nor a reference (ESC-00012)"
        )
    return found


def _database() -> Database:
    from bot.store.base import migrate, open_database

    settings = get_settings()
    settings.ribot_data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.db_url)
    return open_database(settings.db_url)


def run(args: argparse.Namespace) -> int:
    db = _database()
    try:
        handler = {
            "coordinators": _coordinators,
            "escalations": _escalations,
            "purge": _purge,
            "export-user": _export,
        }[args.command]
        return handler(db, args)
    finally:
        db.dispose()


def _fail(message: str) -> int:
    print(f"ribot: {message}", file=sys.stderr)
    return 1


def _password(args: argparse.Namespace) -> str | None:
    if args.no_password:
        return None
    password = _read_password(args.password_stdin or not sys.stdin.isatty())
    if not password:
        raise ValueError(
            "no password was read: type one at the prompt, pipe it in with --password-stdin, "
            "or use --no-password for OIDC sign-in only"
        )
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise ValueError("the passwords differ")
    return password


def _coordinators(db: Database, args: argparse.Namespace) -> int:
    from bot.store.coordinators import add_account, list_accounts, set_coordinator

    if args.action == "list":
        for account in list_accounts(db):
            role = "coordinator" if account.is_coordinator else "no access"
            login = "password" if account.has_password else "OIDC only"
            print(f"{account.id}\t{account.email}\t{account.name}\t{role}\t{login}")
        return 0
    if args.action == "remove":
        if not set_coordinator(db, args.email, False):
            return _fail(f"no account for {args.email}")
        print(f"{args.email} is no longer a coordinator.")
        return 0
    try:
        account = add_account(db, args.email, args.name, _password(args))
    except ValueError as exc:
        return _fail(str(exc))
    print(f"Coordinator {account.email} ({account.name}) can sign in at /review.")
    return 0


def _escalations(db: Database, args: argparse.Namespace) -> int:
    from bot.review import Actor, ReviewDesk
    from bot.store.escalations import QueueFilter, TransitionError, list_escalations

    if args.action == "list":
        filters = QueueFilter(
            statuses=(args.status,) if args.status else (), category=args.category, limit=max(1, args.limit)
        )
        rows = list_escalations(db, filters)
        if args.json:
            print(json.dumps([r.summary_json() for r in rows], ensure_ascii=False))
        for row in rows if not args.json else []:
            note = " ".join(row.note.split())[:60]
            opened = f"{row.created_at:%Y-%m-%d %H:%M}"
            print(f"{row.reference}\t{row.status}\t{row.category}\t{row.platform}\t{opened}\t{note}")
        return 0
    from bot.outbound import OutboundRegistry

    desk = ReviewDesk(db, OutboundRegistry())
    try:
        if args.action == "show":
            found = desk.get(args.id)
            print(json.dumps(_detail_json(found), ensure_ascii=False, indent=None if args.json else 2))
            return 0
        resolved = desk.resolve(args.id, Actor(f"cli:{getpass.getuser()}"), args.comment)
    except LookupError:
        return _fail(f"no escalation {args.id} ({reference(args.id)})")
    except TransitionError as exc:
        return _fail(str(exc))
    print(f"{resolved.reference} is resolved.")
    return 0


def _detail_json(found: EscalationView) -> dict[str, Any]:
    data = found.summary_json()
    data.update(
        {
            "conversation_id": found.conversation_id,
            "user_id": found.user_id,
            "identity_shared": found.identity_shared,
            "user_name": found.user_name,
            "user_email": found.user_email,
            "transcript": found.transcript,
            "triage": found.triage,
            "citations": found.citations,
            "history": [
                {
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "kind": e.kind,
                    "to_status": e.to_status,
                    "detail": e.detail,
                }
                for e in found.events
            ],
        }
    )
    return data


def _purge(db: Database, args: argparse.Namespace) -> int:
    from bot.privacy import purge

    if args.older_than < 0:
        return _fail("--older-than needs a number of days, 0 or more")
    counts = purge(db, timedelta(days=args.older_than))
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))
    return 0


def _export(db: Database, args: argparse.Namespace) -> int:
    from bot.privacy import export_user

    data = export_user(db, args.user_id, args.platform)
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0
