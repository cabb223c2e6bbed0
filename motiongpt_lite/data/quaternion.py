"""Quaternion and 6D-rotation maths for skeletons (introduced in notebook 01).

Conventions used everywhere in motiongpt_lite:

* a quaternion is ``(w, x, y, z)`` in the last dimension, Hamilton product, unit length;
* rotations act on column vectors: ``qrot(q, v)`` is ``q v q^-1``;
* the 6D rotation of Zhou et al. (2019) is the first two *columns* of the rotation matrix,
  concatenated: ``[R[:, 0], R[:, 1]]``, as in HumanML3D's features.

All functions take torch tensors with any leading batch shape ``(..., 4)`` / ``(..., 3)``
and broadcast like elementwise operations. ``motiongpt_lite.data.features`` wraps them for numpy.
"""
from __future__ import annotations

import torch

__all__ = [
    "qmul",
    "qinv",
    "qnormalize",
    "qrot",
    "qbetween",
    "quat_from_axis_angle",
    "quat_to_matrix",
    "matrix_to_quat",
    "matrix_to_cont6d",
    "cont6d_to_matrix",
    "quat_to_cont6d",
]


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cross product over the last dimension, broadcasting the leading ones."""
    a, b = torch.broadcast_tensors(a, b)
    return torch.linalg.cross(a, b, dim=-1)


def qmul(q: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``q * r``: first apply ``r``, then ``q``.

    Args:
        q, r: (..., 4) quaternions (w, x, y, z); leading shapes broadcast.
    Returns:
        (..., 4) quaternion.
    """
    w1, x1, y1, z1 = q.unbind(-1)
    w2, x2, y2, z2 = r.unbind(-1)
    return torch.stack(
        (
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ),
        dim=-1,
    )


def qinv(q: torch.Tensor) -> torch.Tensor:
    """Inverse of a unit quaternion (its conjugate). (..., 4) -> (..., 4)."""
    return q * q.new_tensor([1.0, -1.0, -1.0, -1.0])


def qnormalize(q: torch.Tensor) -> torch.Tensor:
    """Scale quaternions to unit length. (..., 4) -> (..., 4)."""
    return q / q.norm(dim=-1, keepdim=True)


def qrot(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vectors ``v`` by unit quaternions ``q``.

    Uses ``v' = v + 2w (u x v) + 2 u x (u x v)`` with ``u = (x, y, z)``.

    Args:
        q: (..., 4) unit quaternions.
        v: (..., 3) vectors; leading shapes broadcast with ``q``.
    Returns:
        (..., 3) rotated vectors.
    """
    w, u = q[..., :1], q[..., 1:]
    uv = _cross(u, v)
    return v + 2.0 * (w * uv + _cross(u, uv))


def qbetween(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Shortest-arc rotation that turns the direction of ``u`` into the direction of ``v``.

    For opposite vectors every axis perpendicular to ``u`` is a shortest arc; we then turn by 180
    degrees about the perpendicular axis closest to +Y, so that opposite *horizontal* directions
    (a body facing -Z) give a turn about the vertical axis. (The reference returns NaN there.)

    Args:
        u, v: (..., 3) non-zero vectors (need not be unit length).
    Returns:
        (..., 4) unit quaternion ``q`` with ``qrot(q, u / |u|) == v / |v|``.
    """
    w = torch.sqrt((u * u).sum(-1, keepdim=True) * (v * v).sum(-1, keepdim=True)) + (u * v).sum(-1, keepdim=True)
    q = torch.cat((w, _cross(u, v)), dim=-1)
    norm = q.norm(dim=-1, keepdim=True)
    opposite = norm <= 1e-12 * (u * u).sum(-1, keepdim=True).clamp_min(1e-30).sqrt() * (v * v).sum(-1, keepdim=True).sqrt()
    if opposite.any():
        unit_u = u / u.norm(dim=-1, keepdim=True)
        up = unit_u.new_tensor([0.0, 1.0, 0.0]).expand_as(unit_u)
        axis = up - (up * unit_u).sum(-1, keepdim=True) * unit_u  # the part of +Y perpendicular to u
        vertical = axis.norm(dim=-1, keepdim=True) < 1e-6  # u itself is vertical: use +X instead
        axis = torch.where(vertical, unit_u.new_tensor([1.0, 0.0, 0.0]).expand_as(unit_u), axis)
        half_turn = torch.cat((torch.zeros_like(w), axis / axis.norm(dim=-1, keepdim=True)), dim=-1)
        q = torch.where(opposite, half_turn, q)
        norm = torch.where(opposite, torch.ones_like(norm), norm)
    return q / norm


def quat_from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Quaternion of a rotation by ``angle`` radians about ``axis`` (right-hand rule).

    Args:
        axis: (..., 3) rotation axes (normalised here).
        angle: (...) angles in radians; broadcasts with ``axis[..., 0]``.
    Returns:
        (..., 4) unit quaternion.
    """
    axis = axis / axis.norm(dim=-1, keepdim=True)
    half = torch.as_tensor(angle, dtype=axis.dtype, device=axis.device)[..., None] / 2
    half, axis = torch.broadcast_tensors(half, axis)
    return torch.cat((torch.cos(half[..., :1]), torch.sin(half) * axis), dim=-1)


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of quaternions. (..., 4) -> (..., 3, 3)."""
    w, x, y, z = q.unbind(-1)
    s = 2.0 / (q * q).sum(-1)
    m = torch.stack(
        (
            1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w),
            s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w),
            s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y),
        ),
        dim=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: torch.Tensor) -> torch.Tensor:
    """Unit quaternion of rotation matrices, computed from the largest of |w|, |x|, |y|, |z|. (..., 3, 3) -> (..., 4)."""
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    candidates = torch.stack([  # row k is 4 q_k q, so its k-th entry is 4 q_k^2
        torch.stack([1 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], -1),
        torch.stack([m21 - m12, 1 + m00 - m11 - m22, m01 + m10, m02 + m20], -1),
        torch.stack([m02 - m20, m01 + m10, 1 - m00 + m11 - m22, m12 + m21], -1),
        torch.stack([m10 - m01, m02 + m20, m12 + m21, 1 - m00 - m11 + m22], -1),
    ], dim=-2)  # (..., 4, 4)
    best = torch.diagonal(candidates, dim1=-2, dim2=-1).argmax(-1)  # (...)
    q = torch.gather(candidates, -2, best[..., None, None].expand(best.shape + (1, 4))).squeeze(-2)
    return q / q.norm(dim=-1, keepdim=True)


def matrix_to_cont6d(m: torch.Tensor) -> torch.Tensor:
    """The 6D rotation representation: first two columns of ``m``. (..., 3, 3) -> (..., 6)."""
    return torch.cat((m[..., :, 0], m[..., :, 1]), dim=-1)


def cont6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """Rotation matrices from (possibly noisy) 6D vectors by Gram-Schmidt.

    Args:
        d6: (..., 6), the two column vectors ``a1 = d6[..., :3]`` and ``a2 = d6[..., 3:]``.
    Returns:
        (..., 3, 3) rotation matrix whose first two columns are the orthonormalised ``a1, a2``.
    """
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True)
    b2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = b2 / b2.norm(dim=-1, keepdim=True)
    b3 = _cross(b1, b2)
    return torch.stack((b1, b2, b3), dim=-1)


def quat_to_cont6d(q: torch.Tensor) -> torch.Tensor:
    """6D rotation vectors of quaternions. (..., 4) -> (..., 6)."""
    return matrix_to_cont6d(quat_to_matrix(q))
