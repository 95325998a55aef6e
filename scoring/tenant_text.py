"""A message model learnt from a tenant's own labelled conversations.

The default model knows only the lines the project wrote, and real chat is full of words
and habits no seed holds. A tenant with labelled conversations of its own (``train_model
--jsonl``) gets one more column beside the twelve characteristics: how much a message reads
like the suspects' messages in the tenant's grooming conversations, against every message of
its benign ones. The window model then weighs that column with the others, so the tenant's
model learns the tenant's traffic while the characteristics still explain each flag.

Labels come from conversations, not messages: a grooming conversation's suspects (its
``predators``, or the participant whose words raise the characteristics most) give the
positives; the other side of a grooming conversation (the child's words) is left out; every
message of a benign conversation is a negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from scoring.features import WORD_PATTERN

MIN_CONVERSATIONS_PER_CLASS = 5


class TenantText:
    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state
        self.word = TfidfVectorizer(
            analyzer="word", token_pattern=WORD_PATTERN, ngram_range=(1, 2), sublinear_tf=True,
            min_df=2, max_features=200_000, dtype=np.float32,
        )  # fmt: skip
        self.char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, min_df=3,
            max_features=200_000, dtype=np.float32,
        )  # fmt: skip
        self.model: LogisticRegression | None = None

    def _model(self) -> LogisticRegression:
        return LogisticRegression(
            C=2.0, class_weight="balanced", solver="liblinear", max_iter=2000,
            random_state=self.random_state,
        )  # fmt: skip

    def _transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.word.transform(texts), self.char.transform(texts)], "csr")

    def fit(self, texts: Sequence[str], labels: Sequence[int], groups: Sequence[str]) -> np.ndarray:
        """Fit on every text; return out-of-fold probabilities (5 folds, a conversation's
        messages never on both sides), which the window model learns from."""
        y = np.asarray(labels, dtype=int)
        X = sparse.hstack([self.word.fit_transform(texts), self.char.fit_transform(texts)], "csr")
        for vectoriser in (self.word, self.char):
            vectoriser.stop_words_ = None  # see MessageModel._fit_transform
        oof = np.zeros(len(y))
        splits = min(5, len(set(groups)))
        folds = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(X, y, groups):
            oof[test] = self._model().fit(X[train], y[train]).predict_proba(X[test])[:, 1]
        self.model = self._model().fit(X, y)
        return oof

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("the tenant text model is not trained")
        if not texts:
            return np.zeros(0)
        return self.model.predict_proba(self._transform(texts))[:, 1]

    def __getstate__(self) -> dict[str, object]:
        for vectoriser in (self.word, self.char):
            vars(vectoriser).pop("_stop_words_id", None)
        return dict(self.__dict__)
