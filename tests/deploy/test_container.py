"""The container build and the compose file, checked statically (no Docker engine runs here): hadolint on the
Dockerfile, the compose-spec schema on compose.yaml, and the properties the platform team relies on."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.tools import DEPLOY, REPO, project_version, run, venv_tool

DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_hadolint_finds_nothing() -> None:
    done = run([venv_tool("hadolint"), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)])
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_hadolint_catches_what_the_old_dockerfile_did(tmp_path: Path) -> None:
    old = tmp_path / "Dockerfile"
    old.write_text(
        "FROM python:3.11-slim-bookworm\nRUN useradd --system ribot\nUSER ribot\nCMD ribot serve\n",
        encoding="utf-8",
    )
    done = run([venv_tool("hadolint"), "--no-color", str(old)])
    assert done.returncode != 0
    assert "DL3025" in done.stdout and "DL3066" in done.stdout  # shell-form CMD, non-numeric USER


def test_the_heavy_layer_is_built_before_the_code_is_copied() -> None:
    steps = instructions()
    torch_step = next(i for i, (kind, rest) in enumerate(steps) if kind == "RUN" and "torch==" in rest)
    first_code = next(i for i, (kind, rest) in enumerate(steps) if kind == "COPY" and rest.startswith("bot"))
    assert torch_step < first_code
    copied_before = " ".join(rest for kind, rest in steps[:torch_step] if kind == "COPY")
    assert set(copied_before.split()) == {"constraints.txt", "pyproject.toml", "README.md", "./"}
    assert '--index-url "${TORCH_INDEX}"' in steps[torch_step][1]
    assert ("ARG", "TORCH_INDEX=https://download.pytorch.org/whl/cpu") in steps


def test_user_healthcheck_and_command_are_exec_form_and_numeric() -> None:
    steps = dict(instructions())
    assert re.fullmatch(r"\d+:\d+", steps["USER"])
    healthcheck = steps["HEALTHCHECK"]
    assert re.search(r"CMD \[\"python\", \"-c\", .*/healthz", healthcheck)
    assert steps["CMD"] == '["ribot", "serve"]'


def test_the_build_context_is_what_the_dockerfile_copies() -> None:
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # an allow-list: .venv, .ribot, .git, .env, node_modules stay out
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for kind, rest in instructions():
        if kind == "COPY":
            copied.update(rest.split()[:-1])
    assert copied == allowed
    for source in copied:
        assert (REPO / source).exists(), source


def test_compose_validates_against_the_compose_spec() -> None:
    done = run([venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_spec_check_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  ribot:\n    image: x\n    ports: {3978: 3978}\n", encoding="utf-8")
    done = run([venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(bad)])
    assert done.returncode != 0


def test_compose_keeps_the_password_out_and_the_ports_on_loopback() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    services = compose["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD:?" in services["ribot"]["environment"]["DATABASE_URL"]
    example = (DEPLOY / "compose.env.example").read_text(encoding="utf-8")
    assert re.search(r"^POSTGRES_PASSWORD=", example, re.MULTILINE)
    assert services["ribot"]["image"] == f"ghcr.io/karolinska/ribot:{project_version()}"


def test_compose_migrates_once_before_the_server_starts() -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert services["migrate"]["command"] == ["ribot", "migrate"]
    assert services["ribot"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["ribot"]["environment"]["MIGRATE_ON_START"] == "false"
    assert services["ribot"]["read_only"] is True and services["ribot"]["cap_drop"] == ["ALL"]
