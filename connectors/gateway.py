"""The one edge every surface goes through, once per turn.

A connector turns its platform's event into a `Turn` and hands it over as an `Arrival`; the gateway stores it
in the durable inbox before the connector acknowledges it (a resend finds it there and is not answered
again), and a worker (connectors.worker) later asks the gateway for the replies and has the connector post
them. Edge policy lives here and nowhere else: readiness, rate limits, empty, stale and oversized input, the
command words, the language of ribot's own notices, and the metrics (`ribot_turns`, `ribot_answers`).

The notices are in the conversation's language, as the engine keeps it: the one stored with the conversation
(or chosen in the surface, `Turn.language`), switched only by a message written in the other language.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.store.conversations import stored_language
from bot.types import Answer, Reply, ReplyKind, Turn
from connectors.edge_texts import say
from connectors.http import ApiError
from connectors.services import Services
from connectors.surfaces import Receipt, Surface
from connectors.worker import DeliveryWorker
from knowledge.text import detect_language
from knowledge.text import language_of as follow_language

log = logging.getLogger("ribot.gateway")

MAX_TEXT_CHARS = 8_000
ASSESS_WORDS = frozenset(
    {
        "assess",
        "assessment",
        "start assessment",
        "start an assessment",
        "bedöm",
        "bedömning",
        "starta bedömning",
    }
)
HELP_WORDS = frozenset({"", "help", "?", "hjälp"})
NOTICES = frozenset({"greeting", "welcome"})  # fixed messages a connector renders itself
# The RIBOT_RATE_LIMITS entry a surface's turns count against, where its name there differs.
LIMIT_NAMES = {"web": "chat", "api": "ask"}


class RateLimiter(Protocol):
    """May `key` (an account or a client address) be served on `surface` now? Counts the attempt."""

    def limits(self, surface: str) -> bool:
        """Whether turns on `surface` are counted at all (answered without blocking)."""
        ...

    def allow(self, surface: str, key: str) -> bool: ...


class AllowAll:
    def limits(self, surface: str) -> bool:
        return False

    def allow(self, surface: str, key: str) -> bool:
        return True


@dataclass(frozen=True)
class Arrival:
    """One verified delivery, as a connector hands it to the gateway."""

    surface: str
    key: str  # idempotence key: a resend of the same delivery has the same key
    turn: Turn
    target: dict[str, Any] = field(default_factory=dict)  # the connector's own JSON: where replies go
    kind: str = "message"  # message, command, button, or a notice (greeting, welcome)
    client: str = ""  # who is asking, for rate limits; default: the turn's user


def turn_to_json(turn: Turn) -> dict[str, Any]:
    return asdict(turn)


def turn_from_json(data: dict[str, Any]) -> Turn:
    names = {f.name for f in fields(Turn)}
    return Turn(**{k: v for k, v in data.items() if k in names})


def edge_reply(name: str, language: str, kind: ReplyKind = "text", **values: object) -> Reply:
    """One of the gateway's own messages; `data["edge"]` names it, so a surface can show it plainly."""
    text = say(name, language, **values)
    return Reply(kind=kind, text=text, data={"edge": name}, language=language)


def language_of(text: str) -> str:
    return detect_language(text) if text.strip() else "en"


def _word(turn: Turn) -> str:
    return " ".join(turn.text.split()).lower().strip(" .!")


def edge_case(turn: Turn, kind: str, limited: bool) -> tuple[str, str] | None:
    """The gateway's own notice that answers this turn instead of the engine, with the outcome to count."""
    word = _word(turn)
    if limited:
        return "limited", "limited"
    if kind == "command" and not turn.action and word in HELP_WORDS:
        return "help", "answered"
    if kind == "button" and not turn.action:
        return "stale_button", "empty"
    if not turn.action and not word:
        return "empty", "empty"
    if len(turn.text) > MAX_TEXT_CHARS:
        return "too_long", "too_long"
    return None


class Gateway:
    def __init__(self, services: Services, limiter: RateLimiter | None = None) -> None:
        self.services = services
        self.limiter: RateLimiter = limiter or AllowAll()
        self.worker = DeliveryWorker(services, self._answer_delivery, self.count)

    def add_surface(self, surface: Surface) -> None:
        self.worker.add_surface(surface)

    @property
    def accepting(self) -> bool:
        """True once deliveries can be stored (the database is open; the model may still be loading)."""
        return self.worker.opened() is not None

    def count(self, surface: str, outcome: str) -> None:
        self.services.metrics.turns.labels(surface=surface, outcome=outcome).inc()

    # ---- at the edge, before the acknowledgement ------------------------------------------------------

    async def receive(self, arrival: Arrival, *, wait: bool = False) -> Receipt:
        """Stores the delivery (or finds the stored one), so the connector may acknowledge it. With `wait`
        the receipt carries a future for the plan, for surfaces that answer in the response.

        A surface that answers in the response is refused with 429 over its rate limit, here; the turns of
        one that answers later are counted when they are answered (`client` in the payload): counting asks a
        shared store, which would hold up the acknowledgement, and a resent delivery is not counted again."""
        if not self.accepting:
            raise ApiError(503, "not_ready", "ribot is still starting; try again in a few seconds.")
        client = arrival.client or arrival.turn.user_id
        surface = self.worker.surfaces.get(arrival.surface)
        later = surface is not None and not surface.inline
        limited = False if later else not await self._allowed(arrival.surface, client)
        if limited and surface is not None:
            self.count(arrival.surface, "limited")
            language = await self.services.run_sync(self.language_for, arrival.turn)
            raise ApiError(429, "too_many_requests", say("limited", language))
        payload = {
            "turn": turn_to_json(arrival.turn),
            "target": arrival.target,
            "kind": arrival.kind,
            "limited": limited,
        }
        if later:
            payload["client"] = client
        try:
            return await self.worker.accept(arrival.key, arrival.surface, payload, wait=wait)
        except SQLAlchemyError as exc:  # not stored, so not acknowledged: the platform sends it again
            log.warning(
                "could not store a delivery: %s", type(exc).__name__, extra={"surface": arrival.surface}
            )
            raise ApiError(
                503, "not_ready", "ribot cannot take messages right now; try again shortly."
            ) from exc

    async def _allowed(self, surface: str, key: str) -> bool:
        if not self.limiter.limits(LIMIT_NAMES.get(surface, surface)):
            return True  # without a trip to a worker thread, which waits for the interpreter under load
        # A shared limiter asks its store (Redis, the database): off the event loop.
        return bool(await self.services.run_sync(self._counted_in, surface, key))

    def _counted_in(self, surface: str, key: str) -> bool:
        """Counts one turn of `key` on `surface`: whether it is within the surface's limits (blocking)."""
        name = LIMIT_NAMES.get(surface, surface)
        return not self.limiter.limits(name) or self.limiter.allow(name, key)

    def ignored(self, surface: str) -> None:
        """The connector saw a delivery that is not for ribot (its own message, an edit, another bot)."""
        self.count(surface, "ignored")

    # ---- on a worker, after the acknowledgement ----------------------------------------------------------

    def _answer_delivery(self, surface: str, payload: dict[str, Any]) -> list[Reply]:
        turn = turn_from_json(dict(payload.get("turn") or {}))
        limited = bool(payload.get("limited"))
        if "client" in payload and not limited:
            limited = not self._counted_in(surface, str(payload["client"]))
        replies, outcome = self.answer(turn, str(payload.get("kind") or "message"), limited)
        self.count(surface, outcome)
        return replies

    def answer(self, turn: Turn, kind: str = "message", limited: bool = False) -> tuple[list[Reply], str]:
        """The replies to one turn and the outcome to count. Blocking: runs on a worker thread."""
        if kind in NOTICES:
            return [Reply(kind="text", text="", data={"notice": kind})], "answered"
        found = edge_case(turn, kind, limited)
        if found is not None:
            name, outcome = found
            language = self.language_for(turn)
            return [edge_reply(name, language, length=len(turn.text), limit=MAX_TEXT_CHARS)], outcome
        if not turn.action and _word(turn) in ASSESS_WORDS:
            turn = replace(turn, text="", action="triage:start")
        return self._engine(turn)

    def _engine(self, turn: Turn) -> tuple[list[Reply], str]:
        engine = self.services.engine
        if engine is None:
            return [edge_reply("not_ready", self.language_for(turn), kind="error")], "not_ready"
        try:
            replies = list(engine.handle(turn))
        except Exception:
            log.exception("the conversation engine failed", extra={"platform": turn.platform})
            return [edge_reply("failed", self.language_for(turn), kind="error")], "failed"
        for reply in replies:
            if reply.answer is not None:
                self._count_answer(turn.platform, reply.answer)
        return replies, "answered"

    def language_for(self, turn: Turn) -> str:
        """The language of the gateway's notices to this turn (see above). Blocking: reads the database."""
        return follow_language(turn.text, turn.language or self._stored_language(turn) or "en")

    def _stored_language(self, turn: Turn) -> str | None:
        db = self.services.db
        if db is None:
            return None
        try:
            return stored_language(db, turn.platform, turn.conversation_id, turn.user_id)
        except SQLAlchemyError as exc:  # a notice in the message's own language beats none at all
            log.warning("could not read the conversation's language: %s", type(exc).__name__)
            return None

    def _count_answer(self, surface: str, answer: Answer) -> None:
        self.services.metrics.answers.labels(surface=surface, grounded=str(answer.grounded).lower()).inc()

    # ---- the stateless question API ------------------------------------------------------------------------

    async def ask(self, question: str, client: str) -> Answer:
        """`/api/ask`: one question, one answer, no conversation and nothing stored."""
        if not await self._allowed("api", client):
            self.count("api", "limited")
            raise ApiError(429, "too_many_requests", say("limited", language_of(question)))
        answerer = self.services.require_answerer()
        answer = await asyncio.wrap_future(answerer.submit(question))
        self._count_answer("api", answer)
        self.count("api", "answered")
        return answer


GATEWAY = web.AppKey("gateway", Gateway)
