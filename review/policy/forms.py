"""Forms of the admin's Policy and Tuning pages; each field gets its own message."""

from __future__ import annotations

from typing import Any

from django import forms

from review.models import Tenant
from review.policy.services import (
    MAX_APPEAL_TARGET_DAYS,
    MAX_RETENTION_DAYS,
    MAX_SEVERITY_WEIGHT,
    policy_snapshot,
    webhook_url_problem,
)
from review.tenancy.forms import REASON
from scoring import characteristics


def _weight_field(key: str) -> str:
    return f"weight_{key}"


def policy_form_field(path: str) -> str:
    """The policy form's field for a field the policy service names: one input per
    severity weight (``severity_weights.grooming`` is ``weight_grooming``)."""
    if path.startswith("severity_weights."):
        return _weight_field(path.removeprefix("severity_weights."))
    return path


class ThresholdField(forms.DecimalField):
    """A number from 0 to 1 in steps the page offers (0.001 by default), read as written and
    given to the services as a float: a FloatField turned "1e-400" into 0 (a queue of
    everything) and "0.5000001" into a threshold the page then showed as 0.5."""

    def __init__(self, *, places: int = 3, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.NumberInput(attrs={"step": f"{10**-places:.{places}f}"}))
        super().__init__(min_value=0, max_value=1, decimal_places=places, **kwargs)

    def clean(self, value: Any) -> float | None:
        number = super().clean(value)
        return None if number is None else float(number)


class PolicyForm(forms.Form):
    # Steps of 0.001, as threshold tuning tries them (review/policy/tuning.py): a threshold
    # applied there must be one this form can submit again.
    flag_threshold = ThresholdField()
    urgent_threshold = ThresholdField()
    second_review_share = ThresholdField(
        places=2, help_text="share of decisions sent to a second reviewer (0 to 1)"
    )
    retention_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        help_text="unflagged conversations are purged this many days after their last activity",
    )
    appeal_target_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_APPEAL_TARGET_DAYS,
        help_text="a user's appeal older than this is overdue: the supervisors' inbox lists it",
    )
    webhook_url = forms.URLField(
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text="https, at a public address; checked again at every delivery",
    )
    webhook_secret = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="write-only: leave empty to keep the current secret",
    )
    clear_webhook_secret = forms.BooleanField(required=False, label="Remove the webhook secret")
    reason = REASON

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for c in characteristics.CHARACTERISTICS:
            self.fields[_weight_field(c.key)] = forms.FloatField(
                label=c.label,
                min_value=0,
                max_value=MAX_SEVERITY_WEIGHT,
                widget=forms.NumberInput(attrs={"step": "0.5"}),
            )

    @classmethod
    def initial_for(cls, tenant: Tenant) -> dict[str, Any]:
        snapshot = policy_snapshot(tenant)
        initial = {k: v for k, v in snapshot.items() if k != "severity_weights"}
        for key, weight in snapshot["severity_weights"].items():
            initial[_weight_field(key)] = weight
        return initial

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[_weight_field(c.key)] for c in characteristics.CHARACTERISTICS]

    def clean_webhook_url(self) -> str:
        """The service's rules for a webhook URL, here, so a refused URL is shown with the
        form's other errors rather than only once they are fixed."""
        url = self.cleaned_data["webhook_url"]
        problem = webhook_url_problem(url, current=self.initial.get("webhook_url") or "")
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        flag, urgent = data.get("flag_threshold"), data.get("urgent_threshold")
        if flag is not None and urgent is not None and urgent < flag:
            self.add_error("urgent_threshold", f"Must be at least the flag threshold ({flag:g}).")
        if data.get("webhook_secret") and data.get("clear_webhook_secret"):
            self.add_error("webhook_secret", "Enter a new secret or remove it, not both.")
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "flag_threshold": data["flag_threshold"],
            "urgent_threshold": data["urgent_threshold"],
            "second_review_share": data["second_review_share"],
            "retention_days": data["retention_days"],
            "appeal_target_days": data["appeal_target_days"],
            "webhook_url": data["webhook_url"],
            "severity_weights": {
                c.key: data[_weight_field(c.key)] for c in characteristics.CHARACTERISTICS
            },
        }

    def secret(self) -> str | None:
        if self.cleaned_data.get("clear_webhook_secret"):
            return ""
        return self.cleaned_data.get("webhook_secret") or None


class RollbackForm(forms.Form):
    version = forms.IntegerField(min_value=1)
    reason = REASON


class ApplyThresholdForm(forms.Form):
    candidate = ThresholdField()
    days = forms.IntegerField(min_value=1, required=False)
    reason = REASON
