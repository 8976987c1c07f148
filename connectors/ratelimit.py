"""Rate limits and sign-in throttling that every ribot process sharing a database (or a Redis) agrees on.

Counting is done by the `limits` library with fixed windows. Where the counters live:

- `RIBOT_REDIS_URL` set: Redis (limits' RedisStorage), shared by every replica that points at it;
- otherwise the database ribot already uses (`DatabaseStorage` below, table `rate_limit_counters`), shared
  by every process on that database, SQLite file or PostgreSQL;
- before the database has loaded: this process's memory, until it has.

`RateLimits.allow(surface, key)` answers one turn on a surface (`ask`, `chat`, `slack`, `teams`...) for one
key (a user id, a client address), with the limits of RIBOT_RATE_LIMITS. It blocks on the store: call it
off the event loop (`services.run_sync`). A server makes one with `RateLimits.for_services(services)`.
Keys are hashed before they are stored, so no address or account name lands in Redis or the counters table.

`client_address(request, trusted)` is the address a request came from: the socket's peer, or, when that peer
is one of the configured trusted proxies (RIBOT_TRUSTED_PROXIES), the right-most address in
`X-Forwarded-For` that is not itself a trusted proxy. Anything a client writes there itself stays to the left
of what the proxies append, so it is never taken. `request_client(request)` is the same for the server's
own routes, with the proxies `connectors.app.create_app` put in `TRUSTED_PROXIES`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from aiohttp import web
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from bot.store import rate_limits as counters
from bot.store.base import Database
from connectors.services import Services

log = logging.getLogger("ribot.ratelimit")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED_PROXIES: web.AppKey[list[Network]] = web.AppKey("trusted_proxies")
PURGE_EVERY = 1000  # increments between removals of expired counter rows


class TurnLimiter(Protocol):
    """What the edge gateway asks before a turn runs the model."""

    def limits(self, surface: str) -> bool: ...

    def allow(self, surface: str, key: str) -> bool: ...


class DatabaseStorage(Storage):
    """`limits` storage on ribot's database (bot.store.rate_limits): fixed windows only."""

    STORAGE_SCHEME = None

    def __init__(self, db: Database) -> None:
        super().__init__(wrap_exceptions=True)
        self.db = db
        self._increments = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self._increments += 1
        if self._increments % PURGE_EVERY == 0:
            counters.purge_expired(self.db)
        return counters.increment(self.db, _stored_key(key), expiry, amount)

    def get(self, key: str) -> int:
        return counters.count(self.db, _stored_key(key))

    def get_expiry(self, key: str) -> float:
        return counters.expires_at(self.db, _stored_key(key))

    def check(self) -> bool:
        counters.count(self.db, "ribot:health")
        return True

    def reset(self) -> int | None:
        return counters.clear_all(self.db)

    def clear(self, key: str) -> None:
        counters.clear(self.db, _stored_key(key))


def _stored_key(key: str) -> str:
    return key if len(key) <= counters.MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def parse_limits(text: str) -> list[RateLimitItem]:
    """`limits` notation, several separated by `;`: "30/minute; 500 per day". Raises ValueError."""
    return list(parse_many(text))


class RateLimits:
    """The shared counters, and the per-surface limits of each turn (the `TurnLimiter` the gateway uses)."""

    def __init__(self, settings: Settings, database: Callable[[], Database | None]) -> None:
        self._redis_url = settings.ribot_redis_url
        self._database = database
        self._surfaces = {name: parse_limits(text) for name, text in settings.ribot_rate_limits.items()}
        self._lock = threading.Lock()
        self._limiter: FixedWindowRateLimiter | None = None
        self._shared = False
        self._memory: FixedWindowRateLimiter | None = None

    @property
    def storage_name(self) -> str:
        """Where the counters are kept right now: redis, database or memory."""
        storage = self.limiter().storage
        return "redis" if isinstance(storage, RedisStorage) else "database" if self._shared else "memory"

    def limiter(self) -> FixedWindowRateLimiter:
        with self._lock:
            if self._limiter is not None and self._shared:
                return self._limiter
            storage = self._shared_storage()
            if storage is not None:
                self._limiter, self._shared = FixedWindowRateLimiter(storage), True
                return self._limiter
            if self._memory is None:
                self._memory = FixedWindowRateLimiter(MemoryStorage())
            return self._memory

    def _shared_storage(self) -> Storage | None:
        if self._redis_url:
            return RedisStorage(self._redis_url, key_prefix="ribot", wrap_exceptions=True)
        db = self._database()
        return DatabaseStorage(db) if db is not None else None

    @classmethod
    def for_services(cls, services: Services) -> RateLimits:
        """The server's limits: its settings, and its database once that has loaded."""
        return cls(services.settings, lambda: services.db if isinstance(services.db, Database) else None)

    def limits_for(self, surface: str) -> list[RateLimitItem]:
        return self._surfaces.get(surface) or self._surfaces.get("default") or []

    def limits(self, surface: str) -> bool:
        return bool(self.limits_for(surface))

    def allow(self, surface: str, key: str) -> bool:
        """Count one turn for `key` on `surface`; False once any of the surface's limits is used up. A store
        that cannot be reached lets the turn through (and says so in the log)."""
        items = self.limits_for(surface)
        if not items:
            return True
        try:
            limiter = self.limiter()
            return all([limiter.hit(item, "turn", surface, _digest(key)) for item in items])
        except StorageError:
            log.exception("the rate-limit store failed; %s turn allowed", surface)
            return True

    # The pieces the sign-in throttle builds on; identifiers are hashed here.
    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return bool(self.limiter().hit(item, *map(_digest, identifiers)))

    def used(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = self.limiter().get_window_stats(item, *map(_digest, identifiers))
        return int(item.amount - stats.remaining)

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self.limiter().clear(item, *map(_digest, identifiers))


def trusted_networks(setting: str) -> list[Network]:
    """RIBOT_TRUSTED_PROXIES: comma-separated addresses or networks. Raises ValueError on a bad entry."""
    return [ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Any, networks: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: str | None, forwarded_for: Iterable[str], networks: Sequence[Network]) -> str:
    """The client's address given the socket peer and the X-Forwarded-For headers, as described above."""
    peer_address = _address(peer or "")
    if not _trusted(peer_address, networks):
        return str(peer_address) if peer_address is not None else (peer or "unknown")
    closest = str(peer_address)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return closest  # a garbled entry: nothing to its left can be trusted either
        if not _trusted(address, networks):
            return str(address)
        closest = str(address)
    return closest


def client_address(request: web.Request, networks: Sequence[Network]) -> str:
    return forwarded_client(request.remote, request.headers.getall("X-Forwarded-For", []), networks)


def request_client(request: web.Request) -> str:
    """The client address of a request to the server, through its configured trusted proxies."""
    proxies: list[Network] = request.app.get(TRUSTED_PROXIES) or []
    return client_address(request, proxies)
