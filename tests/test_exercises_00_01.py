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
    segments = {"a": [{"action": "walk"}, {"action": "wave"}], "Ma": [{"action": "walk"}, {"action": "wave"}],
                "b": [{"action": "punch"}, {"action": "punch"}], "c": [{"action": "walk"}], "held": [{"action": "kick"}]}
    train_ids = ["a", "Ma", "b", "c"]
    ex.check_exercise_0_1({"walk": 3, "wave": 2, "punch": 1}, segments, train_ids)
    with pytest.raises(AssertionError, match="counts for both"):  # the first segment of each clip only
        ex.check_exercise_0_1({"walk": 3, "punch": 1}, segments, train_ids)
    with pytest.raises(AssertionError, match="once per action"):  # every segment counted, repeats too
        ex.check_exercise_0_1({"walk": 3, "wave": 2, "punch": 2}, segments, train_ids)
    with pytest.raises(AssertionError, match="never occur"):  # a clip outside the split counted
        ex.check_exercise_0_1({"walk": 3, "wave": 2, "punch": 1, "kick": 1}, segments, train_ids)


def test_exercise_0_2(turning_clip):
    ex.check_exercise_0_2(1.0, turning_clip)  # 0.05 m per frame at 20 fps
    with pytest.raises(AssertionError, match="pelvis"):
        ex.check_exercise_0_2(np.linalg.norm(turning_clip[-1, 0] - turning_clip[0, 0]) / 2.95, turning_clip)  # straight line


def test_exercise_0_3(turning_clip, tmp_path):
    (tmp_path / "new_joints").mkdir()
    fast = turning_clip.copy()
    fast[:, :, [0, 2]] *= 2  # the same turn, twice as far: 2 m/s
    for clip_id, joints in {"s1": turning_clip, "s2": turning_clip, "f1": fast}.items():
        np.save(tmp_path / "new_joints" / f"{clip_id}.npy", joints)
    walks = {"s1": "slow", "s2": "slow", "f1": "fast"}
    ex.check_exercise_0_3({"slow": 1.0, "fast": 2.0}, walks, tmp_path)
    chord = {label: np.linalg.norm(j[-1, 0, [0, 2]] - j[0, 0, [0, 2]]) / 2.95
             for label, j in (("slow", turning_clip), ("fast", fast))}
    with pytest.raises(AssertionError, match="not the distance"):  # straight line from the first to the last frame
        ex.check_exercise_0_3(chord, walks, tmp_path)
    with pytest.raises(AssertionError, match="one mean per speed label"):
        ex.check_exercise_0_3({"slow": 1.0}, walks, tmp_path)


def test_exercise_1_1(turning_clip):
    features = joints_to_features(turning_clip)
    ex.check_exercise_1_1(_integrate_by_hand(features), features)
    with pytest.raises(AssertionError, match="heading"):
        ex.check_exercise_1_1(_integrate_by_hand(features, rotate=False), features)
    with pytest.raises(AssertionError, match="shape"):
        ex.check_exercise_1_1(_integrate_by_hand(features)[:-1], features)


def test_exercise_1_2(turning_clip):
    clip = turning_clip - turning_clip[:, :1] * np.array([1.0, 0.0, 1.0])  # the body, its pelvis above the origin
    clip[..., 2] += np.cumsum(np.linspace(0.0, 0.15, len(clip)))[:, None]  # speeding up from 0 to 3 m/s

    def planted(multiplier, scale=lambda m: m):
        return joints_to_features(clip, feet_threshold=scale(multiplier) * FOOT_CONTACT_THRESHOLD)[:, 259:263].mean(0)

    assert (planted(10.0) > planted(1.0)).all()  # the clip is built so that the knob matters
    ex.check_exercise_1_2(planted, clip)
    with pytest.raises(AssertionError, match="squared step"):  # the speed limit scaled, i.e. the threshold squared
        ex.check_exercise_1_2(lambda m: planted(m, scale=lambda x: x ** 2), clip)
    with pytest.raises(AssertionError, match="4 shares"):
        ex.check_exercise_1_2(lambda m: planted(m)[:2], clip)


def test_exercise_1_3(turning_clip):
    ex.check_exercise_1_3(_mirror, turning_clip)
    with pytest.raises(AssertionError, match="swap every l_/r_ pair"):
        ex.check_exercise_1_3(lambda j: _mirror(j, swap=False), turning_clip)
    with pytest.raises(AssertionError, match="negate x"):
        ex.check_exercise_1_3(lambda j: _mirror(j, negate=False), turning_clip)
