"""The site's icon: every page's browser asks for /favicon.ico, and gets a small file."""

from __future__ import annotations

from django.conf import settings
from django.test import Client


def test_the_favicon_is_a_small_icon_served_from_a_file_not_a_404() -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00", "an ICO file"
    assert body == (settings.WHITENOISE_ROOT / "favicon.ico").read_bytes()
    assert len(body) < 10_000
    assert "no-store" not in response.get("Cache-Control", ""), "static: WhiteNoise caches it"
