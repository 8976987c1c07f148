"""`ribot serve` as a subprocess on loopback, for the Slack end-to-end tests and the benchmark."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
RIBOT = REPO / ".venv" / "bin" / "ribot"
READY_TIMEOUT = 300.0
COORDINATORS = "C0COORDINATORS"  # the coordinators' channel in every test server


class RibotProcess:
    """One `ribot serve` subprocess on loopback."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "RIBOT_"))}
        base.update({"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
        base.update(env)
        self._out = self.log.open("w")
        self.process = subprocess.Popen(
            [str(RIBOT), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=log_dir,
            env=base,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"ribot serve ({self.name}) exited:\n{self.log.read_text()[-4000:]}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        pytest.fail(f"ribot serve ({self.name}) never became ready:\n{self.log.read_text()[-4000:]}")

    def metric(self, name: str, **labels: str) -> float:
        """The current value of one metric sample from /metrics (0 when absent)."""
        text = requests.get(f"{self.url}/metrics", timeout=5).text
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        total = 0.0
        for line in text.splitlines():
            match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
            if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
                total += float(match.group(2))
        return total

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing finished, nothing released."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._out.close()

    def stop(self) -> None:
        if self._out.closed:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._out.close()
