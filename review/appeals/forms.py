"""The appeal page's form: the outcome, and for an overturn the new decision's verdict and
reason."""

from __future__ import annotations

from typing import Any

from django import forms

from review.appeals.services import ANSWERS, REFERRED
from review.decisions.forms import ReasonSelect, VerdictSelect
from review.models import REASON_CODES, AppealOutcome, Verdict

OUTCOME_CHOICES = [
    (AppealOutcome.UPHELD.value, "Uphold: the decision stands"),
    (AppealOutcome.OVERTURNED.value, "Overturn: record a new decision that replaces it"),
    (REFERRED, "Refer to a supervisor"),
]


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=OUTCOME_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an outcome."},
    )
    verdict = forms.ChoiceField(
        required=False,
        choices=[("", "—")] + [(v, label) for v, label in Verdict.choices if v in ANSWERS],
        widget=VerdictSelect,
        help_text="only for an overturn",
    )
    reason_code = forms.ChoiceField(
        required=False,
        choices=[("", "Choose a reason")]
        + [(k, label) for k, (label, verdicts) in REASON_CODES.items() if verdicts & ANSWERS],
        widget=ReasonSelect,
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )

    def __init__(self, *args: Any, supervisor: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if supervisor:
            # A supervisor decides; there is nobody to refer to.
            self.fields["outcome"].choices = OUTCOME_CHOICES[:2]  # type: ignore[attr-defined]
