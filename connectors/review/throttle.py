"""Slowing down password guessing on the console without letting anyone lock a coordinator out.

Failed sign-ins are counted three ways, in the store every replica shares (connectors.ratelimit):

1. per account and client address (REVIEW_LOGIN_LIMIT_ACCOUNT_ADDRESS, 10 per 10 minutes): that pair is
   paused, the same person elsewhere and everyone else are not;
2. per client address (REVIEW_LOGIN_LIMIT_ADDRESS, 50 per 10 minutes): one address spraying many accounts is
   paused for all of them;
3. per account (REVIEW_LOGIN_LIMIT_ACCOUNT, 30 per 10 minutes, from any address): once reached, only
   addresses that have not failed on this account in the window may still try it, once each.

So an attacker's failures never stop the account's owner: from an address that has not itself failed on the
account, a correct password is always checked and accepted. Guessing from many addresses still costs one
address per guess once the account limit is reached, instead of ten. Success clears the pair's count only:
the attacker's failures against the account still count. Accounts are counted by the address typed, known
or not, so the throttle tells nothing about which accounts exist.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from limits import RateLimitItem
from limits.errors import StorageError

from bot.settings import Settings
from connectors.ratelimit import RateLimits, parse_limits

PAIR, ADDRESS, ACCOUNT = "login:pair", "login:address", "login:account"


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


TOO_MANY = Refusal(429, "Too many failed attempts. Wait a few minutes, or sign in from your usual device.")
PAUSED = Refusal(503, "Sign-in is paused: ribot cannot reach its rate-limit store. Try again shortly.")


def _one(text: str, name: str) -> RateLimitItem:
    items = parse_limits(text)
    if len(items) != 1:
        raise ValueError(f"{name} takes one limit, e.g. '10 per 10 minutes', not {text!r}")
    return items[0]


class LoginThrottle:
    def __init__(self, limits: RateLimits, settings: Settings) -> None:
        self.limits = limits
        self.pair = _one(settings.review_login_limit_account_address, "REVIEW_LOGIN_LIMIT_ACCOUNT_ADDRESS")
        self.address = _one(settings.review_login_limit_address, "REVIEW_LOGIN_LIMIT_ADDRESS")
        self.account = _one(settings.review_login_limit_account, "REVIEW_LOGIN_LIMIT_ACCOUNT")

    def refusal(self, account: str, address: str) -> Refusal | None:
        """Why this attempt is refused before its password is checked; None when it may go ahead.
        Blocking (the shared store): call it off the event loop."""
        account = account.strip().lower()
        try:
            if self.limits.used(self.address, ADDRESS, address) >= self.address.amount:
                return TOO_MANY
            pair_failures = self.limits.used(self.pair, PAIR, account, address)
            if pair_failures >= self.pair.amount:
                return TOO_MANY
            account_failures = self.limits.used(self.account, ACCOUNT, account)
            if account_failures >= self.account.amount and pair_failures > 0:
                return TOO_MANY
        except StorageError:
            return PAUSED
        return None

    def failed(self, account: str, address: str) -> None:
        account = account.strip().lower()
        with contextlib.suppress(StorageError):  # the next refusal() answers 503 while the store is away
            self.limits.hit(self.pair, PAIR, account, address)
            self.limits.hit(self.address, ADDRESS, address)
            self.limits.hit(self.account, ACCOUNT, account)

    def succeeded(self, account: str, address: str) -> None:
        with contextlib.suppress(StorageError):
            self.limits.clear(self.pair, PAIR, account.strip().lower(), address)
