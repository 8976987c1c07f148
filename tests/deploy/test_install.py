"""The README's install resolves the CPU torch on an ordinary machine: `make setup`'s own commands, run in a
fresh venv with no pip configuration at all (this machine's points pip at a CPU wheel on disk, which hides
the difference), against the ordinary package index and PyTorch's CPU index.

PyTorch's CPU index is not reachable from this machine; then a loopback index stands in for it, serving the
same CPU wheel (the one this machine keeps on disk) under the same layout (PEP 503). With the real index
reachable, the test uses it. Either way the resolved set is read from pip's installation reports.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import REPO, run, system_tool

PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CONSTRAINTS = REPO / "constraints.txt"


def pins() -> dict[str, str]:
    out = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        out[re.sub(r"[-_.]+", "-", name).lower()] = version
    return out


def clean_pip_env() -> dict[str, str]:
    """No pip configuration: no config files, no PIP_* variables (find-links, constraints, extra indexes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/torch/", timeout=5):
            return True
    except OSError:
        return False


def local_cpu_wheel(version: str) -> Path:
    """The CPU wheel this machine's pip configuration points at (find-links)."""
    done = run(["pip", "config", "list"])
    places = re.findall(r"find-links='([^']+)'", done.stdout) + os.environ.get("PIP_FIND_LINKS", "").split()
    for place in places:
        for wheel in Path(place.removeprefix("file://")).glob(f"torch-{version.replace('+', '*')}-*.whl"):
            return wheel
    pytest.fail(
        f"PyTorch's CPU index is unreachable and no torch {version} wheel is on this machine to stand in for it; "
        f"the install command to check by hand is in the README (Quick start)"
    )


@pytest.fixture(scope="module")
def torch_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if reachable(PYTORCH_CPU_INDEX):
        yield PYTORCH_CPU_INDEX
        return
    wheel = local_cpu_wheel(pins()["torch"])
    root = tmp_path_factory.mktemp("cpu-index")
    project = root / "torch"
    project.mkdir()
    (project / wheel.name).symlink_to(wheel)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    href = wheel.name.replace("+", "%2B")
    (project / "index.html").write_text(
        f'<a href="{href}#sha256={digest}">{wheel.name}</a>\n', encoding="utf-8"
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def make(venv: Path, target: str, **variables: str) -> None:
    assignments = [f"{name}={value}" for name, value in {"VENV": str(venv), **variables}.items()]
    done = run(
        [system_tool("make"), "--no-print-directory", *assignments, str(venv / target)],
        cwd=REPO,
        env=clean_pip_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr


def report(path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(): item for item in data["install"]}


@pytest.mark.slow
def test_the_install_resolves_the_cpu_torch_without_machine_configuration(
    torch_index: str, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    make(venv, "bin/python")
    refuses_the_cuda_build_without_the_cpu_index(venv, tmp_path)

    torch_report, rest_report = tmp_path / "torch.json", tmp_path / "rest.json"
    make(venv, ".torch", TORCH_INDEX=torch_index, PIP_FLAGS=f"--quiet --report {torch_report}")
    installed = report(torch_report)
    assert list(installed) == ["torch"]  # alone: its dependencies come pinned with the rest
    assert installed["torch"]["metadata"]["version"] == pins()["torch"] == "2.13.0+cpu"
    assert installed["torch"]["download_info"]["url"].startswith(torch_index)

    make(venv, ".installed", PIP_FLAGS=f"--quiet --dry-run --report {rest_report}")
    rest = report(rest_report)
    assert "ribot" in rest and "chromadb" in rest and "sentence-transformers" in rest
    assert "torch" not in rest  # the CPU build installed first satisfies it
    cuda = sorted(name for name in rest if name.startswith(("nvidia-", "triton", "cuda-")))
    assert cuda == []
    expected = pins()
    off_pin = {name: item["metadata"]["version"] for name, item in rest.items() if name != "ribot"}
    off_pin = {name: version for name, version in off_pin.items() if expected.get(name) != version}
    assert off_pin == {}  # every package at the version constraints.txt pins
    for item in rest.values():
        if item["metadata"]["name"] != "ribot":
            assert not item["download_info"]["url"].startswith("file:"), item["download_info"]["url"]


def refuses_the_cuda_build_without_the_cpu_index(venv: Path, tmp_path: Path) -> None:
    """What the old README did on an ordinary machine: the ordinary index offers the CUDA build of torch, and
    the pinned +cpu build does not exist there, so the pins refuse to install."""
    pip = [str(venv / "bin" / "pip"), "install", "--dry-run"]
    plain = run(
        [*pip, "--quiet", "--report", str(tmp_path / "plain.json"), "torch==2.13.0"], env=clean_pip_env()
    )
    assert plain.returncode == 0, plain.stderr
    assert any(name.startswith("nvidia-") for name in report(tmp_path / "plain.json"))
    pinned = run([*pip, "-c", str(CONSTRAINTS), "torch==2.13.0"], env=clean_pip_env())
    assert pinned.returncode != 0
    assert "ResolutionImpossible" in pinned.stderr and "torch==2.13.0+cpu" in pinned.stdout + pinned.stderr
