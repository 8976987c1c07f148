"""Which channel threads ribot takes part in, so follow-ups there are answered without a new mention."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from slack_sdk.errors import SlackApiError

from connectors.slack.delivery import Poster

log = logging.getLogger("ribot.slack")

Thread = tuple[str, str]  # channel, thread_ts


class ThreadWatch:
    """Threads ribot posted in are remembered. Others are checked against the thread itself
    (conversations.replies), which also finds threads another ribot process answered; a thread found
    without ribot is not asked about again for `recheck_seconds`, so a busy thread costs few API calls
    (and a thread that ribot joins through another process is noticed here within that time)."""

    def __init__(self, poster: Poster, size: int = 10_000, recheck_seconds: float = 30.0) -> None:
        self._poster = poster
        self._known: OrderedDict[Thread, None] = OrderedDict()
        self._without: OrderedDict[Thread, float] = OrderedDict()  # thread -> when to ask again
        self._size = size
        self._recheck = recheck_seconds

    def remember(self, channel: str, thread_ts: str) -> None:
        thread = (channel, thread_ts)
        self._without.pop(thread, None)
        self._known[thread] = None
        self._known.move_to_end(thread)
        _trim(self._known, self._size)

    async def takes_part(
        self, channel: str, thread_ts: str, bot_user_id: str | None, bot_id: str | None
    ) -> bool:
        thread = (channel, thread_ts)
        if thread in self._known:
            return True
        if self._without.get(thread, 0.0) > time.monotonic():
            return False
        try:
            response = await self._poster.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=200
            )
        except SlackApiError as exc:
            log.warning("could not read thread %s in %s: %s", thread_ts, channel, exc)
            return False
        for message in response.get("messages") or []:
            by_ribot = (bot_user_id and message.get("user") == bot_user_id) or (
                bot_id and message.get("bot_id") == bot_id
            )
            if by_ribot:
                self.remember(channel, thread_ts)
                return True
        self._without[thread] = time.monotonic() + self._recheck
        _trim(self._without, self._size)
        return False


def _trim(entries: OrderedDict[Thread, Any], size: int) -> None:
    while len(entries) > size:
        entries.popitem(last=False)
