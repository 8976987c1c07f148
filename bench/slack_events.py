"""Slack delivery benchmark: signed Events API deliveries to `ribot serve`'s `/slack/events`, with Slack-style
retries (same body and event_id, `X-Slack-Retry-Num`) mixed in, against a local stand-in for Slack's Web API.

Run from the repository root:

    .venv/bin/python bench/slack_events.py                      # 200 events, concurrency 50, one process
    .venv/bin/python bench/slack_events.py --processes 2 \
        --database-url postgresql://postgres@127.0.0.1:5432/DB  # two processes sharing one database;
                                                                # retries go to the other process

Two processes on one SQLite file work, but at this concurrency their writers queue on SQLite's lock and some
turns fail after the lock timeout; use PostgreSQL for more than one process.

Every delivery is stored in the database (the durable inbox) before it is acknowledged, and answered
afterwards. Prints the acknowledgement latency (p50, p95, max; Slack gives up and retries after 3 s; target p95
<= 150 ms on 2 cores) beside the latency of `/healthz` measured in the same run, and checks that every event
was answered exactly once: each user message gets one reply set, no part of it twice, and every retry is
recognised.
"""

from __future__ import annotations

import argparse
import asyncio
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.store.base import open_database
from bot.store.inbox import count_open

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "slack"))

from slack_payloads import SlackSender, app_mention, event_callback, message  # noqa: E402
from slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn, StandInThread  # noqa: E402

QUESTIONS = [
    "Who carries out the risk assessment for an individual research collaboration?",
    "Our partners overseas will perform animal experiments. What do we need to do?",
    "Where do I start if I need support with a risk assessment?",
    "Who gives guidance on security issues in international collaborations?",
    "Which five areas does a risk assessment consider?",
    "Vem kontaktar jag om djurförsök utomlands?",
]
ACK_LIMIT = 3.0
ACK_TARGET_MS = 150.0  # on 2 cores: every delivery is stored in the database before it is acknowledged


@dataclass
class Delivery:
    body: dict[str, Any]
    channel: str
    thread_ts: str | None  # where the answer goes
    retry: int = 0
    server: int = 0


@dataclass
class Results:
    acks: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    peer: list[float] = field(default_factory=list)  # /healthz latencies while the deliveries are sent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    standin: SlackStandIn, data_dir: Path, database_url: str, log_dir: Path, n: int
) -> tuple[Any, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "RIBOT_"))}
    env.update(
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=standin.api_url,
        RIBOT_DATA_DIR=str(data_dir),
        RIBOT_RATE_LIMITS="{}",  # one workspace and few users send every event: measure speed, not limits
        DATABASE_URL=database_url,
        LOG_LEVEL="warning",
    )
    log = (log_dir / f"ribot-{n}.log").open("w")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "ribot"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=log_dir,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(url: str, process: Any, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"ribot serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("ribot serve did not become ready")


def build_deliveries(events: int, retry_share: float, servers: int, seed: int) -> tuple[list[Delivery], int]:
    rng = random.Random(seed)
    originals: list[Delivery] = []
    for i in range(events):
        question = QUESTIONS[i % len(QUESTIONS)]
        if i % 3 == 2:
            channel = f"D0BENCH{i:05d}"
            event = message(channel, f"U0BENCH{i % 40:03d}", question, channel_type="im")
            originals.append(Delivery(event_callback(event), channel, None))
        else:
            channel = f"C0BENCH{i % 10:02d}"
            event = app_mention(channel, f"U0BENCH{i % 40:03d}", question)
            originals.append(Delivery(event_callback(event), channel, event["ts"]))
    deliveries = list(originals)
    for original in originals:
        original.server = rng.randrange(servers)
        if rng.random() < retry_share:
            for attempt in range(1, rng.choice((1, 1, 2)) + 1):
                server = (original.server + attempt) % servers
                deliveries.append(
                    Delivery(original.body, original.channel, original.thread_ts, attempt, server)
                )
    rng.shuffle(deliveries)
    return deliveries, len(deliveries) - len(originals)


async def send_all(urls: list[str], deliveries: list[Delivery], concurrency: int) -> Results:
    results = Results()
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(delivery: Delivery) -> None:
            sender = SlackSender(f"{urls[delivery.server]}/slack/events", SIGNING_SECRET)
            async with limit:
                started = time.perf_counter()
                response = await sender.send_event(session, delivery.body, retry=delivery.retry)
                results.acks.append(time.perf_counter() - started)
                results.statuses[response.status] = results.statuses.get(response.status, 0) + 1

        sending = asyncio.ensure_future(asyncio.gather(*(one(d) for d in deliveries)))
        async with aiohttp.ClientSession(timeout=timeout) as own:  # not queued behind the deliveries
            while not sending.done():  # the peer: a request that stores nothing, in the same run and load
                started = time.perf_counter()
                async with own.get(f"{urls[0]}/healthz") as response:
                    await response.read()
                results.peer.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)
        await sending
    return results


def turns(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("ribot_turns_total{") and 'surface="slack"' in line:
            outcome = line.split('outcome="')[1].split('"')[0]
            found[outcome] = found.get(outcome, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


def server_latency(urls: list[str]) -> dict[str, float]:
    """p50 and p95 of the servers' own time per /slack/events request, from the latency histogram's
    buckets (the upper bound of the bucket the percentile falls in)."""
    buckets: dict[float, float] = {}
    for url in urls:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith("ribot_http_request_duration_seconds_bucket{") and 'surface="slack"' in line:
                bound = line.split('le="')[1].split('"')[0]
                le = float("inf") if bound == "+Inf" else float(bound)
                buckets[le] = buckets.get(le, 0.0) + float(line.rsplit(" ", 1)[1])
    total = buckets.get(float("inf"), 0.0)
    found = {}
    for name, share in (("p50", 0.5), ("p95", 0.95)):
        found[name] = next((le for le, count in sorted(buckets.items()) if count >= share * total), 0.0)
    return found


def settled(urls: list[str], database_url: str, expected: int, timeout: float = 180.0) -> dict[str, float]:
    """Waits until the servers have counted every delivery (answered, duplicate or failed) and posted every
    answer (nothing is left in the inbox)."""
    deadline = time.monotonic() + timeout
    db = open_database(database_url)
    try:
        while True:
            totals: dict[str, float] = {}
            for url in urls:
                for outcome, value in turns(url).items():
                    totals[outcome] = totals.get(outcome, 0.0) + value
            done = sum(totals.values()) >= expected and count_open(db) == 0
            if done or time.monotonic() > deadline:
                return totals
            time.sleep(0.25)
    finally:
        db.dispose()


def answers_per_event(standin: SlackStandIn, deliveries: list[Delivery]) -> dict[str, dict[str, int]]:
    """For each question, the number of messages ribot posted for each distinct user message asking it,
    or -1 when one part of a reply set was posted twice (each message names its delivery and part in its
    metadata). A question's reply set has a fixed size, so one handling per event shows as the same count
    for every event with that question."""
    counts: dict[str, dict[str, int]] = {}
    for delivery in {d.body["event_id"]: d for d in deliveries}.values():
        posts = standin.posts(channel=delivery.channel, thread_ts=delivery.thread_ts)
        if delivery.thread_ts is None:
            posts = [p for p in posts if not p.get("thread_ts")]
        parts = [((p.get("metadata") or {}).get("event_payload") or {}).get("part") for p in posts]
        question = delivery.body["event"]["text"].split("> ", 1)[-1]
        counts.setdefault(question, {})[delivery.body["event_id"]] = (
            len(parts) if len(set(parts)) == len(parts) else -1
        )
    return counts


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(
    args: argparse.Namespace,
    results: Results,
    retries: int,
    totals: dict[str, float],
    per_question: dict[str, dict[str, int]],
) -> bool:
    acks_ms = [a * 1000 for a in results.acks]
    sizes = {q: sorted(set(c.values())) for q, c in per_question.items()}
    events = sum(len(c) for c in per_question.values())
    over = sum(1 for a in results.acks if a >= ACK_LIMIT)
    print(
        f"deliveries: {len(results.acks)} ({args.events} events + {retries} retries), "
        f"concurrency {args.concurrency}, {args.processes} process(es)"
    )
    print(f"HTTP statuses: {dict(sorted(results.statuses.items()))}")
    peer_ms = [p * 1000 for p in results.peer]
    print(
        f"ack latency ms: p50 {statistics.median(acks_ms):.1f}  p95 {percentile(acks_ms, 0.95):.1f}  "
        f"max {max(acks_ms):.1f}  (over {ACK_LIMIT:.0f} s: {over}; target p95 <= {ACK_TARGET_MS:.0f})"
    )
    print(
        f"peer, /healthz in the same run ({len(peer_ms)} requests): p50 {statistics.median(peer_ms):.1f}  "
        f"p95 {percentile(peer_ms, 0.95):.1f}  max {max(peer_ms):.1f}"
    )
    print(f"turn outcomes: {json.dumps({k: int(v) for k, v in sorted(totals.items())})}")
    for question, found in sizes.items():
        print(
            f"  messages per event {found} for {len(per_question[question])} events asking: {question[:60]}"
        )
    ok = (
        over == 0
        and results.statuses == {200: len(results.acks)}
        and int(totals.get("answered", 0)) == args.events
        and int(totals.get("duplicate", 0)) == retries
        and all(len(found) == 1 and found[0] >= 1 for found in sizes.values())
        and events == args.events
    )
    print("exactly one answer per event: " + ("yes" if ok else "NO"))
    return ok


async def main(args: argparse.Namespace) -> int:
    runner = StandInThread()
    standin = runner.start()
    work = Path(tempfile.mkdtemp(prefix="ribot-slack-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    data_dir = Path(args.data_dir) if args.data_dir else work / "data"
    servers = []
    try:
        for n in range(args.processes):
            process, url = start_server(standin, data_dir, database_url, work, n)
            servers.append((process, url))
            wait_ready(url, process)
        urls = [url for _, url in servers]
        deliveries, retries = build_deliveries(args.events, args.retry_share, args.processes, args.seed)
        results = await send_all(urls, deliveries, args.concurrency)
        totals = await asyncio.to_thread(settled, urls, database_url, len(deliveries))
        inside = server_latency(urls)
        print(
            f"server-side time per request (histogram bucket bound) ms: p50 <= {inside['p50'] * 1000:.0f}  "
            f"p95 <= {inside['p95'] * 1000:.0f}"
        )
        ok = report(args, results, retries, totals, answers_per_event(standin, deliveries))
        return 0 if ok else 1
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(30)
        runner.stop()
        print(f"server logs: {work}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--retry-share", type=float, default=0.25, help="share of events Slack delivers again"
    )
    parser.add_argument("--processes", type=int, default=1, help="ribot serve processes sharing the database")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--data-dir", help="RIBOT_DATA_DIR with a built index (default: build one)")
    parser.add_argument("--seed", type=int, default=7)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
