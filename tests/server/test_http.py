"""Every endpoint over real HTTP on loopback, with stand-ins for the answerer and the engine."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiohttp.test_utils import TestClient

from bot.types import Reply
from connectors.app import SERVICES
from connectors.health import DatabaseProbe

Client = TestClient[Any, Any]
Stubs = Any
ClientFactory = Any


async def test_healthz_answers_and_echoes_a_request_id(client: Client) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert response.headers["X-Request-Id"] == "abc-123"


async def test_a_request_id_is_made_when_missing_or_unusable(client: Client) -> None:
    plain = await client.get("/healthz")
    hostile = await client.get("/healthz", headers={"X-Request-Id": "<script>" + "x" * 200})
    for response in (plain, hostile):
        made = response.headers["X-Request-Id"]
        assert len(made) == 32 and all(c in "0123456789abcdef" for c in made)


async def test_readyz_is_503_until_loading_finishes(
    client_of: ClientFactory, stubs: Stubs, wait_ready: Any
) -> None:
    client = await client_of(stubs)
    before = await client.get("/readyz")
    assert before.status == 503
    assert (await before.json())["status"] == "starting"
    assert (await client.get("/healthz")).status == 200
    early = await client.post("/api/ask", json={"question": "Who decides?"})
    assert early.status == 503
    assert (await early.json())["error"] == "not_ready"
    stubs.gate.set()
    await wait_ready(client)
    assert (await (await client.get("/readyz")).json()) == {"status": "ready"}


async def test_readyz_reports_a_failed_load(client_of: ClientFactory, stubs: Stubs) -> None:
    stubs.fail_with = RuntimeError("index is corrupt")
    stubs.gate.set()
    client = await client_of(stubs)
    services = client.server.app[SERVICES]
    for _ in range(200):
        if services.load_error:
            break
        await asyncio.sleep(0.05)
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "failed" and "index is corrupt" in body["error"]
    assert (await client.get("/healthz")).status == 200


async def test_readyz_asks_the_database(
    client_of: ClientFactory, stubs: Stubs, wait_ready: Any, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine

    stubs.gate.set()
    client = await client_of(stubs)
    await wait_ready(client)
    services = client.server.app[SERVICES]
    assert (await client.get("/readyz")).status == 200
    working = services.db
    services.db = SimpleNamespace(engine=create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}"))
    services.probe = DatabaseProbe(interval=0)
    response = await client.get("/readyz")
    services.db = working
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "degraded" and "database" in body["error"]
    assert (await client.get("/healthz")).status == 200


async def test_ask_returns_the_answer_json(client: Client) -> None:
    response = await client.post("/api/ask", json={"question": "  Who do I contact about animals?  "})
    assert response.status == 200
    body = await response.json()
    assert body["answer"] == "About: Who do I contact about animals?"
    assert set(body) == {"answer", "grounded", "citations", "contacts", "language"}
    assert body["citations"][0]["section"] == "4.4"
    assert body["contacts"][0]["id"] == "animal_welfare_body"


async def test_concurrent_questions_share_batches_and_keep_their_answers(
    client: Client, stubs: Stubs
) -> None:
    questions = [f"question number {n}" for n in range(24)]
    responses = await asyncio.gather(*(client.post("/api/ask", json={"question": q}) for q in questions))
    bodies = [await r.json() for r in responses]
    assert [b["answer"] for b in bodies] == [f"About: {q}" for q in questions]
    asked = [q for batch in stubs.answerer.batches for q in batch]
    assert sorted(asked) == sorted(questions)
    assert len(stubs.answerer.batches) < len(questions)


async def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert body["error"] == code
    assert body["message"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


async def test_malformed_json_is_400(client: Client) -> None:
    response = await client.post(
        "/api/ask", data='{"question": "unterminated', headers={"Content-Type": "application/json"}
    )
    body = await _error(response, 400, "invalid_json")
    assert "not valid JSON" in body["message"]


async def test_invalid_utf8_is_400(client: Client) -> None:
    response = await client.post("/api/ask", data=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    await _error(response, 400, "invalid_json")


async def test_wrong_content_type_is_415(client: Client) -> None:
    form = await client.post("/api/ask", data={"question": "hi"})
    await _error(form, 415, "unsupported_media_type")
    plain = await client.post("/api/chat", data="hi", headers={"Content-Type": "text/plain"})
    await _error(plain, 415, "unsupported_media_type")


async def test_bodies_over_64_kb_are_413(client: Client) -> None:
    big = json.dumps({"question": "x" * (70 * 1024)})
    declared = await client.post("/api/ask", data=big, headers={"Content-Type": "application/json"})
    await _error(declared, 413, "payload_too_large")

    async def chunks() -> Any:
        for _ in range(80):
            yield b" " * 1024

    streamed = await client.post("/api/ask", data=chunks(), headers={"Content-Type": "application/json"})
    await _error(streamed, 413, "payload_too_large")
    assert (await client.get("/healthz")).status == 200


async def test_wrong_shapes_are_422(client: Client) -> None:
    for payload in ([1, 2], "question", {"question": 42}, {"question": "   "}, {}, None):
        response = await client.post(
            "/api/ask", data=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        await _error(response, 422, "invalid_request")


async def test_unknown_paths_and_methods_get_json_errors(client: Client) -> None:
    await _error(await client.get("/nope"), 404, "not_found")
    await _error(await client.get("/static/../connectors/app.py"), 404, "not_found")
    await _error(await client.get("/static/missing.js"), 404, "not_found")
    wrong_method = await client.get("/api/ask")
    await _error(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["Allow"]


async def test_bad_input_never_stops_health(client: Client) -> None:
    bad = [
        client.post("/api/ask", data="{", headers={"Content-Type": "application/json"}),
        client.post("/api/ask", data="x" * 100_000, headers={"Content-Type": "application/json"}),
        client.post("/api/chat", data="[]", headers={"Content-Type": "application/json"}),
        client.get("/%2e%2e/%2e%2e/etc/passwd"),
    ] * 10
    statuses = [r.status for r in await asyncio.gather(*bad)]
    assert all(400 <= s < 500 for s in statuses)
    assert (await client.get("/healthz")).status == 200
    assert (await client.post("/api/ask", json={"question": "still there?"})).status == 200


async def test_chat_turns_reach_the_engine(client: Client, stubs: Stubs) -> None:
    conversation = "conv-0001-abcdef"
    said = await client.post("/api/chat", json={"conversation_id": conversation, "text": "Hello there"})
    assert said.status == 200
    body = await said.json()
    assert body["conversation_id"] == conversation
    assert body["replies"][0]["kind"] == "answer"
    assert body["replies"][0]["answer"]["answer"] == "About: Hello there"
    pressed = await client.post(
        "/api/chat", json={"conversation_id": conversation, "action": "triage:start", "message_id": "m1"}
    )
    assert (await pressed.json())["replies"][0]["text"] == "pressed triage:start"
    assert stubs.engine is not None
    turn = stubs.engine.turns[-1]
    assert (turn.platform, turn.conversation_id, turn.action) == ("web", conversation, "triage:start")
    assert turn.reply_ref == {"platform": "web", "conversation_id": conversation}
    assert turn.event_id == f"web:{conversation}:m1"


async def test_chat_rejects_bad_turns(client: Client) -> None:
    cases = [
        {"text": "no conversation"},
        {"conversation_id": "short", "text": "hi"},
        {"conversation_id": "../../etc/passwd", "text": "hi"},
        {"conversation_id": "conv-0001-abcdef"},
        {"conversation_id": "conv-0001-abcdef", "text": "   "},
        {"conversation_id": "conv-0001-abcdef", "action": "<script>alert(1)</script>"},
        {"conversation_id": "conv-0001-abcdef", "text": "x" * 9000},
        {"conversation_id": "conv-0001-abcdef", "text": "hi", "message_id": "a b"},
    ]
    for payload in cases:
        await _error(await client.post("/api/chat", json=payload), 422, "invalid_request")


async def test_delivered_messages_are_polled(client: Client) -> None:
    conversation = "conv-0002-abcdef"
    empty = await client.get(f"/api/chat/{conversation}/messages")
    assert (await empty.json()) == {"messages": []}
    registry = client.server.app[SERVICES].outbound
    ref = {"platform": "web", "conversation_id": conversation}
    await registry.deliver("web", ref, [Reply(kind="text", text="A coordinator writes back.")])
    await registry.deliver("web", ref, [Reply(kind="text", text="And once more.")])
    first = (await (await client.get(f"/api/chat/{conversation}/messages?after=0")).json())["messages"]
    assert [m["reply"]["text"] for m in first] == ["A coordinator writes back.", "And once more."]
    later = await client.get(f"/api/chat/{conversation}/messages?after={first[0]['id']}")
    assert [m["reply"]["text"] for m in (await later.json())["messages"]] == ["And once more."]
    other = await client.get("/api/chat/conv-0003-abcdef/messages")
    assert (await other.json()) == {"messages": []}
    for after in ("-1", "²", "1e3", "9" * 13):
        response = await client.get(f"/api/chat/{conversation}/messages", params={"after": after})
        await _error(response, 422, "invalid_request")
    await _error(await client.get("/api/chat/bad!id/messages"), 422, "invalid_request")


async def test_the_page_and_its_assets_are_served(client: Client) -> None:
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assert 'role="log"' in html and 'aria-live="polite"' in html and "/static/chat.js" in html
    assert 'for="composer-text"' in html and "http" not in html.split("<body>")[0]
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    for asset, kind in (("chat.js", "javascript"), ("render.js", "javascript"), ("chat.css", "text/css")):
        response = await client.get(f"/static/{asset}")
        assert response.status == 200
        assert kind in response.content_type
