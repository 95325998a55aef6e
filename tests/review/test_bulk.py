"""rows_update writes what bulk_update writes, every field type it is used with, in one
statement: a foreign key, floats to the bit, a flag, text with quotes and backslashes, a
JSON document and a null one, a time with its zone; other rows and other fields untouched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from review.bulk import rows_update
from review.models import Assessment, Conversation, Message, QueueItem, Tenant
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
