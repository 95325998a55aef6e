"""Finding and opening anything in a real browser (headless Chromium): sam the supervisor
types a participant's id in the header's search box, opens the participant page, and
follows its link to one of the account's conversations. Saves a screenshot of the
participant page in artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import AuditAction, AuditEvent, Participant, Role, Tenant
from tests.browser.support import sign_in
from tests.browser.test_moderator_flow import ARTIFACTS, page  # noqa: F401 - the fixture
from tests.factories import MembershipFactory
from tests.review.supervision_support import decide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sam_searches_a_participant_opens_their_page_and_follows_a_conversation(
    live_server: Any,
    page: Any,  # noqa: F811 - the fixture imported above
    acme: Tenant,
) -> None:
    alice = MembershipFactory(tenant=acme, role=Role.MODERATOR, user__username="alice").user
    MembershipFactory(tenant=acme, role=Role.SUPERVISOR, user__username="sam")
    decision = decide(acme, alice, "ban")
    adult = decision.conversation.participants.get(external_id__startswith="adult-")
    Participant.objects.filter(pk=adult.pk).update(screen_name="jay_gamer")
    base = live_server.url

    sign_in(page, base, "sam")
    page.fill("#header-search", adult.external_id)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/t/acme/search?q=*")
    page.click(f"#participant-results >> text={adult.external_id}")
    page.wait_for_url(f"{base}/t/acme/participants/{adult.pk}")
    assert "jay_gamer" in page.inner_text("#account")
    assert "Ban" in page.inner_text("#participant-conversations")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "participant-page.png"), full_page=True)

    page.click(f"#participant-conversations >> text={decision.conversation.external_id}")
    page.wait_for_url(f"{base}/t/acme/supervision/conversations/{decision.conversation_id}")
    actions = set(
        AuditEvent.objects.filter(tenant=acme, actor__username="sam").values_list(
            "action", flat=True
        )
    )
    assert {AuditAction.SEARCH, AuditAction.PARTICIPANT_VIEW, AuditAction.VIEW} <= actions
