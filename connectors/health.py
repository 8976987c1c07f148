"""Readiness beyond start-up: after loading, `/readyz` also asks the database now and then whether it
answers, so a load balancer stops sending users to a server whose database has gone away."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("ribot.health")


def _ping(engine: Any) -> None:
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class DatabaseProbe:
    """Runs `SELECT 1` at most every `interval` seconds on its own thread, so a busy worker pool or a hung
    database never holds up the check beyond `timeout`."""

    def __init__(self, interval: float = 5.0, timeout: float = 3.0) -> None:
        self._interval = interval
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ribot-probe")
        self._checked = float("-inf")
        self._problem: str | None = None

    async def problem(self, db: Any) -> str | None:
        engine = getattr(db, "engine", None)
        if engine is None:
            return None
        now = time.monotonic()
        if now - self._checked < self._interval:
            return self._problem
        self._checked = now
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self._executor, _ping, engine), self._timeout)
        except TimeoutError:
            self._problem = "the database does not answer"
        except Exception as exc:
            self._problem = f"the database is unavailable ({type(exc).__name__})"
        else:
            self._problem = None
        if self._problem:
            log.warning("readiness check failed", extra={"problem": self._problem})
        return self._problem

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
