"""The layering rules: the core imports no connector, no chat SDK and no ML library, and stays fast to import."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import bot

REPO = Path(__file__).resolve().parent.parent
HEAVY = [
    "torch",
    "sentence_transformers",
    "transformers",
    "chromadb",
    "langchain_core",
    "langchain_chroma",
    "slack_bolt",
    "slack_sdk",
    "microsoft_agents",
    "aiohttp",
    "connectors",
]


def test_import_linter_contracts_hold() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_importing_every_core_module_loads_nothing_heavy() -> None:
    modules = [f"bot.{m.name}" for m in pkgutil.walk_packages(bot.__path__) if "migrations" not in m.name]
    assert "bot.answering" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_no_module_imports_itself_through_others() -> None:
    """No import cycles, not even behind imports inside functions or TYPE_CHECKING blocks."""
    import grimp

    graph = grimp.build_graph("bot", "knowledge", "connectors")
    cycles = [
        (a, b)
        for a in sorted(graph.modules)
        for b in graph.find_modules_directly_imported_by(a)
        if a != b and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []
