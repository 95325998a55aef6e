"""Each characteristic reaches the page with two cues, its colour and its symbol, both read
from scoring/characteristics.py: a moderator in calm mode (greyscale) or with a colour-vision
deficit still tells a secrecy request from a media request."""

from __future__ import annotations

from django.template import Context, Template
from django.test import RequestFactory

from scoring.characteristics import CHARACTERISTICS


def styles() -> str:
    request = RequestFactory().get("/")
    request.csp_nonce = "n0nce"  # type: ignore[attr-defined]
    template = Template("{% load artemis %}{% characteristic_styles %}")
    return template.render(Context({"request": request}))


def test_every_characteristic_has_its_colour_and_its_symbol_in_the_page_style() -> None:
    css = styles()
    assert css.startswith('<style nonce="n0nce">')
    for c in CHARACTERISTICS:
        assert f".c-{c.key}{{background:{c.colour};}}" in css
        assert f'.c-{c.key}::before{{content:"{c.symbol}" / "";}}' in css
