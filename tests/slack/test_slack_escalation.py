"""An escalation from Slack, end to end: the user asks for a person in a thread, the escalation is announced
once in the coordinators' channel (two ribot processes share the database and both look for new ones), a
coordinator claims it there, answers in the review console, and the answer arrives in the user's thread."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import aiohttp
import pytest
from slack_payloads import (
    LIVE_MENTION,
    SlackSender,
    app_mention,
    block_actions,
    buttons,
    event_callback,
    ids,
    message,
    until,
)
from slack_servers import COORDINATORS, RibotProcess
from slack_standin import SIGNING_SECRET, SlackStandIn

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PASSWORD = "a coordinator's long passphrase"
QUESTION = "Who do I contact about animal experiments abroad?"
NOTE = "We plan animal experiments with a partner abroad and need advice. <!here> <@U0ALICE> <!channel>"


def click(standin: SlackStandIn, channel: str, value: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest message of ribot's in `channel` with a button of that value, and the button."""
    for posted in reversed(standin.bot_messages(channel)):
        for found in buttons(posted):
            if found.get("value") == value:
                return posted, found
    raise AssertionError(f"no button {value!r} in {channel}")


async def console_reply(server: RibotProcess, escalation_id: int, email: str, text: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{server.url}/review/login") as response:
            token = re.search(r'name="csrf" value="([^"]+)"', await response.text())
        assert token is not None
        form = {"csrf": token.group(1), "email": email, "password": PASSWORD, "next": "/review"}
        async with http.post(f"{server.url}/review/login", data=form, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()
        page_url = f"{server.url}/review/escalations/{escalation_id}"
        async with http.get(page_url) as response:
            assert response.status == 200
            csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())
        assert csrf is not None
        form = {"csrf": csrf.group(1), "text": text}
        async with http.post(f"{page_url}/reply", data=form, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()


@pytest.fixture(scope="module")
def coordinator(pg_database: str) -> str:
    from bot.store import coordinators
    from bot.store.base import open_database

    email = f"coordinator-{uuid.uuid4().hex[:6]}@ki.se"
    db = open_database(pg_database)
    try:
        coordinators.add_account(db, email, "Network Coordinator", PASSWORD, coordinator=True)
    finally:
        db.dispose()
    return email


async def test_escalation_reaches_coordinators_and_the_reply_reaches_the_thread(
    standin: SlackStandIn, ribot_http: RibotProcess, ribot_http_twin: RibotProcess, coordinator: str
) -> None:
    channel, user, lead = ids("C"), ids("U"), ids("U")
    sender = SlackSender(ribot_http.events_url, SIGNING_SECRET)
    async with aiohttp.ClientSession() as http:
        mention = app_mention(channel, user, QUESTION)
        await sender.send_event(http, event_callback(mention))
        await until(lambda: standin.bot_messages(channel))

        posted, person = click(standin, channel, "escalate:start")
        await sender.send_action(http, block_actions(user, posted, channel, person, standin.response_url()))
        await until(
            lambda: any(
                b.get("value") == "escalate:cancel" for b in buttons(standin.bot_messages(channel)[-1])
            )
        )
        note = message(channel, user, NOTE, thread_ts=mention["ts"])
        await sender.send_event(http, event_callback(note))
        await until(
            lambda: any(
                b.get("value") == "escalate:consent:no" for b in buttons(standin.bot_messages(channel)[-1])
            )
        )
        posted, anonymous = click(standin, channel, "escalate:consent:no")
        await sender.send_action(
            http, block_actions(user, posted, channel, anonymous, standin.response_url())
        )
        await until(lambda: "ESC-" in json.dumps(standin.bot_messages(channel)[-1]))
        reference = re.search(r"ESC-\d+", json.dumps(standin.bot_messages(channel)[-1]))
        assert reference is not None

        def announcements() -> list[dict[str, Any]]:
            return [m for m in standin.bot_messages(COORDINATORS) if reference.group(0) in json.dumps(m)]

        await until(lambda: announcements(), timeout=30)
        await asyncio.sleep(7)  # both processes poll every few seconds: give the second its chance
        [announced] = announcements()
        claim = next(b for b in buttons(announced) if b["action_id"] == "ribot_claim")
        console = next(b for b in buttons(announced) if b.get("url"))
        escalation_id = int(console["url"].rsplit("/", 1)[1])
        assert console["url"] == f"http://ribot.example.test/review/escalations/{escalation_id}"
        assert announced.get("thread_ts") is None  # a top-level message in the coordinators' channel
        assert "partner abroad" in json.dumps(announced)  # the user's note, made inert
        assert not LIVE_MENTION.search(json.dumps(announced))

        # a coordinator claims it in Slack (on the other process), and the announcement says who
        twin = SlackSender(ribot_http_twin.events_url, SIGNING_SECRET)
        payload = block_actions(lead, announced, COORDINATORS, claim, standin.response_url())
        await twin.send_action(http, payload)
        await until(lambda: f"Claimed by <@{lead}>" in json.dumps(announcements()[0]))
        assert not [b for b in buttons(announcements()[0]) if b["action_id"] == "ribot_claim"]

    # the coordinator answers in the console; ribot posts it in the user's thread
    before = len(standin.posts(channel=channel, thread_ts=mention["ts"]))
    answer = "Please contact KI's Animal Welfare Body; I have told them you will get in touch. <!channel>"
    await console_reply(ribot_http, escalation_id, coordinator, answer)
    await until(lambda: len(standin.posts(channel=channel, thread_ts=mention["ts"])) > before)
    delivered = standin.posts(channel=channel, thread_ts=mention["ts"])[-1]
    shown = json.dumps(delivered, ensure_ascii=False)
    assert "Reply from the network coordinator" in shown and "Animal Welfare Body" in shown
    assert "<!channel>" not in shown  # even a coordinator's text cannot ping the channel
