"""The HumanML3D feature pipeline against the official reference clips, plus rotation maths."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongpt_lite.data import quaternion as Q
from motiongpt_lite.data.features import feature_groups, features_to_joints, joints_to_features
from motiongpt_lite.data.skeleton import HUMANML3D, KIT

CLIPS = ["012314", "000000"]
TAIL = 60  # frames at the end where the smoothed facing direction legitimately differs (see notebook 01)


@pytest.mark.parametrize("clip_id", CLIPS)
def test_features_to_joints_reproduces_official_joints(reference_clip, clip_id):
    joints, features = reference_clip(clip_id)
    recovered = features_to_joints(features.astype(np.float32))
    assert recovered.shape == joints.shape
    np.testing.assert_allclose(recovered, joints, atol=1e-4, rtol=0)


@pytest.mark.parametrize("clip_id", CLIPS)
def test_joints_to_features_reproduces_official_features(reference_clip, clip_id):
    joints, features = reference_clip(clip_id)
    ours = joints_to_features(joints)
    assert ours.shape == (len(joints) - 1, 263)
    official = features[: len(ours)].astype(np.float64)
    err = np.abs(ours - official)
    contacts = feature_groups()["foot_contacts"]
    np.testing.assert_array_equal(ours[:, contacts], official[:, contacts])
    assert err[:-TAIL].max() < 1e-4, f"max error before the last {TAIL} frames: {err[:-TAIL].max():.2e}"
    assert err.mean() < 5e-4


def test_reference_bone_lengths_match_official_skeleton(reference_dir):
    raw = np.load(reference_dir / "joints_raw" / "000021.npy")[0, :22]
    np.testing.assert_allclose(HUMANML3D.bone_lengths(raw), HUMANML3D.reference_bone_lengths, atol=1e-12)


@pytest.mark.parametrize("clip_id", CLIPS)
def test_official_clips_have_reference_bone_lengths(reference_clip, clip_id):
    joints, _ = reference_clip(clip_id)
    lengths = HUMANML3D.bone_lengths(joints)
    np.testing.assert_allclose(lengths, np.broadcast_to(HUMANML3D.reference_bone_lengths, lengths.shape), atol=1e-5)


def test_round_trip_on_raw_clip(reference_dir):
    """Raw joints -> features -> joints -> features agrees away from the smoothing tail.

    We use the first 95 frames of 000021: later it turns past 180 degrees, see the next test.
    """
    raw = np.load(reference_dir / "joints_raw" / "000021.npy")[:95, :22]
    features = joints_to_features(raw)
    joints = features_to_joints(features)
    assert joints[..., 1].min() == pytest.approx(0.0, abs=1e-6)  # the lowest joint touches the floor
    np.testing.assert_allclose(HUMANML3D.bone_lengths(joints)[:, 1:],
                               np.broadcast_to(HUMANML3D.reference_bone_lengths[1:], (len(joints), 21)), atol=1e-6)
    again = joints_to_features(joints)
    np.testing.assert_allclose(again[:-TAIL], features[: len(again) - TAIL], atol=1e-4)


def test_heading_past_180_degrees_flips_one_yaw_velocity(reference_dir):
    """A property of the official representation that we keep (notebook 01): the root rotation is a
    quaternion with w >= 0, so when the heading crosses +-180 degrees the frame-to-frame rotation
    comes out as the long way round and arcsin of its y part flips the sign of that one velocity."""
    raw = np.load(reference_dir / "joints_raw" / "000021.npy")[:, :22]
    yaw_vel = joints_to_features(raw)[:, 0]
    heading = np.degrees(2 * np.cumsum(yaw_vel))
    crossing = int(np.argmax(heading < -180))
    assert crossing > 0, "000021 turns through more than 180 degrees"
    window = yaw_vel[crossing - 6:crossing + 6]  # the person keeps turning left (negative dim 0)...
    flipped = np.flatnonzero(window > 0)
    assert len(flipped) == 1, window  # ...but exactly one frame reports the opposite turn
    glitch = crossing - 6 + int(flipped[0])
    assert yaw_vel[glitch] == pytest.approx(-yaw_vel[glitch - 1], rel=0.05)


def test_features_to_joints_keeps_kind_and_batches(reference_clip):
    _, features = reference_clip("000000")
    batch = torch.from_numpy(np.stack([features[:50], features[50:100]]).astype(np.float32))
    out = features_to_joints(batch)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 50, 22, 3) and out.dtype == torch.float32
    np.testing.assert_allclose(out[0].numpy(), features_to_joints(features[:50].astype(np.float32)), atol=1e-6)


def test_kit_dimensions():
    assert KIT.num_joints == 21 and KIT.feature_dim == 251 and HUMANML3D.feature_dim == 263
    out = features_to_joints(np.zeros((5, 251), dtype=np.float32))
    assert out.shape == (5, 21, 3)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((10, 21, 3)), "shape"),
    (np.zeros((10, 22)), "shape"),
    (np.zeros((1, 22, 3)), "at least 2 frames"),
    (np.zeros((0, 22, 3)), "at least 2 frames"),
])
def test_joints_to_features_rejects_bad_shapes(bad, message):
    with pytest.raises(ValueError, match=message):
        joints_to_features(bad)


def test_joints_to_features_rejects_nan(reference_clip):
    joints, _ = reference_clip("000000")
    joints = joints.copy()
    joints[7, 3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN/inf at frames \[7\]"):
        joints_to_features(joints)


@pytest.mark.parametrize("bad", [np.zeros((10, 100)), np.zeros(263), np.zeros((10, 262))])
def test_features_to_joints_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="features must have shape"):
        features_to_joints(bad)


# --- rotation maths -------------------------------------------------------------------------

def _random_quats(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return Q.qnormalize(torch.randn(n, 4, generator=g, dtype=torch.float64))


def test_qmul_matches_matrix_product():
    q, r = _random_quats(50, 1), _random_quats(50, 2)
    torch.testing.assert_close(Q.quat_to_matrix(Q.qmul(q, r)), Q.quat_to_matrix(q) @ Q.quat_to_matrix(r))


def test_qrot_matches_matrix_and_inverse():
    q = _random_quats(50)
    v = torch.randn(50, 3, dtype=torch.float64)
    torch.testing.assert_close(Q.qrot(q, v), (Q.quat_to_matrix(q) @ v[..., None])[..., 0])
    torch.testing.assert_close(Q.qrot(Q.qinv(q), Q.qrot(q, v)), v)


def test_quat_to_matrix_agrees_with_scipy():
    scipy_rotation = pytest.importorskip("scipy.spatial.transform").Rotation
    q = _random_quats(20)
    expected = scipy_rotation.from_quat(q[:, [1, 2, 3, 0]].numpy()).as_matrix()  # scipy is (x, y, z, w)
    np.testing.assert_allclose(Q.quat_to_matrix(q).numpy(), expected, atol=1e-12)


def test_matrix_to_quat_agrees_with_scipy_and_inverts_quat_to_matrix():
    scipy_rotation = pytest.importorskip("scipy.spatial.transform").Rotation
    q = _random_quats(200, 3)
    q[:4] = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])  # each branch's extreme
    m = Q.quat_to_matrix(q)
    expected = scipy_rotation.from_matrix(m.numpy()).as_quat()[:, [3, 0, 1, 2]]  # back to (w, x, y, z)
    ours = Q.matrix_to_quat(m)
    same_sign = np.sign((ours.numpy() * expected).sum(-1, keepdims=True))  # q and -q are one rotation
    np.testing.assert_allclose(ours.numpy(), same_sign * expected, atol=1e-12)
    torch.testing.assert_close(Q.quat_to_matrix(ours), m)


def test_qbetween_maps_u_onto_v():
    u, v = torch.randn(100, 3, dtype=torch.float64), torch.randn(100, 3, dtype=torch.float64)
    rotated = Q.qrot(Q.qbetween(u, v), u / u.norm(dim=-1, keepdim=True))
    torch.testing.assert_close(rotated, v / v.norm(dim=-1, keepdim=True))


def test_qbetween_opposite_vectors_turns_about_vertical():
    u = torch.tensor([[0.0, 0.0, -1.0], [0.0, 2.0, 0.0], [1.0, 0.0, 1.0]], dtype=torch.float64)
    q = Q.qbetween(u, -u)
    assert torch.isfinite(q).all()
    torch.testing.assert_close(Q.qrot(q, u), -u)
    torch.testing.assert_close(q[0], torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64))  # 180 degrees about +Y


def test_axis_angle_turns_left_counter_clockwise():
    """A +90 degree turn about +Y takes the forward axis +Z to the person's left, +X."""
    q = Q.quat_from_axis_angle(torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64), torch.tensor(np.pi / 2))
    torch.testing.assert_close(Q.qrot(q, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)),
                               torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))


def test_cont6d_round_trip_and_gram_schmidt():
    m = Q.quat_to_matrix(_random_quats(30))
    torch.testing.assert_close(Q.cont6d_to_matrix(Q.matrix_to_cont6d(m)), m)
    noisy = Q.matrix_to_cont6d(m) + 0.01 * torch.randn(30, 6, dtype=torch.float64)
    r = Q.cont6d_to_matrix(noisy)
    torch.testing.assert_close(r.transpose(-1, -2) @ r, torch.eye(3, dtype=torch.float64).expand(30, 3, 3))
    assert torch.allclose(torch.linalg.det(r), torch.ones(30, dtype=torch.float64))
