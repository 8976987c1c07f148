"""Answer pipeline figures on this machine: warm latency per question (p50/p95), batch throughput, cold start
(process start to first answer, index already built), ingestion time and peak memory.

    .venv/bin/python bench/answers.py [--rounds 5]

Targets on a 2-core machine: warm p95 <= 30 ms, cold start <= 8 s, peak RSS <= 800 MB."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "eval" / "dev.yaml"
PROBE = REPO / "tests" / "data" / "probe.yaml"


def questions() -> list[str]:
    out: list[str] = []
    for path in (DEV, PROBE):
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            out += [q["q"] for q in data.get("questions", []) + data.get("out_of_scope", [])]
    return out


def child(args: list[str], data_dir: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `ribot` process."""
    env = {**os.environ, "RIBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "ribot"), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    # RUSAGE_CHILDREN is the maximum over finished children, so measure each kind in a fresh parent state.
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    qs = questions()
    with tempfile.TemporaryDirectory(prefix="ribot-bench-") as tmp:
        data = Path(tmp)
        ingest_s, ingest_mb = child(["ingest", "--quiet"], data)
        colds = [
            child(["ask", "--json", "Who decides whether a cooperation can proceed?"], data) for _ in range(3)
        ]
        os.environ["RIBOT_DATA_DIR"] = str(data)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from bot.answering import Answerer
        from knowledge.index import open_retriever

        answerer = Answerer(open_retriever())
        answerer.ask("warm up")
        latencies = []
        for _ in range(rounds):
            for q in qs:
                start = time.perf_counter()
                answerer.ask(q)
                latencies.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for _ in range(rounds):
            answerer.ask_many(qs)
        batch_rate = rounds * len(qs) / (time.perf_counter() - start)
        own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"questions            {len(qs)} x {rounds} rounds")
    print(
        f"warm latency         p50 {statistics.median(latencies):.1f} ms   p95 {percentile(latencies, 0.95):.1f} ms"
        f"   max {max(latencies):.1f} ms   (target p95 <= 30 ms)"
    )
    print(f"batch throughput     {batch_rate:.0f} answers/s (ask_many over {len(qs)} questions)")
    print(
        f"cold start           {statistics.median(c[0] for c in colds):.2f} s median of 3, "
        f"process start to first answer, index built   (target <= 8 s)"
    )
    print(f"ingestion            {ingest_s:.2f} s for a fresh index (process wall time)")
    print(
        f"peak RSS             {max(ingest_mb, *(c[1] for c in colds)):.0f} MB in a `ribot` process, "
        f"{own_mb:.0f} MB in this warm benchmark process   (target <= 800 MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
