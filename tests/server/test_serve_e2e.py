"""`ribot serve` end to end: a real process on loopback with the real model, index, database and engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port

pytestmark = pytest.mark.slow


def _call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


class Drain:
    """Reads a pipe on a thread, so a chatty server never blocks on a full pipe."""

    def __init__(self, pipe: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.lines.append(line)

    def first_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not self.lines and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.lines[0] if self.lines else ""

    def text(self) -> str:
        self._thread.join(30)
        return "".join(self.lines)


@dataclass
class Served:
    process: subprocess.Popen[str]
    base: str
    data_dir: Path
    first_readyz: int
    out: Drain
    err: Drain

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"ribot serve exited with {self.process.returncode}")
            if _call(f"{self.base}/readyz")[0] == 200:
                return
            time.sleep(0.25)
        raise AssertionError("ribot serve never became ready")


def start_serve(data_dir: Path, extra_env: dict[str, str] | None = None) -> Served:
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CONNECTIONS__", "DATABASE_URL"))
    }
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", RIBOT_DATA_DIR=str(data_dir))
    env.update(extra_env or {})
    command = [sys.executable, "-m", "connectors.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = Drain(process.stdout), Drain(process.stderr)
    line = out.first_line(30)
    assert f"http://127.0.0.1:{port}/" in line, line
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            first = _call(f"{base}/readyz")[0]
            break
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return Served(process, base, data_dir, first, out, err)


def stop_serve(served: Served) -> tuple[int, str, str]:
    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(60)
    return code, served.out.text(), served.err.text()


@pytest.fixture(scope="module")
def served(data_dir: Path, retriever: Any) -> Iterator[Served]:
    """`ribot serve` over the session's index (built by the root fixtures) and a SQLite database."""
    running = start_serve(data_dir)
    running.wait_ready()
    yield running
    if running.process.poll() is None:
        stop_serve(running)


def test_serve_builds_a_missing_index_and_turns_ready(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    running = start_serve(fresh)
    try:
        assert running.first_readyz == 503
        assert _call(f"{running.base}/healthz") == (200, {"status": "ok"})
        running.wait_ready()
        assert (fresh / "index").is_dir()
        status, body = _call(
            f"{running.base}/api/ask", {"question": "Who decides on animal experiments abroad?"}
        )
        assert status == 200 and body["citations"]
    finally:
        code, out, err = stop_serve(running)
    assert code == 0, err
    assert "ribot is ready." in out
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "ready" for entry in logged)
    assert any(entry["msg"] == "stopped" for entry in logged)


def test_ask_answers_with_citations(served: Served) -> None:
    question = "Our partners overseas will perform animal experiments. What do we need to do?"
    status, body = _call(f"{served.base}/api/ask", {"question": question})
    assert status == 200
    assert body["grounded"] is True
    assert "4.4" in [c["section"] for c in body["citations"][:3]]
    assert "animal_welfare_body" in [c["id"] for c in body["contacts"]]


def test_ask_out_of_scope_is_not_grounded(served: Served) -> None:
    status, body = _call(
        f"{served.base}/api/ask", {"question": "How do I book a meeting room at Solna campus?"}
    )
    assert status == 200 and body["grounded"] is False


def test_chat_runs_through_the_real_engine(served: Served) -> None:
    conversation = "e2e-conversation-0001"
    status, body = _call(
        f"{served.base}/api/chat",
        {"conversation_id": conversation, "text": "Who do I contact about security?"},
    )
    assert status == 200, body
    assert body["replies"] and all(r["text"] for r in body["replies"])
    status, body = _call(
        f"{served.base}/api/chat", {"conversation_id": conversation, "action": "triage:start"}
    )
    assert status == 200, body
    assert any(r["kind"] == "question" for r in body["replies"])


def test_metrics_after_real_traffic(served: Served) -> None:
    _call(f"{served.base}/api/ask", {"question": "Who is the scientific ombudsman?"})
    with urllib.request.urlopen(f"{served.base}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert 'ribot_http_requests_total{method="POST",status="200",surface="api"}' in text
    assert "ribot_answer_batch_size_bucket" in text
    assert "ribot_ready 1.0" in text
