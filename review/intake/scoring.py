"""The bridge between the ORM and the scoring engine: rows to engine inputs, scores back to
assessments and the queue.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from review.bulk import rows_insert, rows_update
from review.models import (
    Assessment,
    Conversation,
    ConversationStatus,
    Message,
    Participant,
    ScoringState,
)
from review.outbound.outbox import outbox_add
from review.queue.services import queue_items_offer
from review.tenancy.services import tenants_lock_policy
from scoring import services as scoring_services
from scoring import types as st

if TYPE_CHECKING:
    from scoring.engine import Engine

logger = logging.getLogger("artemis.scoring")

# Conversation ids per task: big enough to keep broker round trips off the ingest path,
# small enough that several workers share a large batch.
TASK_CHUNK = 25
# Transient: the database went away or is locked for a moment; the task retries the chunk.
# Anything else is a bug in one conversation, which must not hold back the others.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def _enqueue(conversation_ids: Sequence[int]) -> None:
    """Owe the scoring tasks through the outbox, in the caller's transaction: they are sent
    once it commits (a worker must never look for rows that are not visible yet), or by the
    outbox sweep if the broker is down then."""
    from review.tasks import score_conversations  # tasks import services, not the reverse

    ids = list(conversation_ids)
    outbox_add(
        task=score_conversations,
        calls=[[ids[start : start + TASK_CHUNK]] for start in range(0, len(ids), TASK_CHUNK)],
    )


def conversations_request_score(*, conversation_ids: Sequence[int]) -> None:
    """Record that these conversations owe a score, and owe the scoring task for those that
    have none waiting. Call inside the caller's transaction.

    A conversation whose task is still queued (score_enqueued_at set) gets no second one: that
    task has not read the messages yet, so it covers this content too. A worker clears the
    mark as it starts (conversation_score's claim), so content after the claim is sent again.
    """
    if not conversation_ids:
        return
    now = timezone.now()
    owed = Conversation.objects.filter(pk__in=conversation_ids)
    # The update locks the rows until commit; on PostgreSQL a worker's claim of one of them
    # waits for it, so the select below sees either the claim or a task still waiting.
    owed.update(score_requested_at=now)
    unsent = list(
        owed.filter(score_enqueued_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    if unsent:
        Conversation.objects.filter(pk__in=unsent).update(score_enqueued_at=now)
        _enqueue(unsent)


def conversations_request_score_apart(*, conversation_ids: Sequence[int]) -> int:
    """``conversations_request_score`` for conversations no request holds, in a transaction of
    its own (a worker's: ``review.tasks.request_scores``): those not decided since, locked in
    pk order as ingest and the scoring claim lock them. Returns how many were owed a score."""
    with transaction.atomic():
        open_ones = list(
            Conversation.objects.filter(pk__in=list(conversation_ids))
            .exclude(status=ConversationStatus.REVIEWED)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        conversations_request_score(conversation_ids=open_ones)
    return len(open_ones)


def content_fingerprint(
    *,
    messages: Sequence[Message | _Row],
    participants: Sequence[st.Participant],
    model_version: str,
) -> str:
    """SHA-256 over everything the score depends on: the model, the participants' declared
    facts and each message. Unchanged fingerprint, unchanged score: nothing is written."""
    digest = hashlib.sha256(model_version.encode())
    for p in sorted(participants, key=lambda p: p.external_id):
        digest.update(f"\x1ep|{p.external_id}|{p.declared_age}|{p.account_created_at}".encode())
    for m in messages:
        digest.update(
            f"\x1em|{m.external_id}|{m.sender_id}|{m.sent_at.isoformat()}|{m.utc_offset_minutes}|".encode()
        )
        digest.update(m.text.encode())
    return digest.hexdigest()


# What scoring reads of a participant (engine_participant).
_PARTICIPANT_FIELDS = ("external_id", "declared_age", "account_created_at")


@dataclass(slots=True)
class _Row:
    """What scoring reads of a message, as a plain row: a chunk reads thousands, and a model
    instance each (with its field converters) cost more than scoring them."""

    pk: int
    external_id: str
    sender_id: int
    sent_at: dt.datetime
    utc_offset_minutes: int
    text: str
    stored: str | None  # the stored message score, as JSON text (decoded by _prepare)
    scored_by: str
    sender: Participant | None = None
    score: dict[str, Any] | None = None  # a new message score, to write


# The columns of a _Row, in order; the score as text, which orjson decodes several times
# faster than the JSON field's own decoding.
_ROW_COLUMNS = ("pk", "external_id", "sender_id", "sent_at", "utc_offset_minutes", "text",
                "stored", "scored_by")  # fmt: skip


@dataclass(frozen=True)
class Scored:
    """What ``conversations_score`` did: the new assessments by conversation id (none for a
    conversation whose content had not changed, or that was deleted), and the conversations
    that failed, with their exception (never logged whole: its message may quote chat)."""

    assessments: dict[int, Assessment] = field(default_factory=dict)
    failed: dict[int, Exception] = field(default_factory=dict)


@dataclass
class _Scoring:
    """One conversation between its read and its write."""

    conversation: Conversation
    requested_at: dt.datetime | None
    fingerprint: str = ""
    engine: Engine | None = None
    messages: list[_Row] = field(default_factory=list)
    participants: list[st.Participant] = field(default_factory=list)
    # The message scores to score with, None where a message has none yet; None for the
    # whole list when the content is unchanged (nothing to score or write).
    cached: list[st.MessageScore | None] | None = None
    fresh: list[_Row] = field(default_factory=list)  # the messages scored in this run
    # Where the last scoring left off (ScoringState), if it fits these messages.
    prior: st.WindowState | None = None
    result: st.ConversationScore | None = None


def conversation_score(*, conversation_id: int) -> Assessment | None:
    """Score one conversation with its tenant's active model (``conversations_score`` for
    one id); its exception, if it fails, is raised. Returns the new assessment, or None when
    nothing changed."""
    scored = conversations_score(conversation_ids=[conversation_id])
    if conversation_id in scored.failed:
        raise scored.failed[conversation_id]
    return scored.assessments.get(conversation_id)


def conversations_score(*, conversation_ids: Sequence[int]) -> Scored:
    """Score conversations with their tenants' active models, in a fixed number of queries
    however many there are (a task's chunk): a worker spends its time scoring, not on round
    trips to the database.

    Idempotent: a conversation whose content fingerprint matches its latest assessment gets
    nothing new. Each score request is cleared only if it is still the one this run started
    from, so messages that arrive while the model runs get a score of their own. One bad
    conversation does not hold back the others: it is left owed and reported in ``failed``.
    A database error is raised (the task retries the chunk; what was written is then found
    unchanged)."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return Scored()
    _claim(ids)
    conversations = list(
        Conversation.objects.filter(pk__in=ids)
        .select_related("tenant")
        .annotate(latest_fingerprint=_latest_fingerprint())
        .order_by("pk")
    )
    for missing in sorted(set(ids) - {c.pk for c in conversations}):
        logger.info("score skipped conversation=%s: deleted", missing)
    found = [c.pk for c in conversations]
    members: dict[int, list[Participant]] = defaultdict(list)
    people: dict[int, Participant] = {}
    for link in (
        Conversation.participants.through.objects.filter(conversation_id__in=found)
        .select_related("participant")
        .only("conversation_id", *(f"participant__{name}" for name in _PARTICIPANT_FIELDS))
    ):
        members[link.conversation_id].append(
            people.setdefault(link.participant_id, link.participant)
        )
    # Only the fields scoring reads, as plain rows, and each sender from the participants
    # above (a participant's account data, three JSON documents, would otherwise be decoded
    # once per message).
    messages: dict[int, list[_Row]] = defaultdict(list)
    for conversation_id, *values in (
        Message.objects.filter(conversation_id__in=found)
        .order_by("conversation_id", "position")
        .annotate(stored=Cast("score", TextField()))
        .values_list("conversation_id", *_ROW_COLUMNS)
    ):
        messages[conversation_id].append(_Row(*values))
    every = [m for conversation_messages in messages.values() for m in conversation_messages]
    unlisted = {m.sender_id for m in every} - people.keys()
    if unlisted:  # a sender ingest did not list as a participant: not expected, but read
        people.update(
            (p.pk, p)
            for p in Participant.objects.filter(pk__in=unlisted).only(*_PARTICIPANT_FIELDS)
        )
    for message in every:
        message.sender = people[message.sender_id]
    states = {s.conversation_id: s for s in ScoringState.objects.filter(conversation_id__in=found)}

    scored = Scored()
    engines: dict[int, Engine] = {}
    scorings: list[_Scoring] = []
    for conversation in conversations:
        scoring = _Scoring(conversation, conversation.score_requested_at)
        try:
            _prepare(
                scoring,
                messages[conversation.pk],
                members[conversation.pk],
                engines,
                states.get(conversation.pk),
            )
        except DatabaseError:
            raise
        except Exception as exc:
            scored.failed[conversation.pk] = exc
            continue
        scorings.append(scoring)
    _score_new_messages([s for s in scorings if s.cached is not None])
    for scoring in scorings:
        if scoring.cached is None:
            continue
        try:
            _run(scoring)
        except Exception as exc:
            scored.failed[scoring.conversation.pk] = exc
    scorings = [s for s in scorings if s.conversation.pk not in scored.failed]
    if not scorings:
        return scored
    try:
        with transaction.atomic():
            scored.assessments.update(_write(scorings))
    except TRANSIENT:
        raise
    except Exception as exc:
        if len(scorings) == 1:
            scored.failed[scorings[0].conversation.pk] = exc
            return scored
        # Something in one conversation's write (a bug): write each on its own, so only
        # the bad one is left owed.
        for scoring in scorings:
            try:
                with transaction.atomic():
                    scored.assessments.update(_write([scoring]))
            except TRANSIENT:
                raise
            except Exception as exc:
                scored.failed[scoring.conversation.pk] = exc
    return scored


def _prepare(
    scoring: _Scoring,
    messages: list[_Row],
    members: list[Participant],
    engines: dict[int, Engine],
    state: ScoringState | None = None,
) -> None:
    """Fingerprint one conversation and, if its content changed, gather the message scores
    its tenant's engine has already cached (``scoring.cached``, None where a message needs
    one) and where the last scoring left off (``scoring.prior``), if it still fits."""
    conversation = scoring.conversation
    engine = engines.get(conversation.tenant_id)
    if engine is None:
        engine = engines[conversation.tenant_id] = scoring_services.engine_for_tenant(
            tenant=conversation.tenant
        )
    people = {m.sender for m in messages} | set(members)
    scoring.participants = [engine_participant(p) for p in people]
    scoring.engine = engine
    scoring.messages = messages
    scoring.fingerprint = content_fingerprint(
        messages=messages, participants=scoring.participants, model_version=engine.version
    )
    if conversation.latest_fingerprint == scoring.fingerprint:
        return
    scoring.cached = [
        st.MessageScore.from_dict(orjson.loads(m.stored))
        if m.stored and m.scored_by == engine.version
        else None
        for m in messages
    ]
    scoring.fresh = [m for m, c in zip(messages, scoring.cached, strict=True) if c is None]
    scoring.prior = _prior(state, messages)


def _prior(state: ScoringState | None, messages: list[_Row]) -> st.WindowState | None:
    """The stored window state, if it was made from the first messages here: the same
    message rows in the same order (the engine checks the rest: its own version, and the
    last covered messages' scores)."""
    if state is None:
        return None
    try:
        prior = st.WindowState.from_dict(state.state)
    except (KeyError, TypeError, ValueError):
        logger.warning("scoring state unreadable conversation=%s", state.conversation_id)
        return None
    if prior.count > len(messages) or messages_digest(messages[: prior.count]) != (
        state.messages_digest
    ):
        return None
    return prior


def messages_digest(messages: Sequence[Message | _Row]) -> str:
    """SHA-256 of the message rows' ids, in order (a message is never overwritten, so its
    row id stands for its content)."""
    return hashlib.sha256(",".join(str(m.pk) for m in messages).encode()).hexdigest()


def _as_stored(score: st.MessageScore) -> st.MessageScore:
    """A new message score as it will read back from the database (``to_dict`` rounds):
    the conversation is scored with the same values a later rescore reads, so the window
    state made now fits it."""
    return st.MessageScore.from_dict(score.to_dict())


def _score_new_messages(scorings: list[_Scoring]) -> None:
    """Run the message model once per engine over the chunk's new messages, rather than
    once per conversation: its cost is mostly per call, and a message's score depends on
    its text alone. If that fails, each conversation scores its own (in ``_run``), so only
    the one with the bad message fails."""
    by_engine: dict[str, list[tuple[_Scoring, int]]] = defaultdict(list)
    for scoring in scorings:
        assert scoring.engine is not None
        assert scoring.cached is not None
        by_engine[scoring.engine.version] += [
            (scoring, i) for i, c in enumerate(scoring.cached) if c is None
        ]
    for todo in by_engine.values():
        if not todo:
            continue
        engine = todo[0][0].engine
        assert engine is not None
        try:
            fresh = engine.score_messages([s.messages[i].text for s, i in todo])
        except Exception as exc:
            # Class name only: an exception message could quote chat text.
            logger.warning("chunk message scoring failed error=%s", type(exc).__name__)
            continue
        for (scoring, i), score in zip(todo, fresh, strict=True):
            scoring.cached[i] = _as_stored(score)  # type: ignore[index]


def _run(scoring: _Scoring) -> None:
    """Score the conversation with the message scores gathered; keep the new ones to write."""
    assert scoring.engine is not None
    assert scoring.cached is not None
    engine = scoring.engine
    cached = scoring.cached
    missing = [i for i, c in enumerate(cached) if c is None]  # the chunk's call failed
    if missing:
        scores = engine.score_messages([scoring.messages[i].text for i in missing])
        for i, score in zip(missing, scores, strict=True):
            cached[i] = _as_stored(score)
    messages = [engine_message(m) for m in scoring.messages]
    try:
        scoring.result = engine.score_conversation(
            scoring.participants, messages, cached, prior=scoring.prior
        )
    except ValueError:
        if scoring.prior is None:
            raise
        # The stored state does not fit (the engine names how; not logged, as its detail
        # is about messages): read the conversation whole.
        logger.warning(
            "scoring state did not fit conversation=%s; read whole", scoring.conversation.pk
        )
        scoring.result = engine.score_conversation(scoring.participants, messages, cached)
    new = {id(m) for m in scoring.fresh}
    for message, score in zip(scoring.messages, scoring.result.message_scores, strict=True):
        if id(message) in new:
            message.score = score.to_dict()
            message.scored_by = engine.version


def _write(scorings: list[_Scoring]) -> dict[int, Assessment]:
    """Write what the engine found, in the caller's transaction. Returns the new assessments
    by conversation id."""
    changed = [s for s in scorings if s.result is not None]
    # The tenants' policies first, shared: the queue decision below uses the thresholds in
    # force at commit (a policy change waits for this transaction, or it for the change),
    # and always locking tenants before conversations, as a policy change does, leaves no
    # lock cycle. Scorings of one tenant hold it together.
    tenants = tenants_lock_policy(tenant_ids=[s.conversation.tenant_id for s in changed])
    # Then every conversation in pk order, in one statement, as ingest locks them.
    locked = {
        c.pk: c
        for c in Conversation.objects.select_for_update(of=("self",))
        .filter(pk__in=[s.conversation.pk for s in scorings])
        .order_by("pk")
    }
    # Re-read under the row locks (a statement of its own, so it sees what committed while
    # it waited): another worker may have scored the same content.
    latest = (
        dict(
            Conversation.objects.filter(pk__in=[s.conversation.pk for s in changed])
            .annotate(latest_fingerprint=_latest_fingerprint())
            .values_list("pk", "latest_fingerprint")
        )
        if changed
        else {}
    )
    now = timezone.now()
    writes: list[tuple[_Scoring, Conversation, Assessment]] = []
    for scoring in scorings:
        conversation = locked.get(scoring.conversation.pk)
        if conversation is None:  # deleted while the engine ran
            continue
        if scoring.result is None or latest.get(conversation.pk) == scoring.fingerprint:
            continue
        conversation.tenant = tenants[conversation.tenant_id]
        result = scoring.result
        assert scoring.engine is not None
        assessment = Assessment(
            conversation=conversation,
            model_version=scoring.engine.version,
            probability=result.probability,
            characteristic_scores={k: round(v, 4) for k, v in result.characteristic_scores.items()},
            highlights=[h.to_dict() for h in result.highlights],
            factors=list(result.factors),
            suspect_scores={k: round(v, 4) for k, v in result.suspect_scores.items()},
            responsibility={k: round(v, 4) for k, v in result.responsibility.items()},
            message_count=len(scoring.messages),
            content_fingerprint=scoring.fingerprint,
            scored_at=now,
        )
        writes.append((scoring, conversation, assessment))
    _message_scores_write([m for scoring, _, _ in writes for m in scoring.fresh])
    rows_insert([assessment for _, _, assessment in writes])
    _states_write([scoring for scoring, _, _ in writes])
    was = {conversation.pk: conversation.status for _, conversation, _ in writes}
    for _, conversation, _ in writes:
        if conversation.status == ConversationStatus.PENDING:
            conversation.status = ConversationStatus.SCORED
    queue_items_offer(offers=[(conversation, assessment) for _, conversation, assessment in writes])
    by_status: dict[str, list[int]] = defaultdict(list)
    for _, conversation, _ in writes:
        if conversation.status != was[conversation.pk]:
            by_status[conversation.status].append(conversation.pk)
    for status, pks in sorted(by_status.items()):
        Conversation.objects.filter(pk__in=pks).update(status=status)
    _clear_requests(
        [(s.conversation.pk, s.requested_at) for s in scorings if s.conversation.pk in locked]
    )
    for scoring, conversation, assessment in writes:
        logger.info(
            "scored conversation=%s model=%s messages=%d new=%d probability=%.3f status=%s",
            conversation.pk,
            assessment.model_version,
            len(scoring.messages),
            len(scoring.fresh),
            assessment.probability,
            conversation.status,
        )
    return {conversation.pk: assessment for _, conversation, assessment in writes}


def _states_write(scorings: list[_Scoring]) -> None:
    """Keep where each scoring left off, for the next rescore to continue from."""
    rows, unstorable = [], []
    for scoring in scorings:
        assert scoring.result is not None
        made = scoring.result.window_state
        state = None if made is None else made.to_dict()
        try:
            json.dumps(state, allow_nan=False)  # a NaN score: no JSON column holds it
        except ValueError:
            state = None
        if state is None:
            unstorable.append(scoring.conversation.pk)
            continue
        rows.append(
            ScoringState(
                conversation_id=scoring.conversation.pk,
                state=state,
                messages_digest=messages_digest(scoring.messages),
            )
        )
    if unstorable:  # the next rescore reads these whole
        ScoringState.objects.filter(conversation_id__in=unstorable).delete()
    rows_insert(rows, unique_field="conversation", update_fields=["state", "messages_digest"])


def _latest_fingerprint() -> Subquery:
    return Subquery(
        Assessment.objects.filter(conversation=OuterRef("pk"))
        .order_by("-scored_at", "-pk")
        .values("content_fingerprint")[:1]
    )


def _claim(conversation_ids: list[int]) -> None:
    """Start scoring: no task is waiting for these conversations any more, so content that
    arrives from now on owes a new one. Committed before the messages are read; content that
    arrived before it is read by this run. The rows are locked in pk order, as ingest locks
    them, so a claim and a post never wait on each other in a cycle."""
    in_order = (
        Conversation.objects.filter(pk__in=conversation_ids)
        .order_by("pk")
        .select_for_update()
        .values("pk")
    )
    with transaction.atomic():
        Conversation.objects.filter(pk__in=Subquery(in_order)).update(
            score_enqueued_at=None, score_claimed_at=timezone.now()
        )


def _clear_requests(requests: list[tuple[int, dt.datetime | None]]) -> None:
    """Clear each conversation's score request if it is still the one the run started from,
    in one statement. Call holding their row locks."""
    # score_enqueued_at is left alone: if it is set, a task was sent after the claim (by the
    # sweep) and is still waiting; it finds nothing new and clears it when it starts.
    if not requests:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Conversation._meta.db_table} AS c"  # noqa: S608 (the model's table)
                " SET score_requested_at = NULL, last_scored_at = %s"
                " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, requested_at)"
                " WHERE c.id = v.id AND c.score_requested_at IS NOT DISTINCT FROM v.requested_at",
                [now, [pk for pk, _ in requests], [at for _, at in requests]],
            )
        return
    # Elsewhere one condition per request time (a batch POST gives its conversations one).
    by_time: dict[dt.datetime | None, list[int]] = defaultdict(list)
    for pk, requested_at in requests:
        by_time[requested_at].append(pk)
    unchanged = Q()
    for requested_at, pks in by_time.items():
        unchanged |= Q(pk__in=pks, score_requested_at=requested_at)
    Conversation.objects.filter(unchanged).update(score_requested_at=None, last_scored_at=now)


def _message_scores_write(messages: list[_Row]) -> None:
    """Write the new message scores, in one statement (``rows_update``)."""
    rows_update(
        [Message(pk=m.pk, score=m.score, scored_by=m.scored_by) for m in messages],
        ["score", "scored_by"],
    )


def conversations_sweep_unscored(*, limit: int = 5000) -> int:
    """Re-send scoring for conversations whose request has gone unanswered for a while
    (a worker died, the broker lost a message). System-wide on purpose: it runs as the
    platform, not on behalf of a tenant, and reads ids only. Returns how many it re-sent."""
    cutoff = timezone.now() - timedelta(seconds=settings.ARTEMIS_RESCORE_AFTER_SECONDS)
    # Sent long ago and still not started; or started (claimed) long ago and never answered;
    # or owed with no task sent at all.
    ids = list(
        Conversation.objects.filter(score_requested_at__isnull=False)
        .filter(
            Q(score_enqueued_at__lt=cutoff)
            | Q(
                score_enqueued_at__isnull=True,
                score_claimed_at__isnull=True,
            )
            | Q(score_enqueued_at__isnull=True, score_claimed_at__lt=cutoff)
        )
        .order_by("score_requested_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        with transaction.atomic():
            Conversation.objects.filter(pk__in=ids).update(score_enqueued_at=timezone.now())
            _enqueue(ids)
        logger.warning("sweep re-sent scoring for %d conversations", len(ids))
    return len(ids)


def engine_participant(participant: Participant) -> st.Participant:
    return st.Participant(
        external_id=participant.external_id,
        declared_age=participant.declared_age,
        account_created_at=participant.account_created_at,
    )


def engine_message(message: Message | _Row) -> st.Message:
    assert message.sender is not None
    return st.Message(
        external_id=message.external_id,
        sender=message.sender.external_id,
        # The sender's own clock: time-of-day features and factors read local time.
        sent_at=message.sent_at.astimezone(_clock(message.utc_offset_minutes)),
        text=message.text,
    )


@functools.cache
def _clock(offset_minutes: int) -> dt.timezone:
    """The fixed-offset time zone of a sender's clock (a few dozen exist)."""
    return dt.timezone(dt.timedelta(minutes=offset_minutes))
