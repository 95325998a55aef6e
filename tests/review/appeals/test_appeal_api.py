"""The appeals API as a platform uses it: post the user's appeal of a decision it was sent,
read its outcome and the statement of reasons. Bad input names its field; another tenant's
decision is not found; a second open appeal of one decision is a conflict."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from review.appeals.services import appeal_claim_next, appeal_decide
from review.models import Appeal, AuditAction, AuditEvent, Tenant
from tests.review.appeals.support import STATEMENT
from tests.review.supervision_support import decide

pytestmark = pytest.mark.django_db


def body(decision_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "appeal_id": "ap-1",
        "decision": decision_id,
        "statement": STATEMENT,
        "made_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        **fields,
    }


def test_the_platform_posts_an_appeal_and_posting_it_again_answers_the_same(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    sent = body(ban.pk)

    first = acme_api.post("/api/v1/appeals", sent, format="json")
    again = acme_api.post("/api/v1/appeals", sent, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["status"] == "waiting"
    assert first.json()["statement_of_reasons"] is None
    assert "statement" not in first.json()  # the user's words are not echoed back
    assert Appeal.objects.count() == 1


def test_a_new_appeal_is_named_in_location_and_can_be_read_there(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)

    response = acme_api.post("/api/v1/appeals", body(ban.pk, appeal_id="ap 1"), format="json")

    assert response.status_code == 201
    assert response["Location"] == "/api/v1/appeals/ap%201"
    assert acme_api.get(response["Location"]).json()["appeal_id"] == "ap 1"
    assert acme_api.get("/api/v1/appeals/%20ap%201%20").status_code == 200, "trimmed as sent"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("statement", "x" * 5001),
        ("statement", "   "),
        ("statement", 42),
        ("made_at", "2026-11-01T18:00:00"),
        ("made_at", "yesterday"),
        ("decision", "ban"),
        ("decision", "7"),  # the schema says integer: a string id is refused, not read
        ("decision", True),
        ("appeal_id", "a/b"),
    ],
)
def test_bad_input_answers_400_naming_the_field(
    acme: Tenant, acme_api: APIClient, alice: Any, field: str, value: Any
) -> None:
    ban = decide(acme, alice)
    response = acme_api.post("/api/v1/appeals", body(ban.pk, **{field: value}), format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Appeal.objects.exists()


def test_a_missing_field_is_named(acme: Tenant, acme_api: APIClient, alice: Any) -> None:
    sent = body(decide(acme, alice).pk)
    del sent["made_at"]
    response = acme_api.post("/api/v1/appeals", sent, format="json")
    assert response.status_code == 400
    assert "made_at" in response.json()["fields"]


def test_an_undeclared_key_is_refused_with_the_field_it_meant(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    sent = body(decide(acme, alice).pk)
    sent["statment"] = sent.pop("statement")
    response = acme_api.post("/api/v1/appeals", sent, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["statment"] == [
        "is not a field here (did you mean 'statement'?)"
    ]
    assert "statement" in response.json()["fields"], "and the one it left out"
    assert not Appeal.objects.exists()


def test_another_tenants_decision_answers_404(
    acme: Tenant, globex_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    response = globex_api.post("/api/v1/appeals", body(ban.pk), format="json")

    assert response.status_code == 404
    assert response.json()["fields"] == {"decision": [f"no decision {ban.pk}"]}
    assert not Appeal.objects.exists()


def test_a_second_open_appeal_of_the_same_decision_answers_409(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    acme_api.post("/api/v1/appeals", body(ban.pk), format="json")
    response = acme_api.post("/api/v1/appeals", body(ban.pk, appeal_id="ap-2"), format="json")

    assert response.status_code == 409
    assert list(response.json()["fields"]) == ["decision"]


def test_the_platform_reads_the_outcome_and_its_statement_of_reasons(
    acme: Tenant, acme_api: APIClient, alice: Any, bob: Any
) -> None:
    ban = decide(acme, alice)
    acme_api.post("/api/v1/appeals", body(ban.pk), format="json")
    appeal = Appeal.objects.get()
    appeal_claim_next(tenant=acme, reviewer=bob)
    appeal_decide(
        appeal=appeal, reviewer=bob, outcome="overturned", verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip

    answer = acme_api.get("/api/v1/appeals/ap-1").json()

    assert (answer["status"], answer["outcome"]) == ("decided", "overturned")
    statement = answer["statement_of_reasons"]
    assert statement["action"] == "warn"
    assert "Automated scoring flagged" in statement["automated"]
    assert "grooming" in statement["ground"]
    assert "dont tell" not in statement["text"]
    assert "cousin" not in statement["text"]
    new = acme_api.get(f"/api/v1/decisions/{answer['new_decision']}/statement")
    assert new.status_code == 200
    assert new.json()["action"] == "warn"


def test_a_decision_statement_says_the_action_the_facts_the_ground_and_how_to_appeal(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    statement = acme_api.get(f"/api/v1/decisions/{ban.pk}/statement").json()

    assert statement["action_text"] == "The account is banned."
    assert ban.conversation.external_id in statement["facts"]
    assert "secrecy request" in statement["facts"]
    assert "a person" in statement["automated"]
    assert "appeal" in statement["redress"]
    assert "dont tell" not in statement["text"]


def test_another_tenants_appeal_and_decision_statement_answer_404(
    acme: Tenant, acme_api: APIClient, globex_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    acme_api.post("/api/v1/appeals", body(ban.pk), format="json")

    assert globex_api.get("/api/v1/appeals/ap-1").status_code == 404
    assert globex_api.get(f"/api/v1/decisions/{ban.pk}/statement").status_code == 404


def test_receiving_an_appeal_is_audited_without_its_words(
    acme: Tenant, acme_api: APIClient, alice: Any
) -> None:
    ban = decide(acme, alice)
    acme_api.post("/api/v1/appeals", body(ban.pk), format="json")
    event = AuditEvent.objects.get(action=AuditAction.APPEAL_RECEIVE)
    assert event.detail["decision"] == ban.pk
    assert "cousin" not in str(event.detail)
