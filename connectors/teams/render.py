"""Replies as outgoing Bot Framework activities: an Adaptive Card where there is structure or buttons,
plain text otherwise."""

from __future__ import annotations

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

from bot.types import Reply
from connectors.teams import cards
from connectors.teams.welcome import welcome_card

MAX_TEXT_CHARS = 20_000


def text_activity(text: str, text_format: str = "plain") -> Activity:
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 1] + "…"
    return Activity(type=ActivityTypes.message, text=text, text_format=text_format)


def card_activity(card: cards.Json, summary: str) -> Activity:
    attachment = Attachment(content_type=cards.CARD_CONTENT_TYPE, content=card)
    return Activity(type=ActivityTypes.message, attachments=[attachment], summary=cards.shorten(summary, 200))


def reply_activity(reply: Reply) -> Activity:
    if not cards.needs_card(reply):
        # The assessment summary is written in markdown, which Teams renders in a text message.
        return text_activity(reply.text, "markdown" if reply.data.get("summary") else "plain")
    card = cards.reply_card(reply)
    if not cards.fits(card):
        return text_activity(reply.text)
    return card_activity(card, reply.text)


def reply_activities(replies: list[Reply]) -> list[Activity]:
    return [reply_activity(reply) for reply in replies]


def welcome_activity(locale: object = None) -> Activity:
    """The welcome card for a client in `locale` (the activity's, e.g. "sv-SE"), both languages without one."""
    card = welcome_card(locale)
    return card_activity(card, str(card["fallbackText"]))
