"""Who may do what: one row per role, naming its capabilities.

Views (``tenant_page``), services and templates ask for a capability (``member_can``,
``user_can``, the ``can`` template variable), never for a role or a rank. A new role is a
``Role`` choice, its migration and its row in ``ROLES``; the table refuses on import a role
without a row, a row for an unknown role, or a second row for one role.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from review.models import Membership, Role


class Capability(enum.StrEnum):
    # A moderator's work: take queue items, reveal, decide; blind second reviews.
    DECIDE = "decide"
    # The appeals queue: take an appeal of someone else's decision, uphold it, overturn it
    # or refer it to a supervisor (a referred appeal needs SUPERVISE as well).
    DECIDE_APPEAL = "decide_appeal"
    # Write, submit and close the escalation cases one's own decisions opened.
    WRITE_CASE = "write_case"
    # The case list and case pages: one's own cases, or every case with READ_ALL_CASES.
    READ_CASES = "read_cases"
    READ_ALL_CASES = "read_all_cases"
    # The decision log (and its CSV) and a conversation's decision history.
    READ_DECISIONS = "read_decisions"
    # Questions inbox, superseding decisions, settling disagreements, the agreement report.
    SUPERVISE = "supervise"
    # The escalations inbox: approve a case or send it back; close another's draft or a
    # preserved case whose date has passed.
    APPROVE_CASE = "approve_case"
    # Hand an approved case on: report to NCMEC, record a delivery, extend preservation.
    SUBMIT_REPORT = "submit_report"
    DOWNLOAD_PACKAGE = "download_package"
    READ_AUDIT = "read_audit"
    # The search box (conversation id, participant id, screen or display name) and the
    # participant pages of conversations one has worked on (claimed or decided).
    FIND = "find"
    # Any participant's page in the tenant, whoever worked on their conversations.
    READ_ALL_PARTICIPANTS = "read_all_participants"
    # Search the text of messages (full-text on PostgreSQL); audited by the query's hash.
    SEARCH_TEXT = "search_text"
    # The tenant's admin pages: members, invitations, keys, policy, tuning, models, sign-in.
    ADMINISTER = "administer"


@dataclass(frozen=True)
class RoleRow:
    role: Role
    capabilities: frozenset[Capability]
    # Signing in needs a second factor (as any member of a tenant that requires it does).
    two_factor: bool


_MODERATOR = frozenset(
    {
        Capability.DECIDE,
        Capability.DECIDE_APPEAL,
        Capability.WRITE_CASE,
        Capability.READ_CASES,
        Capability.FIND,
    }
)
_READER = frozenset(
    {
        Capability.READ_CASES,
        Capability.READ_ALL_CASES,
        Capability.READ_DECISIONS,
        Capability.READ_AUDIT,
    }
)
_SUPERVISOR = (
    _MODERATOR
    | _READER
    | {
        Capability.SUPERVISE,
        Capability.APPROVE_CASE,
        Capability.SUBMIT_REPORT,
        Capability.DOWNLOAD_PACKAGE,
        Capability.READ_ALL_PARTICIPANTS,
        Capability.SEARCH_TEXT,
    }
)

ROLES: tuple[RoleRow, ...] = (
    RoleRow(Role.MODERATOR, _MODERATOR, two_factor=False),
    RoleRow(Role.SUPERVISOR, _SUPERVISOR, two_factor=True),
    RoleRow(Role.ADMIN, _SUPERVISOR | {Capability.ADMINISTER}, two_factor=True),
    # Reads decisions, cases and the audit trail; changes nothing. What an auditor reads
    # holds a child's details, so the account is held to a second factor like a supervisor.
    RoleRow(Role.AUDITOR, _READER, two_factor=True),
)

# A page guarded by one of these is a supervisor's, admin's or auditor's read: ``tenant_page``
# records each full view of it in the audit trail (the README promises "supervisor page
# view"), unless the page recorded what it showed itself (a conversation, an export). A
# moderator's own pages are left out: her reads of chat are recorded where she sees it (the
# review page, a case), and the queue refreshes itself every 30 seconds.
AUDITED_PAGES: frozenset[Capability] = frozenset(
    {
        Capability.READ_ALL_CASES,
        Capability.READ_DECISIONS,
        Capability.SUPERVISE,
        Capability.APPROVE_CASE,
        Capability.SUBMIT_REPORT,
        Capability.DOWNLOAD_PACKAGE,
        Capability.READ_AUDIT,
        Capability.ADMINISTER,
        Capability.SEARCH_TEXT,
        Capability.READ_ALL_PARTICIPANTS,
    }
)


def _check(rows: Iterable[RoleRow]) -> dict[str, RoleRow]:
    table: dict[str, RoleRow] = {}
    for row in rows:
        if row.role not in Role.values:
            raise ImproperlyConfigured(f"capabilities: {row.role!r} is not a Role")
        if row.role in table:
            raise ImproperlyConfigured(f"capabilities: two rows for the role {row.role!r}")
        unknown = [c for c in row.capabilities if not isinstance(c, Capability)]
        if unknown:
            raise ImproperlyConfigured(f"capabilities: {row.role!r} names unknown {unknown}")
        table[str(row.role)] = row
    missing = sorted(set(Role.values) - set(table))
    if missing:
        raise ImproperlyConfigured(
            f"capabilities: no row for the role(s) {', '.join(missing)}: add one to ROLES"
        )
    return table


BY_ROLE = _check(ROLES)


def role_can(role: str | None, capability: Capability) -> bool:
    row = BY_ROLE.get(role or "")
    return row is not None and capability in row.capabilities


def member_can(membership: Membership | None, capability: Capability) -> bool:
    """May this member (None: not a member) do this?"""
    return membership is not None and role_can(membership.role, capability)


def user_can(*, tenant_id: int, user: Any, capability: Capability) -> bool:
    """May this user, through their membership of the tenant, do this? For services, which
    are given a user rather than a membership."""
    role = (
        Membership.objects.filter(tenant_id=tenant_id, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return role_can(role, capability)


def roles_with(capability: Capability) -> frozenset[str]:
    return frozenset(role for role, row in BY_ROLE.items() if capability in row.capabilities)


def roles_needing_two_factor() -> frozenset[str]:
    return frozenset(role for role, row in BY_ROLE.items() if row.two_factor)


def member_needs_two_factor(membership: Membership) -> bool:
    return membership.role in roles_needing_two_factor()


def capabilities_of(membership: Membership | None) -> dict[str, bool]:
    """For templates: ``{% if can.supervise %}``, one key per capability."""
    held = BY_ROLE[membership.role].capabilities if membership is not None else frozenset()
    return {str(c): c in held for c in Capability}


def template_context(request: Any) -> dict[str, Any]:
    """Context processor: ``can`` holds the signed-in member's capabilities on a tenant page
    (every key False elsewhere)."""
    return {"can": capabilities_of(getattr(request, "membership", None))}
