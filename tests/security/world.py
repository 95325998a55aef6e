"""A tenant with one of everything a URL can name, built through the real services, for the
attack suite (``test_url_rules.py``) and the stored-XSS crawl (``test_stored_xss.py``).

Each tenant has five members: the case author, second reviewer and appeal reviewer (alice at
Acme), another
moderator whose decisions are sampled for second review (bob), a supervisor (sam), an admin
(ada) and an auditor (audrey), who reads and changes nothing. ``ids`` holds the primary key
(or, for the API, the external id) of each kind of object a URL can carry; the rules table
names these keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rest_framework.test import APIClient

from review.appeals.services import appeal_claim_next, appeal_receive
from review.decisions.second_review import second_review_claim_next
from review.models import QueueItem, QueueStatus, Role, SecondReview, Tenant
from review.tenancy.services import api_key_create, api_key_revoke, invitation_send, tenant_create
from scoring.feedback import train_challenger
from scoring.models import ModelVersion
from scoring.seed import load_seed_messages
from scoring.services import model_version_register
from scoring.training import TrainResult
from tests.review.cases.test_case_lifecycle import escalate
from tests.review.supervision_support import decide, member, sample_every_decision
from tests.review_support import flagged_item

# The kinds of object a URL (or a POST field) can name; a rule says which kwarg holds which.
ITEM = "item"  # an open queue item
MESSAGE = "message"  # a message of that item's conversation
CASE = "case"  # an escalation case written by the tenant's first moderator
CONVERSATION = "conversation"  # a decided conversation (the supervisor's review page)
DECISION = "decision"  # the current decision on that conversation
SECOND_REVIEW = "second_review"  # a second review of that decision, leased to the author
MEMBERSHIP = "membership"  # the second moderator's membership
API_KEY = "api_key"  # an API key (its primary key)
MODEL_VERSION = "model_version"  # a model version of the tenant's own
EXTERNAL_ID = "external_id"  # a conversation's external id, as the API names it
SENT_INVITATION = "sent_invitation"  # the tenant's pending invitation of a newcomer
# A pending invitation to the tenant's first moderator from a partner tenant: what a
# signed-in person's own invitation pages (accept, decline) name.
INVITATION_TO_MODERATOR = "invitation_to_moderator"
PARTICIPANT = "participant"  # the reported account of the case's conversation
APPEAL = "appeal"  # an appeal of the sampled decision, leased to the first moderator
APPEAL_ID = "appeal_id"  # that appeal's id, as the platform names it in the API
KINDS = (
    ITEM,
    MESSAGE,
    CASE,
    CONVERSATION,
    DECISION,
    SECOND_REVIEW,
    MEMBERSHIP,
    API_KEY,
    MODEL_VERSION,
    EXTERNAL_ID,
    SENT_INVITATION,
    INVITATION_TO_MODERATOR,
    PARTICIPANT,
    APPEAL,
    APPEAL_ID,
)
# A moderator sees only the cases she wrote, and the participants of conversations she worked
# on; supervisors and admins see all (auditors every case).
AUTHOR_ONLY = frozenset({CASE, PARTICIPANT})


@dataclass
class TenantWorld:
    tenant: Tenant
    moderator: Any  # wrote the case, holds a second review
    other_moderator: Any  # decided the sampled conversation; not the case's author
    supervisor: Any
    admin: Any
    auditor: Any
    api_key: str  # the raw key, for the API's Authorization header
    revoked_key: str
    ids: dict[str, Any] = field(default_factory=dict)

    def user_for(self, role: str) -> Any:
        return {
            Role.MODERATOR: self.moderator,
            Role.SUPERVISOR: self.supervisor,
            Role.ADMIN: self.admin,
            Role.AUDITOR: self.auditor,
        }[Role(role)]

    def api(self, key: str | None = None) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key or self.api_key}")
        return client


@cache
def _engine(generated: int) -> TrainResult:
    """A small real engine, from every 40th seed line: seconds, where the full seed corpus
    takes a minute the first time. A different ``generated`` gives a different artifact."""
    return train_challenger(
        seed_messages=load_seed_messages()[::40], decisions=[], generated=generated, random_state=7
    )


def own_model_version(tenant: Tenant, generated: int, *, activate: bool = False) -> ModelVersion:
    result = _engine(generated)
    return model_version_register(
        engine=result.engine,
        metrics=result.metrics,
        data_fingerprint=result.data_fingerprint,
        training_source=f"a 40th of the seed corpus + {generated} generated, for {tenant.slug}",
        tenant=tenant,
        activate=activate,
    )


def api_conversation(slug: str, external_id: str, **fields: Any) -> dict[str, Any]:
    """A small valid ingest payload; ``fields`` override the top level."""
    return {
        "external_id": external_id,
        "platform": f"{slug}-chat",
        "participants": [
            {"external_id": "u-kid", "display_name": "Mia", "declared_age": 13},
            {"external_id": "u-adult", "display_name": "Jay"},
        ],
        "messages": [
            {
                "external_id": "m-1",
                "sender": "u-adult",
                "sent_at": "2026-11-01T18:00:00+01:00",
                "text": "hey how was school",
            }
        ],
        **fields,
    }


def tenant_world(
    *, name: str, slug: str, names: tuple[str, str, str, str, str], model_generated: int
) -> TenantWorld:
    """A tenant with its members and one object of each kind, made by the real services.

    ``names`` are the usernames of the moderator (case author), the other moderator, the
    supervisor, the admin and the auditor. Needs an otherwise empty queue (the helpers claim the
    next item).
    """
    tenant = tenant_create(name=name, slug=slug)
    author, decider, supervisor_name, admin_name, auditor_name = names
    moderator = member(tenant, author)
    other = member(tenant, decider)
    supervisor = member(tenant, supervisor_name, Role.SUPERVISOR)
    admin = member(tenant, admin_name, Role.ADMIN)
    auditor = member(tenant, auditor_name, Role.AUDITOR)
    sample_every_decision(tenant)

    case = escalate(tenant, moderator)  # the author's draft case (its decision is sampled too)
    decision = decide(tenant, other)  # a ban by the other moderator, sampled
    review = second_review_claim_next(tenant=tenant, reviewer=moderator)
    assert review is not None
    assert review.decision_id == decision.pk
    appeal = appeal_receive(
        tenant=tenant,
        decision_id=decision.pk,
        external_id=f"{slug}-appeal-1",
        statement="please look again",
        made_at=decision.created_at,
    ).appeal
    assert appeal_claim_next(tenant=tenant, reviewer=moderator) == appeal
    item = flagged_item(tenant, 1)  # an open item: the review page, reveal, decide
    message = item.conversation.messages.get(external_id="m2")  # the hidden media request

    sent = invitation_send(
        tenant=tenant, actor=admin, invitee=f"newcomer-{slug}", role=Role.MODERATOR
    )
    partner = tenant_create(name=f"{name} partner", slug=f"{slug}-partner")
    partner_admin = member(partner, f"{admin_name}-partner", Role.ADMIN)
    to_moderator = invitation_send(
        tenant=partner, actor=partner_admin, invitee=moderator.username, role=Role.MODERATOR
    )

    key, raw = api_key_create(tenant=tenant, name=f"{slug}-platform")
    old_key, revoked = api_key_create(tenant=tenant, name=f"{slug}-old")
    api_key_revoke(tenant=tenant, api_key_id=old_key.pk)
    world = TenantWorld(
        tenant=tenant,
        moderator=moderator,
        other_moderator=other,
        supervisor=supervisor,
        admin=admin,
        auditor=auditor,
        api_key=raw,
        revoked_key=revoked,
    )
    external_id = f"{slug}-chat-1"
    response = world.api().post(
        "/api/v1/conversations", api_conversation(slug, external_id), format="json"
    )
    assert response.status_code == 201, response.content
    world.ids = {
        ITEM: item.pk,
        MESSAGE: message.pk,
        CASE: case.pk,
        CONVERSATION: decision.conversation_id,
        DECISION: decision.pk,
        SECOND_REVIEW: review.pk,
        MEMBERSHIP: other.memberships.get(tenant=tenant).pk,
        API_KEY: key.pk,
        MODEL_VERSION: own_model_version(tenant, model_generated).pk,
        EXTERNAL_ID: external_id,
        SENT_INVITATION: sent.pk,
        INVITATION_TO_MODERATOR: to_moderator.pk,
        PARTICIPANT: case.reported_participant_id,
        APPEAL: appeal.pk,
        APPEAL_ID: appeal.external_id,
    }
    assert set(world.ids) == set(KINDS)
    assert QueueItem.objects.filter(pk=item.pk, status=QueueStatus.WAITING).exists()
    assert SecondReview.objects.filter(pk=review.pk, claimed_by=moderator).exists()
    return world
