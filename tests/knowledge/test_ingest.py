"""Ingestion is idempotent, follows changes in the sources, takes further documents and heals a broken index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.answering import Answerer
from bot.settings import Settings
from knowledge.corpus import SOURCES_DIR
from knowledge.index import open_retriever
from knowledge.ingest import ingest

pytestmark = pytest.mark.slow


@pytest.fixture()
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, folder)
    return folder


def test_second_run_embeds_nothing_and_changes_are_followed(tmp_path: Path, sources: Path) -> None:
    index = tmp_path / "index"
    first = ingest(index, sources, progress=False)
    assert first.added == first.total >= 35 and first.updated == first.removed == 0

    again = ingest(index, sources, progress=False)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, first.total)

    guide = sources / "ki-guidelines.md"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text.replace("to the dean for higher education.", "to the dean of education."), "utf-8")
    changed = ingest(index, sources, progress=False)
    assert (changed.added, changed.updated, changed.removed) == (0, 1, 0)

    guide.write_text(
        text.replace("# 4.5 KI's security forum", "# 4.5 KI's security forum\n\nExtra paragraph.")
    )
    grown = ingest(index, sources, progress=False)
    assert grown.added == 1 and grown.updated >= 1


def test_a_dropped_in_document_is_ingested_and_cited_by_document_and_section(
    tmp_path: Path, sources: Path
) -> None:
    (sources / "travel-policy.txt").write_text(
        "1 Scope\n\nThis policy covers business travel for staff.\n\n"
        "2 Booking\n\nStaff book travel to conferences abroad through the travel agency Kvarnresor.\n",
        encoding="utf-8",
    )
    retriever = open_retriever(Settings(ribot_data_dir=tmp_path / "data", ribot_sources_dir=sources))
    answer = Answerer(retriever).ask("Which travel agency books conference travel for staff?")
    top = answer.citations[0]
    assert (top.document, top.section, top.title) == ("travel-policy", "2", "Booking")
    assert "Kvarnresor" in top.quote

    (sources / "travel-policy.txt").unlink()
    report = ingest(tmp_path / "data" / "index", sources, progress=False)
    assert report.removed == 2


def test_a_corrupt_index_is_rebuilt_on_open(tmp_path: Path) -> None:
    settings = Settings(ribot_data_dir=tmp_path)
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    answer = Answerer(open_retriever(settings)).ask("What does the scientific ombudsman do?")
    assert answer.grounded and answer.citations[0].section == "4.2"
