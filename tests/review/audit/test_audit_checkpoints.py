"""Signed checkpoints: a chain rewritten and hashed again by whoever holds the database still
fails verify_audit, because its head was signed with a key the database does not hold."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from review.audit.checkpoints import audit_checkpoint_sign, audit_checkpoints_sign
from review.audit.services import audit_check, audit_record, audit_verify, event_hash
from review.cases.referral import signing
from review.models import AuditChainHead, AuditCheckpoint, AuditEvent, Tenant
from review.tasks import sign_audit_checkpoints
from tests.review.audit.test_audit import behind_the_apps_back, three_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider_key(settings: Any) -> Any:
    key = signing.new_private_key()
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = signing.private_key_pem(key)
    return key


def rewrite_and_rehash(tenant: Tenant, sequence: int, detail: dict[str, Any]) -> None:
    """What a database owner without the key can do: change an event and hash it and every
    later event again, head included, so that the chain on its own verifies."""
    with behind_the_apps_back():
        previous = None
        for event in AuditEvent.objects.filter(tenant=tenant).order_by("sequence"):
            if previous is not None:
                event.prev_hash = previous
            if event.sequence == sequence:
                event.detail = detail
            event.hash = event_hash(event)
            AuditEvent.objects.filter(pk=event.pk).update(
                detail=event.detail, prev_hash=event.prev_hash, hash=event.hash
            )
            previous = event.hash
        AuditChainHead.objects.filter(tenant=tenant).update(hash=previous)


def recorded_at(tenant: Tenant, when: Any, action: str = "view") -> AuditEvent:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return audit_record(tenant=tenant, actor=None, action=action)


def test_a_chain_with_its_head_signed_verifies_and_says_so(
    acme: Tenant, provider_key: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    three_events(acme)

    assert sign_audit_checkpoints.apply().get() == 1
    checkpoint = AuditCheckpoint.objects.get(tenant=acme)
    assert (checkpoint.sequence, checkpoint.previous) == (3, "")
    assert checkpoint.key_fingerprint == signing.fingerprint(provider_key.public_key())

    call_command("verify_audit", "--tenant", "acme")
    out = capsys.readouterr().out
    assert "acme: OK, 3 events; 1 signed checkpoint(s), the newest covering #3" in out
    assert "NOT checked" not in out


def test_an_unmoved_head_is_not_signed_twice_and_the_next_links_to_the_last(
    acme: Tenant, provider_key: Any
) -> None:
    three_events(acme)
    first = audit_checkpoint_sign(tenant=acme)

    assert audit_checkpoint_sign(tenant=acme) is None
    audit_record(tenant=acme, actor=None, action="view")
    second = audit_checkpoint_sign(tenant=acme)

    assert first is not None
    assert second is not None
    assert second.sequence == 4
    assert second.previous
    assert second.previous != first.previous
    assert audit_verify(tenant=acme) == (4, None)


def test_a_chain_rewritten_and_hashed_again_before_a_checkpoint_is_caught(
    acme: Tenant, provider_key: Any
) -> None:
    three_events(acme)
    audit_checkpoint_sign(tenant=acme)

    rewrite_and_rehash(acme, 2, {"messages": 1})

    count, broken = audit_verify(tenant=acme)
    assert count == 3  # every link of the chain itself holds
    assert broken is not None
    assert broken.sequence == 3
    assert "rewritten after it was signed" in broken.problem
    with pytest.raises(CommandError, match="rewritten after it was signed"):
        call_command("verify_audit")


def test_a_checkpoint_altered_to_match_the_rewrite_has_no_valid_signature(
    acme: Tenant, provider_key: Any
) -> None:
    three_events(acme)
    audit_checkpoint_sign(tenant=acme)
    rewrite_and_rehash(acme, 2, {"messages": 1})
    head = AuditChainHead.objects.get(tenant=acme)
    with behind_the_apps_back():
        AuditCheckpoint.objects.filter(tenant=acme).update(hash=head.hash)

    _, broken = audit_verify(tenant=acme)

    assert broken is not None
    assert "does not carry a valid signature" in broken.problem


def test_a_checkpoint_removed_from_the_middle_is_caught(acme: Tenant, provider_key: Any) -> None:
    for _ in range(3):
        audit_record(tenant=acme, actor=None, action="view")
        audit_checkpoint_sign(tenant=acme)
    with behind_the_apps_back():
        AuditCheckpoint.objects.filter(tenant=acme, sequence=2).delete()

    _, broken = audit_verify(tenant=acme)

    assert broken is not None
    assert broken.sequence == 3
    assert "a checkpoint was removed" in broken.problem


def test_events_long_past_the_newest_checkpoint_are_named(acme: Tenant, provider_key: Any) -> None:
    """Checkpoints stopped, or the newest were removed and the events after them rewritten:
    either way, what lies beyond the newest signature and is old enough to have been signed
    is named."""
    interval = timedelta(seconds=settings.ARTEMIS_AUDIT_CHECKPOINT_SECONDS)
    now = timezone.now()
    recorded_at(acme, now - 10 * interval)
    audit_checkpoint_sign(tenant=acme)
    recorded_at(acme, now - 3 * interval)
    recorded_at(acme, now - interval)

    _, broken = audit_verify(tenant=acme)

    assert broken is not None
    assert broken.sequence == 2
    assert "covered by no signed checkpoint (the newest checkpoint covers #1)" in broken.problem

    audit_checkpoint_sign(tenant=acme)
    assert audit_verify(tenant=acme) == (3, None)


def test_with_a_key_an_old_trail_never_signed_is_named(acme: Tenant, provider_key: Any) -> None:
    interval = timedelta(seconds=settings.ARTEMIS_AUDIT_CHECKPOINT_SECONDS)
    recorded_at(acme, timezone.now() - 3 * interval)

    _, broken = audit_verify(tenant=acme)

    assert broken is not None
    assert "no checkpoint was signed" in broken.problem


def test_recent_events_beyond_the_newest_checkpoint_are_not_yet_owed_one(
    acme: Tenant, provider_key: Any
) -> None:
    three_events(acme)

    assert audit_verify(tenant=acme) == (3, None)


def test_without_a_key_signatures_go_unchecked_and_verify_says_so(
    acme: Tenant, provider_key: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    three_events(acme)
    audit_checkpoint_sign(tenant=acme)
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = ""  # an auditor's machine: no provider key

    call_command("verify_audit")

    assert "signatures NOT checked: no key" in capsys.readouterr().out


def test_an_auditor_checks_signatures_with_the_published_public_key(
    acme: Tenant, provider_key: Any, settings: Any, tmp_path: Path
) -> None:
    three_events(acme)
    audit_checkpoint_sign(tenant=acme)
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = ""
    published = tmp_path / "provider.pem"
    published.write_text(signing.public_key_pem(provider_key.public_key()))
    other = tmp_path / "other.pem"
    other.write_text(signing.public_key_pem(signing.new_private_key().public_key()))

    call_command("verify_audit", "--public-key", str(published))
    with pytest.raises(CommandError, match="not among the keys given"):
        call_command("verify_audit", "--public-key", str(other))
    report = audit_check(tenant=acme, public_keys=[provider_key.public_key()]).checkpoints
    assert report is not None
    assert report.signatures_checked


def test_a_public_key_that_is_not_one_is_named(acme: Tenant, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")

    with pytest.raises(CommandError, match=r"--public-key .*bad.pem: not a PEM public key"):
        call_command("verify_audit", "--public-key", str(bad))
    with pytest.raises(CommandError, match=r"--public-key .*missing.pem: No such file"):
        call_command("verify_audit", "--public-key", str(tmp_path / "missing.pem"))


def test_without_a_key_nothing_is_signed_and_the_log_says_why(
    acme: Tenant, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.ARTEMIS_PACKAGE_SIGNING_KEY = ""
    three_events(acme)

    with caplog.at_level(logging.WARNING, logger="artemis.audit"):
        assert audit_checkpoints_sign() == 0
    assert "ARTEMIS_PACKAGE_SIGNING_KEY is not set" in caplog.text
    assert not AuditCheckpoint.objects.exists()
    with pytest.raises(CommandError, match="ARTEMIS_PACKAGE_SIGNING_KEY"):
        call_command("sign_audit_checkpoints")


def test_the_command_signs_every_tenant_that_moved(
    acme: Tenant, globex: Tenant, provider_key: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    three_events(acme)
    audit_record(tenant=globex, actor=None, action="view")

    call_command("sign_audit_checkpoints")

    assert "signed 2 checkpoint(s)" in capsys.readouterr().out
    assert set(AuditCheckpoint.objects.values_list("tenant__slug", "sequence")) == {
        ("acme", 3),
        ("globex", 1),
    }


def test_beat_signs_checkpoints_on_the_maintenance_queue() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sign-audit-checkpoints"]

    assert entry["task"] == "review.tasks.sign_audit_checkpoints"
    assert entry["schedule"] == settings.ARTEMIS_AUDIT_CHECKPOINT_SECONDS
    assert settings.CELERY_TASK_ROUTES[entry["task"]] == {"queue": "maintenance"}


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    ["UPDATE review_auditcheckpoint SET hash = 'x'", "DELETE FROM review_auditcheckpoint"],
)
def test_postgresql_refuses_to_update_or_delete_checkpoints(
    acme: Tenant, provider_key: Any, statement: str
) -> None:
    three_events(acme)
    audit_checkpoint_sign(tenant=acme)

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
