"""Signing in from a browser test: the password, then, for whoever must use one, a code
from their authenticator (set up for them beforehand, as if they had enrolled earlier)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from review.signin.two_factor import SecondFactor, second_factor_state, two_factor_required
from tests.review_support import PASSWORD, authenticator, totp_code


def sign_in(tab: Any, base: str, username: str, *, lands_on: str = "/t/acme/queue") -> None:
    user = get_user_model().objects.get(username=username)
    if two_factor_required(user):
        authenticator(user)
    tab.context.clear_cookies()
    tab.goto(f"{base}/login")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PASSWORD)
    tab.keyboard.press("Enter")
    if second_factor_state(user) is SecondFactor.VERIFY:
        tab.wait_for_url(f"{base}/two-factor/verify?**")
        tab.fill("#id_code", totp_code(authenticator(user)))
        tab.click("#verify-two-factor")
    tab.wait_for_url(f"{base}{lands_on}")
