"""`ribot triage --json` (CONTRACT.md's JSON lines) and `ribot chat`, a conversation in the terminal."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.conversation import AnswererLike, ConversationEngine
from bot.protocol import BadLine, error_line, parse_line, triage_line
from bot.types import Reply, Turn


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--session", help="continue this conversation (kept in the database); default: a new one each run"
    )
    parser.add_argument(
        "--database", help="SQLAlchemy URL; default: DATABASE_URL or SQLite in RIBOT_DATA_DIR"
    )
    if name == "triage":
        parser.add_argument("--json", action="store_true", help="JSON lines in and out, as in CONTRACT.md")
    else:
        parser.add_argument("--summary-dir", type=Path, default=Path("."), help="where summaries are saved")


def open_engine(database: str | None, answerer: AnswererLike | None = None) -> ConversationEngine:
    """The engine on `database` (default: the configured one), migrated; the answerer loads on first use
    unless the caller has one already."""
    from bot.settings import get_settings
    from bot.store import migrate, open_database
    from connectors.lazy_answerer import LazyAnswerer

    settings = get_settings()
    url = database or settings.db_url
    migrate(url)
    return ConversationEngine(
        answerer or LazyAnswerer(), open_database(url), ttl_hours=settings.conversation_ttl_hours
    )


def run(args: argparse.Namespace) -> int:
    engine = open_engine(args.database)
    session = args.session or f"{args.command}-{uuid.uuid4().hex}"
    if args.command == "triage":
        return triage(engine, session, sys.stdin, sys.stdout, as_json=args.json)
    return chat(engine, session, args.summary_dir)


def triage(engine: ConversationEngine, session: str, lines: TextIO, out: TextIO, *, as_json: bool) -> int:
    """Each line a separate assessment (CONTRACT.md): a conversation of its own, so nothing carries over."""
    for n, raw in enumerate(lines, start=1):
        turn = Turn(platform="cli", conversation_id=f"{session}-{n}", user_id="cli")
        if not raw.strip():
            continue
        try:
            line = parse_line(raw)
        except BadLine as exc:
            print(json.dumps(error_line(str(exc)), ensure_ascii=False), file=out, flush=True)
            continue
        replies = engine.triage(Turn(**{**turn.__dict__, "text": line.text}), line.answers)
        result = triage_line(replies)
        print(json.dumps(result, ensure_ascii=False) if as_json else result["message"], file=out, flush=True)
    return 0


def chat(engine: ConversationEngine, session: str, summary_dir: Path) -> int:
    print("ribot: ask about KI's guidelines for responsible internationalisation, or describe what you are")
    print('planning. Type "start assessment" for the guided assessment, "help" for help, Ctrl-D to leave.\n')
    turn = Turn(platform="cli", conversation_id=session, user_id="cli")
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text.strip():
            continue
        for reply in engine.handle(Turn(**{**turn.__dict__, "text": text})):
            show(reply, summary_dir)


def show(reply: Reply, summary_dir: Path) -> None:
    print(f"\nribot> {reply.text}\n")
    summary = reply.data.get("summary")
    if summary:
        summary_dir.mkdir(parents=True, exist_ok=True)
        for extension in ("md", "html"):
            path = summary_dir / f"{summary['filename']}.{extension}"
            path.write_text(summary["markdown" if extension == "md" else "html"], encoding="utf-8")
            print(f"(saved {path})")
        print()
