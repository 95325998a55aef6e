"""Decision reads: decisions and their history, second reviews, the supervisor's inbox,
the agreement report and moderators' exposure. Every selector takes the tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, IntegerField, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from review.decisions.agreement import agreement_rate, cohen_kappa
from review.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    Conversation,
    Decision,
    Membership,
    Participant,
    QueueItem,
    SecondReview,
    SecondReviewStatus,
    Tenant,
    Verdict,
)
from review.queue.leases import SECOND_REVIEW, lease_free_q, lease_live_q
from review.tenancy.capabilities import Capability, member_can, roles_with


def decision_concerns(ranked: list[str], members: list[tuple[int, str, int | None]]) -> set[int]:
    """Whom a decision on a conversation concerns, among its participants (pk, platform id,
    declared age): the first of ``ranked`` (``Assessment.suspects_ranked``, as the case
    names the reported user) who is not declared under 18; nobody when the model held no
    adult responsible."""
    eligible = {external_id: pk for pk, external_id, age in members if age is None or age >= 18}
    return next(({eligible[e]} for e in ranked if e in eligible), set())


def verdicts_withheld(*, tenant: Tenant, membership: Membership) -> QuerySet[Conversation]:
    """The conversations whose decisions this member is not shown: those with a blind second
    review not yet done that she could be handed (she made no decision on the conversation),
    so that whoever takes it cannot have read the first verdict anywhere (the item page,
    the participant page, search, the earlier decisions beside another conversation). None
    for a member who reads every decision anyway (READ_DECISIONS: the decision log)."""
    if member_can(membership, Capability.READ_DECISIONS):
        return Conversation.objects.none()
    open_review = SecondReview.objects.filter(conversation=OuterRef("pk")).exclude(
        status=SecondReviewStatus.DONE
    )
    hers = Decision.objects.filter(conversation=OuterRef("pk"), moderator_id=membership.user_id)
    return (
        Conversation.objects.filter(tenant=tenant).filter(Exists(open_review)).exclude(Exists(hers))
    )


def decisions_about_participants(
    *,
    tenant: Tenant,
    membership: Membership,
    participants: list[Participant],
    exclude_conversation: Conversation,
) -> dict[int, list[Decision]]:
    """Earlier decisions on other conversations that concern these participants (see
    ``decision_concerns``), newest first, except those ``verdicts_withheld`` from the member:
    the child of an earlier conversation is never shown its decisions as if they were about
    her."""
    out: dict[int, list[Decision]] = {}
    through = Conversation.participants.through
    conversation_ids = set(
        through.objects.filter(participant__in=participants, conversation__tenant=tenant)
        .exclude(conversation=exclude_conversation)
        .exclude(conversation__in=verdicts_withheld(tenant=tenant, membership=membership))
        .values_list("conversation_id", flat=True)
    )
    decisions = list(
        Decision.objects.filter(tenant=tenant, conversation_id__in=conversation_ids)
        .select_related("queue_item__assessment")
        .order_by("-created_at")[:200]
    )
    members: dict[int, list[tuple[int, str, int | None]]] = {}
    links = through.objects.filter(
        conversation_id__in={d.conversation_id for d in decisions}
    ).values_list("conversation_id", "participant_id", "participant__external_id",
                  "participant__declared_age")  # fmt: skip
    for conversation_id, pk, external_id, age in links:
        members.setdefault(conversation_id, []).append((pk, external_id, age))
    shown = {p.pk for p in participants}
    for decision in decisions:
        ranked = decision.queue_item.assessment.suspects_ranked()
        for pk in decision_concerns(ranked, members[decision.conversation_id]) & shown:
            out.setdefault(pk, []).append(decision)
    return out


@dataclass(frozen=True)
class Exposure:
    items: int
    minutes: int
    highlighted_seen: int
    suggest_break: bool


def moderator_exposure(*, tenant: Tenant, moderator: object) -> Exposure:
    """Today's exposure: items decided, minutes since the first claim, highlighted messages
    on the conversations viewed. A break is suggested past ARTEMIS_BREAK_AFTER_MINUTES.
    One pass over the member's events of the day (index auditevent_actor)."""
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = AuditEvent.objects.filter(tenant=tenant, actor=moderator, created_at__gte=start)
    seen = Cast(KeyTextTransform("highlighted", "detail"), IntegerField())
    day = today.aggregate(
        first_claim=Min("created_at", filter=Q(action=AuditAction.CLAIM)),
        items=Count("pk", filter=Q(action__in=(AuditAction.DECISION, AuditAction.SECOND_REVIEW))),
        highlighted=Sum(seen, filter=Q(action=AuditAction.VIEW)),
    )
    first_claim = day["first_claim"]
    minutes = int((timezone.now() - first_claim).total_seconds() // 60) if first_claim else 0
    return Exposure(
        items=day["items"],
        minutes=minutes,
        highlighted_seen=day["highlighted"] or 0,
        suggest_break=minutes >= settings.ARTEMIS_BREAK_AFTER_MINUTES,
    )


def decision_list(
    *,
    tenant: Tenant,
    verdict: str = "",
    moderator: str = "",
    conversation: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[Decision]:
    """The decision log, newest first: each filter given narrows it (``conversation`` is the
    platform's id; decided in [``start``, ``end``))."""
    decisions = Decision.objects.filter(tenant=tenant)
    if verdict:
        decisions = decisions.filter(verdict=verdict)
    if moderator:
        decisions = decisions.filter(moderator__username=moderator)
    if conversation:
        decisions = decisions.filter(conversation__external_id=conversation)
    if start is not None:
        decisions = decisions.filter(created_at__gte=start)
    if end is not None:
        decisions = decisions.filter(created_at__lt=end)
    return decisions.select_related("moderator", "conversation", "supersedes").order_by(
        "-created_at"
    )


def second_review_get(*, tenant: Tenant, pk: int) -> SecondReview:
    """Raises SecondReview.DoesNotExist for an unknown id and for another tenant's."""
    return (
        SecondReview.objects.filter(tenant=tenant)
        .select_related("decision", "decision__queue_item", "conversation", "claimed_by")
        .get(pk=pk)
    )


def second_review_waiting_for(*, tenant: Tenant, reviewer: object) -> int:
    """How many second reviews this member could take now (none of their own conversations)."""
    decided_by_reviewer = Decision.objects.filter(
        tenant=tenant, conversation=OuterRef("conversation"), moderator=reviewer
    )
    return (
        SecondReview.objects.filter(tenant=tenant)
        .filter(lease_free_q(SECOND_REVIEW))
        .exclude(Exists(decided_by_reviewer))
        .count()
    )


def second_review_held(*, tenant: Tenant, reviewer: object) -> SecondReview | None:
    return (
        SecondReview.objects.filter(tenant=tenant, claimed_by=reviewer)
        .filter(lease_live_q(SECOND_REVIEW))
        .order_by("lease_expires_at")
        .first()
    )


def second_reviews_done_by(
    *, tenant: Tenant, reviewer: object, limit: int = 20
) -> list[SecondReview]:
    """The member's own recent second reviews: their verdicts only, not the first ones."""
    return list(
        SecondReview.objects.filter(
            tenant=tenant, reviewer=reviewer, status=SecondReviewStatus.DONE
        )
        .select_related("conversation")
        .only("pk", "verdict", "reason_code", "completed_at", "conversation__external_id")
        .order_by("-completed_at")[:limit]
    )


def assessment_as_of(
    *, tenant: Tenant, conversation: Conversation, at: datetime
) -> Assessment | None:
    """The latest scoring at ``at``: what a moderator deciding then was shown."""
    return (
        Assessment.objects.filter(
            conversation__tenant=tenant, conversation=conversation, scored_at__lte=at
        )
        .order_by("-scored_at", "-pk")
        .first()
    )


def decision_current(*, tenant: Tenant, conversation: Conversation) -> Decision | None:
    """The conversation's decision that nothing supersedes (decisions form one chain)."""
    return (
        Decision.objects.filter(
            tenant=tenant, conversation=conversation, superseded_by__isnull=True
        )
        .select_related("moderator", "queue_item")
        .order_by("-created_at", "-pk")
        .first()
    )


def decision_of_item(*, tenant: Tenant, item: QueueItem) -> Decision | None:
    """The decision a moderator made on ``item`` (the latest, should there be several)."""
    return (
        Decision.objects.filter(tenant=tenant, queue_item=item)
        .select_related("moderator")
        .order_by("-created_at", "-pk")
        .first()
    )


def decision_history(*, tenant: Tenant, conversation: Conversation) -> list[Decision]:
    """Every decision on the conversation, oldest first, with its second review if any."""
    decisions = list(
        Decision.objects.filter(tenant=tenant, conversation=conversation)
        .select_related("moderator")
        .order_by("created_at", "pk")
    )
    reviews = {
        r.decision_id: r
        for r in SecondReview.objects.filter(tenant=tenant, decision__in=decisions).select_related(
            "reviewer", "resolved_by"
        )
    }
    for d in decisions:
        d.review = reviews.get(d.pk)  # type: ignore[attr-defined]
    return decisions


def question_list(*, tenant: Tenant) -> QuerySet[Decision]:
    """Conversations waiting for a supervisor's answer: the latest decision asks for one."""
    return (
        Decision.objects.filter(
            tenant=tenant, verdict=Verdict.ASK_SUPERVISOR, superseded_by__isnull=True
        )
        .select_related("moderator", "conversation")
        .order_by("created_at", "pk")
    )


def disagreement_list(*, tenant: Tenant) -> QuerySet[SecondReview]:
    """Second reviews that disagreed with the decision and no supervisor has answered."""
    return (
        SecondReview.objects.filter(tenant=tenant, agrees=False, resolved_at__isnull=True)
        .select_related("decision", "decision__moderator", "reviewer", "conversation")
        .order_by("completed_at", "pk")
    )


def conversation_for_supervisor(*, tenant: Tenant, pk: int) -> Conversation:
    """Raises Conversation.DoesNotExist for an unknown id, another tenant's, or one nobody
    has decided on yet (there is nothing for a supervisor to supersede)."""
    return Conversation.objects.filter(tenant=tenant, decisions__isnull=False).distinct().get(pk=pk)


@dataclass(frozen=True)
class SupervisionCounts:
    questions: int
    disagreements: int
    second_reviews_waiting: int


def supervision_counts(*, tenant: Tenant) -> SupervisionCounts:
    return SupervisionCounts(
        questions=question_list(tenant=tenant).count(),
        disagreements=disagreement_list(tenant=tenant).count(),
        second_reviews_waiting=SecondReview.objects.filter(
            tenant=tenant,
            status__in=(SecondReviewStatus.WAITING, SecondReviewStatus.CLAIMED),
        ).count(),
    )


@dataclass(frozen=True)
class ModeratorAgreement:
    user_id: int
    username: str
    role: str
    decisions: int  # decisions they made in the period, every verdict
    questions: int  # of which "ask a supervisor"
    reviews_done: int  # blind second reviews they did of others' decisions
    reviewed: int  # their decisions that a second review has judged
    agreed: int  # ... and the second reviewer chose the same verdict
    agreement: float | None
    kappa: float | None
    overturned: int  # their decisions superseded by someone else with another verdict
    overturn_rate: float | None  # overturned / (decisions - questions)


@dataclass(frozen=True)
class AgreementReport:
    start: datetime | None
    end: datetime | None
    rows: list[ModeratorAgreement]
    total: ModeratorAgreement
    waiting: int
    open_disagreements: int


def _row(
    *,
    user_id: int,
    username: str,
    role: str,
    counts: dict[str, int],
    pairs: list[tuple[str, str]],
    reviews_done: int,
) -> ModeratorAgreement:
    decisions, questions = counts.get("decisions", 0), counts.get("questions", 0)
    judged = decisions - questions
    return ModeratorAgreement(
        user_id=user_id,
        username=username,
        role=role,
        decisions=decisions,
        questions=questions,
        reviews_done=reviews_done,
        reviewed=len(pairs),
        agreed=sum(a == b for a, b in pairs),
        agreement=agreement_rate(pairs),
        kappa=cohen_kappa(pairs),
        overturned=counts.get("overturned", 0),
        overturn_rate=counts.get("overturned", 0) / judged if judged else None,
    )


def agreement_report(
    *, tenant: Tenant, start: datetime | None = None, end: datetime | None = None
) -> AgreementReport:
    """Per member: decisions, second reviews, agreement, Cohen's kappa and overturn rate
    for the decisions made in [start, end) (second reviews done: completed in it)."""
    period = Q()
    if start is not None:
        period &= Q(created_at__gte=start)
    if end is not None:
        period &= Q(created_at__lt=end)
    ask = Verdict.ASK_SUPERVISOR
    decisions = (
        Decision.objects.filter(period, tenant=tenant)
        # The decision that directly superseded this one (a LEFT JOIN: one or none).
        .annotate(next_by=F("superseded_by__moderator"), next_verdict=F("superseded_by__verdict"))
        .values("moderator_id")
        .annotate(
            decisions=Count("pk"),
            questions=Count("pk", filter=Q(verdict=ask)),
            overturned=Count(
                "pk",
                filter=Q(next_by__isnull=False)
                & ~Q(verdict=ask)
                & ~Q(next_by=F("moderator_id"))
                & ~Q(next_verdict=F("verdict")),
            ),
        )
        .order_by()
    )
    counts = {row.pop("moderator_id"): row for row in decisions}

    pair_period = Q()
    if start is not None:
        pair_period &= Q(decision__created_at__gte=start)
    if end is not None:
        pair_period &= Q(decision__created_at__lt=end)
    pairs: dict[int, list[tuple[str, str]]] = {}
    for moderator_id, first, second in SecondReview.objects.filter(
        pair_period, tenant=tenant, status=SecondReviewStatus.DONE
    ).values_list("decision__moderator_id", "decision__verdict", "verdict"):
        pairs.setdefault(moderator_id, []).append((first, second))

    done_period = Q()
    if start is not None:
        done_period &= Q(completed_at__gte=start)
    if end is not None:
        done_period &= Q(completed_at__lt=end)
    done = dict(
        SecondReview.objects.filter(done_period, tenant=tenant, status=SecondReviewStatus.DONE)
        .values("reviewer_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("reviewer_id", "n")
    )

    history = set(counts) | set(pairs) | set(done)
    # Members who review, and anyone with a history here (an auditor who never reviewed is
    # left out: a row of zeros says nothing).
    reviewers = Q(role__in=roles_with(Capability.DECIDE)) | Q(user_id__in=history)
    people: dict[int, tuple[str, str]] = {
        m.user_id: (m.user.get_username(), m.get_role_display())
        for m in Membership.objects.filter(reviewers, tenant=tenant).select_related("user")
    }
    # Former members keep their history on the report.
    missing = history - set(people)
    for user in get_user_model().objects.filter(pk__in=missing):
        people[user.pk] = (user.get_username(), "former member")
    rows = [
        _row(
            user_id=user_id,
            username=username,
            role=role,
            counts=counts.get(user_id, {}),
            pairs=pairs.get(user_id, []),
            reviews_done=done.get(user_id, 0),
        )
        for user_id, (username, role) in sorted(people.items(), key=lambda kv: kv[1][0])
    ]
    totals = {
        key: sum(c.get(key, 0) for c in counts.values())
        for key in ("decisions", "questions", "overturned")
    }
    total = _row(
        user_id=0,
        username="everyone",
        role="",
        counts=totals,
        pairs=[p for ps in pairs.values() for p in ps],
        reviews_done=sum(done.values()),
    )
    waiting = SecondReview.objects.filter(
        tenant=tenant, status__in=(SecondReviewStatus.WAITING, SecondReviewStatus.CLAIMED)
    ).count()
    return AgreementReport(
        start=start,
        end=end,
        rows=rows,
        total=total,
        waiting=waiting,
        open_disagreements=disagreement_list(tenant=tenant).count(),
    )


def decision_get(*, tenant: Tenant, pk: int) -> Decision:
    """Raises Decision.DoesNotExist for an unknown id and for another tenant's."""
    return Decision.objects.filter(tenant=tenant).select_related("conversation").get(pk=pk)


@dataclass(frozen=True)
class MemberExposure:
    username: str
    role: str
    exposure: Exposure


def team_exposure(*, tenant: Tenant) -> list[MemberExposure]:
    """Today's exposure of every member who reviews (a handful of queries each)."""
    return [
        MemberExposure(
            username=m.user.get_username(),
            role=m.get_role_display(),
            exposure=moderator_exposure(tenant=tenant, moderator=m.user),
        )
        for m in Membership.objects.filter(tenant=tenant, role__in=roles_with(Capability.DECIDE))
        .select_related("user")
        .order_by("user__username")
    ]
