"""Session fixtures shared by every part's tests: a real index and a real answerer, built once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEV_SET = SHARED / "eval" / "dev.yaml"
DEV2_SET = SHARED / "eval" / "dev2.yaml"
# The development sets: the shared ones and ribot's own third one (tests/data/holdout.yaml is never tuned on).
DEV_SETS = [DEV_SET, DEV2_SET, *(REPO / "tests" / "data" / f"dev{n}.yaml" for n in (3, 4, 5, 6))]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ribot-data")


@pytest.fixture(scope="session")
def settings_factory(data_dir: Path) -> Callable[..., Any]:
    """Settings for tests: the session's index, a database of the caller's choice."""
    from bot.settings import Settings

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"ribot_data_dir": data_dir}
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
def retriever(settings_factory: Callable[..., Any]) -> Any:
    from knowledge.index import open_retriever

    return open_retriever(settings_factory())


@pytest.fixture()
def index_copy(tmp_path: Path, data_dir: Path, retriever: Any) -> Path:
    """A data folder of the test's own with a copy of the session's built index, free to damage: a process
    started on it opens the index instead of building it (about 25 s here)."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir / "index", copy / "index")
    return copy


@pytest.fixture(scope="session")
def answerer(retriever: Any) -> Any:
    from bot.answering import Answerer

    return Answerer(retriever)


def _development_set(path: Path) -> dict[str, Any]:
    import yaml

    if not path.exists():
        pytest.fail(f"the development set {path} is missing: shared/ must sit beside the repository")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def dev_set() -> dict[str, Any]:
    return _development_set(DEV_SET)


@pytest.fixture(scope="session")
def dev2_set() -> dict[str, Any]:
    return _development_set(DEV2_SET)


@pytest.fixture(scope="session")
def development_questions(dev_set: dict[str, Any], dev2_set: dict[str, Any]) -> list[str]:
    """Every question of dev.yaml and dev2.yaml, in scope or not."""
    return [
        case["q"]
        for data in (dev_set, dev2_set)
        for key in ("questions", "out_of_scope")
        for case in data.get(key, [])
    ]


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No Slack/Teams/database settings leaking in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "CONNECTIONS__", "TEAMS_", "DATABASE_URL", "RIBOT_")):
            monkeypatch.delenv(name, raising=False)
    yield
