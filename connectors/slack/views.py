"""Fixed Slack surfaces: the App Home tab, help, the assistant's greeting, the coordinators' announcement."""

from __future__ import annotations

from typing import Any

from bot.outbound import EscalationNotice
from bot.types import Choice
from connectors.slack.blocks import Block, Message, button, context, link_button, plain, section
from connectors.slack.text import escape, shorten

CLAIM_ACTION = "ribot_claim"
CONSOLE_ACTION = "ribot_console"
HOME_START_ACTION = "ribot:home:start"

ABOUT = (
    "I answer questions about KI's guidelines for responsible internationalisation, quote the sections I "
    "rely on and tell you who can help. I can also walk you through a short assessment of a planned "
    "collaboration and, when it needs a person, hand you over to the network coordinators."
)
HOW = (
    "*How to reach me*\n"
    "• Write to me here in Messages.\n"
    "• Mention me in a channel; I answer in a thread and follow up there without a new mention.\n"
    "• `/ribot <question>` answers just for you; `/ribot assess` starts the assessment; "
    "`/ribot help` shows this."
)
HELP_TEXT = f"{ABOUT}\n\n{HOW}"
EMPTY_TEXT = (
    "Ask me a question about responsible internationalisation at KI, for example "
    "_Who do I contact about animal experiments abroad?_, or say `assess` to start an assessment."
)
GREETING = "Hi! Ask me about KI's guidelines for responsible internationalisation, or pick a prompt below."
SUGGESTED_PROMPTS = [
    {"title": "Start an assessment", "message": "assess"},
    {"title": "Animal experiments abroad", "message": "Who do I contact about animal experiments abroad?"},
    {"title": "Who is responsible?", "message": "Who is responsible for assessing a research collaboration?"},
    {"title": "Security concerns", "message": "Where do I turn with a security concern about a partner?"},
]
START = Choice("triage:start", "Start an assessment")


def help_message() -> Message:
    return {"text": escape(ABOUT), "blocks": [*section(escape(ABOUT)), *section(HOW)]}


def home_view(direct_channel: str | None) -> dict[str, Any]:
    """The App Home tab. `private_metadata` carries the user's DM with ribot, where the assessment runs."""
    blocks: list[Block] = [
        {"type": "header", "text": plain("ribot: responsible internationalisation")},
        *section(escape(ABOUT)),
        {"type": "actions", "block_id": "ribot_home", "elements": [button(START, HOME_START_ACTION)]},
        {"type": "divider"},
        *section(HOW),
        context("Answers quote KI's guidelines for responsible internationalisation (2026)."),
    ]
    return {"type": "home", "private_metadata": direct_channel or "", "blocks": blocks}


def announcement(notice: EscalationNotice) -> Message:
    """A new escalation as posted in the coordinators' channel, with Claim and Open-in-console buttons."""
    title = f"New escalation {notice.reference}"
    facts = [
        f"*Category:* {escape(notice.category)}",
        f"*From:* {escape(notice.platform)}",
        f"*Opened:* {escape(notice.created_at.strftime('%Y-%m-%d %H:%M UTC'))}",
    ]
    buttons: list[dict[str, Any]] = [
        button(Choice(f"claim:{notice.id}", "Claim"), CLAIM_ACTION) | {"style": "primary"}
    ]
    if notice.review_url:
        buttons.append(link_button("Open in console", notice.review_url, CONSOLE_ACTION))
    blocks: list[Block] = [
        {"type": "header", "text": plain(title)},
        *section(escape(shorten(notice.text, 2900))),
        context("  ·  ".join(facts)),
        {"type": "actions", "block_id": f"ribot_escalation_{notice.id}", "elements": buttons},
    ]
    return {"text": escape(title), "blocks": blocks}


def claimed(blocks: list[Block], block_id: str, user_id: str) -> list[Block]:
    """The announcement once claimed: who took it, and the console link without the Claim button."""
    out: list[Block] = []
    for block in blocks:
        if block.get("block_id") != block_id:
            out.append(block)
            continue
        out.append(context(f":raising_hand: Claimed by <@{user_id}>"))
        links = [e for e in block.get("elements") or [] if e.get("url")]
        if links:
            out.append({"type": "actions", "block_id": block_id + "_links", "elements": links})
    return out


def note_blocks(text: str) -> list[Block]:
    return [context(escape(text))]
