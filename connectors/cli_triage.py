"""`ribot triage --json`: CONTRACT.md's guided assessment over JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import TextIO

from bot.conversation import ConversationEngine
from bot.protocol import BadLine, error_line, parse_line, triage_line
from bot.types import Turn
from connectors.cli_engine import PLATFORM, USER, open_engine


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--session", help="a name for this run's assessments (default: a new one each run)")
    parser.add_argument(
        "--database", help="SQLAlchemy URL; default: DATABASE_URL or SQLite in RIBOT_DATA_DIR"
    )
    parser.add_argument("--json", action="store_true", help="JSON lines in and out, as in CONTRACT.md")


def run(args: argparse.Namespace) -> int:
    engine = open_engine(args.database)
    session = args.session or f"triage-{uuid.uuid4().hex}"
    return triage(engine, session, sys.stdin, sys.stdout, as_json=args.json)


def triage(engine: ConversationEngine, session: str, lines: TextIO, out: TextIO, *, as_json: bool) -> int:
    """Each line a separate assessment (CONTRACT.md): a conversation of its own, so nothing carries over."""
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = parse_line(raw)
        except BadLine as exc:
            print(json.dumps(error_line(str(exc)), ensure_ascii=False), file=out, flush=True)
            continue
        turn = Turn(platform=PLATFORM, conversation_id=f"{session}-{n}", user_id=USER, text=line.text)
        result = triage_line(engine.triage(turn, line.answers))
        print(json.dumps(result, ensure_ascii=False) if as_json else result["message"], file=out, flush=True)
    return 0
