"""Artemis settings, read from the environment (see README "Environment variables").

With nothing set, Artemis runs on an embedded default: SQLite in WAL mode and a filesystem
Celery broker under ./var, so a fresh machine needs no service. Set DATABASE_URL and
CELERY_BROKER_URL to run on PostgreSQL and Redis or RabbitMQ.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from artemis.env import envbool, envhosts, envint, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envsecret("ARTEMIS_VAR_DIR") or BASE_DIR / "var")

DEBUG = envbool("DEBUG", False)

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG=1"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    "review",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files keep their caching; every other answer is no-store.
    "artemis.headers.NoStoreMiddleware",
    # A NUL in a query parameter or form field: a 400 naming it, before any view's query.
    "artemis.inputs.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After htmx (it answers an htmx request with HX-Redirect): a member who must use a
    # second factor reaches nothing but enrolment or verification until they have.
    "review.signin.two_factor.TwoFactorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "artemis.urls"
WSGI_APPLICATION = "artemis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "review.tenancy.capabilities.template_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envsecret("DATABASE_URL")
if DATABASE_URL:
    # Connections are kept for a minute between requests and checked before a request uses
    # one, so a connection PostgreSQL dropped (restart, failover, pg_terminate_backend) is
    # replaced instead of failing the worker's next request with a 500.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "artemis.sqlite3",
            "OPTIONS": {
                # WAL lets the web process read while the worker writes; IMMEDIATE takes the
                # write lock at BEGIN so two writers queue on busy_timeout instead of failing
                # with "database is locked" half-way through a transaction.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Throttle state (failed API keys) must be shared by every web process, so never the
# per-process memory cache: a table in the database by default (no extra service; migration
# 0021 creates it), or Redis with ARTEMIS_CACHE_URL=redis://host:6379/N.
CACHE_URL = envsecret("ARTEMIS_CACHE_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(
            f"ARTEMIS_CACHE_URL must be a redis:// or rediss:// URL; got {CACHE_URL.split(':')[0]}:"
        )
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL}}  # fmt: skip
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "artemis_cache"}}  # fmt: skip

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Files a browser asks for at the site's root (/favicon.ico), served by WhiteNoise like the
# static files: no URL pattern, no view, no CDN.
WHITENOISE_ROOT = BASE_DIR / "public"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: lockout and two-factor ----------------------------------------------------------
# django-axes' backend comes first: it refuses a locked-out username or address before the
# password is checked, so the right password after the limit is refused too.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Proxies in front of Artemis that append the client's address to X-Forwarded-For (0: the
# client connects directly, and X-Forwarded-For is ignored, as a client can forge it).
ARTEMIS_PROXY_COUNT = envint("ARTEMIS_PROXY_COUNT", 0, minimum=0)
# Locked after this many failed sign-ins for one username from one address; for one username
# from every address after twice as many, and for one address (any username: password
# spraying) after four times as many, so one person's typos do not lock out everyone behind
# the same office address (review/signin/lockout.py applies the three limits)...
AXES_FAILURE_LIMIT = envint("ARTEMIS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
# ... until this long after the lock's last failure (or an admin unlocks the member).
AXES_COOLOFF_TIME = timedelta(minutes=envint("ARTEMIS_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_HANDLER = "review.signin.lockout.LockoutHandler"
# A try refused by a lock is not counted: its password is never checked, so a right one would
# count as a failure (and the lock still lifts a cool-off after its last counted failure).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "review.signin.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "review.signin.views.locked_out"
# A success must not wipe the failures: it would clear every failure from that address too,
# so an attacker with one account of their own could reset the count between guesses.
AXES_RESET_ON_SUCCESS = False
# Sign-ins are in the audit trail already; django-axes' own access log would only grow.
AXES_DISABLE_ACCESS_LOG = True
# django-otp: the issuer an authenticator app shows next to the account.
OTP_TOTP_ISSUER = "Artemis"
# Wrong codes back off exponentially (1, 2, 4, 8... seconds per device), stored in the
# database, so every process sees them.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# --- Security -------------------------------------------------------------------------------
# Secure by default; DEBUG=1 (development) relaxes only what breaks plain-HTTP localhost use.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# The header only makes a site eligible; joining the preload list is a separate, explicit step.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own static files, no inline
# script or eval anywhere, so an injected <script> or onclick= does not run. The one inline
# <style> (the characteristic colours, built from scoring/characteristics.py) carries the
# request's nonce. htmx is told not to inject its indicator styles (base.html). The API's
# documentation pages relax style-src for themselves only (artemis/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if envbool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["review.intake.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["review.intake.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "review.intake.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # The client address for throttling: X-Forwarded-For only as far as our own proxies.
    "NUM_PROXIES": ARTEMIS_PROXY_COUNT,
}
# Failed API-key attempts from one address in a minute before it gets 429 with Retry-After
# (a valid key is never slowed: it is looked up first).
ARTEMIS_API_KEY_FAILURES_PER_MINUTE = envint("ARTEMIS_API_KEY_FAILURES_PER_MINUTE", 20, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "Artemis ingestion API",
    "DESCRIPTION": (
        "Send chat conversations for grooming-risk review. Authenticate with "
        "`Authorization: Bearer <api key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, nothing leaves the host.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "review.intake.api.inputs.list_limits",
        "review.intake.api.inputs.closed_shapes",
    ],
}
# A batch may carry up to 10 MB of JSON; the API answers 413 past that, naming the limit.
ARTEMIS_MAX_REQUEST_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = ARTEMIS_MAX_REQUEST_BYTES + 1024
ARTEMIS_MAX_BATCH = 1000
# Arrays and objects nested deeper than this are refused (400) before parsing; a valid
# request nests 7 deep (a batch's conversations' participants' ip_events).
ARTEMIS_MAX_JSON_DEPTH = 32
ARTEMIS_MAX_MESSAGE_CHARS = 10_000

# --- Celery ---------------------------------------------------------------------------------
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = envsecret("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (worker control) messages; kombu's default is ./control in the cwd.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers an unacknowledged task after this long; scoring takes seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Four queues, so a machine takes only the work it is sized and trusted for: scoring (CPU),
# outbound (webhooks and NCMEC: outbound network and NCMEC credentials), training (memory,
# minutes per run) and maintenance (the periodic sweeps). Each task's soft limit raises
# SoftTimeLimitExceeded inside it (a hung call is cut and the task retried); the hard limit
# kills the worker process (the task is redelivered: acks late). README, "Scaling".
# queue: (tasks, soft seconds, hard seconds)
ARTEMIS_TASK_QUEUES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "scoring": (
        ("review.tasks.score_conversations", "review.tasks.request_scores"),
        envint("ARTEMIS_SCORING_SOFT_SECONDS", 120, minimum=1),
        envint("ARTEMIS_SCORING_HARD_SECONDS", 180, minimum=1),
    ),
    "outbound": (
        ("review.tasks.deliver_webhook", "review.tasks.submit_ncmec"),
        envint("ARTEMIS_OUTBOUND_SOFT_SECONDS", 300, minimum=1),
        envint("ARTEMIS_OUTBOUND_HARD_SECONDS", 360, minimum=1),
    ),
    "training": (
        ("review.tasks.train_challenger",),
        envint("ARTEMIS_TRAINING_SOFT_SECONDS", 3600, minimum=1),
        envint("ARTEMIS_TRAINING_HARD_SECONDS", 3900, minimum=1),
    ),
    "maintenance": (
        (
            "review.tasks.send_outbox",
            "review.tasks.sweep_unscored",
            "review.tasks.purge_expired",
            "review.tasks.compact_queue_counts",
            "review.tasks.sign_audit_checkpoints",
        ),
        envint("ARTEMIS_MAINTENANCE_SOFT_SECONDS", 600, minimum=1),
        envint("ARTEMIS_MAINTENANCE_HARD_SECONDS", 720, minimum=1),
    ),
}
for _queue, (_tasks, _soft, _hard) in ARTEMIS_TASK_QUEUES.items():
    if _soft >= _hard:
        raise ImproperlyConfigured(
            f"the {_queue} queue's soft time limit ({_soft} s) must be below its hard one "
            f"({_hard} s)"
        )
CELERY_TASK_ROUTES = {
    task: {"queue": queue} for queue, (tasks, _, _) in ARTEMIS_TASK_QUEUES.items() for task in tasks
}
CELERY_TASK_ANNOTATIONS = {
    task: {"soft_time_limit": soft, "time_limit": hard}
    for tasks, soft, hard in ARTEMIS_TASK_QUEUES.values()
    for task in tasks
}
# A task with no route would wait on a queue no worker reads: tests/artemis fail on one.
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
# How long the first retry of a stopped NCMEC submission waits (doubling, up to 15 minutes).
ARTEMIS_NCMEC_RETRY_BACKOFF_SECONDS = envint("ARTEMIS_NCMEC_RETRY_BACKOFF_SECONDS", 30, minimum=1)
ARTEMIS_AUDIT_CHECKPOINT_SECONDS = envint("ARTEMIS_AUDIT_CHECKPOINT_SECONDS", 3600, minimum=60)
CELERY_BEAT_SCHEDULE = {
    # Tasks that requests owed while the broker was down (review.services.outbox).
    "send-outbox": {
        "task": "review.tasks.send_outbox",
        "schedule": envint("ARTEMIS_SWEEP_SECONDS", 60, minimum=1),
    },
    "sweep-unscored-conversations": {
        "task": "review.tasks.sweep_unscored",
        "schedule": envint("ARTEMIS_SWEEP_SECONDS", 60, minimum=1),
    },
    # Retention: each run purges a bounded batch per tenant, so hourly keeps up.
    "purge-expired-conversations": {
        "task": "review.tasks.purge_expired",
        "schedule": envint("ARTEMIS_RETENTION_SECONDS", 3600, minimum=60),
    },
    # The queue page's counts are correct without it; it keeps them cheap to sum.
    "compact-queue-counts": {
        "task": "review.tasks.compact_queue_counts",
        "schedule": envint("ARTEMIS_QUEUE_COUNTS_COMPACT_SECONDS", 60, minimum=1),
    },
    # Each tenant's audit chain head, signed (review/audit/checkpoints.py): needs the package
    # signing key on the maintenance worker. verify_audit counts an event older than two of
    # these intervals and beyond the newest checkpoint as a broken trail.
    "sign-audit-checkpoints": {
        "task": "review.tasks.sign_audit_checkpoints",
        "schedule": ARTEMIS_AUDIT_CHECKPOINT_SECONDS,
    },
}

# --- Scoring --------------------------------------------------------------------------------
# Generated conversations a challenger trained from the admin page learns alongside the
# decisions; 0: as many as the default model (smaller trains faster, for tests and demos).
ARTEMIS_CHALLENGER_GENERATED = envint("ARTEMIS_CHALLENGER_GENERATED", 0, minimum=0)
# A conversation whose score was requested longer ago than this is re-enqueued by the sweep.
ARTEMIS_RESCORE_AFTER_SECONDS = envint("ARTEMIS_RESCORE_AFTER_SECONDS", 300, minimum=1)

# --- Outbound calls to tenant-chosen addresses (webhooks; review/outbound/addresses.py) ----------
# Hosts ("host" or "host:port") the operator trusts: Artemis may call them over plain http
# and at a loopback or private address, e.g. a local receiver in development. Every other
# host must be https at public addresses only. Prefer host:port: "127.0.0.1" alone would let
# a tenant's webhook reach every local service (Redis on 6379, say).
ARTEMIS_OUTBOUND_TRUSTED_HOSTS = envhosts("ARTEMIS_OUTBOUND_TRUSTED_HOSTS")

# --- Members ---------------------------------------------------------------------------------
# An invitation to join a tenant waits this many days for its invitee to accept it.
ARTEMIS_INVITATION_DAYS = envint("ARTEMIS_INVITATION_DAYS", 7, minimum=1)

# --- Moderator wellness ----------------------------------------------------------------------
ARTEMIS_BREAK_AFTER_MINUTES = envint("ARTEMIS_BREAK_AFTER_MINUTES", 60, minimum=1)
# Service-level target for how long a flagged item may wait (urgent ones: a quarter of it).
ARTEMIS_QUEUE_SLA_MINUTES = envint("ARTEMIS_QUEUE_SLA_MINUTES", 240, minimum=1)

# --- NCMEC CyberTipline ---------------------------------------------------------------------
# Where reports go (the test endpoint unless set), the account NCMEC issued, and who the
# report names as its reporter (NCMEC requires the reporter's email). See README "NCMEC".
NCMEC_URL = (envsecret("NCMEC_URL") or "https://exttest.cybertip.org/ispws").rstrip("/")
NCMEC_USERNAME = envsecret("NCMEC_USERNAME")
NCMEC_PASSWORD = envsecret("NCMEC_PASSWORD")
NCMEC_TIMEOUT_SECONDS = envint("NCMEC_TIMEOUT_SECONDS", 60, minimum=1)
NCMEC_REPORTER_FIRST_NAME = envsecret("NCMEC_REPORTER_FIRST_NAME")
NCMEC_REPORTER_LAST_NAME = envsecret("NCMEC_REPORTER_LAST_NAME")
NCMEC_REPORTER_EMAIL = envsecret("NCMEC_REPORTER_EMAIL")
NCMEC_REPORTER_PHONE = envsecret("NCMEC_REPORTER_PHONE")
# The company making the report (default: the tenant's name).
ARTEMIS_ESP_NAME = envsecret("ARTEMIS_ESP_NAME")
# --- Law-enforcement referral package --------------------------------------------------------
# The Ed25519 private key (PEM) that signs every package; create one with
# `manage.py package_signing_key`. Without it, building a package fails naming this setting.
ARTEMIS_PACKAGE_SIGNING_KEY = envsecret("ARTEMIS_PACKAGE_SIGNING_KEY")
# The provider (ESP) named on the cover sheet (default: the tenant's name), where legal
# process goes, and how to serve it ("{reference}" is replaced by the case reference).
ARTEMIS_PROVIDER_NAME = envsecret("ARTEMIS_PROVIDER_NAME")
ARTEMIS_LEGAL_PROCESS_CONTACT = envsecret("ARTEMIS_LEGAL_PROCESS_CONTACT") or (
    "Development instance: set ARTEMIS_LEGAL_PROCESS_CONTACT" if DEBUG else ""
)
ARTEMIS_LEGAL_PROCESS_INSTRUCTIONS = envsecret("ARTEMIS_LEGAL_PROCESS_INSTRUCTIONS")
# A TTF that draws what the shipped DejaVu Sans cannot (a Noto CJK font, say); optional.
ARTEMIS_PACKAGE_FALLBACK_FONT = envsecret("ARTEMIS_PACKAGE_FALLBACK_FONT")

# --- Logging --------------------------------------------------------------------------------
# Message text never reaches a log: loggers get ids and counts only, and error reports
# (500 pages, e-mails) are off in production because request bodies can hold chat text.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            # Withholds the message of database errors, which can quote a row's text.
            "()": "artemis.logs.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "artemis": {"level": envsecret("ARTEMIS_LOG_LEVEL") or "INFO", "propagate": True},
        "django.request": {"level": "ERROR", "propagate": True},
    },
}
ADMINS: list[tuple[str, str]] = []
