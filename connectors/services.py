"""The services a server shares between its surfaces, and how the slow ones load."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiohttp import web

from bot.outbound import OutboundRegistry, WebInbox
from bot.settings import Settings
from bot.types import Reply, Turn
from connectors.batching import BatchingAnswerer
from connectors.health import DatabaseProbe
from connectors.http import ApiError
from connectors.metrics import Metrics

if TYPE_CHECKING:
    from bot.store.base import Database

log = logging.getLogger("ribot.server")

T = TypeVar("T")


class Engine(Protocol):
    """The conversation engine as every surface uses it (bot.conversation.ConversationEngine)."""

    def handle(self, turn: Turn) -> list[Reply]: ...


@dataclass
class Loaded:
    """What the slow start produces."""

    answerer: BatchingAnswerer
    engine: Engine
    db: Database | None
    web_inbox: WebInbox


Loader = Callable[["Services"], Loaded]


@dataclass
class Services:
    """Everything a surface needs. `answerer` and `engine` stay None until `ready`; `db` comes earlier, as
    soon as the database is open, so deliveries can be stored while the model still loads."""

    settings: Settings
    metrics: Metrics
    outbound: OutboundRegistry
    loader: Loader
    executor: ThreadPoolExecutor
    answerer: BatchingAnswerer | None = None
    engine: Engine | None = None
    db: Database | None = None
    web_inbox: WebInbox | None = None
    load_error: str | None = None
    probe: DatabaseProbe = field(default_factory=DatabaseProbe)
    _ready: threading.Event = field(default_factory=threading.Event)
    _finished: bool = False
    _listeners: list[Callable[[Services], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def on_loaded(self, listener: Callable[[Services], None]) -> None:
        """Call `listener` (on the loading thread) once loading has finished, well or not."""
        with self._lock:
            if not self._finished:
                self._listeners.append(listener)
                return
        listener(self)

    def database_opened(self, db: Database) -> None:
        """Called by the loader once the database is migrated and open, before the slow parts load: from
        then on deliveries are stored, and the web chat's messages can be read."""
        from bot.store.outbox import Outbox

        self.db = db
        self.web_inbox = WebInbox(Outbox(db))
        self.outbound.register(self.web_inbox.platform, self.web_inbox)

    def load(self) -> None:
        """Run the loader (slow, blocking) and publish its result; failures are kept for /readyz."""
        try:
            self._load()
        finally:
            with self._lock:
                self._finished = True
                listeners, self._listeners = self._listeners, []
            for listener in listeners:
                try:
                    listener(self)
                except Exception:
                    log.exception("a loading listener failed")

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            loaded = self.loader(self)
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("loading the model, index or database failed")
            return
        self.answerer, self.engine = loaded.answerer, loaded.engine
        self.db = loaded.db or self.db
        self.web_inbox = loaded.web_inbox
        self.outbound.register(loaded.web_inbox.platform, loaded.web_inbox)
        seconds = time.perf_counter() - started
        self.metrics.load_seconds.set(seconds)
        self.metrics.ready.set(1)
        self._ready.set()
        log.info("ready", extra={"load_seconds": round(seconds, 2)})

    def require_answerer(self) -> BatchingAnswerer:
        if self.answerer is None:
            raise _not_ready(self)
        return self.answerer

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise _not_ready(self)
        return self.engine

    def require_web_inbox(self) -> WebInbox:
        if self.web_inbox is None:
            raise _not_ready(self)
        return self.web_inbox

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (the conversation engine, database calls) off the event loop."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # keeps the request id on the worker thread's log lines
        return await loop.run_in_executor(self.executor, partial(context.run, fn, *args))

    def close(self) -> None:
        if self.answerer is not None:
            self.answerer.close(timeout=30)
        self.executor.shutdown(wait=True, cancel_futures=False)
        self.probe.close()
        if self.db is not None:
            self.db.dispose()


def _not_ready(services: Services) -> ApiError:
    if services.load_error:
        return ApiError(503, "not_ready", "ribot could not load its knowledge base; see the server log.")
    return ApiError(503, "not_ready", "ribot is still starting; try again in a few seconds.")


SERVICES = web.AppKey("services", Services)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_jsonable)
