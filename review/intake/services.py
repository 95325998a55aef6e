"""Ingest: the idempotent upsert of conversations, participants and messages.

One request is one transaction: either every record in it is written or none is. Records are
keyed by the platform's external ids, so sending the same payload twice changes nothing, and a
message id that comes back with different content is a conflict (409), never an overwrite:
what a platform sent first may already be evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from review.bulk import rows_update
from review.intake.scoring import conversations_request_score
from review.models import (
    Conversation,
    ConversationStatus,
    Message,
    Participant,
    ReviewError,
    Tenant,
)
from review.outbound.outbox import outbox_add

logger = logging.getLogger("artemis.ingest")


@dataclass(slots=True)
class UpsertResult:
    conversation: Conversation
    created: bool
    messages_created: int
    messages_unchanged: int
    participants: list[str] = field(default_factory=list)


def _offset_minutes(value: datetime) -> int:
    offset = value.utcoffset()
    assert offset is not None  # inputs are validated as aware
    minutes, rest = divmod(offset, timedelta(minutes=1))
    # The API refuses any other offset (review.intake.api.inputs); rounding one would store
    # a clock the sender never had, and scoring cannot make a time zone past 24 hours.
    if rest or abs(minutes) > 14 * 60:
        raise ValueError("a UTC offset must be whole minutes from -14:00 to +14:00")
    return minutes


# The profile and account fields a payload may send about a participant. They describe the
# account, not what was said, so unlike a message they may change: a field a payload sends
# replaces the stored value (the latest IP events, a corrected screen name); a field left out,
# or sent as null, keeps it. A case copies these at the moment it is opened, so what a report
# or package states never changes under it.
PROFILE_FIELDS = (
    "display_name",
    "declared_age",
    "account_created_at",
    "screen_name",
    "date_of_birth",
    "email",
    "ip_events",
    "device_ids",
    "estimated_location",
)


def _account_data(record: dict[str, Any]) -> dict[str, Any]:
    """A validated participant record in the shape the Participant row stores: IP events as
    JSON with their timestamps in ISO 8601, offset kept."""
    data = dict(record)
    if data.get("ip_events") is not None:
        data["ip_events"] = [
            {"ip": e["ip"], "at": e["at"].isoformat(), "event": e["event"]}
            for e in data["ip_events"]
        ]
    if data.get("estimated_location") is not None:
        data["estimated_location"] = {
            k: v for k, v in data["estimated_location"].items() if v not in ("", None)
        }
    return data


def _participants_check(records: Sequence[dict[str, Any]], *, where: str) -> None:
    """Refuse a participant listed twice in one record with different data: merged, one
    value would be lost unseen (a child's declared age, say). Listed twice alike is fine.
    Raises ReviewError naming the second entry (``participants[1].external_id``)."""
    seen: dict[str, dict[str, Any]] = {}
    for index, record in enumerate(records):
        data = _account_data(record)  # IP event times as stored: with their offsets
        earlier = seen.setdefault(record["external_id"], data)
        if earlier is not data and earlier != data:
            raise ReviewError(
                f"participant {record['external_id']!r} appears twice in this conversation's "
                "participants with different data; list each participant once.",
                field=f"{where}participants[{index}].external_id",
            )


# What scoring reads of a participant besides the id (review.intake.scoring's fingerprint):
# a change to one of them is owed a score, as new messages are.
SCORED_FIELDS = ("declared_age", "account_created_at")


def _participants_upsert(
    *, tenant: Tenant, records: Iterable[dict[str, Any]]
) -> tuple[dict[str, int], set[int]]:
    """Create missing participants and update the profile fields a payload sends; returns
    the primary key of each participant the records name, by external id, and the primary
    keys of those already known whose ``SCORED_FIELDS`` changed.

    Fields left out of a payload are left as they were: a later message append that lists a
    participant by id alone must not erase the declared age an earlier payload gave.
    """
    wanted: dict[str, dict[str, Any]] = {}
    for record in records:
        # null says nothing, as a field left out does: a batch's later conversation that
        # lists the person with a null age must not erase the age an earlier one gave.
        known = {k: v for k, v in _account_data(record).items() if v is not None}
        wanted.setdefault(record["external_id"], {}).update(known)
    if not wanted:
        return {}, set()
    existing = {
        p.external_id: p
        for p in Participant.objects.filter(tenant=tenant, external_id__in=list(wanted))
    }
    pks = {eid: p.pk for eid, p in existing.items()}
    missing = {eid: data for eid, data in wanted.items() if eid not in existing}
    if missing:
        pks.update(_participants_insert(tenant=tenant, wanted=missing))
        # A concurrent request may have created some first: theirs are updated below.
        raced = [eid for eid in missing if eid not in pks]
        for p in Participant.objects.filter(tenant=tenant, external_id__in=raced):
            existing[p.external_id] = p
            pks[p.external_id] = p.pk
    changed = []
    rescore: set[int] = set()
    for eid, participant in existing.items():
        data = wanted[eid]
        dirty = False
        for name in PROFILE_FIELDS:
            if name in data and data[name] is not None and getattr(participant, name) != data[name]:
                setattr(participant, name, data[name])
                dirty = True
                if name in SCORED_FIELDS:
                    rescore.add(participant.pk)
        if dirty:
            changed.append(participant)
    if changed:
        now = timezone.now()
        for participant in changed:
            participant.updated_at = now
        Participant.objects.bulk_update(changed, [*PROFILE_FIELDS, "updated_at"])
    return pks, rescore


# The participant columns a new row is written with, besides the tenant and the two dates;
# with the type PostgreSQL reads each array of values as (JSON goes as text, then jsonb).
_PARTICIPANT_COLUMNS = (
    ("external_id", "text"),
    ("display_name", "text"),
    ("declared_age", "integer"),
    ("account_created_at", "timestamptz"),
    ("screen_name", "text"),
    ("date_of_birth", "date"),
    ("email", "text"),
    ("ip_events", "jsonb"),
    ("device_ids", "jsonb"),
    ("estimated_location", "jsonb"),
)


def _participants_insert(*, tenant: Tenant, wanted: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Insert participants that did not exist, skipping any a concurrent request created
    first; returns the primary keys of the rows this call inserted, by external id.

    On PostgreSQL one INSERT from arrays with RETURNING (building a model instance per row
    and selecting them again cost about a tenth of a batch request); elsewhere bulk_create
    and a select."""
    if connection.vendor != "postgresql":
        Participant.objects.bulk_create(
            [
                Participant(
                    tenant=tenant,
                    external_id=eid,
                    **{name: data[name] for name in PROFILE_FIELDS if data.get(name) is not None},
                )
                for eid, data in wanted.items()
            ],
            ignore_conflicts=True,
        )
        # SQLite writes one transaction at a time: no other request inserted any of these.
        return dict(
            Participant.objects.filter(tenant=tenant, external_id__in=list(wanted)).values_list(
                "external_id", "pk"
            )
        )
    meta = Participant._meta
    defaults = {name: meta.get_field(name).get_default() for name, _ in _PARTICIPANT_COLUMNS}
    arrays: list[list[Any]] = [[] for _ in _PARTICIPANT_COLUMNS]
    for eid, data in wanted.items():
        data = {**data, "external_id": eid}
        for values, (name, kind) in zip(arrays, _PARTICIPANT_COLUMNS, strict=True):
            value = data.get(name)
            if value is None:
                value = defaults[name]
            values.append(json.dumps(value) if kind == "jsonb" else value)
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("tenant", "created_at", "updated_at", *(n for n, _ in _PARTICIPANT_COLUMNS))
    )
    unnest = ", ".join(f"%s::{kind}[]" for _, kind in _PARTICIPANT_COLUMNS)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
            f"SELECT %s, %s, %s, v.* FROM unnest({unnest}) AS v "
            f"ON CONFLICT ({quote(meta.get_field('tenant').column)}, "
            f"{quote(meta.get_field('external_id').column)}) DO NOTHING "
            f"RETURNING {quote(meta.pk.column)}, {quote(meta.get_field('external_id').column)}",
            [tenant.pk, now, now, *arrays],
        )
        return {eid: pk for pk, eid in cursor.fetchall()}


def _messages_add(
    *,
    conversation: Conversation,
    where: str,
    records: Sequence[dict[str, Any]],
    senders: dict[str, int],
    allowed_senders: set[int],
    existing: dict[str, Message],
) -> tuple[list[tuple[Any, ...]], int]:
    """Build the new message rows of one conversation (``MESSAGE_COLUMNS``), checking each
    record against what is stored. Raises ReviewError naming the record's field path (code
    ``conflict`` for a message stored with other content)."""
    new: list[tuple[Any, ...]] = []
    seen: dict[str, dict[str, Any]] = {}
    unchanged = 0
    position = conversation.message_count
    for index, record in enumerate(records):
        path = f"{where}messages[{index}]"
        sender = senders.get(record["sender"])
        if sender is None or sender not in allowed_senders:
            raise ReviewError(
                f"{record['sender']!r} is not a participant of conversation "
                f"{conversation.external_id!r}; list it under participants.",
                field=f"{path}.sender",
            )
        eid = record["external_id"]
        earlier = seen.get(eid)
        if earlier is not None:
            if _same_content(earlier, record):
                continue
            raise ReviewError(
                f"message {eid!r} appears twice in this request with different content.",
                field=f"{path}.external_id",
            )
        seen[eid] = record
        stored = existing.get(eid)
        if stored is not None:
            if (
                stored.sender_id == sender
                and stored.text == record["text"]
                and stored.sent_at == record["sent_at"]
                and stored.utc_offset_minutes == _offset_minutes(record["sent_at"])
            ):
                unchanged += 1
                continue
            raise ReviewError(
                f"message {eid!r} of conversation {conversation.external_id!r} already exists "
                "with different content; messages are never overwritten.",
                field=f"{path}.external_id",
                code="conflict",
            )
        sent_at = record["sent_at"]
        new.append(
            (
                conversation.pk,
                eid,
                sender,
                sent_at.astimezone(UTC),
                _offset_minutes(sent_at),
                record["text"],
                position,
            )
        )
        position += 1
    return new, unchanged


# A new message row as _messages_add builds it: plain values, no model instance (10,000 of
# those, each saved through the ORM's field machinery, were a third of a batch request).
MESSAGE_COLUMNS = (
    "conversation_id",
    "external_id",
    "sender_id",
    "sent_at",
    "utc_offset_minutes",
    "text",
    "position",
)


def _messages_insert(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert new message rows in the current transaction: with COPY on PostgreSQL (one
    stream, no SQL to build or parse per row), with bulk_create elsewhere. Both fill the
    columns the model would (created_at now, no score yet); neither sends signals, as
    bulk_create never did."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        Message.objects.bulk_create(
            [
                Message(**dict(zip(MESSAGE_COLUMNS, row, strict=True)), created_at=now)
                for row in rows
            ],
            batch_size=2000,
        )
        return
    meta = Message._meta
    names = [*MESSAGE_COLUMNS, "created_at", "score", "scored_by"]
    columns = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in names)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, now, None, ""))


def _insert_from_arrays(
    model: type[Model], *, constants: dict[str, Any], arrays: dict[str, tuple[str, list[Any]]]
) -> None:
    """PostgreSQL: insert one row per array position, the same ``constants`` in each, with
    one statement (what ``bulk_create(ignore_conflicts=True)`` does, without a model
    instance per row): a row that would break a unique constraint is skipped. ``arrays``
    maps a field to (its column's type, its values)."""
    meta = model._meta
    quote = connection.ops.quote_name
    names = [*constants, *arrays]
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    values = ", ".join(["%s"] * len(constants) + [f"v.{quote(name)}" for name in arrays])
    unnest = ", ".join(f"%s::{kind}[]" for kind, _ in arrays.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
            f"SELECT {values} FROM unnest({unnest}) AS v({', '.join(map(quote, arrays))}) "
            "ON CONFLICT DO NOTHING",
            [*constants.values(), *(vals for _, vals in arrays.values())],
        )


def _conversations_touch(conversations: Sequence[Conversation], *, now: datetime) -> None:
    """Write the new message count, status and ``updated_at`` of conversations whose rows this
    transaction holds, in one statement (``rows_update``)."""
    for conversation in conversations:
        conversation.updated_at = now
    rows_update(conversations, ["message_count", "updated_at", "status"])


def _same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["sender"] == b["sender"]
        and a["text"] == b["text"]
        and a["sent_at"] == b["sent_at"]
        and a["sent_at"].utcoffset() == b["sent_at"].utcoffset()
    )


# The first key of the PostgreSQL advisory locks ingest takes ("ingt"), so they share no key
# with any other advisory lock.
_LOCK_NAMESPACE = 0x696E6774


def _lock_external_ids(*, tenant: Tenant, external_ids: Iterable[str]) -> None:
    """Make requests that carry the same conversation ids take turns until they commit, so
    each can tell whether the conversation existed before it: of identical upserts sent at
    once, one creates the conversation (201) and the others find it (200).

    A row lock cannot do this for a row that does not exist yet. PostgreSQL takes one advisory
    lock per id, in key order so two batches never wait on each other in a cycle (two ids that
    share a key only wait for each other); SQLite needs none, as its transactions begin
    IMMEDIATE and so write one at a time."""
    if connection.vendor != "postgresql":
        return
    keys = sorted(
        {
            int.from_bytes(
                hashlib.blake2b(f"{tenant.pk}:{eid}".encode(), digest_size=4).digest(),
                "big",
                signed=True,
            )
            for eid in external_ids
        }
    )
    with connection.cursor() as cursor:
        # unnest reads the array in order, so the locks are taken in key order.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, key)) FROM unnest(%s::integer[]) AS key",
            [_LOCK_NAMESPACE, keys],
        )


@transaction.atomic
def conversations_upsert(
    *, tenant: Tenant, records: Sequence[dict[str, Any]], paths: Sequence[str] | None = None
) -> list[UpsertResult]:
    """Create or extend conversations from validated records (``review.intake.api.inputs``).

    ``paths`` names each record as the client sent it (``conversations[3].``) for errors.
    Scoring is requested for each conversation that gained messages, after the commit.
    """
    paths = paths or ["" for _ in records]
    by_id: dict[str, int] = {}
    for index, record in enumerate(records):
        if record["external_id"] in by_id:
            raise ReviewError(
                f"conversation {record['external_id']!r} appears twice in this request.",
                field=f"{paths[index]}external_id",
            )
        by_id[record["external_id"]] = index
        _participants_check(record["participants"], where=paths[index])

    # The first lock of every ingest transaction (messages_append takes it first too): the
    # conversation ids', so two requests for one conversation take turns from the start,
    # holding nothing while they wait, whatever rows each locks later and in which order.
    _lock_external_ids(tenant=tenant, external_ids=by_id)
    participants, rescore = _participants_upsert(
        tenant=tenant, records=(p for r in records for p in r["participants"])
    )

    ids = list(by_id)
    present = set(
        Conversation.objects.filter(tenant=tenant, external_id__in=ids).values_list(
            "external_id", flat=True
        )
    )
    created_ids = [eid for eid in ids if eid not in present]
    if created_ids and connection.vendor == "postgresql":
        now = timezone.now()
        _insert_from_arrays(
            Conversation,
            constants={
                "tenant": tenant.pk,
                "status": ConversationStatus.PENDING.value,
                "message_count": 0,
                "created_at": now,
                "updated_at": now,
            },
            arrays={
                "external_id": ("text", created_ids),
                "platform": ("text", [records[by_id[e]].get("platform", "") for e in created_ids]),
                "channel": ("text", [records[by_id[e]].get("channel", "") for e in created_ids]),
            },
        )
    elif created_ids:
        Conversation.objects.bulk_create(
            [
                Conversation(
                    tenant=tenant,
                    external_id=eid,
                    platform=records[by_id[eid]].get("platform", ""),
                    channel=records[by_id[eid]].get("channel", ""),
                )
                for eid in created_ids
            ],
            ignore_conflicts=True,
        )
    # Lock the rows in one order (pk) so two requests touching the same conversations wait for
    # each other instead of deadlocking; positions are then assigned without races.
    conversations = {
        c.external_id: c
        for c in Conversation.objects.select_for_update()
        .filter(tenant=tenant, external_id__in=ids)
        .order_by("pk")
    }
    created_set = set(created_ids)
    _conversation_facts_check(
        conversations={e: c for e, c in conversations.items() if e not in created_set},
        records=records,
        by_id=by_id,
        paths=paths,
    )
    return _write_messages(
        tenant=tenant,
        conversations=conversations,
        records=records,
        paths=paths,
        participants=participants,
        created=created_set,
        rescore=rescore,
    )


def _conversation_facts_check(
    *,
    conversations: dict[str, Conversation],
    records: Sequence[dict[str, Any]],
    by_id: dict[str, int],
    paths: Sequence[str],
) -> None:
    """A conversation sent again keeps the platform and channel it was first sent with: a
    different one is a conflict (409), as a message's content is, not a silent no-op. One
    left out or blank says nothing; one first sent blank is filled in."""
    for external_id, conversation in conversations.items():
        index = by_id[external_id]
        filled = {}
        for name in ("platform", "channel"):
            sent, stored = records[index].get(name) or "", getattr(conversation, name)
            if not sent or sent == stored:
                continue
            if stored:
                raise ReviewError(
                    f"conversation {external_id!r} was first sent with another {name}; a "
                    f"conversation's {name} is never changed.",
                    field=f"{paths[index]}{name}",
                    code="conflict",
                )
            filled[name] = sent
        if filled:
            Conversation.objects.filter(pk=conversation.pk).update(**filled)
            for name, value in filled.items():
                setattr(conversation, name, value)


@transaction.atomic
def messages_append(
    *,
    tenant: Tenant,
    external_id: str,
    messages: Sequence[dict[str, Any]],
    participants: Sequence[dict[str, Any]] = (),
) -> UpsertResult:
    """Append messages to an existing conversation. Raises Conversation.DoesNotExist when the
    tenant has no such conversation (another tenant's id included)."""
    _participants_check(participants, where="")
    # The first lock is the one conversations_upsert takes first: the conversation id's. An
    # upsert locks participants before the conversation row and this the row before them, so
    # without it the two, sent at once, each held what the other waited for.
    _lock_external_ids(tenant=tenant, external_ids=[external_id])
    conversation = Conversation.objects.select_for_update().get(
        tenant=tenant, external_id=external_id
    )
    by_id, rescore = _participants_upsert(tenant=tenant, records=participants)
    for eid, pk in conversation.participants.values_list("external_id", "pk"):
        by_id.setdefault(eid, pk)
    record = {"external_id": external_id, "participants": list(participants), "messages": messages}
    [result] = _write_messages(
        tenant=tenant,
        conversations={external_id: conversation},
        records=[record],
        paths=[""],
        participants=by_id,
        created=set(),
        rescore=rescore,
    )
    return result


def _elsewhere_request_score(
    *, tenant: Tenant, participants: set[int], besides: Sequence[int]
) -> None:
    """Owe a score to the other open conversations of participants whose ``SCORED_FIELDS``
    changed, so that each shows the facts as they are now. A worker does it after this
    request commits (``review.tasks.request_scores``): this request holds its own
    conversations locked, and waiting here for other requests' would make ingest wait on
    them, or on each other in a cycle."""
    if not participants:
        return
    from review.tasks import request_scores  # tasks import services, not the reverse

    others = list(
        Conversation.objects.filter(tenant=tenant, participants__in=participants)
        .exclude(pk__in=list(besides))
        .exclude(status=ConversationStatus.REVIEWED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    chunk = 1000
    outbox_add(
        task=request_scores,
        calls=[[others[start : start + chunk]] for start in range(0, len(others), chunk)],
    )


def _write_messages(
    *,
    tenant: Tenant,
    conversations: dict[str, Conversation],
    records: Sequence[dict[str, Any]],
    paths: Sequence[str],
    participants: dict[str, int],
    created: set[str],
    rescore: set[int],
) -> list[UpsertResult]:
    """Link participants, add messages and owe scores: to each conversation that gained
    messages, and to each that gained a participant or lists one whose ``SCORED_FIELDS``
    changed (``rescore``), so that what a moderator is shown of their declared ages and
    accounts is not left as it was; not a decided one (its words were decided on, and its
    score would queue it again). Here, the conversations of this request, which it holds
    locked; the same person's other open conversations are owed theirs by a worker, after
    this request commits (``_elsewhere_request_score``)."""
    through = Conversation.participants.through
    links = set(
        through.objects.filter(conversation__in=[c.pk for c in conversations.values()]).values_list(
            "conversation_id", "participant_id"
        )
    )
    members: dict[int, set[int]] = {}
    for conversation_id, participant_id in links:
        members.setdefault(conversation_id, set()).add(participant_id)

    wanted_ids = {
        (conversations[r["external_id"]].pk, m["external_id"])
        for r in records
        for m in r["messages"]
    }
    existing: dict[int, dict[str, Message]] = {}
    if wanted_ids:
        for message in Message.objects.filter(
            conversation__in=[c.pk for c in conversations.values()],
            external_id__in={eid for _, eid in wanted_ids},
        ).only(
            "id",
            "conversation_id",
            "external_id",
            "sender_id",
            "text",
            "sent_at",
            "utc_offset_minutes",
        ):
            existing.setdefault(message.conversation_id, {})[message.external_id] = message

    new_links = []
    new_messages: list[tuple[Any, ...]] = []
    results = []
    touched: list[Conversation] = []
    restated: list[int] = []  # no new messages, but participants to score anew
    for record, path in zip(records, paths, strict=True):
        conversation = conversations[record["external_id"]]
        allowed = members.setdefault(conversation.pk, set())
        people = [participants[p["external_id"]] for p in record["participants"]]
        linked = len(new_links)
        for pk in people:
            if pk not in allowed:
                allowed.add(pk)
                new_links.append((conversation.pk, pk))
        added, unchanged = _messages_add(
            conversation=conversation,
            where=path,
            records=record["messages"],
            senders=participants,
            allowed_senders=allowed,
            existing=existing.get(conversation.pk, {}),
        )
        new_messages.extend(added)
        is_new = record["external_id"] in created
        if added or is_new:
            conversation.message_count += len(added)
            touched.append(conversation)
        elif conversation.status != ConversationStatus.REVIEWED and (
            len(new_links) > linked or rescore.intersection(people)
        ):
            # A decided conversation is not: the same words, decided on, would queue again.
            restated.append(conversation.pk)
        results.append(
            UpsertResult(
                conversation=conversation,
                created=is_new,
                messages_created=len(added),
                messages_unchanged=unchanged,
                participants=[p["external_id"] for p in record["participants"]],
            )
        )
    if new_links and connection.vendor == "postgresql":
        _insert_from_arrays(
            through,
            constants={},
            arrays={
                "conversation": ("bigint", [c for c, _ in new_links]),
                "participant": ("bigint", [p for _, p in new_links]),
            },
        )
    elif new_links:
        through.objects.bulk_create(
            [through(conversation_id=c, participant_id=p) for c, p in new_links],
            ignore_conflicts=True,
        )
    if new_messages:
        _messages_insert(new_messages)
    if touched:
        now = timezone.now()
        for conversation in touched:
            if conversation.status == ConversationStatus.REVIEWED:
                # New content after a decision is looked at again (it may re-enter the queue).
                conversation.status = ConversationStatus.SCORED
        _conversations_touch(touched, now=now)
    conversations_request_score(conversation_ids=[c.pk for c in touched] + restated)
    _elsewhere_request_score(
        tenant=tenant, participants=rescore, besides=[c.pk for c in conversations.values()]
    )
    logger.info(
        "ingest tenant=%s conversations=%d created=%d messages_created=%d",
        tenant.pk,
        len(results),
        sum(r.created for r in results),
        len(new_messages),
    )
    return results
