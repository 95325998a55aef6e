"""Every URL of the attack suite refuses a NUL in a query parameter's name or value (a 400),
before its view runs (artemis/inputs.py; the cases in test_nul_parameters). Its own module:
the attack suite's two-tenant world is built once per module, beside no other tenant."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security import test_url_rules
from tests.security.test_url_rules import RULED, Endpoint, Worlds, url_for

pytestmark = pytest.mark.django_db

worlds = test_url_rules.worlds


@pytest.mark.parametrize("endpoint", RULED, ids=str)
def test_every_url_refuses_a_nul_in_a_parameter_name_or_value(
    endpoint: Endpoint, worlds: Worlds
) -> None:
    url = url_for(endpoint, worlds, slug_from=worlds.acme, ids_from=worlds.acme)

    assert Client().get(url, {"q": "\x00"}).status_code == 400
    assert Client().get(url, {"q\x00": "x"}).status_code == 400
