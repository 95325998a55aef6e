"""Test settings: the production settings with a test-only secret and fast password hashing.

The database and broker still come from DATABASE_URL / CELERY_BROKER_URL, so CI runs the same
suite on PostgreSQL and Redis.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault(
    "ARTEMIS_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)

from artemis.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
