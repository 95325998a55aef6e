"""Message-level features, the characteristic classifier and its explanations.

Word n-grams (1-2) catch phrasing ("dont tell"), character n-grams (2-4, inside word
boundaries) catch chat spelling and typos ("u", "pls", "prtety"). One linear model per
characteristic, each calibrated with Platt scaling fitted on out-of-fold decision values, so
a score of 0.8 means about what it says. Being linear, each score decomposes exactly into
per-feature contributions, which is what the highlighted spans show.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from scoring.characteristics import KEYS
from scoring.types import MessageScore, Span

WORD_PATTERN = r"(?u)\b\w+\b"
_TOKEN_RE = re.compile(WORD_PATTERN)
_WORD_RE = re.compile(r"\S+")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class MessageModel:
    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state
        self.word = TfidfVectorizer(
            analyzer="word", token_pattern=WORD_PATTERN, ngram_range=(1, 2), sublinear_tf=True,
            dtype=np.float32,
        )  # fmt: skip
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        self.weights = np.zeros((0, len(KEYS)), dtype=np.float32)
        self.bias = np.zeros(len(KEYS), dtype=np.float32)
        self.platt = np.zeros((len(KEYS), 2), dtype=np.float64)
        self.thresholds = dict.fromkeys(KEYS, 0.5)

    # -- fitting ------------------------------------------------------------------------
    def _fit_one(self, X: sparse.csr_matrix, y: np.ndarray) -> LogisticRegression:
        model = LogisticRegression(
            C=4.0, class_weight="balanced", solver="liblinear", max_iter=2000,
            random_state=self.random_state,
        )  # fmt: skip
        return model.fit(X, y)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[frozenset[str]],
        groups: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Fit on ``texts``; returns the out-of-fold calibrated probabilities (n x 12), which
        training uses to pick display thresholds and to feed the conversation model without
        the optimism of in-sample scores. ``groups`` keeps the variants of one hand-written
        phrase in the same fold, or the out-of-fold scores would still have seen them."""
        X = self._fit_transform(texts)
        Y = np.array([[k in ls for k in KEYS] for ls in labels], dtype=int)
        n_features = X.shape[1]
        self.weights = np.zeros((n_features, len(KEYS)), dtype=np.float32)
        oof_decision = np.zeros(Y.shape, dtype=np.float64)
        group_ids = list(groups) if groups is not None else [str(i) for i in range(len(texts))]
        folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=self.random_state)
        for j in range(len(KEYS)):
            y = Y[:, j]
            for train, test in folds.split(X, y, group_ids):
                model = self._fit_one(X[train], y[train])
                oof_decision[test, j] = model.decision_function(X[test])
            model = self._fit_one(X, y)
            self.weights[:, j] = model.coef_.ravel()
            self.bias[j] = model.intercept_[0]
            platt = LogisticRegression(C=1e4).fit(oof_decision[:, [j]], y)
            self.platt[j] = (platt.coef_[0, 0], platt.intercept_[0])
        return _sigmoid(oof_decision * self.platt[:, 0] + self.platt[:, 1])

    def _fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack(
            [self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr"
        )

    # -- scoring ------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")

    def probabilities(self, X: sparse.csr_matrix) -> np.ndarray:
        decision = np.asarray(X @ self.weights) + self.bias
        return _sigmoid(decision * self.platt[:, 0] + self.platt[:, 1])

    def score(self, texts: Sequence[str]) -> list[MessageScore]:
        if not texts:
            return []
        X = self.transform(texts)
        probs = self.probabilities(X)
        limits = np.array([self.thresholds[k] for k in KEYS])
        out = []
        for i, text in enumerate(texts):
            row = probs[i]
            flagged = np.flatnonzero(row >= limits)
            spans = (
                {KEYS[j]: self.spans(text, X.getrow(i), j) for j in flagged} if flagged.size else {}
            )
            out.append(
                MessageScore(scores={k: float(row[j]) for j, k in enumerate(KEYS)}, spans=spans)
            )
        return out

    # -- explanations -------------------------------------------------------------------
    def spans(self, text: str, row: sparse.csr_matrix, j: int, *, top: int = 3) -> list[Span]:
        """Character spans of the words that pushed characteristic ``j`` up the most.

        Every active feature's contribution (weight x value) is credited to the
        whitespace-separated word(s) it came from: word n-grams split between their tokens,
        character n-grams between the words that contain them."""
        values = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        lowered = text.lower()
        words = [(m.start(), m.end()) for m in _WORD_RE.finditer(lowered)]
        if not words:
            return []
        credit = np.zeros(len(words))
        word_of = np.zeros(len(lowered) + 1, dtype=int)
        for w, (start, end) in enumerate(words):
            word_of[start:end] = w
        tokens = [(m.group(), m.start()) for m in _TOKEN_RE.finditer(lowered)]
        vocab_w = self.word.vocabulary_
        for n in (1, 2):
            grams = [tokens[i : i + n] for i in range(len(tokens) - n + 1)]
            counts = Counter(" ".join(t for t, _ in g) for g in grams)
            for g in grams:
                idx = vocab_w.get(" ".join(t for t, _ in g))
                if idx is None or idx not in values:
                    continue
                share = self.weights[idx, j] * values[idx] / counts[" ".join(t for t, _ in g)] / n
                for _, pos in g:
                    credit[word_of[pos]] += share
        offset = len(vocab_w)
        vocab_c = self.char.vocabulary_
        char_grams: list[tuple[str, int]] = []
        for w, (start, end) in enumerate(words):
            padded = f" {lowered[start:end]} "
            for n in (2, 3, 4):
                for i in range(len(padded) - n + 1):
                    char_grams.append((padded[i : i + n], w))
        counts_c = Counter(g for g, _ in char_grams)
        for gram, w in char_grams:
            idx = vocab_c.get(gram)
            if idx is None or offset + idx not in values:
                continue
            credit[w] += self.weights[offset + idx, j] * values[offset + idx] / counts_c[gram]
        best = credit.max()
        if best <= 0:
            return []
        chosen = [w for w in range(len(words)) if credit[w] >= 0.35 * best]
        merged: list[tuple[int, int, float]] = []
        for w in chosen:
            start, end = words[w]
            if merged and merged[-1][1] + 1 >= start and w - 1 in chosen:
                merged[-1] = (merged[-1][0], end, merged[-1][2] + credit[w])
            else:
                merged.append((start, end, credit[w]))
        merged.sort(key=lambda s: -s[2])
        return sorted((a, b) for a, b, _ in merged[:top])
