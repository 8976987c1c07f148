"""Follow-ups in Slack, end to end over HTTP: a real `ribot serve` process on PostgreSQL, signed deliveries to
`/slack/events`, answers going to the Slack stand-in. A follow-up in a thread, or the next message of a direct
message, is answered in the context of the question before it."""

from __future__ import annotations

import aiohttp
import pytest
from slack_payloads import SlackSender, app_mention, buttons, event_callback, ids, message, until
from slack_standin import SlackStandIn

from tests.followup_texts import FOLLOW_UP, NAMES, OPENING, SV_FOLLOW_UP, SV_OPENING

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def answer_leads(standin: SlackStandIn, channel: str) -> list[str]:
    """The lead of every answer ribot posted in the channel (answers are the posts with feedback buttons)."""
    answers = [
        post
        for post in standin.posts(channel=channel)
        if any(str(b.get("value") or "").startswith("feedback:") for b in buttons(post))
    ]
    return [str(post["blocks"][0]["text"]["text"]) for post in answers]


def assert_in_context(leads: list[str], language: str) -> None:
    individual, group = NAMES[language]
    assert individual in leads[0], leads[0]
    assert group in leads[1] and individual not in leads[1], leads[1]


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_follow_up_in_a_thread_is_answered_in_context(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn, language: str
) -> None:
    opening, follow_up = (OPENING, FOLLOW_UP) if language == "en" else (SV_OPENING, SV_FOLLOW_UP)
    channel, user = ids("C"), ids("U")
    mention = app_mention(channel, user, opening)
    standin.messages.setdefault(channel, []).append({**mention, "type": "message"})
    await sender.send_event(http, event_callback(mention))
    await until(lambda: len(answer_leads(standin, channel)) == 1, timeout=60)
    reply = message(channel, user, follow_up, thread_ts=mention["ts"])
    await sender.send_event(http, event_callback(reply))
    await until(lambda: len(answer_leads(standin, channel)) == 2, timeout=60)
    assert all(post["thread_ts"] == mention["ts"] for post in standin.posts(channel=channel))
    assert_in_context(answer_leads(standin, channel), language)


async def test_follow_up_in_a_direct_message_is_answered_in_context(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel, user = ids("D"), ids("U")
    await sender.send_event(http, event_callback(message(channel, user, OPENING, channel_type="im")))
    await until(lambda: len(answer_leads(standin, channel)) == 1, timeout=60)
    await sender.send_event(http, event_callback(message(channel, user, FOLLOW_UP, channel_type="im")))
    await until(lambda: len(answer_leads(standin, channel)) == 2, timeout=60)
    assert_in_context(answer_leads(standin, channel), "en")
