"""The interface every reporting target implements, and the registry of targets by name.

A case names its target (``Case.target``) by a stable name from ``REGISTRY``. Everything
that differs between targets is asked of the target instead of branching on its name: what
blocks the case from going to a supervisor, the steps of a submission, the receipt, whether
and how an open submission is retracted, how long the case is preserved and why, and the
panel the case page shows. The lifecycle itself (draft, approval, submitted, preserved,
closed) is the same for every target (``review.services.cases``).

Targets are loaded lazily by dotted path so that ``review.models`` (which validates the
verdicts' target names on import) never imports a target's implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

    from review.models import Case

# Every reporting target: its stable name (stored in Case.target and named by a verdict's
# ``opens_case``; never change one once cases exist) -> the dotted path of its class.
REGISTRY: dict[str, str] = {
    "ncmec": "review.cases.ncmec.target.NcmecTarget",
    "law_enforcement": "review.cases.referral.target.LawEnforcementTarget",
}


@dataclass(frozen=True, slots=True)
class Preservation:
    """How long a case is kept after its submission, and the rule that says so."""

    days: int
    why: str

    def until(self, start: date) -> date:
        return start + timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a submission, as the panel and the audit trail name it."""

    name: str
    label: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the target gave back for a submitted case: who received it, their reference,
    when, and (where the target answers in writing) its answer as it came."""

    to: str
    reference: str
    at: datetime | None
    text: str = ""
    files: tuple[str, ...] = ()


class ReportingTarget(ABC):
    """A place cases are reported to. Subclasses set the class attributes and implement
    ``problems`` and ``panel_context``; the rest has defaults a simple target keeps."""

    name: ClassVar[str]  # the key in REGISTRY
    label: ClassVar[str]  # "NCMEC CyberTipline report": what kind of case this is
    submitted_label: ClassVar[str]  # the status "submitted" in this target's words
    preservation: ClassVar[Preservation]
    steps: ClassVar[tuple[Step, ...]]  # the steps of one submission, in order
    # True when a person records the submission (the case page's delivery form); False
    # when Artemis sends it itself (a worker talking to the target's API).
    recorded_by_hand: ClassVar[bool]
    # Whether a referral package may be built once the case is approved (True), or only
    # once it is submitted (False), and how the refusal says so.
    package_from_approval: ClassVar[bool]
    package_needs: ClassVar[str]
    panel_template: ClassVar[str]  # include-only template on the case page

    @abstractmethod
    def problems(self, case: Case) -> dict[str, str]:
        """Target-specific problems that stop the case from going to a supervisor, by
        field name. Called only when the case's common fields are complete."""

    def receipt(self, case: Case) -> Receipt | None:
        """The receipt of a submitted case, or None while it is not submitted."""
        if case.submitted_at is None:
            return None
        return Receipt(
            to=case.submitted_to, reference=case.submission_reference, at=case.submitted_at
        )

    def retract(self, *, case: Case, actor: AbstractBaseUser) -> None:
        """Withdraw a submission that is open on the target's side. A target that
        cannot refuses with ReviewError."""
        from review.models import ReviewError

        raise ReviewError(f"{self.label}: a submission cannot be retracted from Artemis")

    @abstractmethod
    def panel_context(self, request: HttpRequest, case: Case) -> dict[str, Any]:
        """What ``panel_template`` needs; the case page merges it into its context."""

    def package_fields(self, case: Case) -> dict[str, Any]:
        """This target's keys in the referral package's case.json (every package has them
        all, empty where another target fills them: ``ncmec_report_id``, ``ncmec_file_ids``,
        ``submitted_at_utc``, ``delivered_on``, ``delivery_recorded_at_utc``; the neutral
        ``submitted_to`` and ``submission_reference`` are written for every target)."""
        return {}


def target_names() -> frozenset[str]:
    return frozenset(REGISTRY)


@cache
def target_get(name: str) -> ReportingTarget:
    """The target registered under ``name``; KeyError naming the known ones otherwise."""
    try:
        path = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown reporting target {name!r}; known: {', '.join(REGISTRY)}") from None
    target = import_string(path)()
    if not isinstance(target, ReportingTarget) or target.name != name:
        raise TypeError(f"{path} is not the ReportingTarget named {name!r}")
    return target


def targets_check() -> None:
    """Load every registered target (on app start): a missing attribute or a wrong name
    stops the app, naming the target, instead of failing on the first case."""
    for name in REGISTRY:
        target = target_get(name)
        for attribute in (
            "label", "submitted_label", "preservation", "steps", "recorded_by_hand",
            "package_from_approval", "package_needs", "panel_template",
        ):  # fmt: skip
            if not hasattr(target, attribute):
                raise TypeError(f"reporting target {name!r} has no {attribute}")
