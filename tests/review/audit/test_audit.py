"""The audit trail: hash-chained, verified, append-only on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client

from review.audit.services import audit_record, audit_verify
from review.models import AuditChainHead, AuditEvent, Role, Tenant
from tests.factories import MembershipFactory, UserFactory
from tests.review_support import PASSWORD, flagged_item

pytestmark = pytest.mark.django_db


def three_events(tenant: Tenant) -> list[AuditEvent]:
    alice = UserFactory(username="alice")
    return [
        audit_record(
            tenant=tenant, actor=alice, action="claim", target_type="queue_item", target_id="1"
        ),
        audit_record(tenant=tenant, actor=alice, action="view", detail={"messages": 12}),
        audit_record(tenant=tenant, actor=None, action="lease_expired", target_id="1"),
    ]


def test_each_event_links_to_the_one_before_it(acme: Tenant) -> None:
    first, second, third = three_events(acme)

    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert third.actor_label == "system"
    assert audit_verify(tenant=acme) == (3, None)


def test_tenants_have_separate_chains(acme: Tenant, globex: Tenant) -> None:
    three_events(acme)
    other = audit_record(tenant=globex, actor=None, action="view")

    assert other.sequence == 1
    assert other.prev_hash == "0" * 64


@contextmanager
def behind_the_apps_back() -> Iterator[None]:
    """A transaction in which a database superuser skips triggers, as a tamperer would."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield


def test_verify_audit_names_the_first_changed_event(acme: Tenant) -> None:
    _, second, _ = three_events(acme)
    with behind_the_apps_back():
        AuditEvent.objects.filter(pk=second.pk).update(detail={"messages": 1})

    count, broken = audit_verify(tenant=acme)

    assert count == 1
    assert broken is not None
    assert broken.event_id == second.pk
    assert "hash does not match" in broken.problem
    with pytest.raises(CommandError, match=f"link #2 \\(event {second.pk}\\)"):
        call_command("verify_audit", "--tenant", "acme")


def test_verify_audit_notices_a_removed_event(acme: Tenant) -> None:
    _, second, _ = three_events(acme)
    with behind_the_apps_back():
        AuditEvent.objects.filter(pk=second.pk).delete()

    count, broken = audit_verify(tenant=acme)

    assert count == 1
    assert broken is not None
    assert "sequence jumps to 3" in broken.problem


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("", None),  # gunicorn on a unix socket: an empty REMOTE_ADDR
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::FFFF:10.0.0.1", "::ffff:10.0.0.1"),
        ("203.0.113.9", "203.0.113.9"),
        ("not an address", None),
    ],
)
def test_an_events_address_is_hashed_as_the_database_keeps_it(
    acme: Tenant, given: str, kept: str | None
) -> None:
    event = audit_record(tenant=acme, actor=None, action="login_failed", ip=given)

    assert AuditEvent.objects.get(pk=event.pk).ip == kept
    assert audit_verify(tenant=acme) == (1, None)


def test_verify_audit_notices_the_newest_events_gone_with_the_head(acme: Tenant) -> None:
    three_events(acme)
    with behind_the_apps_back():
        AuditEvent.objects.filter(tenant=acme, sequence=3).delete()
        AuditChainHead.objects.filter(tenant=acme).delete()

    count, broken = audit_verify(tenant=acme)

    assert count == 2
    assert broken is not None
    assert "2 events but no head" in broken.problem


def test_verify_audit_says_ok_for_an_intact_chain(
    acme: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    three_events(acme)

    call_command("verify_audit")

    assert "acme: OK, 3 events" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement", ["UPDATE review_auditevent SET action = 'x'", "DELETE FROM review_auditevent"]
)
def test_postgresql_refuses_to_update_or_delete_audit_events(acme: Tenant, statement: str) -> None:
    three_events(acme)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(tenant=acme).count() == 3


def test_signing_in_and_out_and_a_failed_sign_in_are_audited(acme: Tenant, client: object) -> None:
    membership = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice")

    client.post("/login", {"username": "alice", "password": "wrong"})  # type: ignore[attr-defined]
    client.post("/login", {"username": "alice", "password": "correct horse battery staple"})  # type: ignore[attr-defined]
    client.post("/logout")  # type: ignore[attr-defined]

    events = list(AuditEvent.objects.filter(tenant=acme).order_by("sequence"))
    assert [e.action for e in events] == ["login_failed", "login", "logout"]
    assert all(e.actor_id == membership.user_id for e in events)
    assert "wrong" not in str([e.detail for e in events])
    assert AuditChainHead.objects.get(tenant=acme).sequence == 3


def test_behind_our_proxy_the_trail_records_the_clients_address_not_the_proxys(
    acme: Tenant, settings: Any
) -> None:
    # With ARTEMIS_PROXY_COUNT=1 REMOTE_ADDR is our proxy; the client is what it forwarded.
    settings.ARTEMIS_PROXY_COUNT = 1
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    item = flagged_item(acme)
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.23")

    client.post("/login", {"username": "alice", "password": PASSWORD})
    client.get(f"/t/acme/items/{item.pk}")

    events = AuditEvent.objects.filter(tenant=acme, actor=alice).order_by("sequence")
    assert [(e.action, e.ip) for e in events] == [
        ("login", "198.51.100.23"),
        ("view", "198.51.100.23"),
    ]
