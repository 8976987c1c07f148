"""`/metrics` content and the structured request log."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from connectors.jsonlog import JsonFormatter
from connectors.metrics import surface_of

Client = TestClient[Any, Any]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def test_metrics_count_requests_and_latency_per_surface(client: Client) -> None:
    for _ in range(3):
        assert (await client.post("/api/ask", json={"question": "Who decides?"})).status == 200
    await client.post("/api/chat", json={"conversation_id": "conv-metrics-01", "text": "hi"})
    await client.get("/nope")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    samples = _samples(await response.text())
    api_ok = ("ribot_http_requests_total", (("method", "POST"), ("status", "200"), ("surface", "api")))
    assert samples[api_ok] == 3
    web_ok = ("ribot_http_requests_total", (("method", "POST"), ("status", "200"), ("surface", "web")))
    assert samples[web_ok] == 1
    assert (
        samples[("ribot_http_requests_total", (("method", "GET"), ("status", "404"), ("surface", "web")))]
        == 1
    )
    assert samples[("ribot_http_request_duration_seconds_count", (("surface", "api"),))] == 3
    for surface in ("web", "api", "slack", "teams"):
        assert (
            "ribot_http_request_duration_seconds_bucket",
            (("le", "+Inf"), ("surface", surface)),
        ) in samples
    assert samples[("ribot_answers_total", (("grounded", "true"), ("surface", "api")))] == 3
    assert samples[("ribot_answers_total", (("grounded", "true"), ("surface", "web")))] == 1
    assert samples[("ribot_answer_batch_size_count", ())] >= 1
    assert samples[("ribot_ready", ())] == 1


def test_paths_map_to_surfaces() -> None:
    assert surface_of("/api/ask") == "api"
    assert surface_of("/slack/events") == "slack"
    assert surface_of("/api/messages") == "teams"
    assert surface_of("/api/chat") == "web"
    assert surface_of("/") == "web"
    assert surface_of("/healthz") == "ops"


async def test_requests_are_logged_as_json_with_their_id(client: Client) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("ribot.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        await client.post("/api/ask", json={"question": "hi"}, headers={"X-Request-Id": "req-42"})
        await client.post("/api/ask", data="{", headers={"Content-Type": "application/json"})
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ok = next(line for line in lines if line.get("request_id") == "req-42")
    assert ok["msg"] == "request" and ok["path"] == "/api/ask" and ok["status"] == 200
    assert ok["surface"] == "api" and ok["ms"] >= 0 and ok["level"] == "info"
    assert any(line["status"] == 400 and line["request_id"] != "req-42" for line in lines)


async def test_worker_thread_logs_carry_the_request_id(client: Client) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    engine_log = logging.getLogger("ribot.stub-engine")
    engine_log.addHandler(handler)
    engine_log.setLevel(logging.INFO)
    try:
        body = {"conversation_id": "conv-logging-01", "text": "hi"}
        response = await client.post("/api/chat", json=body, headers={"X-Request-Id": "chat-77"})
        assert response.status == 200
    finally:
        engine_log.removeHandler(handler)
    line = json.loads(stream.getvalue().splitlines()[0])
    assert line["msg"] == "handling a turn" and line["request_id"] == "chat-77"


def test_json_formatter_keeps_extras_and_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("here",),
            exc_info=__import__("sys").exc_info(),
            extra={"path": "/api/ask"},
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "failed here" and line["path"] == "/api/ask" and "ValueError: boom" in line["exc"]
