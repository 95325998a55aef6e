"""Message-level features, the characteristic classifier and its explanations.

Word n-grams (1-2) catch phrasing ("dont tell"), character n-grams (3-4, inside word
boundaries) catch chat spelling and typos ("u", "pls", "prtety"). One linear model per
characteristic, and one more for "grooming at all" (any characteristic against everything
else), each calibrated with Platt scaling fitted on out-of-fold decision values.

A characteristic's score needs both: the words of that characteristic, and a message that
looks like grooming at all. "Send me a pic" and "send me a pic of the whiteboard" share the
words of a media request; only the second has the context (homework, a parent, a team, a
game trade) that the grooming-at-all model, trained on every characteristic's examples
against the hard negatives, has learned to read as harmless. The score is the product of the
two probabilities, recalibrated on out-of-fold scores so that 0.8 still means about what it
says. The highlighted spans show the words that pushed the characteristic's own linear model
up the most: being linear, it decomposes exactly into per-feature contributions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from scoring.characteristics import KEYS
from scoring.types import MessageScore, Span

WORD_PATTERN = r"(?u)\b\w+\b"
_TOKEN_RE = re.compile(WORD_PATTERN)
_WORD_RE = re.compile(r"\S+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that put a message in an everyday context. Grooming lines use some of them too
# ("dont tell ur mom", "which school do u go to"), so each model learns its own weight for
# each context.
_FAMILY = _words(
    "mum mom mummy mommy mam dad daddy mother father parents parent brother sister bro sis "
    "nan nana nanna gran granny grandma grandad grandpa grandparents grandmother grandfather "
    "auntie aunt uncle cousin cousins family baby wife husband son daughter kids twins niece "
    "nephew folks stepmum stepdad"
)
_FIRST_PERSON = _words("my our we us")
_SECOND_PERSON = _words("your ur yr you u")
CONTEXTS: dict[str, frozenset[str]] = {
    "family": _FAMILY,
    "school": _words(
        "school teacher teachers class classes homework test exam exams lesson lessons project "
        "quiz revision revise maths math science history geography essay library uniform "
        "assembly register trip tutor mr mrs miss sir college uni pe timetable worksheet "
        "detention term semester classroom"
    ),
    "team": _words(
        "coach team practice training match goal club squad league tournament race pitch gym "
        "swim swimming choir band rehearsal scouts brownies cubs football rugby netball "
        "cricket hockey basketball tennis dance ballet fixtures kit"
    ),
    "game": _words(
        "raid skin skins level server gems gold coins trade swap controller console xbox ps5 "
        "steam minecraft roblox fortnite loot gamertag ranked squad lobby respawn boss quest"
    ),
    "work": _words(
        "work office boss meeting client shift colleague manager landlord plumber doctor "
        "dentist vet appointment hospital garage delivery parcel receipt invoice payroll "
        "interview deadline"
    ),
    "occasion": _words(
        "birthday party surprise present presents christmas wedding cake card santa easter "
        "holiday anniversary gift funeral christening prom disco"
    ),
}
# Each context, and whose it is: "ur school" and "your parents" are about the reader, "my
# mum" and "our team" about the writer, "the school trip" about neither.
_CONTEXT_KEYS = tuple((owner, context) for context in CONTEXTS for owner in ("any", "my", "your"))
_OWNERS = {"my": _FIRST_PERSON, "your": _SECOND_PERSON}
# Message lengths in words, as columns: 0-1, 2, 3-4, 5-8, 9 or more.
LENGTH_EDGES = np.array([0, 2, 3, 5, 9])
# Cross-validation splits whose out-of-fold decisions are averaged (MessageModel.fit).
OOF_REPEATS = 3


def _context_matrix(vocabulary: list[str]) -> sparse.csr_matrix:
    """vocabulary x contexts, 1 where an n-gram belongs to a context."""
    rows, cols = [], []
    for i, term in enumerate(vocabulary):
        tokens = term.split()
        for c, (owner, context) in enumerate(_CONTEXT_KEYS):
            words = CONTEXTS[context]
            if owner == "any":
                hit = any(t in words for t in tokens)
            else:
                hit = len(tokens) == 2 and tokens[0] in _OWNERS[owner] and tokens[1] in words
            if hit:
                rows.append(i)
                cols.append(c)
    return sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(vocabulary), len(_CONTEXT_KEYS)),
    )


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
        # Columns: the twelve characteristics, then grooming at all.
        self.weights = np.zeros((0, len(KEYS) + 1), dtype=np.float32)
        self.bias = np.zeros(len(KEYS) + 1, dtype=np.float32)
        self.platt = np.zeros((len(KEYS) + 1, 2), dtype=np.float64)
        self.joint_platt = np.zeros((len(KEYS), 2), dtype=np.float64)
        self.context = sparse.csr_matrix((0, len(_CONTEXT_KEYS)), dtype=np.float32)
        # Who wrote a line: a child (1) or an adult (0), from the seed lines whose writer is
        # known. Calibrated like the characteristics; see fit_writer.
        self.writer_weights = np.zeros(0, dtype=np.float32)
        self.writer_bias = 0.0
        self.writer_platt = (0.0, 0.0)
        self.thresholds = dict.fromkeys(KEYS, 0.5)

    # -- fitting ------------------------------------------------------------------------
    def _fit_one(
        self, X: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray
    ) -> LogisticRegression:
        model = LogisticRegression(
            C=4.0, class_weight="balanced", solver="liblinear", max_iter=2000,
            random_state=self.random_state,
        )  # fmt: skip
        return model.fit(X, y, sample_weight=weight)

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[frozenset[str]],
        groups: Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Fit on ``texts``; returns the out-of-fold calibrated probabilities (n x 12), which
        training uses to pick display thresholds and to feed the conversation model without
        the optimism of in-sample scores. ``groups`` keeps the variants of one hand-written
        phrase in the same fold, or the out-of-fold scores would still have seen them.
        ``weights`` (one per text) say how much each line counts in the loss."""
        X = self._fit_transform(texts)
        self._training = (X, weights)
        Y = np.array([[k in ls for k in KEYS] for ls in labels], dtype=int)
        # A 13th column: grooming at all (any characteristic) against everything else. Its
        # positives span every characteristic, so it learns the context that makes a line
        # harmless across all of them, which one characteristic's examples are too few to
        # teach.
        Y_all = np.column_stack([Y, Y.any(axis=1)])
        self.weights = np.zeros((X.shape[1], Y_all.shape[1]), dtype=np.float32)
        self.bias = np.zeros(Y_all.shape[1], dtype=np.float32)
        self.platt = np.zeros((Y_all.shape[1], 2), dtype=np.float64)
        oof_decision = np.zeros(Y_all.shape, dtype=np.float64)
        group_ids = list(groups) if groups is not None else [str(i) for i in range(len(texts))]
        weight = np.ones(len(texts)) if weights is None else np.asarray(weights, dtype=np.float64)
        # Out-of-fold decisions averaged over OOF_REPEATS different splits: one split's
        # chance grouping moved the thresholds and calibrations enough that models trained
        # with another random_state disagreed by several real conversations either way.
        splits = [
            StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=self.random_state + r)
            for r in range(OOF_REPEATS)
        ]
        for j in range(Y_all.shape[1]):
            y = Y_all[:, j]
            for folds in splits:
                for train, test in folds.split(X, y, group_ids):
                    model = self._fit_one(X[train], y[train], weight[train])
                    oof_decision[test, j] += model.decision_function(X[test]) / OOF_REPEATS
            model = self._fit_one(X, y, weight)
            self.weights[:, j] = model.coef_.ravel()
            self.bias[j] = model.intercept_[0]
            platt = LogisticRegression(C=1e4).fit(oof_decision[:, [j]], y)
            self.platt[j] = (platt.coef_[0, 0], platt.intercept_[0])
        joint = self._joint(_sigmoid(oof_decision * self.platt[:, 0] + self.platt[:, 1]))
        self.joint_platt = np.zeros((len(KEYS), 2), dtype=np.float64)
        for j in range(len(KEYS)):
            platt = LogisticRegression(C=1e4).fit(joint[:, [j]], Y[:, j])
            self.joint_platt[j] = (platt.coef_[0, 0], platt.intercept_[0])
        return _sigmoid(joint * self.joint_platt[:, 0] + self.joint_platt[:, 1])

    @staticmethod
    def _joint(probs: np.ndarray) -> np.ndarray:
        """Log-odds of "this characteristic, and grooming at all" from the 13 calibrated
        probabilities (the last column is grooming at all)."""
        both = np.clip(probs[:, :-1] * probs[:, -1:], 1e-7, 1 - 1e-7)
        return np.log(both / (1 - both))

    def _fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        words = self.word.fit_transform(texts)
        chars = self.char.fit_transform(texts)
        # stop_words_ (n-grams cut by min_df) is a set: pickled in hash-seed order it would
        # make the artifact differ from run to run. scikit-learn says it can be dropped.
        for vectoriser in (self.word, self.char):
            vectoriser.stop_words_ = None
        self.context = _context_matrix(self.word.get_feature_names_out().tolist())
        return self._stack(words, chars, texts)

    def _stack(
        self,
        words: sparse.csr_matrix,
        chars: sparse.csr_matrix,
        texts: Sequence[str],
        lengths: np.ndarray | None = None,
    ) -> sparse.csr_matrix:
        """Word n-grams, character n-grams, then one 0/1 column per context (family, school,
        team, game, work, occasion) and owner (anyone's, mine, yours), then one 0/1 column
        per message length. A context column pools the evidence of every word in it, so a
        word the seed holds only a few times ("nan", "rehearsal") still counts as family or
        school. The rows are normalised, so in "u ?" the one word is the whole message and
        weighs as much as a whole sentence: the length columns let each model learn how
        little a one- or two-word line says."""
        context = (words @ self.context).tocsr()
        context.data[:] = 1.0
        if lengths is None:
            lengths = np.array([len(_TOKEN_RE.findall(t.lower())) for t in texts])
        bucket = np.searchsorted(LENGTH_EDGES, lengths, side="right") - 1
        length = sparse.csr_matrix(
            (np.ones(len(texts), dtype=np.float32), (np.arange(len(texts)), bucket)),
            shape=(len(texts), len(LENGTH_EDGES)),
        )
        return sparse.hstack([words, chars, context, length], format="csr")

    def __getstate__(self) -> dict[str, object]:
        # Each transform caches id(stop_words) (a memory address) on the vectoriser; it is
        # only a cache, and pickled it would make identical training give different bytes.
        for vectoriser in (self.word, self.char):
            vars(vectoriser).pop("_stop_words_id", None)
        return {k: v for k, v in self.__dict__.items() if k not in ("_grams_of_word", "_training")}

    def fit_writer(self, writers: Sequence[int | None], groups: Sequence[str]) -> np.ndarray:
        """Learn whether a line reads as written by a child, from the lines of the last
        ``fit`` whose writer is known (1 a child's, 0 an adult's, None unknown); returns the
        out-of-fold probability for every line (0.5 where the writer is unknown).

        Platforms rarely know ages, but children write like children: school, parents,
        homework, "im 13". In a grooming conversation the child's words say who the adult
        is talking to, which an adult's flirting with another adult never shows."""
        X, weights = self._training
        known = np.array([w is not None for w in writers])
        y = np.array([w for w in writers if w is not None], dtype=int)
        Xk = X[known]
        weight = (np.ones(len(writers)) if weights is None else np.asarray(weights))[known]
        group_ids = np.asarray(groups)[known]
        oof = np.zeros(len(y))
        folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(Xk, y, group_ids):
            oof[test] = self._fit_one(Xk[train], y[train], weight[train]).decision_function(
                Xk[test]
            )
        model = self._fit_one(Xk, y, weight)
        self.writer_weights = model.coef_.ravel().astype(np.float32)
        self.writer_bias = float(model.intercept_[0])
        platt = LogisticRegression(C=1e4).fit(oof[:, None], y)
        self.writer_platt = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        out = np.full(len(writers), 0.5)
        out[known] = _sigmoid(oof * self.writer_platt[0] + self.writer_platt[1])
        return out

    def writer_probabilities(self, X: sparse.csr_matrix) -> np.ndarray:
        """Probability that each line was written by a child."""
        if not len(self.writer_weights):
            return np.zeros(X.shape[0])
        decision = np.asarray(X @ self.writer_weights).ravel() + self.writer_bias
        return _sigmoid(decision * self.writer_platt[0] + self.writer_platt[1])

    def _char_grams(self, word: str) -> tuple[int, ...]:
        """The char vocabulary indices of a word's n-grams (as char_wb cuts them). Chat
        repeats its words ("u", "send", "pic"), so they are looked up once and kept; the
        cache is bounded and never pickled."""
        cache: dict[str, tuple[int, ...]] = self.__dict__.setdefault("_grams_of_word", {})
        found = cache.get(word)
        if found is None:
            vocab_c = self.char.vocabulary_
            padded = f" {word} "
            grams = (padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1))
            found = tuple(vocab_c[g] for g in grams if g in vocab_c)
            if len(cache) < 100_000:
                cache[word] = found
        return found

    # -- scoring ------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        words, lengths, known = self._word_transform(texts)
        # Unseen words dilute the evidence instead of vanishing. TF-IDF rows are normalised
        # over the words the vocabulary knows, so in "do you have invoker enabled" the two
        # words the seed never saw vanish and "do you have" is the whole message: it would
        # read as a probe as strongly as "do you have a phone". Real chat is full of words
        # the seed never saw; scaling each row by sqrt((known + 1) / (all + 1)) lets them
        # count. Every seed line is fully known, so training is unchanged.
        scale = np.sqrt((known + 1) / (lengths + 1))
        return self._scaled_stack(words, self._char_transform(texts), lengths, scale)

    def _scaled_stack(
        self,
        words: sparse.csr_matrix,
        chars: sparse.csr_matrix,
        lengths: np.ndarray,
        scale: np.ndarray,
    ) -> sparse.csr_matrix:
        """``sparse.diags(scale) @ self._stack(words, chars, texts, lengths)``, the same to
        the bit and in the same order within each row (reversed: the order that product
        leaves, and the order the model's sums then run in, so the scores are unchanged
        to the last bit; a test holds them equal), assembled directly: for one
        conversation's messages the general sparse operations cost more than the work."""
        context = words @ self.context  # which contexts, in the product's order
        count = words.shape[0]
        parts = [
            (words, 0),
            (chars, words.shape[1]),
            (context, words.shape[1] + chars.shape[1]),
        ]
        per_row = [np.diff(block.indptr) for block, _ in parts]
        indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(per_row[0] + per_row[1] + per_row[2] + 1, out=indptr[1:])
        total = int(indptr[-1])
        indices = np.empty(total, dtype=np.int32)
        data = np.empty(total, dtype=np.float64)
        # Entries go at the row's end minus their place in the stacked row.
        last = indptr[1:] - 1
        before = np.zeros(count, dtype=np.int64)
        for (block, offset), sizes in zip(parts, per_row, strict=True):
            rows = np.repeat(np.arange(count), sizes)
            place = np.arange(len(block.indices)) - block.indptr[rows] + before[rows]
            at = last[rows] - place
            indices[at] = block.indices + offset
            values = np.ones(len(rows)) if block is context else block.data.astype(np.float64)
            data[at] = scale[rows] * values
            before += sizes
        bucket = np.searchsorted(LENGTH_EDGES, lengths, side="right") - 1
        indices[indptr[:-1]] = bucket + parts[2][1] + context.shape[1]
        data[indptr[:-1]] = scale  # times the length column's 1.0
        width = parts[2][1] + context.shape[1] + len(LENGTH_EDGES)
        if not data.all():  # the product drops entries that come to zero
            keep = data != 0
            kept = np.add.reduceat(keep.astype(np.int64), indptr[:-1])
            indptr = np.concatenate([[0], np.cumsum(kept)])
            indices, data = indices[keep], data[keep]
        return sparse.csr_matrix((data, indices, indptr), shape=(count, width))

    def _word_transform(
        self, texts: Sequence[str]
    ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """What ``self.word.transform`` computes (a test holds them equal), tokenising each
        text once, with each text's word count and how many of its words the vocabulary
        knows."""
        vocabulary = self.word.vocabulary_
        indptr = [0]
        indices: list[int] = []
        lengths = np.zeros(len(texts))
        known = np.zeros(len(texts))
        for i, text in enumerate(texts):
            tokens = _TOKEN_RE.findall(text.lower())
            lengths[i] = len(tokens)
            before = len(indices)
            for token in tokens:
                j = vocabulary.get(token)
                if j is not None:
                    indices.append(j)
            known[i] = len(indices) - before
            for a, b in pairwise(tokens):
                j = vocabulary.get(f"{a} {b}")
                if j is not None:
                    indices.append(j)
            indptr.append(len(indices))
        X = sparse.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                np.array(indices, dtype=np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(texts), len(vocabulary)),
        )
        X.sum_duplicates()
        np.log(X.data, X.data)
        X.data += 1.0
        X.data *= self.word.idf_[X.indices]
        inplace_csr_row_normalize_l2(X)  # what normalize(X) does, without its checks
        return X, lengths, known

    def _char_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """What ``self.char.transform`` computes (a test holds them equal), from each word's
        cached n-grams: chat repeats its words, and cutting every word into n-grams anew
        was the largest single cost of scoring."""
        indptr = [0]
        indices: list[int] = []
        known = self.__dict__.setdefault("_grams_of_word", {})
        for text in texts:
            for word in text.lower().split():
                grams = known.get(word)  # the cache _char_grams fills, read without a call
                indices.extend(self._char_grams(word) if grams is None else grams)
            indptr.append(len(indices))
        X = sparse.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                np.array(indices, dtype=np.int32),
                np.array(indptr, dtype=np.int32),
            ),
            shape=(len(texts), len(self.char.vocabulary_)),
        )
        X.sum_duplicates()  # counts per n-gram, indices sorted
        np.log(X.data, X.data)  # sublinear tf, idf and l2 norm, as TfidfTransformer does
        X.data += 1.0
        X.data *= self.char.idf_[X.indices]
        inplace_csr_row_normalize_l2(X)  # what normalize(X) does, without its checks
        return X

    def probabilities(self, X: sparse.csr_matrix) -> np.ndarray:
        """Calibrated characteristic scores (n x 12)."""
        decision = np.asarray(X @ self.weights) + self.bias
        joint = self._joint(_sigmoid(decision * self.platt[:, 0] + self.platt[:, 1]))
        return _sigmoid(joint * self.joint_platt[:, 0] + self.joint_platt[:, 1])

    def score(self, texts: Sequence[str]) -> list[MessageScore]:
        if not texts:
            return []
        X = self.transform(texts)
        probs = self.probabilities(X)
        writer = self.writer_probabilities(X).tolist()
        flagged_rows = probs >= np.array([self.thresholds[k] for k in KEYS])
        any_flagged = flagged_rows.any(axis=1).tolist()
        out = []
        for i, (text, row) in enumerate(zip(texts, probs.tolist(), strict=True)):
            if any_flagged[i]:
                # The row's non-zeros straight from the CSR arrays (slicing a row is slow).
                lo, hi = X.indptr[i], X.indptr[i + 1]
                flagged = np.flatnonzero(flagged_rows[i])
                spans = self.spans(text, X.indices[lo:hi], X.data[lo:hi], flagged)
            else:
                spans = {}
            out.append(
                MessageScore(
                    scores=dict(zip(KEYS, row, strict=True)), spans=spans, minor_writer=writer[i]
                )
            )
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
        # Positions come from the text as written: lowercasing can change a text's length
        # ("İ" lowers to two characters), and spans index the original.
        words = [(m.start(), m.end()) for m in _WORD_RE.finditer(text)]
        if not words:
            return {}
        word_of = np.zeros(len(text) + 1, dtype=int)
        for w, (start, end) in enumerate(words):
            word_of[start:end] = w
        # (feature index, word, share of the feature's value) for every located feature;
        # credited to the words in one vectorised step at the end.
        features: list[int] = []
        owners: list[int] = []
        shares: list[float] = []
        tokens = [(m.group().lower(), m.start()) for m in _TOKEN_RE.finditer(text)]
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
        located: list[tuple[int, int]] = []
        for w, (start, end) in enumerate(words):
            for idx in self._char_grams(text[start:end].lower()):
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
