"""The review domain's error is data: a message, the field it is about and a machine code.
Forms put it by its field (or, for a field they do not have, above the form); the code, not
the text, decides the HTTP status."""

from __future__ import annotations

from typing import Any

import pytest

from review.cases.forms import CaseForm, case_form_field
from review.errors import HTTP_STATUS, ReviewError, add_to_form
from review.models import Membership, PolicyVersion, Tenant
from review.models import ReviewError as ReexportedReviewError
from review.policy.forms import PolicyForm, policy_form_field
from review.queue.leases import LeaseExpired, LeaseNotHeld
from review.tenancy.forms import ApiKeyForm
from scoring import characteristics
from tests.review_support import signed_in


def _valid_key_form() -> ApiKeyForm:
    form = ApiKeyForm({"name": "chat-prod"})
    assert form.is_valid()
    return form


def test_an_error_names_its_field_apart_from_its_message() -> None:
    error = ReviewError("at most 100 characters", field="name")

    assert (error.field, error.message, error.code) == ("name", "at most 100 characters", "invalid")
    assert str(error) == "name: at most 100 characters"


def test_an_error_without_a_field_is_a_conflict_unless_it_says_otherwise() -> None:
    assert ReviewError("case C-1 is not awaiting approval").code == "conflict"
    assert ReviewError("no such decision", code="not_found").http_status == 404
    assert str(ReviewError("no such decision", code="not_found")) == "no such decision"


def test_an_unknown_code_is_refused_when_the_error_is_made() -> None:
    with pytest.raises(ValueError, match="unknown ReviewError code 'nope'"):
        ReviewError("x", code="nope")  # type: ignore[arg-type]


def test_every_code_has_an_http_status_and_a_lost_lease_is_409() -> None:
    assert set(HTTP_STATUS) == {
        "invalid",
        "forbidden",
        "not_found",
        "conflict",
        "lease_lost",
        "upstream",
        "not_configured",
    }
    assert LeaseNotHeld("this item is not leased to you").http_status == 409
    assert LeaseExpired("your lease ran out").code == "lease_lost"


def test_review_models_still_exports_the_one_error_class() -> None:
    assert ReexportedReviewError is ReviewError


def test_an_error_with_a_field_lands_on_that_field_of_the_form() -> None:
    form = _valid_key_form()

    add_to_form(form, ReviewError("at most 100 characters", field="name"))

    assert form.errors["name"] == ["at most 100 characters"]
    assert not form.non_field_errors()


def test_an_error_naming_a_field_the_form_lacks_becomes_a_non_field_error() -> None:
    form = _valid_key_form()

    add_to_form(form, ReviewError("this is the tenant's last admin", field="member"))

    assert form.non_field_errors() == ["member: this is the tenant's last admin"]
    assert "name" not in form.errors


def test_an_error_without_a_field_becomes_a_non_field_error() -> None:
    form = _valid_key_form()

    add_to_form(form, ReviewError("nothing to change: the policy is already like this"))

    assert form.non_field_errors() == ["nothing to change: the policy is already like this"]


def test_a_severity_weight_the_policy_service_refuses_lands_on_its_own_input() -> None:
    key = characteristics.CHARACTERISTICS[0].key
    form = PolicyForm()
    form.cleaned_data = {}  # as after validation: add_error needs it

    add_to_form(
        form,
        ReviewError("must be between 0 and 10; got 11", field=f"severity_weights.{key}"),
        field_of=policy_form_field,
    )

    assert form.errors[f"weight_{key}"] == ["must be between 0 and 10; got 11"]


@pytest.mark.parametrize(
    ("path", "form_field"),
    [
        ("narrative", "narrative"),
        ("incident_at", "incident_local"),
        ("victim_details.age", "victim_age"),
        ("victim_details.date_of_birth", "victim_date_of_birth"),
        ("reported_details.screen_name", "reported_screen_name"),
        ("reported_details.ip_events[2].ip", "reported_ip_events"),
        ("reported_details.device_ids[0]", "reported_device_ids"),
        ("reported_details.estimated_location.country", "reported_country"),
    ],
)
def test_the_case_editor_knows_which_of_its_inputs_a_case_field_path_is(
    path: str, form_field: str
) -> None:
    assert case_form_field(path) == form_field
    assert form_field in CaseForm.base_fields


def test_a_future_date_of_birth_is_shown_by_the_date_of_birth_input() -> None:
    form = CaseForm({"victim_date_of_birth": "2999-01-01"})

    assert not form.is_valid()
    assert form.errors["victim_date_of_birth"] == ["is in the future"]


@pytest.mark.django_db
def test_the_members_page_shows_the_services_refusal_by_the_name_input(
    acme: Tenant, ada: Any
) -> None:
    response = signed_in(ada).post(
        "/t/acme/admin/members", {"name": "jo@example.org", "role": "moderator"}
    )

    assert response.status_code == 400
    form = response.context["create_form"]
    [error] = form.errors["name"]
    assert error.startswith("leave out the '@'")
    assert not form.non_field_errors()
    assert not Membership.objects.filter(user__username__startswith="jo").exists()


@pytest.mark.django_db
def test_the_policy_page_shows_a_refusal_without_a_field_above_the_form(
    acme: Tenant, ada: Any
) -> None:
    data = PolicyForm.initial_for(acme) | {"reason": "no change at all", "webhook_url": ""}

    response = signed_in(ada).post("/t/acme/admin/policy", data)

    assert response.status_code == 400
    form = response.context["form"]
    assert form.non_field_errors() == ["nothing to change: the policy is already like this"]
    assert not PolicyVersion.objects.exists()
