"""ribot's server in a thread, the Microsoft 365 Agents Playground in a subprocess, and Debian's chromium.

The Playground (npm @microsoft/m365agentsplayground, pinned in playground/package-lock.json) plays Teams:
it posts activities to ribot's /api/messages without a token and renders ribot's replies, Adaptive Cards
included, in a Teams-like web page that Playwright drives.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from tests.browser import LOCAL_HOSTS
from tests.ports import free_port

HERE = Path(__file__).resolve().parent
PLAYGROUND_DIR = HERE / "playground"
PLAYGROUND_BIN = PLAYGROUND_DIR / "node_modules" / ".bin" / "agentsplayground"
ARTIFACTS = HERE.parent.parent / "test-artifacts" / "teams"

T = TypeVar("T")


def is_local(url: str) -> bool:
    """Whether the browser may load this: the machine itself, or data the page made."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (
        parts.scheme in ("http", "ws") and parts.hostname in LOCAL_HOSTS
    )


def ensure_playground() -> Path:
    """The Playground's executable; installs the pinned version with `npm ci` when node_modules is missing."""
    if not PLAYGROUND_BIN.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is missing: install Node.js (Debian: apt-get install -y nodejs npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PLAYGROUND_DIR, check=True, timeout=600)
    if not PLAYGROUND_BIN.exists():
        raise RuntimeError(f"npm ci did not install {PLAYGROUND_BIN}")
    return PLAYGROUND_BIN


class ServerThread:
    """An aiohttp application served on loopback from its own thread and event loop."""

    def __init__(self, make_app: Callable[[], web.Application], port: int) -> None:
        self.port = port
        self._make_app = make_app
        self._loop = asyncio.new_event_loop()
        self._started: Future[None] = Future()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._serve, name="ribot-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        self._started.result(timeout=60)
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start_site())
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        self._loop.run_forever()

    async def _start_site(self) -> None:
        self._runner = web.AppRunner(self._make_app())
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def call(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60) -> T:
        """Run a coroutine on the server's loop (where the SDK's adapter lives) and wait for its result."""
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._runner is not None:
            self.call(self._runner.cleanup)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)


class Playground:
    """`agentsplayground -e URL -c msteams -p PORT --dt` as a child process."""

    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.port = free_port()
        self.endpoint = endpoint
        self.workdir = workdir
        self.log_path = workdir / "playground.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Playground:
        command = [
            str(ensure_playground()),
            "-e",
            self.endpoint,
            "-c",
            "msteams",
            "-p",
            str(self.port),
            "--dt",
        ]
        env = dict(os.environ, TEAMSAPPTESTER_BROWSER="none")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the Playground exited: {self.log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}/_debug/ping", timeout=2) as response:
                    if response.read().strip() == b"pong":
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the Playground did not answer /_debug/ping in {timeout} s")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=15)
