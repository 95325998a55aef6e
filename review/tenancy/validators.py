"""Small validators shared by forms, services and serializers.

A username is shown on every page and in the audit trail; it is letters, digits and
``@ . + - _`` only (Django's own rule, without the Unicode letters that let two different
names look the same), so markup or a look-alike never becomes someone's name.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

USERNAME_MAX = 150
USERNAME_RULE = (
    "use only letters, digits and the characters @ . + - _ (no spaces), "
    f"at most {USERNAME_MAX} characters."
)
_USERNAME = re.compile(r"[A-Za-z0-9@.+_-]+")


def validate_username(value: str) -> None:
    if not value or len(value) > USERNAME_MAX or not _USERNAME.fullmatch(value):
        raise ValidationError(USERNAME_RULE, code="invalid_username")


def validate_invitee(value: str) -> None:
    """Whom an invitation is for: a username, or an e-mail address (up to 254 characters)."""
    try:
        validate_username(value)
    except ValidationError:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                "enter a username or an e-mail address; a username may " + USERNAME_RULE,
                code="invalid_invitee",
            ) from None
