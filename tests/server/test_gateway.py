"""The edge gateway: the policy every surface shares (command words, empty, stale and oversized input, the
language of its own notices, metrics, rate limits, readiness) and the web chat's durable, once-only handling
of a message id, over real HTTP with a real SQLite inbox and the stand-in engine."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.store.conversations import ConversationStore
from bot.types import Turn
from connectors.app import GATEWAY, SERVICES, build_services, create_app
from connectors.edge_texts import say
from connectors.gateway import MAX_TEXT_CHARS, Arrival, turn_to_json
from knowledge.triage_flow import default_flow

Client = TestClient[Any, Any]
CONVERSATION = "conv-gateway-0001"


def sample(client: Client, name: str, **labels: str) -> float:
    registry = client.server.app[SERVICES].metrics.registry
    return registry.get_sample_value(name, labels) or 0.0


async def until(condition: Callable[[], bool]) -> None:
    """Waits up to six seconds for `condition`; the assertion after it says what was missing."""
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.02)


def turn(text: str = "", action: str | None = None, platform: str = "slack") -> Turn:
    return Turn(platform=platform, conversation_id="T1:D1", user_id="U1", text=text, action=action)


async def test_command_words_empty_stale_and_oversized_input(client: Client, stubs: Any) -> None:
    gateway = client.server.app[GATEWAY]
    replies, outcome = gateway.answer(turn("  Assess! "))
    assert outcome == "answered" and stubs.engine.turns[-1].action == "triage:start"
    gateway.answer(turn("bedöm"))
    assert stubs.engine.turns[-1].action == "triage:start" and stubs.engine.turns[-1].text == ""
    seen = len(stubs.engine.turns)
    cases = {
        ("   ", "message"): ("empty", "empty"),
        ("", "button"): ("stale_button", "empty"),
        ("help", "command"): ("help", "answered"),
        ("", "command"): ("help", "answered"),
        ("x" * (MAX_TEXT_CHARS + 1), "message"): ("too_long", "too_long"),
    }
    for (text, kind), (notice, expected) in cases.items():
        replies, outcome = gateway.answer(turn(text), kind)
        assert outcome == expected and [r.data.get("edge") for r in replies] == [notice], (text[:10], kind)
    assert len(stubs.engine.turns) == seen  # none of these reached the engine
    for kind in ("greeting", "welcome"):
        replies, _ = gateway.answer(turn(), kind)
        assert replies[0].data == {"notice": kind}


async def test_its_own_notices_follow_the_users_language(client: Client) -> None:
    gateway = client.server.app[GATEWAY]
    swedish = "Vem kontaktar jag om djurförsök utomlands? " * 200
    (reply,), _ = gateway.answer(turn(swedish))
    limit = f"{MAX_TEXT_CHARS:,}".replace(",", "\u00a0")  # grouped as Swedish writes numbers
    assert (
        reply.text == say("too_long", "sv", length=len(swedish), limit=MAX_TEXT_CHARS) and limit in reply.text
    )
    (reply,), _ = gateway.answer(turn("Vem kontaktar jag om djurförsök utomlands?"), limited=True)
    assert reply.text == say("limited", "sv")
    (reply,), _ = gateway.answer(turn("Who do I contact about animal experiments abroad?"), limited=True)
    assert reply.text == say("limited", "en")


async def test_its_own_notices_are_in_the_conversations_language(client: Client) -> None:
    gateway = client.server.app[GATEWAY]
    store = ConversationStore(client.server.app[SERVICES].db, timedelta(hours=1))
    with store.open("slack", "T1:D1", "U1") as convo:  # turn()'s conversation, which ribot holds in Swedish
        convo.save("idle", "sv", {})
    # an old button, an empty message, one without words, a reply that does not tell: the conversation's
    cases = [("", "button", "stale_button"), (" ", "message", "empty"), ("x" * 9000, "message", "too_long")]
    for text, kind, name in cases:
        (reply,), _ = gateway.answer(turn(text), kind)
        expected = say(name, "sv", length=len(text), limit=MAX_TEXT_CHARS)
        assert (reply.text, reply.language) == (expected, "sv"), name
    (reply,), _ = gateway.answer(turn("ok"), limited=True)
    assert reply.text == say("limited", "sv")
    # the user writing in English switches them, as it switches the conversation
    (reply,), _ = gateway.answer(turn("Who do I contact about animal experiments abroad?"), limited=True)
    assert (reply.text, reply.language) == (say("limited", "en"), "en")


def test_a_notice_names_the_button_as_the_conversation_labels_it() -> None:
    labels = {language: default_flow().say("label_person", language) for language in ("en", "sv")}
    assert labels["en"] in say("failed", "en") and labels["sv"] in say("failed", "sv")
    assert labels["en"] not in say("failed", "sv")


async def test_answers_and_outcomes_are_counted_for_every_surface(client: Client, stubs: Any) -> None:
    gateway = client.server.app[GATEWAY]
    for platform in ("slack", "teams", "web"):
        before = sample(client, "ribot_answers_total", surface=platform, grounded="true")
        gateway._answer_delivery(platform, {"turn": turn_to_json(turn("Who decides?", platform=platform))})
        assert sample(client, "ribot_answers_total", surface=platform, grounded="true") == before + 1
        assert sample(client, "ribot_turns_total", surface=platform, outcome="answered") >= 1


async def test_an_engine_failure_is_told_to_the_user_and_counted(client: Client, stubs: Any) -> None:
    gateway = client.server.app[GATEWAY]

    class Broken:
        def handle(self, turn: Turn) -> list[Any]:
            raise RuntimeError("the engine broke")

    client.server.app[SERVICES].engine = Broken()
    before = sample(client, "ribot_turns_total", surface="teams", outcome="failed")
    replies = gateway._answer_delivery("teams", {"turn": turn_to_json(turn("Hello", platform="teams"))})
    assert [r.kind for r in replies] == ["error"] and replies[0].text == say("failed", "en")
    assert sample(client, "ribot_turns_total", surface="teams", outcome="failed") == before + 1


async def test_a_message_id_is_answered_once_however_often_it_arrives(client: Client, stubs: Any) -> None:
    body = {"conversation_id": CONVERSATION, "text": "Who decides?", "message_id": "m-once"}
    first = await client.post("/api/chat", json=body)
    assert first.status == 200
    answered = await first.json()
    again = await asyncio.gather(*(client.post("/api/chat", json=body) for _ in range(3)))
    assert [r.status for r in again] == [200] * 3
    for response in again:
        assert (await response.json())["replies"] == answered["replies"]
    assert [t.text for t in stubs.engine.turns if t.conversation_id == CONVERSATION] == ["Who decides?"]
    assert sample(client, "ribot_turns_total", surface="web", outcome="duplicate") == 3


async def test_simultaneous_copies_of_a_new_message_are_answered_once(client: Client, stubs: Any) -> None:
    stubs.engine.block = threading.Event()
    body = {"conversation_id": "conv-gateway-0002", "text": "Who signs?", "message_id": "m-race"}
    pending = [asyncio.ensure_future(client.post("/api/chat", json=body)) for _ in range(4)]
    await asyncio.to_thread(stubs.engine.started.wait, 10)
    stubs.engine.block.set()
    responses = await asyncio.gather(*pending)
    bodies = [await r.json() for r in responses]
    assert [r.status for r in responses] == [200] * 4
    assert all(b["replies"] == bodies[0]["replies"] and b["replies"] for b in bodies)
    assert [t.text for t in stubs.engine.turns if t.conversation_id == "conv-gateway-0002"] == ["Who signs?"]


async def test_respond_async_acknowledges_at_once_and_the_replies_come_as_messages(
    client_of: Any, stubs: Any, wait_ready: Any
) -> None:
    client = await client_of(stubs)  # the database is open, the model is still "loading" (gate shut)
    conversation = "conv-gateway-0003"
    for _ in range(200):
        if client.server.app[GATEWAY].accepting:
            break
        await asyncio.sleep(0.02)
    body = {"conversation_id": conversation, "text": "Who decides?", "message_id": "m-later"}
    response = await client.post("/api/chat", json=body, headers={"Prefer": "respond-async"})
    assert response.status == 202
    assert await response.json() == {
        "conversation_id": conversation,
        "message_id": "m-later",
        "status": "accepted",
    }
    assert not (await (await client.get(f"/api/chat/{conversation}/messages")).json())["messages"]
    stubs.gate.set()
    await wait_ready(client)
    for _ in range(200):
        messages = (await (await client.get(f"/api/chat/{conversation}/messages")).json())["messages"]
        if messages:
            break
        await asyncio.sleep(0.05)
    assert [m["reply"]["in_reply_to"] for m in messages] == ["m-later"]
    assert messages[0]["reply"]["answer"]["answer"] == "About: Who decides?"
    resent = await (await client.post("/api/chat", json=body)).json()
    assert resent["replies"] == [] and resent["delivered"] == "messages"  # already shown once, there


class FixedWindow:
    """A small real limiter: at most `limit` calls per (surface, key) in this test."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls: Counter[tuple[str, str]] = Counter()

    def limits(self, surface: str) -> bool:
        return True

    def allow(self, surface: str, key: str) -> bool:
        self.calls[(surface, key)] += 1
        return self.calls[(surface, key)] <= self.limit


async def test_the_rate_limiter_is_asked_per_surface_and_client(settings: Settings, stubs: Any) -> None:
    stubs.gate.set()
    limiter = FixedWindow(2)
    services = build_services(settings, loader=stubs.loader)
    client: Client = TestClient(TestServer(create_app(services, limiter=limiter), host="127.0.0.1"))
    await client.start_server()
    try:
        await until(lambda: services.ready)
        asked = [await client.post("/api/ask", json={"question": "Who?"}) for _ in range(3)]
        assert [r.status for r in asked] == [200, 200, 429]
        assert (await asked[2].json())["message"] == say("limited", "en")
        chats = [
            await client.post("/api/chat", json={"conversation_id": CONVERSATION, "text": f"Q {n}"})
            for n in range(3)
        ]
        assert [r.status for r in chats] == [200, 200, 429]
        assert limiter.calls == {("ask", "127.0.0.1"): 3, ("chat", "127.0.0.1"): 3}
        asked_engine = [t.text for t in stubs.engine.turns]
        assert "Q 2" not in asked_engine and "Q 1" in asked_engine
        assert services.metrics.registry.get_sample_value(
            "ribot_turns_total", {"surface": "web", "outcome": "limited"}
        )
    finally:
        await client.close()


class SlowStore(FixedWindow):
    """A limiter whose store does not answer until `reachable` is set."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.reachable = threading.Event()

    def allow(self, surface: str, key: str) -> bool:
        self.reachable.wait(10)
        return super().allow(surface, key)


class Later:
    """A surface that answers after the acknowledgement (as Slack and Teams do), posting into a list."""

    name = "later"
    inline = False

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []

    def plan(self, target: dict[str, Any], replies: list[Any]) -> list[dict[str, Any]]:
        return [{"edge": r.data.get("edge"), "text": r.text} for r in replies]

    async def started(self, target: dict[str, Any]) -> None:
        return None

    async def post(self, target: dict[str, Any], message: dict[str, Any], mark: Any) -> None:
        self.posted.append((target["id"], message["edge"] or "answer"))

    async def was_posted(self, target: dict[str, Any], message: dict[str, Any], mark: Any) -> bool:
        return False


async def test_a_surface_that_answers_later_is_counted_when_answered_once_per_delivery(
    settings: Settings, stubs: Any
) -> None:
    """Its acknowledgement does not wait for the rate limiter's store, and a resent delivery (Slack's retry)
    does not count again; over the limit, the turn is answered with the notice instead."""
    stubs.gate.set()
    limiter = SlowStore(2)
    services = build_services(settings, loader=stubs.loader)
    app = create_app(services, limiter=limiter)
    later = Later()
    app[GATEWAY].add_surface(later)
    client: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        await until(lambda: services.ready)
        gateway = app[GATEWAY]
        for n in (1, 2, 2, 3):
            arrival = Arrival("later", f"later:{n}", turn(f"Question {n}?"), {"id": str(n)}, client="K")
            await asyncio.wait_for(gateway.receive(arrival), 5)  # while the store does not answer
            limiter.reachable.set()
            await until(lambda n=n: str(n) in {posted for posted, _ in later.posted})
        assert later.posted == [("1", "answer"), ("2", "answer"), ("3", "limited")]
        assert limiter.calls == {("later", "K"): 3}
    finally:
        await client.close()


async def test_deep_json_and_bad_encodings_are_400_on_the_api_and_the_chat(client: Client) -> None:
    deep = "[" * 5000 + "]" * 5000
    nested = '{"question": ' + "[" * 45 + "1" + "]" * 45 + "}"
    for path in ("/api/ask", "/api/chat"):
        for raw in (deep.encode(), nested.encode(), b'{"text": "\xff\xfe"}'):
            response = await client.post(path, data=raw, headers={"Content-Type": "application/json"})
            assert response.status == 400, (path, raw[:20])
            assert (await response.json())["error"] == "invalid_json"
    assert (await client.get("/healthz")).status == 200


async def test_a_message_that_cannot_be_stored_is_refused_with_503(client: Client) -> None:
    from bot.store.base import open_database

    inbox = client.server.app[GATEWAY].worker.inbox
    working = inbox.db
    inbox.db = open_database("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2")
    try:
        body = {"conversation_id": CONVERSATION, "text": "Who decides?", "message_id": "m-unstored"}
        response = await client.post("/api/chat", json=body)
        assert response.status == 503 and (await response.json())["error"] == "not_ready"
    finally:
        inbox.db.dispose()
        inbox.db = working
    response = await client.post("/api/chat", json=body)  # sent again once the database is back
    assert response.status == 200 and (await response.json())["replies"]
