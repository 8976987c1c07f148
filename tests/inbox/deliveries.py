"""Deliveries of all three surfaces sent to `ribot serve` the way the platforms send them, and the checks that
each was answered exactly once: by the Slack stand-in's record (every message ribot posts names its delivery
and part in its metadata), the Bot Connector stand-in's (replies name the activity they answer), and the web
chat's messages (each names the message it answers)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import teams_activities as acts
from connector_standin import ConnectorStandIn
from slack_payloads import SlackSender, app_mention, event_callback, message
from slack_servers import RibotProcess
from slack_standin import BOT_TOKEN, BOT_USER, SIGNING_SECRET, SlackStandIn

from bot.store.base import open_database
from bot.store.inbox import count_open

LEASE_SECONDS = 3  # short, so a takeover in these tests does not wait long

QUESTIONS = [
    "Who do I contact about animal experiments abroad?",
    "Who is responsible for the risk assessment of an individual research collaboration?",
    "Where do I turn with a security concern about a partner?",
    "Vem kontaktar jag om djurförsök utomlands?",
]


@dataclass
class Platforms:
    """The stand-ins for Slack's Web API and the Bot Connector, and `ribot serve` processes facing them."""

    slack: SlackStandIn
    teams: ConnectorStandIn
    teams_url: str  # the serviceUrl of the Bot Connector stand-in
    data_dir: Path  # RIBOT_DATA_DIR with the built index
    log_dir: Path
    started: list[RibotProcess] = field(default_factory=list)

    def serve(self, name: str, db_url: str) -> RibotProcess:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "TEAMS_ANONYMOUS": "true",
            "RIBOT_DATA_DIR": str(self.data_dir),
            "DATABASE_URL": db_url,
            "INBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        server = RibotProcess(name, env, self.log_dir)
        self.started.append(server)
        server.wait_ready()
        return server


def _tag() -> str:
    return uuid.uuid4().hex[:9].upper()


@dataclass
class Batch:
    """N deliveries per surface, each in a conversation of its own."""

    slack: list[dict[str, Any]] = field(default_factory=list)  # event_callback bodies
    teams: list[dict[str, Any]] = field(default_factory=list)  # activities
    web: list[dict[str, Any]] = field(default_factory=list)  # /api/chat bodies

    @classmethod
    def make(cls, n: int, service_url: str, slack: SlackStandIn) -> Batch:
        """The Slack messages are written into the stand-in first, as people's messages are in Slack before
        their events arrive: a process that takes over a delivery reads the thread or channel to see what
        was posted before the other stopped."""
        batch = cls()
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)]
            user = f"U{_tag()}"
            if i % 2:
                channel = f"C{_tag()}"
                written = slack.add_user_message(channel, user, f"<@{BOT_USER}> {question}")
                event = app_mention(channel, user, question, ts=written["ts"])
            else:
                channel = f"D{_tag()}"
                written = slack.add_user_message(channel, user, question)
                event = message(channel, user, question, channel_type="im", ts=written["ts"])
            batch.slack.append(event_callback(event))
            conversation = f"a:crash-{uuid.uuid4().hex}"
            batch.teams.append(acts.message(question, service_url=service_url, conversation_id=conversation))
            batch.web.append({"conversation_id": f"crash{_tag()}", "text": question, "message_id": _tag()})
        return batch


async def send(url: str, batch: Batch, retry: int = 0) -> Counter[int]:
    """Sends the whole batch at once; the HTTP statuses of the acknowledgements."""
    sender = SlackSender(f"{url}/slack/events", SIGNING_SECRET)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def teams(activity: dict[str, Any]) -> int:
            async with http.post(f"{url}/api/messages", json=activity) as response:
                await response.read()
                return response.status

        async def web(body: dict[str, Any]) -> int:
            headers = {"Prefer": "respond-async"}
            async with http.post(f"{url}/api/chat", json=body, headers=headers) as response:
                await response.read()
                return response.status

        async def slack(body: dict[str, Any]) -> int:
            return (await sender.send_event(http, body, retry=retry)).status

        statuses = await asyncio.gather(
            *(slack(b) for b in batch.slack), *(teams(a) for a in batch.teams), *(web(b) for b in batch.web)
        )
    return Counter(statuses)


def open_deliveries(db_url: str) -> int:
    db = open_database(db_url)
    try:
        return count_open(db)
    finally:
        db.dispose()


def wait_until_answered(db_url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while (left := open_deliveries(db_url)) > 0:
        assert time.monotonic() < deadline, f"{left} acknowledged deliveries were never answered"
        time.sleep(0.25)


def slack_parts(standin: SlackStandIn, body: dict[str, Any]) -> list[str]:
    """The metadata parts of ribot's posts answering this event (where it answers: thread or DM)."""
    event = body["event"]
    thread = event["ts"] if event["channel"].startswith("C") else None
    posts = standin.posts(channel=event["channel"])
    posts = [p for p in posts if p.get("thread_ts") == thread]
    return [str(((p.get("metadata") or {}).get("event_payload") or {}).get("part")) for p in posts]


def check_slack(standin: SlackStandIn, batch: Batch) -> None:
    for body in batch.slack:
        parts = slack_parts(standin, body)
        assert parts, f"no answer to {body['event_id']}"
        assert len(parts) == len(set(parts)), f"{body['event_id']} was answered twice: {parts}"
        indexes = sorted(int(p.rsplit(":", 1)[1]) for p in parts)
        assert indexes == list(range(len(parts))), f"part of the answer to {body['event_id']} is missing"
        assert len({p.rsplit(":", 1)[0] for p in parts}) == 1


def check_teams(connector: ConnectorStandIn, batch: Batch) -> None:
    for activity in batch.teams:
        conversation = activity["conversation"]["id"]
        replies = [r for r in connector.messages() if r.conversation_id == conversation]
        assert replies, f"no answer to the activity in {conversation}"
        assert all(r.reply_to == activity["id"] for r in replies)
        bodies = [
            json.dumps(r.activity.get("attachments") or r.activity.get("text"), sort_keys=True)
            for r in replies
        ]
        assert len(bodies) == len(set(bodies)), f"the activity in {conversation} was answered twice"


async def check_web(url: str, batch: Batch) -> None:
    async with aiohttp.ClientSession() as http:
        for body in batch.web:
            async with http.get(f"{url}/api/chat/{body['conversation_id']}/messages") as response:
                messages = (await response.json())["messages"]
            answers = [m["reply"] for m in messages]
            assert answers, f"no answer to web message {body['message_id']}"
            assert {a["in_reply_to"] for a in answers} == {body["message_id"]}
            texts = [json.dumps(a, sort_keys=True) for a in answers]
            assert len(texts) == len(set(texts)), f"web message {body['message_id']} was answered twice"
