"""The scoring engine: message-level characteristic scores, a calibrated conversation
probability, and explanations a moderator can read. No database here: callers pass plain
``scoring.types`` values and get plain values back.

How a conversation is scored, and why:

- **Text decides.** The probability comes from what was said. Each participant's messages
  are read in windows of the last ``WINDOW`` messages of the conversation (the early-warning
  protocol of Vogt et al. reads the same), and a window model rates how much grooming that
  participant's words in that window show. The conversation takes its strongest window of
  its strongest participant, so evidence anywhere in a conversation of thousands of
  messages counts, and a child's replies are never added to an adult's words.
- **No length ceiling, no constant.** Window features are maxima, top-3 means and capped
  counts of message scores: none grows with the length of the conversation, its message rate
  or its clock, so nothing out of the training range can pin the output. The window model is
  gradient boosting with a monotonic constraint on every feature: more or stronger evidence
  never lowers a window's score.
- **Appending never unflags.** The conversation's text score is the maximum over all windows
  ending at each message, so adding messages (small talk included) only adds windows: the
  score after message k is never lower than after message k-1. The same array gives the
  score as it stood after each message, which is how early warning is measured.
- **A rescore reads only the new windows.** Every feature is a maximum, a capped count
  over the window, or something said once that stays said, so what windows ending at later
  messages need of the earlier ones is a few numbers per sender (``WindowState``) and the
  last WINDOW - 1 messages' scores. ``score_conversation(..., prior=state)`` rates only the
  windows ending at the new messages and gives the whole reading's result, to the bit
  (tests/scoring/test_incremental.py).
- **Metadata never makes a flag.** Declared ages and account dates are missing or false on
  most platforms, and children chat with new adult accounts innocently every day. The
  probability is the text's; what the metadata says (a declared 13-year-old, an account a
  week old) is shown to the moderator among the factors. So removing metadata from a
  flagged conversation never unflags it, and adding it to ordinary chat never flags it,
  whatever threshold a tenant runs. (An earlier model learned "declared child + new account"
  as grooming from its generator and flagged every such chat; see scoring/generator.py.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from operator import itemgetter

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier

from scoring import characteristics, disclosures
from scoring.characteristics import KEYS
from scoring.features import MessageModel
from scoring.tenant_text import TenantText
from scoring.types import (
    ConversationScore,
    Highlight,
    Message,
    MessageScore,
    Participant,
    SenderWindowState,
    WindowState,
)

# An artifact records this; an engine pickled by another layout is refused with a clear
# error (scoring.artifacts) instead of failing on a missing attribute in the worker.
ENGINE_FORMAT = 2
# What an engine computes from its window models when it first scores, and never pickles.
_CACHES = ("_forest", "_pruning", "_ensemble", "_fingerprint", "_ceiling")
# The layout of WindowState this engine writes and continues from.
STATE_FORMAT = 2
# Up to this many new windows (all senders') are rated one by one on a rescore with a prior;
# more go through the strongest-window search (Engine._rate).
_RATE_ALL = 256
WINDOW = 50
TOP = 3
COUNT_CAP = 5
FLAGGED_CAP = 10
# A participant's highlights are shown when their strongest window is at even odds or more,
# and then only on lines the message model itself rates at even odds or more for the
# characteristic. Highlights explain a score, so the words of someone whose words raised
# little (a child's replies, ordinary chat) are not marked as grooming behaviour, and a
# moderator is not shown a line as "secrecy" on a one-in-five guess. (The characteristics'
# own thresholds are lower, chosen for recall: they still feed the window model.) On the
# real development chat this took benign messages highlighted from 4.4% to 2.0%, the
# offenders' from 20.0% to 12.7% and the child's from 9.5% to 4.3% (`evaluate_model
# --corpora`); the even-odds rule was chosen with those figures in view.
HIGHLIGHT_FLOOR = 0.5
# Suspect scores this close to the highest do not tell participants apart (suspects_ranked).
SUSPECT_TIE = 0.1
HIGHLIGHT_SCORE = 0.5
# Friendship forming alone is not grooming: compliments, warmth and getting-to-know-you
# questions are what friends and teenage couples say to each other too. A window whose
# characteristics all belong to O'Connell's first stage (``STAGE_OF`` 0: trust building,
# personal questions), or that has none, is held at this probability at most, below even
# odds, unless someone else in it has said in their own words that they are a child.
# Anything of a later stage (the age gap, who is around, secrecy, sexual talk, moving
# off the platform, meeting...) lifts the ceiling. Chosen with the one benign conversation
# of the real development chat that the model flagged on flattery alone in view (a
# flirtation between teenagers, 0.628), so the figures on that chat are optimistic; it
# took benign flags there from 4 to 3 of 89 and changed no offender's first warning, and
# on the synthetic held-out set took no grooming conversation below 0.5
# (``evaluate_model --corpora`` and ``evaluate_model``).
FRIENDSHIP_CEILING = 0.45
MINOR_AGE = 16
NEW_ACCOUNT_DAYS = 30

# O'Connell's stages, earliest first (each characteristic's row says which).
STAGE_OF = {c.key: c.stage for c in characteristics.CHARACTERISTICS}
STAGES = characteristics.STAGES
PAIRS = (
    ("secrecy_request", "platform_migration", "asks for secrecy and to move to another app"),
    ("media_request", "pressure_coercion", "asks for pictures or video and applies pressure"),
    ("meeting_arrangement", "supervision_check", "checks who is around and proposes meeting"),
)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{k}_max" for k in KEYS),
    *(f"{k}_top{TOP}" for k in KEYS),
    *(f"{k}_count" for k in KEYS),
    "characteristics", "stages", "flagged_messages", "other_stated_minor", "self_stated_adult",
    "other_writes_like_a_child",
)  # fmt: skip
_STAGE_MATRIX = np.zeros((len(KEYS), STAGES))
for _j, _key in enumerate(KEYS):
    _STAGE_MATRIX[_j, STAGE_OF[_key]] = 1.0


def window_features(
    scores: np.ndarray,
    thresholds: np.ndarray,
    other_minor: np.ndarray | None = None,
    self_adult: np.ndarray | None = None,
    other_writer: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of FEATURE_NAMES for the windows ending at each message.

    ``scores`` is messages x characteristics for one participant, with zeros on the other
    participants' messages (their words are not this participant's evidence).
    ``other_minor`` and ``self_adult`` (booleans per message) say whether, by that message,
    someone else has said they are a child, and this participant that they are an adult
    (``scoring.disclosures``): said once, it stays said. ``other_writer`` is, per message,
    how much the other participants' words read as a child's (zero on this participant's
    messages); the feature is the strongest top-3 mean of a window so far."""
    n = scores.shape[0]
    flags = [
        np.zeros((1, n), dtype=bool) if f is None else np.asarray(f, dtype=bool)[None]
        for f in (other_minor, self_adult)
    ]
    writer = None if other_writer is None else np.asarray(other_writer, dtype=np.float64)[None]
    return _window_rows(scores[None], thresholds, flags[0], flags[1], writer)[0]


def _merge_top(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The three largest of two disjoint groups, each given as its three largest (largest
    first): the order statistics are picked, never computed, so the values are exact."""
    a1, a2, a3 = a
    b1, b2, b3 = b
    return (
        np.maximum(a1, b1),
        np.maximum(np.minimum(a1, b1), np.maximum(a2, b2)),
        np.maximum(np.maximum(a3, b3), np.maximum(np.minimum(a2, b1), np.minimum(a1, b2))),
    )


def _window_top(scores: np.ndarray, start: int = 0) -> np.ndarray:
    """senders x messages x columns x TOP: the largest three values (largest first) of the
    WINDOW values ending at each message from ``start`` on, zeros standing in before the
    first message.

    A rescore's few new windows are sorted; many windows are merged (``_window_top_merged``),
    and so are windows with a missing value (NaN sorts last, where the merge's maxima carry
    it). Either way the same values, picked not computed."""
    n = scores.shape[1]
    few = start and (n - start) * 8 <= n
    if few and not np.isnan(scores[:, max(0, start - WINDOW + 1) :]).any():
        windows = np.lib.stride_tricks.sliding_window_view(_padded(scores), WINDOW, axis=1)
        return np.sort(windows[:, start:], axis=3)[:, :, :, : -TOP - 1 : -1]
    top = _window_top_merged(scores)
    return top[:, start:] if start else top


def _padded(scores: np.ndarray) -> np.ndarray:
    """``scores`` with WINDOW - 1 zeros before the first message."""
    senders, n, columns = scores.shape
    pad = np.zeros((senders, WINDOW - 1 + n, columns))
    pad[:, WINDOW - 1 :] = scores
    return pad


def _window_top_merged(scores: np.ndarray) -> np.ndarray:
    """``_window_top`` of every window, without copying every window: the top three of runs
    of 2, 4, ..., 32 messages are built by merging halves, and a window is a run of 32, one
    of 16 and one of 2."""
    senders, n, columns = scores.shape
    pad = _padded(scores)
    none = np.full_like(pad, -np.inf)
    runs = {1: (pad, none, none)}
    length = 1
    while 2 * length <= WINDOW:
        prev = runs[length]
        merged = _merge_top(tuple(x[:, length:] for x in prev), tuple(x[:, :-length] for x in prev))
        # runs[2 * length] at position p holds the run ending at p (none before it fits).
        runs[2 * length] = tuple(
            np.concatenate([np.full((senders, length, columns), -np.inf), x], axis=1)
            for x in merged
        )
        length *= 2
    # A window is one run per bit of WINDOW (50 = 2 + 16 + 32), each ending where the
    # shorter ones before it begin.
    end = np.arange(WINDOW - 1, WINDOW - 1 + n)
    top = None
    for size in sorted(runs):
        if WINDOW & size:
            piece = tuple(x[:, end] for x in runs[size])
            top = piece if top is None else _merge_top(top, piece)
            end = end - size
    return np.stack(top, axis=3)


@dataclass(frozen=True)
class _Carry:
    """What windows over the last messages of a conversation need from its earlier ones,
    to be the windows a reading from its first message gives (Engine.score_conversation with
    a ``prior``). The first ``skip`` messages of the slice are context only, read before."""

    total: np.ndarray  # per sender: the others' writer values before the slice, summed
    child: np.ndarray  # per sender: the child feature of the window ending at message skip-1
    skip: int  # at least 1


def _child_feature(other_writer: np.ndarray, carry: _Carry | None = None) -> np.ndarray:
    """senders x messages: the mean over the others' messages in the window (a greeting or
    one word says little about who wrote it; many lines do), as strong as it has been so far.

    With ``carry`` the prefix sums start from its totals (added one by one, as from the first
    message, so the same floats) and the running maximum from its child values."""
    senders, n = other_writer.shape
    ends = np.arange(1, n + 1)
    start = np.maximum(ends - WINDOW, 0)
    theirs = other_writer > 0
    if carry is None:
        total = np.concatenate([np.zeros((senders, 1)), np.cumsum(other_writer, axis=1)], axis=1)
    else:
        total = np.cumsum(np.concatenate([carry.total[:, None], other_writer], axis=1), axis=1)
    many = np.concatenate(
        [np.zeros((senders, 1), dtype=np.int64), np.cumsum(theirs, axis=1)], axis=1
    )
    seen = many[:, ends] - many[:, start]
    mean = (total[:, ends] - total[:, start]) / np.maximum(seen, 1)
    value = np.where(seen >= 3, mean, 0.0)
    if carry is not None:
        value[:, : carry.skip] = carry.child[:, None]  # covered: its windows' maximum so far
    return np.maximum.accumulate(value, axis=1)


def _others_total(others: np.ndarray, upto: int, start: np.ndarray | None = None) -> np.ndarray:
    """Per sender, the others' writer values before message ``upto`` summed one by one from
    ``start`` (zero), as ``_child_feature`` sums them: the same floats."""
    begin = np.zeros(others.shape[0]) if start is None else start
    return np.cumsum(np.concatenate([begin[:, None], others[:, :upto]], axis=1), axis=1)[:, -1]


def _window_rows(
    scores: np.ndarray,
    thresholds: np.ndarray,
    other_minor: np.ndarray,
    self_adult: np.ndarray,
    other_writer: np.ndarray | None,
    carry: _Carry | None = None,
) -> np.ndarray:
    """window_features for several participants at once: senders x messages x features
    from senders x messages (x characteristics) arrays. With ``carry``, the messages are the
    last of a conversation (see _Carry): the flags must hold what was said before them at
    their first message, and only the rows from message ``carry.skip`` on are windows of the
    conversation (the earlier ones are cut short), so only those are returned."""
    senders, n, columns = scores.shape
    first = 0 if carry is None else carry.skip  # the first row returned
    if n <= first:
        return np.zeros((senders, 0, 3 * columns + len(FEATURE_NAMES) - 3 * len(KEYS)))
    top = _window_top(scores, first)
    flagged = (scores >= thresholds).astype(np.int32)
    running = np.concatenate(
        [np.zeros((senders, 1, columns), dtype=np.int32), np.cumsum(flagged, axis=1)], axis=1
    )
    ends = np.arange(1, n + 1)
    start = np.maximum(ends - WINDOW, 0)
    counts = running[:, ends] - running[:, start]
    any_flagged = np.concatenate(
        [np.zeros((senders, 1), dtype=np.int64), np.cumsum(flagged.any(axis=2), axis=1)], axis=1
    )
    flagged_messages = any_flagged[:, ends] - any_flagged[:, start]
    present = counts[:, :, : len(KEYS)] > 0  # characteristics and stages, not a tenant column
    said = [
        np.maximum.accumulate(flags.astype(float), axis=1) for flags in (other_minor, self_adult)
    ]
    child = np.zeros((senders, n)) if other_writer is None else _child_feature(other_writer, carry)
    counts, present, flagged_messages = (
        counts[:, first:],
        present[:, first:],
        flagged_messages[:, first:],
    )
    return np.concatenate(
        [
            top[:, :, :, 0],
            top.mean(axis=3),
            np.minimum(counts, COUNT_CAP) / COUNT_CAP,
            (present.sum(axis=2) / len(KEYS))[:, :, None],
            (((present @ _STAGE_MATRIX) > 0).sum(axis=2) / STAGES)[:, :, None],
            (np.minimum(flagged_messages, FLAGGED_CAP) / FLAGGED_CAP)[:, :, None],
            said[0][:, first:, None],
            said[1][:, first:, None],
            child[:, first:, None],
        ],
        axis=2,
    )


def _newcomer_row(other_minor: bool, child: float, width: int) -> np.ndarray:
    """The window row _window_rows gives a sender who has written none of the window's
    messages nor any before: zero in every feature of their own words, with what the others
    have said (``other_minor``) and how they write (``child``, _child_feature's value)."""
    row = np.zeros(width)
    row[-3] = float(other_minor)
    row[-1] = child
    return row


def sender_windows(
    messages: Sequence[Message],
    matrix: np.ndarray,
    thresholds: np.ndarray,
    writer: np.ndarray | None = None,
    stated: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per sender, their window rows. Every sender is windowed, in a group chat too: choosing
    the senders with the most evidence would let later chatter push a groomer out, and the
    score would fall as messages arrive. ``stated`` is ``disclosures.said_each`` of the
    messages' texts, if already read."""
    senders = sorted({m.sender for m in messages})
    if not senders:
        return {}
    index = {s: k for k, s in enumerate(senders)}
    owner = np.array([index[m.sender] for m in messages])
    if stated is None:
        stated = disclosures.said_each([m.text for m in messages])
    minor, adult = stated[:, 0], stated[:, 1]
    mine = owner[None, :] == np.arange(len(senders))[:, None]  # senders x messages
    own = np.where(mine[:, :, None], matrix[None], 0.0)
    others = None if writer is None else np.where(mine, 0.0, np.maximum(writer, 1e-6)[None])
    rows = _window_rows(own, thresholds, minor & ~mine, adult & mine, others)
    return dict(zip(senders, rows, strict=True))


def suspects_ranked(
    suspect_scores: dict[str, float], responsibility: dict[str, float]
) -> list[str]:
    """The participants the model holds responsible at all (a suspect score or evidence
    above 0), most responsible first. The suspect score decides, except between
    participants within SUSPECT_TIE of the highest: the window model cannot tell those
    apart, and the evidence in their own messages (``Engine._add_responsibility``) decides.
    The platform id breaks a full tie, so an assessment always names the same participant.

    A participant's suspect score rates the windows that end at their messages, and those
    windows hold the other side's messages too: a child answering an offender in kind
    scores as high as he does. On the real development chat (``evaluate_model
    --corpora``, default model 604c6b1842d2) the case named the child in 5 of 24
    Perverted-Justice conversations by the score alone, in 3 with this rule; on the
    synthetic held-out set (``evaluate_model``) it found 142 predators of 145 where the
    score alone found 141. Any margin from 0.02 to 0.3 gave 19 to 20 of the 23 flagged real
    conversations and 140 to 142 of the 143 flagged synthetic ones (a /tmp script, not
    committed); ranking by own evidence alone, with no margin, found 20 and 134: a child's
    many anxious replies can hold more evidence than the adult's few requests."""
    top = max(suspect_scores.values(), default=0.0)

    def key(p: str) -> tuple[bool, float, float, str]:
        score = suspect_scores.get(p, 0.0)
        contender = score >= top - SUSPECT_TIE
        return (contender, responsibility.get(p, 0.0) if contender else 0.0, score, p)

    held = {p for p, v in (*suspect_scores.items(), *responsibility.items()) if v > 0}
    return sorted(held, key=key, reverse=True)


def metadata_factors(
    participants: Sequence[Participant], messages: Sequence[Message], suspect: str | None
) -> list[str]:
    """What the platform's metadata says, in words for the moderator: a declared minor
    talking with someone older or undeclared, and a suspect's account younger than a month
    when the conversation began. Shown among the factors, never added to the probability."""
    reasons = []
    ages = {p.external_id: p.declared_age for p in participants}
    minors = [a for a in ages.values() if a is not None and a < MINOR_AGE]
    if minors:
        youngest = min(minors)
        older = [a for a in ages.values() if a is not None and a > youngest]
        if older and max(older) - youngest >= 5:
            reasons.append(f"Declared ages {youngest} and {max(older)}")
        elif any(a is None or a > youngest for a in ages.values()):
            reasons.append(
                f"A participant with no declared age or an older one talks with a declared "
                f"{youngest}-year-old"
            )
    if suspect is not None and messages:
        created = next(
            (p.account_created_at for p in participants if p.external_id == suspect), None
        )
        if created is not None and (messages[0].sent_at - created).days < NEW_ACCOUNT_DAYS:
            reasons.append("The suspect's account was created less than a month before")
    return reasons


def _logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return expit(np.asarray(x, dtype=np.float64))  # no overflow warning at large |x|


def _leaf_values(q: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Rows x trees: the value of the leaf each row reaches in each tree (_Forest)."""
    x = rows[:, q["feature"]]
    right = ~(x <= q["threshold"])
    if np.isnan(x).any():
        right &= ~(np.isnan(x) & q["missing_left"])
    masks = np.where(right, q["mask"], q["full"])
    reached = np.bitwise_and.reduceat(masks, q["first_split"], axis=1)
    if reached.dtype.itemsize <= 2:
        leaf = q["lowest"][reached]
    else:  # the lowest set bit, sixteen bits at a time
        leaf = np.full(reached.shape, -1, dtype=np.intp)
        for part in range(reached.dtype.itemsize // 2):
            bits = ((reached >> (16 * part)) & 0xFFFF).astype(np.intp)
            here = (leaf < 0) & (bits > 0)
            leaf[here] = q["lowest"][bits[here]] + 16 * part
    return q["leaf_value"][q["first_leaf"] + leaf]


class _Ensemble:
    """Several forests read in one pass (the window models averaged), each forest's leaf
    values then added from its own baseline exactly as _Forest.raw adds them."""

    def __init__(self, forests: Sequence[_Forest]) -> None:
        parts = [f._quick for f in forests]
        dtype = max((p["mask"].dtype for p in parts), key=lambda d: d.itemsize)
        splits = np.cumsum([0] + [len(p["mask"]) for p in parts[:-1]])
        leaves = np.cumsum([0] + [len(p["leaf_value"]) for p in parts[:-1]])
        self.trees = [len(f.roots) for f in forests]
        self.baselines = [f.baseline for f in forests]
        self.quick = {
            "feature": np.concatenate([p["feature"] for p in parts]),
            "threshold": np.concatenate([p["threshold"] for p in parts]),
            "missing_left": np.concatenate([p["missing_left"] for p in parts]),
            # A narrower mask widened keeps its leaves' bits; the bits above are no leaf's.
            "mask": np.concatenate([p["mask"].astype(dtype) for p in parts]),
            "full": np.array(np.iinfo(dtype).max, dtype=dtype),
            "first_split": np.concatenate(
                [p["first_split"] + o for p, o in zip(parts, splits, strict=True)]
            ),
            "first_leaf": np.concatenate(
                [p["first_leaf"] + o for p, o in zip(parts, leaves, strict=True)]
            ),
            "leaf_value": np.concatenate([p["leaf_value"] for p in parts]),
            "lowest": max((p["lowest"] for p in parts), key=len),
        }

    def raw(self, rows: np.ndarray) -> list[np.ndarray]:
        """Each forest's raw scores of ``rows``."""
        leaves = _leaf_values(self.quick, rows)
        out, first = [], 0
        for trees, baseline in zip(self.trees, self.baselines, strict=True):
            values = np.empty((rows.shape[0], trees + 1))
            values[:, 0] = baseline
            values[:, 1:] = leaves[:, first : first + trees]
            out.append(np.cumsum(values, axis=1)[:, -1])
            first += trees
        return out


def _leaves_in_order(
    node: int,
    tree: tuple[list[int], list[int], list[bool]],
    order: list[int],
    spans: dict[int, tuple[int, int]],
) -> None:
    """Append the leaves under ``node`` to ``order`` from left to right, and record for each
    split the positions [first, end) its left subtree's leaves take in that order."""
    left, right, is_leaf = tree
    if is_leaf[node]:
        order.append(node)
        return
    first = len(order)
    _leaves_in_order(left[node], tree, order, spans)
    spans[node] = (first, len(order))
    _leaves_in_order(right[node], tree, order, spans)


class _Forest:
    """The window model's trees as flat arrays, rated for all rows and all trees at once.

    scikit-learn predicts tree by tree: for the few hundred rows of one conversation, the
    200 calls cost more than the walking. This gives the same raw scores, bit for bit (a
    test holds them equal): the same comparisons, and the leaf values added in the same
    order from the same baseline.

    The trees are not walked node by node (one round of array operations per level, a
    dozen levels deep) but read the QuickScorer way (Lucchese et al., SIGIR 2015): number
    each tree's leaves from left to right; a split whose test sends a row right rules out
    the leaves of its left subtree; the row's leaf is the leftmost one no such split rules
    out. So every split of every tree is tested at once, each tree's ruled-out leaves are
    gathered with one bitwise AND, and a conversation's rows cost a handful of array
    operations whatever the depth of the trees."""

    CHUNK = 256  # rows tested at once (rows x splits booleans)

    def __init__(self, model: HistGradientBoostingClassifier) -> None:
        trees = [iteration[0] for iteration in model._predictors]
        sizes = [len(tree.nodes) for tree in trees]
        start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        nodes = np.concatenate([tree.nodes for tree in trees])
        shift = np.repeat(start, sizes)
        self.roots = start
        self.feature = nodes["feature_idx"].astype(np.intp)
        self.threshold = nodes["num_threshold"].astype(np.float64)
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.left = nodes["left"].astype(np.intp) + shift
        self.right = nodes["right"].astype(np.intp) + shift
        self.is_leaf = nodes["is_leaf"].astype(bool)
        self.value = nodes["value"].astype(np.float64)
        self.baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        self._quick = self._quickscorer(len(trees))

    def _quickscorer(self, trees: int) -> dict[str, np.ndarray] | None:
        """Per split: its tree and the mask of the leaves its left subtree holds cleared;
        per tree, its leaves' values from left to right. None when a tree has more leaves
        than a mask holds (then the trees are walked)."""
        left, right, is_leaf = self.left.tolist(), self.right.tolist(), self.is_leaf.tolist()
        leaf_values: list[float] = []
        split_nodes: list[int] = []
        split_masks: list[int] = []
        first_split: list[int] = []
        first_leaf: list[int] = []
        value = self.value.tolist()
        for root in self.roots.tolist():
            first_split.append(len(split_nodes))
            first_leaf.append(len(leaf_values))
            order: list[int] = []  # leaves, left to right
            spans: dict[int, tuple[int, int]] = {}
            _leaves_in_order(root, (left, right, is_leaf), order, spans)
            if len(order) > 64:
                return None
            leaf_values += [value[i] for i in order]
            if not spans:  # a single leaf: one split that never sends right
                split_nodes.append(-1)
                split_masks.append(0)
            for node, (lo, mid) in sorted(spans.items()):
                split_nodes.append(node)
                split_masks.append(((1 << 64) - 1) ^ (((1 << mid) - 1) ^ ((1 << lo) - 1)))
        widest = max(np.diff([*first_leaf, len(leaf_values)]))
        dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64)
                     if np.iinfo(t).bits >= widest)  # fmt: skip
        bits = np.iinfo(dtype).bits
        nodes = np.array(split_nodes, dtype=np.intp)
        real = nodes >= 0
        return {
            "feature": np.where(real, self.feature[nodes], 0),
            "threshold": np.where(real, self.threshold[nodes], np.inf),
            "missing_left": np.where(real, self.missing_left[nodes], True),
            "mask": np.array([m & ((1 << bits) - 1) for m in split_masks], dtype=dtype),
            "full": np.array((1 << bits) - 1, dtype=dtype),
            "first_split": np.array(first_split, dtype=np.intp),
            "first_leaf": np.array(first_leaf, dtype=np.intp),
            "leaf_value": np.array(leaf_values, dtype=np.float64),
            # The index of the lowest set bit of every mask (a tree's leftmost leaf left).
            "lowest": np.array(
                [(b & -b).bit_length() - 1 for b in range(1 << min(bits, 16))], dtype=np.intp
            ),
        }

    def raw(self, rows: np.ndarray) -> np.ndarray:
        if self._quick is None:
            return self._walk(rows)
        count = rows.shape[0]
        if count > self.CHUNK:
            return np.concatenate(
                [self.raw(rows[i : i + self.CHUNK]) for i in range(0, count, self.CHUNK)]
            )
        values = np.empty((count, len(self.roots) + 1))
        values[:, 0] = self.baseline
        values[:, 1:] = _leaf_values(self._quick, rows)
        return np.cumsum(values, axis=1)[:, -1]

    def _walk(self, rows: np.ndarray) -> np.ndarray:
        count, trees = rows.shape[0], len(self.roots)
        node = np.tile(self.roots, count)  # row-major: row r's trees at r*trees...
        row = np.repeat(np.arange(count), trees)
        active = np.flatnonzero(~self.is_leaf[node])
        flat = rows.ravel()
        width = rows.shape[1]
        while active.size:
            at = node[active]
            x = flat[row[active] * width + self.feature[at]]
            left = (x <= self.threshold[at]) | (np.isnan(x) & self.missing_left[at])
            at = np.where(left, self.left[at], self.right[at])
            node[active] = at
            active = active[~self.is_leaf[at]]
        values = np.empty((count, trees + 1))
        values[:, 0] = self.baseline
        values[:, 1:] = self.value[node].reshape(count, trees)
        return np.cumsum(values, axis=1)[:, -1]

    def monotone(self) -> bool:
        """Whether no tree's output can fall when a feature rises: at every split, no leaf
        on the left (the feature at or below the threshold) is above any leaf on the right.
        Then a row at or above another in every feature scores at least as high (the leaf
        values are added in a fixed order, and rounded addition keeps order). The window
        model is trained with a monotonic constraint on every feature, which is what makes
        this hold; it is checked, not assumed, since the strongest-window search relies on
        it (Engine.strongest)."""
        internal = np.flatnonzero(~self.is_leaf)
        if (self.left[internal] <= internal).any() or (self.right[internal] <= internal).any():
            return False  # children after their parent is what the walk below needs
        low, high = self.value.tolist(), self.value.tolist()
        left, right = self.left.tolist(), self.right.tolist()
        for i in internal[::-1].tolist():
            a, b = left[i], right[i]
            if high[a] > low[b]:
                return False
            low[i], high[i] = min(low[a], low[b]), max(high[a], high[b])
        return True


class _Pruning:
    """What the strongest-window search needs of the window models: each feature's split
    thresholds over all their trees, and that every tree is monotone (_Forest.monotone).

    Two rows that fall between the same thresholds in every feature take the same path
    through every tree, so they score the same: a row's bins (how many thresholds lie below
    each feature) stand for it exactly. And with monotone trees a row whose bins are all at
    or below another's never scores higher."""

    def __init__(
        self, forests: Sequence[_Forest], width: int, zero_edges: Sequence[int] = ()
    ) -> None:
        feature = np.concatenate([f.feature[~f.is_leaf] for f in forests])
        threshold = np.concatenate([f.threshold[~f.is_leaf] for f in forests])
        # ``zero_edges``: features whose zero and positive values must not share a bin,
        # because what a window scores depends on them beyond the trees (the friendship
        # ceiling, Engine.raw_window_scores). A finer bin still takes one path through
        # every tree, so the bins still stand for the rows exactly.
        extra = set(zero_edges)
        self.edges = [
            np.unique(np.append(threshold[feature == j], 0.0) if j in extra
                      else threshold[feature == j])
            for j in range(width)
        ]  # fmt: skip
        self.split_on = [j for j, edges in enumerate(self.edges) if len(edges)]
        most = max(len(e) for e in self.edges)
        self.dtype = np.uint8 if most < 255 else np.uint16 if most < 65535 else np.uint32

    def bins(self, rows: np.ndarray) -> np.ndarray:
        """Per row and feature, how many of the feature's thresholds lie below the value:
        ``value <= threshold_k`` exactly when the bin is at most k."""
        out = np.zeros(rows.shape, dtype=self.dtype)  # no threshold: every value in bin 0
        for j in self.split_on:
            out[:, j] = np.searchsorted(self.edges[j], rows[:, j], side="left")
        return out


def _row_keys(binned: np.ndarray) -> np.ndarray:
    """One comparable value per row of a C-contiguous integer matrix (its bytes)."""
    return binned.view(np.dtype((np.void, binned.dtype.itemsize * binned.shape[1]))).ravel()


def _maximal(rows: np.ndarray) -> np.ndarray:
    """Which of the distinct integer ``rows`` no other row is at or above in every column.
    Rows are first checked against the few with the largest sums, which are at or above
    most others; the survivors are then checked against each other (a row below a removed
    row is below whatever was above that one)."""
    count = len(rows)
    if count <= 1:
        return np.ones(count, dtype=bool)
    sums = rows.sum(axis=1, dtype=np.int64)
    order = np.argsort(-sums, kind="stable")
    keep = np.ones(count, dtype=bool)
    for candidates in (order[:16], None):
        alive = np.flatnonzero(keep)
        above = alive if candidates is None else candidates
        for start in range(0, len(alive), 128):
            chunk = alive[start : start + 128]
            below = (rows[chunk][:, None, :] <= rows[above][None, :, :]).all(axis=2)
            below &= chunk[:, None] != above[None, :]  # distinct rows: at or below is below
            keep[chunk[below.any(axis=1)]] = False
    return keep


def _first_maximal(rows: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Which of the distinct integer ``rows`` (in time order) no row of the same time or
    earlier is at or above in every column: if such a row scored the most, so would the
    one above it, no later."""
    keep = np.ones(len(rows), dtype=bool)
    for start in range(0, len(rows), 128):
        chunk = np.arange(start, min(start + 128, len(rows)))
        below = (rows[chunk][:, None, :] <= rows[None, :, :]).all(axis=2)
        below &= (time[None, :] <= time[chunk][:, None]) & (chunk[:, None] != np.arange(len(rows)))
        keep[chunk[below.any(axis=1)]] = False
    return keep


def _tail_digest(messages: Sequence[Message], matrix: np.ndarray, writer: np.ndarray) -> str:
    """What a rescore with a prior reads of the covered messages it reads again: their ids,
    senders and message scores (WindowState.tail)."""
    digest = hashlib.sha256("\x00".join([m.external_id for m in messages]).encode())
    digest.update(b"\x01")
    digest.update("\x00".join([m.sender for m in messages]).encode())
    digest.update(np.ascontiguousarray(matrix, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(writer, dtype=np.float64).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Strongest:
    """What scoring a conversation needs of its windows: the strongest one (calibrated),
    each sender's strongest, and where the strongest ends."""

    probability: float
    by_sender: dict[str, float]
    strongest_end: int  # index of the message that ends the strongest window (-1: none)


@dataclass(frozen=True)
class TextScores:
    """The text-only scores of a conversation, as they stood after each message."""

    prefix: np.ndarray  # calibrated probability after message k (non-decreasing)
    by_sender: dict[str, float]  # each sender's strongest window, calibrated
    strongest_end: int  # index of the message that ends the strongest window (-1: none)


class Engine:
    """A trained message model and window model, pickled as one artifact."""

    format = ENGINE_FORMAT
    keys = KEYS  # the characteristics of its columns, recorded in the artifact's header

    def __init__(self, message_model: MessageModel, *, random_state: int = 0) -> None:
        self.message_model = message_model
        self.window_model: HistGradientBoostingClassifier | None = None
        # More window models trained on other draws of conversations; the score is the mean
        # of all their log-odds (fit_windows).
        self.extra_window_models: list[HistGradientBoostingClassifier] = []
        # A tenant's own text model (scoring.tenant_text): one more message column.
        self.tenant_text: TenantText | None = None
        self.calibration = (1.0, 0.0)  # Platt slope and intercept on the window log-odds
        self.random_state = random_state
        self.version = ""  # set by scoring.artifacts when loaded from the registry

    @property
    def display_thresholds(self) -> dict[str, float]:
        return dict(self.message_model.thresholds)

    def threshold_array(self) -> np.ndarray:
        thresholds = [self.message_model.thresholds[k] for k in KEYS]
        return np.array(thresholds + ([0.5] if self.tenant_text is not None else []))

    @property
    def feature_count(self) -> int:
        columns = len(KEYS) + (self.tenant_text is not None)
        return 3 * columns + len(FEATURE_NAMES) - 3 * len(KEYS)

    # -- training -----------------------------------------------------------------------
    def fit_windows(
        self,
        rows: np.ndarray,
        labels: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        add: bool = False,
    ) -> None:
        """Fit the window model; with ``add``, fit one more and average them. Each is trained
        on its own draw of conversations: one model learns the chance details of its draw
        (which phrase happened to sit next to which), and on real chat single models trained
        on different draws disagree by several conversations either way; their average
        (of the log-odds) is steadier and ranked real chat better than any one of them."""
        for cache in _CACHES:
            self.__dict__.pop(cache, None)
        if not add:
            self.extra_window_models = []
        elif self.window_model is None:
            raise RuntimeError("fit the first window model before adding more")
        model = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.06, max_leaf_nodes=15, l2_regularization=1.0,
            min_samples_leaf=40, monotonic_cst=[1] * rows.shape[1],
            random_state=self.random_state,
        )  # fmt: skip
        model.fit(rows, labels, sample_weight=sample_weight)
        if add:
            self.extra_window_models = [*self.extra_window_models, model]
        else:
            self.window_model = model

    def fit_calibration(self, raw: np.ndarray, labels: np.ndarray) -> None:
        """Platt scaling of the conversations' strongest raw window scores, with the slope
        held positive so calibration keeps the order (and so the monotonicity)."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1e4).fit(_logit(raw)[:, None], labels)
        slope = max(float(model.coef_[0, 0]), 1e-3)
        self.calibration = (slope, float(model.intercept_[0]))
        for cache in _CACHES:  # the friendship ceiling's raw value moved with it
            self.__dict__.pop(cache, None)

    # -- scoring ------------------------------------------------------------------------
    def score_messages(self, texts: Sequence[str]) -> list[MessageScore]:
        scored = self.message_model.score(texts)
        if self.tenant_text is None or not scored:
            return scored
        tenant = self.tenant_text.predict(texts)
        return [replace(s, tenant_text=float(t)) for s, t in zip(scored, tenant, strict=True)]

    def raw_window_scores(self, rows: np.ndarray, *, ceiling: bool = True) -> np.ndarray:
        """The window models' score of each window row, uncalibrated; with ``ceiling``,
        no higher for a window of friendship forming alone than what calibrates to
        FRIENDSHIP_CEILING (``_friendship_only``). Calibration is fitted without it."""
        if self.window_model is None:
            raise RuntimeError("the window model is not trained")
        if not len(rows):
            return np.zeros(0)
        # The trees walked together (_Forest), built once per loaded engine. (_predictors
        # is private, but the artifact is only ever loaded by the scikit-learn version that
        # wrote it; see scoring.artifacts.)
        forests = self._forests()
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        ensemble = self.__dict__.get("_ensemble")
        if ensemble is None and all(f._quick is not None for f in forests):
            ensemble = self.__dict__["_ensemble"] = _Ensemble(forests)
        if ensemble is not None and len(rows) <= _Forest.CHUNK:
            each = ensemble.raw(rows)  # small batches: one pass over all the trees
        else:
            each = [forest.raw(rows) for forest in forests]
        raw = each[0]
        for other in each[1:]:
            raw = raw + other
        scores = _sigmoid(raw / len(forests))
        if not ceiling:
            return scores
        return np.where(
            self._friendship_only(rows), np.minimum(scores, self._raw_ceiling()), scores
        )

    def _ceiling_columns(self) -> list[int]:
        """The window features that lift the friendship ceiling when above zero: the
        counts of the characteristics past O'Connell's first stage and of a tenant's own
        text model, and whether someone else has said they are a child."""
        columns = len(KEYS) + (self.tenant_text is not None)
        later = [j for j, key in enumerate(KEYS) if STAGE_OF[key] > 0]
        later += list(range(len(KEYS), columns))
        return [2 * columns + j for j in later] + [self.feature_count - 3]

    def _friendship_only(self, rows: np.ndarray) -> np.ndarray:
        """Which window rows hold nothing past friendship forming (FRIENDSHIP_CEILING). A
        missing value lifts the ceiling: it bounds nothing."""
        return (rows[:, self._ceiling_columns()] <= 0).all(axis=1)

    def _raw_ceiling(self) -> float:
        """The highest raw window score that calibrates to FRIENDSHIP_CEILING or less: the
        inverse of ``calibrate``, or where its rounding (or a calibration too flat to reach
        the ceiling, whose lowest raw score is then the ceiling) says otherwise, found by
        bisection (``calibrate`` never falls as the raw score rises)."""
        ceiling = self.__dict__.get("_ceiling")
        if ceiling is None:
            slope, intercept = self.calibration
            ceiling = float(_sigmoid((_logit(FRIENDSHIP_CEILING) - intercept) / slope))
            if float(self.calibrate(ceiling)) > FRIENDSHIP_CEILING:
                low, high = 0.0, ceiling
                for _ in range(64):
                    middle = (low + high) / 2
                    if float(self.calibrate(middle)) <= FRIENDSHIP_CEILING:
                        low = middle
                    else:
                        high = middle
                ceiling = low
            self.__dict__["_ceiling"] = ceiling
        return ceiling

    def _forests(self) -> list[_Forest]:
        forests = self.__dict__.get("_forest")
        if forests is None:
            # An artifact written before the extra models existed has no such attribute.
            models = [self.window_model, *getattr(self, "extra_window_models", [])]
            forests = self.__dict__["_forest"] = [_Forest(m) for m in models]
        return forests

    def _window_pruning(self) -> _Pruning | None:
        """The window models' thresholds, or None when a tree is not provably monotone
        (then every window is rated)."""
        if "_pruning" not in self.__dict__:
            forests = self._forests()
            monotone = all(f.monotone() for f in forests)
            width = self.feature_count
            self.__dict__["_pruning"] = (
                _Pruning(forests, width, self._ceiling_columns()) if monotone else None
            )
        return self.__dict__["_pruning"]

    def __getstate__(self) -> dict[str, object]:
        # The flat forest and the thresholds are caches of the window models: never part
        # of the artifact.
        return {k: v for k, v in self.__dict__.items() if k not in _CACHES}

    def calibrate(self, raw: np.ndarray | float) -> np.ndarray:
        slope, intercept = self.calibration
        return _sigmoid(slope * _logit(raw) + intercept)

    @staticmethod
    def writer_array(scored: Sequence[MessageScore]) -> np.ndarray:
        return np.array([s.minor_writer for s in scored], dtype=np.float64)

    def score_matrix(self, scored: Sequence[MessageScore]) -> np.ndarray:
        """Messages x columns: the characteristics, then the tenant's text model if any."""
        tenant = self.tenant_text is not None
        pick = itemgetter(*KEYS)
        rows = [pick(s.scores) + ((s.tenant_text or 0.0,) if tenant else ()) for s in scored]
        return np.array(rows, dtype=np.float64).reshape(len(scored), len(KEYS) + tenant)

    def raw_scores(
        self,
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        *,
        ceiling: bool = True,
    ) -> tuple[np.ndarray, dict[str, float]]:
        """Uncalibrated: the strongest window ending at each message (over senders), and
        each sender's strongest window (``ceiling``: raw_window_scores)."""
        best = np.zeros(len(messages))
        by_sender: dict[str, float] = {}
        if not len(messages):
            return best, by_sender
        windows = self._windows(messages, scored)
        if not windows:
            return best, by_sender
        raw = self._rate_every(windows, ceiling=ceiling)
        for sender, row in zip(windows, raw, strict=True):
            by_sender[sender] = float(row.max())
        best = raw.max(axis=0)
        return best, by_sender

    def _rate_every(self, windows: dict[str, np.ndarray], *, ceiling: bool = True) -> np.ndarray:
        """senders x messages: the raw score of every window. A sender's window often stands
        still while others talk: most rows repeat, and each distinct row is rated once (about
        a third of them are distinct)."""
        rows, where = np.unique(np.vstack(list(windows.values())), axis=0, return_inverse=True)
        raw = self.raw_window_scores(rows, ceiling=ceiling)
        return raw[where.reshape(-1)].reshape(len(windows), -1)

    def _windows(
        self,
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        matrix: np.ndarray | None = None,
        stated: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        return sender_windows(
            messages,
            self.score_matrix(scored) if matrix is None else matrix,
            self.threshold_array(),
            self.writer_array(scored),
            stated,
        )

    def strongest(
        self,
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        matrix: np.ndarray | None = None,
        stated: np.ndarray | None = None,
    ) -> Strongest:
        """What ``text_scores`` says of the conversation as it stands (its last prefix, each
        sender's strongest window, where the strongest ends), the same to the bit, from
        rating only the windows that can be the strongest.

        Most of a conversation's windows are below another window of the same sender in
        every feature; with monotone trees (_Forest.monotone) they cannot score higher, so
        only the rest are rated, then only the windows below a strongest one that come
        before it, until the first that scores as high (where the strongest ends: the first
        such window, as ``argmax`` reads it). Without monotone trees, or with a missing
        value, every window is rated. ``matrix`` (score_matrix) and ``stated``
        (disclosures.said_each of the texts) are what the caller has already read."""
        if not len(messages):
            return Strongest(0.0, {}, -1)
        return self._strongest(messages, scored, matrix, stated)[0]

    def _strongest(
        self,
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        matrix: np.ndarray | None,
        stated: np.ndarray | None,
    ) -> tuple[Strongest, dict[str, np.ndarray], np.ndarray, float]:
        """``strongest``, with the windows it read, each sender's raw strongest window and
        the raw strongest of all (what a WindowState is made from)."""
        if matrix is None:
            matrix = self.score_matrix(scored)
        windows = self._windows(messages, scored, matrix, stated)
        best_of, top, end = self._rate(windows, len(messages))
        strongest_message = self.evidence(matrix).max(keepdims=True)
        probability = float(self.bounded(np.array([top]), strongest_message)[0])
        by_sender = {
            s: float(self.calibrate(float(v))) for s, v in zip(windows, best_of, strict=True)
        }
        return Strongest(probability, by_sender, end), windows, best_of, top

    def _rate(self, windows: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, float, int]:
        """Of the windows ending at each of ``n`` messages (rows per sender): each sender's
        raw strongest score, the strongest of all, and the first message ending a window
        that scores it (see ``strongest``)."""
        pruning = self._window_pruning()
        stacked = np.vstack(list(windows.values()))
        if pruning is None or np.isnan(stacked).any():
            raw = self._rate_every(windows)
            best = raw.max(axis=0)
            return raw.max(axis=1), float(best.max()), int(best.argmax())
        binned = pruning.bins(stacked)
        keys = _row_keys(binned)
        rated, owner = [], []
        for k in range(len(windows)):
            _, first = np.unique(keys[k * n : (k + 1) * n], return_index=True)
            rated.append(k * n + first[_maximal(binned[k * n + first])])
            owner.append(np.full(len(rated[-1]), k))
        chosen = np.concatenate(rated)
        scores = self.raw_window_scores(stacked[chosen])
        best_of = np.full(len(windows), -np.inf)
        np.maximum.at(best_of, np.concatenate(owner), scores)
        top = scores.max()
        # Where the strongest ends: the first window (over every sender) scoring ``top``.
        # Windows equal to a strongest one do; before the first of those, only a window at
        # or below a strongest one can, so those are rated (each distinct one once).
        # A window at or below one that scores less cannot.
        below = np.zeros(len(stacked), dtype=bool)
        equal = np.zeros(len(stacked), dtype=bool)
        for row in binned[chosen[scores == top]]:
            below |= (binned <= row).all(axis=1)
            equal |= (binned == row).all(axis=1)
        time = np.arange(len(stacked)) % n
        end = int(time[equal].min())
        earlier = np.flatnonzero(below & ~equal & (time < end))
        for row in binned[chosen[scores < top]]:
            if not earlier.size:
                break
            earlier = earlier[~(binned[earlier] <= row).all(axis=1)]
        if earlier.size:
            earlier = earlier[np.argsort(time[earlier], kind="stable")]
            _, first = np.unique(keys[earlier], return_index=True)
            earlier = earlier[np.sort(first)]  # distinct, in time order
            earlier = earlier[_first_maximal(binned[earlier], time[earlier])]
            hit = self.raw_window_scores(stacked[earlier]) == top
            if hit.any():
                end = int(time[earlier[hit]].min())
        return best_of, float(top), end

    @staticmethod
    def evidence(matrix: np.ndarray) -> np.ndarray:
        """Per message, its strongest column (a characteristic, or the tenant's own text
        model): the most any one message says. A missing value bounds nothing."""
        if not matrix.shape[0]:
            return np.zeros(0)
        return np.nan_to_num(matrix, nan=1.0).max(axis=1)

    def bounded(self, raw: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        """Calibrated window scores, each no higher than the strongest message read by then
        (``evidence`` aligned with ``raw``; both per message, in time order).

        A conversation is never more likely grooming than its strongest single message says
        one of the characteristics is: weak signals everywhere, none of them a moderator
        could be shown, do not add up to a flag. On the real development chat this took a
        benign conversation with no highlighted message from 0.54 to 0.37 and moved no
        grooming conversation's first warning at 0.5 but one, by five messages
        (``evaluate_model --corpora``)."""
        return np.minimum(self.calibrate(raw), np.maximum.accumulate(evidence))

    def text_scores(
        self, messages: Sequence[Message], scored: Sequence[MessageScore]
    ) -> TextScores:
        best, by_sender = self.raw_scores(messages, scored)
        if not len(best):
            return TextScores(np.zeros(0), {}, -1)
        return TextScores(
            prefix=self.bounded(
                np.maximum.accumulate(best), self.evidence(self.score_matrix(scored))
            ),
            by_sender={s: float(self.calibrate(v)) for s, v in by_sender.items()},
            strongest_end=int(best.argmax()),
        )

    def score_conversation(
        self,
        participants: Sequence[Participant],
        messages: Sequence[Message],
        cached: Sequence[MessageScore | None] | None = None,
        prior: WindowState | None = None,
    ) -> ConversationScore:
        """Score a conversation. Entries of ``cached`` (aligned with ``messages``) are reused
        as they are; only messages without one go through the message model.

        ``prior`` is the ``window_state`` of an earlier result for the same conversation's
        first ``prior.count`` messages (the contract is WindowState's): then only the windows
        ending at the later messages are read, from the last WINDOW - 1 covered messages'
        scores and the new ones, and the result is the one scoring the whole conversation
        gives, to the bit. A prior made by another engine (another window model, message
        thresholds or version: ``window_fingerprint``) or by another WindowState layout is
        stale, not wrong, and is ignored: the conversation is read whole. A prior that covers
        more messages than given, or whose last covered messages differ from those given
        (ids, senders, message scores), is a caller's mistake: ValueError."""
        cached = list(cached) if cached is not None else [None] * len(messages)
        if len(cached) != len(messages):
            raise ValueError("cached must be aligned with messages")
        todo = [i for i, c in enumerate(cached) if c is None]
        fresh = self.score_messages([messages[i].text for i in todo]) if todo else []
        scored: list[MessageScore] = list(cached)  # type: ignore[arg-type]
        for i, result in zip(todo, fresh, strict=True):
            scored[i] = result
        continued = None
        if prior is not None and self._continues(prior, messages):
            continued = self._continue(prior, messages, scored)
        if continued is not None:
            text, state = continued
            if state.columns is None:  # a missing value: Python's max decides (below)
                strongest_messages = self._strongest_messages(scored, self.score_matrix(scored))
            else:
                strongest_messages = dict(zip(KEYS, state.columns, strict=True))
            states_minor = np.zeros(len(messages), dtype=bool)  # the first is what is read
            if state.first_minor >= 0:
                states_minor[state.first_minor] = True
        else:
            matrix = self.score_matrix(scored)
            stated = disclosures.said_each([m.text for m in messages])
            if messages:
                text, windows, best_of, top = self._strongest(messages, scored, matrix, stated)
                state = self._window_state(messages, scored, matrix, stated, windows, best_of,
                                           top, text.strongest_end)  # fmt: skip
            else:
                text, state = Strongest(0.0, {}, -1), self._empty_state()
            strongest_messages = self._strongest_messages(scored, matrix)
            states_minor = stated[:, 0]
        text_probability = text.probability
        # Each sender's own evidence, carried in the state: a rescore adds its new messages'.
        if continued is not None:
            assert prior is not None
            sums = self._add_responsibility(
                dict(prior.responsibility), messages[prior.count :], scored[prior.count :]
            )
        else:
            sums = self._add_responsibility({}, messages, scored)
        state = replace(state, responsibility=sums)
        ids = [p.external_id for p in participants]
        responsibility = {**dict.fromkeys(ids, 0.0), **sums}
        by_sender = {p: text.by_sender.get(p, 0.0) for p in ids}
        suspect = next(iter(suspects_ranked(by_sender, responsibility)), None)
        metadata = metadata_factors(participants, messages, suspect)
        probability = text_probability
        shown = {who for who, p in text.by_sender.items() if p >= HIGHLIGHT_FLOOR}
        highlights = [
            Highlight(m.external_id, key, s.scores[key], spans)
            for m, s in zip(messages, scored, strict=True)
            if m.sender in shown
            for key, spans in s.spans.items()
            if s.scores[key] >= HIGHLIGHT_SCORE
        ]
        return ConversationScore(
            probability=probability,
            characteristic_scores=strongest_messages,
            message_scores=scored,
            highlights=highlights,
            factors=self.factors(
                messages, scored, text.strongest_end, metadata, shown, states_minor
            ),
            model_version=self.version,
            suspect_scores=by_sender,
            responsibility=responsibility,
            window_state=state,
        )  # fmt: skip

    # -- rescoring from a prior ---------------------------------------------------------
    def window_fingerprint(self) -> str:
        """What a WindowState made by this engine is valid for: its version, and a digest of
        what its windows are read with (window layout, message thresholds, window models).
        Two engines with the same fingerprint read every window the same."""
        fingerprint = self.__dict__.get("_fingerprint")
        if fingerprint is None:
            digest = hashlib.sha256()
            layout = (STATE_FORMAT, WINDOW, TOP, COUNT_CAP, FLAGGED_CAP, self.feature_count,
                      FRIENDSHIP_CEILING, self.calibration)  # fmt: skip
            digest.update(repr(layout).encode())
            digest.update(self.threshold_array().tobytes())
            for forest in self._forests():
                for part in (forest.feature, forest.threshold, forest.missing_left, forest.left,
                             forest.right, forest.is_leaf, forest.value):  # fmt: skip
                    digest.update(np.ascontiguousarray(part).tobytes())
                digest.update(repr(forest.baseline).encode())
            fingerprint = f"{self.version}:{digest.hexdigest()[:32]}"
            self.__dict__["_fingerprint"] = fingerprint
        return fingerprint

    def _continues(self, prior: WindowState, messages: Sequence[Message]) -> bool:
        """Whether ``prior`` is one to continue from (else the conversation is read whole);
        ValueError when it cannot belong to these messages."""
        if prior.format != STATE_FORMAT or prior.engine != self.window_fingerprint():
            return False  # stale: another engine's, or another layout's
        if prior.count > len(messages):
            raise ValueError(
                f"prior covers {prior.count} messages but only {len(messages)} were given"
            )
        return prior.count > 0

    def _empty_state(self) -> WindowState:
        nobody = SenderWindowState(None, False, False, 0.0, 0.0)
        return WindowState(
            engine=self.window_fingerprint(), count=0, tail=_tail_digest([], np.zeros(0),
            np.zeros(0)), top=None, end=-1, evidence=None, columns=None, first_minor=-1,
            senders={}, newcomer=nobody, format=STATE_FORMAT,
        )  # fmt: skip

    def _window_state(
        self,
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        matrix: np.ndarray,
        stated: np.ndarray,
        windows: dict[str, np.ndarray],
        best_of: np.ndarray,
        top: float,
        end: int,
    ) -> WindowState:
        """The WindowState of a conversation read whole (``_strongest``'s windows)."""
        n = len(messages)
        writer = self.writer_array(scored)
        upto = max(0, n - (WINDOW - 1))
        names = list(windows)
        index = {s: k for k, s in enumerate(names)}
        owner = np.array([index[m.sender] for m in messages])
        mine = owner[None, :] == np.arange(len(names))[:, None]
        totals = _others_total(np.where(mine, 0.0, np.maximum(writer, 1e-6)[None]), upto)
        senders = {
            name: SenderWindowState(
                best=float(best_of[k]),
                other_minor=bool(windows[name][-1, -3]),
                self_adult=bool(windows[name][-1, -2]),
                child=float(windows[name][-1, -1]),
                total=float(totals[k]),
            )
            for k, name in enumerate(names)
        }
        # A sender yet to write: their windows so far hold nobody's words of their own.
        everyone = np.maximum(writer, 1e-6)[None]
        newcomer = SenderWindowState(
            best=None,
            other_minor=bool(stated[:, 0].any()),
            self_adult=False,
            child=float(_child_feature(everyone)[0, -1]),
            total=float(_others_total(everyone, upto)[0]),
        )
        minors = np.flatnonzero(stated[:, 0])
        return WindowState(
            engine=self.window_fingerprint(),
            count=n,
            tail=_tail_digest(messages[upto:], matrix[upto:], writer[upto:]),
            top=float(top),
            end=end,
            evidence=float(self.evidence(matrix).max()),
            columns=None
            if np.isnan(matrix).any()
            else tuple(matrix[:, : len(KEYS)].max(axis=0).tolist()),
            first_minor=int(minors[0]) if len(minors) else -1,
            senders=senders,
            newcomer=newcomer,
            format=STATE_FORMAT,
        )

    def _continue(
        self, prior: WindowState, messages: Sequence[Message], scored: Sequence[MessageScore]
    ) -> tuple[Strongest, WindowState] | None:
        """``strongest`` and the WindowState of the whole conversation, from ``prior`` and the
        windows ending at the messages after it (read with the last WINDOW - 1 before); None
        when only the whole conversation can say (see _read_on)."""
        n, count = len(messages), prior.count
        first = max(0, count - (WINDOW - 1))  # the slice read: context, then new messages
        skip = count - first
        part = messages[first:]
        matrix = self.score_matrix(scored[first:])
        writer = self.writer_array(scored[first:])
        if _tail_digest(part[:skip], matrix[:skip], writer[:skip]) != prior.tail:
            raise ValueError(
                f"prior does not fit messages: messages {first + 1}-{count} (ids, senders or "
                f"message scores) differ from those it was made from"
            )
        state = prior if n == count else self._read_on(prior, part, matrix, writer, skip)
        if state is None:
            return None
        assert state.top is not None
        assert state.evidence is not None
        probability = float(self.bounded(np.array([state.top]), np.array([state.evidence]))[0])
        by_sender = {
            name: float(self.calibrate(float(entry.best)))  # type: ignore[arg-type]
            for name, entry in state.senders.items()
        }
        return Strongest(probability, by_sender, state.end), state

    def _read_on(
        self,
        prior: WindowState,
        part: Sequence[Message],
        matrix: np.ndarray,
        writer: np.ndarray,
        skip: int,
    ) -> WindowState | None:
        """The WindowState after the messages of ``part`` from ``skip`` on (the first
        ``skip`` are the last covered by ``prior``); ``matrix`` and ``writer`` are theirs.

        A sender who writes for the first time here has windows at every earlier message too,
        with nothing of their own in them. With monotone trees the last of those is their
        strongest (every feature of theirs only grows), so it is rated; but where the first
        of them scoring as much ends is not kept, so when those windows score at least as
        high as any other, this returns None and the conversation is read whole. That takes
        windows with no words of the new sender's own outscoring everyone's: rare. Without
        monotone trees, or with a missing value, a new sender always means a whole reading."""
        count = prior.count
        first = count - skip
        n = first + len(part)
        new = len(part) - skip
        width = self.feature_count
        names = sorted(set(prior.senders) | {m.sender for m in part[skip:]})
        entries = [prior.senders.get(name, prior.newcomer) for name in names]
        newcomers = len(names) > len(prior.senders)
        before = _newcomer_row(prior.newcomer.other_minor, prior.newcomer.child, width)
        if newcomers and (self._window_pruning() is None or np.isnan(before).any()):
            return None
        stated = np.zeros((len(part), 2), dtype=bool)  # the covered ones' are in the prior
        stated[skip:] = disclosures.said_each([m.text for m in part[skip:]])
        index = {name: k for k, name in enumerate(names)}
        owner = np.array([index[m.sender] for m in part])
        mine = owner[None, :] == np.arange(len(names))[:, None]
        minor, adult = stated[:, 0], stated[:, 1]
        other_minor, self_adult = minor[None] & ~mine, adult[None] & mine
        # What was said before the slice, said at its first message: it stays said.
        other_minor[:, 0] |= np.array([e.other_minor for e in entries])
        self_adult[:, 0] |= np.array([e.self_adult for e in entries])
        own = np.where(mine[:, :, None], matrix[None], 0.0)
        others = np.where(mine, 0.0, np.maximum(writer, 1e-6)[None])
        carry = _Carry(np.array([e.total for e in entries]), np.array([e.child for e in entries]),
                       skip)  # fmt: skip
        rows = _window_rows(own, self.threshold_array(), other_minor, self_adult, others, carry)

        if len(names) * new + 1 <= _RATE_ALL:
            raw = self.raw_window_scores(np.vstack([rows.reshape(-1, width), before[None]]))
            real = raw[:-1].reshape(len(names), new)
            new_best = real.max(axis=1)
            at = real.max(axis=0)
            new_top, new_end, newcomer_best = float(at.max()), int(at.argmax()), float(raw[-1])
        else:
            new_best, new_top, new_end = self._rate(dict(zip(names, rows, strict=True)), new)
            newcomer_best = float(self.raw_window_scores(before[None])[0])
        assert prior.top is not None  # count > 0
        if newcomers and newcomer_best >= max(prior.top, new_top):
            return None  # where the new sender's earlier windows first score so is not kept
        # The strongest window of all: the first, of the covered windows and the new ones,
        # scoring the most.
        top = max(prior.top, new_top)
        end = prior.end if prior.top >= new_top else count + new_end

        upto = max(0, n - (WINDOW - 1)) - first  # the next tail's first, in the slice
        totals = _others_total(others, upto, carry.total)
        senders = {
            name: SenderWindowState(
                best=max(newcomer_best if entry.best is None else entry.best, float(new_best[k])),
                other_minor=bool(rows[k, -1, -3]),
                self_adult=bool(rows[k, -1, -2]),
                child=float(rows[k, -1, -1]),
                total=float(totals[k]),
            )
            for k, (name, entry) in enumerate(zip(names, entries, strict=True))
        }
        everyone = np.maximum(writer, 1e-6)[None]
        newcomer_carry = _Carry(
            np.array([prior.newcomer.total]), np.array([prior.newcomer.child]), skip
        )
        newcomer = SenderWindowState(
            best=None,
            other_minor=prior.newcomer.other_minor or bool(minor.any()),
            self_adult=False,
            child=float(_child_feature(everyone, newcomer_carry)[0, -1]),
            total=float(_others_total(everyone, upto, newcomer_carry.total)[0]),
        )
        fresh = matrix[skip:]
        columns = prior.columns
        if columns is not None and not np.isnan(fresh).any():
            columns = tuple(np.maximum(columns, fresh[:, : len(KEYS)].max(axis=0)).tolist())
        else:
            columns = None
        minors = np.flatnonzero(minor)
        assert prior.evidence is not None  # count > 0
        return WindowState(
            engine=prior.engine,
            count=n,
            tail=_tail_digest(part[upto:], matrix[upto:], writer[upto:]),
            top=top,
            end=end,
            evidence=max(prior.evidence, float(self.evidence(fresh).max())),
            columns=columns,
            first_minor=prior.first_minor
            if prior.first_minor >= 0 or not len(minors)
            else first + int(minors[0]),
            senders=senders,
            newcomer=newcomer,
            format=STATE_FORMAT,
        )

    @staticmethod
    def _add_responsibility(
        sums: dict[str, float], messages: Sequence[Message], scored: Sequence[MessageScore]
    ) -> dict[str, float]:
        """Add to ``sums`` (per sender, in place, returned) the evidence in each of
        ``messages``: its strongest characteristic score where that reaches HIGHLIGHT_SCORE
        (a message a moderator would see highlighted counts by how sure the model is of it).
        Summed in message order, so a rescore that adds its new messages to the prior's sums
        gets what a whole reading gets, to the bit. Decides who a case reports between
        participants the suspect score cannot tell apart (``suspects_ranked``)."""
        for message, score in zip(messages, scored, strict=True):
            strongest = max(score.scores.values(), default=0.0)
            if strongest >= HIGHLIGHT_SCORE:
                sums[message.sender] = sums.get(message.sender, 0.0) + strongest
        return sums

    @staticmethod
    def _strongest_messages(scored: Sequence[MessageScore], matrix: np.ndarray) -> dict[str, float]:
        """Per characteristic, the highest message score: the column maxima of the score
        matrix (the same floats), unless a score is missing a value, where Python's max,
        which the scores were always read with, decides."""
        if not len(scored) or np.isnan(matrix).any():
            return {k: max((s.scores[k] for s in scored), default=0.0) for k in KEYS}
        return dict(zip(KEYS, matrix[:, : len(KEYS)].max(axis=0).tolist(), strict=True))

    # -- explanations -------------------------------------------------------------------
    @staticmethod
    def factors(
        messages: Sequence[Message],
        scored: Sequence[MessageScore],
        strongest_end: int,
        metadata: list[str],
        shown: set[str],
        states_minor: Sequence[bool] | None = None,
    ) -> list[str]:
        found: dict[str, list[int]] = {}
        for i, score in enumerate(scored):
            if messages[i].sender not in shown:
                continue
            for key in score.spans:
                if score.scores[key] >= HIGHLIGHT_SCORE:
                    found.setdefault(key, []).append(i)
        lines = []
        ordered = sorted(
            found.items(), key=lambda kv: (-characteristics.get(kv[0]).severity, -len(kv[1]))
        )
        for key, indices in ordered[:4]:
            senders = sorted({messages[i].sender for i in indices})
            first = messages[indices[0]].sent_at
            count = len(indices)
            lines.append(
                f"{characteristics.get(key).label} in {count} message{'s' if count > 1 else ''} "
                f"from {', '.join(senders)}, first at {first:%H:%M} on {first:%d %b} "
                f"(UTC{first.isoformat(timespec='minutes')[-6:]})"  # UTC-07:00, as the transcript
            )
        for a, b, words in PAIRS:
            if a in found and b in found:
                lines.append(f"Both in one conversation: {words}")
        if strongest_end >= 0 and found:
            end = strongest_end
            start = max(0, end - WINDOW + 1)
            lines.append(f"Strongest evidence in messages {start + 1}-{end + 1} of {len(messages)}")
        if states_minor is None:
            said = next((m for m in messages if disclosures.states_minor(m.text)), None)
        else:  # already read (disclosures.said_each)
            said = next((m for m, minor in zip(messages, states_minor, strict=True) if minor), None)
        if said is not None and found:
            lines.append(f"{said.sender} says they are a child (message {said.external_id})")
        lines += metadata
        return lines
