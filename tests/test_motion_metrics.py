"""Motion metrics of the T2M protocol: FID against direct scipy/numpy computations, R-precision of perfect
and random embeddings, hand-checked MM-Dist, Diversity, ADE/FDE and confidence intervals, and PA-MPJPE
against scipy.linalg.orthogonal_procrustes."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.transform import Rotation
from scipy.special import gammaln

from motiongpt_lite.eval import motion_metrics as M


def _expected_gaussian_distance(dim: int) -> float:
    """E||x - y|| for x, y ~ N(0, I_dim): sqrt(2) times the mean of a chi(dim) variable."""
    return 2.0 * math.exp(gammaln((dim + 1) / 2) - gammaln(dim / 2))


# -- FID --------------------------------------------------------------------------------------
def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    emb = np.random.default_rng(0).normal(size=(500, 16))
    assert M.fid(emb, emb) == pytest.approx(0.0, abs=1e-8)
    shifts = [0.1, 0.5, 1.0, 2.0, 4.0]
    values = [M.fid(emb, emb + s) for s in shifts]
    assert all(a < b for a, b in zip(values, values[1:]))
    np.testing.assert_allclose(values, [16 * s ** 2 for s in shifts], rtol=1e-8)  # same covariance: ||mu diff||^2


def test_fid_equals_a_direct_computation():
    rng = np.random.default_rng(1)
    real, gen = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) @ rng.normal(size=(3, 3)) + 0.5
    mu1, mu2 = real.mean(0), gen.mean(0)
    s1, s2 = np.cov(real.T), np.cov(gen.T)
    # tr((s1 s2)^(1/2)) = sum of sqrt eigenvalues of the symmetric s1^(1/2) s2 s1^(1/2)
    root1 = scipy.linalg.sqrtm(s1).real
    tr_covmean = np.sqrt(np.linalg.eigvalsh(root1 @ s2 @ root1).clip(min=0)).sum()
    direct = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_covmean
    assert M.fid(real, gen) == pytest.approx(direct, rel=1e-9)
    # 1-D by hand: {0, 2} has mean 1, variance 2; {1, 5} mean 3, variance 8 -> 2^2 + (sqrt 2 - sqrt 8)^2 = 6
    assert M.fid(np.array([[0.0], [2.0]]), np.array([[1.0], [5.0]])) == pytest.approx(6.0)


def test_fid_adds_eps_when_the_square_root_is_not_finite(monkeypatch):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(50, 4)) + 1
    calls, sqrtm = [], scipy.linalg.sqrtm

    def first_call_fails(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.inf) if len(calls) == 1 else sqrtm(matrix)

    monkeypatch.setattr(M.scipy.linalg, "sqrtm", first_call_fails)
    with pytest.warns(UserWarning, match="singular"):
        value = M.fid(a, b)
    monkeypatch.undo()
    (mu1, s1), (mu2, s2) = M.embedding_statistics(a), M.embedding_statistics(b)
    offset = np.eye(4) * 1e-6
    np.testing.assert_allclose(calls[1], (s1 + offset) @ (s2 + offset))
    covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset)).real  # only the root sees the offset
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    assert value == pytest.approx(expected, rel=1e-12)


def test_fid_rejects_mismatched_embeddings():
    with pytest.raises(ValueError, match="same evaluator"):
        M.fid(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="N >= 2"):
        M.fid(np.zeros((1, 3)), np.zeros((5, 3)))


# -- R-precision and MM-Dist ------------------------------------------------------------------
def test_r_precision_of_perfect_embeddings_is_one():
    emb = np.random.default_rng(3).normal(size=(96, 8))
    np.testing.assert_array_equal(M.r_precision(emb, emb), [1.0, 1.0, 1.0])


def test_r_precision_of_random_embeddings_is_k_over_32():
    rng = np.random.default_rng(4)
    n = 32 * 300
    text_emb, motion_emb = rng.normal(size=(n, 16)), rng.normal(size=(n, 16))
    precision = M.r_precision(text_emb, motion_emb)
    for k, p in enumerate(precision, start=1):
        chance = k / 32
        assert abs(p - chance) < 4 * math.sqrt(chance * (1 - chance) / n), (k, p)  # 4 standard errors


def test_r_precision_by_hand_and_remainder_dropped():
    # batch of 3 on a line: texts 0, 10, 20; motions 1, 30, 21. Text 0 -> own motion nearest; text 10 ->
    # distances 9, 20, 11: own motion third; text 20 -> distances 19, 10, 1: own motion nearest.
    text_emb = np.array([[0.0], [10.0], [20.0], [99.0]])
    motion_emb = np.array([[1.0], [30.0], [21.0], [-99.0]])  # 4th pair: an incomplete batch, ignored
    np.testing.assert_allclose(M.r_precision(text_emb, motion_emb, top_k=3, batch_size=3), [2 / 3, 2 / 3, 1.0])
    with pytest.raises(ValueError, match="at least batch_size=32"):
        M.r_precision(text_emb, motion_emb)


def test_mm_dist_by_hand():
    text_emb = np.array([[0.0, 0.0], [1.0, 1.0]])
    motion_emb = np.array([[3.0, 4.0], [1.0, 1.0]])  # distances 5 and 0
    assert M.mm_dist(text_emb, motion_emb) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="pair row by row"):
        M.mm_dist(text_emb, motion_emb[:1])


def test_matching_metrics_of_real_against_real():
    rng = np.random.default_rng(5)
    motion_emb = rng.normal(size=(70, 8))
    text_emb = motion_emb + rng.normal(scale=1e-3, size=(70, 8))
    row = M.matching_metrics(text_emb, motion_emb, real_motion_emb=motion_emb, diversity_pairs=50, seed=0)
    assert set(row) == {"r_precision_top1", "r_precision_top2", "r_precision_top3", "mm_dist", "diversity", "fid"}
    assert row["r_precision_top1"] == 1.0 and row["fid"] == pytest.approx(0.0, abs=1e-8)
    assert row["mm_dist"] == pytest.approx(np.linalg.norm(text_emb - motion_emb, axis=1).mean(), rel=0.2)
    assert row == M.matching_metrics(text_emb, motion_emb, real_motion_emb=motion_emb, diversity_pairs=50, seed=0)
    assert "fid" not in M.matching_metrics(text_emb, motion_emb, diversity_pairs=50)


# -- Diversity and MultiModality --------------------------------------------------------------
def test_diversity_of_identical_embeddings_is_zero():
    assert M.diversity(np.ones((400, 8))) == 0.0


def test_diversity_of_gaussian_embeddings_matches_the_chi_mean():
    emb = np.random.default_rng(6).normal(size=(2000, 32))
    value = M.diversity(emb, seed=1)
    # 300 pair distances with std about 1 -> standard error about 0.06; a self-pair is rare (p = 1/2000)
    assert value == pytest.approx(_expected_gaussian_distance(32), abs=0.25)
    assert value == M.diversity(emb, seed=1) != M.diversity(emb, seed=2)
    with pytest.raises(ValueError, match="num_pairs <="):
        M.diversity(emb[:100])


def test_multimodality_measures_spread_within_each_text_only():
    rng = np.random.default_rng(7)
    assert M.multimodality(np.broadcast_to(rng.normal(size=(100, 1, 16)), (100, 30, 16))) == 0.0
    spread = rng.normal(size=(100, 30, 16))
    offsets = 50 * rng.normal(size=(100, 1, 16))  # texts far apart: does not enter MultiModality
    assert M.multimodality(spread + offsets, seed=3) == pytest.approx(M.multimodality(spread, seed=3), rel=1e-9)
    # as the reference, the same pair indices serve every text; a pair may repeat a generation (distance 0)
    assert 0.6 * _expected_gaussian_distance(16) < M.multimodality(spread, seed=3) < \
        _expected_gaussian_distance(16) + 0.2
    with pytest.raises(ValueError, match="repeats >= 10"):
        M.multimodality(spread[:, :5])


# -- repeated runs ----------------------------------------------------------------------------
def test_confidence_interval_by_hand():
    mean, half = M.confidence_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and half == pytest.approx(1.96 * math.sqrt(1.25) / 2)  # population std sqrt(1.25)
    summary = M.summarize_runs([{"fid": 1.0, "mm_dist": 3.0}, {"fid": 3.0, "mm_dist": 3.0}])
    assert summary["fid"] == pytest.approx((2.0, 1.96 * 1.0 / math.sqrt(2))) and summary["mm_dist"] == (3.0, 0.0)
    emb = np.random.default_rng(8).normal(size=(400, 4))
    table = M.repeat_runs(lambda seed: {"diversity": M.diversity(emb, seed=seed)}, num_runs=5)
    assert table == M.repeat_runs(lambda seed: {"diversity": M.diversity(emb, seed=seed)}, num_runs=5)
    assert table["diversity"][1] > 0
    with pytest.raises(ValueError, match="same metric names"):
        M.summarize_runs([{"fid": 1.0}, {"mm_dist": 1.0}])


# -- ADE / FDE --------------------------------------------------------------------------------
def test_ade_fde_by_hand():
    target = np.zeros((2, 4, 2, 3))  # (B, T, J, 3)
    pred = target.copy()
    pred[:, :, 0, 0] = np.arange(4)  # joint 0 off by t along x at frame t; joint 1 exact
    # per-joint mean at frame t: t / 2. Sequence 0 (4 frames): mean 0.75, last 1.5;
    # sequence 1 (motion_len 3): mean 0.5, last 1.0
    assert M.ade(pred, target, motion_len=[4, 3]) == pytest.approx((0.75 + 0.5) / 2)
    assert M.fde(pred, target, motion_len=[4, 3]) == pytest.approx((1.5 + 1.0) / 2)
    # prediction after a 2-frame prefix: frames 2, 3 -> (1 + 1.5) / 2; in-between frames [1, 3): (0.5 + 1) / 2
    assert M.ade(pred[0], target[0], start=2) == pytest.approx(1.25)
    assert M.ade(pred[0], target[0], start=1, end=3) == pytest.approx(0.75)
    assert M.fde(pred[0], target[0], start=1, end=3) == pytest.approx(1.0)
    # MotionGPT's reference: norm of the whole pose per frame, here just t
    assert M.ade(pred[0], target[0], per_joint=False) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="start < end"):
        M.ade(pred, target, start=3, end=3)


# -- reconstruction ---------------------------------------------------------------------------
def test_pa_mpjpe_ignores_a_similarity_transform_and_matches_orthogonal_procrustes():
    rng = np.random.default_rng(9)
    target = rng.normal(scale=0.3, size=(6, 22, 3))  # (T, J, 3) metres
    rotation = Rotation.from_rotvec([0.3, -1.1, 0.5]).as_matrix()
    moved = 1.3 * target @ rotation.T + np.array([0.5, 0.0, -2.0])
    assert M.pa_mpjpe(moved, target) < 1e-6 and M.mpjpe(moved, target) > 100

    noisy = moved + rng.normal(scale=0.02, size=moved.shape)
    expected = []
    for x, y in zip(noisy, target):  # per frame: scale * x0 @ R best fits y0 with R orthogonal
        x0, y0 = x - x.mean(0), y - y.mean(0)
        r, singular_sum = scipy.linalg.orthogonal_procrustes(x0, y0)
        assert np.linalg.det(r) > 0  # a rotation, so the unconstrained optimum is the constrained one
        aligned = singular_sum / (x0 ** 2).sum() * x0 @ r + y.mean(0)
        expected.append(np.linalg.norm(aligned - y, axis=-1).mean() * 1000)
    assert M.pa_mpjpe(noisy, target) == pytest.approx(np.mean(expected), rel=1e-9)
    assert 0 < M.pa_mpjpe(noisy, target) < M.mpjpe(noisy, target)
