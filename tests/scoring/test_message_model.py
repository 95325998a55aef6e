"""The message model's parts that keep hard negatives quiet: the display thresholds chosen
under a hard-negative budget, the context columns, and the fast character n-grams."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from scoring.characteristics import KEYS
from scoring.features import _CONTEXT_KEYS, MessageModel, _context_matrix
from scoring.seed import HELDOUT_PATH, load_seed_messages
from scoring.training import pick_thresholds
from tests.scoring_support import trained_default


@pytest.fixture(scope="module")
def model() -> MessageModel:
    return trained_default().engine.message_model


def _two_characteristics() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Twenty positives of the first characteristic scored 0.3 to 0.9, and ten hard negatives
    that the first characteristic scores 0.3 to 0.75. Every other column is quiet."""
    positives = np.zeros((20, len(KEYS)))
    positives[:, 0] = np.linspace(0.3, 0.9, 20)
    hard = np.zeros((10, len(KEYS)))
    hard[:, 0] = np.linspace(0.3, 0.75, 10)
    probs = np.vstack([positives, hard])
    Y = np.zeros_like(probs, dtype=int)
    Y[:20, 0] = 1
    is_hard = np.array([False] * 20 + [True] * 10)
    return probs, Y, is_hard


def test_thresholds_rise_until_few_hard_negatives_are_highlighted() -> None:
    probs, Y, is_hard = _two_characteristics()

    thresholds = pick_thresholds(probs, Y, is_hard, budget=0.2, max_recall_loss=1.0)

    flagged = probs[is_hard, 0] >= thresholds[KEYS[0]]
    assert flagged.mean() <= 0.2
    assert pick_thresholds(probs, Y)[KEYS[0]] < thresholds[KEYS[0]]


def test_no_characteristic_gives_up_more_recall_than_allowed_for_the_budget() -> None:
    probs, Y, is_hard = _two_characteristics()
    start = pick_thresholds(probs, Y)[KEYS[0]]

    thresholds = pick_thresholds(probs, Y, is_hard, budget=0.0, max_recall_loss=0.1)

    def recall(t: float) -> float:
        return float((probs[:20, 0] >= t).mean())

    assert recall(start) - recall(thresholds[KEYS[0]]) <= 0.1


def test_context_columns_say_whose_family_or_school_it_is() -> None:
    vocabulary = ["your school", "my mum", "the school", "send", "ur dad"]

    matrix = _context_matrix(vocabulary).toarray()

    def columns(term: str) -> set[tuple[str, str]]:
        row = matrix[vocabulary.index(term)]
        return {key for key, hit in zip(_CONTEXT_KEYS, row, strict=True) if hit}

    assert columns("your school") == {("any", "school"), ("your", "school")}
    assert columns("my mum") == {("any", "family"), ("my", "family")}
    assert columns("the school") == {("any", "school")}
    assert columns("ur dad") == {("any", "family"), ("your", "family")}
    assert columns("send") == set()


def test_the_cached_character_n_grams_equal_what_scikit_learn_computes(
    model: MessageModel,
) -> None:
    texts = [m.text for m in load_seed_messages(HELDOUT_PATH)] + [
        "",
        "   ",
        "ÉCOLE ça va??",
        "tabs\tand\nnew lines",
        "lol lol   LOL",
    ]

    ours = model._char_transform(texts)
    theirs = model.char.transform(texts)

    assert ours.shape == theirs.shape
    assert (ours != theirs).nnz == 0


def test_the_one_pass_word_n_grams_equal_what_scikit_learn_computes(
    model: MessageModel,
) -> None:
    texts = [m.text for m in load_seed_messages(HELDOUT_PATH)] + [
        "",
        "   ",
        "ÉCOLE ça va??",
        "dont tell ur mom!! dont tell",
        "a b a b a b",
    ]

    ours, lengths, known = model._word_transform(texts)
    theirs = model.word.transform(texts)

    assert abs(ours - theirs).max() < 1e-6
    assert lengths[-1] == 6
    assert known[-3] <= lengths[-3]


def test_the_assembled_rows_equal_the_sparse_product_entry_for_entry(
    model: MessageModel,
) -> None:
    texts = [m.text for m in load_seed_messages(HELDOUT_PATH)] + [
        "",
        "zorblat quimbly",
        "İstanbul ur mum 13",
        "dont tell ur mom!! dont tell",
    ]
    words, lengths, known = model._word_transform(texts)
    chars = model._char_transform(texts)
    scale = np.sqrt((known + 1) / (lengths + 1))

    ours = model._scaled_stack(words, chars, lengths, scale)
    theirs = sparse.diags(scale) @ model._stack(words, chars, texts, lengths)

    # The same entries in the same order within each row (the order the model's sums run
    # in), so the scores are the same to the bit, not only close.
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)


def test_words_the_seed_never_saw_weaken_a_score_instead_of_vanishing(
    model: MessageModel,
) -> None:
    plain, diluted = model.score(
        ["do you have a phone", "do you have a phone zorblat quimbly frenx"]
    )

    assert diluted.scores["personal_info_probe"] < plain.scores["personal_info_probe"]


def test_a_homework_photo_is_not_a_media_request_but_a_selfie_is(model: MessageModel) -> None:
    homework, selfie = model.score(
        ["can you send me a photo of the worksheet for maths", "send me a selfie"]
    )

    assert "media_request" not in homework.spans
    assert "media_request" in selfie.spans
