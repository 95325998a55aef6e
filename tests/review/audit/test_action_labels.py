"""The audit trail's words for an action are true of every event recorded with it."""

from __future__ import annotations

from typing import Any

import pytest

from review.models import AuditAction, AuditEvent, Tenant
from tests.review_support import signed_in

pytestmark = pytest.mark.django_db


def test_an_admin_page_view_is_not_called_a_supervision_page_view(acme: Tenant, ada: Any) -> None:
    client = signed_in(ada)
    client.get("/t/acme/admin/keys")

    viewed = AuditEvent.objects.filter(tenant=acme, action=AuditAction.REPORT_VIEW).latest(
        "sequence"
    )
    assert viewed.target_id == "tenancy:admin_keys"
    assert viewed.action == "report_view", "the stored value never changes"
    assert viewed.get_action_display() == "Viewed a supervision or admin page"


def test_the_audit_trail_lists_the_label_as_a_filter_choice(acme: Tenant, sam: Any) -> None:
    page = signed_in(sam).get("/t/acme/supervision/audit").content.decode()

    assert '<option value="report_view">Viewed a supervision or admin page</option>' in page
    assert "Viewed a supervision page<" not in page
