"""Bad input to `/slack/events` gets a clear 4xx before anything is stored: bodies that are not UTF-8
(signed or not: 400 before the signature is checked), unsigned ones (401), signed JSON that is not an
object, and signed JSON nested thousands deep, as an event and inside an interactivity form. A valid
delivery afterwards is stored and answered as usual."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_payloads import event_callback, ids, message, until
from slack_standin import BOT_TOKEN, SIGNING_SECRET, SlackStandIn, sign

from bot.settings import Settings
from bot.store.base import migrate, open_database
from bot.store.inbox import InboxRow
from connectors.app import SERVICES, build_services, create_app
from connectors.edge_texts import say

DEEP = "[" * 5000 + "]" * 5000


def database_only(path: Path) -> Any:
    """Opens the database the way the real loader does first, then stops: no model in these tests."""

    def load(services: Any) -> Any:
        db = open_database(f"sqlite:///{path}")
        migrate(db)
        services.database_opened(db)
        raise RuntimeError("this test runs without the model")

    return load


@pytest.fixture
async def server(standin: SlackStandIn, tmp_path: Path, clean_env: None) -> AsyncIterator[TestServer]:
    settings = Settings(
        ribot_data_dir=tmp_path,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=standin.api_url,
    )
    app = create_app(build_services(settings, database_only(tmp_path / "ribot.sqlite3")))
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    for _ in range(200):
        if app[SERVICES].db is not None:
            break
        await asyncio.sleep(0.02)
    yield test_server
    await test_server.close()


async def _post(
    server: TestServer, raw: bytes, content_type: str, signed: bool = True
) -> aiohttp.ClientResponse:
    headers = {"Content-Type": content_type}
    if signed:  # Slack signs the bytes it sends; for text that is not UTF-8, as Latin-1 reads them
        headers |= sign(raw.decode("utf-8") if _utf8(raw) else raw.decode("latin-1"))
    url = server.make_url("/slack/events")
    async with aiohttp.ClientSession() as http, http.post(url, data=raw, headers=headers) as response:
        await response.read()
        return response


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _rows(server: TestServer) -> int:
    db = server.app[SERVICES].db
    with db.session() as session:
        return session.query(InboxRow).count()


@pytest.mark.parametrize(
    ("raw", "content_type", "signed", "status"),
    [
        (
            b'{"type": "event_callback", "event": {"text": "\xff\xfe caf\xe9"}}',
            "application/json",
            False,
            400,
        ),
        (b'{"type": "event_callback", "event": {"text": "\xff\xfe caf\xe9"}}', "application/json", True, 400),
        (json.dumps([event_callback({"type": "message"})]).encode(), "application/json", True, 400),
        (b"[]", "application/json", True, 400),
        (json.dumps(event_callback({"type": "message"})).encode(), "application/json", False, 401),
        (b'"a string"', "application/json", True, 400),
        (DEEP.encode(), "application/json", True, 400),
        (('{"type": "event_callback", "event": ' + DEEP + "}").encode(), "application/json", True, 400),
        (urlencode({"payload": DEEP}).encode(), "application/x-www-form-urlencoded", True, 400),
        (urlencode({"payload": "[1, 2]"}).encode(), "application/x-www-form-urlencoded", True, 400),
        (urlencode({"payload": "{not json"}).encode(), "application/x-www-form-urlencoded", True, 400),
    ],
    ids=[
        "not utf-8, unsigned",
        "not utf-8, signed",
        "array",
        "empty array",
        "unsigned",
        "string",
        "5000 deep",
        "deep event",
        "deep form payload",
        "form payload array",
        "form payload not json",
    ],
)
async def test_bad_bodies_get_a_clear_4xx_and_store_nothing(
    server: TestServer, raw: bytes, content_type: str, signed: bool, status: int
) -> None:
    response = await _post(server, raw, content_type, signed)
    assert response.status == status
    assert response.content_type == "application/json"
    assert _rows(server) == 0


async def test_a_valid_delivery_after_bad_ones_is_stored_and_answered(
    server: TestServer, standin: SlackStandIn
) -> None:
    await _post(server, DEEP.encode(), "application/json")
    channel = ids("D")
    body = json.dumps(event_callback(message(channel, ids("U"), "Who decides?", channel_type="im")))
    response = await _post(server, body.encode(), "application/json")
    assert response.status == 200
    assert _rows(server) == 1
    await until(lambda: standin.posts(channel=channel))  # the model is missing here: ribot says so
    assert standin.posts(channel=channel)[0]["text"] == say("not_ready", "en")
