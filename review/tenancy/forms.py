"""Forms of the admin's Members and API keys pages; each field gets its own message."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from review.models import Role
from review.tenancy.validators import USERNAME_MAX, validate_invitee, validate_username

REASON = forms.CharField(
    widget=forms.Textarea(attrs={"rows": 2}),
    max_length=2000,
    error_messages={"required": "Say why: every policy change needs a reason."},
)


class MemberCreateForm(forms.Form):
    """A new account, named ``<name>@<tenant slug>``; its one-time password is shown once."""

    name = forms.CharField(
        max_length=USERNAME_MAX,
        help_text="letters, digits and . + - _; the account is named name@tenant",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MODERATOR)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        try:
            validate_username(name)
        except ValidationError:
            raise ValidationError(
                "Use only letters, digits and the characters . + - _ (no spaces)."
            ) from None
        return name


class InvitationForm(forms.Form):
    """Someone who already has an account: they accept the invitation when they sign in."""

    invitee = forms.CharField(
        max_length=254,
        label="Username or e-mail address",
        help_text="they see the invitation when they sign in, and accept or decline it",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MODERATOR)

    def clean_invitee(self) -> str:
        invitee = self.cleaned_data["invitee"].strip()
        try:
            validate_invitee(invitee)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0][:1].upper() + exc.messages[0][1:]) from None
        return invitee


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="what the key is for, e.g. chat-prod")
