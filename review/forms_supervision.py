"""Forms of the second-review and supervisor pages: the decision form without "ask a
supervisor" (a second reviewer commits to a verdict; a supervisor is the one asked)."""

from __future__ import annotations

from typing import Any

from django import forms

from review.forms import DecisionForm
from review.models import REASON_CODES, Verdict


class _CommittedDecisionForm(DecisionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        verdict = self.fields["verdict"]
        verdict.choices = [  # type: ignore[attr-defined]
            (v, label) for v, label in Verdict.choices if v != Verdict.ASK_SUPERVISOR
        ]
        reason = self.fields["reason_code"]
        reason.choices = [  # type: ignore[attr-defined]
            (k, label)
            for k, label in reason.choices  # type: ignore[attr-defined]
            if not k or REASON_CODES[k][1] - {Verdict.ASK_SUPERVISOR}
        ]


class SecondReviewForm(_CommittedDecisionForm):
    pass


class SupervisorDecisionForm(_CommittedDecisionForm):
    # The decision the supervisor was shown; a newer one makes the service refuse.
    supersedes = forms.IntegerField(widget=forms.HiddenInput)
