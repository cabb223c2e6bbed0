"""A parametric human body for the embedded dataset: rest pose, proportions, forward and inverse
kinematics, and the solver that turns a motion plan into joint positions (introduced in notebook 00).

Conventions are the dataset's: Y up, floor at y = 0, the rest pose faces +Z, the person's left is
+X, and a positive yaw (rotation about +Y) turns the body to its left, counter-clockwise seen from
above. Quaternions are ``(w, x, y, z)``, see :mod:`motiongpt_lite.data.quaternion`.

Rotations are parent-relative, the textbook way (not HumanML3D's quirky inverse kinematics): the
local rotation ``L[j]`` of joint ``j`` turns everything below it, so its global rotation is
``G[j] = G[parent] L[j]`` and ``p[j] = p[parent] + G[parent] offset[j]``. The rotation of the
pelvis (joint 0) is its global rotation; the feet, head and wrists end their chains.

A :class:`Plan` says where the body should be in the terms a motion designer thinks in: where each
toe joint is and how each foot is turned and tilted, where each hand is relative to the chest, how
far the pelvis drops, how the spine bends. :func:`solve` finds the root trajectory (from the feet,
with the pelvis height limited by how far the legs reach, so planted feet stay planted), solves the
legs and arms by two-bone inverse kinematics and runs forward kinematics.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d, minimum_filter1d

from motiongpt_lite.data.quaternion import matrix_to_quat, qbetween, qinv, qmul, qrot, quat_from_axis_angle
from motiongpt_lite.data.skeleton import HUMANML3D

__all__ = ["Body", "Plan", "solve", "crossfade", "ease", "euler_quat", "two_bone_ik", "forward_kinematics", "mirror_joints",
           "FPS", "LEFT", "RIGHT", "SIDE_SIGN"]

FPS = HUMANML3D.fps
PARENTS = np.array(HUMANML3D.parents)
MIRROR_INDEX = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20])
LEFT, RIGHT = 0, 1  # side index of the (2, ...) channels of a Plan
SIDE_SIGN = np.array([1.0, -1.0])  # +X points outward on the left side, -X on the right
HIP, KNEE, ANKLE, TOE = (1, 2), (4, 5), (7, 8), (10, 11)
COLLAR, SHOULDER, ELBOW, WRIST = (13, 14), (16, 17), (18, 19), (20, 21)
SPINE, NECK, CHEST = (3, 6, 9), 12, 9  # hand targets are given in the chest (spine3) frame

# Rest direction of the bone ending at each joint (left side; the right side mirrors x). Arms
# hang down, the spine curves gently, the feet point forward and a little outward.
_REST_LEFT = {
    1: (0.55, -0.80, -0.17), 3: (0.0, 0.95, -0.30), 4: (0.0, -1.0, 0.0), 6: (0.0, 0.98, 0.18),
    7: (0.0, -0.99, -0.10), 9: (0.0, 1.0, 0.07), 10: (0.25, -0.40, 0.88), 12: (0.0, 0.99, -0.05),
    13: (0.55, 0.83, -0.13), 15: (0.0, 0.75, 0.66), 16: (0.96, -0.12, -0.25), 18: (0.03, -1.0, -0.10),
    20: (0.10, -0.95, 0.20),
}
# Bones that scale together when we vary body proportions.
_GROUPS = ((1, 2), (3, 6, 9, 12, 15), (4, 5, 7, 8), (10, 11), (13, 14, 16, 17), (18, 19, 20, 21))
REACH = 0.998  # fraction of a leg's length the pelvis-height solver allows (keeps the knee off its lock)
STAND_REACH = 0.996  # fraction of a leg's length when standing (a slightly soft knee)
ROOT_SIGMA = 4.0  # frames; smoothing of the pelvis path and heading derived from the feet
AIRBORNE_SLACK = 3.0  # metres of extra pelvis height allowed per metre a toe is off the floor


def _depth_levels() -> list[torch.Tensor]:
    """Joint ids grouped by their depth in the tree, so forward kinematics runs level by level."""
    depth = np.zeros(len(PARENTS), dtype=int)
    for joint in range(1, len(PARENTS)):
        depth[joint] = depth[PARENTS[joint]] + 1  # parents come before children in SMPL order
    return [torch.from_numpy(np.flatnonzero(depth == level)) for level in range(1, depth.max() + 1)]


LEVELS = _depth_levels()
_PARENTS_T = torch.from_numpy(PARENTS)


def _rest_directions() -> np.ndarray:
    """(22, 3) unit rest directions of every bone, the right side mirrored from the left."""
    directions = np.zeros((22, 3))
    for joint, (x, y, z) in _REST_LEFT.items():
        directions[joint] = (x, y, z)
        directions[MIRROR_INDEX[joint]] = (-x, y, z)
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    return directions / np.where(norms > 0, norms, 1.0)


def _reference_lengths() -> np.ndarray:
    """(22,) reference bone lengths, averaged over left and right so that the body is symmetric."""
    lengths = np.asarray(HUMANML3D.reference_bone_lengths)
    return (lengths + lengths[MIRROR_INDEX]) / 2


@dataclass(frozen=True)
class Body:
    """One person's skeleton: rest bone vectors and a stance width.

    Attributes:
        offsets: (22, 3) rest bone vectors in metres (row 0 unused), left-right symmetric.
        stance: lateral distance of each ankle from the pelvis when standing, in metres.
    """

    offsets: np.ndarray
    stance: float

    @classmethod
    def reference(cls) -> "Body":
        """The reference HumanML3D proportions (left-right averaged)."""
        offsets = _rest_directions() * _reference_lengths()[:, None]
        return cls(offsets=offsets, stance=abs(offsets[1, 0]) * 1.2)

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "Body":
        """A random body within the reference scale: +-5% overall, +-3% per bone group, varied stance."""
        lengths = _reference_lengths() * rng.uniform(0.95, 1.05)
        for group in _GROUPS:
            lengths[list(group)] *= rng.uniform(0.97, 1.03)
        offsets = _rest_directions() * lengths[:, None]
        return cls(offsets=offsets, stance=abs(offsets[1, 0]) * rng.uniform(1.0, 1.6))

    @property
    def leg_length(self) -> float:
        """Thigh plus shank (hip to ankle, fully stretched)."""
        return float(np.linalg.norm(self.offsets[4]) + np.linalg.norm(self.offsets[7]))

    @property
    def arm_length(self) -> float:
        """Upper arm plus forearm (shoulder to wrist, fully stretched)."""
        return float(np.linalg.norm(self.offsets[18]) + np.linalg.norm(self.offsets[20]))

    def shoulder(self, side: int) -> np.ndarray:
        """(3,) shoulder joint relative to the chest joint, in the chest frame."""
        return self.offsets[COLLAR[side]] + self.offsets[SHOULDER[side]]

    def hand_rest(self, side: int) -> np.ndarray:
        """(3,) wrist of a relaxed hanging arm relative to the chest joint, in the chest frame."""
        return self.shoulder(side) + np.array([0.04 * SIDE_SIGN[side], -0.985 * self.arm_length, 0.03])

    def ankle_xz(self, toe: np.ndarray, foot_yaw: np.ndarray) -> np.ndarray:
        """Floor position under the ankle of a flat foot. (2, T, 3) toes, (2, T) yaws -> (2, T, 2)."""
        offset = self.offsets[list(TOE)][:, None, :]  # (2, 1, 3)
        c, s = np.cos(foot_yaw), np.sin(foot_yaw)
        ox = c * offset[..., 0] + s * offset[..., 2]
        oz = -s * offset[..., 0] + c * offset[..., 2]
        return np.stack([toe[..., 0] - ox, toe[..., 2] - oz], axis=-1)

    def neutral_feet(self) -> np.ndarray:
        """(2, 3) toe positions of the neutral stance around a pelvis above the origin, facing +Z."""
        toes = np.array([[self.stance, 0.0, 0.0], [-self.stance, 0.0, 0.0]]) + self.offsets[list(TOE)]
        toes[:, 1] = 0.0
        return toes

    def standing_height(self) -> float:
        """Pelvis height of the neutral stance: feet flat, knees slightly soft."""
        hip = self.offsets[HIP[0]]
        spare = (STAND_REACH * self.leg_length) ** 2 - (self.stance - hip[0]) ** 2 - hip[2] ** 2
        return float(-self.offsets[TOE[0], 1] - hip[1] + np.sqrt(spare))

    def max_pelvis_height(self, hip_offset: np.ndarray, ankle: np.ndarray, root_xz: np.ndarray, reach: float = REACH) -> np.ndarray:
        """Highest pelvis for which a hip still reaches its ankle target.

        Args:
            hip_offset: (T, 3) hip position relative to the pelvis, pelvis rotation applied.
            ankle: (T, 3) ankle targets.
            root_xz: (T, 2) pelvis position on the floor.
            reach: fraction of the leg length allowed.
        Returns:
            (T,) pelvis heights (where the ankle is out of reach sideways: the hip's height at the ankle's).
        """
        across = ankle[:, [0, 2]] - root_xz - hip_offset[:, [0, 2]]  # (T, 2)
        spare = (reach * self.leg_length) ** 2 - (across**2).sum(-1)
        return ankle[:, 1] - hip_offset[:, 1] + np.sqrt(np.clip(spare, 0.0, None))


_SIDED = ("toe", "anchor", "foot_yaw", "foot_pitch", "hand", "elbow_pole", "shrug")  # channels with a leading side axis


@dataclass
class Plan:
    """A motion as a designer describes it, frame by frame (T frames, float64 arrays).

    Side channels have a leading axis of size 2 (0 = left, 1 = right). Hand targets and elbow poles
    live in the chest (spine3) frame, relative to the chest joint. Angles are in radians.

    Attributes:
        toe: (2, T, 3) world position of each toe joint (y = 0 while the foot is on the floor).
        anchor: (2, T, 2) floor point (x, z) where each foot supports the body; the pelvis follows
            their centre. Steps move it with the foot, a kick or a raised foot does not.
        foot_yaw: (2, T) heading of each foot (0 = +Z, positive = turned left).
        foot_pitch: (2, T) heel lift about the toe (positive = heel up, toes pointing down).
        hand: (2, T, 3) wrist targets.
        elbow_pole: (2, T, 3) direction each elbow points to.
        shrug: (2, T) collar lift (positive raises the shoulder).
        pelvis_drop: (T,) wanted pelvis height relative to standing (negative = lower).
        pelvis_tilt: (T, 3) pelvis pitch (forward +), yaw relative to the heading (left +), roll.
        spine: (T, 3) bend of the whole spine: pitch (forward +), yaw (left +), roll.
        neck: (T, 2) neck pitch (nod down +) and yaw (look left +).
        root_shift: (T, 2) pelvis shift from the centre of the feet, heading frame (x left, z forward).
        gait: (T,) weight of the walking secondary motion (arm swing, pelvis twist), 0..1.
    """

    toe: np.ndarray
    anchor: np.ndarray
    foot_yaw: np.ndarray
    foot_pitch: np.ndarray
    hand: np.ndarray
    elbow_pole: np.ndarray
    shrug: np.ndarray
    pelvis_drop: np.ndarray
    pelvis_tilt: np.ndarray
    spine: np.ndarray
    neck: np.ndarray
    root_shift: np.ndarray
    gait: np.ndarray

    @classmethod
    def neutral(cls, body: Body, num_frames: int) -> "Plan":
        """``body`` standing still at the origin, facing +Z, arms hanging, for ``num_frames`` frames."""
        t = num_frames
        hands = np.stack([body.hand_rest(LEFT), body.hand_rest(RIGHT)])  # (2, 3)
        poles = np.array([[0.3, -0.2, -1.0], [-0.3, -0.2, -1.0]])
        return cls(
            toe=np.repeat(body.neutral_feet()[:, None], t, axis=1),
            anchor=np.repeat(np.array([[body.stance, 0.0], [-body.stance, 0.0]])[:, None], t, axis=1), foot_yaw=np.zeros((2, t)),
            foot_pitch=np.zeros((2, t)), hand=np.repeat(hands[:, None], t, axis=1),
            elbow_pole=np.repeat(poles[:, None], t, axis=1), shrug=np.zeros((2, t)), pelvis_drop=np.zeros(t),
            pelvis_tilt=np.zeros((t, 3)), spine=np.zeros((t, 3)), neck=np.zeros((t, 2)),
            root_shift=np.zeros((t, 2)), gait=np.zeros(t),
        )

    @property
    def num_frames(self) -> int:
        return self.pelvis_drop.shape[0]

    def held(self, extra: int) -> "Plan":
        """The plan followed by ``extra`` copies of its last frame."""
        def hold(name: str) -> np.ndarray:
            value, axis = getattr(self, name), 1 if name in _SIDED else 0
            last = np.take(value, [value.shape[axis] - 1], axis=axis)
            return np.concatenate([value, np.repeat(last, extra, axis=axis)], axis=axis)
        return Plan(**{f.name: hold(f.name) for f in fields(self)})

    def moved(self, yaw: float, origin_xz: np.ndarray) -> "Plan":
        """The same motion turned by ``yaw`` about the vertical and shifted so that (0, 0) lands on ``origin_xz``."""
        c, s = np.cos(yaw), np.sin(yaw)
        x, z = self.toe[..., 0], self.toe[..., 2]
        toe = np.stack([c * x + s * z + origin_xz[0], self.toe[..., 1], -s * x + c * z + origin_xz[1]], axis=-1)
        x, z = self.anchor[..., 0], self.anchor[..., 1]
        anchor = np.stack([c * x + s * z + origin_xz[0], -s * x + c * z + origin_xz[1]], axis=-1)
        return replace(self, toe=toe, anchor=anchor, foot_yaw=self.foot_yaw + yaw)


def crossfade(first: Plan, second: Plan, overlap: int) -> Plan:
    """``first`` then ``second``, the last ``overlap`` frames of one blended into the first of the other."""
    weight = ease((np.arange(overlap) + 1) / (overlap + 1))  # (overlap,)

    def join(name: str) -> np.ndarray:
        axis = 1 if name in _SIDED else 0
        a, b = np.moveaxis(getattr(first, name), axis, 0), np.moveaxis(getattr(second, name), axis, 0)  # time first
        w = weight.reshape((-1,) + (1,) * (a.ndim - 1))
        blend = (1 - w) * a[len(a) - overlap:] + w * b[:overlap]
        return np.moveaxis(np.concatenate([a[:len(a) - overlap], blend, b[overlap:]]), 0, axis)

    return Plan(**{f.name: join(f.name) for f in fields(Plan)})


def ease(u: np.ndarray) -> np.ndarray:
    """Quintic ease 0 -> 1 on [0, 1] with zero velocity and acceleration at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def _axis_quat(axis: int, angle: torch.Tensor) -> torch.Tensor:
    """Rotation by ``angle`` (...) about world axis 0 = X, 1 = Y, 2 = Z. -> (..., 4)."""
    unit = torch.zeros(3, dtype=angle.dtype)
    unit[axis] = 1.0
    return quat_from_axis_angle(unit.expand(angle.shape + (3,)), angle)


def euler_quat(pitch, yaw, roll=None) -> torch.Tensor:
    """Quaternion ``yaw(Y) * pitch(X) * roll(Z)`` from angle arrays of equal shape (...) -> (..., 4)."""
    pitch, yaw = torch.as_tensor(pitch, dtype=torch.float64), torch.as_tensor(yaw, dtype=torch.float64)
    q = qmul(_axis_quat(1, yaw), _axis_quat(0, pitch))
    if roll is not None:
        q = qmul(q, _axis_quat(2, torch.as_tensor(roll, dtype=torch.float64)))
    return q


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def two_bone_ik(base: torch.Tensor, parent_rot: torch.Tensor, target: torch.Tensor, pole: torch.Tensor,
                upper: torch.Tensor, lower: torch.Tensor, front: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Local rotations of a hip/knee or shoulder/elbow pair that put the chain's end on ``target``.

    The middle joint bends towards ``pole``; out-of-reach targets get a straight limb pointing at them.

    Args:
        base: (T, 3) position of the chain's first joint (hip or shoulder).
        parent_rot: (T, 4) global rotation of its parent (pelvis or collar).
        target: (T, 3) wanted end position (ankle or wrist).
        pole: (T, 3) direction the middle joint (knee or elbow) should point to.
        upper, lower: (3,) rest bone vectors base -> middle and middle -> end.
        front: (3,) rest direction the middle joint points to (knee: +Z, elbow: -Z).
    Returns:
        ``(local_base, local_middle, global_middle)``, each (T, 4).
    """
    l1, l2 = upper.norm(), lower.norm()
    offset = target - base
    dist = offset.norm(dim=-1, keepdim=True).clamp(min=float(abs(l1 - l2)) + 1e-4, max=float(l1 + l2) * (1 - 1e-6))  # (T, 1)
    along = _unit(offset)
    cos_a = ((l1**2 + dist**2 - l2**2) / (2 * l1 * dist)).clamp(-1.0, 1.0)
    side = _unit(pole - (pole * along).sum(-1, keepdim=True) * along)
    upper_dir = cos_a * along + torch.sqrt(1 - cos_a**2) * side  # (T, 3) unit
    bend_dir = _unit(side - (side * upper_dir).sum(-1, keepdim=True) * upper_dir)

    rest_a = _unit(upper)
    rest_b = _unit(front - (front @ rest_a) * rest_a)
    rest = torch.stack([rest_a, rest_b, torch.linalg.cross(rest_a, rest_b)], dim=-1)  # (3, 3) columns
    now = torch.stack([upper_dir, bend_dir, torch.linalg.cross(upper_dir, bend_dir, dim=-1)], dim=-1)  # (T, 3, 3)
    base_rot = matrix_to_quat(now @ rest.T)  # (T, 4) global rotation of the base joint

    middle = base + l1 * upper_dir
    end = base + dist * along
    middle_rot = qmul(qbetween(qrot(base_rot, lower.expand_as(middle)), end - middle), base_rot)  # (T, 4)
    return qmul(qinv(parent_rot), base_rot), qmul(qinv(base_rot), middle_rot), middle_rot


def forward_kinematics(local_rot: torch.Tensor, root_pos: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint positions and global rotations from parent-relative rotations.

    Args:
        local_rot: (T, 22, 4) local rotations (joint 0: the pelvis's global rotation).
        root_pos: (T, 3) pelvis positions.
        offsets: (22, 3) rest bone vectors.
    Returns:
        ``(positions (T, 22, 3), global_rot (T, 22, 4))``.
    """
    positions = torch.zeros(local_rot.shape[:-1] + (3,), dtype=local_rot.dtype)
    global_rot = local_rot.clone()
    positions[:, 0] = root_pos
    for level in LEVELS:
        parents = _PARENTS_T[level]
        positions[:, level] = positions[:, parents] + qrot(global_rot[:, parents], offsets[level].expand(len(root_pos), -1, -1))
        global_rot[:, level] = qmul(global_rot[:, parents], local_rot[:, level])
    return positions, global_rot


def _gauss(x: np.ndarray, sigma: float) -> np.ndarray:
    return gaussian_filter1d(x, sigma, axis=0, mode="nearest")


def solve(plan: Plan, body: Body) -> np.ndarray:
    """Joint positions of a plan.

    Steps: the pelvis path and heading follow the feet's anchors and mean heading (smoothed)
    plus ``root_shift``; walking adds pelvis twist and arm swing from how far each foot leads; the
    pelvis height is the wanted one, lowered wherever a leg could not reach its ankle target;
    then two-bone inverse kinematics for legs and arms, and forward kinematics.

    Args:
        plan: the motion, T frames.
        body: the skeleton.
    Returns:
        (T, 22, 3) float64 joint positions in metres.
    """
    t = plan.num_frames
    offsets = torch.from_numpy(body.offsets)
    heading = _gauss(plan.foot_yaw.mean(0), ROOT_SIGMA)  # (T,)
    forward = np.stack([np.sin(heading), np.cos(heading)], -1)  # (T, 2) x, z
    left = np.stack([np.cos(heading), -np.sin(heading)], -1)
    root_xz = _gauss(plan.anchor.mean(0), ROOT_SIGMA)  # (T, 2)
    root_xz = root_xz + plan.root_shift[:, :1] * left + plan.root_shift[:, 1:] * forward

    # Walking secondary motion: the foot that leads swings the opposite arm forward and twists the pelvis.
    lead = ((plan.toe[0][:, [0, 2]] - plan.toe[1][:, [0, 2]]) * forward).sum(-1)  # (T,) > 0: left foot ahead
    swing = np.clip(_gauss(lead, 2.0), -0.5, 0.5) * plan.gait
    hand = plan.hand.copy()
    for side, sign in ((0, -1.0), (1, 1.0)):
        reach = 0.35 * sign * swing
        hand[side, :, 2] += reach
        hand[side, :, 1] += reach**2 / (2 * body.arm_length)
    pelvis_yaw = plan.pelvis_tilt[:, 1] - 0.15 * swing
    spine_yaw = plan.spine[:, 1] + 0.25 * swing

    pelvis_rot = euler_quat(plan.pelvis_tilt[:, 0], heading + pelvis_yaw, plan.pelvis_tilt[:, 2])  # (T, 4)
    foot_rot = euler_quat(plan.foot_pitch, plan.foot_yaw)  # (2, T, 4)
    toe_offset = offsets[list(TOE)][:, None].expand(2, t, 3)
    ankle = torch.from_numpy(plan.toe) - qrot(foot_rot, toe_offset)  # (2, T, 3)

    # Pelvis height: the wanted height, capped where a leg could not reach its ankle target. A foot
    # in the air caps less the higher it is (its leg may stretch towards it instead), so the cap
    # comes back gradually as the foot lands. A minimum filter then a Gaussian no wider than it
    # smooths the result from below: it never exceeds a cap, and it lowers the pelvis ahead of time.
    hip_offset = qrot(pelvis_rot[None], offsets[list(HIP)][:, None].expand(2, t, 3)).numpy()  # (2, T, 3)
    slack = AIRBORNE_SLACK * np.clip(plan.toe[..., 1], 0.0, None)  # (2, T)
    caps = [body.max_pelvis_height(hip_offset[s], ankle[s].numpy(), root_xz) + slack[s] for s in (0, 1)]
    height = np.minimum.reduce([body.standing_height() + plan.pelvis_drop, *caps])
    height = gaussian_filter1d(minimum_filter1d(height, 5, mode="nearest"), 1.0, truncate=2.0, mode="nearest")
    root = torch.from_numpy(np.stack([root_xz[:, 0], height, root_xz[:, 1]], -1))

    local = torch.zeros(t, 22, 4, dtype=torch.float64)
    local[..., 0] = 1.0
    local[:, 0] = pelvis_rot
    spine = torch.from_numpy(plan.spine / len(SPINE))
    for joint in SPINE:
        local[:, joint] = euler_quat(spine[:, 0], spine_yaw / len(SPINE), spine[:, 2])
    local[:, NECK] = euler_quat(torch.from_numpy(plan.neck[:, 0]), torch.from_numpy(plan.neck[:, 1]))
    for side in (0, 1):
        local[:, COLLAR[side]] = _axis_quat(2, torch.from_numpy(SIDE_SIGN[side] * plan.shrug[side]))
    positions, global_rot = forward_kinematics(local, root, offsets)

    for side in (0, 1):
        # Knees point where the toes point, and upwards as the foot rises (kicks, a raised foot).
        toe_dir = qrot(foot_rot[side], toe_offset[side] * toe_offset.new_tensor([1.0, 0.0, 1.0]))
        lift = (ankle[side, :, 1:2] - 0.15).clamp(0.0, 0.5) * 4.0
        knee_pole = _unit(toe_dir) + lift * toe_dir.new_tensor([0.0, 1.0, 0.0])
        hip_local, knee_local, knee_rot = two_bone_ik(positions[:, HIP[side]], global_rot[:, 0], ankle[side], knee_pole,
                                                      offsets[KNEE[side]], offsets[ANKLE[side]], offsets.new_tensor([0.0, 0.0, 1.0]))
        local[:, HIP[side]], local[:, KNEE[side]] = hip_local, knee_local
        local[:, ANKLE[side]] = qmul(qinv(knee_rot), foot_rot[side])

        chest_rot, chest = global_rot[:, CHEST], positions[:, CHEST]
        wrist = chest + qrot(chest_rot, torch.from_numpy(hand[side]))
        elbow_pole = qrot(chest_rot, torch.from_numpy(plan.elbow_pole[side]))
        shoulder_local, elbow_local, _ = two_bone_ik(positions[:, SHOULDER[side]], global_rot[:, COLLAR[side]], wrist, elbow_pole,
                                                     offsets[ELBOW[side]], offsets[WRIST[side]], offsets.new_tensor([0.0, 0.0, -1.0]))
        local[:, SHOULDER[side]], local[:, ELBOW[side]] = shoulder_local, elbow_local
    positions, _ = forward_kinematics(local, root, offsets)
    return positions.numpy()


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Left-right mirror image of a clip, as HumanML3D makes its ``M`` copies.

    Args:
        joints: (T, 22, 3) positions.
    Returns:
        (T, 22, 3) positions with x negated and left and right joints swapped.
    """
    mirrored = np.array(joints, copy=True)[:, MIRROR_INDEX]
    mirrored[..., 0] *= -1
    return mirrored
