"""Text in and out of Slack: Slack's markup to plain text for the core, plain text to inert mrkdwn for
Slack."""

from __future__ import annotations

import re

# Slack's own limits (Block Kit reference): a section's text, and the fallback text we keep readable.
SECTION_LIMIT = 3000
CONTEXT_LIMIT = 2000
FALLBACK_LIMIT = 3000

_SLACK_MARKUP = re.compile(r"<([^<>]*)>")
_SPECIAL_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def _markup_to_plain(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):  # <@U123> or <@U123|name>
        return "@" + (label or target[1:])
    if target.startswith("#"):  # <#C123|general>
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return "@" + (label or "group")
    if target.startswith("!date^"):
        return label
    if target.startswith("!"):  # <!channel>, <!here>, <!everyone>
        return "@" + (label or target[1:])
    if label:
        return f"{label} ({target})"
    return target


def from_slack(text: str, bot_user_id: str | None = None) -> str:
    """Turns a message's text as Slack delivers it into plain text: the bot's own mention goes, other
    mentions and links become readable words, and Slack's entity escapes are undone."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    text = _SLACK_MARKUP.sub(_markup_to_plain, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()


def escape(text: str) -> str:
    """Plain text to mrkdwn that Slack shows literally: its control characters are entity-escaped and the
    words that Slack would turn into mass notifications are broken with a zero-width space."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL_MENTION.sub(lambda m: "@\u200b" + m.group(1), text)


def split(text: str, limit: int) -> list[str]:
    """Splits text into pieces of at most `limit` characters, at paragraph, line, sentence or word
    boundaries where there is one. Never splits inside an entity escape such as `&amp;`."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _best_cut(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    window = text[:limit]
    for separator in ("\n\n", "\n", ". ", " "):
        at = window.rfind(separator)
        if at > limit // 2:
            return at + len(separator)
    amp = window.rfind("&", max(0, limit - 6))
    if amp != -1 and ";" not in window[amp:]:
        return amp
    return limit


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", max(0, limit - 7))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"
