"""What the delivery worker (connectors.worker) and the connectors agree on: a surface turns the replies to
one delivery into a plan of outgoing messages and posts them one by one, each named by a `Mark`; storing a
delivery gives a `Receipt`."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from bot.types import Reply

Plan = list[dict[str, Any]]


class NotPosted(Exception):
    """The platform refused the message: it certainly did not get through, and may be tried again."""


@dataclass(frozen=True)
class Mark:
    """Which outgoing message this is: part `index` of the delivery `key`, which arrived at `since`."""

    key: str
    index: int
    since: float  # seconds since the epoch

    @property
    def id(self) -> str:
        return f"{hashlib.sha256(self.key.encode()).hexdigest()[:24]}:{self.index}"


class Surface(Protocol):
    """What a connector gives the worker: how to turn replies into messages and how to post them."""

    name: str
    inline: bool  # the replies go back in the HTTP response when the request waits for them

    def plan(self, target: dict[str, Any], replies: list[Reply]) -> Plan: ...

    async def started(self, target: dict[str, Any]) -> None: ...

    async def post(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> None: ...

    async def was_posted(self, target: dict[str, Any], message: dict[str, Any], mark: Mark) -> bool: ...


@dataclass
class Receipt:
    """What storing a delivery found: a new one, or the stored one a resend met (with its plan if done)."""

    fresh: bool
    status: str
    plan: Plan | None = None
    sent: int = 0
    waiter: asyncio.Future[Plan] | None = None
