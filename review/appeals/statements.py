"""Statements of reasons (EU Digital Services Act, Art. 17): for each account action and each
appeal outcome, a plain-language statement the platform can pass on to the user.

A statement says what was done, the facts in general terms (what kind of behaviour the
conversation showed, by characteristic, never a quotation), that automated scoring flagged
the conversation and a person decided, the policy ground from the decision's reason code,
and how to appeal. It is built from ids, codes and tables only: it never holds a word of the
chat, nor the moderator's notes, nor the user's own appeal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from review.decisions import verdicts
from review.decisions.verdicts import REASON_LABELS, AccountAction
from review.models import Appeal, AppealOutcome, Assessment, Decision
from scoring import characteristics

# The policy ground each reason code rests on, in words a user can read. One line per code in
# REASON_LABELS; the check below refuses a code without one.
POLICY_GROUNDS: dict[str, str] = {
    "benign_context": "The conversation, read in context, broke none of our rules.",
    "peers_same_age": "The conversation was between people of a similar age and broke none of "
    "our rules.",
    "model_error": "The automated flag was mistaken; the conversation broke none of our rules.",
    "insufficient_evidence": "There was not enough in the conversation to act on.",
    "grooming_indicators": "Our rules forbid building a relationship with a minor in order to "
    "exploit them (grooming).",
    "sexual_solicitation": "Our rules forbid seeking sexual contact or sexual material from a "
    "minor.",
    "meeting_planned": "Our rules forbid arranging to meet a minor in person for the purpose of "
    "exploiting them.",
    "sextortion": "Our rules forbid pressuring, threatening or coercing a minor, including "
    "threats to share images (sextortion).",
    "second_opinion": "The decision was passed to a senior reviewer.",
}

_missing = sorted(set(REASON_LABELS) - set(POLICY_GROUNDS))
if _missing:
    raise ValueError(f"statements: no policy ground for reason code(s) {', '.join(_missing)}")

ACTION_WORDS: dict[AccountAction, str] = {
    AccountAction.NONE: "No action is taken against the account.",
    AccountAction.WARN: "The account receives a warning.",
    AccountAction.SUSPEND: "The account is suspended.",
    AccountAction.BAN: "The account is banned.",
}

AUTOMATED = (
    "Automated scoring flagged the conversation for review. The decision was made by a person "
    "on the safety team, not by the automated system."
)
HOW_TO_APPEAL = (
    "If you think this decision is wrong, you can appeal it through the platform's appeal "
    "process. Your appeal is reviewed by a person other than the one who made the decision, "
    "and you will be told the outcome with its reasons."
)
AFTER_APPEAL = (
    "This was the review of your appeal. If you still disagree, you may use an out-of-court "
    "dispute settlement body or the courts, as the law where you live allows."
)


@dataclass(frozen=True, slots=True)
class Statement:
    action: str  # the account action: none, warn, suspend, ban
    action_text: str
    facts: str
    automated: str
    ground: str
    redress: str
    decided_at: str

    @property
    def text(self) -> str:
        return " ".join([self.action_text, self.facts, self.automated, self.ground, self.redress])

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text}


def _kinds(assessment: Assessment | None) -> str:
    """The kinds of behaviour the scoring flagged, in general terms: characteristic labels."""
    keys = assessment.flagged_characteristics if assessment is not None else []
    labels = [characteristics.get(k).label.lower() for k in keys]
    if not labels:
        return ""
    return " Signs flagged: " + ", ".join(labels) + "."


def action_in_force(decision: Decision) -> AccountAction:
    """The account action in force after ``decision``. An escalation sets none of its own
    (the platform is never told of a report): it leaves in force the action of the decision
    it replaced, so an appeal answered by an escalation never lifts a ban."""
    row = verdicts.get(decision.verdict)
    if row.opens_case is not None and decision.supersedes_id is not None:
        return action_in_force(decision.supersedes)
    return row.account_action


def decision_statement(decision: Decision) -> Statement:
    """The statement of reasons for a decision (an account action, or its reversal)."""
    action = action_in_force(decision)
    facts = (
        f"On {decision.created_at:%Y-%m-%d} (UTC) the safety team reviewed conversation "
        f"{decision.conversation.external_id}, in which the account took part, and found: "
        f"{decision.reason_label.lower()}." + _kinds(decision.queue_item.assessment)
    )
    return Statement(
        action=action.value,
        action_text=ACTION_WORDS[action],
        facts=facts,
        automated=AUTOMATED,
        ground=POLICY_GROUNDS[decision.reason_code],
        redress=HOW_TO_APPEAL,
        decided_at=decision.created_at.isoformat(),
    )


def appeal_statement(appeal: Appeal) -> Statement | None:
    """The statement of reasons for an appeal's outcome; None while it is undecided."""
    if appeal.outcome == AppealOutcome.UPHELD:
        original = decision_statement(appeal.decision)
        return Statement(
            action=original.action,
            action_text="Your appeal was not upheld: the decision stands. " + original.action_text,
            facts=original.facts
            + " A second person reviewed the conversation and your appeal and reached the "
            "same decision.",
            automated=AUTOMATED,
            ground=original.ground,
            redress=AFTER_APPEAL,
            decided_at=appeal.decided_at.isoformat() if appeal.decided_at else "",
        )
    if appeal.outcome == AppealOutcome.OVERTURNED and appeal.new_decision is not None:
        new = decision_statement(appeal.new_decision)
        return Statement(
            action=new.action,
            action_text="Your appeal was upheld: the earlier decision is replaced. "
            + new.action_text,
            facts=new.facts
            + " A second person reviewed the conversation and your appeal and changed the "
            "decision.",
            automated=AUTOMATED,
            ground=new.ground,
            redress=AFTER_APPEAL,
            decided_at=new.decided_at,
        )
    if appeal.outcome == AppealOutcome.SUPERSEDED and appeal.new_decision is not None:
        new = decision_statement(appeal.new_decision)
        return Statement(
            action=new.action,
            action_text="Your appeal was answered by a later decision, which replaces the one "
            "you appealed. " + new.action_text,
            facts=new.facts
            + " A person on the safety team decided on the conversation again after your "
            "appeal came in.",
            automated=AUTOMATED,
            ground=new.ground,
            # The later decision was not a review of the appeal: it can be appealed in turn.
            redress=HOW_TO_APPEAL,
            decided_at=new.decided_at,
        )
    return None
