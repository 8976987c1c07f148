"""What operating ribot relies on: `ribot --version`, servers that wait for `ribot migrate` when told not to
migrate, JSON lines only on stdout and stderr, process metrics, and every setting honoured from `.env`."""

from __future__ import annotations

import json
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import Settings
from tests.deploy.tools import REPO, project_version, ribot_env, run, system_tool, venv_tool
from tests.ports import free_port


def test_version_is_the_projects() -> None:
    done = run([venv_tool("ribot"), "--version"])
    assert (done.returncode, done.stdout.strip()) == (0, f"ribot {project_version()}")


class Lines:
    """Reads a pipe on a thread of its own, so a test can wait for a line while the process runs."""

    def __init__(self, pipe: Any) -> None:
        self._lines: list[str] = []
        self._new = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            with self._new:
                self._lines.append(line)
                self._new.notify_all()

    def wait_for(self, fragment: str, timeout: float) -> None:
        with self._new:
            found = self._new.wait_for(lambda: any(fragment in line for line in self._lines), timeout)
        assert found, f"no line with {fragment!r} in {timeout} s: {''.join(self._lines)[-2000:]}"

    def text(self) -> str:
        self._thread.join(30)
        return "".join(self._lines)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(url: str, status: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            code, body = get(url)
        except OSError:
            code, body = 0, b""
        if code == status:
            return body
        time.sleep(0.25)
    raise AssertionError(f"{url} never answered {status}")


def with_read_only_system(command: list[str]) -> list[str]:
    """The command in a mount namespace of its own where the checkout, the venv, the interpreter, /usr and
    /etc are read-only, as in a container with readOnlyRootFilesystem: only the data dir and the temporary
    folder stay writable. Exits 97 if the checkout is still writable there."""
    folders = [
        shlex.quote(folder) for folder in sorted({str(REPO), sys.prefix, sys.base_prefix, "/usr", "/etc"})
    ]
    mounts = [f"mount --bind -o ro {f} {f} && mount -o remount,bind,ro {f}" for f in folders]
    probe = shlex.quote(str(REPO / ".read-only-probe"))
    script = " && ".join(mounts) + f' && {{ ! touch {probe} 2>/dev/null || exit 97; }} && exec "$@"'
    return [system_tool("unshare"), "--mount", "--propagation", "private", "sh", "-c", script, "sh", *command]


@pytest.mark.slow
def test_a_server_that_does_not_migrate_waits_for_ribot_migrate(
    data_dir: Path, retriever: Any, tmp_path: Path
) -> None:
    """As in the cluster: MIGRATE_ON_START=false, an empty database, the migration run apart (a Job), the
    code and system read-only."""
    database = f"sqlite:///{tmp_path / 'ribot.sqlite3'}"
    port = free_port()
    env = ribot_env(tmp_path, DATABASE_URL=database, MIGRATE_ON_START="false", RIBOT_DATA_DIR=str(data_dir))
    command = with_read_only_system([venv_tool("ribot"), "serve", "--host", "127.0.0.1", "--port", str(port)])
    server = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    log = Lines(server.stderr)
    try:
        wait_for(f"{base}/healthz", 200, 60)
        log.wait_for('"msg": "waiting for the database schema"', 180)  # model and index are in by then
        time.sleep(3)  # a poll or two later, still waiting: the schema never comes by itself
        code, body = get(f"{base}/readyz")
        assert (code, json.loads(body)["status"]) == (503, "starting")
        migrated = run([venv_tool("ribot"), "migrate"], env=env, cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        wait_for(f"{base}/readyz", 200, 30)
        metrics = {
            family.name for family in text_string_to_metric_families(get(f"{base}/metrics")[1].decode())
        }
        assert {
            "process_resident_memory_bytes",
            "process_cpu_seconds",
            "process_start_time_seconds",
        } <= metrics
        assert {"python_info", "python_gc_objects_collected"} <= metrics
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        # stderr is the Lines thread's alone: communicate() would race it for lines
        out = server.stdout.read()
        err = log.text()
    assert server.returncode == 0, err
    stdout = [json.loads(line) for line in out.splitlines()]  # fails on any line that is not JSON
    stderr = [json.loads(line) for line in err.splitlines()]
    assert [line["msg"] for line in stdout] == [
        f"ribot is listening on {base}/  (Ctrl+C stops it)",
        "loading the model and the knowledge base (the index is built on first start)…",
        "ribot is ready.",
    ]
    assert stdout[0]["url"] == f"{base}/"
    messages = [line["msg"] for line in stderr]
    assert messages.count("waiting for the database schema") == 1  # logged once, not at every poll
    assert "migrating the database" not in messages
    assert not any(message.startswith(("Context impl", "setup plugin")) for message in messages)
    assert (
        messages.index("waiting for the database schema")
        < messages.index("ready")
        < messages.index("stopped")
    )


def test_waiting_for_the_schema_ends_with_a_clear_error(tmp_path: Path) -> None:
    from bot.store.base import migrate
    from connectors.loading import SchemaNotReady, wait_for_schema

    url = f"sqlite:///{tmp_path / 'ribot.sqlite3'}"
    with ThreadPoolExecutor(max_workers=1) as pool:
        with pytest.raises(
            SchemaNotReady, match=r"at no migration, this version needs 0006_outbox_delivered; run"
        ):
            wait_for_schema(url, timeout=0.3, executor=pool, poll=0.05)
        migrate(url)
        wait_for_schema(url, timeout=0, executor=pool, poll=0.05)  # at the newest migration: returns at once


def test_waiting_for_the_schema_stops_when_the_server_does(tmp_path: Path) -> None:
    from connectors.loading import wait_for_schema

    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        wait_for_schema(f"sqlite:///{tmp_path / 'ribot.sqlite3'}", timeout=60, executor=pool, poll=0.05)


def different_value(name: str, field: Any) -> tuple[str, object]:
    """A value for the setting unlike its default: as text for a .env file, and as the setting should read."""
    default = field.default
    if isinstance(default, bool):
        return str(not default).lower(), not default
    if isinstance(default, int | float):
        return str(default + 1), default + 1
    if field.annotation in (Path, Path | None):
        return f"/srv/ribot/{name}", Path(f"/srv/ribot/{name}")
    if isinstance(default, dict):
        return '{"ask": "3/minute"}', {"ask": "3/minute"}
    if name == "ribot_encoder":
        return "sentence-transformers", "sentence-transformers"
    return f"from-dotenv-{name}", f"from-dotenv-{name}"


def test_every_setting_is_read_from_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    lines, expected = [], {}
    for name, field in Settings.model_fields.items():
        text, value = different_value(name, field)
        lines.append(f"{(field.alias or name).upper()}={text}")
        expected[name] = value
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("LOG_LEVEL", "warning")  # the environment wins over the file
    expected["log_level"] = "warning"
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert {name: getattr(settings, name) for name in expected} == expected
    assert len(expected) == len(Settings.model_fields) > 30


def test_the_teams_sdk_settings_are_read_from_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    """The SDK's own CONNECTIONS__… settings, such as a certificate instead of a secret, from .env too."""
    from connectors.teams.auth import build_auth

    certificate = tmp_path / "ribot.pfx"
    certificate.write_bytes(b"not read until a token is requested")
    prefix = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
    (tmp_path / ".env").write_text(
        f"{prefix}CLIENTID=0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11\n"
        f"{prefix}TENANTID=5a0c6d1e-2b3f-4c4d-8e5f-6a7b8c9d0e1f\n"
        f"{prefix}AUTHTYPE=certificate\n"
        f"{prefix}CERTPFXFILE={certificate}\n"
        f"{prefix}SCOPES=from-the-file\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(f"{prefix}SCOPES", "from-the-environment")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    sdk = settings.teams_sdk_environment()
    assert sdk[f"{prefix}AUTHTYPE"] == "certificate" and sdk[f"{prefix}SCOPES"] == "from-the-environment"
    validation = build_auth(settings).validation
    read = (validation.AUTH_TYPE, validation.CERT_PFX_FILE, validation.CLIENT_ID)
    assert read == ("certificate", str(certificate), "0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11")


def test_env_example_documents_every_setting() -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    names = {(field.alias or name).upper() for name, field in Settings.model_fields.items()}
    assert names - documented == set()
