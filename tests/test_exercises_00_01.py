"""The exercise checkers of notebooks 00 and 01 accept right answers and reject wrong ones."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongpt_lite import exercises as ex
from motiongpt_lite.data.features import FOOT_CONTACT_THRESHOLD, joints_to_features
from motiongpt_lite.data.quaternion import quat_from_axis_angle, qrot
from motiongpt_lite.data.skeleton import HUMANML3D, forward_kinematics


@pytest.fixture(scope="module")
def turning_clip() -> np.ndarray:
    """(60, 22, 3) rest-pose body gliding forward at 1 m/s while turning left 90 degrees: no real data needed."""
    num_frames = 60
    quats = torch.zeros(num_frames, 22, 4, dtype=torch.float64)
    quats[..., 0] = 1.0
    quats[:, 0] = quat_from_axis_angle(torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64),
                                       torch.linspace(0, np.pi / 2, num_frames, dtype=torch.float64))
    heading = qrot(quats[:, 0], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))  # (T, 3)
    root = torch.cumsum(0.05 * heading, dim=0) + torch.tensor([0.0, 0.95, 0.0], dtype=torch.float64)
    offsets = torch.tensor(HUMANML3D.reference_offsets())
    return forward_kinematics(quats, root, offsets, HUMANML3D).numpy()


def _integrate_by_hand(features: np.ndarray, rotate: bool = True) -> np.ndarray:
    """Exercise 1.1's intended solution: heading from dim 0, body-frame steps turned to the world."""
    theta = -2 * np.concatenate([[0.0], np.cumsum(features[:-1, 0])])  # (T,)
    dx, dz = features[:-1, 1], features[:-1, 2]
    th = theta[1:] if rotate else np.zeros_like(dx)
    steps = np.stack([np.cos(th) * dx + np.sin(th) * dz, -np.sin(th) * dx + np.cos(th) * dz], axis=-1)
    return np.concatenate([[[0.0, 0.0]], np.cumsum(steps, axis=0)])


def _mirror(joints: np.ndarray, swap: bool = True, negate: bool = True) -> np.ndarray:
    names = HUMANML3D.joint_names
    partner = [names.index({"l_": "r_", "r_": "l_"}.get(n[:2], n[:2]) + n[2:]) for n in names]
    out = joints[:, partner].copy() if swap else joints.copy()
    if negate:
        out[..., 0] *= -1
    return out


def test_exercise_0_1():
    ex.check_exercise_0_1(7.3, [100, 146, 80], fps=20.0)
    with pytest.raises(AssertionError, match="divide by the frame rate"):
        ex.check_exercise_0_1(146, [100, 146, 80], fps=20.0)


def test_exercise_0_2():
    ex.check_exercise_0_2(49, 25, down_t=2)  # 196 / 8 = 24.5: the partial token is padded, 25 tokens
    with pytest.raises(AssertionError, match="tokens_now"):
        ex.check_exercise_0_2(98, 25, down_t=2)
    with pytest.raises(AssertionError, match="tokens_down_t_3=24 is off.*round up"):
        ex.check_exercise_0_2(49, 24, down_t=2)  # floor: the convention the course no longer uses


def test_exercise_0_3(turning_clip):
    ex.check_exercise_0_3(1.0, turning_clip)  # 0.05 m per frame at 20 fps
    with pytest.raises(AssertionError, match="pelvis"):
        ex.check_exercise_0_3(np.linalg.norm(turning_clip[-1, 0] - turning_clip[0, 0]) / 2.95, turning_clip)  # straight line


def test_exercise_1_1(turning_clip):
    features = joints_to_features(turning_clip)
    ex.check_exercise_1_1(_integrate_by_hand(features), features)
    with pytest.raises(AssertionError, match="heading"):
        ex.check_exercise_1_1(_integrate_by_hand(features, rotate=False), features)
    with pytest.raises(AssertionError, match="shape"):
        ex.check_exercise_1_1(_integrate_by_hand(features)[:-1], features)


def test_exercise_1_2(turning_clip):
    fractions_10x = joints_to_features(turning_clip, feet_threshold=10 * FOOT_CONTACT_THRESHOLD)[:, 259:263].mean(axis=0)
    default = joints_to_features(turning_clip)[:, 259:263].mean(axis=0)
    assert (fractions_10x > default).all()  # the clip is built so that the knob matters
    ex.check_exercise_1_2("more", fractions_10x, turning_clip)
    with pytest.raises(AssertionError, match="prediction"):
        ex.check_exercise_1_2("fewer", fractions_10x, turning_clip)
    with pytest.raises(AssertionError, match="fractions"):
        ex.check_exercise_1_2("more", default, turning_clip)


def test_exercise_1_3(turning_clip):
    ex.check_exercise_1_3(_mirror, turning_clip)
    with pytest.raises(AssertionError, match="swap every l_/r_ pair"):
        ex.check_exercise_1_3(lambda j: _mirror(j, swap=False), turning_clip)
    with pytest.raises(AssertionError, match="negate x"):
        ex.check_exercise_1_3(lambda j: _mirror(j, negate=False), turning_clip)
