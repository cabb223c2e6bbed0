"""Skeletons of HumanML3D (22 SMPL joints) and KIT-ML (21 joints), with forward and inverse
kinematics as the official HumanML3D pipeline defines them (introduced in notebook 01).

World conventions (HumanML3D): Y is up, the floor is y = 0, frame 0 faces +Z and the
person's left is +X; 20 frames per second (KIT-ML: 12.5).

A pose is described the HumanML3D way: every joint ``j`` stores a quaternion ``q[j]`` that
rotates the unit "rest direction" ``raw_offsets[j]`` of the bone *ending* at ``j`` (from its
parent to ``j``) relative to the accumulated rotation of the chain it belongs to. Forward
kinematics walks each kinematic chain from its first joint and accumulates these rotations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from motiongpt_lite.data.quaternion import qbetween, qinv, qmul, qrot

__all__ = ["Skeleton", "HUMANML3D", "KIT", "forward_kinematics", "inverse_kinematics", "facing_direction",
           "to_start_frame"]


@dataclass(frozen=True)
class Skeleton:
    """A fixed skeleton topology and the constants the feature pipeline needs.

    Attributes:
        name: dataset name.
        joint_names: one name per joint, index = joint id.
        kinematic_chains: chains of joint ids; each starts at the pelvis or at a chain it branches from.
        raw_offsets: (J, 3) unit rest direction of the bone that ends at each joint (row 0 unused).
        fps: frames per second of the dataset.
        face_joints: (right hip, left hip, right shoulder, left shoulder), used to find the facing direction.
        left_foot, right_foot: (ankle, toe) joint ids whose speed decides foot contact.
        leg_joints: (knee, ankle) ids whose bone lengths give the retargeting scale.
        reference_bone_lengths: length in metres of the bone ending at each joint of the official
            reference skeleton (row 0 is 0), or ``None`` when we do not ship it.
    """

    name: str
    joint_names: tuple[str, ...]
    kinematic_chains: tuple[tuple[int, ...], ...]
    raw_offsets: tuple[tuple[float, float, float], ...]
    fps: float
    face_joints: tuple[int, int, int, int]
    left_foot: tuple[int, int]
    right_foot: tuple[int, int]
    leg_joints: tuple[int, int]
    reference_bone_lengths: tuple[float, ...] | None = None

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def feature_dim(self) -> int:
        """Size of a HumanML3D-style feature vector: 4 + 3(J-1) + 6(J-1) + 3J + 4 = 12J - 1."""
        return 12 * self.num_joints - 1

    @property
    def parents(self) -> tuple[int, ...]:
        """Parent id of every joint (-1 for the root), derived from the kinematic chains."""
        parents = [-1] * self.num_joints
        for chain in self.kinematic_chains:
            for parent, child in zip(chain[:-1], chain[1:]):
                parents[child] = parent
        return tuple(parents)

    def reference_offsets(self) -> np.ndarray:
        """(J, 3) bone vectors of the reference skeleton in its rest pose (T-pose directions)."""
        if self.reference_bone_lengths is None:
            raise ValueError(f"No reference skeleton is shipped for {self.name}; pass target offsets explicitly.")
        return np.asarray(self.raw_offsets, dtype=np.float64) * np.asarray(self.reference_bone_lengths)[:, None]

    def bone_lengths(self, joints: np.ndarray) -> np.ndarray:
        """Length of the bone ending at each joint. (..., J, 3) -> (..., J), root entry 0."""
        joints = np.asarray(joints)
        lengths = np.linalg.norm(joints - joints[..., list(self.parents), :], axis=-1)
        lengths[..., 0] = 0.0
        return lengths


HUMANML3D = Skeleton(
    name="humanml3d",
    joint_names=(
        "pelvis", "l_hip", "r_hip", "spine1", "l_knee", "r_knee", "spine2", "l_ankle", "r_ankle", "spine3",
        "l_foot", "r_foot", "neck", "l_collar", "r_collar", "head", "l_shoulder", "r_shoulder", "l_elbow",
        "r_elbow", "l_wrist", "r_wrist",
    ),
    kinematic_chains=((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21), (9, 13, 16, 18, 20)),
    raw_offsets=(
        (0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, -1, 0), (0, 1, 0), (0, -1, 0), (0, -1, 0),
        (0, 1, 0), (0, 0, 1), (0, 0, 1), (0, 1, 0), (1, 0, 0), (-1, 0, 0), (0, 0, 1), (0, -1, 0), (0, -1, 0),
        (0, -1, 0), (0, -1, 0), (0, -1, 0), (0, -1, 0),
    ),
    fps=20.0,
    face_joints=(2, 1, 17, 16),
    left_foot=(7, 10),
    right_foot=(8, 11),
    leg_joints=(5, 8),
    # Bone lengths (m) of frame 0 of HumanML3D's reference clip 000021, the target skeleton every
    # HumanML3D motion is retargeted to. tests/test_features.py checks them against that clip.
    reference_bone_lengths=(
        0.0, 0.10307393575260745, 0.10988341731359684, 0.13156824130931077, 0.3936232668624135,
        0.390188114541695, 0.14319021331683535, 0.43243308784436374, 0.42564352546036327,
        0.057364735143330216, 0.14338185326794975, 0.14941903134348114, 0.21936005376632126,
        0.13748673607616194, 0.1433828654655169, 0.10303921946937832, 0.13161404204261845,
        0.1229844377158008, 0.25683988652070733, 0.263091726718483, 0.26601196057534227,
        0.26987646323572506,
    ),
)

KIT = Skeleton(
    name="kit",
    joint_names=(
        "root", "torso", "chest", "neck", "head", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
        "l_wrist", "r_hip", "r_knee", "r_ankle", "r_ball", "r_toe", "l_hip", "l_knee", "l_ankle", "l_ball", "l_toe",
    ),
    kinematic_chains=((0, 11, 12, 13, 14, 15), (0, 16, 17, 18, 19, 20), (0, 1, 2, 3, 4), (3, 5, 6, 7), (3, 8, 9, 10)),
    raw_offsets=(
        (0, 0, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (0, 1, 0), (1, 0, 0), (0, -1, 0), (0, -1, 0), (-1, 0, 0),
        (0, -1, 0), (0, -1, 0), (1, 0, 0), (0, -1, 0), (0, -1, 0), (0, 0, 1), (0, 0, 1), (-1, 0, 0), (0, -1, 0),
        (0, -1, 0), (0, 0, 1), (0, 0, 1),
    ),
    fps=12.5,
    face_joints=(11, 16, 5, 8),
    left_foot=(19, 20),
    right_foot=(14, 15),
    leg_joints=(17, 18),
)


def facing_direction(joints: torch.Tensor, skeleton: Skeleton, swap_hips: bool = False) -> torch.Tensor:
    """Horizontal direction the body faces, from the hips and the shoulders.

    ``across`` points from the left to the right side of the body (hips and shoulders summed);
    ``forward = up x across``. With ``swap_hips=True`` the hip difference is taken the wrong way
    round, reproducing the official inverse kinematics (notebook 01, "quirk 1").

    Args:
        joints: (..., J, 3) joint positions.
    Returns:
        (..., 3) forward vectors with y = 0, *not* normalised: ``across`` is a unit vector that may
        tilt out of the floor plane, so ``|forward|`` is its horizontal share. The official pipeline
        smooths these unnormalised vectors over time and normalises afterwards; we do the same.
    """
    r_hip, l_hip, r_shoulder, l_shoulder = skeleton.face_joints
    if swap_hips:
        r_hip, l_hip = l_hip, r_hip
    across = (joints[..., r_hip, :] - joints[..., l_hip, :]) + (joints[..., r_shoulder, :] - joints[..., l_shoulder, :])
    across = across / across.norm(dim=-1, keepdim=True)
    up = across.new_tensor([0.0, 1.0, 0.0])
    return torch.linalg.cross(up.expand_as(across), across, dim=-1)


def to_start_frame(pos: torch.Tensor, skeleton: Skeleton = HUMANML3D, floor_percentile: float = 0.0) -> torch.Tensor:
    """The motion in its start frame: the floor at y = 0, frame 0's pelvis above the origin, frame 0 facing +Z.

    The floor is the ``floor_percentile`` of each frame's lowest joint height. 0 is HumanML3D's rule (the
    clip's single lowest joint); above 0, the frames that dip below the floor are lifted straight up onto it
    (what BVH import does with mocap whose feet sink through the floor, :mod:`motiongpt_lite.data.bvh`).

    Args:
        pos: (T, J, 3) joint positions in metres, Y up.
    Returns:
        (T, J, 3) the same motion, moved and turned.
    """
    lowest = pos[..., 1].amin(dim=-1)  # (T,) lowest joint of each frame
    floor = torch.quantile(lowest, floor_percentile / 100.0)
    pos = pos.clone()
    pos[..., 1] += (floor - lowest).clamp_min(0.0)[:, None] - floor  # lift sinking frames, floor to y = 0
    pos = pos - pos[0, 0] * pos.new_tensor([1.0, 0.0, 1.0])  # joint 0 is the root (pelvis)
    forward0 = facing_direction(pos[0], skeleton)
    return qrot(qbetween(forward0, forward0.new_tensor([0.0, 0.0, 1.0])), pos)


def inverse_kinematics(joints: torch.Tensor, skeleton: Skeleton, root_forward: torch.Tensor | None = None) -> torch.Tensor:
    """Per-joint quaternions that reproduce ``joints`` with :func:`forward_kinematics`.

    This is the official HumanML3D inverse kinematics, quirks included (notebook 01):

    * the root rotation turns the body's forward direction onto +Z, but frame 0's root rotation is
      forced to the identity;
    * every chain, also the arm chains that branch from spine3, starts from the *root* rotation,
      not from the rotation accumulated up to its first joint ("quirk 2").

    Args:
        joints: (T, J, 3) positions.
        root_forward: (T, 3) forward directions for the root rotation; by default the (hip-swapped,
            unsmoothed) :func:`facing_direction` of ``joints``.
    Returns:
        (T, J, 4) quaternions; entry ``[:, j]`` rotates ``raw_offsets[j]`` onto the bone parent(j) -> j.
    """
    if root_forward is None:
        root_forward = facing_direction(joints, skeleton, swap_hips=True)
    root_forward = root_forward / root_forward.norm(dim=-1, keepdim=True)
    root_quat = qbetween(root_forward, root_forward.new_tensor([0.0, 0.0, 1.0]).expand_as(root_forward))
    root_quat[0] = root_quat.new_tensor([1.0, 0.0, 0.0, 0.0])
    quats = torch.zeros(joints.shape[:-1] + (4,), dtype=joints.dtype)
    quats[..., 0] = 1.0
    quats[:, 0] = root_quat
    raw_offsets = torch.tensor(skeleton.raw_offsets, dtype=joints.dtype)
    for chain in skeleton.kinematic_chains:
        accumulated = root_quat
        for parent, child in zip(chain[:-1], chain[1:]):
            bone = joints[:, child] - joints[:, parent]  # (T, 3)
            bone = bone / bone.norm(dim=-1, keepdim=True)
            global_rot = qbetween(raw_offsets[child].expand_as(bone), bone)
            local_rot = qmul(qinv(accumulated), global_rot)
            quats[:, child] = local_rot
            accumulated = qmul(accumulated, local_rot)
    return quats


def forward_kinematics(quats: torch.Tensor, root_pos: torch.Tensor, offsets: torch.Tensor, skeleton: Skeleton) -> torch.Tensor:
    """Joint positions from per-joint quaternions, the root trajectory and bone vectors.

    Args:
        quats: (T, J, 4) quaternions as returned by :func:`inverse_kinematics`.
        root_pos: (T, 3) pelvis positions.
        offsets: (J, 3) rest-pose bone vectors (direction x length), e.g. ``skeleton.reference_offsets()``.
    Returns:
        (T, J, 3) joint positions.
    """
    joints = torch.zeros(quats.shape[:-1] + (3,), dtype=quats.dtype)
    joints[:, 0] = root_pos
    for chain in skeleton.kinematic_chains:
        accumulated = quats[:, 0]  # every chain starts from the root rotation (see inverse_kinematics)
        for parent, child in zip(chain[:-1], chain[1:]):
            accumulated = qmul(accumulated, quats[:, child])
            joints[:, child] = joints[:, parent] + qrot(accumulated, offsets[child].expand(len(quats), 3))
    return joints
