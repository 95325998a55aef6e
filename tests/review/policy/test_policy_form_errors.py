"""The policy form shows every problem of one submission at once, each by its field: an
admin who fixes the one shown must not find another only after sending it again."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import PolicyVersion, Tenant
from review.policy.forms import PolicyForm
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def _policy_post(acme: Tenant, **overrides: Any) -> dict[str, Any]:
    data = {k: v for k, v in PolicyForm.initial_for(acme).items() if v is not None}
    data.update(webhook_url="", webhook_secret="", reason="tuning")
    data.update(overrides)
    return data


def test_a_threshold_and_a_webhook_url_wrong_together_are_both_shown_by_their_fields(
    acme: Tenant, ada: Any
) -> None:
    response = signed_in(ada).post(
        "/t/acme/admin/policy",
        _policy_post(
            acme, flag_threshold="0.8", urgent_threshold="0.7", webhook_url="http://localhost"
        ),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["urgent_threshold"] == ["Must be at least the flag threshold (0.8)."]
    [webhook] = errors["webhook_url"]
    assert "must use https" in webhook
    page = response.content.decode()
    assert page.index("Must be at least the flag threshold") < page.index('id="id_webhook_url"')
    assert page.index('id="id_webhook_url"') < page.index("must use https")
    assert not PolicyVersion.objects.exists()


def test_a_missing_reason_is_shown_with_a_wrong_webhook_url(acme: Tenant, ada: Any) -> None:
    response = signed_in(ada).post(
        "/t/acme/admin/policy",
        _policy_post(acme, webhook_url="https://10.0.0.1/hooks", reason=""),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) >= {"webhook_url", "reason"}
    assert "points to a private address 10.0.0.1" in errors["webhook_url"][0]


def test_a_webhook_url_whose_name_resolves_to_loopback_is_shown_with_a_threshold_error(
    acme: Tenant, ada: Any
) -> None:
    # The DNS check, too, answers in the same round as the form's own checks.
    response = signed_in(ada).post(
        "/t/acme/admin/policy",
        _policy_post(
            acme,
            flag_threshold="0.8",
            urgent_threshold="0.7",
            webhook_url="https://localhost/artemis",
        ),
    )

    errors = response.context["form"].errors
    assert "urgent_threshold" in errors
    assert "localhost resolves to a loopback address" in errors["webhook_url"][0]


def test_a_refused_rollback_says_why_without_a_field_name(acme: Tenant, ada: Any) -> None:
    client = signed_in(ada)
    client.post("/t/acme/admin/policy", _policy_post(acme, flag_threshold="0.7", reason="raise"))

    no_reason = client.post("/t/acme/admin/policy/rollback", {"version": "1", "reason": ""})
    no_version = client.post("/t/acme/admin/policy/rollback", {"version": "9", "reason": "x"})

    assert "Not rolled back. Say why: every policy change needs a reason." in (
        no_reason.content.decode()
    )
    assert "Not rolled back: no policy version 9 for this tenant" in no_version.content.decode()
    for response in (no_reason, no_version):
        assert "reason:" not in response.content.decode()
        assert "version:" not in response.content.decode()


@pytest.mark.parametrize("typed", ["1e-400", "0.5000001"])
def test_a_threshold_finer_than_the_page_offers_is_refused_not_rounded(
    acme: Tenant, ada: Any, typed: str
) -> None:
    # 1e-400 read as a float is 0: every scored conversation would have entered the queue.
    before = acme.flag_threshold

    response = signed_in(ada).post("/t/acme/admin/policy", _policy_post(acme, flag_threshold=typed))

    assert response.status_code == 400
    assert "no more than 3 decimal places" in response.content.decode()
    acme.refresh_from_db()
    assert acme.flag_threshold == before
    assert not PolicyVersion.objects.filter(tenant=acme).exists()


def test_a_form_threshold_is_handed_to_the_policy_as_a_number() -> None:
    form = PolicyForm(data={"flag_threshold": "0.625"})
    form.is_valid()

    assert form.cleaned_data["flag_threshold"] == 0.625
    assert isinstance(form.cleaned_data["flag_threshold"], float)
