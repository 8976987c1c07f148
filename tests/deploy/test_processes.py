"""`ribot serve --processes N`: the processes share the port and the index, /metrics sums them, and they
start and stop as one server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.tools import ribot_env, run, venv_tool
from tests.ports import free_port

pytestmark = pytest.mark.slow


def request(url: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def samples(base: str, name: str) -> list[tuple[dict[str, str], float]]:
    _, body = request(f"{base}/metrics")
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == name
    ]


def children(pid: int) -> list[int]:
    return [int(n) for n in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class Server:
    def __init__(self, tmp_path: Path, processes: int, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "serve.log"
        env = ribot_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'ribot.sqlite3'}", **settings)
        command = [venv_tool("ribot"), "serve", "--port", str(self.port), "--processes", str(processes)]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)

    def wait_all_ready(self, count: int, timeout: float) -> list[int]:
        """The pids of the processes /metrics shows ready, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            ready = sorted(int(labels["pid"]) for labels, value in samples(self.base, "ribot_ready") if value)
            if len(ready) == count:
                return ready
            time.sleep(0.2)
        pytest.fail(f"{count} processes not ready in {timeout} s: {self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def test_processes_share_the_port_sum_their_metrics_and_stop_together(
    data_dir: Path, retriever: Any, tmp_path: Path
) -> None:
    server = Server(tmp_path, 2, RIBOT_DATA_DIR=str(data_dir))
    try:
        ready = server.wait_all_ready(2, 180)
        assert ready == sorted(children(server.process.pid))
        asked = [request(f"{server.base}/api/ask", {"question": "Who decides?"}) for _ in range(20)]
        assert [code for code, _ in asked] == [200] * 20
        answered = samples(server.base, "ribot_answers_total")
        assert sum(value for _, value in answered) == 20  # every process's answers, whichever one is asked
    finally:
        code = server.stop()
    assert code == 0, server.log.read_text()[-3000:]
    for pid in ready:
        assert not Path(f"/proc/{pid}").exists()


def test_a_process_that_ends_on_its_own_stops_the_server(
    data_dir: Path, retriever: Any, tmp_path: Path
) -> None:
    server = Server(tmp_path, 2, RIBOT_DATA_DIR=str(data_dir))
    try:
        first, second = server.wait_all_ready(2, 180)
        os.kill(first, signal.SIGKILL)
        code = server.process.wait(timeout=60)
    finally:
        server.stop()
    assert code == 1
    assert not Path(f"/proc/{second}").exists()
    assert "ended on its own" in server.log.read_text()


def test_processes_starting_on_a_missing_index_build_it_once(tmp_path: Path) -> None:
    server = Server(tmp_path, 2, LOG_LEVEL="info")
    try:
        server.wait_all_ready(2, 300)
        code, _ = request(f"{server.base}/api/ask", {"question": "Vem beslutar?"})
        assert code == 200
    finally:
        server.stop()
    log = server.log.read_text()
    assert log.count("exporting the embedding model to ONNX") == 1, log[-3000:]
    assert log.count("is missing or out of date: building it") == 1, log[-3000:]


def test_processes_below_one_are_refused(tmp_path: Path) -> None:
    done = run([venv_tool("ribot"), "serve", "--processes", "0"], env=ribot_env(tmp_path))
    assert done.returncode == 2 and "must be 1 or more" in done.stderr
