"""Stored rows as the scoring engine reads them (``scoring.types``): one translation, used by
scoring and by the export of decisions as training data alike."""

from __future__ import annotations

import datetime as dt

from review.models import Message, Participant
from scoring import types as st


def engine_participant(participant: Participant) -> st.Participant:
    return st.Participant(
        external_id=participant.external_id,
        declared_age=participant.declared_age,
        account_created_at=participant.account_created_at,
    )


def engine_message(message: Message) -> st.Message:
    return st.Message(
        external_id=message.external_id,
        sender=message.sender.external_id,
        # The sender's own clock: time-of-day features and factors read local time.
        sent_at=message.sent_at.astimezone(
            dt.timezone(dt.timedelta(minutes=message.utc_offset_minutes))
        ),
        text=message.text,
    )
