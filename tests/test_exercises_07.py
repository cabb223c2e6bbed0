"""The checkers of notebook 07 (motiongpt_lite.exercises.notebook_07): a right answer passes with the
verdict line, a plausible wrong one raises AssertionError with a hint, and an unsolved one is "not done yet"."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from motiongpt_lite.eval.motion_metrics import fid
from motiongpt_lite.exercises import check_exercise_7_1, check_exercise_7_2, check_exercise_7_3, run_check
from motiongpt_lite.exercises.notebook_07 import gaussian_cases

# --- 7.1 R-precision of one batch ---


def right_r_precision(text_emb, motion_emb, top_k):
    d = np.linalg.norm(text_emb[:, None] - motion_emb[None], axis=-1)
    rank = (np.argsort(d, axis=1, kind="stable") == np.arange(len(d))[:, None]).argmax(1)
    return np.array([(rank < k).mean() for k in range(1, top_k + 1)])


def test_7_1_right_and_wrong(capsys):
    rng = np.random.default_rng(0)
    texts = rng.normal(size=(32, 8))
    motions = texts + rng.normal(scale=1.0, size=(32, 8))
    check_exercise_7_1(right_r_precision, texts, motions)
    assert capsys.readouterr().out == "Exercise 7.1: correct ✓\n"
    with pytest.raises(AssertionError, match="stable"):  # rank <= k: one too many at every k
        check_exercise_7_1(lambda t, m, k: np.minimum(1, right_r_precision(t, m, k + 1)[1:]), texts, motions)


# --- 7.2 the Frechet distance of two Gaussians ---

def right_frechet(mu1, sigma1, mu2, sigma2):
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1 + sigma2 - 2 * covmean))


def right_diagonal(mu1, var1, mu2, var2):
    return float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(var1) - np.sqrt(var2)) ** 2).sum())


def test_7_2_right_answer_passes(capsys):
    check_exercise_7_2(right_frechet, right_diagonal)
    assert capsys.readouterr().out == "Exercise 7.2: correct ✓\n"


def test_7_2_cases_need_the_matrix_root():
    """The full cases are ones where the shortcuts give other numbers (else the checker could not tell)."""
    mu1, s1, mu2, s2 = gaussian_cases()["two full covariances"]
    assert not np.allclose(s1 @ s2, s2 @ s1)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    assert abs(np.trace(root) - np.trace(scipy.linalg.sqrtm(s1).real @ scipy.linalg.sqrtm(s2).real)) > 1e-3
    assert abs(np.trace(root) - np.trace(np.sqrt(np.abs(s1 * s2)))) > 1e-3


def _trace_term(wrong_root):
    return lambda m1, s1, m2, s2: float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2) - 2 * wrong_root(s1, s2))


@pytest.mark.parametrize("wrong, hint", [
    (lambda m1, s1, m2, s2: np.sqrt(abs(right_frechet(m1, s1, m2, s2))), "square"),  # the distance, not d^2
    (lambda m1, s1, m2, s2: right_frechet(m1, s1, m2, s2) - ((m1 - m2) ** 2).sum()
     + np.linalg.norm(m1 - m2), "mean part"),  # ||mu1 - mu2|| not squared
    (_trace_term(lambda s1, s2: np.trace(scipy.linalg.sqrtm(s1).real @ scipy.linalg.sqrtm(s2).real)),
     "covariance part"),  # S1^(1/2) S2^(1/2)
    (_trace_term(lambda s1, s2: np.trace(np.sqrt(np.abs(s1 * s2)))), "covariance part"),  # element-wise
    (_trace_term(lambda s1, s2: np.trace(scipy.linalg.sqrtm(s1 @ s2).real) / 2), "covariance part|factor"),
    (_trace_term(lambda s1, s2: np.trace(scipy.linalg.sqrtm(s1 + s2).real)), "covariance part|factor"),
    (lambda m1, s1, m2, s2: complex(right_frechet(m1, s1, m2, s2), 1e-9), "complex"),
    (lambda m1, s1, m2, s2: np.sqrt(right_frechet(m1, s1, m2, s2)), "finite|square"),  # nan at distance 0 (warns)
])
def test_7_2_wrong_frechet_is_rejected(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_exercise_7_2(wrong, right_diagonal)


@pytest.mark.parametrize("wrong", [
    lambda m1, v1, m2, v2: float(((m1 - m2) ** 2).sum() + ((v1 - v2) ** 2).sum()),  # variances read as stds
    lambda m1, v1, m2, v2: float(((m1 - m2) ** 2).sum() + (np.sqrt(v1) - np.sqrt(v2)).sum()),  # not squared
    lambda m1, v1, m2, v2: float(((m1 - m2) ** 2).sum() + (v1 + v2 - np.sqrt(v1 * v2)).sum()),  # factor 2 lost
    lambda m1, v1, m2, v2: float(np.abs(m1 - m2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()),
])
def test_7_2_wrong_closed_form_is_rejected(wrong):
    with pytest.raises(AssertionError, match="frechet_diagonal"):
        check_exercise_7_2(right_frechet, wrong)


# --- 7.3 predict the FID of one motion, copied ---

def right_prediction(real_emb, one_emb):
    return float(((real_emb.mean(0) - one_emb) ** 2).sum() + np.trace(np.cov(real_emb, rowvar=False)))


@pytest.fixture(scope="module")
def embeddings():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(50, 6)) * rng.uniform(0.5, 2.0, 6)
    one = rng.normal(size=6)
    return real, np.repeat(one[None], 20, axis=0)


def test_7_3_right_prediction_passes(embeddings, capsys):
    check_exercise_7_3(right_prediction, *embeddings)
    assert capsys.readouterr().out == "Exercise 7.3: correct ✓\n"


def test_7_3_the_prediction_is_what_fid_measures(embeddings):
    real, copies = embeddings
    assert np.isclose(fid(real, copies), right_prediction(real, copies[0]), rtol=1e-9)


@pytest.mark.parametrize("wrong, hint", [
    (lambda r, e: float(((r.mean(0) - e) ** 2).sum() + r.var(0).sum()), "N - 1"),  # biased covariance
    (lambda r, e: float(((r - e) ** 2).sum(1).mean()), "N - 1"),  # mean squared distance to the one motion
    (lambda r, e: float(((r.mean(0) - e) ** 2).sum()), "every term"),  # the spread of the real set forgotten
    (lambda r, e: float(np.trace(np.cov(r, rowvar=False))), "every term"),  # the mean forgotten
    (lambda r, e: float(np.linalg.norm(r.mean(0) - e) + np.trace(np.cov(r, rowvar=False))), "every term"),
    (lambda r, e: 0.0, "every term"),
])
def test_7_3_wrong_prediction_is_rejected(embeddings, wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_exercise_7_3(wrong, *embeddings)


def test_7_3_needs_copies_of_one_motion(embeddings):
    real, copies = embeddings
    with pytest.raises(AssertionError, match="one motion repeated"):
        check_exercise_7_3(right_prediction, real, real)


def test_unsolved_exercises_are_reported_not_raised(capsys):
    def unsolved(*args):
        raise NotImplementedError("Exercise 7.2: define `frechet`")
    run_check("7.2", lambda: check_exercise_7_2(unsolved, right_diagonal))
    run_check("7.3", lambda: check_exercise_7_3(predict_fid_of_copies, None, None))  # noqa: F821 (undefined)
    out = capsys.readouterr().out
    assert "Exercise 7.2: not done yet" in out and "Exercise 7.3: not done yet" in out and "✓" not in out
