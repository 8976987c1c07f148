"""connectors.ratelimit on real stores: Redis at 127.0.0.1:6379, PostgreSQL, a SQLite file; the limit
holds across processes; the client address is read through trusted proxies only."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.store.base import Database
from connectors.ratelimit import RateLimits, forwarded_client, parse_limits, trusted_networks
from connectors.review.throttle import PAUSED, TOO_MANY, LoginThrottle
from tests.ratelimit.conftest import Store

REPO = Path(__file__).resolve().parents[2]


def address() -> str:
    """A documentation address (2001:db8::/32) of its own: Redis keeps counters between tests and runs."""
    return str(ipaddress.IPv6Address("2001:db8::") + uuid.uuid4().int % 2**96)


def limits_for(store: Store, db: Database | None, **values: Any) -> RateLimits:
    settings = Settings(**store.settings_values(), **values)
    return RateLimits(settings, lambda: db)


def test_turns_are_counted_per_surface_and_key(store: Store, db: Database) -> None:
    surface, chat, one, other = (
        f"ask-{uuid.uuid4().hex[:8]}",
        f"chat-{uuid.uuid4().hex[:8]}",
        address(),
        address(),
    )
    limits = limits_for(store, db, ribot_rate_limits={surface: "3/minute", chat: "1/minute"})
    assert limits.storage_name == ("redis" if store.redis_url else "database")
    assert [limits.allow(surface, one) for _ in range(5)] == [True, True, True, False, False]
    assert limits.allow(surface, other)  # another client has its own count
    assert limits.allow(chat, one)  # and another surface its own limit
    assert not limits.allow(chat, one)
    assert limits.allow("slack", one) and limits.allow("slack", one)  # no limit set, no default: open


def test_several_limits_on_one_surface_all_hold(store: Store, db: Database) -> None:
    surface = f"ask-{uuid.uuid4().hex[:8]}"
    limits = limits_for(store, db, ribot_rate_limits={"default": "100/minute; 2/hour"})
    assert [limits.allow(surface, "k") for _ in range(3)] == [True, True, False]


def test_memory_until_the_database_has_loaded(sql_store: Store, sql_db: Database) -> None:
    loaded: list[Database] = []
    settings = Settings(database_url=sql_store.db_url, ribot_rate_limits={"ask": "2/minute"})
    limits = RateLimits(settings, lambda: loaded[0] if loaded else None)
    assert limits.storage_name == "memory"
    assert limits.allow("ask", "k") and limits.allow("ask", "k") and not limits.allow("ask", "k")
    loaded.append(sql_db)
    assert limits.storage_name == "database"
    assert limits.allow("ask", "k")  # counting starts over in the shared store


def test_database_counters_expire_and_are_purged(sql_db: Database) -> None:
    from bot.store import rate_limits as counters

    db = sql_db
    assert counters.increment(db, "k", 1) == 1
    assert counters.increment(db, "k", 1, amount=2) == 3
    assert counters.count(db, "k") == 3
    time.sleep(1.1)
    assert counters.count(db, "k") == 0
    assert counters.increment(db, "k", 60) == 1  # a new window
    counters.increment(db, "gone", 0.01)
    time.sleep(0.05)
    assert counters.purge_expired(db) == 1 and counters.count(db, "k") == 1


CHILD = """
import json, sys, time
from pathlib import Path
from bot.settings import Settings
from bot.store.base import open_database
from connectors.ratelimit import RateLimits
values, surface, start, tries = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
db = open_database(values["database_url"])
limits = RateLimits(Settings(**values, ribot_rate_limits={surface: "15/minute"}), lambda: db)
limits.allow("warm-up", "x")
while not start.exists():
    time.sleep(0.01)
print(json.dumps(sum(limits.allow(surface, "198.51.100.9") for _ in range(tries))))
"""


def test_two_processes_share_one_limit(store: Store, db: Database, tmp_path: Path) -> None:
    surface = f"ask-{uuid.uuid4().hex[:8]}"
    start = tmp_path / "go"
    args = [json.dumps(store.settings_values()), surface, str(start), "20"]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    time.sleep(1.5)  # both have imported and connected
    start.touch()
    allowed = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
        allowed.append(json.loads(out))
    assert sum(allowed) == 15, allowed  # 20 tries each: separate counts would have allowed 30


def test_an_unreachable_redis_lets_turns_through_and_pauses_sign_in(tmp_path: Path) -> None:
    settings = Settings(
        ribot_redis_url="redis://127.0.0.1:1/0",
        ribot_rate_limits={"ask": "1/minute"},
        ribot_data_dir=tmp_path,
    )
    limits = RateLimits(settings, lambda: None)
    assert limits.allow("ask", "k") and limits.allow("ask", "k")
    throttle = LoginThrottle(limits, settings)
    assert throttle.refusal("anna@ki.se", "203.0.113.7") == PAUSED
    throttle.failed("anna@ki.se", "203.0.113.7")  # says nothing, breaks nothing


def login_throttle(store: Store, db: Database, account: str = "4 per 10 minutes") -> LoginThrottle:
    settings = Settings(
        **store.settings_values(),
        review_login_limit_account_address="3 per 10 minutes",
        review_login_limit_address="6 per 10 minutes",
        review_login_limit_account=account,
    )
    return LoginThrottle(RateLimits(settings, lambda: db), settings)


def test_one_address_failing_on_an_account_pauses_that_pair_only(store: Store, db: Database) -> None:
    throttle, anna = login_throttle(store, db), f"anna-{uuid.uuid4().hex[:6]}@ki.se"
    attacker, owner = address(), address()
    for _ in range(3):
        assert throttle.refusal(anna, attacker) is None
        throttle.failed(anna, attacker)
    assert throttle.refusal(anna, attacker) == TOO_MANY
    assert throttle.refusal(anna.upper(), attacker) == TOO_MANY  # the account, however it is typed
    assert throttle.refusal(anna, owner) is None  # the owner elsewhere is not locked out
    assert throttle.refusal(f"bo-{anna}", attacker) is None


def test_one_address_spraying_accounts_is_paused(store: Store, db: Database) -> None:
    throttle, tag = login_throttle(store, db), uuid.uuid4().hex[:6]
    attacker, other = address(), address()
    for n in range(6):
        throttle.failed(f"user{n}-{tag}@ki.se", attacker)
    assert throttle.refusal(f"new-{tag}@ki.se", attacker) == TOO_MANY
    assert throttle.refusal(f"new-{tag}@ki.se", other) is None


def test_many_addresses_against_one_account_never_lock_out_a_fresh_address(
    store: Store, db: Database
) -> None:
    throttle, anna = login_throttle(store, db), f"anna-{uuid.uuid4().hex[:6]}@ki.se"
    attackers, owner = [address() for _ in range(5)], address()
    for attacker in attackers:
        throttle.failed(anna, attacker)
    # the account limit (4) is reached: addresses that failed on it wait, the rest still get their try
    assert all(throttle.refusal(anna, attacker) == TOO_MANY for attacker in attackers)
    assert throttle.refusal(anna, owner) is None
    throttle.succeeded(anna, owner)
    assert throttle.refusal(anna, owner) is None


def test_success_clears_the_pair_only(store: Store, db: Database) -> None:
    throttle = login_throttle(store, db, account="5 per 10 minutes")
    anna, owner = f"anna-{uuid.uuid4().hex[:6]}@ki.se", address()
    for _ in range(2):
        throttle.failed(anna, owner)
    throttle.succeeded(anna, owner)
    for _ in range(2):
        throttle.failed(anna, owner)
    assert throttle.refusal(anna, owner) is None  # 2 since the success, the limit is 3
    throttle.failed(anna, owner)  # the account's fifth: its failures were not cleared
    assert throttle.refusal(anna, owner) == TOO_MANY
    assert throttle.refusal(anna, address()) is None


PROXIES = trusted_networks("10.0.0.0/8, 127.0.0.1, ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.7", ["198.51.100.9"], "203.0.113.7"),  # not from a proxy: the header is the client's own
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["198.51.100.9"], "198.51.100.9"),
        ("127.0.0.1", ["1.2.3.4, 198.51.100.9"], "198.51.100.9"),  # a spoofed left entry is ignored
        ("127.0.0.1", ["1.2.3.4", "198.51.100.9, 10.1.2.3"], "198.51.100.9"),  # two proxies, two headers
        ("127.0.0.1", ["10.1.2.3, 10.4.5.6"], "10.1.2.3"),  # proxies all the way
        ("127.0.0.1", ["198.51.100.9, garbage"], "127.0.0.1"),  # garbled: nothing past the proxy
        ("127.0.0.1", ["198.51.100.9:5123"], "198.51.100.9"),
        ("::1", ["[2001:db8::7]:443"], "2001:db8::7"),
        (None, ["198.51.100.9"], "unknown"),
    ],
)
def test_client_address_through_trusted_proxies(peer: str | None, forwarded: list[str], client: str) -> None:
    assert forwarded_client(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    assert forwarded_client("127.0.0.1", ["198.51.100.9"], []) == "127.0.0.1"


def test_settings_in_limits_notation_and_bad_ones_refused() -> None:
    assert [str(item) for item in parse_limits("20/minute; 200 per hour")] == [
        "20 per 1 minute",
        "200 per 1 hour",
    ]
    with pytest.raises(ValueError):
        parse_limits("lots")
    with pytest.raises(ValueError):
        trusted_networks("10.0.0.0/8, proxy.ki.se")
    with pytest.raises(ValueError, match="one limit"):
        LoginThrottle(
            RateLimits(Settings(), lambda: None), Settings(review_login_limit_address="1/minute;2/hour")
        )
