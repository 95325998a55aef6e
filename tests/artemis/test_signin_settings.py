"""Sign-in security settings come from the environment: the lockout limit and duration, the
API-key failure limit, trusted proxies; throttle state lives in a cache every process shares
(a database table, or Redis by URL), never in one process's memory."""

from __future__ import annotations

import secrets

from tests.artemis.test_settings import manage

SHOW = (
    "from django.conf import settings as s; "
    "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), "
    "s.ARTEMIS_API_KEY_FAILURES_PER_MINUTE, s.REST_FRAMEWORK['NUM_PROXIES'], "
    "s.CACHES['default']['BACKEND'])"
)
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50)}


def test_lockout_defaults_to_five_failures_for_fifteen_minutes_in_a_shared_cache() -> None:
    result = manage("shell", "-c", SHOW, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "5", "900", "20", "0", "django.core.cache.backends.db.DatabaseCache",
    ]  # fmt: skip


def test_the_limits_and_a_redis_cache_are_set_from_the_environment() -> None:
    result = manage(
        "shell", "-c", SHOW, **PRODUCTION,
        ARTEMIS_LOGIN_FAILURE_LIMIT="8", ARTEMIS_LOGIN_LOCKOUT_MINUTES="30",
        ARTEMIS_API_KEY_FAILURES_PER_MINUTE="50", ARTEMIS_PROXY_COUNT="1",
        ARTEMIS_CACHE_URL="redis://127.0.0.1:6379/6",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "8", "1800", "50", "1", "django.core.cache.backends.redis.RedisCache",
    ]  # fmt: skip


def test_bad_values_fail_loudly_naming_the_variable() -> None:
    zero = manage("check", **PRODUCTION, ARTEMIS_LOGIN_FAILURE_LIMIT="0")
    memcached = manage("check", **PRODUCTION, ARTEMIS_CACHE_URL="memcached://127.0.0.1:11211")

    assert "ARTEMIS_LOGIN_FAILURE_LIMIT must be at least 1" in zero.stderr
    assert "ARTEMIS_CACHE_URL must be a redis:// or rediss:// URL" in memcached.stderr
