"""Representation benchmark: the project's TF-IDF message features against wordllama's
pretrained static embeddings (weights inside the wheel, nothing downloaded), and both
concatenated, trained on the seed only and measured on the real development corpora.

    .venv/bin/pip install wordllama   # only for this benchmark; Artemis does not use it
    .venv/bin/python bench/representations.py --corpora DIR [--seed PATH]

Every representation gets one logistic regression per column (the twelve characteristics and
grooming at all), class_weight balanced, grooming at all Platt-calibrated on out-of-fold
decisions (5 folds that keep a seed phrase's variants together). The corpora are only scored,
never trained on, and only figures are printed: no message text.

A segment's score is its strongest 50-message window, a window's score the mean of its five
highest grooming-at-all probabilities. Segments: each Perverted-Justice conversation's first
200 messages, each PAN12 conversation whole.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py shares its name with the standard library's queue: take the script's own
# folder off the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import os

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(name, "1")
# The tokenizers library encodes batches on its own thread pool unless told not to.
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse
import importlib.metadata
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.characteristics import KEYS
from scoring.corpora import read_development_folder
from scoring.features import MessageModel
from scoring.seed import HELDOUT_PATH, SEED_PATH, SeedMessage, load_seed_messages

WINDOW = 50
TOP = 5
PJ_OPENING = 200
FIXED_THRESHOLDS = (0.5, 0.7)
EMBED_DIMS = (64, 128, 256)  # wordllama's Matryoshka truncations of its bundled 256-d weights
C_GRID = (0.25, 1.0, 4.0)  # embeddings alone: C picked on the seed's out-of-fold AUC
BLOCK_WEIGHTS = (0.5, 1.0, 2.0)  # concatenation: the embedding block's weight, same way
THROUGHPUT_MESSAGES = 20_000
BOOTSTRAP = 2000
ROUNDS = 5


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def folds(y: np.ndarray, groups: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds MessageModel uses for a column with labels ``y``."""
    splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(y)), y, list(groups)))


def logistic(C: float, *, dual: bool) -> LogisticRegression:
    # MessageModel's settings; the dual solver reaches the same optimum, several times faster
    # on the sparse-plus-dense concatenation.
    return LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", dual=dual, max_iter=2000, random_state=0
    )


def out_of_fold(
    X: object, y: np.ndarray, split: list[tuple[np.ndarray, np.ndarray]], C: float, *, dual: bool
) -> np.ndarray:
    decision = np.zeros(len(y))
    for train, test in split:
        decision[test] = logistic(C, dual=dual).fit(X[train], y[train]).decision_function(X[test])
    return decision


def platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    model = LogisticRegression(C=1e4).fit(decision[:, None], y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


@dataclass
class Representation:
    name: str
    features: Callable[[list[str]], object]
    coef: np.ndarray  # features x 13 (the twelve characteristics, then grooming at all)
    intercept: np.ndarray
    calibration: tuple[float, float]  # Platt on grooming at all's out-of-fold decisions
    oof_any: np.ndarray  # calibrated out-of-fold grooming-at-all probabilities on the seed
    fit_s: float
    note: str = ""
    any_score: Callable[[object], np.ndarray] | None = None

    def decisions(self, X: object) -> np.ndarray:
        return np.asarray(X @ self.coef) + self.intercept

    def grooming(self, X: object) -> np.ndarray:
        if self.any_score is not None:
            return self.any_score(X)
        a, b = self.calibration
        return sigmoid((np.asarray(X @ self.coef[:, -1]) + self.intercept[-1]) * a + b)


def fit_columns(
    name: str,
    features: Callable[[list[str]], object],
    X: object,
    Y: np.ndarray,
    split: list[tuple[np.ndarray, np.ndarray]],
    C: float,
    *,
    dual: bool,
    began: float,
    note: str = "",
) -> Representation:
    coef = np.zeros((X.shape[1], Y.shape[1]))
    intercept = np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        model = logistic(C, dual=dual).fit(X, Y[:, j])
        coef[:, j] = model.coef_.ravel()
        intercept[j] = model.intercept_[0]
    decision = out_of_fold(X, Y[:, -1], split, C, dual=dual)
    a, b = platt(decision, Y[:, -1])
    return Representation(
        name, features, coef, intercept, (a, b), sigmoid(decision * a + b),
        time.perf_counter() - began, note,
    )  # fmt: skip


class Embedder:
    """wordllama, loaded offline from the wheel, lower-cased text (the seed is lower case,
    and the Llama tokenizer is case-sensitive), mean-pooled, L2-normalised by hand (its own
    ``norm=True`` divides an empty message by zero), truncated to ``dims`` columns."""

    def __init__(self, model: object, dims: int) -> None:
        self.model = model
        self.dims = dims

    def __call__(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.embed([t.lower() for t in texts])[:, : self.dims]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


class Standardised:
    def __init__(self, embed: Callable[[list[str]], np.ndarray], seed_vectors: np.ndarray) -> None:
        self.embed = embed
        self.mean = seed_vectors.mean(axis=0)
        self.scale = seed_vectors.std(axis=0) + 1e-12

    def __call__(self, texts: list[str]) -> np.ndarray:
        return (self.embed(texts) - self.mean) / self.scale


class Concatenated:
    """TF-IDF (word and char blocks each of norm 1, plus context columns) next to the
    standardised embedding divided by sqrt(dims) (norm about 1) times ``weight``."""

    def __init__(self, tfidf: Callable, dense: Standardised, dims: int, weight: float) -> None:
        self.tfidf = tfidf
        self.dense = dense
        self.factor = weight / np.sqrt(dims)

    def __call__(self, texts: list[str]) -> sparse.csr_matrix:
        dense = sparse.csr_matrix((self.dense(texts) * self.factor).astype(np.float32))
        return sparse.hstack([self.tfidf(texts), dense], format="csr")


def segment_score(probs: np.ndarray) -> float:
    if len(probs) == 0:
        return 0.0
    windows = probs[None, :] if len(probs) <= WINDOW else sliding_window_view(probs, WINDOW)
    k = min(TOP, windows.shape[1])
    top = -np.partition(-windows, k - 1, axis=1)[:, :k]
    return float(top.mean(axis=1).max())


def pairwise(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """1 where a positive outranks a negative, 0.5 on ties: its mean is the ROC-AUC."""
    return (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])


def interval(values: np.ndarray, *, signed: bool = False) -> str:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return f"[{lo:+.3f}, {hi:+.3f}]" if signed else f"[{lo:.3f}, {hi:.3f}]"


def heldout_macro_auc(decisions: np.ndarray, held: list[SeedMessage]) -> float:
    aucs = []
    for j, key in enumerate(KEYS):
        y = np.array([key in m.labels for m in held])
        if 0 < y.sum() < len(y):
            aucs.append(roc_auc_score(y, decisions[:, j]))
    return float(np.mean(aucs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, required=True, help="local development folder")
    parser.add_argument("--seed", type=Path, default=SEED_PATH)
    args = parser.parse_args()
    started = time.perf_counter()

    began = time.perf_counter()
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError:
        # Not a dependency of Artemis: it lost this comparison (README, "Detection").
        parser.error("this benchmark needs wordllama: .venv/bin/pip install wordllama")

    import_s = time.perf_counter() - began
    package = Path(wordllama.__file__).parent

    def load(trunc_dim: int | None = None) -> object:
        # The default lookup misses the bundled tokenizer and tries to download it.
        return WordLlama.load(cache_dir=package, disable_download=True, trunc_dim=trunc_dim)

    loads = []
    for _ in range(3):
        began = time.perf_counter()
        llama = load()
        loads.append(time.perf_counter() - began)
    load_s = statistics.median(loads)

    seed = load_seed_messages(args.seed)
    held = load_seed_messages(HELDOUT_PATH)
    texts = [m.text for m in seed]
    groups = [m.group for m in seed]
    Y = np.array([[k in m.labels for k in KEYS] for m in seed], dtype=int)
    Y = np.column_stack([Y, Y.any(axis=1)])
    split = folds(Y[:, -1], groups)
    benign_seed = Y[:, -1] == 0
    held_texts = [m.text for m in held]
    held_any = np.array([m.kind == "grooming" for m in held])

    conversations = read_development_folder(args.corpora)
    pj = [c for c in conversations if c.label == 1]
    pan = [c for c in conversations if c.label == 0]
    offenders = {p for c in pj for p in c.predators}
    corpus_texts = [m.text for c in pj + pan for m in c.messages]
    bounds = np.cumsum([0] + [len(c.messages) for c in pj + pan])

    # (a) the project's own features, MessageModel as it ships.
    began = time.perf_counter()
    message_model = MessageModel()
    oof12 = message_model.fit(texts, [m.labels for m in seed], groups)
    tfidf_fit_s = time.perf_counter() - began
    X_seed = message_model.transform(texts)
    # Its 13th column is fitted inside fit(); its out-of-fold decisions are not returned, so
    # they are recomputed on the same folds (the Platt fit below must match its own).
    oof_decision = out_of_fold(X_seed, Y[:, -1], split, 4.0, dual=False)
    a, b = platt(oof_decision, Y[:, -1])
    platt_gap = float(np.abs(np.array([a, b]) - message_model.platt[-1]).max())
    tfidf = Representation(
        "tfidf: grooming-at-all column", message_model.transform,
        message_model.weights.astype(np.float64), message_model.bias.astype(np.float64),
        (float(message_model.platt[-1, 0]), float(message_model.platt[-1, 1])),
        sigmoid(oof_decision * a + b), tfidf_fit_s,
        f"{X_seed.shape[1]:,} features; Platt refit on the same folds differs by {platt_gap:.1e}",
    )  # fmt: skip
    shipped = Representation(
        "tfidf: max of the 12 shipped scores", message_model.transform, tfidf.coef,
        tfidf.intercept, tfidf.calibration, oof12.max(axis=1), tfidf_fit_s,
        "the calibrated characteristic-and-grooming scores the engine shows",
        any_score=lambda X: message_model.probabilities(X).max(axis=1),
    )  # fmt: skip
    reps = [tfidf, shipped]

    # (b) wordllama alone, at each truncation.
    seed_vectors = {dims: Embedder(llama, dims)(texts) for dims in EMBED_DIMS}
    choices: list[str] = []
    for dims in EMBED_DIMS:
        began = time.perf_counter()
        dense = Standardised(Embedder(llama, dims), seed_vectors[dims])
        X = dense(texts)
        scored = {
            C: roc_auc_score(Y[:, -1], out_of_fold(X, Y[:, -1], split, C, dual=False))
            for C in C_GRID
        }
        C = max(scored, key=scored.get)
        choices.append(
            f"wordllama-{dims}: seed OOF AUC by C "
            + ", ".join(f"{c:g}={v:.4f}" for c, v in scored.items())
        )
        reps.append(
            fit_columns(
                f"wordllama-{dims}", dense, X, Y, split, C, dual=False, began=began,
                note=f"C={C:g}",
            )
        )  # fmt: skip

    # (c) both, the embedding block's weight picked on the seed.
    began = time.perf_counter()
    dense256 = Standardised(Embedder(llama, 256), seed_vectors[256])
    scored = {}
    for weight in BLOCK_WEIGHTS:
        X = Concatenated(message_model.transform, dense256, 256, weight)(texts)
        scored[weight] = roc_auc_score(Y[:, -1], out_of_fold(X, Y[:, -1], split, 4.0, dual=True))
    weight = max(scored, key=scored.get)
    choices.append(
        "tfidf+wordllama-256: seed OOF AUC by block weight "
        + ", ".join(f"{w:g}={v:.4f}" for w, v in scored.items())
    )
    both = Concatenated(message_model.transform, dense256, 256, weight)
    reps.append(
        fit_columns(
            "tfidf+wordllama-256", both, both(texts), Y, split, 4.0, dual=True, began=began,
            note=f"C=4, block weight {weight:g}",
        )
    )  # fmt: skip

    # -- the corpora ------------------------------------------------------------------------
    pan_lengths = np.array([len(c.messages) for c in pan])

    def corpus_figures(probs: np.ndarray, oof_any: np.ndarray | None) -> dict[str, object]:
        per = [probs[bounds[i] : bounds[i + 1]] for i in range(len(pj) + len(pan))]
        pj_probs, pan_probs = per[: len(pj)], per[len(pj) :]
        pos = np.array([segment_score(p[:PJ_OPENING]) for p in pj_probs])
        neg = np.array([segment_score(p) for p in pan_probs])
        # Length-matched: every PJ opening cut to every PAN12 conversation's length.
        cut = {n: np.array([segment_score(p[: min(n, PJ_OPENING)]) for p in pj_probs])
               for n in set(pan_lengths.tolist())}  # fmt: skip
        matched = np.column_stack(
            [pairwise(cut[n], neg[[j]])[:, 0] for j, n in enumerate(pan_lengths)]
        )
        pj_messages = np.concatenate(pj_probs)
        pan_messages = np.concatenate(pan_probs)
        message_auc = roc_auc_score(
            np.r_[np.ones(len(pj_messages)), np.zeros(len(pan_messages))],
            np.r_[pj_messages, pan_messages],
        )
        thresholds = FIXED_THRESHOLDS
        if oof_any is not None:
            thresholds = (float(np.percentile(oof_any[benign_seed], 95)), *thresholds)
        return {
            "pairs": pairwise(pos, neg),
            "matched": matched,
            "message_auc": message_auc,
            "above": int((pos > neg.max()).sum()),
            "flags": [
                (t, float((pan_messages >= t).mean()), float((pj_messages >= t).mean()))
                for t in thresholds
            ],
        }

    results = []
    for rep in reps:
        X_held = rep.features(held_texts)
        figures = corpus_figures(rep.grooming(rep.features(corpus_texts)), rep.oof_any)
        figures.update(
            name=rep.name,
            rep=rep,
            seed_auc=roc_auc_score(Y[:, -1], rep.oof_any),
            held_auc=roc_auc_score(held_any, rep.grooming(X_held)),
            held_macro=heldout_macro_auc(rep.decisions(X_held)[:, :-1], held),
        )
        results.append(figures)
    # What length alone earns: every message scored at random (PJ openings hold 200 messages,
    # PAN12 conversations a median of a handful).
    control = corpus_figures(np.random.default_rng(0).random(len(corpus_texts)), None)
    control["name"] = "control: random message scores"
    results.append(control)
    rng = np.random.default_rng(0)
    draws = [
        (rng.integers(0, len(pj), len(pj)), rng.integers(0, len(pan), len(pan)))
        for _ in range(BOOTSTRAP)
    ]
    for r in results:
        r["boot"] = np.array([r["pairs"][np.ix_(i, j)].mean() for i, j in draws])
        r["boot_matched"] = np.array([r["matched"][np.ix_(i, j)].mean() for i, j in draws])

    # -- throughput ---------------------------------------------------------------------
    from scoring.generator import generate_conversations

    chat = [m.text for c in generate_conversations(500, seed=123) for m in c.messages]
    while len(chat) < THROUGHPUT_MESSAGES:
        chat += chat
    chat = chat[:THROUGHPUT_MESSAGES]
    batches = [chat[i : i + 1000] for i in range(0, len(chat), 1000)]
    timed = [rep for rep in reps if rep is not shipped]
    best = {rep.name: [np.inf, np.inf] for rep in timed}
    with threadpool_limits(1):
        truncated = {dims: Standardised(Embedder(load(dims), dims), seed_vectors[dims])
                     for dims in EMBED_DIMS}  # fmt: skip
        features_of = {
            rep.name: truncated[int(rep.name.split("-")[1])]
            if rep.name.startswith("wordllama-")
            else rep.features
            for rep in timed
        }
        for rep in timed:
            features_of[rep.name](batches[0])  # warm-up
        # Process CPU time, round robin, best of each: other jobs share this machine, and
        # waiting for a core is not this code's cost.
        for _ in range(ROUNDS):
            for rep in timed:
                features = features_of[rep.name]
                began = time.process_time()
                for batch in batches:
                    features(batch)
                middle = time.process_time()
                for batch in batches:
                    rep.grooming(features(batch))
                ended = time.process_time()
                pair = best[rep.name]
                pair[0] = min(pair[0], middle - began)
                pair[1] = min(pair[1], ended - middle)
    rates = [(name, len(chat) / t, len(chat) / s) for name, (t, s) in best.items()]

    # -- report ---------------------------------------------------------------------------
    version = importlib.metadata.version("wordllama")
    pj_total = len(corpus_texts) - int(pan_lengths.sum())
    print(
        f"representation benchmark: trained on the seed ({len(seed):,} lines, "
        f"{int(Y[:, -1].sum()):,} grooming), scored on {len(pj)} Perverted-Justice "
        f"conversations ({len(offenders)} offenders, {pj_total:,} "
        f"messages; segments from the first {PJ_OPENING} of each) and {len(pan)} PAN12 "
        f"conversations ({int(pan_lengths.sum()):,} messages, median {np.median(pan_lengths):.0f})"
    )
    print(
        f"wordllama {version} (l2_supercat, 32,000 x 256 bundled): import {import_s * 1000:.0f} "
        f"ms, WordLlama.load {load_s * 1000:.0f} ms (median of 3)"
    )
    print(
        f"segment = strongest {WINDOW}-message window, window = mean of its top {TOP} "
        f"grooming-at-all probabilities; CIs: {BOOTSTRAP} bootstrap draws of conversations, "
        "paired across representations"
    )
    print()
    print("seed and held-out paraphrases (no corpus involved)")
    print(f"  {'representation':40} {'fit s':>6} {'seed OOF':>9} {'held any':>9} {'held 12':>8}")
    for r in results[:-1]:
        rep = r["rep"]
        print(
            f"  {rep.name:40} {rep.fit_s:6.1f} {r['seed_auc']:9.4f} {r['held_auc']:9.4f} "
            f"{r['held_macro']:8.4f}   {rep.note}"
        )
    print("  (seed OOF: grooming-at-all ROC-AUC out of fold; held any / held 12: ROC-AUC on")
    print("   scoring/data/heldout_paraphrases.jsonl, grooming at all / mean of the 12 plain")
    print("   per-characteristic decisions)")
    for line in choices:
        print(f"  {line}")
    print()
    print("development corpora: PJ first-200 segments vs PAN12 conversations")
    print(
        f"  {'representation':40} {'seg AUC':>7} {'95% CI':>14} {'vs tfidf':>15} "
        f"{'len-matched':>11} {'95% CI':>14} {'vs tfidf':>15} {'msg AUC':>7} {'PJ>maxPAN':>9}"
    )
    base = results[0]
    for r in results:
        seg, matched = r["pairs"].mean(), r["matched"].mean()
        seg_gap = interval(r["boot"] - base["boot"], signed=True)
        matched_gap = interval(r["boot_matched"] - base["boot_matched"], signed=True)
        print(
            f"  {r['name']:40} {seg:7.3f} {interval(r['boot']):>14} {seg_gap:>15} "
            f"{matched:11.3f} {interval(r['boot_matched']):>14} {matched_gap:>15} "
            f"{r['message_auc']:7.3f} {r['above']:>3} of {len(pj)}"
        )
    print("  (seg AUC: ROC-AUC of the first-200 segments against the PAN12 conversations;")
    print("   len-matched: each PJ opening cut to each PAN12 conversation's length, pairwise;")
    print("   vs tfidf: 95% CI of the paired difference from the first row; msg AUC: every PJ")
    print("   message against every PAN12 message; PJ>maxPAN: offenders whose first-200 score")
    print("   beats the highest PAN12 conversation)")
    print()
    print("messages flagged (grooming at all >= threshold): PAN12 share / PJ share")
    print(f"  {'representation':40} {'t95 (seed benign p95)':>30} {'0.5':>15} {'0.7':>15}")
    for r in results[:-1]:
        t95, *fixed = r["flags"]
        cells = [f"{t95[0]:.3f}: {t95[1]:6.1%} / {t95[2]:5.1%}"] + [
            f"{pan_share:6.1%} / {pj_share:5.1%}" for _, pan_share, pj_share in fixed
        ]
        print(f"  {r['name']:40} {cells[0]:>30} {cells[1]:>15} {cells[2]:>15}")
    print()
    print(
        f"throughput, one thread, {len(chat):,} generated chat messages "
        f"(batches of 1,000, best of {ROUNDS}, round robin)"
    )
    print(f"  {'representation':40} {'transform msg/s':>15} {'+ grooming score':>16}")
    print("  (messages per second of process CPU time: other jobs share this machine)")
    for name, transform_rate, score_rate in rates:
        print(f"  {name:40} {transform_rate:15,.0f} {score_rate:16,.0f}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
