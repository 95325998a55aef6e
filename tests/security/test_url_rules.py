"""The attack suite: every URL the resolver knows and every operation in the OpenAPI schema,
attacked the way an outsider and a malicious tenant would.

For each URL, ``RULES`` below says who may use it (``Access``), which methods it answers,
which of its kwargs (and POST fields) carry another object of the tenant's, and how to build
a real one (a key of ``tests/security/world.py``). From that rule the suite checks, with two
tenants built by the real services (Acme: alice and bob the moderators, sam the supervisor,
ada the admin, audrey the auditor; Globex: gita, gil, gwen, gus, gail):

- an anonymous visitor is sent to sign in (pages) or gets 401 in the API's error shape;
- Acme's member who asks for Globex's slug gets 404, and so does one who puts a Globex id
  (or a Globex API conversation id) in an Acme URL or form: never 200, never Globex's data;
- a moderator asking for another moderator's case gets 404 (moderators see their own cases);
- every role below the required one gets 403 (Django's admin: a redirect to its sign-in;
  the API: a revoked key gets 401). Moderator, supervisor and admin are a ladder here; the
  auditor is off it: refused every tenant URL (every POST above all) but the pages it reads,
  a GET of a rule with ``auditor_reads``, where it is let in;
- a POST without a CSRF token gets 403 (the API takes no session at all: 401);
- a method the rule does not list gets 405;
- and, so none of the above passes by refusing everybody, the required role with its own
  tenant's objects is let in (no 401/403/404/405, never a 500).

A URL with no rule fails ``test_every_url_has_a_rule``, naming it.

How to add a rule (for a new URL, say ``path("t/<slug:tenant_slug>/invitations/<int:
invitation_id>/accept", ..., name="invitation_accept")``):

1. Add ``"invitation_accept": Rule(Access.MODERATOR, POST, ids={"invitation_id": INVITATION})``
   to ``RULES``: the access is the least role the view lets in (``post_access`` when a POST
   needs more than a GET), ``auditor_reads=True`` if the auditor may GET it (a page that
   shows decisions, cases or the audit trail; ``review/tenancy/capabilities.py``); ``methods`` are
   all it answers; ``ids`` maps each kwarg that names a tenant's object to the kind of
   object; ``form_ids`` does the same for POST fields; ``params`` builds kwargs that are not
   tenant-owned (Django admin's object ids); ``body`` builds a POST body that gets past
   validation, when a view validates before it looks up.
2. If the kind of object is new, add it to ``KINDS`` in ``tests/security/world.py`` and build
   one in ``tenant_world`` with the real services (then both tenants have one).
3. A page for a signed-in user with no tenant (two-factor enrolment, say) is
   ``Access.SIGNED_IN``; a page for anyone (the sign-in page) is ``Access.PUBLIC``.

The URLs here are the same ones the stored-XSS crawl (``test_stored_xss.py``) loads in
Chromium, so a new page is also checked for executed payloads.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_otp.plugins.otp_static.models import StaticDevice
from drf_spectacular.generators import SchemaGenerator

from review.models import Role
from tests.review_support import authenticator, pass_second_factor
from tests.security.world import (
    API_KEY,
    APPEAL,
    APPEAL_ID,
    AUTHOR_ONLY,
    CASE,
    CONVERSATION,
    DECISION,
    EXTERNAL_ID,
    INVITATION_TO_MODERATOR,
    ITEM,
    MEMBERSHIP,
    MESSAGE,
    MODEL_VERSION,
    PARTICIPANT,
    SECOND_REVIEW,
    SENT_INVITATION,
    TenantWorld,
    api_conversation,
    tenant_world,
)

pytestmark = pytest.mark.django_db


class Access(enum.Enum):
    PUBLIC = "anyone"
    SIGNED_IN = "any signed-in user"
    MODERATOR = Role.MODERATOR
    SUPERVISOR = Role.SUPERVISOR
    ADMIN = Role.ADMIN
    STAFF = "Django staff (the operator, in /django-admin/)"
    API_KEY = "a tenant's API key"


TENANT_ROLES = (Access.MODERATOR, Access.SUPERVISOR, Access.ADMIN)
EVERY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")
GET, POST, GET_POST = frozenset({"GET"}), frozenset({"POST"}), frozenset({"GET", "POST"})
# Django's admin answers any method (as a GET, or as a POST for a form); so do the class-based
# form views of django.contrib.auth for PUT (FormView's put is its post). CSRF covers them all.
ANY, FORM = frozenset(EVERY_METHOD), frozenset({"GET", "POST", "PUT"})


@dataclass(frozen=True)
class Worlds:
    acme: TenantWorld
    globex: TenantWorld
    operator: Any  # olga, Django staff and superuser, member of no tenant


@dataclass(frozen=True)
class Rule:
    access: Access
    methods: frozenset[str]
    ids: Mapping[str, str] = field(default_factory=dict)  # URL kwarg -> kind (world.py)
    post_access: Access | None = None  # when a POST needs a higher role than a GET
    # The auditor may GET it (it reads decisions, cases and the audit trail); it is refused
    # every other request of a tenant URL.
    auditor_reads: bool = False
    form_ids: Mapping[str, str] = field(default_factory=dict)  # POST field -> kind
    params: Mapping[str, Callable[[Worlds], Any]] = field(default_factory=dict)
    body: Callable[[TenantWorld], dict[str, Any]] | None = None
    # What the required role gets with good objects, when a refusal is the right answer
    # there too (Django admin's "view on site" for a model without a public URL).
    allowed_statuses: frozenset[int] | None = None
    # Where a visitor without the access is sent, when not to the sign-in page.
    refused_to: str | None = None

    def attacked_methods(self) -> list[str]:
        """The methods each attack is made with: a view's reads and writes (every method is
        still checked against ``methods`` for 405)."""
        return sorted(self.methods & {"GET", "POST"})

    def need(self, method: str) -> Access:
        return self.post_access if method == "POST" and self.post_access else self.access


def _supersede(world: TenantWorld) -> dict[str, Any]:
    return {
        "verdict": "no_violation",
        "reason_code": "benign_context",
        "notes": "",
        "supersedes": world.ids[DECISION],
    }


def _append(world: TenantWorld) -> dict[str, Any]:
    return {
        "messages": [
            {
                "external_id": "m-2",
                "sender": "u-kid",
                "sent_at": "2026-11-01T18:01:00+01:00",
                "text": "boring lol",
            }
        ]
    }


def _upsert(world: TenantWorld) -> dict[str, Any]:
    return api_conversation(world.tenant.slug, f"{world.tenant.slug}-chat-2")


def _batch(world: TenantWorld) -> dict[str, Any]:
    return {"conversations": [_upsert(world)]}


def _appeal(world: TenantWorld) -> dict[str, Any]:
    # A second appeal of the world's decision, which has one open: the API answers 409.
    return {
        "appeal_id": f"{world.tenant.slug}-appeal-2",
        "decision": world.ids[DECISION],
        "statement": "please look again",
        "made_at": "2026-11-30T10:00:00+01:00",
    }


def _appeal_outcome(world: TenantWorld) -> dict[str, Any]:
    return {"outcome": "upheld", "notes": ""}


def _user_id(worlds: Worlds) -> int:
    return worlds.acme.moderator.pk


def _group_id(worlds: Worlds) -> int:
    return Group.objects.get_or_create(name="auditors")[0].pk


def _content_type_id(worlds: Worlds) -> int:
    return ContentType.objects.get_for_model(get_user_model()).pk


def _access_row(model: Any) -> Callable[[Worlds], int]:
    """A row of one of django-axes' tables (attempts, failures, sign-ins), for its admin."""

    def build(worlds: Worlds) -> int:
        fields = {"user_agent": "x", "ip_address": "192.0.2.1", "username": "gus",
                  "http_accept": "x", "path_info": "/login"}  # fmt: skip
        if model is AccessAttempt:
            fields |= {"get_data": "", "post_data": "", "failures_since_start": 1}
        return model.objects.get_or_create(**fields)[0].pk

    return build


def _totp_device_id(worlds: Worlds) -> int:
    return authenticator(worlds.acme.supervisor).pk


def _static_device_id(worlds: Worlds) -> int:
    user = worlds.acme.supervisor
    return StaticDevice.objects.get_or_create(user=user, name="recovery codes")[0].pk


STAFF_ONLY = Rule(Access.STAFF, ANY)
USER = {"object_id": _user_id}
GROUP = {"object_id": _group_id}
TOTP_DEVICE = {"object_id": _totp_device_id}
STATIC_DEVICE = {"object_id": _static_device_id}
ATTEMPT = {"object_id": _access_row(AccessAttempt)}
FAILURE = {"object_id": _access_row(AccessFailureLog)}
SIGN_IN_LOG = {"object_id": _access_row(AccessLog)}
# django-axes keeps its records itself: nobody, staff included, adds one by hand.
NO_ADDING = Rule(Access.STAFF, ANY, allowed_statuses=frozenset({403}))

# URL name (or, for a pattern without a name, its route) -> rule. One row per URL.
RULES: dict[str, Rule] = {
    # --- signing in, the landing page, preferences -----------------------------------------
    "login": Rule(Access.PUBLIC, FORM),
    "healthz": Rule(Access.PUBLIC, GET),  # probes: a status word, no tenant data
    # Not ready (503, naming the check) in this world: it has no scoring model.
    "readyz": Rule(Access.PUBLIC, GET, allowed_statuses=frozenset({200, 503})),
    "logout": Rule(Access.PUBLIC, POST),
    "home": Rule(Access.SIGNED_IN, GET),
    "password_change": Rule(Access.SIGNED_IN, FORM),
    "password_change_done": Rule(Access.SIGNED_IN, GET),
    "toggle_calm": Rule(Access.SIGNED_IN, POST),
    # The second step of signing in: anyone signed in with a password may reach it.
    "two_factor_setup": Rule(Access.SIGNED_IN, GET_POST),
    "two_factor_verify": Rule(Access.SIGNED_IN, GET_POST),
    "two_factor_codes": Rule(Access.SIGNED_IN, GET),
    # A signed-in person's own invitations; someone else's is a 404.
    "invitations": Rule(Access.SIGNED_IN, GET),
    "invitation_accept": Rule(
        Access.SIGNED_IN, POST, ids={"invitation_id": INVITATION_TO_MODERATOR}
    ),
    "invitation_decline": Rule(
        Access.SIGNED_IN, POST, ids={"invitation_id": INVITATION_TO_MODERATOR}
    ),
    # --- the queue and a moderator's work ---------------------------------------------------
    "queue:queue": Rule(Access.MODERATOR, GET),
    "decisions:next": Rule(Access.MODERATOR, POST),
    "decisions:review": Rule(Access.MODERATOR, GET, ids={"item_id": ITEM}),
    "decisions:decide": Rule(Access.MODERATOR, POST, ids={"item_id": ITEM}),
    "decisions:release": Rule(Access.MODERATOR, POST, ids={"item_id": ITEM}),
    "decisions:renew": Rule(Access.MODERATOR, POST, ids={"item_id": ITEM}),
    "decisions:reveal": Rule(Access.MODERATOR, POST, ids={"item_id": ITEM, "message_id": MESSAGE}),
    # --- cases ------------------------------------------------------------------------------
    "cases:cases": Rule(Access.MODERATOR, GET, auditor_reads=True),
    "cases:case_inbox": Rule(Access.SUPERVISOR, GET),
    "cases:case": Rule(Access.MODERATOR, GET_POST, ids={"case_id": CASE}, auditor_reads=True),
    "cases:case_submit": Rule(Access.MODERATOR, POST, ids={"case_id": CASE}),
    "cases:case_approve": Rule(Access.SUPERVISOR, POST, ids={"case_id": CASE}),
    "cases:case_send_back": Rule(Access.SUPERVISOR, POST, ids={"case_id": CASE}),
    "cases:case_deliver": Rule(Access.SUPERVISOR, POST, ids={"case_id": CASE}),
    "cases:case_extend": Rule(Access.SUPERVISOR, POST, ids={"case_id": CASE}),
    "cases:case_close": Rule(Access.MODERATOR, POST, ids={"case_id": CASE}),
    "cases:case_ncmec": Rule(
        Access.MODERATOR,
        GET_POST,
        ids={"case_id": CASE},
        post_access=Access.SUPERVISOR,
        auditor_reads=True,
    ),
    "cases:case_package": Rule(Access.SUPERVISOR, GET, ids={"case_id": CASE}),
    # --- second reviews and supervision -----------------------------------------------------
    "decisions:second_reviews": Rule(Access.MODERATOR, GET),
    "decisions:second_review_next": Rule(Access.MODERATOR, POST),
    "decisions:second_review": Rule(Access.MODERATOR, GET, ids={"review_id": SECOND_REVIEW}),
    "decisions:second_review_record": Rule(
        Access.MODERATOR, POST, ids={"review_id": SECOND_REVIEW}
    ),
    "decisions:second_review_release": Rule(
        Access.MODERATOR, POST, ids={"review_id": SECOND_REVIEW}
    ),
    "decisions:second_review_renew": Rule(Access.MODERATOR, POST, ids={"review_id": SECOND_REVIEW}),
    "decisions:decision_log": Rule(Access.SUPERVISOR, GET, auditor_reads=True),
    "decisions:inbox": Rule(Access.SUPERVISOR, GET),
    "decisions:supervisor_review": Rule(
        Access.SUPERVISOR, GET, ids={"conversation_id": CONVERSATION}, auditor_reads=True
    ),
    "decisions:supervisor_decide": Rule(
        Access.SUPERVISOR,
        POST,
        ids={"conversation_id": CONVERSATION},
        form_ids={"supersedes": DECISION},
        body=_supersede,
    ),
    "decisions:disagreement_uphold": Rule(
        Access.SUPERVISOR, POST, ids={"review_id": SECOND_REVIEW}
    ),
    "decisions:agreement": Rule(Access.SUPERVISOR, GET),
    # --- appeals: anyone who decides but the decider; a referred one, a supervisor ----------
    "appeals:appeals": Rule(Access.MODERATOR, GET),
    "appeals:next": Rule(Access.MODERATOR, POST),
    "appeals:appeal": Rule(Access.MODERATOR, GET, ids={"appeal_id": APPEAL}),
    "appeals:decide": Rule(Access.MODERATOR, POST, ids={"appeal_id": APPEAL}, body=_appeal_outcome),
    "appeals:release": Rule(Access.MODERATOR, POST, ids={"appeal_id": APPEAL}),
    "appeals:renew": Rule(Access.MODERATOR, POST, ids={"appeal_id": APPEAL}),
    "audit:audit_trail": Rule(Access.SUPERVISOR, GET, auditor_reads=True),
    # Search by id or name (GET) for moderators up; message text (POST) for supervisors up.
    "search:search": Rule(
        Access.MODERATOR, GET_POST, post_access=Access.SUPERVISOR, body=lambda w: {"text": "pic"}
    ),
    "search:participant": Rule(Access.MODERATOR, GET, ids={"participant_id": PARTICIPANT}),
    # --- the tenant's admin pages -----------------------------------------------------------
    "tenancy:admin_home": Rule(Access.ADMIN, GET),
    "tenancy:admin_members": Rule(Access.ADMIN, GET_POST),
    "signin:admin_signin": Rule(Access.ADMIN, GET),
    "signin:admin_signin_two_factor": Rule(Access.ADMIN, POST, body=lambda w: {"require": "on"}),
    "signin:admin_signin_unlock": Rule(Access.ADMIN, POST, ids={"membership_id": MEMBERSHIP}),
    "signin:admin_signin_reset": Rule(Access.ADMIN, POST, ids={"membership_id": MEMBERSHIP}),
    "tenancy:admin_invite": Rule(
        Access.ADMIN, POST, body=lambda w: {"invitee": "someone-new", "role": "moderator"}
    ),
    "tenancy:admin_invitation_revoke": Rule(
        Access.ADMIN, POST, ids={"invitation_id": SENT_INVITATION}
    ),
    "tenancy:admin_member_role": Rule(Access.ADMIN, POST, ids={"membership_id": MEMBERSHIP}),
    # GET is the page that asks first (naming the member); POST removes, with ``confirm``.
    "tenancy:admin_member_remove": Rule(Access.ADMIN, GET_POST, ids={"membership_id": MEMBERSHIP}),
    "tenancy:admin_keys": Rule(Access.ADMIN, GET_POST),
    # GET is the page that asks first (naming the key); POST revokes, with ``confirm``.
    "tenancy:admin_key_revoke": Rule(Access.ADMIN, GET_POST, ids={"key_id": API_KEY}),
    "policy:admin_policy": Rule(Access.ADMIN, GET_POST),
    "policy:admin_policy_rollback": Rule(Access.ADMIN, POST),
    "policy:admin_tuning": Rule(Access.ADMIN, GET),
    "policy:admin_tuning_apply": Rule(Access.ADMIN, POST),
    "policy:model_versions": Rule(Access.ADMIN, GET),
    "policy:model_version_promote": Rule(Access.ADMIN, POST, ids={"version_id": MODEL_VERSION}),
    "policy:model_labels_export": Rule(Access.ADMIN, GET),
    "policy:model_train": Rule(Access.ADMIN, POST),
    "policy:model_train_status": Rule(Access.ADMIN, GET),
    # --- the ingestion API and its documentation --------------------------------------------
    "api-conversation-upsert": Rule(Access.API_KEY, POST, body=_upsert),
    "api-conversation-batch": Rule(Access.API_KEY, POST, body=_batch),
    "api-conversation-messages": Rule(
        Access.API_KEY, POST, ids={"external_id": EXTERNAL_ID}, body=_append
    ),
    "api-conversation-detail": Rule(Access.API_KEY, GET, ids={"external_id": EXTERNAL_ID}),
    "api-appeal-create": Rule(Access.API_KEY, POST, body=_appeal),
    "api-appeal-detail": Rule(Access.API_KEY, GET, ids={"appeal_id": APPEAL_ID}),
    "api-decision-statement": Rule(Access.API_KEY, GET, ids={"decision_id": DECISION}),
    "api-schema": Rule(Access.PUBLIC, GET),  # the API's documentation holds no tenant data
    "api-docs": Rule(Access.PUBLIC, GET),
    # --- Django's admin, for the operator (staff) only --------------------------------------
    "admin:index": STAFF_ONLY,
    "admin:login": Rule(Access.PUBLIC, ANY),
    # Signs staff out; anyone else is sent to the admin's index (and from there to sign in).
    "admin:logout": Rule(Access.STAFF, POST, refused_to="/django-admin/"),
    "admin:password_change": STAFF_ONLY,
    "admin:password_change_done": Rule(Access.STAFF, GET),
    "admin:autocomplete": Rule(Access.STAFF, GET, allowed_statuses=frozenset({403})),
    "admin:jsi18n": Rule(Access.STAFF, GET),
    "admin:view_on_site": Rule(
        Access.STAFF,
        ANY,
        params={"content_type_id": _content_type_id, "object_id": _user_id},
        # No model here has a public URL (get_absolute_url), so even staff get 404.
        allowed_statuses=frozenset({404}),
    ),
    "admin:app_list": Rule(Access.STAFF, ANY, params={"app_label": lambda w: "auth"}),
    "admin:auth_group_changelist": STAFF_ONLY,
    "admin:auth_group_add": STAFF_ONLY,
    "admin:auth_group_history": Rule(Access.STAFF, ANY, params=GROUP),
    "admin:auth_group_delete": Rule(Access.STAFF, ANY, params=GROUP),
    "admin:auth_group_change": Rule(Access.STAFF, ANY, params=GROUP),
    "django-admin/auth/group/<path:object_id>/": Rule(Access.STAFF, ANY, params=GROUP),
    "admin:auth_user_password_change": Rule(Access.STAFF, ANY, params={"id": _user_id}),
    "admin:auth_user_changelist": STAFF_ONLY,
    "admin:auth_user_add": STAFF_ONLY,
    "admin:auth_user_history": Rule(Access.STAFF, ANY, params=USER),
    "admin:auth_user_delete": Rule(Access.STAFF, ANY, params=USER),
    "admin:auth_user_change": Rule(Access.STAFF, ANY, params=USER),
    "django-admin/auth/user/<path:object_id>/": Rule(Access.STAFF, ANY, params=USER),
    # django-axes' sign-in records and django-otp's devices: the operator's, like users.
    "admin:axes_accessattempt_changelist": STAFF_ONLY,
    "admin:axes_accessattempt_add": NO_ADDING,
    "admin:axes_accessattempt_change": Rule(Access.STAFF, ANY, params=ATTEMPT),
    "admin:axes_accessattempt_delete": Rule(Access.STAFF, ANY, params=ATTEMPT),
    "admin:axes_accessattempt_history": Rule(Access.STAFF, ANY, params=ATTEMPT),
    "django-admin/axes/accessattempt/<path:object_id>/": Rule(Access.STAFF, ANY, params=ATTEMPT),
    "admin:axes_accessfailurelog_changelist": STAFF_ONLY,
    "admin:axes_accessfailurelog_add": NO_ADDING,
    "admin:axes_accessfailurelog_change": Rule(Access.STAFF, ANY, params=FAILURE),
    "admin:axes_accessfailurelog_delete": Rule(Access.STAFF, ANY, params=FAILURE),
    "admin:axes_accessfailurelog_history": Rule(Access.STAFF, ANY, params=FAILURE),
    "django-admin/axes/accessfailurelog/<path:object_id>/": Rule(Access.STAFF, ANY, params=FAILURE),
    "admin:axes_accesslog_changelist": STAFF_ONLY,
    "admin:axes_accesslog_add": NO_ADDING,
    "admin:axes_accesslog_change": Rule(Access.STAFF, ANY, params=SIGN_IN_LOG),
    "admin:axes_accesslog_delete": Rule(Access.STAFF, ANY, params=SIGN_IN_LOG),
    "admin:axes_accesslog_history": Rule(Access.STAFF, ANY, params=SIGN_IN_LOG),
    "django-admin/axes/accesslog/<path:object_id>/": Rule(Access.STAFF, ANY, params=SIGN_IN_LOG),
    "admin:otp_totp_totpdevice_changelist": STAFF_ONLY,
    "admin:otp_totp_totpdevice_add": STAFF_ONLY,
    "admin:otp_totp_totpdevice_change": Rule(Access.STAFF, ANY, params=TOTP_DEVICE),
    "admin:otp_totp_totpdevice_delete": Rule(Access.STAFF, ANY, params=TOTP_DEVICE),
    "admin:otp_totp_totpdevice_history": Rule(Access.STAFF, ANY, params=TOTP_DEVICE),
    "django-admin/otp_totp/totpdevice/<path:object_id>/": Rule(
        Access.STAFF, ANY, params=TOTP_DEVICE
    ),
    "admin:otp_static_staticdevice_changelist": STAFF_ONLY,
    "admin:otp_static_staticdevice_add": STAFF_ONLY,
    "admin:otp_static_staticdevice_change": Rule(Access.STAFF, ANY, params=STATIC_DEVICE),
    "admin:otp_static_staticdevice_delete": Rule(Access.STAFF, ANY, params=STATIC_DEVICE),
    "admin:otp_static_staticdevice_history": Rule(Access.STAFF, ANY, params=STATIC_DEVICE),
    "django-admin/otp_static/staticdevice/<path:object_id>/": Rule(
        Access.STAFF, ANY, params=STATIC_DEVICE
    ),
    "admin:otp_totp_totpdevice_config": Rule(Access.STAFF, ANY, params={"pk": _totp_device_id}),
    "admin:otp_totp_totpdevice_qrcode": Rule(Access.STAFF, ANY, params={"pk": _totp_device_id}),
    "django-admin/(?P<url>.*)$": Rule(
        Access.STAFF,
        ANY,
        params={"url": lambda w: "nothing-here/"},
        allowed_statuses=frozenset({404}),
    ),
}


# --- enumerating what the application serves ------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # the URL's name ("admin:index"), or its route when it has none
    route: str
    kwargs: tuple[str, ...]

    def __str__(self) -> str:
        return self.key


def _walk(resolver: URLResolver, route: str = "", namespace: str = "") -> Iterator[Endpoint]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry, route + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            full = route + str(entry.pattern)
            key = f"{namespace}{entry.name}" if entry.name else full
            yield Endpoint(key=key, route=full, kwargs=tuple(_path_kwargs(full)))


def _path_kwargs(route: str) -> list[str]:
    """Kwarg names of a full route that mixes path() and re_path() parts."""
    return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]


ENDPOINTS = sorted(_walk(get_resolver()), key=lambda e: e.key)
RULED = [e for e in ENDPOINTS if e.key in RULES]


def _fill(route: str, values: Mapping[str, Any]) -> str:
    """A concrete path for a route without a name: each kwarg replaced by its value."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), path)
    return "/" + path.replace("^", "").replace("$", "")


# --- the two tenants, built once for this module -------------------------------------------


@pytest.fixture(scope="module")
def worlds(django_db_setup: None, django_db_blocker: Any) -> Iterator[Worlds]:
    """Acme and Globex, each with one of everything; rolled back after the module. Each test
    runs in a savepoint inside this transaction, so what one test changes the next never sees.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        acme = tenant_world(
            name="Acme Chat", slug="acme", names=("alice", "bob", "sam", "ada", "audrey"),
            model_generated=30,
        )  # fmt: skip
        globex = tenant_world(
            name="Globex Messenger", slug="globex",
            names=("gita", "gil", "gwen", "gus", "gail"),
            model_generated=40,
        )  # fmt: skip
        operator = get_user_model().objects.create_superuser(
            username="olga", email="olga@example.org", password="correct horse battery staple"
        )
        yield Worlds(acme=acme, globex=globex, operator=operator)
        transaction.set_rollback(True)


def rule_for(endpoint: Endpoint) -> Rule:
    rule = RULES.get(endpoint.key)
    if rule is None:
        pytest.fail(_missing(endpoint))
    return rule


def _missing(endpoint: Endpoint) -> str:
    return (
        f"URL {endpoint.key!r} (/{endpoint.route}) has no rule: add one to RULES in "
        "tests/security/test_url_rules.py (see that module's docstring for how)"
    )


def url_for(
    endpoint: Endpoint,
    worlds: Worlds,
    *,
    slug_from: TenantWorld,
    ids_from: TenantWorld,
    foreign: str | None = None,
    other: TenantWorld | None = None,
) -> str:
    """The endpoint's URL with ``slug_from``'s slug and ``ids_from``'s objects, except the
    kwarg ``foreign``, which takes ``other``'s object instead."""
    rule = rule_for(endpoint)
    values: dict[str, Any] = {}
    for kwarg in endpoint.kwargs:
        if kwarg == "tenant_slug":
            values[kwarg] = slug_from.tenant.slug
        elif kwarg in rule.ids:
            source = other if kwarg == foreign and other is not None else ids_from
            values[kwarg] = source.ids[rule.ids[kwarg]]
        elif kwarg in rule.params:
            values[kwarg] = rule.params[kwarg](worlds)
        else:
            pytest.fail(
                f"the rule for {endpoint.key!r} does not say how to build its kwarg {kwarg!r}: "
                "add it to the rule's ids (a tenant's object) or params"
            )
    if endpoint.key == endpoint.route:
        return _fill(endpoint.route, values)
    return reverse(endpoint.key, kwargs=values)


# --- making requests as someone -------------------------------------------------------------


def client_as(user: Any | None, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
        pass_second_factor(client, user)  # staff, supervisors, admins and auditors need it
    return client


def actor(rule: Rule, method: str, world: TenantWorld, worlds: Worlds) -> Any | None:
    need = rule.need(method)
    if need in TENANT_ROLES:
        return world.user_for(need.value)
    if need is Access.SIGNED_IN:
        return world.moderator
    if need is Access.STAFF:
        return worlds.operator
    return None


def send(
    client: Client, method: str, url: str, rule: Rule, world: TenantWorld, **extra: Any
) -> HttpResponse:
    body = rule.body(world) if rule.body and method == "POST" else {}
    body = {**body, **extra.pop("data", {})}
    if rule.access is Access.API_KEY:
        data = json.dumps(body) if method == "POST" else ""
        return client.generic(method, url, data, content_type="application/json", **extra)
    if method == "POST":
        return client.post(url, body, **extra)
    return client.generic(method, url, **extra)


def api_client(key: str | None) -> Client:
    client = Client()
    if key:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def sent_to(rule: Rule) -> str:
    """Where a visitor without the rule's access is redirected."""
    if rule.refused_to:
        return rule.refused_to
    return "/django-admin/login/?next=" if rule.access is Access.STAFF else "/login?next="


def no_500(response: HttpResponse, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


def where(method: str, url: str) -> str:
    return f"{method} {url}"


def applies(check: Callable[[Rule], bool]) -> list[Any]:
    return [pytest.param(e, id=e.key) for e in RULED if check(RULES[e.key])]


# --- every URL and every API operation is classified ---------------------------------------


def test_every_url_has_a_rule() -> None:
    missing = [_missing(e) for e in ENDPOINTS if e.key not in RULES]
    assert not missing, "\n".join(missing)


def test_every_rule_names_a_url_that_exists() -> None:
    keys = {e.key for e in ENDPOINTS}
    stale = sorted(set(RULES) - keys)
    assert not stale, f"rules for URLs that no longer exist (remove them): {stale}"


def test_every_api_operation_has_a_rule_that_allows_its_method() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems, seen = [], set()
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", "x", path)
        name = resolve(concrete).view_name
        for method, operation in operations.items():
            seen.add(name)
            rule = RULES.get(name)
            if rule is None:
                problems.append(f"{operation['operationId']} ({method.upper()} {path}): no rule")
            elif method.upper() not in rule.methods or rule.access is not Access.API_KEY:
                problems.append(
                    f"{operation['operationId']} ({method.upper()} {path}): the rule for "
                    f"{name!r} must be Access.API_KEY and list {method.upper()}"
                )
    undocumented = [k for k, r in RULES.items() if r.access is Access.API_KEY and k not in seen]
    assert not problems, "\n".join(problems)
    assert not undocumented, f"API URLs missing from the OpenAPI schema: {undocumented}"


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", applies(lambda r: r.access is not Access.PUBLIC))
def test_an_anonymous_visitor_is_sent_to_sign_in_or_gets_401(
    endpoint: Endpoint, worlds: Worlds
) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    for method in rule.attacked_methods():
        response = send(Client(), method, url, rule, acme)
        if rule.access is Access.API_KEY:
            assert response.status_code == 401, where(method, url)
            assert response.json()["error"], where(method, url)
        else:
            assert response.status_code == 302, f"{where(method, url)}: {response.status_code}"
            assert response["Location"].startswith(sent_to(rule)), where(method, url)


# --- another tenant's slug and ids ----------------------------------------------------------


def _refused_as_unknown(response: HttpResponse, what: str, other: TenantWorld) -> None:
    assert response.status_code == 404, f"{what}: {response.status_code}, not 404"
    assert other.tenant.name.encode() not in response.content, f"{what}: shows {other.tenant}"


@pytest.mark.parametrize("endpoint", applies(lambda r: r.access in TENANT_ROLES))
def test_another_tenants_slug_answers_404(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme, globex = worlds.acme, worlds.globex
    url = url_for(endpoint, worlds, slug_from=globex, ids_from=globex)
    for method in rule.attacked_methods():
        response = send(client_as(actor(rule, method, acme, worlds)), method, url, rule, globex)
        _refused_as_unknown(response, where(method, url), globex)


@pytest.mark.parametrize("endpoint", applies(lambda r: bool(r.ids)))
def test_another_tenants_ids_answer_404(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme, globex = worlds.acme, worlds.globex
    for kwarg in rule.ids:
        url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme, foreign=kwarg, other=globex)
        for method in rule.attacked_methods():
            if rule.access is Access.API_KEY:
                client = api_client(acme.api_key)
            else:
                client = client_as(actor(rule, method, acme, worlds))
            response = send(client, method, url, rule, acme)
            _refused_as_unknown(response, f"{where(method, url)} ({kwarg} of Globex)", globex)


@pytest.mark.parametrize("endpoint", applies(lambda r: bool(r.form_ids)))
def test_another_tenants_ids_in_a_form_answer_404(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme, globex = worlds.acme, worlds.globex
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    for name, kind in rule.form_ids.items():
        client = client_as(actor(rule, "POST", acme, worlds))
        response = send(client, "POST", url, rule, acme, data={name: globex.ids[kind]})
        _refused_as_unknown(response, f"POST {url} ({name} of Globex)", globex)


@pytest.mark.parametrize(
    "endpoint",
    applies(lambda r: r.access is Access.MODERATOR and bool(AUTHOR_ONLY & set(r.ids.values()))),
)
def test_a_moderator_gets_404_for_another_moderators_case(
    endpoint: Endpoint, worlds: Worlds
) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    for method in rule.attacked_methods():
        response = send(client_as(acme.other_moderator), method, url, rule, acme)
        assert response.status_code == 404, f"bob, {where(method, url)}: {response.status_code}"


def test_an_api_upsert_of_another_tenants_external_id_makes_the_callers_own(
    worlds: Worlds,
) -> None:
    acme, globex = worlds.acme, worlds.globex
    theirs = globex.ids[EXTERNAL_ID]
    response = acme.api().post(
        "/api/v1/conversations", api_conversation("acme", theirs), format="json"
    )
    assert response.status_code == 201
    assert response.json()["created"] is True
    detail = globex.api().get(f"/api/v1/conversations/{theirs}").json()
    assert detail["platform"] == "globex-chat"
    assert detail["message_count"] == 1


def test_an_api_appeal_of_another_tenants_decision_answers_404(worlds: Worlds) -> None:
    acme, globex = worlds.acme, worlds.globex
    body = {**_appeal(acme), "decision": globex.ids[DECISION], "appeal_id": "acme-appeal-9"}
    response = acme.api().post("/api/v1/appeals", body, format="json")
    _refused_as_unknown(response, "POST /api/v1/appeals (decision of Globex)", globex)


# --- roles ----------------------------------------------------------------------------------


def _refused(rule: Rule, method: str) -> list[Role]:
    """The tenant roles a request with ``method`` must refuse: those below the rule's rung of
    the ladder, and the auditor everywhere but the pages it reads."""
    need = rule.need(method)
    if need in TENANT_ROLES:
        below = [Role(a.value) for a in TENANT_ROLES[: TENANT_ROLES.index(need)]]
        reads = method == "GET" and rule.auditor_reads
        return below if reads else [*below, Role.AUDITOR]
    if need is Access.STAFF:
        return list(Role)  # a tenant's admin (or auditor) is not the operator
    return []


@pytest.mark.parametrize(
    "endpoint",
    applies(
        lambda r: any(_refused(r, m) for m in r.attacked_methods()) or r.access is Access.API_KEY
    ),
)
def test_each_role_without_access_is_refused(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    for method in rule.attacked_methods():
        need = rule.need(method)
        if need is Access.API_KEY:
            response = send(api_client(acme.revoked_key), method, url, rule, acme)
            assert response.status_code == 401, f"revoked key, {where(method, url)}"
            continue
        for role in _refused(rule, method):
            user = acme.user_for(role)
            response = send(client_as(user), method, url, rule, acme)
            what = f"{user.username} ({role.value}), {where(method, url)}"
            if need is Access.STAFF:
                assert response.status_code == 302, f"{what}: {response.status_code}"
                assert response["Location"].startswith(sent_to(rule)), what
            else:
                assert response.status_code == 403, f"{what}: {response.status_code}, not 403"


# --- CSRF and methods -----------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", applies(lambda r: "POST" in r.methods))
def test_a_post_without_a_csrf_token_is_refused(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    if rule.access is Access.API_KEY:
        # The API takes no session: a signed-in admin's browser cannot be made to call it.
        client = client_as(acme.admin, csrf=True)
        response = send(client, "POST", url, rule, acme)
        assert response.status_code == 401, f"session, no key, POST {url}"
        return
    client = client_as(actor(rule, "POST", acme, worlds), csrf=True)
    response = send(client, "POST", url, rule, acme)
    assert response.status_code == 403, f"POST {url} without a token: {response.status_code}"
    assert b"CSRF" in response.content, f"POST {url}: refused, but not by the CSRF check"


@pytest.mark.parametrize("endpoint", applies(lambda r: bool(set(EVERY_METHOD) - r.methods)))
def test_a_method_the_rule_does_not_list_answers_405(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    for method in sorted(set(EVERY_METHOD) - rule.methods):
        if rule.access is Access.API_KEY:
            client = api_client(acme.api_key)
        else:
            client = client_as(actor(rule, min(rule.methods), acme, worlds))
        response = send(client, method, url, rule, acme)
        assert response.status_code == 405, f"{where(method, url)}: {response.status_code}"


# --- the required role is let in (so the refusals above mean something) --------------------


@pytest.mark.parametrize("endpoint", applies(lambda r: True))
def test_the_required_role_is_let_in_with_its_own_objects(
    endpoint: Endpoint, worlds: Worlds
) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    for method in rule.attacked_methods():
        if rule.access is Access.API_KEY:
            client = api_client(acme.api_key)
        else:
            client = client_as(actor(rule, method, acme, worlds))
        response = send(client, method, url, rule, acme)
        status = response.status_code
        if rule.allowed_statuses is not None:
            assert status in rule.allowed_statuses, f"{where(method, url)}: {status}"
        else:
            assert status not in (401, 403, 404, 405), f"{where(method, url)}: {status}"
        if status not in (rule.allowed_statuses or ()):
            no_500(response, where(method, url))


@pytest.mark.parametrize("endpoint", applies(lambda r: r.auditor_reads))
def test_the_auditor_is_let_in_where_it_reads(endpoint: Endpoint, worlds: Worlds) -> None:
    rule = rule_for(endpoint)
    acme = worlds.acme
    url = url_for(endpoint, worlds, slug_from=acme, ids_from=acme)
    response = send(client_as(acme.auditor), "GET", url, rule, acme)
    status = response.status_code
    assert status not in (401, 403, 404, 405), f"audrey (auditor), GET {url}: {status}"
    no_500(response, f"audrey (auditor), GET {url}")


def test_the_auditor_reads_only_tenant_pages() -> None:
    odd = [
        key
        for key, rule in RULES.items()
        if rule.auditor_reads and (rule.access not in TENANT_ROLES or "GET" not in rule.methods)
    ]
    assert not odd, f"auditor_reads on a rule that is not a tenant page with a GET: {odd}"
