"""Ages said in chat: what counts as someone saying how old they are, and what does not."""

from __future__ import annotations

import pytest

from scoring.disclosures import stated_ages, states_adult, states_minor


@pytest.mark.parametrize(
    "text", ["im 13", "i am 14 lol", "13 f", "14/f/ohio", "13 yo", "13", "14?", "im in 8th grade"]
)
def test_a_child_saying_their_age_or_grade_counts(text: str) -> None:
    assert states_minor(text)


@pytest.mark.parametrize("text", ["28 m uk", "im 31 divorced lol", "25/m/ca", "42"])
def test_an_adult_saying_their_age_counts_as_an_adult(text: str) -> None:
    assert states_adult(text)
    assert not states_minor(text)


@pytest.mark.parametrize(
    "text",
    [
        "im 13 levels up",
        "i have 13 min left",
        "im 5 min away",
        "I'm 5 10 215",
        "meet at 13:00",
        "10-15min away",
        "my brother is 13",
        "15 lol that was fast",
        "2015",
    ],
)
def test_a_number_that_is_not_the_writers_age_does_not_count(text: str) -> None:
    assert stated_ages(text) == []
    assert not states_minor(text)
