"""The verdicts table: it refuses an incomplete or inconsistent row, and the choices, the
decision form, the training and tuning labels, the webhook and case opening all follow it."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from typing import Any

import pytest

from review.cases.targets import target_names
from review.decisions import verdicts as table
from review.decisions.forms import DecisionForm
from review.decisions.services import decision_create
from review.decisions.verdicts import AccountAction, TrainingLabel, VerdictRow
from review.models import Case, Decision, Tenant, Verdict, WebhookDelivery
from review.policy import feedback_selectors, tuning
from review.queue.services import queue_item_claim_next
from tests.review_support import flagged_item

# A complete row no verdict uses, to take fields away from.
COMPLETE: dict[str, Any] = {
    "value": "restrict",
    "label": "Restrict the account",
    "key": "z",
    "reasons": ("grooming_indicators",),
    "account_action": AccountAction.SUSPEND,
    "opens_case": None,
    "training": TrainingLabel.POSITIVE,
}


# -- the table refuses what it cannot use -------------------------------------------------


@pytest.mark.parametrize("missing", [f.name for f in fields(VerdictRow)])
def test_a_row_that_leaves_out_any_field_is_refused_naming_it(missing: str) -> None:
    given = {k: v for k, v in COMPLETE.items() if k != missing}
    with pytest.raises(TypeError, match=missing):
        VerdictRow(**given)


def test_a_row_without_a_training_label_is_refused() -> None:
    with pytest.raises(TypeError, match="training"):
        VerdictRow(**{k: v for k, v in COMPLETE.items() if k != "training"})
    with pytest.raises(ValueError, match="restrict: training must be a TrainingLabel"):
        VerdictRow(**COMPLETE | {"training": "positive"})


def test_a_row_with_an_unknown_reason_code_is_refused_naming_the_code() -> None:
    with pytest.raises(ValueError, match="restrict: unknown reason code 'rude'"):
        VerdictRow(**COMPLETE | {"reasons": ("grooming_indicators", "rude")})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"label": ""}, "restrict: label is empty"),
        ({"reasons": ()}, "restrict: reasons is empty"),
        ({"key": ""}, "restrict: key is empty"),
        ({"key": "j"}, "restrict: key 'j' must be one lower-case letter"),
        # The queue page's "take the next item" and the lease's renewal: one key, one meaning.
        ({"key": "n"}, "restrict: key 'n' must be one lower-case letter"),
        ({"key": "t"}, "restrict: key 't' must be one lower-case letter"),
        ({"key": "T"}, "restrict: key 'T' must be one lower-case letter"),
        ({"value": "Restrict"}, "Restrict: the value must be a lower-case identifier"),
        ({"account_action": "suspend"}, "restrict: account_action must be an AccountAction"),
        (
            {"opens_case": "cybertip_ca"},
            "restrict: opens_case 'cybertip_ca' is not a reporting target",
        ),
    ],
)
def test_a_row_with_an_empty_or_unknown_field_is_refused(
    change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        VerdictRow(**COMPLETE | change)


def test_two_verdicts_with_one_value_or_one_key_are_refused() -> None:
    ban = table.get("ban")
    with pytest.raises(ValueError, match="ban: two verdicts share this value"):
        table._check((*table.VERDICTS, replace(ban, key="z")))
    restrict = VerdictRow(**COMPLETE | {"key": "b"})
    with pytest.raises(ValueError, match="restrict: key 'b' is already ban's"):
        table._check((*table.VERDICTS, restrict))


def test_a_reason_code_no_verdict_allows_is_refused() -> None:
    without_second_opinion = tuple(
        replace(row, reasons=tuple(r for r in row.reasons if r != "second_opinion"))
        for row in table.VERDICTS
    )
    with pytest.raises(ValueError, match="reason code second_opinion goes with no verdict"):
        table._check(without_second_opinion)


def test_an_unknown_verdict_is_named_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown verdict 'shrug'; known: no_violation, warn"):
        table.get("shrug")


# -- everything follows the table ---------------------------------------------------------


def test_the_model_choices_are_the_tables_values_and_labels_in_order() -> None:
    assert Verdict.choices == [(row.value, row.label) for row in table.VERDICTS]
    # Members keep the names the code uses, each equal to the stored value.
    assert Verdict.ASK_SUPERVISOR == "ask_supervisor"
    assert Decision._meta.get_field("verdict").choices == Verdict.choices


@pytest.mark.parametrize("row", table.VERDICTS, ids=lambda row: row.value)
def test_the_decision_form_accepts_exactly_the_reasons_on_the_verdicts_row(
    row: VerdictRow,
) -> None:
    for reason in table.REASON_LABELS:
        form = DecisionForm(data={"verdict": row.value, "reason_code": reason})
        assert form.is_valid() is (reason in row.reasons), (row.value, reason, form.errors)


def test_the_decision_form_shows_each_verdicts_key_and_each_reasons_verdicts() -> None:
    html = str(DecisionForm())
    keys = dict(re.findall(r'<input[^>]*value="(\w+)"[^>]*data-key="(\w)"', html))
    assert keys == {row.value: row.key for row in table.VERDICTS}
    reasons = dict(re.findall(r'<option value="(\w+)" data-verdicts="([\w ]+)"', html))
    assert reasons == {
        code: " ".join(sorted(row.value for row in table.VERDICTS if code in row.reasons))
        for code in table.REASON_LABELS
    }


@pytest.fixture
def one_decision_per_verdict(acme: Tenant, alice: Any) -> dict[str, Decision]:
    """Alice decides one flagged conversation with each verdict in the table."""
    decided = {}
    for n, row in enumerate(table.VERDICTS):
        # A probability of its own, so tuning's labels can be told apart.
        item = flagged_item(acme, n, probability=0.5 + n / 100)
        taken = queue_item_claim_next(tenant=acme, moderator=alice)
        assert taken == item
        decided[row.value] = decision_create(
            item=taken, moderator=alice, verdict=row.value, reason_code=row.reasons[0]
        )
    return decided


@pytest.mark.django_db
def test_each_verdict_teaches_the_model_what_its_row_says(
    acme: Tenant, one_decision_per_verdict: dict[str, Decision]
) -> None:
    labels = {
        label.verdict: label.label for label in feedback_selectors.decision_labels(tenant=acme)
    }
    expected = {TrainingLabel.POSITIVE: 1, TrainingLabel.NEGATIVE: 0, TrainingLabel.IGNORED: None}
    assert labels == {row.value: expected[row.training] for row in table.VERDICTS}


@pytest.mark.django_db
def test_threshold_tuning_counts_each_verdict_as_its_row_says(
    acme: Tenant, one_decision_per_verdict: dict[str, Decision]
) -> None:
    probability = {
        row.value: one_decision_per_verdict[row.value].queue_item.probability
        for row in table.VERDICTS
    }
    labels = {
        label.probability: label.positive for label in tuning.decision_labels(tenant=acme, days=7)
    }
    assert labels == {
        probability[row.value]: row.training is TrainingLabel.POSITIVE
        for row in table.VERDICTS
        if row.training is not TrainingLabel.IGNORED
    }


@pytest.mark.django_db
def test_each_verdict_opens_the_case_its_row_names_and_no_other(
    one_decision_per_verdict: dict[str, Decision],
) -> None:
    for row in table.VERDICTS:
        case = Case.objects.filter(decision=one_decision_per_verdict[row.value]).first()
        assert (case.target if case else None) == row.opens_case, row.value
    assert {row.opens_case for row in table.VERDICTS} >= target_names()


@pytest.mark.django_db
def test_each_verdict_asks_the_platform_for_the_account_action_on_its_row(
    one_decision_per_verdict: dict[str, Decision],
) -> None:
    for row in table.VERDICTS:
        delivery = WebhookDelivery.objects.filter(
            decision=one_decision_per_verdict[row.value]
        ).first()
        action = delivery.payload["action"] if delivery else AccountAction.NONE
        assert action == row.account_action, row.value
