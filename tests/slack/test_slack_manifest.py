"""The app manifest asks for what the connector uses and nothing more, and points Slack at `/slack/events`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack" / "manifest.yaml"

SCOPES = {
    "app_mentions:read",  # app_mention events
    "assistant:write",  # assistant.threads.setStatus / setSuggestedPrompts
    "chat:write",  # chat.postMessage, chat.update
    "commands",  # /ribot
    "channels:history",  # message.channels and conversations.replies for follow-ups in threads
    "groups:history",  # the same in private channels
    "im:history",  # message.im
}
EVENTS = {
    "app_home_opened",
    "app_mention",
    "assistant_thread_started",
    "message.channels",
    "message.groups",
    "message.im",
}


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_scopes_are_exactly_the_ones_used() -> None:
    assert set(load()["oauth_config"]["scopes"]["bot"]) == SCOPES
    assert "user" not in load()["oauth_config"]["scopes"]


def test_events_commands_and_interactivity_go_to_slack_events() -> None:
    manifest = load()
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == EVENTS
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in manifest["features"]["slash_commands"]),
    ]
    assert all(url.startswith("https://") and url.endswith("/slack/events") for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ribot" and command["should_escape"] is False


def test_home_messages_and_assistant_surfaces_are_on() -> None:
    features = load()["features"]
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert 1 <= len(features["assistant_view"]["suggested_prompts"]) <= 4
    assert len(load()["display_information"]["long_description"]) >= 174  # Slack refuses shorter ones


def test_every_subscribed_event_has_a_listener() -> None:
    from bot.outbound import OutboundRegistry
    from bot.settings import Settings
    from connectors.metrics import Metrics
    from connectors.services import Services
    from connectors.slack.handlers import SlackHandlers

    registered: list[str] = []

    class Recorder:
        def event(self, name: str) -> Any:
            registered.append(name)
            return lambda f: f

        def action(self, _: Any) -> Any:
            return lambda f: f

        def command(self, _: Any) -> Any:
            return lambda f: f

        def use(self, middleware: Any) -> None:
            from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant

            if isinstance(middleware, AsyncAssistant) and middleware._thread_started_listeners:
                registered.append("assistant_thread_started")

    settings = Settings(slack_bot_token="xoxb-x", slack_signing_secret="s")
    services = Services(settings, Metrics(), OutboundRegistry(), loader=lambda s: None, executor=None)  # type: ignore[arg-type]
    SlackHandlers(services, gateway=None, poster=None).register(Recorder())  # type: ignore[arg-type]
    handled = {
        name if name != "message" else f"message.{kind}"
        for name in registered
        for kind in ("im", "channels", "groups")
    }
    assert handled >= EVENTS
