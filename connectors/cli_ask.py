"""`ribot ask` and `ribot ingest`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap

from bot.answering import Answerer
from bot.settings import get_settings
from bot.types import Answer


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "ingest":
        parser.add_argument(
            "--rebuild", action="store_true", help="drop the index and embed everything again"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        return
    parser.add_argument(
        "question", nargs="*", help="the question; none: read one question per line from stdin"
    )
    parser.add_argument("--json", action="store_true", help="print CONTRACT.md's JSON (one object per line)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    return ingest(args) if args.command == "ingest" else ask(args)


def ingest(args: argparse.Namespace) -> int:
    from knowledge.index_files import index_lock
    from knowledge.ingest import ingest as build
    from knowledge.ingest import reset_index

    settings = get_settings()
    with index_lock(settings.index_dir):
        if args.rebuild:
            reset_index(settings.index_dir)
        report = build(settings.index_dir, settings.ribot_sources_dir, progress=not args.quiet)
    # the example questions' vectors and the classifier of question kinds too: no answering process makes them
    from knowledge.index import open_retriever

    open_retriever(settings)
    print(f"Index at {settings.index_dir}: {report}")
    return 0


def open_answerer() -> Answerer:
    from knowledge.index import IndexUnavailable, open_retriever

    try:
        return Answerer(open_retriever(get_settings()))
    except IndexUnavailable as exc:
        print(f"ribot: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


def ask(args: argparse.Namespace) -> int:
    answerer = open_answerer()
    if args.question:
        questions = [" ".join(args.question)]
        answers = answerer.ask_many(questions)
    else:
        answers = _answer_stream(answerer, args.json)
    for answer in answers:
        print(json.dumps(answer.to_json(), ensure_ascii=False) if args.json else render(answer), flush=True)
    return 0


def _answer_stream(answerer: Answerer, as_json: bool) -> list[Answer]:
    """Answers standard input line by line; JSON mode keeps one output line per input line, blank ones too."""
    lines = [line.rstrip("\n") for line in sys.stdin]
    return answerer.ask_many(lines if as_json else [q for q in lines if q.strip()])


TERMINAL_WORDS = {
    "en": {"section": "Section", "contacts": "Who can help, in order"},
    "sv": {"section": "Avsnitt", "contacts": "Vem som kan hjälpa, i tur och ordning"},
}


def render(answer: Answer) -> str:
    """A readable answer for a terminal."""
    words = TERMINAL_WORDS.get(answer.language, TERMINAL_WORDS["en"])
    out = [textwrap.fill(answer.answer, 100)]
    for n, c in enumerate(answer.citations, 1):
        where = c.title if c.titled_alone else f"{words['section']} {c.section}, {c.title}"
        out.append(f"\n[{n}] {where}:")
        out.append(textwrap.indent(textwrap.fill(c.quote, 96), "    "))
    if answer.contacts:
        out.append(f"\n{words['contacts']}:")
        out.extend(f"  {n}. {c.name}: {c.why}" for n, c in enumerate(answer.contacts, 1))
    return "\n".join(out) + "\n"
