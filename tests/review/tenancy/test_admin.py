"""Admin pages: only admins reach them (moderators and supervisors 403, another tenant 404);
members, roles and API keys change through audited services (creating accounts and
invitations: tests/review/tenancy/test_invitations.py); secrets are shown once; the
policy form names the field that is wrong and never echoes the webhook secret."""

from __future__ import annotations

import json
import re
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from review.models import (
    ApiKey,
    AuditAction,
    AuditEvent,
    Membership,
    PolicyVersion,
    ReviewError,
    Role,
    Tenant,
)
from review.tenancy.selectors import api_key_hash
from review.tenancy.services import member_remove, member_set_role
from tests.factories import MembershipFactory, UserFactory
from tests.review_support import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    ("get", "/t/acme/admin/"),
    ("get", "/t/acme/admin/members"),
    ("post", "/t/acme/admin/members"),
    ("post", "/t/acme/admin/members/1/role"),
    ("get", "/t/acme/admin/members/1/remove"),
    ("post", "/t/acme/admin/members/1/remove"),
    ("post", "/t/acme/admin/invitations"),
    ("post", "/t/acme/admin/invitations/1/revoke"),
    ("get", "/t/acme/admin/keys"),
    ("post", "/t/acme/admin/keys"),
    ("get", "/t/acme/admin/keys/1/revoke"),
    ("post", "/t/acme/admin/keys/1/revoke"),
    ("get", "/t/acme/admin/policy"),
    ("post", "/t/acme/admin/policy"),
    ("post", "/t/acme/admin/policy/rollback"),
    ("get", "/t/acme/admin/tuning"),
    ("post", "/t/acme/admin/tuning/apply"),
]


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
def test_moderators_and_supervisors_cannot_reach_admin_pages(
    acme: Tenant, alice: Any, sam: Any, method: str, url: str
) -> None:
    for person in (alice, sam):
        response = getattr(signed_in(person), method)(url)
        assert response.status_code == 403, f"{person.username} {method} {url}"
    assert not PolicyVersion.objects.exists()


@pytest.mark.parametrize(("method", "url"), ADMIN_PAGES)
def test_another_tenants_admin_gets_404(
    acme: Tenant, globex: Tenant, method: str, url: str
) -> None:
    gus = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gus").user
    assert getattr(signed_in(gus), method)(url).status_code == 404


def test_an_admin_changes_a_role_and_removes_a_member_audited(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    client = signed_in(ada)
    membership = Membership.objects.get(tenant=acme, user=alice)

    client.post(f"/t/acme/admin/members/{membership.pk}/role", {"role": "supervisor"})
    membership.refresh_from_db()
    assert membership.role == Role.SUPERVISOR
    client.post(f"/t/acme/admin/members/{membership.pk}/remove", {"confirm": "yes"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(pk=alice.pk).exists(), "the account stays"
    actions = list(
        AuditEvent.objects.filter(tenant=acme)
        .exclude(action=AuditAction.LOGIN)
        .order_by("sequence")
        .values_list("action", "detail")
    )
    assert actions == [
        (AuditAction.MEMBER_ROLE, {"from": "moderator", "to": "supervisor"}),
        (AuditAction.MEMBER_REMOVE, {"role": "supervisor"}),
    ]


def test_an_admin_cannot_demote_or_remove_themself(acme: Tenant, ada: Any) -> None:
    mine = Membership.objects.get(tenant=acme, user=ada)
    client = signed_in(ada)
    response = client.post(
        f"/t/acme/admin/members/{mine.pk}/role", {"role": "moderator"}, follow=True
    )
    assert "You cannot take away your own admin role" in response.content.decode()
    client.post(f"/t/acme/admin/members/{mine.pk}/remove", {"confirm": "yes"})
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def test_the_last_admin_can_be_neither_demoted_nor_removed(acme: Tenant, ada: Any) -> None:
    operator = UserFactory(username="operator")  # e.g. a platform operator, not a member
    mine = Membership.objects.get(tenant=acme, user=ada)
    with pytest.raises(ReviewError, match="last admin"):
        member_set_role(tenant=acme, actor=operator, membership_id=mine.pk, role="moderator")
    with pytest.raises(ReviewError, match="last admin"):
        member_remove(tenant=acme, actor=operator, membership_id=mine.pk)

    # With a second admin, one admin can demote the other.
    eve = MembershipFactory(tenant=acme, role=Role.ADMIN, user__username="eve").user
    member_set_role(tenant=acme, actor=eve, membership_id=mine.pk, role="supervisor")
    mine.refresh_from_db()
    assert mine.role == Role.SUPERVISOR


def _create_key(client: Client, name: str) -> Any:
    """Open the API keys page and send its Create key form, as a browser does."""
    page = client.get("/t/acme/admin/keys").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token, "the form carries its one-use token"
    return client.post("/t/acme/admin/keys", {"name": name, "form_token": token[1]})


def _once_secret(response: Any) -> str:
    return response.content.decode().split('<code id="once-secret">')[1].split("</code>")[0]


def test_an_api_key_is_shown_once_stored_as_a_hash_and_revoked_with_an_audit(
    acme: Tenant, ada: Any, conversation_payload: Any
) -> None:
    client = signed_in(ada)
    created = _create_key(client, "chat-prod")
    # The answer to the POST shows the secret, with the rest of the page, never cached.
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store, private"
    raw = _once_secret(created)
    assert raw.startswith("art_")
    assert "<h2>API keys</h2>" in created.content.decode()
    assert '<td class="wrap-anywhere">chat-prod</td>' in created.content.decode()
    assert raw not in client.get("/t/acme/admin/keys").content.decode()
    key = ApiKey.objects.get(tenant=acme, name="chat-prod")
    assert key.key_hash == api_key_hash(raw)
    assert raw not in (key.prefix + key.key_hash)
    assert key.created_by == ada

    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/conversations/none").status_code == 404  # authenticated
    client.post(f"/t/acme/admin/keys/{key.pk}/revoke", {"confirm": "yes"})
    assert api.get("/api/v1/conversations/none").status_code in (401, 403)

    events = (
        AuditEvent.objects.filter(tenant=acme)
        .exclude(action__in=[AuditAction.LOGIN, AuditAction.REPORT_VIEW])  # and page views
        .order_by("sequence")
    )
    assert [e.action for e in events] == [AuditAction.API_KEY_CREATE, AuditAction.API_KEY_REVOKE]
    assert all(raw not in str(e.detail) for e in events)


def test_sending_the_create_key_form_again_makes_no_second_key(acme: Tenant, ada: Any) -> None:
    # A reload of the page with the secret sends the same POST, the spent token with it.
    client = signed_in(ada)
    page = client.get("/t/acme/admin/keys").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    first = client.post("/t/acme/admin/keys", {"name": "chat-prod", "form_token": token[1]})

    again = client.post("/t/acme/admin/keys", {"name": "chat-prod", "form_token": token[1]})
    forged = client.post("/t/acme/admin/keys", {"name": "chat-prod", "form_token": "made-up"})

    assert first.status_code == 201
    assert (again.status_code, forged.status_code) == (409, 409)
    assert "This form was already sent" in again.content.decode()
    assert 'id="once-secret"' not in again.content.decode()
    assert ApiKey.objects.filter(tenant=acme).count() == 1
    # Pressing Create key again (the form in that answer) is a deliberate second key.
    second = _create_key(client, "chat-prod")
    assert second.status_code == 201
    assert _once_secret(second) != _once_secret(first)
    assert ApiKey.objects.filter(tenant=acme).count() == 2


def test_a_new_key_or_password_never_reaches_the_session_store(acme: Tenant, ada: Any) -> None:
    """Sessions are rows in the database (signed, not encrypted), kept until they expire and
    in PostgreSQL's dead rows and backups after: a secret shown once must never be one."""
    client = signed_in(ada)

    key = _create_key(client, "chat-prod")
    member = client.post("/t/acme/admin/members", {"name": "carol", "role": "moderator"})

    shown = [_once_secret(key), _once_secret(member)]
    assert all(shown)
    assert key["Cache-Control"] == member["Cache-Control"] == "no-store, private"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = list(Session.objects.all())
    assert rows, "the admin's session is in the database"
    for row in rows:
        stored = json.dumps(store().decode(row.session_data)) + row.session_data
        assert all(secret not in stored for secret in shown)


def test_another_tenants_key_cannot_be_revoked(acme: Tenant, globex: Tenant, ada: Any) -> None:
    from review.tenancy.services import api_key_create

    theirs, _ = api_key_create(tenant=globex, name="globex-prod")
    response = signed_in(ada).post(f"/t/acme/admin/keys/{theirs.pk}/revoke", {"confirm": "yes"})
    assert response.status_code == 404  # as if it did not exist
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def _policy_post(**overrides: Any) -> dict[str, Any]:
    from scoring import characteristics

    data: dict[str, Any] = {
        "flag_threshold": "0.5",
        "urgent_threshold": "0.9",
        "second_review_share": "0.1",
        "retention_days": "90",
        "appeal_target_days": "7",
        "webhook_url": "",
        "webhook_secret": "",
        "reason": "tuning",
        **{f"weight_{c.key}": str(c.severity) for c in characteristics.CHARACTERISTICS},
    }
    data.update(overrides)
    return data


def test_the_policy_form_names_the_wrong_field_and_keeps_everything_as_it_was(
    acme: Tenant, ada: Any
) -> None:
    response = signed_in(ada).post(
        "/t/acme/admin/policy", _policy_post(flag_threshold="0.8", urgent_threshold="0.7")
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["urgent_threshold"] == ["Must be at least the flag threshold (0.8)."]
    response = signed_in(ada).post("/t/acme/admin/policy", _policy_post(reason=""))
    assert "every policy change needs a reason" in response.content.decode()
    acme.refresh_from_db()
    assert (acme.flag_threshold, acme.urgent_threshold) == (0.5, 0.9)
    assert not PolicyVersion.objects.exists()


def test_the_policy_form_saves_a_version_and_never_shows_the_secret(acme: Tenant, ada: Any) -> None:
    client = signed_in(ada)
    response = client.post(
        "/t/acme/admin/policy",
        _policy_post(
            retention_days="30",
            webhook_url="https://hooks.example.org/a",
            webhook_secret="topsecret-123",
            reason="new platform endpoint",
        ),
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.retention_days, acme.webhook_secret) == (30, "topsecret-123")
    page = client.get("/t/acme/admin/policy").content.decode()
    assert "topsecret" not in page
    assert "a secret is set" in page
    assert "new platform endpoint" in page
    assert "Roll back to #1" in page

    # Leaving the secret empty keeps it.
    client.post(
        "/t/acme/admin/policy",
        _policy_post(retention_days="60", weight_media_request="9", reason="longer"),
    )
    acme.refresh_from_db()
    assert (acme.retention_days, acme.webhook_secret) == (60, "topsecret-123")
    assert acme.severity_weights["media_request"] == 9
    page = client.get("/t/acme/admin/policy").content.decode()
    assert "media_request: 5.0 → 9.0" in page


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.example.org/artemis", "must use https"),
        ("https://10.0.0.1/artemis", "points to a private address 10.0.0.1"),
        ("https://192.168.1.1/artemis", "points to a private address 192.168.1.1"),
        ("https://127.0.0.1:6379/", "points to a loopback address 127.0.0.1"),
        ("https://localhost/artemis", "localhost resolves to a loopback address"),
        ("https://[::1]/artemis", "points to a loopback address ::1"),
        ("https://[::ffff:127.0.0.1]/artemis", "which is a loopback address 127.0.0.1"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 (cloud metadata)"),
    ],
)
def test_the_policy_form_refuses_a_webhook_url_a_tenant_may_not_reach_naming_the_rule(
    acme: Tenant, ada: Any, url: str, rule: str
) -> None:
    response = signed_in(ada).post(
        "/t/acme/admin/policy", _policy_post(webhook_url=url, reason="our endpoint")
    )

    assert response.status_code == 400
    [error] = response.context["form"].errors["webhook_url"]
    assert rule in error
    acme.refresh_from_db()
    assert acme.webhook_url == ""
    assert not PolicyVersion.objects.exists()


def test_an_admin_may_save_a_webhook_url_whose_name_does_not_resolve_yet(
    acme: Tenant, ada: Any
) -> None:
    # Its DNS may not be set up yet; every delivery checks the addresses again.
    response = signed_in(ada).post(
        "/t/acme/admin/policy",
        _policy_post(
            webhook_url="https://hooks.invalid/artemis",
            webhook_secret="a-shared-secret",
            reason="new endpoint",
        ),
    )

    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.webhook_url == "https://hooks.invalid/artemis"


def test_an_admin_may_save_a_local_http_receiver_only_when_the_operator_trusts_it(
    acme: Tenant, ada: Any, settings: Any
) -> None:
    client = signed_in(ada)
    url = "http://127.0.0.1:8089/hooks/artemis"
    form = _policy_post(webhook_url=url, webhook_secret="a-shared-secret", reason="demo")
    refused = client.post("/t/acme/admin/policy", form)
    assert refused.status_code == 400

    settings.ARTEMIS_OUTBOUND_TRUSTED_HOSTS = ["127.0.0.1:8089"]
    saved = client.post("/t/acme/admin/policy", form)

    assert saved.status_code == 302
    acme.refresh_from_db()
    assert acme.webhook_url == url


def test_an_admin_rolls_back_from_the_policy_page(acme: Tenant, ada: Any) -> None:
    client = signed_in(ada)
    client.post("/t/acme/admin/policy", _policy_post(flag_threshold="0.7", reason="raise"))
    refused = client.post(
        "/t/acme/admin/policy/rollback", {"version": "1", "reason": ""}, follow=True
    )
    assert "Not rolled back" in refused.content.decode()
    client.post("/t/acme/admin/policy/rollback", {"version": "1", "reason": "too strict"})
    acme.refresh_from_db()
    assert acme.flag_threshold == 0.5
    assert PolicyVersion.objects.get(number=3).restores.number == 1


def test_the_admin_link_shows_only_for_admins(acme: Tenant, ada: Any, alice: Any) -> None:
    assert 'href="/t/acme/admin/"' in signed_in(ada).get("/t/acme/queue").content.decode()
    assert 'href="/t/acme/admin/"' not in signed_in(alice).get("/t/acme/queue").content.decode()
    assert PASSWORD


def test_a_webhook_url_without_a_secret_is_refused_naming_the_secret(
    acme: Tenant, ada: Any
) -> None:
    # Signed with an empty key, anyone could sign a ban notice the platform would trust.
    response = signed_in(ada).post(
        "/t/acme/admin/policy",
        _policy_post(webhook_url="https://hooks.invalid/artemis", reason="new endpoint"),
    )

    assert response.status_code == 400
    assert "a webhook needs a secret" in response.content.decode()
    acme.refresh_from_db()
    assert acme.webhook_url == ""
