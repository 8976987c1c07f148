"""`ribot chat`: the conversation in the terminal, and `ribot chat --json`, CONTRACT.md's conversation over
JSON lines. Conversations live in the database, so either continues one in a later process."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import TextIO

from bot.conversation import ConversationEngine
from bot.protocol import BadLine, chat_line, error_line, parse_chat_line
from bot.types import Reply, Turn
from connectors.cli_engine import PLATFORM, USER, open_engine

GREETING = (
    "ribot: ask about KI's guidelines for responsible internationalisation, or describe what you are\n"
    'planning. Type "start assessment" for the guided assessment, "help" for help, Ctrl-D to leave.'
)


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--session",
        "--resume",
        dest="session",
        metavar="ID",
        help="continue the conversation with this id (ribot chat prints it); default: a new one",
    )
    mode.add_argument(
        "--json",
        action="store_true",
        help='JSON lines in and out, as in CONTRACT.md: {"conversation": "ID", "text": "..."} per line',
    )
    parser.add_argument(
        "--database", help="SQLAlchemy URL; default: DATABASE_URL or SQLite in RIBOT_DATA_DIR"
    )
    parser.add_argument("--summary-dir", type=Path, default=Path("."), help="where summaries are saved")


def run(args: argparse.Namespace) -> int:
    engine = open_engine(args.database)
    if args.json:
        return chat_json(engine, sys.stdin, sys.stdout)
    return chat(engine, args.session, args.summary_dir)


def chat_json(engine: ConversationEngine, lines: TextIO, out: TextIO) -> int:
    """One result line per input line, in order; each line continues the conversation its id names."""
    for raw in lines:
        if not raw.strip():
            continue
        try:
            line = parse_chat_line(raw)
        except BadLine as exc:
            _emit(error_line(str(exc)), out)
            continue
        conversation = str(line.conversation)
        replies = engine.handle(_turn(conversation, line.text))
        _emit(chat_line(conversation, replies), out)
    return 0


def _emit(result: dict[str, object], out: TextIO) -> None:
    print(json.dumps(result, ensure_ascii=False), file=out, flush=True)


def _turn(conversation: str, text: str) -> Turn:
    return Turn(platform=PLATFORM, conversation_id=conversation, user_id=USER, text=text)


def chat(engine: ConversationEngine, session: str | None, summary_dir: Path) -> int:
    conversation = session or f"chat-{uuid.uuid4().hex[:12]}"
    print(GREETING)
    print(_session_line(conversation, resumed=session is not None) + "\n")
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print(f"\n{_come_back(conversation)}")
            return 0
        if not text.strip():
            continue
        for reply in engine.handle(_turn(conversation, text)):
            show(reply, summary_dir)


def _session_line(conversation: str, *, resumed: bool) -> str:
    if resumed:
        return f"Continuing conversation {conversation}."
    return f"Conversation {conversation}. {_come_back(conversation)}"


def _come_back(conversation: str) -> str:
    return f"To come back to it later: ribot chat --resume {conversation}"


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
