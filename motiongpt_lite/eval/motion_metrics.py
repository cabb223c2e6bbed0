"""Motion metrics of the text-to-motion protocol (Guo et al. 2022, used by MotionGPT) (notebook 07).

Everything here works on plain arrays. The distribution and retrieval metrics take *embeddings*
from an evaluator (a text encoder and a motion encoder that map into one space, D = 512 for the
official T2M evaluator); the joint metrics take joints (T, J, 3) in metres.

==================  ==========================================================================
metric              what it measures
==================  ==========================================================================
FID                 Frechet distance between Gaussians fitted to real and generated motions
R-precision top-k   in batches of 32 pairs: is a text's own motion among its k nearest motions
MM-Dist             mean Euclidean distance between a text and its own motion
Diversity           mean distance between 300 random pairs of motions
MultiModality       mean distance between pairs of generations for the same text
ADE / FDE           joint displacement over the predicted frames / at the last one
MPJPE, PA-MPJPE     reconstruction error in mm, raw (root-aligned) and after Procrustes
==================  ==========================================================================

The protocol repeats the whole evaluation (20 times for HumanML3D) and reports
``mean +- 1.96 std / sqrt(runs)`` (:func:`confidence_interval`). Numbers are only comparable
between models measured with the same evaluator. The reconstruction metrics (MPJPE, PA-MPJPE,
acceleration error) are those of :mod:`motiongpt_lite.vq.metrics` (notebook 02), re-exported here.
"""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist

from motiongpt_lite.vq.metrics import accel_error, mpjpe, pa_mpjpe, procrustes_align

__all__ = ["embedding_statistics", "frechet_distance", "fid", "euclidean_distance_matrix", "r_precision",
           "mm_dist", "diversity", "multimodality", "matching_metrics", "confidence_interval", "summarize_runs",
           "repeat_runs", "ade", "fde", "mpjpe", "pa_mpjpe", "procrustes_align", "accel_error", "R_PRECISION_BATCH",
           "TOP_K", "DIVERSITY_PAIRS", "MULTIMODALITY_PAIRS", "MULTIMODALITY_TEXTS", "MULTIMODALITY_REPEATS",
           "REPLICATIONS"]

# The protocol's constants (T2M and MotionGPT evaluation settings); the main job uses them as its defaults.
R_PRECISION_BATCH = 32  # texts ranked against their own motion and 31 others
TOP_K = 3  # R-precision top-1, top-2, top-3
DIVERSITY_PAIRS = 300  # random pairs of motions for Diversity
MULTIMODALITY_PAIRS = 10  # pairs of generations per text for MultiModality
MULTIMODALITY_TEXTS = 100  # texts the protocol samples for MultiModality ...
MULTIMODALITY_REPEATS = 30  # ... each generated this many times
REPLICATIONS = 20  # repeated evaluation runs for the confidence interval


def _embeddings(x: np.ndarray, name: str, min_rows: int = 1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < min_rows:
        raise ValueError(f"{name} must be (N >= {min_rows}, D) embeddings, got shape {x.shape}; "
                         "stack one embedding per motion or text into a 2-D array.")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN/inf; check the evaluator's inputs (empty or NaN motions).")
    return x


def _pairs(text_emb: np.ndarray, motion_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    text_emb, motion_emb = _embeddings(text_emb, "text_emb"), _embeddings(motion_emb, "motion_emb")
    if text_emb.shape != motion_emb.shape:
        raise ValueError(f"text_emb {text_emb.shape} and motion_emb {motion_emb.shape} must pair row by row; "
                         "embed text i and motion i with the same evaluator and stack them in the same order.")
    return text_emb, motion_emb


# -- FID --------------------------------------------------------------------------------------
def embedding_statistics(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, N - 1) covariance of a set of embeddings.

    Args:
        emb: (N, D) embeddings, N >= 2.
    Returns:
        ``mu`` (D,) and ``sigma`` (D, D).
    """
    emb = _embeddings(emb, "emb", min_rows=2)
    return emb.mean(0), np.cov(emb, rowvar=False).reshape(emb.shape[1], emb.shape[1])


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Frechet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    ``d^2 = ||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``

    The matrix square root comes from ``scipy.linalg.sqrtm``, handled as the reference does: if the
    product is too singular for a finite root, ``eps`` is added to both diagonals and the root is
    taken again; a complex result whose diagonal has imaginary parts above 1e-3 is an error, smaller
    imaginary parts are rounding and dropped.

    Args:
        mu1, mu2: (D,) means.
        sigma1, sigma2: (D, D) covariances.
        eps: diagonal offset for the singular case.
    Returns:
        the squared Frechet distance (what papers call FID), a float.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, dtype=np.float64)), np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"means {mu1.shape}, {mu2.shape} and covariances {sigma1.shape}, {sigma2.shape} do not "
                         "match; both sets must come from the same evaluator (same embedding size D).")
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)  # (D, D), maybe complex
    if not np.isfinite(covmean).all():
        warnings.warn(f"FID: the covariance product is singular; adding {eps} to the diagonals "
                      "(use more samples than embedding dimensions to avoid this).", stacklevel=2)
        offset = np.eye(len(mu1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: the covariance square root has an imaginary part of "
                             f"{np.abs(covmean.imag).max():.3g}; use more samples than embedding dimensions.")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(real_emb: np.ndarray, gen_emb: np.ndarray) -> float:
    """FID between real and generated motion embeddings: :func:`frechet_distance` of their statistics.

    Args:
        real_emb: (N1, D) embeddings of real motions (the test set).
        gen_emb: (N2, D) embeddings of generated motions.
    Returns:
        FID (0 for identical sets; lower is better).
    """
    return frechet_distance(*embedding_statistics(real_emb), *embedding_statistics(gen_emb))


# -- retrieval: R-precision and MM-Dist -------------------------------------------------------
def euclidean_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise Euclidean distances ``dist[i, j] = ||a_i - b_j||``.

    Args:
        a: (N1, D). b: (N2, D).
    Returns:
        (N1, N2) distances.
    """
    return cdist(_embeddings(a, "a"), _embeddings(b, "b"))


def r_precision(text_emb: np.ndarray, motion_emb: np.ndarray, top_k: int = TOP_K,
                batch_size: int = R_PRECISION_BATCH) -> np.ndarray:
    """R-precision: how often a text's own motion is among its k nearest motions.

    Pairs are cut into consecutive batches of ``batch_size`` (the protocol shuffles first; see
    :func:`matching_metrics`), the incomplete last batch is dropped as in the reference. In each
    batch, text i ranks the batch's motions by Euclidean distance (stable sort: ties keep index
    order); a hit at k means motion i is among the first k.

    ``R@k = (1 / N_used) * sum_i [rank_i < k]``; random embeddings give about k / batch_size.

    Args:
        text_emb: (N, D) text embeddings. motion_emb: (N, D) motion embeddings, row i matching text i.
        top_k: largest k reported.
        batch_size: texts and motions ranked together (32 in the protocol).
    Returns:
        (top_k,) fractions for k = 1..top_k.
    """
    text_emb, motion_emb = _pairs(text_emb, motion_emb)
    num_batches = len(text_emb) // batch_size
    if num_batches == 0:
        raise ValueError(f"R-precision needs at least batch_size={batch_size} pairs, got {len(text_emb)}; "
                         "evaluate more pairs or pass a smaller batch_size (and say so next to the number).")
    hits = np.zeros(top_k)
    for b in range(num_batches):
        rows = slice(b * batch_size, (b + 1) * batch_size)
        dist = euclidean_distance_matrix(text_emb[rows], motion_emb[rows])  # (B, B)
        order = np.argsort(dist, axis=1, kind="stable")[:, :top_k]  # (B, top_k) nearest motions
        found = order == np.arange(batch_size)[:, None]  # (B, top_k) own motion at rank k
        hits += np.cumsum(found, axis=1).astype(bool).sum(0)  # top-k hit once found at any rank <= k
    return hits / (num_batches * batch_size)


def mm_dist(text_emb: np.ndarray, motion_emb: np.ndarray) -> float:
    """Multimodal distance: ``(1 / N) * sum_i ||t_i - m_i||`` between matched text and motion embeddings.

    Args:
        text_emb, motion_emb: (N, D), row i of each belonging together.
    Returns:
        the mean matched distance (lower is better; compare with the real motions' value).
    """
    text_emb, motion_emb = _pairs(text_emb, motion_emb)
    return float(np.linalg.norm(text_emb - motion_emb, axis=1).mean())


# -- Diversity and MultiModality --------------------------------------------------------------
def diversity(motion_emb: np.ndarray, num_pairs: int = DIVERSITY_PAIRS, seed: int = 0) -> float:
    """Diversity: ``(1 / S) * sum_s ||v_{i_s} - v_{j_s}||`` over S random pairs of motions.

    As the reference, two index sets of size S are drawn without replacement, independently, so a
    pair may now and then be a motion with itself.

    Args:
        motion_emb: (N, D) motion embeddings, N >= num_pairs.
        num_pairs: S (300 in the protocol).
        seed: seeds the pair draw.
    Returns:
        mean pair distance (closer to the real motions' value is better).
    """
    motion_emb = _embeddings(motion_emb, "motion_emb")
    if len(motion_emb) < num_pairs:
        raise ValueError(f"Diversity draws {num_pairs} pairs without replacement from {len(motion_emb)} motions; "
                         "pass num_pairs <= the number of motions (and say so next to the number).")
    rng = np.random.default_rng(seed)
    first = rng.choice(len(motion_emb), num_pairs, replace=False)  # (S,)
    second = rng.choice(len(motion_emb), num_pairs, replace=False)  # (S,)
    return float(np.linalg.norm(motion_emb[first] - motion_emb[second], axis=1).mean())


def multimodality(motion_emb: np.ndarray, num_pairs: int = MULTIMODALITY_PAIRS, seed: int = 0) -> float:
    """MultiModality: how different the generations for one text are.

    ``MModality = (1 / (C * S)) * sum_c sum_s ||v_{c, i_s} - v_{c, j_s}||`` for C texts, each generated
    R times (the protocol: C = 100 texts sampled, R = 30, S = 10). As the reference, the index sets
    ``i`` and ``j`` (S each, drawn from R without replacement) are the same for every text.

    Args:
        motion_emb: (C, R, D) embeddings of R generations for each of C texts, R >= num_pairs.
        num_pairs: S.
        seed: seeds the pair draw.
    Returns:
        the mean distance between generations of the same text (higher = more varied).
    """
    motion_emb = np.asarray(motion_emb, dtype=np.float64)
    if motion_emb.ndim != 3 or motion_emb.shape[1] < num_pairs:
        raise ValueError(f"motion_emb must be (texts, repeats >= {num_pairs}, D), got {motion_emb.shape}; "
                         "generate each text at least num_pairs times.")
    rng = np.random.default_rng(seed)
    first = rng.choice(motion_emb.shape[1], num_pairs, replace=False)  # (S,)
    second = rng.choice(motion_emb.shape[1], num_pairs, replace=False)  # (S,)
    return float(np.linalg.norm(motion_emb[:, first] - motion_emb[:, second], axis=2).mean())


def matching_metrics(text_emb: np.ndarray, motion_emb: np.ndarray, real_motion_emb: np.ndarray | None = None,
                     top_k: int = TOP_K, batch_size: int = R_PRECISION_BATCH,
                     diversity_pairs: int = DIVERSITY_PAIRS, seed: int = 0) -> dict[str, float]:
    """One replication of the protocol's table row for pairs (text i, motion i).

    The pairs are shuffled with ``seed``; R-precision and MM-Dist use the same complete batches
    (as the reference, the remainder of fewer than ``batch_size`` pairs is left out of both);
    Diversity uses all motions; FID compares all motions with ``real_motion_emb`` when given.
    Works as well for caption embeddings against the motions they describe (motion-to-text).

    Args:
        text_emb: (N, D) text embeddings. motion_emb: (N, D) the motions paired with them.
        real_motion_emb: (M, D) real test motions for FID, or None to skip FID.
        top_k, batch_size, diversity_pairs: as in :func:`r_precision` and :func:`diversity`.
        seed: seeds the shuffle and the Diversity pairs.
    Returns:
        dict with ``r_precision_top1`` .. ``r_precision_top{top_k}``, ``mm_dist``, ``diversity`` and
        ``fid`` (when ``real_motion_emb`` is given).
    """
    text_emb, motion_emb = _pairs(text_emb, motion_emb)
    order = np.random.default_rng(seed).permutation(len(text_emb))
    used = order[: len(order) // batch_size * batch_size]  # complete batches only
    precision = r_precision(text_emb[used], motion_emb[used], top_k, batch_size)  # (top_k,)
    report = {f"r_precision_top{k + 1}": float(p) for k, p in enumerate(precision)}
    report["mm_dist"] = mm_dist(text_emb[used], motion_emb[used])
    report["diversity"] = diversity(motion_emb, diversity_pairs, seed)
    if real_motion_emb is not None:
        report["fid"] = fid(real_motion_emb, motion_emb)
    return report


# -- repeated runs ----------------------------------------------------------------------------
def confidence_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and 95% confidence half-width of repeated runs: ``1.96 * std / sqrt(n)``.

    As the reference, ``std`` is the population standard deviation (``np.std``, ddof = 0).

    Args:
        values: (n,) one metric's value in each run.
    Returns:
        ``(mean, half_width)``; report as ``mean +- half_width``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D list of per-run numbers, got shape {values.shape}.")
    return float(values.mean()), float(1.96 * values.std() / np.sqrt(len(values)))


def summarize_runs(runs: Sequence[dict[str, float]]) -> dict[str, tuple[float, float]]:
    """``{metric: (mean, half_width)}`` over runs that each report the same metric names."""
    if not runs or any(run.keys() != runs[0].keys() for run in runs):
        raise ValueError("runs must be a non-empty list of dicts with the same metric names in every run.")
    return {name: confidence_interval([run[name] for run in runs]) for name in runs[0]}


def repeat_runs(run: Callable[[int], dict[str, float]], num_runs: int = REPLICATIONS,
                seed: int = 0) -> dict[str, tuple[float, float]]:
    """Call ``run(seed + r)`` for r = 0 .. num_runs - 1 and summarise with :func:`summarize_runs`."""
    return summarize_runs([run(seed + r) for r in range(num_runs)])


# -- prediction and in-betweening -------------------------------------------------------------
def _displacements(pred: np.ndarray, target: np.ndarray, motion_len, start, end,
                   per_joint: bool) -> list[np.ndarray]:
    """Per-sequence distances over each evaluated window: a list of (T_i,) arrays."""
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if pred.ndim == 3:
        pred, target = pred[None], target[None]  # (1, T, J, 3)
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[-1] != 3:
        raise ValueError(f"pred and target must be joints of equal shape (T, J, 3) or (B, T, J, 3), got "
                         f"{np.shape(pred)} and {np.shape(target)}; crop both to the same frames.")
    batch, frames = pred.shape[:2]
    motion_len = np.full(batch, frames) if motion_len is None else np.asarray(motion_len).reshape(batch)
    start = np.broadcast_to(np.asarray(start), (batch,))
    end = motion_len if end is None else np.broadcast_to(np.asarray(end), (batch,))
    if per_joint:
        dist = np.linalg.norm(pred - target, axis=-1)  # (B, T, J) per-joint distances
    else:
        dist = np.linalg.norm(pred - target, axis=(-2, -1))[..., None]  # (B, T, 1) norm of the whole pose
    windows = []
    for b in range(batch):
        if not 0 <= start[b] < end[b] <= min(motion_len[b], frames):
            raise ValueError(f"sequence {b}: the window [{start[b]}, {end[b]}) is empty or outside its "
                             f"{motion_len[b]} frames; pass start < end <= motion_len.")
        windows.append(dist[b, start[b]:end[b]].mean(-1))  # (T_b,) mean over joints
    return windows


def ade(pred: np.ndarray, target: np.ndarray, motion_len=None, start=0, end=None, per_joint: bool = True) -> float:
    """Average displacement error over the generated frames, in the joints' units (metres).

    ``ADE = (1 / B) * sum_b (1 / T_b) * sum_{t in window_b} (1 / J) * sum_j ||p_btj - g_btj||``:
    each sequence is averaged over its window first, then sequences are averaged, as in MotionGPT's
    reference. Prediction: ``start`` = the given prefix length; in-betweening: ``start`` and ``end``
    bound the gap.

    Paper vs code: MotionGPT's reference takes the norm of the whole flattened (J * 3) pose
    difference per frame instead of averaging per-joint distances; ``per_joint=False`` reproduces it
    (``||p_bt - g_bt||`` over all joints at once), for comparison with the paper's numbers.

    Args:
        pred, target: (T, J, 3) or (B, T, J, 3) joints.
        motion_len: (B,) valid frames per sequence (default: all T).
        start: int or (B,) first evaluated frame.
        end: int or (B,) one past the last evaluated frame (default: ``motion_len``).
        per_joint: mean per-joint distance (True) or the reference's whole-pose norm (False).
    Returns:
        ADE.
    """
    return float(np.mean([w.mean() for w in _displacements(pred, target, motion_len, start, end, per_joint)]))


def fde(pred: np.ndarray, target: np.ndarray, motion_len=None, start=0, end=None, per_joint: bool = True) -> float:
    """Final displacement error: the distance of :func:`ade` at the window's last frame, averaged over sequences.

    Args and Returns as :func:`ade` (``FDE = (1 / B) * sum_b (1 / J) * sum_j ||p_b,end-1,j - g_b,end-1,j||``).
    """
    return float(np.mean([w[-1] for w in _displacements(pred, target, motion_len, start, end, per_joint)]))
