"""Helpers for the deployment tests: the validators the test setup installs, and the repository's files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
TEAMS_SCHEMA = Path(__file__).resolve().parent / "teams_schema"


def venv_tool(name: str) -> str:
    """A command installed into the test venv by `make setup-test` (the `test` extra)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is missing from {path.parent}: run `make setup-test`")
    return str(path)


def system_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH; the deployment tests need it")
    return path


def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, **kwargs)  # type: ignore[call-overload]


def project_version() -> str:
    import tomllib

    version: str = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return version


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def create_pg_database(prefix: str) -> str:
    """A fresh, empty PostgreSQL database on the local server; `drop_pg_database` removes it."""
    import uuid

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ribot_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment for a `ribot` subprocess: no settings of the developer's shell, these instead."""
    import os

    prefixes = ("SLACK_", "CONNECTIONS__", "TEAMS_", "DATABASE_URL", "RIBOT_", "MIGRATE_", "SCHEMA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env |= {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "RIBOT_DATA_DIR": str(tmp_path / "data")}
    return env | settings
