"""A characteristic's identity in stored data is its permanent bit, never its place in the
table: a new characteristic inserted anywhere must not relabel the queue's stored rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from scoring import characteristics
from scoring.characteristics import CHARACTERISTICS, Characteristic, _check, bits

Rows = tuple[Characteristic, ...]


def test_every_characteristic_has_its_own_bit_and_a_stage() -> None:
    assert len({c.bit for c in CHARACTERISTICS}) == len(CHARACTERISTICS)
    assert all(0 <= c.bit < 31 and 0 <= c.stage < characteristics.STAGES for c in CHARACTERISTICS)


def test_a_mask_is_the_bits_of_its_keys_whatever_the_order_of_the_table() -> None:
    assert bits(["media_request"]) == 1 << characteristics.get("media_request").bit
    assert bits(["secrecy_request", "media_request", "media_request"]) == (
        bits(["secrecy_request"]) | bits(["media_request"])
    )
    assert bits([]) == 0


def test_the_bits_stored_so_far_keep_their_meaning() -> None:
    # Queue items written before bits were explicit used the table's order then: these.
    before = ("personal_info_probe", "age_gap_normalisation", "trust_building",
              "supervision_check", "secrecy_request", "exclusivity_isolation", "sexual_content",
              "media_request", "gifts_incentives", "pressure_coercion", "platform_migration",
              "meeting_arrangement")  # fmt: skip
    assert {k: characteristics.get(k).bit for k in before} == {k: i for i, k in enumerate(before)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: (*rows, replace(rows[0], key="grooming_by_proxy")), "already personal_info"),
        (lambda rows: (replace(rows[0], bit=31), *rows[1:]), "outside 0-30"),
        (lambda rows: (replace(rows[0], stage=5), *rows[1:]), "stage 5 is outside"),
        (lambda rows: (*rows, replace(rows[0], bit=30)), "share a key"),
        (lambda rows: (*rows, replace(rows[0], key="k", bit=30)), "share a symbol"),
        (lambda rows: (replace(rows[0], symbol='"'), *rows[1:]), "must be one character"),
        (lambda rows: (replace(rows[0], symbol="ab"), *rows[1:]), "must be one character"),
    ],
)
def test_a_table_that_would_confuse_stored_rows_is_refused_by_name(
    change: Callable[[Rows], Rows], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _check(change(CHARACTERISTICS))
