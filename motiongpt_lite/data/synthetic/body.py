"""A parametric human body for the embedded dataset: rest pose, proportions, forward and inverse
kinematics, and the solver that turns a motion plan into joint positions (introduced in notebook 00).

Conventions are the dataset's: Y up, floor at y = 0, the rest pose faces +Z, the person's left is
+X, and a positive yaw (rotation about +Y) turns the body to its left, counter-clockwise seen from
above. Quaternions are ``(w, x, y, z)``, see :mod:`motiongpt_lite.data.quaternion`.

Rotations are parent-relative, the textbook way (not HumanML3D's quirky inverse kinematics): the
local rotation ``L[j]`` of joint ``j`` turns everything below it, so its global rotation is
``G[j] = G[parent] L[j]`` and ``p[j] = p[parent] + G[parent] offset[j]``. The rotation of the
pelvis (joint 0) is its global rotation; the feet, head and wrists end their chains.

A :class:`Plan` says where the body should be in terms a motion designer thinks in: where each
foot's toe joint is and how the foot is turned and tilted, where each hand is relative to the
chest, how much the pelvis drops, how the spine bends. :func:`solve` finds the root trajectory
(from the feet, with the pelvis height limited by how far the legs reach, so planted feet stay
planted), solves the legs and arms by two-bone inverse kinematics and runs forward kinematics.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motiongpt_lite.data.quaternion import qbetween, qinv, qmul, qrot, quat_from_axis_angle
from motiongpt_lite.data.skeleton import HUMANML3D

__all__ = ["Body", "Plan", "solve", "forward_kinematics", "mirror_joints", "FPS"]

FPS = HUMANML3D.fps
PARENTS = np.array(HUMANML3D.parents)
MIRROR_INDEX = np.array([0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20])
LEFT, RIGHT = 0, 1  # side index in the (2, ...) channels of a Plan
SIDE_SIGN = np.array([1.0, -1.0])  # +X is outward for the left side, -X for the right
HIP, KNEE, ANKLE, TOE = (1, 2), (4, 5), (7, 8), (10, 11)
COLLAR, SHOULDER, ELBOW, WRIST = (13, 14), (16, 17), (18, 19), (20, 21)
SPINE, NECK = (3, 6, 9), 12
CHEST = 9  # spine3: hand targets are given in its frame, relative to it

# Rest direction of the bone ending at each joint (left side; the right side mirrors x). Arms
# hang down, the spine curves gently, feet point forward and a little outward.
_REST_LEFT = {
    1: (0.55, -0.80, -0.17), 3: (0.0, 0.95, -0.30), 4: (0.0, -1.0, 0.0), 6: (0.0, 0.98, 0.18),
    7: (0.0, -0.99, -0.10), 9: (0.0, 1.0, 0.07), 10: (0.25, -0.40, 0.88), 12: (0.0, 0.99, -0.05),
    13: (0.55, 0.83, -0.13), 15: (0.0, 0.75, 0.66), 16: (0.96, -0.12, -0.25), 18: (0.03, -1.0, -0.10),
    20: (0.10, -0.95, 0.20),
}
# Bones that scale together when we vary body proportions.
_GROUPS = {"pelvis": (1, 2), "spine": (3, 6, 9, 12, 15), "legs": (4, 5, 7, 8), "feet": (10, 11),
           "shoulders": (13, 14, 16, 17), "arms": (18, 19, 20, 21)}
REACH = 0.995  # fraction of a leg's full length the pelvis-height solver allows (keeps knees off the lock)
STAND_REACH = 0.975  # fraction of the leg length used when standing (a slightly soft knee)


def _rest_directions() -> np.ndarray:
    """(22, 3) unit rest directions of every bone, mirrored from the left side."""
    directions = np.zeros((22, 3))
    for joint, direction in _REST_LEFT.items():
        directions[joint] = direction
        directions[MIRROR_INDEX[joint]] = (-direction[0], direction[1], direction[2])
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    return directions / np.where(norms > 0, norms, 1.0)


def _reference_lengths() -> np.ndarray:
    """(22,) reference bone lengths, averaged over left and right so the body is symmetric."""
    lengths = np.asarray(HUMANML3D.reference_bone_lengths)
    return (lengths + lengths[MIRROR_INDEX]) / 2


@dataclass(frozen=True)
class Body:
    """One person's skeleton: bone vectors in the rest pose and a stance width.

    Attributes:
        offsets: (22, 3) rest bone vectors in metres (row 0 unused), left-right symmetric.
        stance: lateral distance of each ankle from the pelvis when standing, in metres.
    """

    offsets: np.ndarray
    stance: float

    @classmethod
    def reference(cls) -> "Body":
        """The reference HumanML3D proportions (left-right averaged), feet under the hips."""
        offsets = _rest_directions() * _reference_lengths()[:, None]
        return cls(offsets=offsets, stance=abs(offsets[1, 0]) * 1.2)

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "Body":
        """A random body within the reference scale: +-5% overall, +-3% per bone group, varied stance."""
        lengths = _reference_lengths() * rng.uniform(0.95, 1.05)
        for joints in _GROUPS.values():
            lengths[list(joints)] *= rng.uniform(0.97, 1.03)
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
        """(3,) shoulder position relative to the chest joint, in the chest frame."""
        return self.offsets[COLLAR[side]] + self.offsets[SHOULDER[side]]

    def hand_rest(self, side: int) -> np.ndarray:
        """(3,) wrist of a relaxed hanging arm relative to the chest joint, in the chest frame."""
        return self.shoulder(side) + np.array([0.04 * SIDE_SIGN[side], -0.985 * self.arm_length, 0.03])

    def toe_offset(self, side: int) -> np.ndarray:
        """(3,) rest vector from ankle to toe joint of a flat foot."""
        return self.offsets[TOE[side]]

    def neutral_feet(self) -> np.ndarray:
        """(2, 3) toe positions of a neutral stance around a pelvis above the origin, facing +Z."""
        ankles = np.array([[self.stance, 0.0, 0.0], [-self.stance, 0.0, 0.0]])
        toes = ankles + self.offsets[list(TOE)]
        toes[:, 1] = 0.0
        return toes

    def standing_height(self) -> float:
        """Pelvis height of the neutral stance (feet flat, knees slightly soft)."""
        ankle_height = -self.offsets[TOE[0], 1]
        hip = self.offsets[HIP[0]]
        across = self.stance - hip[0]
        return float(ankle_height - hip[1] + np.sqrt((STAND_REACH * self.leg_length) ** 2 - across**2 - hip[2] ** 2))

    def max_pelvis_height(self, hip_offset: np.ndarray, ankle: np.ndarray, root_xz: np.ndarray, reach: float = REACH) -> np.ndarray:
        """Highest pelvis for which a hip still reaches its ankle target.

        Args:
            hip_offset: (T, 3) hip position relative to the pelvis (pelvis rotation applied).
            ankle: (T, 3) ankle target.
            root_xz: (T, 2) pelvis position on the floor.
            reach: fraction of the leg length allowed.
        Returns:
            (T,) pelvis heights; where the ankle is out of reach horizontally, the height that
            keeps the hip level with the ankle (the inverse kinematics then stretches towards it).
        """
        across = ankle[:, [0, 2]] - root_xz - hip_offset[:, [0, 2]]  # (T, 2)
        spare = (reach * self.leg_length) ** 2 - (across**2).sum(-1)
        return ankle[:, 1] - hip_offset[:, 1] + np.sqrt(np.clip(spare, 0.0, None))


@dataclass
class Plan:
    """A motion as a designer describes it, frame by frame (T frames, float64 arrays).

    Feet and hands use a leading side axis of size 2 (0 = left, 1 = right). Hand targets and elbow
    poles live in the chest frame (spine3), relative to the chest joint; angles are radians.

    Attributes:
        toe: (2, T, 3) world position of each toe joint (y = 0 when the foot is on the floor).
        foot_yaw: (2, T) heading of each foot (0 = +Z, positive = turned left).
        foot_pitch: (2, T) heel lift of each foot about its toe (positive = heel up, toes pointing down).
        hand: (2, T, 3) wrist targets.
        elbow_pole: (2, T, 3) direction each elbow points to.
        shrug: (2, T) collar lift (positive raises the shoulder).
        pelvis_drop: (T,) wanted pelvis height relative to standing (negative = lower, positive = higher).
        pelvis_tilt: (T, 3) pelvis pitch (forward +), yaw (left +) relative to the heading, roll.
        spine: (T, 3) bend of the whole spine: pitch (forward +), yaw (left +), roll (towards the right +).
        neck: (T, 2) neck pitch (nod down +) and yaw (look left +).
        root_shift: (T, 2) pelvis shift from the feet's centre, in the heading frame (x left, z forward).
        gait: (T,) how much walking secondary motion (arm swing, pelvis twist) to add, 0..1.
    """

    toe: np.ndarray
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
        """A body standing still at the origin, facing +Z, arms hanging, for ``num_frames`` frames."""
        t = num_frames
        hands = np.stack([body.hand_rest(LEFT), body.hand_rest(RIGHT)])
        poles = np.array([[0.3, -0.2, -1.0], [-0.3, -0.2, -1.0]])
        return cls(
            toe=np.repeat(body.neutral_feet()[:, None], t, axis=1), foot_yaw=np.zeros((2, t)),
            foot_pitch=np.zeros((2, t)), hand=np.repeat(hands[:, None], t, axis=1),
            elbow_pole=np.repeat(poles[:, None], t, axis=1), shrug=np.zeros((2, t)), pelvis_drop=np.zeros(t),
            pelvis_tilt=np.zeros((t, 3)), spine=np.zeros((t, 3)), neck=np.zeros((t, 2)),
            root_shift=np.zeros((t, 2)), gait=np.zeros(t),
        )

    @property
    def num_frames(self) -> int:
        return self.pelvis_drop.shape[0]

    def _map(self, fn) -> "Plan":
        """Apply ``fn(array, time_axis)`` to every channel."""
        return replace(self, **{f.name: fn(getattr(self, f.name), 1 if f.name in _SIDED else 0) for f in fields(self)})

    def moved(self, yaw: float, origin_xz: np.ndarray) -> "Plan":
        """The same motion turned by ``yaw`` about the vertical and moved so the origin lands on ``origin_xz``."""
        c, s = np.cos(yaw), np.sin(yaw)
        x, z = self.toe[..., 0], self.toe[..., 2]
        toe = np.stack([c * x + s * z + origin_xz[0], self.toe[..., 1], -s * x + c * z + origin_xz[1]], axis=-1)
        return replace(self, toe=toe, foot_yaw=self.foot_yaw + yaw)

    def end_frame(self) -> tuple[float, np.ndarray]:
        """Heading and floor position (centre of the ankles) of the last frame, to chain the next motion."""
        yaw = float(self.foot_yaw[:, -1].mean())
        c, s = np.cos(self.foot_yaw[:, -1]), np.sin(self.foot_yaw[:, -1])
        toe_xz = np.array([[1.0, 0.0]]) * 0  # placeholder replaced below for clarity
        del toe_xz
        return yaw, self._ankles_xz(-1, c, s).mean(axis=0)

    def _ankles_xz(self, frame: int, c: np.ndarray, s: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # replaced by solve-time geometry; see heel_points


_SIDED = {"toe", "foot_yaw", "foot_pitch", "hand", "elbow_pole", "shrug"}
