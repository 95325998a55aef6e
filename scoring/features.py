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
            analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, min_df=2, dtype=np.float32
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
        X = sparse.hstack(
            [self.word.fit_transform(texts), self.char.fit_transform(texts)], format="csr"
        )
        # stop_words_ (n-grams cut by min_df) is a set: pickled in hash-seed order it would
        # make the artifact differ from run to run. scikit-learn says it can be dropped.
        for vectoriser in (self.word, self.char):
            vectoriser.stop_words_ = None
        return X

    def __getstate__(self) -> dict[str, object]:
        # Each transform caches id(stop_words) (a memory address) on the vectoriser; it is
        # only a cache, and pickled it would make identical training give different bytes.
        for vectoriser in (self.word, self.char):
            vars(vectoriser).pop("_stop_words_id", None)
        return self.__dict__

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
        flagged_rows = probs >= np.array([self.thresholds[k] for k in KEYS])
        out = []
        for i, (text, row) in enumerate(zip(texts, probs.tolist(), strict=True)):
            flagged = np.flatnonzero(flagged_rows[i])
            if flagged.size:
                # The row's non-zeros straight from the CSR arrays (slicing a row is slow).
                lo, hi = X.indptr[i], X.indptr[i + 1]
                spans = self.spans(text, X.indices[lo:hi], X.data[lo:hi], flagged)
            else:
                spans = {}
            out.append(MessageScore(scores=dict(zip(KEYS, row, strict=True)), spans=spans))
        return out

    # -- explanations -------------------------------------------------------------------
    def spans(
        self,
        text: str,
        indices: np.ndarray,
        data: np.ndarray,
        flagged: np.ndarray,
        *,
        top: int = 3,
    ) -> dict[str, list[Span]]:
        """For each flagged characteristic, the character spans of the words that pushed it
        up the most.

        Every active feature's contribution (weight x value) is credited to the
        whitespace-separated word(s) it came from: word n-grams split between their tokens,
        character n-grams between the words that contain them. The credit of all flagged
        characteristics is computed in one pass over the message's features."""
        values = dict(zip(indices.tolist(), data.tolist(), strict=True))
        lowered = text.lower()
        words = [(m.start(), m.end()) for m in _WORD_RE.finditer(lowered)]
        if not words:
            return {}
        word_of = np.zeros(len(lowered) + 1, dtype=int)
        for w, (start, end) in enumerate(words):
            word_of[start:end] = w
        # (feature index, word, share of the feature's value) for every located feature;
        # credited to the words in one vectorised step at the end.
        features: list[int] = []
        owners: list[int] = []
        shares: list[float] = []
        tokens = [(m.group(), m.start()) for m in _TOKEN_RE.finditer(lowered)]
        vocab_w = self.word.vocabulary_
        for n in (1, 2):
            grams = [tokens[i : i + n] for i in range(len(tokens) - n + 1)]
            keys = [" ".join(t for t, _ in g) for g in grams]
            counts = Counter(keys)
            for key, g in zip(keys, grams, strict=True):
                idx = vocab_w.get(key)
                if idx is None or idx not in values:
                    continue
                for _, pos in g:
                    features.append(idx)
                    owners.append(int(word_of[pos]))
                    shares.append(values[idx] / counts[key] / n)
        offset = len(vocab_w)
        vocab_c = self.char.vocabulary_
        located: list[tuple[int, int]] = []
        for w, (start, end) in enumerate(words):
            padded = f" {lowered[start:end]} "
            for n in (3, 4):
                for i in range(len(padded) - n + 1):
                    idx = vocab_c.get(padded[i : i + n])
                    if idx is not None and offset + idx in values:
                        located.append((offset + idx, w))
        occurrences = Counter(idx for idx, _ in located)
        for idx, w in located:
            features.append(idx)
            owners.append(w)
            shares.append(values[idx] / occurrences[idx])
        credit = np.zeros((len(words), flagged.size))
        if features:
            contributions = self.weights[np.ix_(features, flagged)] * np.array(shares)[:, None]
            np.add.at(credit, owners, contributions)
        out: dict[str, list[Span]] = {}
        for column, j in enumerate(flagged.tolist()):
            out[KEYS[j]] = _top_spans(words, credit[:, column], top)
        return out


def _top_spans(words: list[tuple[int, int]], credit: np.ndarray, top: int) -> list[Span]:
    best = credit.max()
    if best <= 0:
        return []
    chosen = {w for w in range(len(words)) if credit[w] >= 0.35 * best}
    merged: list[tuple[int, int, float]] = []
    for w in sorted(chosen):
        start, end = words[w]
        if merged and w - 1 in chosen:
            merged[-1] = (merged[-1][0], end, merged[-1][2] + credit[w])
        else:
            merged.append((start, end, float(credit[w])))
    merged.sort(key=lambda s: -s[2])
    return sorted((a, b) for a, b, _ in merged[:top])
