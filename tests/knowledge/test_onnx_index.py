"""The query path runs on ONNX Runtime alone, and the files kept with the index repair themselves: the
exported graph and the cached passage and unit vectors are rebuilt when missing, stale or damaged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bot.answering import Answerer
from bot.settings import Settings
from knowledge.corpus import SOURCES_DIR
from knowledge.embedding import (
    EMBEDDING_DIM,
    GRAPH_FILE,
    IDLE_S,
    WORDS_FILE,
    OnnxEncoder,
    SentenceTransformerEncoder,
)
from knowledge.index import open_encoder, open_retriever, open_unit_vectors
from knowledge.index_files import (
    ENCODER_DIR,
    EXPORT_RECIPE,
    MANIFEST,
    file_digest,
    prepare_encoder,
    read_json,
)
from knowledge.ingest import PASSAGE_VECTORS
from tests.ports import free_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ML = ["torch", "transformers", "sentence_transformers"]
QUESTION = "Who decides whether a cooperation can proceed?"
SERVE_ONCE = """
import asyncio, json, sys, urllib.request
from bot.settings import Settings
from connectors.cli_serve import serve

def post(port):
    body = json.dumps({"question": sys.argv[2]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask", data=body,
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())

def ready(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).status == 200
    except OSError:
        return False

async def main():
    port, stop = int(sys.argv[1]), asyncio.Event()
    server = asyncio.create_task(serve(Settings(port=port), stop, announce=False))
    for _ in range(600):
        if await asyncio.to_thread(ready, port):
            break
        await asyncio.sleep(0.1)
    answer = await asyncio.to_thread(post, port)
    stop.set()
    await server
    return answer

answer = asyncio.run(main())
"""
REPORT = "\nprint(json.dumps({'answer': answer, 'modules': sorted(m for m in %r if m in sys.modules)}))\n"
RUN_CLI = """
import io, json, sys, contextlib
from connectors.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(sys.argv[1:])
answer = out.getvalue()
"""


def _run(code: str, args: list[str], data_dir: Path, stdin: str = "", **env: str) -> dict[str, Any]:
    """Runs `code` in a fresh interpreter on `data_dir`'s index (and a database of its own)."""
    database = f"sqlite:///{data_dir}/test-{len(os.listdir(data_dir))}.sqlite3"
    environment = {**os.environ, "RIBOT_DATA_DIR": str(data_dir), "DATABASE_URL": database, **env}
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT % [*ML, "chromadb"], *args],
        cwd=REPO,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_ask_chat_triage_and_serve_import_no_ml_library_and_no_vector_store(index_copy: Path) -> None:
    asked = _run(RUN_CLI, ["ask", "--json", QUESTION], index_copy)
    assert json.loads(asked["answer"])["citations"][0]["section"] == "3.2"
    chat = _run(RUN_CLI, ["chat", "--summary-dir", str(index_copy)], index_copy, QUESTION + "\n")
    assert "3.2" in chat["answer"]
    assessment = json.dumps({"text": "research with a lab abroad", "answers": {}}) + "\n"
    triage = _run(RUN_CLI, ["triage", "--json"], index_copy, assessment)
    assert json.loads(triage["answer"])["status"] == "need_input"
    served = _run(SERVE_ONCE, [str(free_port()), QUESTION], index_copy)
    assert served["answer"]["citations"][0]["section"] == "3.2"
    for report in (asked, chat, triage, served):
        assert report["modules"] == []


def test_eval_imports_no_ml_library(index_copy: Path) -> None:
    """The LangChain baseline embeds with the same encoder; only its own Chroma collection loads chromadb."""
    dev = REPO.parent / "shared" / "eval" / "dev.yaml"
    report = _run(RUN_CLI, ["eval", str(dev), "--json"], index_copy)
    assert json.loads(report["answer"])["baseline"]["recall_at_3"] > 0
    assert report["modules"] == ["chromadb"]


def test_a_changed_source_is_embedded_on_open_without_torch(index_copy: Path, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, sources)
    (sources / "travel-policy.txt").write_text(
        "1 Booking\n\nStaff book travel to conferences abroad through the travel agency Kvarnresor.\n",
        "utf-8",
    )
    asked = _run(
        RUN_CLI,
        ["ask", "--json", "Which travel agency books conference travel?"],
        index_copy,
        RIBOT_SOURCES_DIR=str(sources),
    )
    assert "Kvarnresor" in json.loads(asked["answer"])["citations"][0]["quote"]
    assert asked["modules"] == ["chromadb"]  # the index was brought up to date: Chroma, but no torch

    (sources / "travel-policy.txt").unlink()
    reopened = open_retriever(Settings(ribot_data_dir=index_copy, ribot_sources_dir=sources))
    cached = json.loads((index_copy / "index" / f"{PASSAGE_VECTORS}.json").read_text(encoding="utf-8"))
    assert [key for key, _ in cached["rows"]] == list(reopened.passages)
    assert not any(key.startswith("travel-policy") for key in reopened.passages)


@pytest.mark.parametrize("name", [GRAPH_FILE, WORDS_FILE])
def test_damaged_graph_is_exported_again_and_vectors_are_kept(index_copy: Path, name: str) -> None:
    settings = Settings(ribot_data_dir=index_copy)
    damaged = settings.index_dir / ENCODER_DIR / name
    size = damaged.stat().st_size
    vectors = settings.index_dir / f"{PASSAGE_VECTORS}.npy"
    kept = vectors.stat().st_mtime_ns
    damaged.write_bytes(damaged.read_bytes()[:1000])
    answer = Answerer(open_retriever(settings)).ask("What does the scientific ombudsman do?")
    assert answer.grounded and answer.citations[0].section == "4.2"
    assert damaged.stat().st_size == size
    assert vectors.stat().st_mtime_ns == kept  # the vectors belong to the model, which did not change


def test_a_word_table_of_the_wrong_size_is_refused_by_name(index_copy: Path) -> None:
    folder = index_copy / "index" / ENCODER_DIR
    words = folder / WORDS_FILE
    words.write_bytes(words.read_bytes()[: EMBEDDING_DIM * 4 * 10])
    with pytest.raises(ValueError, match=f"{WORDS_FILE} holds 3840 numbers, not 30522 rows of 384"):
        OnnxEncoder(folder)


def test_reinstalled_model_with_the_same_content_keeps_the_graph(index_copy: Path) -> None:
    index_dir = index_copy / "index"
    manifest_path = index_dir / ENCODER_DIR / MANIFEST
    manifest = read_json(manifest_path)
    assert manifest is not None
    before = manifest["model"], (index_dir / ENCODER_DIR / GRAPH_FILE).stat().st_mtime_ns
    manifest["model_files"] = {name: [size, 1] for name, (size, _) in manifest["model_files"].items()}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    files = prepare_encoder(index_dir)
    assert (files.model, (files.folder / GRAPH_FILE).stat().st_mtime_ns) == before
    refreshed = read_json(manifest_path)
    assert refreshed is not None and refreshed["model_files"] != manifest["model_files"]


def test_graph_of_an_older_export_recipe_is_exported_again(index_copy: Path) -> None:
    index_dir = index_copy / "index"
    manifest_path = index_dir / ENCODER_DIR / MANIFEST
    manifest = read_json(manifest_path)
    assert manifest is not None
    current = manifest["model"]
    graph = index_dir / ENCODER_DIR / GRAPH_FILE
    graph.write_bytes(b"a graph the older recipe made")
    manifest.update(
        {
            "recipe": "an older recipe",
            "model": "the digest the older recipe gave",
            GRAPH_FILE: file_digest(graph),
        }
    )
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert prepare_encoder(index_dir).model == current
    assert graph.stat().st_size > 10_000_000
    refreshed = read_json(manifest_path)
    assert refreshed is not None and refreshed["recipe"] == EXPORT_RECIPE and refreshed["model"] == current


@pytest.mark.parametrize("damage", ["missing", "garbage", "other model"])
def test_passage_vectors_are_rebuilt_from_the_index(index_copy: Path, retriever: Any, damage: str) -> None:
    stem = index_copy / "index" / PASSAGE_VECTORS
    if damage == "missing":
        stem.with_suffix(".npy").unlink()
    elif damage == "garbage":
        stem.with_suffix(".npy").write_bytes(b"\x93NUMPY not really")
    else:
        index = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        stem.with_suffix(".json").write_text(json.dumps({**index, "model": "another"}), encoding="utf-8")
    reopened = open_retriever(Settings(ribot_data_dir=index_copy))
    assert np.array_equal(reopened.vectors, retriever.vectors)
    assert json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))["model"] != "another"


class RecordingEncoder:
    """The retriever's encoder, noting which texts it is asked to embed."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.asked: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return np.asarray(self.encoder.encode(texts))


def test_unit_vectors_are_cached_and_only_new_or_changed_texts_embedded(
    index_copy: Path, retriever: Any
) -> None:
    index_dir = index_copy / "index"
    units = [(f"s{n}", f"Statement number {n} about the risk assessment.") for n in range(100)]
    encoder = RecordingEncoder(retriever.encoder)
    first = open_unit_vectors(index_dir, units, encoder)
    assert first.shape == (100, EMBEDDING_DIM) and first.dtype == np.float32
    assert np.abs(first - retriever.encoder.encode([t for _, t in units])).max() < 1e-5
    assert len(encoder.asked) == 100

    encoder.asked.clear()
    assert np.array_equal(open_unit_vectors(index_dir, units, encoder), first) and encoder.asked == []

    changed = [("s1", "The head of department is informed."), *units[2:50], ("new", "Who signs?"), units[0]]
    again = open_unit_vectors(index_dir, changed, encoder)
    assert encoder.asked == ["The head of department is informed.", "Who signs?"]
    assert np.array_equal(again[1:49], first[2:50]) and np.array_equal(again[-1], first[0])
    assert (
        np.abs(again[0] - retriever.encoder.encode(["The head of department is informed."])[0]).max() < 1e-5
    )
    cached = json.loads((index_dir / "units.json").read_text(encoding="utf-8"))
    assert [key for key, _ in cached["rows"]] == [unit_id for unit_id, _ in changed]  # stale ones dropped


def test_unit_vectors_bad_input(index_copy: Path, retriever: Any) -> None:
    index_dir = index_copy / "index"
    with pytest.raises(ValueError, match="unique"):
        open_unit_vectors(index_dir, [("a", "one"), ("a", "two")], retriever.encoder)
    assert open_unit_vectors(index_dir, [], retriever.encoder).shape == (0, EMBEDDING_DIM)
    (index_dir / "units.npy").write_bytes(b"damaged")
    encoder = RecordingEncoder(retriever.encoder)
    vectors = open_unit_vectors(index_dir, [("a", ""), ("b", "x " * 5000)], encoder)
    assert len(encoder.asked) == 2 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_sentence_transformers_encoder_is_selectable_and_answers_alike(
    data_dir: Path, answerer: Any, development_questions: list[str]
) -> None:
    """The 8-bit graph's question vectors and sentence-transformers' full-precision ones lead to the same
    answers on the development sets: the same questions declined, the same first section cited, the same
    first sentence."""
    settings = Settings(ribot_data_dir=data_dir, ribot_encoder="sentence-transformers")
    compared = open_retriever(settings)
    assert isinstance(compared.encoder, SentenceTransformerEncoder)
    questions = development_questions
    ours, theirs = answerer.ask_many(questions), Answerer(compared).ask_many(questions)
    assert [_gist(a) for a in ours] == [_gist(a) for a in theirs]
    assert sum(a.grounded for a in ours) > 80 and sum(not a.grounded for a in ours) > 20
    with pytest.raises(ValidationError, match="onnx"):
        Settings(ribot_encoder="torch")


def _gist(answer: Any) -> tuple[bool, str, str]:
    first = answer.citations[0].section if answer.citations else ""
    return answer.grounded, first, answer.answer.split(". ")[0]


@pytest.mark.parametrize(("spin_us", "allowed"), [(0, "0"), (250, "1")])
def test_embedding_threads_wait_awake_as_long_as_the_setting_says(
    data_dir: Path, spin_us: int, allowed: str
) -> None:
    settings = Settings(ribot_data_dir=data_dir, encoder_spin_us=spin_us, encoder_threads=2)
    encoder = open_encoder(prepare_encoder(settings.index_dir), settings)
    pooled, alone = (session.get_session_options() for session in encoder.sessions)
    assert pooled.intra_op_num_threads == 2
    assert pooled.get_session_config_entry("session.intra_op.allow_spinning") == allowed
    assert pooled.get_session_config_entry("session.intra_op.spin_duration_us") == str(spin_us)
    assert alone.intra_op_num_threads == 1  # for passes after a pause: it never waits awake
    assert alone.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert encoder.encode(["Who decides?"]).shape == (1, EMBEDDING_DIM)
    with pytest.raises(ValidationError, match="encoder_spin_us"):
        Settings(encoder_spin_us=-1)


def test_passes_after_a_pause_are_weighed_on_both_sessions_which_give_the_same_vectors(
    data_dir: Path,
) -> None:
    """Passes that follow one another run on the threads that wait awake; passes after a pause try both
    sessions before choosing, and every session gives every text the same vector, bit for bit."""
    encoder = OnnxEncoder(data_dir / "index" / ENCODER_DIR, threads=2)
    texts = ["Who decides whether a cooperation can proceed?", "ok", "Vem ger råd om etiska frågor?"]
    expected = encoder.encode(texts)  # its first pass, after a pause, goes to the first session
    seen = [encoder.encode(texts)]  # back to back: the first session, and no cost weighed
    weighed = [len(costs) for costs in encoder._after_idle._costs]
    for _ in range(5):  # three passes on each session, the first three on the first
        time.sleep(2 * IDLE_S)
        seen.append(encoder.encode(texts))
    assert weighed == [1, 0]
    assert [len(costs) for costs in encoder._after_idle._costs] == [3, 3]
    assert all(np.array_equal(vectors, expected) for vectors in seen)
