"""Joint positions <-> HumanML3D's 263-dim motion features (introduced in notebook 01).

A feature row ``t`` describes the step from frame ``t`` to ``t + 1`` in the body's own,
heading-free frame (J = 22 for HumanML3D, 21 for KIT-ML, D = 12J - 1):

==========  ==============  ==========================================================
dims        group           meaning
==========  ==============  ==========================================================
0           root_rot_vel    yaw velocity of the root (half-angle increment, radians)
1:3         root_lin_vel    root velocity on the floor (x, z), in the root's own frame
3           root_height     pelvis height above the floor
4:67        ric_positions   joints 1..J-1 relative to the root, heading removed
67:193      rotations_6d    6D rotations of joints 1..J-1 (inverse kinematics)
193:259     velocities      velocities of all J joints, in the root's frame
259:263     foot_contacts   left ankle, left toe, right ankle, right toe (1 = planted)
==========  ==============  ==========================================================

:func:`joints_to_features` reproduces the official extraction (``process_file`` of the
HumanML3D repository) and :func:`features_to_joints` its inverse (``recover_from_ric``).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motiongpt_lite.data.quaternion import qinv, qmul, qrot, quat_to_cont6d
from motiongpt_lite.data.skeleton import (HUMANML3D, Skeleton, facing_direction, forward_kinematics, inverse_kinematics,
                                          to_start_frame)

__all__ = ["feature_groups", "joints_to_features", "features_to_joints", "retarget", "FOOT_CONTACT_THRESHOLD", "FACING_SMOOTHING_SIGMA"]

FOOT_CONTACT_THRESHOLD = 0.002  # squared displacement (m^2) per frame under which a foot joint counts as planted
FACING_SMOOTHING_SIGMA = 20.0  # frames; Gaussian smoothing of the facing direction before the root rotation


def feature_groups(num_joints: int = 22) -> dict[str, slice]:
    """Named slices of a feature vector for a skeleton of ``num_joints`` joints."""
    j = num_joints
    bounds = {"root_rot_vel": 1, "root_lin_vel": 2, "root_height": 1, "ric_positions": 3 * (j - 1),
              "rotations_6d": 6 * (j - 1), "velocities": 3 * j, "foot_contacts": 4}
    groups, start = {}, 0
    for name, size in bounds.items():
        groups[name] = slice(start, start + size)
        start += size
    return groups


def _check_joints(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (skeleton.num_joints, 3):
        raise ValueError(
            f"joints must have shape (T, {skeleton.num_joints}, 3) for {skeleton.name}, got {joints.shape}; "
            "pass one clip at a time as frames x joints x xyz."
        )
    if len(joints) < 2:
        raise ValueError(f"a clip needs at least 2 frames to have velocities, got {len(joints)}.")
    bad = np.flatnonzero(~np.isfinite(joints).all(axis=(1, 2)))
    if bad.size:
        raise ValueError(f"joints contain NaN/inf at frames {bad[:10].tolist()}{'...' if bad.size > 10 else ''}; "
                         "drop or interpolate those frames before extracting features.")
    return joints.astype(np.float64)


def retarget(joints: torch.Tensor, skeleton: Skeleton = HUMANML3D, target_offsets: np.ndarray | None = None) -> torch.Tensor:
    """Give a clip the reference skeleton's bone lengths, keeping its joint rotations.

    As the official ``uniform_skeleton``: inverse kinematics on the clip, forward kinematics
    with the target bones, and the root trajectory scaled by the ratio of leg lengths
    (knee->ankle + hip->knee bones' largest component) between target and source frame 0.

    Args:
        joints: (T, J, 3) float64 positions.
        target_offsets: (J, 3) target bone vectors; default ``skeleton.reference_offsets()``.
    Returns:
        (T, J, 3) retargeted positions.
    """
    target = torch.as_tensor(skeleton.reference_offsets() if target_offsets is None else target_offsets, dtype=joints.dtype)
    raw = torch.tensor(skeleton.raw_offsets, dtype=joints.dtype)
    source = raw * torch.as_tensor(skeleton.bone_lengths(joints[0].numpy()), dtype=joints.dtype)[:, None]
    knee, ankle = skeleton.leg_joints
    scale = (target[knee].abs().max() + target[ankle].abs().max()) / (source[knee].abs().max() + source[ankle].abs().max())
    quats = inverse_kinematics(joints, skeleton)
    return forward_kinematics(quats, joints[:, 0] * scale, target, skeleton)


def joints_to_features(
    joints: np.ndarray,
    skeleton: Skeleton = HUMANML3D,
    feet_threshold: float = FOOT_CONTACT_THRESHOLD,
    target_offsets: np.ndarray | None = None,
) -> np.ndarray:
    """The official HumanML3D feature extraction.

    Steps: retarget to the reference bones, put the lowest joint of the clip on the floor, move
    frame 0's pelvis to the origin and turn frame 0 to face +Z, detect foot contacts, inverse
    kinematics with a smoothed facing direction, then the root velocities, root-relative
    positions, 6D rotations and joint velocities, all expressed in the root's heading frame.

    Args:
        joints: (T, J, 3) joint positions in metres, Y up, any dtype (computed in float64).
        skeleton: ``HUMANML3D`` (default) or another skeleton with ``target_offsets``.
        feet_threshold: squared per-frame displacement (m^2) below which a foot joint is planted.
        target_offsets: (J, 3) bone vectors to retarget to; default the skeleton's reference.
    Returns:
        (T - 1, 12J - 1) float64 features (263 for HumanML3D).
    Raises:
        ValueError: wrong shape, fewer than 2 frames, or NaN/inf positions.
    """
    pos = torch.from_numpy(_check_joints(joints, skeleton))
    pos = retarget(pos, skeleton, target_offsets)

    pos = to_start_frame(pos, skeleton)  # (T, J, 3) floor at y = 0, frame 0 at the origin facing +Z

    # Foot contacts: a joint is planted when it moves less than sqrt(threshold) m per frame.
    step = ((pos[1:] - pos[:-1]) ** 2).sum(-1)  # (T-1, J)
    contacts = torch.cat([(step[:, list(skeleton.left_foot)] < feet_threshold),
                          (step[:, list(skeleton.right_foot)] < feet_threshold)], dim=-1).to(pos.dtype)

    # Root heading from the facing direction smoothed over time (sigma 20 frames, edges repeated).
    forward = facing_direction(pos, skeleton, swap_hips=True).numpy()
    forward = torch.from_numpy(gaussian_filter1d(forward, FACING_SMOOTHING_SIGMA, axis=0, mode="nearest"))
    quats = inverse_kinematics(pos, skeleton, root_forward=forward)  # (T, J, 4)
    root_rot = quats[:, 0]  # (T, 4): world -> heading frame

    root_lin_vel = qrot(root_rot[1:], pos[1:, 0] - pos[:-1, 0])[:, [0, 2]]  # (T-1, 2)
    root_rot_vel = torch.asin(qmul(root_rot[1:], qinv(root_rot[:-1]))[:, 2:3])  # (T-1, 1)
    local = pos.clone()
    local[..., [0, 2]] -= pos[:, :1, [0, 2]]
    local = qrot(root_rot[:, None], local)  # (T, J, 3) heading-free, root above origin
    velocities = qrot(root_rot[:-1, None], pos[1:] - pos[:-1])  # (T-1, J, 3)
    rotations = quat_to_cont6d(quats[:, 1:])  # (T, J-1, 6)

    n = len(pos) - 1
    features = torch.cat([
        root_rot_vel, root_lin_vel, local[:-1, 0, 1:2],
        local[:-1, 1:].reshape(n, -1), rotations[:-1].reshape(n, -1), velocities.reshape(n, -1), contacts,
    ], dim=-1)
    return features.numpy()


def features_to_joints(features, num_joints: int | None = None):
    """Joint positions from features (the official ``recover_from_ric``).

    The root's yaw and floor position are integrated from its velocities (starting at the origin,
    facing +Z); the other joints come from the root-relative positions, turned back to the world.

    Args:
        features: (..., T, D) numpy array or torch tensor, D = 12J - 1 (263 or 251).
        num_joints: J; inferred from D when omitted.
    Returns:
        (..., T, J, 3) positions, of the same kind (numpy/torch) and float dtype as the input.
    """
    is_numpy = not isinstance(features, torch.Tensor)
    data = torch.from_numpy(np.asarray(features)) if is_numpy else features
    if not data.is_floating_point():
        data = data.float()
    dim = data.shape[-1] if data.ndim else 0
    if num_joints is None:
        if data.ndim < 2 or (dim + 1) % 12:
            raise ValueError(f"features must have shape (..., T, 12J-1) such as (T, 263), got {tuple(data.shape)}.")
        num_joints = (dim + 1) // 12
    if data.ndim < 2 or dim != 12 * num_joints - 1:
        raise ValueError(f"features must have shape (..., T, {12 * num_joints - 1}) for {num_joints} joints, got {tuple(data.shape)}.")

    yaw = torch.zeros_like(data[..., 0])
    yaw[..., 1:] = data[..., :-1, 0]
    yaw = torch.cumsum(yaw, dim=-1)  # (..., T) half-angles
    root_rot = torch.zeros(data.shape[:-1] + (4,), dtype=data.dtype, device=data.device)
    root_rot[..., 0], root_rot[..., 2] = torch.cos(yaw), torch.sin(yaw)

    root_pos = torch.zeros(data.shape[:-1] + (3,), dtype=data.dtype, device=data.device)
    root_pos[..., 1:, 0], root_pos[..., 1:, 2] = data[..., :-1, 1], data[..., :-1, 2]
    root_pos = torch.cumsum(qrot(qinv(root_rot), root_pos), dim=-2)
    root_pos[..., 1] = data[..., 3]

    local = data[..., 4:4 + 3 * (num_joints - 1)].reshape(data.shape[:-1] + (num_joints - 1, 3))
    joints = qrot(qinv(root_rot)[..., None, :], local)
    joints = joints + root_pos[..., None, :] * joints.new_tensor([1.0, 0.0, 1.0])
    joints = torch.cat([root_pos[..., None, :], joints], dim=-2)  # (..., T, J, 3)
    return joints.numpy() if is_numpy else joints
