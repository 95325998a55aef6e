"""The one source of truth for the verdicts a moderator can give.

Each row says everything the rest of Artemis needs to know about a verdict: the value stored
in ``Decision.verdict``, the label moderators read, its shortcut key on the review page, the
reason codes it may go with, what it does to the account on the platform (the webhook), the
case it opens (by its reporting target's name), and what it teaches the model. ``Verdict``
(the model field's choices), the decision forms, the feedback export, threshold tuning and
case opening all read this table, so a new verdict is one row here plus the migration for the
new choice.

The table checks itself on import: a row that leaves a field out, names an unknown reason
code or reporting target, or reuses a value or a key, stops the app from starting, naming the row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

from django.db import models

from review.cases.targets import REGISTRY as TARGETS


class AccountAction(enum.StrEnum):
    """What the platform is asked to do to the account (sent in the decision webhook)."""

    NONE = "none"
    WARN = "warn"
    SUSPEND = "suspend"
    BAN = "ban"


class TrainingLabel(enum.StrEnum):
    """What a current decision with this verdict teaches the model and threshold tuning."""

    POSITIVE = "positive"  # grooming: label 1
    NEGATIVE = "negative"  # benign: label 0
    IGNORED = "ignored"  # not a judgement of the conversation (yet): no label


# Reason codes, in the order the decision form lists them. Which verdict each goes with is
# said on the verdict's row.
REASON_LABELS: dict[str, str] = {
    "benign_context": "Benign in context",
    "peers_same_age": "Peers of a similar age",
    "model_error": "Highlights are wrong",
    "insufficient_evidence": "Not enough to act on",
    "grooming_indicators": "Grooming behaviour towards a minor",
    "sexual_solicitation": "Sexual solicitation of a minor",
    "meeting_planned": "In-person meeting being arranged",
    "sextortion": "Coercion or sextortion",
    "second_opinion": "Needs a second opinion",
}

# Keys static/js/review.js gives something else to do, on the review pages or the queue's:
# a verdict key may be none of them, so no key means two things on two pages ("n" takes the
# next item on the queue; on a review page it would have been a verdict).
RESERVED_KEYS = frozenset(
    {
        "j",  # next highlighted message
        "k",  # previous highlighted message
        "r",  # reveal the hidden message
        "t",  # more time: renew the lease
        "x",  # skip
        "n",  # the queue page: take the next item
        "?",  # the shortcut help
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictRow:
    value: str  # stored in Decision.verdict: never change it once decisions exist
    label: str
    key: str  # the review page's shortcut, one lower-case letter
    reasons: tuple[str, ...]  # the reason codes this verdict may go with
    account_action: AccountAction
    # The reporting target of the case an escalation opens (a name in
    # review.cases.targets.REGISTRY); None opens none.
    opens_case: str | None
    training: TrainingLabel

    def __post_init__(self) -> None:
        """Refuse a row that is incomplete or names something that does not exist."""
        name = self.value or "a verdict"
        for f in fields(self):
            if f.name != "opens_case" and not getattr(self, f.name):
                raise ValueError(f"{name}: {f.name} is empty")
        if not (self.value.isidentifier() and self.value == self.value.lower()):
            raise ValueError(f"{name}: the value must be a lower-case identifier")
        if len(self.key) != 1 or not self.key.islower() or self.key in RESERVED_KEYS:
            raise ValueError(
                f"{name}: key {self.key!r} must be one lower-case letter other than "
                f"{', '.join(sorted(RESERVED_KEYS))}"
            )
        unknown = [r for r in self.reasons if r not in REASON_LABELS]
        if unknown:
            raise ValueError(f"{name}: unknown reason code {', '.join(map(repr, unknown))}")
        if not isinstance(self.account_action, AccountAction):
            raise ValueError(f"{name}: account_action must be an AccountAction")
        if self.opens_case is not None and self.opens_case not in TARGETS:
            raise ValueError(
                f"{name}: opens_case {self.opens_case!r} is not a reporting target "
                f"({', '.join(TARGETS)}) or None"
            )
        if not isinstance(self.training, TrainingLabel):
            raise ValueError(f"{name}: training must be a TrainingLabel")


_ACTING = (
    "grooming_indicators",
    "sexual_solicitation",
    "meeting_planned",
    "sextortion",
)

VERDICTS: tuple[VerdictRow, ...] = (
    VerdictRow(
        value="no_violation",
        label="No violation",
        key="c",  # "clear": "n" takes the next item on the queue page
        reasons=("benign_context", "peers_same_age", "model_error", "insufficient_evidence"),
        account_action=AccountAction.NONE,
        opens_case=None,
        training=TrainingLabel.NEGATIVE,
    ),
    VerdictRow(
        value="warn",
        label="Warn the account",
        key="w",
        # A warning is too little for solicitation, a planned meeting or sextortion.
        reasons=("grooming_indicators",),
        account_action=AccountAction.WARN,
        opens_case=None,
        training=TrainingLabel.POSITIVE,
    ),
    VerdictRow(
        value="suspend",
        label="Suspend the account",
        key="s",
        reasons=_ACTING,
        account_action=AccountAction.SUSPEND,
        opens_case=None,
        training=TrainingLabel.POSITIVE,
    ),
    VerdictRow(
        value="ban",
        label="Ban the account",
        key="b",
        reasons=_ACTING,
        account_action=AccountAction.BAN,
        opens_case=None,
        training=TrainingLabel.POSITIVE,
    ),
    VerdictRow(
        value="escalate_ncmec",
        label="Escalate to NCMEC",
        key="e",
        reasons=_ACTING,
        account_action=AccountAction.NONE,
        opens_case="ncmec",
        training=TrainingLabel.POSITIVE,
    ),
    VerdictRow(
        value="escalate_law_enforcement",
        label="Escalate to law enforcement",
        key="l",
        reasons=_ACTING,
        account_action=AccountAction.NONE,
        opens_case="law_enforcement",
        training=TrainingLabel.POSITIVE,
    ),
    VerdictRow(
        value="ask_supervisor",
        label="Ask a supervisor",
        key="a",
        reasons=("insufficient_evidence", "second_opinion"),
        account_action=AccountAction.NONE,
        opens_case=None,
        # The question is still open: the supervisor's answer will be the label.
        training=TrainingLabel.IGNORED,
    ),
)


def _check(rows: tuple[VerdictRow, ...]) -> None:
    """The table's own rules, checked on import: two rows with one value would merge two
    verdicts in every stored decision, and two with one key would make a shortcut lie."""
    values: set[str] = set()
    keys: dict[str, str] = {}
    for row in rows:
        if row.value in values:
            raise ValueError(f"{row.value}: two verdicts share this value")
        values.add(row.value)
        if row.key in keys:
            raise ValueError(f"{row.value}: key {row.key!r} is already {keys[row.key]}'s")
        keys[row.key] = row.value
    unused = set(REASON_LABELS) - {r for row in rows for r in row.reasons}
    if unused:
        raise ValueError(f"reason code {', '.join(sorted(unused))} goes with no verdict")


_check(VERDICTS)

# The model field's choices, derived so a stored value is exactly a row's value.
# Members are named after their values: Verdict.ASK_SUPERVISOR == "ask_supervisor".
Verdict = models.TextChoices(
    "Verdict", [(row.value.upper(), (row.value, row.label)) for row in VERDICTS], module=__name__
)

BY_VALUE: dict[str, VerdictRow] = {row.value: row for row in VERDICTS}
SHORTCUT_KEYS: dict[str, str] = {row.value: row.key for row in VERDICTS}
ACCOUNT_ACTIONS: frozenset[str] = frozenset(
    row.value for row in VERDICTS if row.account_action is not AccountAction.NONE
)
CASE_TARGET_OF: dict[str, str] = {
    row.value: row.opens_case for row in VERDICTS if row.opens_case is not None
}
ESCALATIONS: frozenset[str] = frozenset(CASE_TARGET_OF)  # the verdicts that open a case
POSITIVE: frozenset[str] = frozenset(
    row.value for row in VERDICTS if row.training is TrainingLabel.POSITIVE
)
NEGATIVE: frozenset[str] = frozenset(
    row.value for row in VERDICTS if row.training is TrainingLabel.NEGATIVE
)
# Reason code -> (label, the verdicts it may go with), in the form's order.
REASON_CODES: dict[str, tuple[str, frozenset[str]]] = {
    code: (label, frozenset(row.value for row in VERDICTS if code in row.reasons))
    for code, label in REASON_LABELS.items()
}


def get(value: str) -> VerdictRow:
    """Return the row for ``value``, naming the value in the error if it is unknown."""
    try:
        return BY_VALUE[value]
    except KeyError:
        known = ", ".join(BY_VALUE)
        raise KeyError(f"unknown verdict {value!r}; known: {known}") from None
