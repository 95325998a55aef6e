"""Forms of the decision pages: a moderator's decision and a supervisor's."""

from __future__ import annotations

from typing import Any

from django import forms

from review.decisions.verdicts import SHORTCUT_KEYS
from review.models import REASON_CODES, Verdict

# One key per verdict (the verdicts table); the review page's help overlay lists them.
VERDICT_KEYS = SHORTCUT_KEYS


class VerdictSelect(forms.RadioSelect):
    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["data-key"] = VERDICT_KEYS.get(value, "")
        option["attrs"]["data_key"] = VERDICT_KEYS.get(value, "")
        return option


class ReasonSelect(forms.Select):
    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value in REASON_CODES:
            option["attrs"]["data-verdicts"] = " ".join(sorted(REASON_CODES[value][1]))
        return option


class NotesField(forms.CharField):
    """Text from a textarea, its line breaks as the browser counted them.

    A browser counts a line break as one character against ``maxlength`` but sends it as
    CRLF (the form encoding), and Django's CharField checks ``max_length`` on what was sent:
    a note the page accepted would be refused. Line breaks become LF before the check, as the
    textarea's own value has them."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n")


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=VerdictSelect)
    reason_code = forms.ChoiceField(
        choices=[("", "Choose a reason")] + [(k, label) for k, (label, _) in REASON_CODES.items()],
        widget=ReasonSelect,
        error_messages={"required": "Choose a reason: every decision needs one."},
    )
    notes = NotesField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        verdict, reason = data.get("verdict"), data.get("reason_code")
        if verdict and reason and verdict not in REASON_CODES[reason][1]:
            self.add_error(
                "reason_code",
                f"“{REASON_CODES[reason][0]}” does not go with “{Verdict(verdict).label}”.",
            )
        return data


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
