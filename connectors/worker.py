"""Working off the durable inbox (bot.store.inbox): each process runs one worker that answers the deliveries
it stored itself at once, and takes any other due delivery whose lease has run out (its process died) or
that no one took yet, so a restarted process or another replica finishes what was acknowledged.

For each delivery the worker asks the gateway for the replies, has the surface turn them into a plan of
outgoing messages (stored before the first is posted), posts them one by one and counts each, and marks the
delivery done. A delivery taken over while a message was on its way asks the surface first whether that
message got through (`was_posted`); where the platform cannot tell, it is posted again. Surfaces that answer
in the HTTP response (the web chat) get the plan handed to the waiting request instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from aiohttp import web

from bot.store.base import utcnow
from bot.store.events import event_key
from bot.store.inbox import DONE, PENDING, Arrived, Found, Held, Inbox, LeaseLost
from bot.types import Reply
from connectors.services import Services
from connectors.surfaces import Mark, NotPosted, Plan, Receipt, Surface

log = logging.getLogger("ribot.worker")

# Turns answered at once per process. More threads contending for the GIL starve the event loop, and with it
# the acknowledgements; the answerer batches the questions of concurrent turns anyway.
CONCURRENT_TURNS = 4
MAX_BACKOFF_SECONDS = 60.0
MAX_STORED_AT_ONCE = 100
STOP_GRACE_SECONDS = 10.0
# Within one process answering and acknowledging share one interpreter lock, so each step of answering (the
# engine's turn, one post) waits while deliveries arrive: until none has come for QUIET_SECONDS and none is
# being stored, but never longer than YIELD_TO_ARRIVALS_SECONDS, so that answers still come under a steady
# stream.
QUIET_SECONDS = 0.02
YIELD_TO_ARRIVALS_SECONDS = 1.0

Answer = Callable[[str, dict[str, Any]], list[Reply]]  # (surface, stored payload) -> replies; blocking
Count = Callable[[str, str], None]  # (surface, outcome)


@dataclass
class _Progress:
    sent: int
    posting: bool  # message number `sent` may be on its way


class KeyedLocks:
    """One lock per conversation, so two messages of one chat are answered in order, not at once."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class DeliveryWorker:
    services: Services
    answer: Answer
    count: Count
    concurrency: int = CONCURRENT_TURNS
    surfaces: dict[str, Surface] = field(default_factory=dict)
    inbox: Inbox | None = None
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _waiters: dict[str, list[asyncio.Future[Plan]]] = field(default_factory=dict)
    _locks: KeyedLocks = field(default_factory=KeyedLocks)
    _poke: asyncio.Event = field(default_factory=asyncio.Event)
    _slots: asyncio.Semaphore | None = None
    _loop_task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _maybe_due: bool = True  # there may be deliveries in the inbox that no worker holds
    _arriving: list[tuple[Arrived, asyncio.Future[Found | None]]] = field(default_factory=list)
    _storing: asyncio.Task[None] | None = None
    _arrived: float = 0.0  # when the last delivery arrived (time.monotonic())
    # a thread of its own for storing deliveries: acknowledgements never queue behind answering in the pool
    _storer: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="ribot-inbox")
    )

    def add_surface(self, surface: Surface) -> None:
        self.surfaces[surface.name] = surface

    async def _sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.services.run_sync(fn, *args)

    # ---- lifecycle ------------------------------------------------------------------------------------

    async def start(self, app: web.Application) -> None:
        self._slots = asyncio.Semaphore(self.concurrency)
        self._loop_task = asyncio.create_task(self._run())

    def opened(self) -> Inbox | None:
        """The inbox, once the database is open (None before)."""
        if self.inbox is None and self.services.db is not None:
            lease = timedelta(seconds=self.services.settings.inbox_lease_seconds)
            self.inbox = Inbox(self.services.db, worker_name(), lease)
        return self.inbox

    async def _run(self) -> None:
        while self.opened() is None:
            if self.services.load_error is not None:
                return  # no database: the gateway keeps answering 503
            await asyncio.sleep(0.05)
        settings = self.services.settings
        beat = asyncio.create_task(self._heartbeat(settings.inbox_lease_seconds / 3))
        look = True
        try:
            while not self._stopping:
                if look or self._maybe_due:
                    await self._fill()
                try:
                    await asyncio.wait_for(self._poke.wait(), settings.inbox_poll_seconds)
                    look = False
                except TimeoutError:
                    look = True  # now and then, for deliveries whose worker died or whose wait is over
                self._poke.clear()
        finally:
            beat.cancel()

    async def _heartbeat(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if self._tasks and self.inbox is not None:
                try:
                    await self._sync(self.inbox.renew)
                except Exception as exc:
                    log.warning("could not renew the inbox leases: %s", exc)

    async def _fill(self) -> None:
        free = self.concurrency - len(self._tasks)
        if free <= 0 or self.inbox is None:
            return
        try:
            taken: list[Held] = await self._sync(self.inbox.take_due, free, list(self.surfaces))
        except Exception as exc:
            log.warning("could not look for due deliveries: %s", exc)
            return
        self._maybe_due = len(taken) == free  # took all it could: there may be more
        for held in taken:
            self._start(held)

    def _start(self, held: Held) -> None:
        task = asyncio.create_task(self._work(held))
        self._tasks[held.key] = task

        def done(_: asyncio.Task[None]) -> None:
            self._tasks.pop(held.key, None)
            self._poke.set()

        task.add_done_callback(done)

    async def stop(self, app: web.Application) -> None:
        """Finishes what is in hand for a few seconds, then lets the rest go for others to take at once."""
        self._stopping = True
        self._poke.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._loop_task
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(
                tasks, timeout=min(STOP_GRACE_SECONDS, self.services.settings.shutdown_timeout)
            )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.inbox is not None:
            try:
                await self._sync(self.inbox.release_all)
            except Exception as exc:
                log.warning("could not release the inbox leases: %s", exc)
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.cancel()
        self._storer.shutdown(wait=False)

    # ---- arriving ---------------------------------------------------------------------------------------

    async def accept(self, key: str, surface: str, payload: dict[str, Any], *, wait: bool) -> Receipt:
        assert self.inbox is not None
        self._arrived = time.monotonic()
        key = event_key(key)
        waiter = self._waiter(key) if wait else None
        hold = surface in self.surfaces and len(self._tasks) < 2 * self.concurrency
        try:
            found = await self._store(Arrived(key, surface, payload, hold))
        except BaseException:
            self._forget(key, waiter)
            raise
        if found is None:
            if hold:
                self._start(Held(key, surface, payload, None, 0, False, 1, utcnow()))
            else:
                self._look()
            return Receipt(True, PENDING, waiter=waiter)
        self.count(surface, "duplicate")
        if found.status != PENDING:
            self._forget(key, waiter)
            return Receipt(False, found.status, found.plan, found.sent)
        if not found.held and key not in self._tasks:
            self._look()  # its worker is gone: take it over now rather than at the next look
        return Receipt(False, PENDING, waiter=waiter)

    def _look(self) -> None:
        self._maybe_due = True
        self._poke.set()

    async def _store(self, arrived: Arrived) -> Found | None:
        """Stores one delivery, together with the others arriving meanwhile: one transaction for a burst."""
        stored: asyncio.Future[Found | None] = asyncio.get_running_loop().create_future()
        self._arriving.append((arrived, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_arrived())
        return await stored

    async def _store_arrived(self) -> None:
        assert self.inbox is not None
        while self._arriving:
            batch, self._arriving = self._arriving[:MAX_STORED_AT_ONCE], self._arriving[MAX_STORED_AT_ONCE:]
            try:
                found: list[Found | None] = await asyncio.get_running_loop().run_in_executor(
                    self._storer, self.inbox.accept_many, [a for a, _ in batch]
                )
            except Exception as exc:
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(exc)
                continue
            for (_, stored), result in zip(batch, found, strict=True):
                if not stored.done():
                    stored.set_result(result)

    def _waiter(self, key: str) -> asyncio.Future[Plan]:
        waiter: asyncio.Future[Plan] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(waiter)
        return waiter

    def _forget(self, key: str, waiter: asyncio.Future[Plan] | None) -> None:
        waiters = self._waiters.get(key, [])
        if waiter in waiters:
            waiters.remove(waiter)
        if not waiters:
            self._waiters.pop(key, None)

    async def wait(self, key: str, waiter: asyncio.Future[Plan], timeout: float) -> Receipt | None:
        """The finished delivery, whoever finishes it; None when it is not done within `timeout`."""
        key = event_key(key)
        deadline = time.monotonic() + timeout
        while True:
            here = key in self._tasks
            await asyncio.wait(
                {waiter}, timeout=max(0.0, min(deadline - time.monotonic(), 5 if here else 0.5))
            )
            if waiter.done():
                return Receipt(False, DONE, waiter.result())
            if not here and self.inbox is not None:
                found = await self._sync(self.inbox.find, key)
                if found is not None and found.status != PENDING:
                    self._forget(key, waiter)
                    return Receipt(False, found.status, found.plan, found.sent)
            if time.monotonic() >= deadline:
                self._forget(key, waiter)
                return None

    # ---- answering ----------------------------------------------------------------------------------------

    async def _work(self, held: Held) -> None:
        surface = self.surfaces[held.surface]
        turn = held.payload.get("turn") or {}
        progress = _Progress(held.sent, held.in_doubt)
        assert self._slots is not None
        async with self._locks.hold(f"{held.surface}:{turn.get('conversation_id')}"), self._slots:
            try:
                await self._deliver(held, surface, progress)
            except LeaseLost:
                log.warning("another worker took over a delivery", extra={"key": held.key})
            except Exception as exc:
                await self._failed(held, exc)

    async def _deliver(self, held: Held, surface: Surface, progress: _Progress) -> None:
        assert self.inbox is not None
        target = dict(held.payload.get("target") or {})
        plan = held.plan
        if plan is None:
            await _quietly(surface.started(target))
            await self._until_ready()
            await self._after_arrivals()
            replies: list[Reply] = await self._sync(self.answer, held.surface, held.payload)
            plan = surface.plan(target, replies)
            if surface.inline and self._waiters.get(held.key):
                await self._sync(self.inbox.finish, held.key, 0, True, plan)
                self._resolve(held.key, plan)
                return
            await self._sync(self.inbox.save_plan, held.key, plan)
            progress.sent, progress.posting = 0, False
        since = held.created_at.replace(tzinfo=UTC).timestamp()
        while progress.sent < len(plan):
            await self._after_arrivals()
            message, mark = plan[progress.sent], Mark(held.key, progress.sent, since)
            resumed_in_doubt = progress.posting
            progress.posting = True
            if not (resumed_in_doubt and await surface.was_posted(target, message, mark)):
                await surface.post(target, message, mark)
            progress.sent += 1
            if progress.sent < len(plan):
                await self._sync(self.inbox.posted, held.key, progress.sent, True)
            progress.posting = False
        await self._sync(self.inbox.finish, held.key, progress.sent, surface.inline)
        self._resolve(held.key, plan)

    def _resolve(self, key: str, plan: Plan) -> None:
        for waiter in self._waiters.pop(key, []):
            if not waiter.done():
                waiter.set_result(plan)

    async def _after_arrivals(self) -> None:
        """Acknowledgements go first: answering waits (for a while) while deliveries arrive."""
        deadline = time.monotonic() + YIELD_TO_ARRIVALS_SECONDS
        while (now := time.monotonic()) < deadline:
            if self._storing is not None and not self._storing.done():
                await asyncio.wait({self._storing}, timeout=deadline - now)
                continue
            quiet = self._arrived + QUIET_SECONDS - now
            if quiet <= 0:
                return
            await asyncio.sleep(min(quiet, deadline - now))

    async def _until_ready(self) -> None:
        while not self.services.ready and self.services.load_error is None:
            await asyncio.sleep(0.25)

    async def _failed(self, held: Held, exc: Exception) -> None:
        """Tried again later; a refused message is known not to have got through, anything else leaves the
        message that was on its way in doubt (as the stored plan says)."""
        assert self.inbox is not None
        refused = isinstance(exc, NotPosted)
        delay = timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2.0**held.attempts))
        error = f"{type(exc).__name__}: {exc}"
        try:
            kept = await self._sync(
                self.inbox.retry_later, held.key, error, delay, False if refused else None
            )
        except Exception as again:
            log.warning("could not record a failed delivery (%s); its lease will run out", again)
            return
        if kept:
            log.warning("delivery failed; trying again later", extra={"key": held.key, "error": error})
        else:
            log.error("delivery given up", extra={"key": held.key, "error": error})
            self.count(held.surface, "failed")


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        log.warning("a secondary platform call failed", exc_info=True)
