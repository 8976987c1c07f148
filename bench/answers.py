"""Answer pipeline figures, side by side with peers measured in the same run on this machine:

- warm latency per question (p50/p95) of ribot's full answer, of the LangChain tutorial retrieval
  (RecursiveCharacterTextSplitter 500/50, Chroma, HuggingFaceEmbeddings of the same model, top 3), of the
  bare sentence-transformers query embedding and of the bare ONNX query embedding that ribot uses, taken in
  two orders. Question by question, all four on each question in a random order, so that load from other
  processes falls on all alike; but each run then follows another system's, and torch's idle OpenMP threads
  keep a core busy for several milliseconds after every call (measured here: the bare ONNX embedding took
  2.6 ms after itself and 4.2 ms right after a sentence-transformers call). One at a time, each system over
  every question before the next starts, the systems taking turns in a random order each round: as a server
  answers one question after another. And apart, one at a time with a pause of PAUSE_S before every
  question, once over the questions: as a chat assistant gets them, people's questions seconds apart, with
  the cores idle in between (from pauses of about 10 ms on, longer ones measured the same here);
- cold start of `ribot ask` (process start to first answer, index built) next to the time it takes merely
  to import torch and sentence-transformers, in alternation;
- peak RSS of a `ribot ask` process and of `ribot serve` once ready and warm; batch throughput; ingestion.

    .venv/bin/python bench/answers.py [--rounds 3]

Targets (issues 10 and 14), on 2 cores: ribot's warm p50 at most a third of the tutorial's and at most
1.5 x the bare ONNX embedding; cold start under half of the torch + sentence-transformers import; peak RSS
of `ribot ask` <= 400 MB and of `ribot serve` after load <= 450 MB."""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"
PROBE = REPO / "tests" / "data" / "probe.yaml"
RIBOT = REPO / ".venv" / "bin" / "ribot"
COLD_QUESTION = "Who decides whether a cooperation can proceed?"
PAUSE_S = 0.1


def questions() -> list[str]:
    out: list[str] = []
    for path in (EVAL / "dev.yaml", EVAL / "dev2.yaml", PROBE):
        if not path.exists():
            raise SystemExit(f"{path} is missing")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [q["q"] for q in data.get("questions", []) + data.get("out_of_scope", [])]
    return out


def child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process, measured for that process alone."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command} failed with exit code {process.returncode}")
    return wall, usage.ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def tutorial_retrieval(client: Any) -> Callable[[str], Any]:
    """The LangChain tutorial's retriever over the raw text, as a newcomer would build it."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from knowledge.embedding import document_embeddings
    from knowledge.verbatim import ORIGINAL

    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    store = Chroma(collection_name="tutorial", client=client, embedding_function=document_embeddings())
    store.add_documents(splitter.create_documents([ORIGINAL.read_text(encoding="utf-8")]))
    return lambda q: store.similarity_search(q, k=3)


Runs = dict[str, Callable[[str], Any]]


Latencies = dict[str, list[float]]


def warm(qs: list[str], rounds: int, data: Path) -> tuple[Latencies, Latencies, Latencies, float]:
    """Latencies (ms) per run name taken question by question, in turn and apart, and the batch
    throughput."""
    from sentence_transformers import SentenceTransformer

    from bot.answering import Answerer
    from bot.settings import get_settings
    from knowledge.embedding import model_path
    from knowledge.index import open_retriever
    from knowledge.ingest import chroma_client

    retriever = open_retriever(get_settings())
    answerer = Answerer(retriever)
    torch_model = SentenceTransformer(str(model_path()), device="cpu")
    runs: Runs = {
        "ribot answer": answerer.ask,
        "LangChain tutorial retrieval": tutorial_retrieval(chroma_client(data / "tutorial")),
        "bare sentence-transformers embedding": lambda q: torch_model.encode([q], normalize_embeddings=True),
        "bare ONNX embedding (ribot's)": lambda q: retriever.encoder.encode([q]),
    }
    for run in runs.values():
        run("warm up")
    shuffler = random.Random(14)
    by_question = question_by_question(runs, qs, rounds, shuffler)
    in_turn = one_at_a_time(runs, qs, rounds, shuffler)
    spaced = apart(runs, qs, shuffler)
    start = time.perf_counter()
    answerer.ask_many(qs)
    return by_question, in_turn, spaced, len(qs) / (time.perf_counter() - start)


def _timed(run: Callable[[str], Any], question: str) -> float:
    start = time.perf_counter()
    run(question)
    return (time.perf_counter() - start) * 1000


def question_by_question(runs: Runs, qs: list[str], rounds: int, shuffler: random.Random) -> Latencies:
    """Every run on a question, in a fresh order for every question, so that load from other processes falls
    on all alike. A run may follow any other, and what ran just before costs the next one: torch's idle
    threads keep a core busy for a while after each call, and each model's weights must come back into the
    cache."""
    latencies: Latencies = {name: [] for name in runs}
    names = list(runs)
    for _ in range(rounds):
        for q in qs:
            shuffler.shuffle(names)
            for name in names:
                latencies[name].append(_timed(runs[name], q))
    return latencies


def one_at_a_time(runs: Runs, qs: list[str], rounds: int, shuffler: random.Random) -> Latencies:
    """Each run on every question before the next run starts, as a server answers one question after
    another; the runs take turns in a fresh order every round."""
    latencies: Latencies = {name: [] for name in runs}
    names = list(runs)
    for _ in range(rounds):
        shuffler.shuffle(names)
        for name in names:
            latencies[name] += [_timed(runs[name], q) for q in qs]
    return latencies


def apart(runs: Runs, qs: list[str], shuffler: random.Random) -> Latencies:
    """Each run on every question with a pause before each, the runs in a random order."""
    latencies: Latencies = {name: [] for name in runs}
    for name in shuffler.sample(list(runs), len(runs)):
        for q in qs:
            time.sleep(PAUSE_S)
            latencies[name].append(_timed(runs[name], q))
    return latencies


def cold(env: dict[str, str], times: int) -> tuple[list[tuple[float, float]], list[float]]:
    asks, imports = [], []
    for _ in range(times):
        asks.append(child([str(RIBOT), "ask", "--json", COLD_QUESTION], env))
        imports.append(child([sys.executable, "-c", "import torch, sentence_transformers"], env)[0])
    return asks, imports


def serve_rss(env: dict[str, str], qs: list[str]) -> tuple[float, float, float]:
    """Seconds to ready, and peak and current RSS (MB) of `ribot serve` after load and 50 answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    command = [str(RIBOT), "serve", "--port", str(port)]
    started = time.perf_counter()
    server = subprocess.Popen(command, env={**env, "LOG_LEVEL": "warning"}, stderr=subprocess.DEVNULL)
    try:
        ready = _wait_ready(url, started)
        for q in (qs * 2)[:50]:
            body = json.dumps({"question": q}).encode()
            request = urllib.request.Request(f"{url}/api/ask", body, {"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=30).read()
        status = Path(f"/proc/{server.pid}/status").read_text()
        memory = {
            k: int(v.split()[0]) / 1024
            for k, v in (line.split(":", 1) for line in status.splitlines())
            if k in ("VmHWM", "VmRSS")
        }
        return ready, memory["VmHWM"], memory["VmRSS"]
    finally:
        server.terminate()
        server.wait(60)


def _wait_ready(url: str, started: float) -> float:
    while time.perf_counter() - started < 300:
        try:
            if urllib.request.urlopen(f"{url}/readyz", timeout=5).status == 200:
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise SystemExit("ribot serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=5, help="cold starts (and imports) to take the median of")
    args = parser.parse_args()
    qs = questions()
    with tempfile.TemporaryDirectory(prefix="ribot-bench-") as tmp:
        data = Path(tmp)
        env = {
            **os.environ,
            "RIBOT_DATA_DIR": str(data),
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "RIBOT_RATE_LIMITS": "{}",  # one client address asks every question: measure speed, not limits
        }
        ingest_s, ingest_mb = child([str(RIBOT), "ingest", "--quiet"], env)
        asks, imports = cold(env, args.cold)
        serve_ready, serve_peak, serve_now = serve_rss(env, qs)
        os.environ.update(env)
        by_question, in_turn, spaced, batch = warm(qs, args.rounds, data)
    print(
        f"questions            {len(qs)} (dev, dev2, probe) x {args.rounds} rounds, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    report_warm("warm latency per question, question by question (runs interleaved)", by_question)
    report_warm("warm latency per question, one run at a time (each over all questions in turn)", in_turn)
    report_warm(
        f"warm latency per question, apart (a pause of {PAUSE_S * 1000:.0f} ms before each, once)", spaced
    )
    print(f"batch throughput     {batch:.0f} answers/s (one ask_many over {len(qs)} questions)")
    report(asks, imports, (serve_ready, serve_peak, serve_now), (ingest_s, ingest_mb))


def report_warm(title: str, latencies: Latencies) -> None:
    p50 = {name: statistics.median(values) for name, values in latencies.items()}
    print(title)
    for name, values in latencies.items():
        print(f"  {name:<38} p50 {p50[name]:6.2f} ms   p95 {percentile(values, 0.95):6.2f} ms")
    ribot, tutorial = p50["ribot answer"], p50["LangChain tutorial retrieval"]
    onnx, torch_embedding = p50["bare ONNX embedding (ribot's)"], p50["bare sentence-transformers embedding"]
    print(f"  ribot p50 / tutorial p50             {ribot / tutorial:.2f}   (target <= 0.33)")
    print(f"  ribot p50 / bare ONNX embedding p50  {ribot / onnx:.2f}   (target <= 1.50)")
    print(f"  ONNX / sentence-transformers p50     {onnx / torch_embedding:.2f}")


def report(
    asks: list[tuple[float, float]],
    imports: list[float],
    served: tuple[float, float, float],
    ingested: tuple[float, float],
) -> None:
    cold_s = statistics.median(a[0] for a in asks)
    import_s = statistics.median(imports)
    print(
        f"cold start           `ribot ask` {cold_s:.2f} s, median of {len(asks)}, process start to first answer"
    )
    print(f"import time          torch + sentence-transformers {import_s:.2f} s, median of {len(imports)}")
    print(f"  cold start / import                  {cold_s / import_s:.2f}   (target < 0.50)")
    print(f"peak RSS             `ribot ask` {max(a[1] for a in asks):.0f} MB   (target <= 400 MB)")
    print(
        f"                     `ribot serve` after load and 50 answers: peak {served[1]:.0f} MB, now "
        f"{served[2]:.0f} MB, ready after {served[0]:.2f} s   (target <= 450 MB)"
    )
    print(
        f"ingestion            {ingested[0]:.2f} s for a fresh index with the ONNX export, peak {ingested[1]:.0f} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
