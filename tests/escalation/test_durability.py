"""200 web-chat users escalate at once against a `ribot serve` process that is SIGKILLed mid-run and
started again. Users retry whatever failed, as a browser would. Afterwards every escalation a user was
told about exists, with the reference they were told, and no conversation has two. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.store.base import migrate, open_database
from bot.store.escalation_tables import Escalation
from tests.ports import free_port

pytestmark = [pytest.mark.slow]

USERS = 200
KILL_AFTER_TOLD = 60
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    data: Path
    db_url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RIBOT_", "DATABASE_URL", "SLACK_"))}
        env |= {
            "RIBOT_DATA_DIR": str(self.data),
            "DATABASE_URL": self.db_url,
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "WORKER_THREADS": "32",
            "RIBOT_RATE_LIMITS": "{}",  # every user comes from loopback: test the crash, not the limits
        }
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "connectors.cli", "serve", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


@dataclass
class Run:
    base: str
    told: dict[str, tuple[int, str]] = field(default_factory=dict)  # conversation -> (id, reference)
    failures: int = 0  # requests that did not get an answer (server down, refused, 5xx)
    repeated: int = 0  # consents answered "already sent" (a double click, or made just before the crash)
    told_before_kill: int | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)


async def _send(http: aiohttp.ClientSession, run: Run, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST one message or click, retrying until the server answers it, as a user pressing again would."""
    for _ in range(2000):
        try:
            async with http.post(f"{run.base}/api/chat", json=body) as response:
                if response.status == 200:
                    replies: list[dict[str, Any]] = (await response.json())["replies"]
                    return replies
                await response.read()
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            pass
        run.failures += 1
        await asyncio.sleep(0.25)
    raise AssertionError(f"the server never answered {body}")


async def _user(http: aiohttp.ClientSession, run: Run, index: int) -> None:
    conversation = f"durable{uuid.uuid4().hex[:16]}"
    await _send(http, run, {"conversation_id": conversation, "action": "escalate:start"})
    await _send(http, run, {"conversation_id": conversation, "text": f"User {index}: who signs our MoU?"})
    consent = {"conversation_id": conversation, "action": "escalate:consent:no"}
    for _ in range(50):
        # Every third user double-clicks: two presses of the same button race each other.
        clicks = 2 if index % 3 == 0 else 1
        answers = await asyncio.gather(*(_send(http, run, consent) for _ in range(clicks)))
        sent = [
            r for replies in answers for r in replies if r["data"].get("state") in ("sent", "already_sent")
        ]
        if sent:
            told = {(int(r["data"]["escalation_id"]), str(r["data"]["reference"])) for r in sent}
            assert len(told) == 1, f"{conversation} was told about two escalations: {told}"
            assert all(r["data"]["reference"] in r["text"] for r in sent)
            run.told[conversation] = told.pop()
            run.repeated += sum(r["data"]["state"] == "already_sent" for r in sent)
            run.changed.set()
            return
        replies = answers[0]
        # The server lost the note with the crash: write it again, then confirm again.
        states = [r["data"].get("state") for r in replies]
        assert states and states[0] in ("expired", "ask_note"), states
        await _send(http, run, {"conversation_id": conversation, "action": "escalate:start"})
        await _send(http, run, {"conversation_id": conversation, "text": f"User {index}: who signs our MoU?"})
    raise AssertionError(f"{conversation} was never told about an escalation")


async def _killer(server: Server, run: Run) -> None:
    while len(run.told) < KILL_AFTER_TOLD:
        run.changed.clear()
        await run.changed.wait()
    run.told_before_kill = len(run.told)
    server.kill()
    await asyncio.sleep(0.5)
    server.start()


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError("the server never became ready")


async def _drive(server: Server) -> Run:
    run = Run(f"http://127.0.0.1:{server.port}")
    await _wait_ready(run.base)
    connector = aiohttp.TCPConnector(limit=USERS)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        killer = asyncio.create_task(_killer(server, run))
        await asyncio.gather(*(_user(http, run, i) for i in range(USERS)))
        await asyncio.wait_for(killer, 5)
    return run


def test_escalations_survive_a_killed_server(db_url: str, tmp_path: Path, index_copy: Path) -> None:
    migrate(db_url)
    server = Server(index_copy, db_url, free_port(), tmp_path / "serve.log")
    server.start()
    try:
        run = asyncio.run(_drive(server))
    finally:
        server.stop()
    print(
        f"told before the kill: {run.told_before_kill}, retried: {run.failures}, already sent: {run.repeated}"
    )
    assert server.starts == 2
    assert run.told_before_kill is not None and run.told_before_kill < USERS
    assert run.failures > 0, "the kill interrupted nothing: the run did not test a crash"
    assert len(run.told) == USERS

    db = open_database(db_url)
    try:
        with db.session() as session:
            rows = {r.conversation_id: r for r in session.scalars(select(Escalation))}
            grouped = select(Escalation.conversation_id, func.count()).group_by(Escalation.conversation_id)
            per_conversation = {conversation: int(count) for conversation, count in session.execute(grouped)}
    finally:
        db.dispose()
    assert all(count == 1 for count in per_conversation.values()), "a conversation got two escalations"
    for conversation, (escalation_id, reference) in run.told.items():
        row = rows.get(conversation)
        assert row is not None, f"{reference}, told to {conversation}, does not exist"
        assert row.id == escalation_id and row.reference == reference
    assert set(rows) == set(run.told)
