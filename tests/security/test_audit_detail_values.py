"""An audit event's detail holds only what PostgreSQL stores and reads back as it was hashed.

PostgreSQL's jsonb refuses NaN, Infinity, a NUL character and a lone surrogate, which
Python's json writes: such a detail would fail the insert (a 500, the member's action rolled
back). And jsonb keeps numbers as decimals, so a float written with an exponent (1e+16) comes
back as an integer and -0.0 as 0.0: hashed as written, the event would no longer verify.
``audit_record`` refuses the first kind naming the key, and stores the second as jsonb will
give it back. The audit trail page, whose query string goes into its own view's detail,
refuses a bad value there with a 400 naming the field, before anything is recorded.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from review.audit.services import audit_record, audit_verify
from review.models import AuditChainHead, AuditEvent, Tenant
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_a_non_finite_float_is_refused_naming_its_key_and_nothing_is_written(
    acme: Tenant, bad: float
) -> None:
    audit_record(tenant=acme, actor=None, action="view")

    with pytest.raises(ValueError, match=r"detail\['queue'\]\['score'\]"):
        audit_record(
            tenant=acme, actor=None, action="view", detail={"queue": {"score": bad, "left": 1}}
        )

    assert AuditEvent.objects.filter(tenant=acme).count() == 1
    assert AuditChainHead.objects.get(tenant=acme).sequence == 1
    audit_record(tenant=acme, actor=None, action="view", detail={"score": 0.5})
    assert audit_verify(tenant=acme) == (2, None)


@pytest.mark.parametrize(
    ("detail", "key"),
    [
        ({"actor": "chat text\x00more chat text"}, r"detail\['actor'\]"),
        ({"blurred": ["ok", "chat text\ud800"]}, r"detail\['blurred'\]\[1\]"),
        ({"key\x00": 1}, r"detail\['key\\x00'\]"),
    ],
    ids=["nul", "lone-surrogate", "nul-in-key"],
)
def test_text_jsonb_refuses_is_refused_naming_its_key_never_quoting_it(
    acme: Tenant, detail: dict[str, Any], key: str
) -> None:
    with pytest.raises(ValueError, match=key) as refused:
        audit_record(tenant=acme, actor=None, action="view", detail=detail)

    assert "chat text" not in str(refused.value)
    assert not AuditEvent.objects.filter(tenant=acme).exists()


def test_what_is_hashed_is_what_the_database_reads_back(acme: Tenant) -> None:
    """Run on PostgreSQL too (DATABASE_URL=postgres://...): that is where numbers change."""
    detail = {
        "big": 2**70,
        "bigger": -(10**40),
        "tenth": 0.1,
        "tiny": 1e-7,
        "exponent": 1e16,
        "large": 1.2345e22,
        "negative_zero": -0.0,
        "nested": {"scores": [0.30000000000000004, 1.5e300, -0.0], "ok": True},
    }
    recorded = audit_record(tenant=acme, actor=None, action="view", detail=detail)

    read = AuditEvent.objects.get(pk=recorded.pk).detail

    assert audit_verify(tenant=acme) == (1, None)
    assert read == recorded.detail
    assert read["big"] == 2**70
    assert read["bigger"] == -(10**40)
    assert read["tenth"] == 0.1
    assert read["tiny"] == 1e-7
    # Stored on every database as jsonb hands it back: whole numbers, no negative zero.
    assert (read["exponent"], type(read["exponent"])) == (10**16, int)
    assert (read["large"], type(read["large"])) == (12345 * 10**18, int)
    assert (read["nested"]["scores"][1], type(read["nested"]["scores"][1])) == (15 * 10**299, int)
    for zero in (read["negative_zero"], read["nested"]["scores"][2]):
        assert math.copysign(1, zero) == 1, "0.0, as jsonb has no negative zero"


@pytest.mark.parametrize(
    "before",
    ["9" * 30, "9" * 5000, "\u00b2", "\u0661", "-1", "0", "1.5", "abc"],
    ids=["beyond-bigint", "thousands-of-digits", "superscript", "arabic-digit", "negative",
         "zero", "float", "word"],
)  # fmt: skip
def test_the_audit_trail_refuses_a_before_that_is_no_event_number(
    acme: Tenant, sam: Any, before: str
) -> None:
    client = signed_in(sam)

    response = client.get("/t/acme/supervision/audit", {"before": before})

    assert response.status_code == 400
    assert "before: must be an event number" in response.content.decode()
    assert not AuditEvent.objects.filter(tenant=acme, target_type="audit_trail").exists()


def test_the_audit_trail_refuses_an_actor_with_a_nul(acme: Tenant, sam: Any) -> None:
    client = signed_in(sam)

    response = client.get("/t/acme/supervision/audit", {"actor": "al\x00ice"})

    assert response.status_code == 400
    assert "the query parameter 'actor' holds a NUL character" in response.content.decode()
    assert not AuditEvent.objects.filter(tenant=acme, target_type="audit_trail").exists()


def test_the_audit_trail_still_pages_back_by_a_good_before(acme: Tenant, sam: Any) -> None:
    for n in range(3):
        audit_record(tenant=acme, actor=None, action="api_read", target_type="conversation",
                     target_id=f"t{n}")  # fmt: skip
    client = signed_in(sam)

    response = client.get("/t/acme/supervision/audit", {"action": "api_read", "before": "3"})

    assert response.status_code == 200
    page = response.content.decode()
    assert " t1</td>" in page
    assert " t2</td>" not in page
    viewed = AuditEvent.objects.get(tenant=acme, target_type="audit_trail")
    assert viewed.detail["before"] == 3
    assert audit_verify(tenant=acme)[1] is None
