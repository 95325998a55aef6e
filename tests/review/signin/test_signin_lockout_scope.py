"""What a sign-in lockout locks: one username from one address at the failure limit; one
username from every address at twice it (guesses spread over addresses); one address, as
any username, at four times it (password spraying). So one person's typos, or someone
guessing names, do not lock out everyone behind the same office address; a right password
refused by a lock is not counted as a failure; the lockout page names the lock that holds;
and an admin's "Clear failures" says so when an address lock still stops the member."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from review.models import AuditAction, AuditEvent, Tenant
from review.signin.lockout import ACCOUNT, ACCOUNT_AT_ADDRESS, ADDRESS, limit
from review.signin.selectors import recent_failures
from tests.review_support import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

WRONG = "Tr0ub4dor&3-not-it"
OFFICE = "203.0.113.10"  # a trust-and-safety office behind one NAT address
ELSEWHERE = "198.51.100.20"


def sign_in(username: str, password: str, *, ip: str = OFFICE) -> Any:
    return Client(REMOTE_ADDR=ip).post("/login", {"username": username, "password": password})


def is_signed_in(response: Any) -> bool:
    return "_auth_user_id" in response.client.session


def spray(ip: str, failures: int, *, prefix: str = "guess") -> None:
    """``failures`` wrong passwords from ``ip``, each for another (made-up) username."""
    for n in range(failures):
        sign_in(f"{prefix}{n}", WRONG, ip=ip)


def test_the_limits_are_one_two_and_four_times_the_setting() -> None:
    base = settings.AXES_FAILURE_LIMIT
    assert (limit(ACCOUNT_AT_ADDRESS), limit(ACCOUNT), limit(ADDRESS)) == (
        base,
        2 * base,
        4 * base,
    )


def test_one_persons_typos_do_not_lock_out_a_colleague_at_the_same_address(bob: Any) -> None:
    answers = [sign_in("zed", WRONG).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]

    colleague = sign_in("bob", PASSWORD)

    assert answers[-1] == 429, "zed, from here, is locked at the limit"
    assert colleague.status_code == 302
    assert is_signed_in(colleague)
    assert not AccessAttempt.objects.filter(username="bob").exists()
    assert sign_in("zed", PASSWORD).status_code == 429, "zed from this address stays locked"


def test_a_right_password_refused_by_a_lock_is_not_a_failure(alice: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", WRONG)

    right = sign_in("alice", PASSWORD)

    assert right.status_code == 429
    assert recent_failures(["alice"]) == {"alice": settings.AXES_FAILURE_LIMIT}


def test_the_lockout_page_names_the_username_from_this_address(alice: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("alice", WRONG)

    page = sign_in("alice", PASSWORD).content.decode()

    assert "this username from your address" in page
    assert "ask an admin of your team to unlock" in page
    assert "alice" not in page, "the page names no account"


def test_guesses_from_many_addresses_lock_the_username_everywhere(alice: Any) -> None:
    per_address = settings.AXES_FAILURE_LIMIT
    for n in range(limit(ACCOUNT) // per_address):
        for _ in range(per_address):
            sign_in("alice", WRONG, ip=f"192.0.2.{n + 1}")

    from_her_desk = sign_in("alice", PASSWORD, ip=ELSEWHERE)

    assert from_her_desk.status_code == 429
    assert not is_signed_in(from_her_desk)
    assert "this username from every address" in from_her_desk.content.decode()


def test_spraying_from_one_address_locks_that_address_only(alice: Any) -> None:
    spray(OFFICE, limit(ADDRESS) - 1)
    assert sign_in("guess-last", WRONG).status_code == 429, "the failure that reaches it"

    from_there = sign_in("alice", PASSWORD)
    from_her_desk = sign_in("alice", PASSWORD, ip=ELSEWHERE)

    assert from_there.status_code == 429
    page = from_there.content.decode()
    assert "from your address" in page
    assert OFFICE in page
    assert "not about your account" in page
    assert from_her_desk.status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_clearing_a_members_failures_names_an_address_lock_that_still_stops_them(
    acme: Tenant, bob: Any, ada: Any
) -> None:
    sign_in("bob", WRONG, ip=ELSEWHERE)  # a typo at home: a failure of his own to clear
    spray(OFFICE, limit(ADDRESS))
    assert sign_in("bob", PASSWORD).status_code == 429, "the office address is locked"
    admin = signed_in(ada)
    membership = bob.memberships.get(tenant=acme)

    page = admin.get("/t/acme/admin/sign-in").content.decode()
    response = admin.post(f"/t/acme/admin/sign-in/{membership.pk}/unlock", follow=True)

    assert OFFICE in page, "the admin page shows the locked address bob was refused from"
    said = response.content.decode()
    assert "bob can sign in again." not in said
    assert "failed sign-ins are cleared" in said
    assert OFFICE in said
    assert sign_in("bob", PASSWORD).status_code == 429, "what the message says"
    assert sign_in("bob", PASSWORD, ip=ELSEWHERE).status_code == 302, "his own are cleared"
    assert AuditEvent.objects.filter(tenant=acme, action=AuditAction.LOGIN_UNLOCK).count() == 1


def test_clearing_a_member_locked_only_by_their_own_failures_is_true(
    acme: Tenant, bob: Any, ada: Any
) -> None:
    spray(OFFICE, limit(ACCOUNT_AT_ADDRESS), prefix="other")  # colleagues' typos, not a lock
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("bob", WRONG)
    membership = bob.memberships.get(tenant=acme)

    response = signed_in(ada).post(f"/t/acme/admin/sign-in/{membership.pk}/unlock", follow=True)

    assert "bob can sign in again." in response.content.decode()
    assert sign_in("bob", PASSWORD).status_code == 302
