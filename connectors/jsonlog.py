"""Structured logs: one JSON object per line, carrying the id of the request being handled.

Once configured, nothing else reaches stdout or stderr as plain text: Python warnings and uncaught exceptions
(in the main thread and in worker threads) become log records too, and the lines meant for the person who
started the server ("listening on …", "ready") go to stdout as JSON through the `ribot.console` logger.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
import time
from types import TracebackType
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            out["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


CONSOLE_LOGGER = "ribot.console"


def configure_logging(level: str = "info", stream: Any = None, console: Any = None) -> None:
    """Send every logger's records to one JSON handler (stderr unless told otherwise), and the console
    logger's to stdout."""
    root = logging.getLogger()
    _replace_handlers(root, stream or sys.stderr)
    root.setLevel(level.upper())
    console_logger = logging.getLogger(CONSOLE_LOGGER)
    _replace_handlers(console_logger, console or sys.stdout)
    console_logger.propagate = False
    console_logger.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").disabled = True  # the request middleware logs every request
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin, every run
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _replace_handlers(logger: logging.Logger, stream: Any) -> None:
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)


def _log_uncaught(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("ribot").critical("uncaught exception", exc_info=(kind, value, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    thread = args.thread.name if args.thread is not None else "?"
    logging.getLogger("ribot").critical(
        "uncaught exception in a thread",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        extra={"in_thread": thread},
    )
