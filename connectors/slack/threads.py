"""Which channel threads ribot takes part in, so follow-ups there are answered without a new mention."""

from __future__ import annotations

import logging
from collections import OrderedDict

from slack_sdk.errors import SlackApiError

from connectors.slack.delivery import Poster

log = logging.getLogger("ribot.slack")


class ThreadWatch:
    """Which channel threads ribot takes part in, so follow-ups there need no new mention. Threads ribot
    posted in are remembered; others are checked against the thread itself (conversations.replies), which
    also covers threads another ribot process answered."""

    def __init__(self, poster: Poster, size: int = 10_000) -> None:
        self._poster = poster
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._size = size

    def remember(self, channel: str, thread_ts: str) -> None:
        self._known[(channel, thread_ts)] = None
        self._known.move_to_end((channel, thread_ts))
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    async def takes_part(
        self, channel: str, thread_ts: str, bot_user_id: str | None, bot_id: str | None
    ) -> bool:
        if (channel, thread_ts) in self._known:
            return True
        try:
            response = await self._poster.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=200
            )
        except SlackApiError as exc:
            log.warning("could not read thread %s in %s: %s", thread_ts, channel, exc)
            return False
        for message in response.get("messages") or []:
            if (bot_user_id and message.get("user") == bot_user_id) or (
                bot_id and message.get("bot_id") == bot_id
            ):
                self.remember(channel, thread_ts)
                return True
        return False
