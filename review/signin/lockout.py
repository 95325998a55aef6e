"""The three sign-in locks and their limits, and django-axes' handler that applies them.

django-axes compares every lock with one limit. Ours differ, because each guards against
something else without locking out people it should not:

- one username from one address: ``AXES_FAILURE_LIMIT`` (someone guessing one password, or
  a member's own typos). The person is locked where they are; their colleagues behind the
  same office address are not.
- one username from every address: twice that (guesses spread over many addresses).
- one address, as any username: four times that (password spraying: one guess at each of
  many accounts). It stops everyone behind that address, so it is set well above what one
  person's typos reach.

A try refused by a lock is not counted (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``
is off): its password is never checked, so counting it would count a right password as a
failure. Each lock lifts ``AXES_COOLOFF_TIME`` after its last counted failure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

Lock = tuple[str, ...]
ACCOUNT_AT_ADDRESS: Lock = ("username", "ip_address")
ACCOUNT: Lock = ("username",)
ADDRESS: Lock = ("ip_address",)
# Each lock's limit as a multiple of AXES_FAILURE_LIMIT (so ARTEMIS_LOGIN_FAILURE_LIMIT
# scales all three).
FACTORS: dict[Lock, int] = {ACCOUNT_AT_ADDRESS: 1, ACCOUNT: 2, ADDRESS: 4}


def limit(lock: Lock) -> int:
    return FACTORS[lock] * settings.AXES_FAILURE_LIMIT


def _lock(parameter: str | list[str]) -> Lock:
    return (parameter,) if isinstance(parameter, str) else tuple(parameter)


def _recent() -> QuerySet[AccessAttempt]:
    return AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
    )


@dataclass(frozen=True)
class Held:
    """A lock that refuses a sign-in now."""

    lock: Lock
    failures: int
    until: datetime
    ip: str | None = None  # an address lock's address, where the reader needs it

    @property
    def seconds_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))

    @property
    def minutes_left(self) -> int:
        return math.ceil(self.seconds_left / 60)


def _held(lock: Lock, attempts: QuerySet[AccessAttempt], ip: str | None = None) -> Held | None:
    row = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    if (row["failures"] or 0) < limit(lock):
        return None
    return Held(lock, row["failures"], row["last"] + settings.AXES_COOLOFF_TIME, ip)


def locks_held(*, username: str | None, ip: str | None) -> list[Held]:
    """The locks that refuse signing in as ``username`` from ``ip`` now, the narrowest
    first (the one a member can do something about)."""
    recent = _recent()
    candidates = [
        (ACCOUNT_AT_ADDRESS, recent.filter(username=username, ip_address=ip)),
        (ACCOUNT, recent.filter(username=username)),
        (ADDRESS, recent.filter(ip_address=ip)),
    ]
    return [held for lock, rows in candidates if (held := _held(lock, rows, ip)) is not None]


def addresses_locked(addresses: Iterable[str | None]) -> list[Held]:
    """The address locks (as any username) among ``addresses``, each with its address."""
    found = []
    for ip in sorted({a for a in addresses if a}):
        held = _held(ADDRESS, _recent().filter(ip_address=ip), ip=ip)
        if held is not None:
            found.append(held)
    return found


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, with a limit per lock (see the module's docstring)."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """What django-axes compares with ``AXES_FAILURE_LIMIT``: that limit less the fewest
        failures any lock has left, so it reaches the limit exactly when one lock does (the
        try that makes it so is the one audited as the lockout; refused tries are not
        counted, so no lock goes past its limit)."""
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.get_user_attempts(request, credentials)
        left = min(
            limit(_lock(parameter))
            - (rows.aggregate(total=Sum("failures_since_start"))["total"] or 0)
            for parameter, rows in zip(parameters, attempts, strict=True)
        )
        return settings.AXES_FAILURE_LIMIT - left
