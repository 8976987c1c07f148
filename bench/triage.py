"""Conversation engine figures on this machine: latency per triage turn (p50/p95) and turns per second with
several conversations at once, on SQLite and on PostgreSQL (a throwaway schema in the `test` database).

    .venv/bin/python bench/triage.py [--conversations 200] [--threads 4] [--no-postgres]

No model is loaded: the turns are assessment steps, which never need the Answerer."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.conversation import ConversationEngine  # noqa: E402
from bot.store import migrate, open_database  # noqa: E402
from bot.types import Answer, Turn  # noqa: E402

TEXTS = [
    "I want to collaborate informally with a researcher in Chile.",
    "Our department will sign a research agreement with a university in Japan.",
    "My course will include a study visit to a lab in Estonia.",
    "A programme wants an exchange agreement with a university in Italy.",
]


class NoAnswers:
    def ask(self, question: str) -> Answer:
        raise AssertionError(f"an assessment step asked the Answerer: {question}")


def one_conversation(engine: ConversationEngine, n: int, timings: list[float]) -> None:
    turn = Turn(platform="bench", conversation_id=uuid.uuid4().hex, user_id="bench")
    steps: list[tuple[str, dict[str, str] | None]] = [(TEXTS[n % len(TEXTS)], None)]
    for text, answers in steps:
        started = time.perf_counter()
        replies = engine.triage(Turn(**{**turn.__dict__, "text": text}), answers)
        timings.append(time.perf_counter() - started)
        question = replies[-1].question
        if question is not None:
            steps.append(("", {s: "no" for s in question["slots"]}))


def measure(url: str, conversations: int, threads: int) -> str:
    migrate(url)
    db = open_database(url)
    engine = ConversationEngine(NoAnswers(), db, ttl_hours=1)
    timings: list[float] = []
    queue = list(range(conversations))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                n = queue.pop()
            one_conversation(engine, n, timings)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    db.dispose()
    cuts = statistics.quantiles(timings, n=20)
    return (
        f"{len(timings)} turns in {elapsed:.1f} s = {len(timings) / elapsed:.0f} turns/s, {threads} threads; "
        f"per turn p50 {statistics.median(timings) * 1000:.1f} ms, p95 {cuts[18] * 1000:.1f} ms"
    )


def postgres_url() -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}", schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite     ", measure(f"sqlite:///{tmp}/bench.sqlite3", args.conversations, args.threads))
    if args.no_postgres:
        return
    import psycopg

    url, schema = postgres_url()
    try:
        print("PostgreSQL ", measure(url, args.conversations, args.threads))
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
