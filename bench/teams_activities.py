"""Teams delivery benchmark: Bot Framework message activities POSTed to `ribot serve`'s `/api/messages`
(anonymous mode, as with the Agents Playground), with repeated deliveries (same activity id) mixed in,
against a local stand-in for the Bot Connector that collects ribot's replies.

Run from the repository root:

    .venv/bin/python bench/teams_activities.py                   # 200 activities, concurrency 20
    .venv/bin/python bench/teams_activities.py -n 500 -c 50 --repeat 0.2

The Agents SDK answers the POST once the turn is done (replies sent), so the latency printed is the whole
turn: Bot Framework waits about 15 s before it gives up and delivers again. It also checks that every
activity was answered exactly once, repeats included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "teams"))

from connector_standin import ConnectorStandIn  # noqa: E402
from playground_harness import ServerThread, free_port  # noqa: E402
from teams_activities import message  # noqa: E402

QUESTIONS = [
    "Do I have to contact anyone before animal experiments abroad?",
    "Who is responsible for the risk assessment in a formalised research collaboration?",
    "What does the Security Forum do?",
    "Who decides on programme-level collaborations?",
    "Where do I find the risk assessment tool?",
    "Who should I ask first for support with a risk assessment?",
]


def start_ribot(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONNECTIONS__", "TEAMS_", "SLACK_"))}
    env.update(
        TEAMS_ANONYMOUS="true",
        RIBOT_DATA_DIR=str(data_dir),
        RIBOT_RATE_LIMITS="{}",  # few users send every activity: measure speed, not limits
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    log = (data_dir / "serve.log").open("wb")
    command = [str(ROOT / ".venv" / "bin" / "ribot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=data_dir)


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise SystemExit("ribot serve exited; see serve.log in the data directory")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("ribot serve did not become ready")


async def deliver(
    http: aiohttp.ClientSession, url: str, activity: dict[str, Any], latencies: list[float]
) -> None:
    started = time.perf_counter()
    async with http.post(f"{url}/api/messages", json=activity) as response:
        await response.read()
        if response.status != 202:
            raise SystemExit(f"/api/messages answered {response.status}")
    latencies.append(time.perf_counter() - started)


async def run(
    args: argparse.Namespace, url: str, service_url: str
) -> tuple[list[float], list[dict[str, Any]]]:
    rng = random.Random(7)
    activities = [
        message(rng.choice(QUESTIONS), service_url=service_url, conversation_id=f"a:bench-{n}")
        for n in range(args.n)
    ]
    deliveries = list(activities) + [a for a in activities if rng.random() < args.repeat]
    rng.shuffle(deliveries)
    latencies: list[float] = []
    gate = asyncio.Semaphore(args.concurrency)

    async def one(activity: dict[str, Any]) -> None:
        async with gate:
            await deliver(http, url, activity, latencies)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one(a) for a in deliveries))
        args.elapsed = time.perf_counter() - started
    args.deliveries = len(deliveries)
    return latencies, activities


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=200, help="distinct activities (one conversation each)")
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=float, default=0.1, help="share delivered a second time")
    args = parser.parse_args()

    connector = ConnectorStandIn()
    standin = ServerThread(connector.app, free_port()).start()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ribot-teams-bench-") as tmp:
        process = start_ribot(Path(tmp), port)
        url = f"http://127.0.0.1:{port}"
        try:
            load = wait_ready(url, process)
            latencies, activities = asyncio.run(run(args, url, f"{standin.url}/"))
        finally:
            process.terminate()
            process.wait(30)
            standin.stop()

    print(f"ribot ready after {load:.1f} s")
    print(
        f"deliveries: {args.deliveries} ({args.deliveries - len(activities)} repeats), c={args.concurrency}"
    )
    print(f"throughput: {args.deliveries / args.elapsed:.1f} deliveries/s")
    ordered = sorted(latencies)
    p50, p95 = statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]
    print(f"turn latency: p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms, max {1000 * ordered[-1]:.0f} ms")
    doubled = answered_twice(connector, activities)
    print(f"conversations answered more than once: {len(doubled)} of {len(activities)}")
    if doubled:
        raise SystemExit(1)


def answered_twice(connector: ConnectorStandIn, activities: list[dict[str, Any]]) -> list[str]:
    """A question gets the same replies in every fresh conversation; a conversation with more than the
    fewest for its question answered a delivery twice (or got no answer at all when it has none)."""
    messages: dict[str, int] = {}
    for received in connector.messages():
        messages[received.conversation_id] = messages.get(received.conversation_id, 0) + 1
    by_question: dict[str, list[str]] = {}
    for activity in activities:
        by_question.setdefault(activity["text"], []).append(activity["conversation"]["id"])
    wrong = []
    for conversations in by_question.values():
        fewest = min(messages.get(c, 0) for c in conversations)
        wrong += [c for c in conversations if messages.get(c, 0) != fewest or fewest == 0]
    return wrong


if __name__ == "__main__":
    main()
