"""rows_update writes what bulk_update writes, every field type it is used with, in one
statement: a foreign key, floats to the bit, a flag, text with quotes and backslashes, a
JSON document and a null one, a time with its zone; other rows and other fields untouched.
rows_insert inserts what bulk_create inserts, its keys set in order, an upsert overwriting
only the fields named. Neither sends a NaN, which JSON cannot carry."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from review.bulk import rows_insert, rows_update
from review.models import (
    Assessment,
    Conversation,
    Message,
    QueueItem,
    ScoringState,
    Tenant,
)
from tests.review_support import flagged_item

pytestmark = pytest.mark.django_db


def test_every_field_kind_is_written_as_it_is_on_the_objects(acme: Tenant) -> None:
    items = [flagged_item(acme, n) for n in range(3)]
    untouched = items[2]
    newer = Assessment.objects.create(
        conversation=items[0].conversation, model_version="test", probability=0.1 + 0.2,
        message_count=3, content_fingerprint="g", scored_at=datetime.now(UTC),
    )  # fmt: skip
    items[0].assessment = newer
    items[0].probability = 0.1 + 0.2  # not 0.3: written to the bit
    items[0].urgent = True
    items[1].characteristics = ',it\'s \\ "quoted",'
    items[1].rank = -1e-300
    with CaptureQueriesContext(connection) as captured:
        rows_update(items[:2], ["assessment", "probability", "urgent", "characteristics", "rank"])
    if connection.vendor == "postgresql":
        assert len(captured) == 1

    first, second, third = (QueueItem.objects.get(pk=item.pk) for item in items)
    assert first.assessment_id == newer.pk
    assert first.probability.hex() == (0.1 + 0.2).hex()
    assert first.urgent is True
    assert second.characteristics == ',it\'s \\ "quoted",'
    assert second.rank == -1e-300
    assert second.urgent is False, "a field not named is left as it was"
    assert (third.probability, third.rank, third.assessment_id) == (
        untouched.probability, untouched.rank, untouched.assessment_id,
    )  # fmt: skip


def test_json_documents_nulls_and_times(acme: Tenant) -> None:
    item = flagged_item(acme)
    first, second = Message.objects.filter(conversation=item.conversation).order_by("position")[:2]
    first.score = {"scores": {"secrecy_request": 0.9123}, "spans": {"a": [[0, 4]]}, "x": None}
    first.scored_by = "v1"
    second.score = None
    second.scored_by = ""
    rows_update([first, second], ["score", "scored_by"])
    assert Message.objects.get(pk=first.pk).score == first.score
    assert Message.objects.get(pk=second.pk).score is None

    conversation = item.conversation
    conversation.updated_at = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)
    conversation.message_count = 7
    rows_update([conversation], ["updated_at", "message_count"])
    again = Conversation.objects.get(pk=conversation.pk)
    assert (again.updated_at, again.message_count) == (conversation.updated_at, 7)


def test_nothing_to_write_sends_nothing(acme: Tenant) -> None:
    with CaptureQueriesContext(connection) as captured:
        rows_update([], ["probability"])
    assert not captured


def _assessment(conversation: Conversation, n: int, **fields: object) -> Assessment:
    return Assessment(
        conversation=conversation, model_version=f"v{n}", probability=0.1 + 0.2 * n,
        characteristic_scores={"secrecy_request": 0.1 + 0.2, "quote": 1e-300},
        highlights=[{"message": "m1", "characteristic": "secrecy_request", "score": 0.9,
                     "spans": [[0, 4]]}],
        factors=['it\'s \\ "quoted"', "UTC-07:00"], message_count=n,
        content_fingerprint=f"{n:064d}",
        scored_at=datetime(2026, 3, 29, 1, 30, 0, 123456 + n, tzinfo=UTC), **fields,
    )  # fmt: skip


def test_rows_insert_writes_what_bulk_create_writes_and_sets_each_key_in_order(
    acme: Tenant,
) -> None:
    conversations = [flagged_item(acme, n).conversation for n in range(3)]
    made = [_assessment(c, n) for n, c in enumerate(conversations * 2)]
    with CaptureQueriesContext(connection) as captured:
        rows_insert(made)
    if connection.vendor == "postgresql":
        assert len(captured) == 1

    assert all(a.pk is not None and not a._state.adding for a in made)
    assert len({a.pk for a in made}) == 6
    for sent in made:
        stored = Assessment.objects.get(pk=sent.pk)  # the key is this object's row
        assert stored.conversation_id == sent.conversation_id
        assert stored.model_version == sent.model_version
        assert stored.probability.hex() == sent.probability.hex()
        assert stored.characteristic_scores == sent.characteristic_scores
        assert stored.highlights == sent.highlights
        assert stored.factors == sent.factors
        assert stored.suspect_scores == {}, "a field's default, as bulk_create writes it"
        assert (stored.message_count, stored.content_fingerprint, stored.scored_at) == (
            sent.message_count, sent.content_fingerprint, sent.scored_at,
        )  # fmt: skip


def test_rows_insert_upserts_only_the_fields_named(acme: Tenant) -> None:
    kept, fresh = (flagged_item(acme, n).conversation for n in range(2))
    ScoringState.objects.create(conversation=kept, state={"old": 1}, messages_digest="a" * 64)
    rows = [
        ScoringState(conversation=kept, state={"new": [1.5, None]}, messages_digest="b" * 64),
        ScoringState(conversation=fresh, state={"first": True}, messages_digest="c" * 64),
    ]
    rows_insert(rows, unique_field="conversation", update_fields=["state"])
    assert ScoringState.objects.get(conversation=kept).state == {"new": [1.5, None]}
    assert ScoringState.objects.get(conversation=kept).messages_digest == "a" * 64, "not named"
    assert ScoringState.objects.get(conversation=fresh).messages_digest == "c" * 64


@pytest.mark.parametrize("where", ["probability", "characteristic_scores"])
def test_a_nan_is_refused_by_its_field_and_nothing_is_written(acme: Tenant, where: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("elsewhere these are bulk_create and bulk_update, and the database refuses")
    conversation = flagged_item(acme).conversation
    before = Assessment.objects.count()
    bad = _assessment(conversation, 1)
    if where == "probability":
        bad.probability = math.nan
    else:
        bad.characteristic_scores = {"secrecy_request": math.inf}
    with pytest.raises(ValueError, match=rf"review\.Assessment\.{where}\b"):
        rows_insert([_assessment(conversation, 0), bad])
    assert Assessment.objects.count() == before

    message = Message.objects.filter(conversation=conversation).first()
    assert message is not None
    message.score = {"scores": {"secrecy_request": math.nan}}
    with pytest.raises(ValueError, match=r"review\.Message\.score"):
        rows_update([message], ["score"])
    assert Message.objects.get(pk=message.pk).score != message.score
