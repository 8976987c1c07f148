"""End to end over HTTP: signed deliveries to `/slack/events` of real `ribot serve` processes, answers going
to the Slack stand-in. Each test uses its own channels and users, so the shared servers do not mix them up."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest
from slack_payloads import (
    LIVE_MENTION,
    SlackSender,
    app_home_opened,
    app_mention,
    assistant_thread_started,
    block_actions,
    buttons,
    ephemeral_block_actions,
    event_callback,
    home_block_actions,
    ids,
    message,
    slash_command,
    until,
)
from slack_servers import RibotProcess
from slack_standin import BOT_ID, BOT_USER, SIGNING_SECRET, SlackStandIn

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ANIMALS = "Who do I contact about animal experiments abroad?"


async def settle(server: RibotProcess, outcome: str, before: float, count: int = 1) -> None:
    """Waits until `server` has counted `count` more turns with `outcome`."""

    def reached() -> bool:
        return server.metric("ribot_turns_total", surface="slack", outcome=outcome) >= before + count

    await until(lambda: reached())


def turns(server: RibotProcess, outcome: str) -> float:
    return server.metric("ribot_turns_total", surface="slack", outcome=outcome)


def texts(posted: dict[str, Any]) -> str:
    return json.dumps(posted.get("blocks") or [], ensure_ascii=False) + str(posted.get("text"))


async def test_mention_gets_a_threaded_cited_answer(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel, user = ids("C"), ids("U")
    event = app_mention(channel, user, ANIMALS)
    response = await sender.send_event(http, event_callback(event))
    assert response.status == 200
    await until(lambda: standin.posts(channel=channel))
    [answer, *_] = standin.posts(channel=channel)
    assert answer["thread_ts"] == event["ts"]  # in a thread under the question, not in the channel
    contexts = [b for b in answer["blocks"] if b["type"] == "context"]
    assert any("§4.4" in e["text"] for b in contexts for e in b["elements"]), answer["blocks"]
    assert "Animal Welfare Body" in texts(answer)
    values = [b.get("value") for b in buttons(answer)]
    assert "escalate:start" in values


async def test_follow_up_in_the_thread_needs_no_mention(
    http: aiohttp.ClientSession,
    sender: SlackSender,
    standin: SlackStandIn,
    ribot_http: RibotProcess,
    ribot_http_twin: RibotProcess,
) -> None:
    channel, user = ids("C"), ids("U")
    mention = app_mention(channel, user, ANIMALS)
    standin.messages.setdefault(channel, []).append({**mention, "type": "message"})
    await sender.send_event(http, event_callback(mention))
    await until(lambda: standin.posts(channel=channel, thread_ts=mention["ts"]))
    first = len(standin.posts(channel=channel))
    follow_up = message(channel, user, "And who decides about the collaboration?", thread_ts=mention["ts"])
    await sender.send_event(http, event_callback(follow_up))
    await until(lambda: len(standin.posts(channel=channel)) > first)
    second = len(standin.posts(channel=channel))
    # the other process has not answered in this thread itself: it finds ribot there through the thread
    twin = SlackSender(ribot_http_twin.events_url, SIGNING_SECRET)
    again = message(channel, user, "Who should be told about it?", thread_ts=mention["ts"])
    await twin.send_event(http, event_callback(again))
    await until(lambda: len(standin.posts(channel=channel)) > second)
    assert all(p["thread_ts"] == mention["ts"] for p in standin.posts(channel=channel))
    assert any(c.params.get("channel") == channel for c in standin.of("conversations.replies"))

    # a thread ribot is not part of, and a plain channel message, stay unanswered
    ignored = turns(ribot_http, "ignored")
    other = standin.add_user_message(channel, ids("U"), "a thread of our own")
    await sender.send_event(http, event_callback(message(channel, user, "reply", thread_ts=other["ts"])))
    await sender.send_event(http, event_callback(message(channel, user, "Who decides?")))
    await settle(ribot_http, "ignored", ignored, 2)
    assert not standin.posts(channel=channel, thread_ts=other["ts"])


async def test_direct_message_is_answered(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel, user = ids("D"), ids("U")
    await sender.send_event(http, event_callback(message(channel, user, ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=channel))
    [answer, *_] = standin.posts(channel=channel)
    assert not answer.get("thread_ts")  # a DM is one conversation: answers go straight into it
    assert "§4.4" in texts(answer)


async def test_retry_posts_nothing_new_even_on_another_process(
    http: aiohttp.ClientSession,
    standin: SlackStandIn,
    ribot_http: RibotProcess,
    ribot_http_twin: RibotProcess,
) -> None:
    channel, user = ids("C"), ids("U")
    body = event_callback(app_mention(channel, user, ANIMALS))
    first = SlackSender(ribot_http.events_url, SIGNING_SECRET)
    second = SlackSender(ribot_http_twin.events_url, SIGNING_SECRET)
    await first.send_event(http, body)
    await until(lambda: standin.posts(channel=channel))
    answered = len(standin.posts(channel=channel))

    duplicates = turns(ribot_http_twin, "duplicate") + turns(ribot_http, "duplicate")
    responses = [
        await second.send_event(http, body, retry=1),
        await first.send_event(http, body, retry=2),
    ]
    assert [r.status for r in responses] == [200, 200]
    await until(
        lambda: turns(ribot_http_twin, "duplicate") + turns(ribot_http, "duplicate") >= duplicates + 2
    )
    assert len(standin.posts(channel=channel)) == answered


async def test_simultaneous_deliveries_to_two_processes_answer_once(
    http: aiohttp.ClientSession,
    standin: SlackStandIn,
    ribot_http: RibotProcess,
    ribot_http_twin: RibotProcess,
) -> None:
    channel, user = ids("D"), ids("U")
    body = event_callback(message(channel, user, ANIMALS, channel_type="im"))
    senders = [SlackSender(s.events_url, SIGNING_SECRET) for s in (ribot_http, ribot_http_twin)]
    before = sum(turns(s, "duplicate") + turns(s, "answered") for s in (ribot_http, ribot_http_twin))
    await asyncio.gather(*(s.send_event(http, body, retry=i) for i, s in enumerate(senders * 2)))
    await until(
        lambda: (
            sum(turns(s, "duplicate") + turns(s, "answered") for s in (ribot_http, ribot_http_twin))
            >= before + 4
        )
    )
    reference = ids("D")
    await senders[0].send_event(http, event_callback(message(reference, user, ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=reference))
    assert len(standin.posts(channel=channel)) == len(standin.posts(channel=reference))


async def test_mention_and_its_message_twin_are_answered_once(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn, ribot_http: RibotProcess
) -> None:
    channel, user = ids("C"), ids("U")
    mention = app_mention(channel, user, ANIMALS)
    twin = message(channel, user, mention["text"], ts=mention["ts"])
    before = turns(ribot_http, "ignored") + turns(ribot_http, "duplicate")
    await asyncio.gather(
        sender.send_event(http, event_callback(mention)), sender.send_event(http, event_callback(twin))
    )
    await until(lambda: standin.posts(channel=channel))
    await until(lambda: turns(ribot_http, "ignored") + turns(ribot_http, "duplicate") >= before + 1)
    reference = ids("C")
    await sender.send_event(http, event_callback(app_mention(reference, user, ANIMALS)))
    await until(lambda: standin.posts(channel=reference))
    assert len(standin.posts(channel=channel)) == len(standin.posts(channel=reference))


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "no signature", "tampered body"])
async def test_forged_and_stale_requests_get_401_and_nothing_happens(
    http: aiohttp.ClientSession, standin: SlackStandIn, ribot_http: RibotProcess, forgery: str
) -> None:
    channel = ids("D")
    body = json.dumps(event_callback(message(channel, ids("U"), ANIMALS, channel_type="im")))
    from slack_standin import sign

    headers = {"Content-Type": "application/json"}
    if forgery == "wrong secret":
        headers |= sign(body, secret="not-the-secret")
    elif forgery == "stale":
        headers |= sign(body, timestamp=int(time.time()) - 6 * 60)
    elif forgery == "tampered body":
        headers |= sign(body)
        body = body.replace("animal", "plant")
    calls = len(standin.calls)
    before = {o: turns(ribot_http, o) for o in ("answered", "duplicate", "ignored", "failed")}
    async with http.post(ribot_http.events_url, data=body.encode(), headers=headers) as response:
        assert response.status == 401
    # a valid delivery afterwards is handled; the refused one never was
    sender = SlackSender(ribot_http.events_url, SIGNING_SECRET)
    reference = ids("D")
    await sender.send_event(http, event_callback(message(reference, ids("U"), ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=reference))
    assert not [c for c in standin.calls[calls:] if c.params.get("channel") == channel]
    after = {o: turns(ribot_http, o) for o in before}
    assert after["answered"] == before["answered"] + 1
    assert after["duplicate"] == before["duplicate"] and after["failed"] == before["failed"]


async def test_mass_mentions_come_back_inert(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel, user = ids("C"), ids("U")
    hostile = (
        "<!channel> <!here> <!everyone> <@U0ALICE> <!subteam^S0TEAM|@ki-all> &lt;!here&gt; *bold* " + ANIMALS
    )
    dm = ids("D")
    await sender.send_event(http, event_callback(app_mention(channel, user, hostile)))
    await sender.send_event(http, event_callback(message(dm, user, hostile, channel_type="im")))
    await sender.send_event(http, event_callback(message(ids("D"), user, "<!channel>", channel_type="im")))
    await until(lambda: standin.posts(channel=channel) and standin.posts(channel=dm))
    sent = [c.params for c in standin.calls if c.params.get("channel") in (channel, dm)]
    dumped = json.dumps(sent, ensure_ascii=False)
    assert not LIVE_MENTION.search(dumped), dumped
    assert "<!subteam" not in dumped


async def test_own_and_other_bots_messages_are_ignored(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn, ribot_http: RibotProcess
) -> None:
    channel = ids("D")
    own = message(channel, BOT_USER, ANIMALS, channel_type="im", bot_id=BOT_ID)
    other = message(channel, ids("U"), ANIMALS, channel_type="im", bot_id="B0OTHERBOT", subtype="bot_message")
    edited = message(channel, ids("U"), ANIMALS, channel_type="im", subtype="message_changed")
    ignored = turns(ribot_http, "ignored")
    for event in (own, other, edited):
        assert (await sender.send_event(http, event_callback(event))).status == 200
    await settle(ribot_http, "ignored", ignored, 2)  # ribot's own message never reaches a listener
    await sender.send_event(http, event_callback(message(channel, ids("U"), ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=channel))
    reference = ids("D")
    await sender.send_event(http, event_callback(message(reference, ids("U"), ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=reference))
    assert len(standin.posts(channel=channel)) == len(standin.posts(channel=reference))


async def test_rate_limited_post_is_retried_after_retry_after(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel = ids("D")
    standin.rate_limit("chat.postMessage", times=1, retry_after=1)
    await sender.send_event(http, event_callback(message(channel, ids("U"), ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=channel))
    refused = [c for c in standin.of("chat.postMessage", ok=False) if c.params.get("channel") == channel]
    accepted = [c for c in standin.of("chat.postMessage") if c.params.get("channel") == channel]
    assert len(refused) == 1
    assert accepted[0].params["text"] == refused[0].params["text"]
    assert accepted[0].at - refused[0].at >= 1.0  # waited for Retry-After


async def test_slash_command_help_question_and_empty_input(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel, user = ids("C"), ids("U")
    urls = {name: standin.response_url() for name in ("help", "question", "blank")}
    for name, text in (("help", "help"), ("question", ANIMALS), ("blank", "   ")):
        response = await sender.send_form(http, slash_command(user, channel, text, urls[name]))
        assert response.status == 200
    await until(lambda: {r["_url"] for r in standin.responses} >= set(urls.values()))
    by_url = {r["_url"]: r for r in standin.responses}
    assert "/ribot assess" in json.dumps(by_url[urls["help"]])
    assert by_url[urls["question"]]["response_type"] == "ephemeral"
    assert "§4.4" in json.dumps(by_url[urls["question"]], ensure_ascii=False)
    assert "/ribot assess" in json.dumps(by_url[urls["blank"]])  # empty input gets the help, not an error
    assert not standin.posts(channel=channel)  # nothing was posted in the channel itself


async def test_home_tab_and_triage_by_buttons(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    dm, user = ids("D"), ids("U")
    publishes = len(standin.of("views.publish"))
    await sender.send_event(http, event_callback(app_home_opened(user, dm)))
    await until(lambda: len(standin.of("views.publish")) > publishes)
    call = next(c for c in reversed(standin.of("views.publish")) if c.params.get("user_id") == user)
    view = call.params["view"] if isinstance(call.params["view"], dict) else json.loads(call.params["view"])
    [start] = [b for b in buttons(view) if b.get("value") == "triage:start"]
    await sender.send_action(http, home_block_actions(user, {**view, "id": "V0HOME"}, start))
    await until(lambda: standin.bot_messages(dm))
    updates = 0
    for _ in range(12):
        current = standin.bot_messages(dm)[-1]
        choices = [b for b in buttons(current) if str(b.get("value", "")).startswith("triage:answer:")]
        if not choices:
            break
        count = len(standin.of("chat.update"))
        await sender.send_action(http, block_actions(user, current, dm, choices[0], standin.response_url()))
        await until(lambda count=count: len(standin.of("chat.update")) > count)
        updates += 1
    assert updates >= 2
    final = standin.bot_messages(dm)
    outcome = json.dumps(final, ensure_ascii=False)
    assert "§3.2" in outcome or "§" in outcome
    assert not any(str(b.get("value", "")).startswith("triage:answer:") for m in final for b in buttons(m))


async def test_assistant_thread_greets_suggests_and_thinks(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    dm, user, thread = ids("D"), ids("U"), f"{int(time.time())}.000777"
    body = event_callback(assistant_thread_started(user, dm, thread))
    await sender.send_event(http, body)
    await sender.send_event(http, body, retry=1)
    await until(
        lambda: [
            c for c in standin.of("assistant.threads.setSuggestedPrompts") if c.params["channel_id"] == dm
        ]
    )
    [greeting] = standin.posts(channel=dm, thread_ts=thread)
    prompts = next(
        c for c in standin.of("assistant.threads.setSuggestedPrompts") if c.params["channel_id"] == dm
    )
    assert prompts.params["thread_ts"] == thread and prompts.params["prompts"]
    assert "Hi!" in greeting["text"]

    question = message(dm, user, ANIMALS, channel_type="im", thread_ts=thread)
    await sender.send_event(http, event_callback(question))
    await until(lambda: len(standin.posts(channel=dm, thread_ts=thread)) > 1)
    status = [c for c in standin.of("assistant.threads.setStatus") if c.params["channel_id"] == dm]
    assert status and status[0].params["thread_ts"] == thread and "thinking" in status[0].params["status"]
    assert "§4.4" in texts(standin.posts(channel=dm, thread_ts=thread)[1])


async def test_bad_input_gets_a_clear_message_and_breaks_nothing(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn, ribot_http: RibotProcess
) -> None:
    user = ids("U")
    empty, huge, broken = ids("C"), ids("D"), ids("D")
    mention = app_mention(empty, user, "   ")
    await sender.send_event(http, event_callback(mention))
    await until(lambda: standin.posts(channel=empty))
    assert "Ask me a question" in standin.posts(channel=empty)[0]["text"]

    long_text = ("Who do I contact about animal experiments abroad? " * 800)[:39_000]
    await sender.send_event(http, event_callback(message(huge, user, long_text, channel_type="im")))
    await until(lambda: standin.posts(channel=huge))
    assert "something went wrong" not in json.dumps(standin.posts(channel=huge))

    failed = turns(ribot_http, "failed")
    for raw in ("{not json", json.dumps({"type": "event_callback", "event": {"type": "message"}})):
        from slack_standin import sign

        headers = {"Content-Type": "application/json", **sign(raw)}
        async with http.post(ribot_http.events_url, data=raw.encode(), headers=headers) as response:
            assert response.status < 500
    await sender.send_event(http, event_callback(message(broken, user, ANIMALS, channel_type="im")))
    await until(lambda: standin.posts(channel=broken))
    assert turns(ribot_http, "failed") == failed


async def test_feedback_is_marked_on_the_answer_without_a_new_message(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    dm, user = ids("D"), ids("U")
    await sender.send_event(http, event_callback(message(dm, user, ANIMALS, channel_type="im")))
    await until(lambda: standin.bot_messages(dm))
    answer = standin.bot_messages(dm)[0]
    up = next(b for b in buttons(answer) if str(b.get("value")).startswith("feedback:up:"))
    posts, updates = len(standin.posts(channel=dm)), len(standin.of("chat.update"))
    await sender.send_action(http, block_actions(user, answer, dm, up, standin.response_url()))
    await until(lambda: len(standin.of("chat.update")) > updates)
    values = [b.get("value") for b in buttons(standin.bot_messages(dm)[0])]
    assert not any(str(v).startswith("feedback:") for v in values) and "escalate:start" in values
    assert len(standin.posts(channel=dm)) == posts


async def test_slash_assess_runs_the_triage_in_the_ephemeral_message(
    http: aiohttp.ClientSession, sender: SlackSender, standin: SlackStandIn
) -> None:
    channel, user = ids("C"), ids("U")
    url = standin.response_url()
    await sender.send_form(http, slash_command(user, channel, "assess", url))
    await until(lambda: any(r["_url"] == url for r in standin.responses))
    first = next(r for r in standin.responses if r["_url"] == url)
    assert first["response_type"] == "ephemeral"
    choice = next(b for b in buttons(first) if str(b.get("value")).startswith("triage:answer:"))
    click_url = standin.response_url()
    await sender.send_action(http, ephemeral_block_actions(user, channel, choice, click_url))
    await until(lambda: any(r["_url"] == click_url for r in standin.responses))
    step = next(r for r in standin.responses if r["_url"] == click_url)
    assert step["replace_original"] is True  # the question turned into the next step in place
    assert choice["text"]["text"] in json.dumps(step, ensure_ascii=False)
    assert not standin.posts(channel=channel)
