"""Detection measured on real chat that no one here wrote (``scoring.corpora``).

A held-out set made by the project's own generator shares its blind spots, so the figures
that say whether Artemis works are these, on conversations from public research corpora:

- grooming conversations (label 1) flagged within their first ``first`` messages, text
  only, as a platform would see it: the conversation is rescored as messages arrive and is
  queued the first time its probability reaches the threshold; with the number of messages
  read before that first warning;
- the same under the early-warning protocol of Vogt et al. (2021): the last 50 messages,
  a warning once 5 of the last 10 window decisions were positive;
- benign conversations (label 0) flagged, text only and with the metadata probe (one side
  a declared 13-year-old, the other an account 10 days old): metadata must not make a flag;
- the share of benign messages with any highlight;
- ranking (ROC-AUC) and calibration (Brier score, reliability table) of the probability.

Nothing here prints or returns message text: only counts and figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from itertools import pairwise
from statistics import median

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from scoring import disclosures
from scoring.dataset import LabelledConversation
from scoring.engine import Engine, suspects_ranked
from scoring.evaluation import early_warning
from scoring.types import Participant

TARGET_FLAGGED_SHARE = 22 / 24
TARGET_BENIGN_HIGHLIGHT = 0.03
PROBE_CHILD_AGE = 13
OPERATING_POINTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
PROBE_ACCOUNT_DAYS = 10


def with_metadata_probe(conversation: LabelledConversation) -> LabelledConversation:
    """The first participant declared 13, every other one an account 10 days old."""
    start = conversation.messages[0].sent_at if conversation.messages else None
    participants = [
        Participant(p.external_id, declared_age=PROBE_CHILD_AGE)
        if i == 0
        else Participant(
            p.external_id,
            account_created_at=(start - timedelta(days=PROBE_ACCOUNT_DAYS)) if start else None,
        )
        for i, p in enumerate(conversation.participants)
    ]
    return replace(conversation, participants=participants)


@dataclass
class RealChatReport:
    threshold: float
    first: int
    grooming: int = 0
    flagged: int = 0
    messages_to_warning: list[int] = field(default_factory=list)
    vogt: dict[str, float] = field(default_factory=dict)
    benign: int = 0
    benign_flagged: int = 0
    benign_flagged_probe: int = 0
    # Benign-labelled conversations flagged in which a participant states, in their own
    # words, an age of 15 or under: a corpus label of "benign" means no known predator, not
    # that no child was in sexual chat, and a moderator would want to see these.
    benign_flagged_stated_minor: int = 0
    # Grooming conversations in which the participant ranked most responsible
    # (engine.suspects_ranked), whom a case reports, is the offender, not the child.
    suspect_named: int = 0
    child_messages: int = 0
    child_highlighted: int = 0
    offender_messages: int = 0
    offender_highlighted: int = 0
    benign_messages: int = 0
    benign_highlighted: int = 0
    highlighted_by_key: dict[str, int] = field(default_factory=dict)
    roc_auc: float = math.nan
    brier: float = math.nan
    reliability: list[tuple[float, float, int, float]] = field(default_factory=list)
    grooming_probabilities: list[float] = field(default_factory=list)
    benign_probabilities: list[float] = field(default_factory=list)

    @property
    def highlight_share(self) -> float:
        return self.benign_highlighted / self.benign_messages if self.benign_messages else 0.0

    def lines(self) -> list[str]:
        def verdict(ok: bool, miss: str) -> str:
            return "MET" if ok else f"NOT MET ({miss})"

        out = [f"Real chat (text only unless stated), threshold {self.threshold:.2f}:"]
        probe_miss = f"{self.benign_flagged_probe} flagged"
        if self.grooming:
            need = math.ceil(TARGET_FLAGGED_SHARE * self.grooming - 1e-9)
            warned = (
                f"median {median(self.messages_to_warning):.0f} messages to the first warning "
                f"(min {min(self.messages_to_warning)}, max {max(self.messages_to_warning)})"
                if self.messages_to_warning
                else "no warning"
            )
            out += [
                f"  grooming flagged within their first {self.first} messages: "
                f"{self.flagged} of {self.grooming}; {warned}  "
                f"[>= {need} of {self.grooming}: "
                f"{verdict(self.flagged >= need, f'short by {need - self.flagged}')}]",
            ]
            if self.child_messages:
                out.append(
                    f"  highlighted in grooming conversations: the offender's messages "
                    f"{self.offender_highlighted} of {self.offender_messages} "
                    f"({self.offender_highlighted / max(self.offender_messages, 1):.1%}), "
                    f"the other side's (the child's) {self.child_highlighted} of "
                    f"{self.child_messages} ({self.child_highlighted / self.child_messages:.1%})"
                )
            out.append(
                f"  the offender is the participant ranked most responsible (whom a case "
                f"reports) in {self.suspect_named} of {self.grooming}; in the others, the child"
            )
            if self.vogt:
                v = self.vogt
                out.append(
                    "  early warning, Vogt et al. (window 50, 5 of last 10) on the first "
                    f"{self.first}: {round(v['recall'] * self.grooming)} of {self.grooming} "
                    f"warned, median {v['median_messages_before_warning']:.0f} messages read"
                )
        if self.benign:
            out += [
                f"  benign conversations flagged: {self.benign_flagged} of {self.benign}  "
                f"[0: {verdict(self.benign_flagged == 0, f'{self.benign_flagged} flagged')}]",
                f"    of them, a participant states an age of {disclosures.MINOR_MAX} or under "
                f"in their own words: {self.benign_flagged_stated_minor}",
                f"  benign flagged with the metadata probe (a declared {PROBE_CHILD_AGE}-year-old"
                f", a {PROBE_ACCOUNT_DAYS}-day-old account): {self.benign_flagged_probe} of "
                f"{self.benign}  [0: {verdict(self.benign_flagged_probe == 0, probe_miss)}]",
                f"  benign messages with a highlight: {self.benign_highlighted} of "
                f"{self.benign_messages} ({self.highlight_share:.1%})  "
                f"[<= {TARGET_BENIGN_HIGHLIGHT:.0%}: "
                f"{verdict(self.highlight_share <= TARGET_BENIGN_HIGHLIGHT, 'over')}]",
            ]
            if self.highlighted_by_key:
                parts = ", ".join(
                    f"{k} {v}"
                    for k, v in sorted(self.highlighted_by_key.items(), key=lambda kv: -kv[1])
                )
                out.append(f"    highlights by characteristic: {parts}")
        if self.grooming and self.benign:
            out.append("  other thresholds a tenant could run (grooming caught / benign flagged):")
            for t in OPERATING_POINTS:
                caught = sum(p >= t for p in self.grooming_probabilities)
                flagged = sum(p >= t for p in self.benign_probabilities)
                out.append(f"    {t:.2f}: {caught} of {self.grooming} / {flagged} of {self.benign}")
        if not math.isnan(self.roc_auc):
            out.append(
                f"  ranking: ROC-AUC {self.roc_auc:.3f} (grooming first {self.first} vs benign)"
            )
        if not math.isnan(self.brier):
            out.append(f"  calibration: Brier score {self.brier:.3f}; reliability:")
            out += [
                f"    predicted {lo:.1f}-{hi:.1f}: {count:>3} conversations, "
                f"observed grooming share {share:.2f}"
                for lo, hi, count, share in self.reliability
            ]
        return out


def real_chat_report(
    engine: Engine,
    conversations: Sequence[LabelledConversation],
    *,
    threshold: float,
    first: int = 200,
) -> RealChatReport:
    report = RealChatReport(threshold=threshold, first=first)
    window_probabilities: dict[int, np.ndarray] = {}
    early: list[LabelledConversation] = []
    for conversation in conversations:
        if conversation.label not in (0, 1):
            continue
        if conversation.label == 1:
            messages = conversation.messages[:first]
            scored = engine.score_messages([m.text for m in messages])
            best, _ = engine.raw_scores(messages, scored)
            evidence = engine.evidence(engine.score_matrix(scored))
            prefix = engine.bounded(np.maximum.accumulate(best), evidence)
            report.grooming += 1
            probability = float(prefix[-1]) if len(prefix) else 0.0
            report.grooming_probabilities.append(probability)
            if probability >= threshold:
                report.flagged += 1
                report.messages_to_warning.append(int(np.argmax(prefix >= threshold)) + 1)
            result = engine.score_conversation(
                [Participant(p.external_id) for p in conversation.participants], messages, scored
            )
            marked_ids = {h.message_external_id for h in result.highlights}
            ranked = suspects_ranked(result.suspect_scores, result.responsibility)
            report.suspect_named += bool(ranked) and ranked[0] in conversation.predators
            others = [m for m in messages if m.sender not in conversation.predators]
            report.child_messages += len(others)
            report.child_highlighted += sum(m.external_id in marked_ids for m in others)
            offenders = [m for m in messages if m.sender in conversation.predators]
            report.offender_messages += len(offenders)
            report.offender_highlighted += sum(m.external_id in marked_ids for m in offenders)
            clipped = replace(
                conversation,
                messages=messages,
                message_labels=conversation.message_labels[:first],
            )
            early.append(clipped)
            window_probabilities[id(clipped)] = engine.bounded(best, evidence)
        else:
            result = engine.score_conversation(
                [Participant(p.external_id) for p in conversation.participants],
                conversation.messages,
            )
            report.benign += 1
            report.benign_probabilities.append(result.probability)
            flagged = result.probability >= threshold
            report.benign_flagged += flagged
            report.benign_flagged_stated_minor += flagged and any(
                disclosures.states_minor(m.text) for m in conversation.messages
            )
            probed = with_metadata_probe(conversation)
            report.benign_flagged_probe += (
                engine.score_conversation(
                    probed.participants, probed.messages, result.message_scores
                ).probability
                >= threshold
            )
            report.benign_messages += len(conversation.messages)
            marked: dict[str, set[str]] = {}
            for highlight in result.highlights:
                marked.setdefault(highlight.message_external_id, set()).add(
                    highlight.characteristic
                )
            report.benign_highlighted += len(marked)
            for keys in marked.values():
                for key in keys:
                    report.highlighted_by_key[key] = report.highlighted_by_key.get(key, 0) + 1
            early.append(conversation)
            scored = result.message_scores
            best, _ = engine.raw_scores(conversation.messages, scored)
            window_probabilities[id(conversation)] = engine.bounded(
                best, engine.evidence(engine.score_matrix(scored))
            )
    if early:
        report.vogt = early_warning(
            early,
            lambda c, end: float(window_probabilities[id(c)][end - 1]),
            threshold=threshold,
        )
    truth = [1] * report.grooming + [0] * report.benign
    predicted = report.grooming_probabilities + report.benign_probabilities
    if report.grooming and report.benign:
        report.roc_auc = float(roc_auc_score(truth, predicted))
    if truth:
        report.brier = float(brier_score_loss(truth, predicted))
        edges = np.linspace(0, 1, 6)
        p, t = np.array(predicted), np.array(truth)
        for lo, hi in pairwise(edges):
            inside = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
            if inside.any():
                report.reliability.append(
                    (float(lo), float(hi), int(inside.sum()), float(t[inside].mean()))
                )
    return report
