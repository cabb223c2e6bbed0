"""Tokenizer quality as in the paper's table 8: MPJPE, PA-MPJPE, acceleration error, codebook usage (notebook 02).

Joint errors take positions in metres and report millimetres. MPJPE aligns the roots (pelvis
subtracted per frame, as the reference evaluation); PA-MPJPE first aligns each predicted frame
to the ground truth with the best similarity transform (Procrustes: rotation, scale, translation).
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["mpjpe", "procrustes_align", "pa_mpjpe", "accel_error", "codebook_usage", "code_perplexity"]


def _pair(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape or pred.ndim < 2 or pred.shape[-1] != 3:
        raise ValueError(f"pred and target must both be (..., J, 3) joints of equal shape, got {pred.shape} and "
                         f"{target.shape}; crop both clips to the same number of frames.")
    return pred, target


def mpjpe(pred: np.ndarray, target: np.ndarray, align_root: bool = True) -> float:
    """Mean per-joint position error in mm.

    Args:
        pred, target: (..., J, 3) joints in metres.
        align_root: subtract joint 0 (the pelvis) of each frame first.
    """
    pred, target = _pair(pred, target)
    if align_root:
        pred, target = pred - pred[..., :1, :], target - target[..., :1, :]
    return float(np.linalg.norm(pred - target, axis=-1).mean() * 1000)


def procrustes_align(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Each frame of ``pred`` moved onto ``target`` by its best similarity transform.

    Solves ``min_{s, R, t} ||s R x + t - y||^2`` per frame with R a proper rotation (Umeyama):
    SVD of the cross-covariance ``X0^T Y0 = U S V^T``, ``R = V diag(1, 1, d) U^T`` with
    ``d = sign(det(V U^T))``, ``s = trace(diag(1, 1, d) S) / ||X0||^2``, ``t = mean(y) - s R mean(x)``.

    Args:
        pred, target: (..., J, 3) joints.
    Returns:
        (..., J, 3) aligned ``pred``.
    """
    pred, target = _pair(pred, target)
    mu_x, mu_y = pred.mean(-2, keepdims=True), target.mean(-2, keepdims=True)
    x0, y0 = pred - mu_x, target - mu_y  # (..., J, 3)
    u, s, vt = np.linalg.svd(np.swapaxes(x0, -1, -2) @ y0)  # cross-covariance (..., 3, 3)
    v = np.swapaxes(vt, -1, -2)
    d = np.sign(np.linalg.det(v @ np.swapaxes(u, -1, -2)))  # (...,) -1 where a reflection would fit better
    fix = np.ones(s.shape)
    fix[..., -1] = d
    rot = (v * fix[..., None, :]) @ np.swapaxes(u, -1, -2)  # (..., 3, 3)
    scale = (s * fix).sum(-1) / (x0 ** 2).sum((-1, -2)).clip(min=1e-12)  # (...,)
    return scale[..., None, None] * x0 @ np.swapaxes(rot, -1, -2) + mu_y


def pa_mpjpe(pred: np.ndarray, target: np.ndarray) -> float:
    """MPJPE in mm after per-frame Procrustes alignment of (..., J, 3) joints."""
    return mpjpe(procrustes_align(pred, target), target, align_root=False)


def accel_error(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint error of the second differences ``x[t-1] - 2x[t] + x[t+1]``, in mm per frame^2.

    Args:
        pred, target: (T, J, 3) joints in metres, T >= 3.
    """
    pred, target = _pair(pred, target)
    if pred.ndim != 3 or len(pred) < 3:
        raise ValueError(f"acceleration needs (T >= 3, J, 3) joints, got {pred.shape}.")
    acc_p = pred[:-2] - 2 * pred[1:-1] + pred[2:]  # (T-2, J, 3)
    acc_t = target[:-2] - 2 * target[1:-1] + target[2:]
    return float(np.linalg.norm(acc_p - acc_t, axis=-1).mean() * 1000)


def _histogram(code_idx, num_codes: int) -> np.ndarray:
    if isinstance(code_idx, (list, tuple)):
        code_idx = np.concatenate([np.asarray(c).reshape(-1) for c in code_idx]) if code_idx else np.zeros(0)
    flat = torch.as_tensor(code_idx).reshape(-1).cpu().numpy().astype(np.int64)
    flat = flat[flat >= 0]  # drop padding (-1)
    return np.bincount(flat, minlength=num_codes).astype(np.float64)


def codebook_usage(code_idx, num_codes: int) -> float:
    """Fraction of the ``num_codes`` codes that occur at least once in ``code_idx`` (arrays or a list of them; -1 ignored)."""
    return float((_histogram(code_idx, num_codes) > 0).mean())


def code_perplexity(code_idx, num_codes: int) -> float:
    """``exp(entropy)`` of the code histogram: the effective number of codes in use (1 .. num_codes)."""
    counts = _histogram(code_idx, num_codes)
    probs = counts[counts > 0] / max(counts.sum(), 1)
    return float(np.exp(-(probs * np.log(probs)).sum()))
