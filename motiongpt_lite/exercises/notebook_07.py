"""Checkers for the exercises of notebook 07 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from motiongpt_lite.eval.motion_metrics import r_precision
from motiongpt_lite.eval.text_metrics import caption_metrics
from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_7_1", "check_exercise_7_2", "check_exercise_7_3", "OUTCOMES_7_2"]

OUTCOMES_7_2 = ("higher", "about the same", "lower")  # the predictions exercise 7.2 accepts


def check_exercise_7_1(r_precision_one_batch: Callable, text_emb: np.ndarray, motion_emb: np.ndarray) -> None:
    """7.1: ``r_precision_one_batch(text_emb (B, E), motion_emb (B, E), top_k)`` -> (top_k,) hit rates of one batch.

    Checked on the learner's batch, on a perfect batch (every text is its own motion) and on a batch
    with equal distances everywhere (ties keep index order, so only the first text finds its motion first).
    """
    text_emb, motion_emb = np.asarray(text_emb, np.float64), np.asarray(motion_emb, np.float64)
    cases = {"your batch": (text_emb, motion_emb), "a perfect batch (motion i = text i)": (text_emb, text_emb),
             "a batch where all motions are equal": (text_emb, np.zeros_like(motion_emb))}
    for name, (texts, motions) in cases.items():
        got = np.asarray(r_precision_one_batch(texts, motions, 3), dtype=np.float64)
        want = r_precision(texts, motions, top_k=3, batch_size=len(texts))
        assert got.shape == (3,), (f"Exercise 7.1: return one hit rate per k = 1, 2, 3 (shape (3,)), got shape {got.shape}.")
        assert np.allclose(got, want, atol=1e-9), (
            f"Exercise 7.1: wrong hit rates for {name}. Rank each text's motions by Euclidean distance with a stable "
            "sort, and count a hit at k when the text's own motion (same row) is among the first k; top-k rates "
            "never decrease with k.")
    _correct("7.1")


def check_exercise_7_2(prediction: str, text_emb: np.ndarray, motion_emb: np.ndarray) -> None:
    """7.2: predict how R-precision top-1 changes from batches of 32 to batches of 8, on the same pairs."""
    assert isinstance(prediction, str) and prediction.strip().lower() in OUTCOMES_7_2, (
        f"Exercise 7.2: set prediction to one of {OUTCOMES_7_2}.")
    used = len(text_emb) // 32 * 32  # the same pairs for both batch sizes: every batch of 8 sits inside one of 32
    assert used, "Exercise 7.2: pass at least 32 text-motion pairs."
    at_32 = r_precision(text_emb[:used], motion_emb[:used], top_k=1, batch_size=32)[0]
    at_8 = r_precision(text_emb[:used], motion_emb[:used], top_k=1, batch_size=8)[0]
    outcome = "higher" if at_8 > at_32 + 0.02 else "lower" if at_8 < at_32 - 0.02 else "about the same"
    assert prediction.strip().lower() == outcome, (
        "Exercise 7.2: not what we measured. Think of what a text competes against: with batches of 8 its own "
        "motion has to beat 7 others instead of 31, and a random guess is right 1/8 of the time instead of 1/32.")
    _correct("7.2")


def check_exercise_7_3(leave_one_out: Callable, human: dict, caption_lists: Sequence[Sequence[str]]) -> None:
    """7.3: the human ceiling of the caption metrics, each clip's first caption scored against its others."""
    want_hyp = [list(c)[0] for c in caption_lists if len(c) >= 2]
    want_refs = [list(c)[1:] for c in caption_lists if len(c) >= 2]
    hyp, refs = leave_one_out(caption_lists)
    assert list(hyp) == want_hyp, ("Exercise 7.3: the hypotheses should be the first caption of every clip that has "
                                   "at least two captions (clips with one caption have nothing to be scored against).")
    assert [list(r) for r in refs] == want_refs, ("Exercise 7.3: the references of a clip are its other captions "
                                                  "(all but the first), one list per hypothesis.")
    want = caption_metrics(want_hyp, want_refs)
    assert isinstance(human, dict) and set(want) <= set(human), (
        f"Exercise 7.3: human should be the dict caption_metrics returns, with keys {sorted(want)}.")
    assert all(np.isclose(human[k], want[k]) for k in want), (
        "Exercise 7.3: the scores do not match your hypotheses and references; score them with caption_metrics.")
    _correct("7.3")
