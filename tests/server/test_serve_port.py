"""`ribot serve` on a port another process holds: it says so at once, before migrating or loading."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def test_a_taken_port_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CONNECTIONS__", "DATABASE_URL"))
    }
    env.update(HF_HUB_OFFLINE="1", RIBOT_DATA_DIR=str(data_dir))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "connectors.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        seconds = time.monotonic() - started
    assert done.returncode == 1
    assert f"port {port} is already in use on 127.0.0.1" in done.stderr
    assert "--port" in done.stderr
    # Nothing slow ran first: no database was migrated, no index built, no model announced.
    assert not data_dir.exists()
    assert "loading the model" not in done.stdout
    assert seconds < 10, seconds
