"""Policy versions: every change has a reason, is stored whole (never the webhook secret),
audited, can be rolled back; applying thresholds and severity weights re-evaluates the
queue from each conversation's latest assessment, leaving claimed and decided items alone."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from review.audit.services import audit_verify
from review.decisions.services import decision_create
from review.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    Conversation,
    ConversationStatus,
    PolicyVersion,
    QueueItem,
    QueueStatus,
    QueueWithdrawal,
    ReviewError,
    Tenant,
)
from review.policy.services import policy_change, policy_rollback
from review.queue.services import queue_item_claim_next, queue_item_release
from tests.review_support import flagged_item, signed_in

pytestmark = pytest.mark.django_db


def scored_conversation(
    tenant: Tenant, n: int, *, probability: float, days_ago: float = 0
) -> Conversation:
    """A conversation scored below the threshold in force: no queue item."""
    conversation = Conversation.objects.create(
        tenant=tenant, external_id=f"s-{n}", status=ConversationStatus.SCORED
    )
    Assessment.objects.create(
        conversation=conversation, model_version="test", probability=probability,
        message_count=0, content_fingerprint=f"s{n}",
        scored_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip
    return conversation


def rescore(item: QueueItem, probability: float) -> Assessment:
    """A later, lower assessment of the item's conversation (a rescore keeps the item)."""
    return Assessment.objects.create(
        conversation=item.conversation, model_version="test", probability=probability,
        highlights=item.assessment.highlights, message_count=3,
        content_fingerprint=f"later-{item.pk}", scored_at=timezone.now() + timedelta(seconds=1),
    )  # fmt: skip


def test_a_policy_change_is_stored_as_a_version_with_the_whole_policy_and_audited(
    acme: Tenant, ada: Any
) -> None:
    version = policy_change(
        tenant=acme, actor=ada, reason="too many false positives", changes={"flag_threshold": 0.6}
    )

    acme.refresh_from_db()
    assert acme.flag_threshold == 0.6
    assert version.number == 2, "version 1 records the policy in force before the first change"
    baseline = PolicyVersion.objects.get(tenant=acme, number=1)
    assert baseline.after["flag_threshold"] == 0.5
    assert (version.before["flag_threshold"], version.after["flag_threshold"]) == (0.5, 0.6)
    assert version.before["retention_days"] == version.after["retention_days"] == 90
    assert set(version.after["severity_weights"]) == set(baseline.after["severity_weights"])
    assert (version.created_by, version.reason) == (ada, "too many false positives")
    assert version.changed_fields == ["flag_threshold"]
    event = AuditEvent.objects.get(tenant=acme, action=AuditAction.POLICY_CHANGE)
    assert event.actor == ada
    assert event.detail["changed"] == ["flag_threshold"]
    assert (event.detail["before"], event.detail["after"]) == (
        {"flag_threshold": 0.5},
        {"flag_threshold": 0.6},
    )
    assert audit_verify(tenant=acme)[1] is None


def test_a_change_without_a_reason_is_refused_and_nothing_is_written(
    acme: Tenant, ada: Any
) -> None:
    with pytest.raises(ReviewError, match=r"^reason:"):
        policy_change(tenant=acme, actor=ada, reason="  ", changes={"flag_threshold": 0.6})
    acme.refresh_from_db()
    assert acme.flag_threshold == 0.5
    assert not PolicyVersion.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"flag_threshold": 1.5}, "flag_threshold"),
        ({"flag_threshold": -0.1}, "flag_threshold"),
        ({"urgent_threshold": 0.4}, "urgent_threshold"),  # below the flag threshold (0.5)
        ({"severity_weights": {"secrecy_request": -1}}, "severity_weights.secrecy_request"),
        ({"severity_weights": {"no_such_thing": 1}}, "severity_weights"),
        ({"second_review_share": 2}, "second_review_share"),
        ({"retention_days": 0}, "retention_days"),
        ({"webhook_url": "ftp://example.org/x"}, "webhook_url"),
        ({"webhook_url": "http://hooks.example.org/x"}, "webhook_url"),
        ({"webhook_url": "https://10.0.0.1/x"}, "webhook_url"),
        ({"webhook_url": "https://localhost/x"}, "webhook_url"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_field(
    acme: Tenant, ada: Any, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ReviewError) as raised:
        policy_change(tenant=acme, actor=ada, reason="try", changes=changes)
    assert str(raised.value).startswith(f"{field}:")
    assert not PolicyVersion.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.POLICY_CHANGE).exists()


def test_the_webhook_secret_is_write_only_versions_record_only_that_it_changed(
    acme: Tenant, ada: Any
) -> None:
    version = policy_change(
        tenant=acme,
        actor=ada,
        reason="platform rotated its secret",
        changes={"webhook_url": "https://hooks.example.org/artemis"},
        webhook_secret="hunter2-very-secret",
    )
    acme.refresh_from_db()
    assert acme.webhook_secret == "hunter2-very-secret"
    assert version.secret_changed
    assert (version.before["webhook_secret_set"], version.after["webhook_secret_set"]) == (
        False,
        True,
    )
    stored = json.dumps([v.before | v.after for v in PolicyVersion.objects.all()])
    audited = json.dumps(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert "hunter2" not in stored
    assert "hunter2" not in audited


def test_a_rollback_to_a_webhook_url_the_operator_no_longer_trusts_is_refused(
    acme: Tenant, ada: Any, settings: Any
) -> None:
    settings.ARTEMIS_OUTBOUND_TRUSTED_HOSTS = ["127.0.0.1:8089"]
    policy_change(
        tenant=acme,
        actor=ada,
        reason="demo receiver",
        changes={"webhook_url": "http://127.0.0.1:8089/hooks"},
        webhook_secret="demo-shared-secret",
    )
    policy_change(
        tenant=acme,
        actor=ada,
        reason="the platform's endpoint",
        changes={"webhook_url": "https://hooks.invalid/artemis"},
    )
    settings.ARTEMIS_OUTBOUND_TRUSTED_HOSTS = []

    with pytest.raises(ReviewError, match=r"^webhook_url: must use https"):
        policy_rollback(tenant=acme, actor=ada, version_number=2, reason="back to the demo")

    acme.refresh_from_db()
    assert acme.webhook_url == "https://hooks.invalid/artemis"


def test_a_rollback_restores_an_earlier_version_as_a_new_version(acme: Tenant, ada: Any) -> None:
    policy_change(tenant=acme, actor=ada, reason="first", changes={"flag_threshold": 0.6})
    policy_change(
        tenant=acme,
        actor=ada,
        reason="second",
        changes={"flag_threshold": 0.7, "retention_days": 30},
        webhook_secret="kept-secret",
    )

    restored = policy_rollback(tenant=acme, actor=ada, version_number=1, reason="back to start")

    acme.refresh_from_db()
    assert (acme.flag_threshold, acme.retention_days) == (0.5, 90)
    assert acme.webhook_secret == "kept-secret", "a version never holds the secret"
    assert (restored.number, restored.restores.number) == (4, 1)
    assert list(PolicyVersion.objects.order_by("number").values_list("number", flat=True)) == [
        1,
        2,
        3,
        4,
    ]
    event = AuditEvent.objects.filter(action=AuditAction.POLICY_CHANGE).order_by("-sequence")[0]
    assert event.detail["restores"] == 1
    with pytest.raises(ReviewError, match=r"^version:"):
        policy_rollback(tenant=acme, actor=ada, version_number=99, reason="nope")
    with pytest.raises(ReviewError, match=r"^nothing to change"):
        policy_rollback(tenant=acme, actor=ada, version_number=1, reason="again")


def test_raising_the_threshold_takes_waiting_items_out_and_leaves_claimed_and_decided_alone(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    decided = flagged_item(acme, 1, probability=0.99)
    taken = queue_item_claim_next(tenant=acme, moderator=alice)
    assert taken == decided
    decision_create(item=taken, moderator=alice, verdict="no_violation", reason_code="model_error")
    rescore(decided, 0.52)
    claimed = flagged_item(acme, 2, probability=0.98)
    assert queue_item_claim_next(tenant=acme, moderator=alice) == claimed
    rescore(claimed, 0.55)
    low = flagged_item(acme, 3, probability=0.55)
    high = flagged_item(acme, 4, probability=0.8)
    lowered_by_rescore = flagged_item(acme, 5, probability=0.9)
    rescore(lowered_by_rescore, 0.58)

    version = policy_change(
        tenant=acme, actor=ada, reason="queue too long", changes={"flag_threshold": 0.6}
    )

    assert version.reevaluation == {"entered": 0, "left": 2, "updated": 1, "deferred": 1}
    open_ids = set(
        QueueItem.objects.exclude(status=QueueStatus.DECIDED).values_list("pk", flat=True)
    )
    assert open_ids == {claimed.pk, high.pk}
    assert set(QueueWithdrawal.objects.values_list("queue_item_id", flat=True)) == {
        low.pk,
        lowered_by_rescore.pk,
    }
    assert Conversation.objects.get(pk=low.conversation_id).status == ConversationStatus.SCORED
    decided.refresh_from_db()
    assert decided.status == QueueStatus.DECIDED
    claimed.refresh_from_db()
    assert (claimed.status, claimed.claimed_by, claimed.policy_pending) == (
        QueueStatus.CLAIMED,
        alice,
        True,
    )

    # Released, the claimed one meets the policy it missed: its latest score is 0.55.
    queue_item_release(item=claimed, moderator=alice, reason="skipped")
    assert not QueueItem.objects.filter(pk=claimed.pk).exists()
    assert QueueWithdrawal.objects.filter(queue_item_id=claimed.pk).exists()
    release = AuditEvent.objects.get(action=AuditAction.RELEASE)
    assert release.detail == {"reason": "skipped", "left_queue": True}


def test_a_released_item_still_above_the_threshold_stays_with_its_priority_recomputed(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    item = flagged_item(acme, 1, probability=0.9)
    queue_item_claim_next(tenant=acme, moderator=alice)
    policy_change(
        tenant=acme,
        actor=ada,
        reason="secrecy matters less here",
        changes={"severity_weights": {"secrecy_request": 0, "media_request": 0}},
    )
    item.refresh_from_db()
    assert item.policy_pending

    queue_item_release(item=item, moderator=alice, reason="skipped")

    item.refresh_from_db()
    assert (item.status, item.policy_pending) == (QueueStatus.WAITING, False)
    assert item.priority == pytest.approx(0.9), "no severity left: priority is the probability"


def test_lowering_the_threshold_lets_in_scored_conversations_above_it(
    acme: Tenant, ada: Any, alice: Any
) -> None:
    enters = scored_conversation(acme, 1, probability=0.45)
    stays_out = scored_conversation(acme, 2, probability=0.3)
    reviewed = flagged_item(acme, 3, probability=0.9)
    queue_item_claim_next(tenant=acme, moderator=alice)
    decision_create(
        item=reviewed, moderator=alice, verdict="no_violation", reason_code="model_error"
    )
    rescore(reviewed, 0.45)

    version = policy_change(
        tenant=acme, actor=ada, reason="catch more", changes={"flag_threshold": 0.4}
    )

    assert version.reevaluation["entered"] == 1
    item = QueueItem.objects.get(conversation=enters)
    assert (item.status, item.probability) == (QueueStatus.WAITING, 0.45)
    assert item.assessment == enters.assessments.get()
    enters.refresh_from_db()
    assert enters.status == ConversationStatus.FLAGGED
    assert not QueueItem.objects.filter(conversation=stays_out).exists()
    assert QueueItem.objects.filter(conversation=reviewed.conversation).count() == 1, (
        "a decided conversation does not come back through a threshold change"
    )


def test_severity_weights_and_the_urgent_threshold_recompute_waiting_items(
    acme: Tenant, ada: Any
) -> None:
    item = flagged_item(acme, 1, probability=0.7)
    # The fixture's item carries its probability as priority; the first re-evaluation puts
    # the tenant's weights in: secrecy (3) and media request (4) of all the severities.
    policy_change(tenant=acme, actor=ada, reason="weights", changes={"urgent_threshold": 0.95})
    item.refresh_from_db()
    weighted = item.priority
    assert weighted > 0.7

    policy_change(
        tenant=acme,
        actor=ada,
        reason="media requests are what we care about most",
        changes={"severity_weights": {"media_request": 10}, "urgent_threshold": 0.7},
    )

    item.refresh_from_db()
    assert item.priority > weighted
    assert item.urgent, "probability 0.7 reaches the new urgent threshold"


def test_changing_only_retention_leaves_the_queue_untouched(acme: Tenant, ada: Any) -> None:
    item = flagged_item(acme, 1, probability=0.55)
    before = (item.priority, item.rank)
    version = policy_change(
        tenant=acme, actor=ada, reason="legal asked", changes={"retention_days": 30}
    )
    item.refresh_from_db()
    assert version.reevaluation == {}
    assert (item.priority, item.rank) == before


def test_a_refused_rollback_keeps_the_reason_ada_wrote_in_its_row(acme: Tenant, ada: Any) -> None:
    policy_change(tenant=acme, actor=ada, reason="first", changes={"flag_threshold": 0.6})
    policy_rollback(tenant=acme, actor=ada, version_number=1, reason="back to start")

    response = signed_in(ada).post(
        "/t/acme/admin/policy/rollback", {"version": "1", "reason": "once more, to be sure"}
    )

    assert response.status_code == 409, "a conflict with the policy in force"
    html = response.content.decode()
    assert "Not rolled back: nothing to change" in html
    assert 'id="rollback-reason-1" placeholder="reason" required value="once more, to be sure"' in (
        html
    )
    assert 'id="rollback-reason-2" placeholder="reason" required>' in html, "only its own row"
