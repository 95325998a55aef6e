"""Sign-in lockout (django-axes): after ARTEMIS_LOGIN_FAILURE_LIMIT failures for one
username from one address (more for one username from anywhere, or from one address as any
username: test_signin_lockout_scope.py), even the right password is refused with a clear
page, on the console and on the Django admin; the lockout is audited (never the password); a
tenant admin unlocks the member from the Sign-in page, and that is audited too."""

from __future__ import annotations

import json
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from review.models import AuditAction, AuditEvent, Role, Tenant
from review.signin.lockout import ACCOUNT, ADDRESS, limit
from tests.factories import MembershipFactory
from tests.review_support import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

WRONG = "Tr0ub4dor&3-not-it"
MALLORY = "203.0.113.66"  # the address the guesses come from


def sign_in(username: str, password: str, *, ip: str = MALLORY, path: str = "/login") -> Any:
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def is_signed_in(response: Any) -> bool:
    return "_auth_user_id" in response.client.session


def test_fifty_wrong_passwords_then_the_right_one_is_refused(alice: Any) -> None:
    answers = [sign_in("alice", WRONG).status_code for _ in range(50)]

    right = sign_in("alice", PASSWORD)

    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1), "a wrong password: the form again"
    assert set(answers[limit - 1 :]) == {429}, "locked from the limit on"
    assert right.status_code == 429
    assert not is_signed_in(right)
    page = right.content.decode()
    assert "Sign-in is locked" in page
    assert "ask an admin of your team to unlock" in page
    assert 14 * 60 < int(right["Retry-After"]) <= 15 * 60, "15 minutes after the 5th failure"


def test_the_account_stays_open_from_another_address_until_its_own_limit(alice: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", WRONG)

    elsewhere = sign_in("alice", PASSWORD, ip="198.51.100.20")

    assert elsewhere.status_code == 302, "one address's guesses do not lock her out everywhere"
    assert is_signed_in(elsewhere)
    for _ in range(limit(ACCOUNT) - settings.AXES_FAILURE_LIMIT):
        sign_in("alice", WRONG, ip="192.0.2.7")
    assert sign_in("alice", PASSWORD, ip="198.51.100.20").status_code == 429


def test_one_address_guessing_many_usernames_is_locked_out(acme: Tenant, alice: Any) -> None:
    for n in range(limit(ADDRESS)):
        sign_in(f"guess{n}", WRONG)

    from_there = sign_in("alice", PASSWORD)
    from_alices_desk = sign_in("alice", PASSWORD, ip="198.51.100.20")

    assert from_there.status_code == 429
    assert from_alices_desk.status_code == 302, "alice herself was never guessed at"
    assert is_signed_in(from_alices_desk)


def test_a_few_typos_do_not_lock_anyone_out(alice: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("alice", WRONG)

    response = sign_in("alice", PASSWORD)

    assert response.status_code == 302
    assert is_signed_in(response)


def test_the_django_admin_sign_in_locks_too(db: None) -> None:
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("root", WRONG, path="/django-admin/login/")

    right = sign_in("root", PASSWORD, path="/django-admin/login/")

    assert right.status_code == 429
    assert not is_signed_in(right)
    assert "Sign-in is locked" in right.content.decode()


def test_a_lockout_is_audited_once_and_no_password_is_kept(acme: Tenant, alice: Any) -> None:
    for _ in range(50):
        sign_in("alice", WRONG)

    locked = AuditEvent.objects.filter(tenant=acme, action=AuditAction.LOGIN_LOCKED)
    assert locked.count() == 1, "the try that reached the limit; later ones are failed sign-ins"
    event = locked.get()
    assert event.target_id == str(alice.pk)
    assert event.actor is None
    assert event.ip == MALLORY
    assert event.detail["username_failures"] == settings.AXES_FAILURE_LIMIT
    assert event.detail["limit"] == settings.AXES_FAILURE_LIMIT
    assert event.detail["locked_minutes"] == 15
    trail = json.dumps(list(AuditEvent.objects.filter(tenant=acme).values("detail")))
    assert WRONG not in trail
    stored = json.dumps(list(AccessAttempt.objects.values()), default=str)
    assert WRONG not in stored, "django-axes masks the password it records"


def test_an_admin_unlocks_a_locked_member_and_it_is_audited(
    acme: Tenant, alice: Any, ada: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", WRONG)
    admin = signed_in(ada)
    membership = alice.memberships.get(tenant=acme)

    page = admin.get("/t/acme/admin/sign-in").content.decode()
    assert "<strong>locked</strong>" in page
    response = admin.post(f"/t/acme/admin/sign-in/{membership.pk}/unlock", follow=True)

    assert "alice can sign in again." in response.content.decode()
    assert sign_in("alice", PASSWORD).status_code == 302
    unlock = AuditEvent.objects.get(tenant=acme, action=AuditAction.LOGIN_UNLOCK)
    assert (unlock.actor, unlock.target_id) == (ada, str(alice.pk))


def test_an_admin_cannot_unlock_an_account_another_tenant_shares(
    acme: Tenant, globex: Tenant, ada: Any
) -> None:
    gus = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gus").user
    his = MembershipFactory(tenant=acme, role=Role.MODERATOR, user=gus)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("gus", WRONG)

    page = signed_in(ada).post(f"/t/acme/admin/sign-in/{his.pk}/unlock", follow=True)

    assert "gus also belongs to another tenant" in page.content.decode()
    assert sign_in("gus", PASSWORD).status_code == 429, "still locked"
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_UNLOCK).exists()


def test_unlocking_needs_an_admin_of_the_members_tenant(
    acme: Tenant, globex: Tenant, alice: Any, sam: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", WRONG)
    membership = alice.memberships.get(tenant=acme)
    other_admin = MembershipFactory(tenant=globex, role=Role.ADMIN, user__username="gus").user

    assert signed_in(sam).post(f"/t/acme/admin/sign-in/{membership.pk}/unlock").status_code == 403
    assert (
        signed_in(other_admin).post(f"/t/acme/admin/sign-in/{membership.pk}/unlock").status_code
        == 404
    )
    not_theirs = signed_in(other_admin).post(f"/t/globex/admin/sign-in/{membership.pk}/unlock")
    assert not_theirs.status_code == 404  # as if it did not exist, like every admin action
    assert sign_in("alice", PASSWORD).status_code == 429, "still locked"
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_UNLOCK).exists()
