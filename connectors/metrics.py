"""Prometheus metrics of one server: requests and latency per surface, answering batches, readiness, and the
process itself (CPU, memory, open files, start time; Python's version and garbage collector)."""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from connectors.processes import METRICS_FOLDER

SURFACES = ("web", "api", "slack", "teams", "review", "ops")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


def surface_of(path: str) -> str:
    """The surface label of a request path (CONTRACT's Serving table)."""
    if path == "/api/ask":
        return "api"
    if path.startswith("/slack/"):
        return "slack"
    if path == "/api/messages":
        return "teams"
    if path == "/review" or path.startswith("/review/"):
        return "review"
    if path in ("/healthz", "/readyz", "/metrics"):
        return "ops"
    return "web"


class Metrics:
    """Each server gets its own registry, so tests can run several apps in one process."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "ribot_http_requests",
            "HTTP requests answered, by surface, method and status code",
            ["surface", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ribot_http_request_duration_seconds",
            "Time from request to response, by surface",
            ["surface"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "ribot_http_requests_in_flight", "Requests being handled", registry=self.registry
        )
        self.answers = Counter(
            "ribot_answers",
            "Questions answered, by surface and grounding",
            ["surface", "grounded"],
            registry=self.registry,
        )
        self.turns = Counter(
            "ribot_turns",
            "Messages, commands and button presses by surface and outcome: answered, duplicate, empty, "
            "too_long, limited, not_ready, failed, ignored",
            ["surface", "outcome"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "ribot_answer_batch_size",
            "Questions answered per ask_many call",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "ribot_answer_batch_duration_seconds",
            "Time spent in one ask_many call",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ready = Gauge(
            "ribot_ready", "1 once model, index and database are loaded", registry=self.registry
        )
        self.load_seconds = Gauge(
            "ribot_load_duration_seconds",
            "Time the model, index and database took to load",
            registry=self.registry,
        )
        for surface in SURFACES:
            self.latency.labels(surface=surface)

    def observe_request(self, surface: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(surface=surface, method=method, status=str(status)).inc()
        self.latency.labels(surface=surface).observe(seconds)

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def render(self) -> bytes:
        """This process's figures; under `ribot serve --processes N`, every process's summed (the live
        gauges per process, labelled with its pid)."""
        if os.environ.get(METRICS_FOLDER):
            summed = CollectorRegistry()
            multiprocess.MultiProcessCollector(summed)  # type: ignore[no-untyped-call]
            return generate_latest(summed)
        return generate_latest(self.registry)
