"""Statements of reasons: each account action's webhook carries one, with the action, the
facts in general terms, the automated flag and the human decision, the policy ground and how
to appeal; never a word of the chat or the moderator's notes."""

from __future__ import annotations

from typing import Any

import pytest

from review.appeals.statements import (
    HOW_TO_APPEAL,
    POLICY_GROUNDS,
    appeal_statement,
    decision_statement,
)
from review.decisions.supervision import decision_supersede
from review.decisions.verdicts import REASON_LABELS, VERDICTS, AccountAction
from review.models import Tenant, WebhookDelivery
from tests.review.appeals.support import appeal_of
from tests.review.supervision_support import decide

pytestmark = pytest.mark.django_db


def test_every_reason_code_has_a_policy_ground() -> None:
    assert set(POLICY_GROUNDS) == set(REASON_LABELS)


def test_the_decision_webhook_carries_its_statement_of_reasons(acme: Tenant, alice: Any) -> None:
    ban = decide(acme, alice, notes="alice-private-note")

    statement = WebhookDelivery.objects.get(decision=ban).payload["statement_of_reasons"]

    assert statement["action"] == "ban"
    assert statement["text"].startswith("The account is banned.")
    assert "secrecy request" in statement["facts"]
    assert "media request" in statement["facts"]
    assert "not by the automated system" in statement["automated"]
    assert statement["ground"] == POLICY_GROUNDS["grooming_indicators"]
    assert "appeal" in statement["redress"]
    assert "dont tell" not in str(statement)
    assert "alice-private-note" not in str(statement)


@pytest.mark.parametrize(
    "row",
    [r for r in VERDICTS if r.account_action is not AccountAction.NONE],
    ids=lambda r: r.value,
)
def test_each_account_action_states_itself(acme: Tenant, alice: Any, row: Any) -> None:
    decision = decide(acme, alice, verdict=row.value, reason_code=row.reasons[0])
    statement = decision_statement(decision)
    assert statement.action == row.account_action.value
    assert statement.ground == POLICY_GROUNDS[row.reasons[0]]


def test_an_appeal_answered_by_a_later_decision_states_that_decision_and_how_to_appeal_it(
    acme: Tenant, alice: Any, sam: Any
) -> None:
    ban = decide(acme, alice)
    appeal = appeal_of(ban)
    decision_supersede(
        tenant=acme, current=ban, supervisor=sam, verdict="warn",
        reason_code="grooming_indicators",
    )  # fmt: skip
    appeal.refresh_from_db()

    statement = appeal_statement(appeal)

    assert statement is not None
    assert statement.action == AccountAction.WARN.value
    assert statement.action_text.startswith("Your appeal was answered by a later decision")
    assert statement.redress == HOW_TO_APPEAL, "the later decision can be appealed in turn"
    assert "cousin" not in statement.text
