"""The `ribot` command. Each subcommand lives in its own module and is imported only when used, so
`ribot --help` stays fast and a broken surface never breaks the others."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# subcommand -> (module, one-line help). Each module has `configure(parser)` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("connectors.cli_ask", "answer a question from the guidelines"),
    "ingest": ("connectors.cli_ask", "build or update the knowledge index"),
    "eval": ("connectors.cli_eval", "score ribot on an evaluation file"),
    "triage": ("connectors.cli_triage", "guided assessment over JSON lines"),
    "chat": ("connectors.cli_chat", "talk to ribot in the terminal, or over JSON lines (--json)"),
    "serve": ("connectors.cli_serve", "run the HTTP server: web chat, API, Slack, Teams"),
    "coordinators": ("connectors.cli_escalations", "manage network coordinator accounts"),
    "escalations": ("connectors.cli_escalations", "list, show and resolve escalations"),
    "purge": ("connectors.cli_escalations", "delete old conversations and closed escalations"),
    "export-user": ("connectors.cli_escalations", "print one user's stored data"),
    "teams-package": ("connectors.cli_teams", "build the Teams app upload zip"),
    "migrate": ("connectors.cli_migrate", "bring the database schema to the newest migration (--check)"),
}


def installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ribot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="ribot", description="KI's responsible-internationalisation assistant"
    )
    parser.add_argument("--version", action="version", version=f"ribot {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints usage or the error and exits
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    command_parser = argparse.ArgumentParser(prog=f"ribot {name}", description=COMMANDS[name][1])
    module.configure(command_parser, name)
    args = command_parser.parse_args(argv[1:])
    args.command = name
    try:
        return int(module.run(args))
    except BrokenPipeError:
        # the reader went away (`ribot ask ... | head`): what it wanted it has; say nothing more, as other
        # command-line tools do, and keep Python from complaining again when it flushes at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
