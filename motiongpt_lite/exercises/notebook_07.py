"""Checkers for the exercises of notebook 07 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

from motiongpt_lite.eval.motion_metrics import fid, frechet_distance, r_precision
from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_7_1", "check_exercise_7_2", "check_exercise_7_3", "gaussian_cases"]


def check_exercise_7_1(r_precision_one_batch: Callable, text_emb: np.ndarray, motion_emb: np.ndarray) -> None:
    """7.1: ``r_precision_one_batch(text_emb (B, E), motion_emb (B, E), top_k)`` -> (top_k,) hit rates of one batch.

    Checked on the learner's batch, on a perfect batch (every text is its own motion) and on a batch
    with equal distances everywhere (ties keep index order, so only the first text finds its motion first).
    """
    text_emb, motion_emb = np.asarray(text_emb, np.float64), np.asarray(motion_emb, np.float64)
    cases = {"your batch": (text_emb, motion_emb),
             "a perfect batch (motion i = text i)": (text_emb, text_emb),
             "a batch where all motions are equal": (text_emb, np.zeros_like(motion_emb))}
    for name, (texts, motions) in cases.items():
        got = np.asarray(r_precision_one_batch(texts, motions, 3), dtype=np.float64)
        want = r_precision(texts, motions, top_k=3, batch_size=len(texts))
        assert got.shape == (3,), (
            f"Exercise 7.1: return one hit rate per k = 1, 2, 3 (shape (3,)), got shape {got.shape}.")
        assert np.allclose(got, want, atol=1e-9), (
            f"Exercise 7.1: wrong hit rates for {name}. Rank each text's motions by Euclidean distance with a "
            "stable sort, and count a hit at k when the text's own motion (same row) is among the first k; "
            "top-k rates never decrease with k.")
    _correct("7.1")


def _spd(rng: np.random.Generator, dim: int) -> np.ndarray:
    """A random symmetric positive definite (dim, dim) matrix, well conditioned."""
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + 0.2 * np.eye(dim)


def gaussian_cases(dim: int = 5, seed: int = 0) -> dict[str, tuple[np.ndarray, ...]]:
    """Pairs of Gaussians ``(mu1, sigma1, mu2, sigma2)`` that exercise 7.2 is checked on.

    Full covariances that do not commute (where (S1 S2)^(1/2) differs from S1^(1/2) S2^(1/2) and from
    the element-wise root), diagonal ones (which have a closed form), equal ones (distance 0) and a
    one-dimensional pair.
    """
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
    s1, s2 = _spd(rng, dim), _spd(rng, dim)
    v1, v2 = rng.uniform(0.1, 3.0, dim), rng.uniform(0.1, 3.0, dim)
    return {"two equal Gaussians": (mu1, s1, mu1, s1.copy()),  # first: the checker's hints follow this order
            "the same mean, two full covariances": (mu1, s1, mu1, s2),
            "two full covariances": (mu1, s1, mu2, s2),
            "two diagonal covariances": (mu1, np.diag(v1), mu2, np.diag(v2)),
            "one dimension": (mu1[:1], np.diag(v1[:1]), mu2[:1], np.diag(v2[:1]))}


def _diagonal_closed_form(mu1, var1, mu2, var2) -> float:
    """||mu1 - mu2||^2 + sum_i (sqrt(var1_i) - sqrt(var2_i))^2: the Frechet distance of diagonal Gaussians."""
    return float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(var1) - np.sqrt(var2)) ** 2).sum())


def _as_real(value, name: str, exercise: str) -> float:
    value = np.asarray(value)
    assert value.size == 1, f"Exercise {exercise}: {name} should return one number, got shape {value.shape}."
    assert not np.iscomplexobj(value) or abs(value.imag).max() == 0, (
        f"Exercise {exercise}: {name} returned a complex number; sqrtm can return a complex matrix with "
        "rounding-size imaginary parts: keep its real part.")
    return float(np.real(value).reshape(()))


def check_exercise_7_2(frechet: Callable, frechet_diagonal: Callable) -> None:
    """7.2: the Frechet distance of two Gaussians, ``frechet(mu1, sigma1, mu2, sigma2)`` with
    ``scipy.linalg.sqrtm``, and its closed form for diagonal covariances,
    ``frechet_diagonal(mu1, var1, mu2, var2)`` (variances as (D,) vectors).

    ``frechet`` is compared with :func:`motiongpt_lite.eval.motion_metrics.frechet_distance` on the
    cases of :func:`gaussian_cases`; both are compared with the closed form on the diagonal ones.
    """
    for name, (mu1, s1, mu2, s2) in gaussian_cases().items():
        got = _as_real(frechet(mu1.copy(), s1.copy(), mu2.copy(), s2.copy()), "frechet", "7.2")
        want = frechet_distance(mu1, s1, mu2, s2)
        if not np.isclose(got, want, rtol=1e-6, atol=1e-8):
            if not np.isfinite(got):
                hint = "that is not a finite number (a square root of a tiny negative rounding error?)."
            elif np.isclose(got ** 2, want, rtol=1e-6, atol=1e-8):
                hint = "you return the distance itself; FID is its square, d^2 (no square root at the end)."
            elif name == "the same mean, two full covariances":
                hint = ("the covariance part is wrong: tr(S1 + S2 - 2 (S1 S2)^(1/2)), the root of the product "
                        "S1 @ S2 (a matrix product), taken with scipy.linalg.sqrtm.")
            elif name == "two equal Gaussians":
                hint = ("two equal Gaussians must be at distance 0, so the covariance part tr(S + S - 2 (S S)^(1/2)) "
                        "must vanish; look at the root and the factor in front of it.")
            else:
                hint = "the mean part is the squared Euclidean distance ||mu1 - mu2||^2."
            raise AssertionError(f"Exercise 7.2: frechet gives {got:.6g} for {name}, not {want:.6g}; {hint}")
    for seed in range(3):
        for name, (mu1, s1, mu2, s2) in gaussian_cases(dim=4 + seed, seed=10 + seed).items():
            if name not in ("two diagonal covariances", "one dimension"):
                continue
            var1, var2 = np.diag(s1).copy(), np.diag(s2).copy()
            want = _diagonal_closed_form(mu1, var1, mu2, var2)
            got = _as_real(frechet_diagonal(mu1.copy(), var1, mu2.copy(), var2), "frechet_diagonal", "7.2")
            assert np.isclose(got, want, rtol=1e-9, atol=1e-12), (
                f"Exercise 7.2: frechet_diagonal gives {got:.6g} for {name}, not {want:.6g}. With diagonal "
                "covariances the product S1 S2 is diagonal too, and its root is taken entry by entry; write "
                "the trace term as a sum over dimensions of variances (the inputs are variances, not standard "
                "deviations).")
            assert np.isclose(frechet_distance(mu1, s1, mu2, s2), want, rtol=1e-6)  # the package agrees
    _correct("7.2")


def check_exercise_7_3(predict_fid_of_copies: Callable, real_emb: np.ndarray, copies_emb: np.ndarray) -> None:
    """7.3: predict, from the formula, the FID of a generator that writes one motion over and over.

    ``predict_fid_of_copies(real_emb (N, E), one_emb (E,))`` is compared with the FID that
    :func:`~motiongpt_lite.eval.motion_metrics.fid` measures against ``N`` copies of ``one_emb``: on
    the notebook's embeddings (``copies_emb``, every row the embedding of the same motion) and on
    small random sets, where a biased (N) covariance or a dropped term shows.
    """
    real_emb, copies_emb = np.asarray(real_emb, np.float64), np.asarray(copies_emb, np.float64)
    assert copies_emb.ndim == 2 and np.allclose(copies_emb, copies_emb[:1], atol=1e-5), (
        "Exercise 7.3: copies_emb should hold the embeddings of one motion repeated (section 6's collapsed "
        "set at share 1.0).")
    rng = np.random.default_rng(7)
    cases = {"your embeddings": (real_emb, copies_emb[0], len(copies_emb), 1e-3)}
    for n, dim in ((6, 3), (12, 4), (40, 2)):
        x = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim)) + rng.normal(size=dim)
        cases[f"{n} random embeddings in {dim} dimensions"] = (x, rng.normal(size=dim), n, 1e-9)
    for name, (real, one, copies, rtol) in cases.items():
        with warnings.catch_warnings():  # fewer real embeddings than dimensions: a singular covariance
            warnings.simplefilter("ignore")
            measured = fid(real, np.repeat(one[None], copies, axis=0))
        got = _as_real(predict_fid_of_copies(real.copy(), one.copy()), "predict_fid_of_copies", "7.3")
        if np.isclose(got, measured, rtol=rtol, atol=1e-9):
            continue
        n = len(real)
        spread = float(np.trace(np.cov(real, rowvar=False).reshape(real.shape[1], -1)))
        if np.isclose(got, spread * (n - 1) / n + (measured - spread), rtol=1e-6):
            hint = "the protocol's covariance is the unbiased one (divides by N - 1, as np.cov does)."
        else:
            hint = ("what are the mean and the covariance of N copies of one embedding? Put them into "
                    "||mu_r - mu_g||^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2)); every term counts.")
        raise AssertionError(f"Exercise 7.3: you predict {got:.6g} for {name}, FID measures {measured:.6g}; "
                             f"{hint}")
    _correct("7.3")
