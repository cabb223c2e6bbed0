"""BVH import: the parser and forward kinematics against a hand calculation, and the conversion of
real CMU clips (../shared/data/cmu_bvh) into HumanML3D joints and features."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from motiongpt_lite.data.bvh import (
    CMU_MAPPINGS, _resample, bvh_forward_kinematics, bvh_to_features, bvh_to_joints, bvh_unit_scale, load_bvh,
    parse_bvh,
)
from motiongpt_lite.data.features import features_to_joints
from motiongpt_lite.data.skeleton import HUMANML3D

CMU_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cmu_bvh"
CMU_FRAMES = {"131_01": 994, "131_02": 1247, "131_03": 1102}  # from each file's "Frames:" line
WALKS = ("131_01", "131_02")  # "start, walk, stop"; 131_03 is "start, hop, stop"
J = {name: i for i, name in enumerate(HUMANML3D.joint_names)}
FEET = [J["l_ankle"], J["r_ankle"], J["l_foot"], J["r_foot"]]

# Two joints and an end site; each joint lists its rotations in a different order.
TINY = """HIERARCHY
ROOT Root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Mid
  {
    OFFSET 0 2 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0 0 3
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.5
1 2 3 90 90 0 0 0 0
0 0 0 0 0 0 0 90 90
"""
# Worked by hand with right-handed rotations (Rx turns y to z, Ry turns z to x, Rz turns x to y):
# frame 0: R_root = Rz(90) Rx(90). Mid = (1,2,3) + R_root (0,2,0) = (1,2,3) + Rz(90) (0,0,2) = (1,2,5);
#          End = Mid + R_root (0,0,3) = Mid + Rz(90) (0,-3,0) = (1,2,5) + (3,0,0) = (4,2,5).
#          (The other order, Rx(90) Rz(90), would put Mid at (-1,2,3).)
# frame 1: R_mid = Rx(0) Ry(90) Rz(90). Mid = (0,2,0); End = Mid + Ry(90) Rz(90) (0,0,3) = Mid + Ry(90) (0,0,3)
#          = (0,2,0) + (3,0,0) = (3,2,0). (Rz(90) Ry(90) would give (0,5,0).)
TINY_POSITIONS = np.array([[[1, 2, 3], [1, 2, 5], [4, 2, 5]],
                           [[0, 0, 0], [0, 2, 0], [3, 2, 0]]], dtype=np.float64)


def test_tiny_bvh_parses():
    bvh = parse_bvh(TINY)
    assert bvh.names == ["Root", "Mid", "Mid_end"] and bvh.joint_names == ["Root", "Mid"]
    assert bvh.parents == [-1, 0, 1] and bvh.is_end_site == [False, False, True]
    assert bvh.channels[1] == ["Xrotation", "Yrotation", "Zrotation"] and bvh.channels[2] == []
    np.testing.assert_array_equal(bvh.offsets, [[0, 0, 0], [0, 2, 0], [0, 0, 3]])
    assert bvh.frame_time == 0.5 and bvh.fps == 2.0 and bvh.motion.shape == (2, 9)


def test_forward_kinematics_matches_hand_calculation():
    np.testing.assert_allclose(bvh_forward_kinematics(parse_bvh(TINY)), TINY_POSITIONS, atol=1e-12)


def test_crlf_tabs_and_mixed_case_parse_the_same():
    messy = TINY.replace("  ", "\t").replace("\n", "\r\n").replace("Zrotation", "ZROTATION")
    np.testing.assert_allclose(bvh_forward_kinematics(parse_bvh(messy)), TINY_POSITIONS, atol=1e-12)


@pytest.mark.parametrize("text, message", [
    ("", "not a BVH file"),
    ("frame,x,y,z\n0,1,2,3\n", "not a BVH file"),
    (TINY.split("MOTION")[0], "no MOTION section"),
    (TINY.replace("CHANNELS 3 Xrotation Yrotation Zrotation", "CHANNELS 3 Xrotation Yrotation"), "declares 3 channels"),
    (TINY.replace("0 0 0 0 0 0 0 90 90", "0 0 0 0 0 0 0 90"), "has 8 numbers but the hierarchy declares 9"),
    (TINY.replace("Frames: 2", "Frames: 5"), "declares 5 frames but holds only 2"),
    (TINY.replace("1 2 3 90", "1 2 x 90"), "not a number"),
    (TINY.replace("OFFSET 0 2 0", "OFFSET 0 2"), "OFFSET of Mid needs 3 numbers"),
    (TINY.replace("Frame Time: 0.5", "Frame Time: 0"), "must be positive"),
])
def test_bad_text_raises_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_bvh(text)


def test_resample_decimates_whole_ratios_and_interpolates_others():
    ramp = np.arange(13, dtype=np.float64)[:, None, None] * np.ones((1, 2, 3))  # (13, 2, 3), value = frame index
    np.testing.assert_array_equal(_resample(ramp, frame_time=1 / 120, fps=20.0)[:, 0, 0], [0, 6, 12])
    np.testing.assert_allclose(_resample(ramp, frame_time=1 / 120, fps=25.0)[:, 0, 0], [0, 4.8, 9.6])


# ---------------------------------------------------------------- real CMU clips


@pytest.fixture(scope="module")
def cmu_text():
    if not CMU_DIR.is_dir():
        pytest.skip(f"CMU BVH clips not found at {CMU_DIR}; they live in ../shared/data/cmu_bvh next to the repository")
    return {clip: (CMU_DIR / f"{clip}.bvh").read_text() for clip in CMU_FRAMES}


@pytest.fixture(scope="module")
def cmu(cmu_text):
    """clip id -> (Bvh, joints at 20 fps)."""
    parsed = {clip: parse_bvh(text) for clip, text in cmu_text.items()}
    return {clip: (bvh, bvh_to_joints(bvh)) for clip, bvh in parsed.items()}


@pytest.mark.parametrize("clip", CMU_FRAMES)
def test_cmu_file_facts(cmu, clip):
    bvh, _ = cmu[clip]
    assert bvh.num_frames == CMU_FRAMES[clip] and bvh.frame_time == pytest.approx(1 / 120, abs=1e-6)
    assert len(bvh.joint_names) == 31 and sum(bvh.is_end_site) == 7
    assert bvh.channels[0] == ["Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"]
    assert bvh.channels[bvh.names.index("LeftElbow")] == ["Zrotation", "Xrotation", "Yrotation"]  # arms differ
    assert bvh.motion.shape == (CMU_FRAMES[clip], 6 + 30 * 3)
    assert load_bvh(CMU_DIR / f"{clip}.bvh").motion.tobytes() == bvh.motion.tobytes()


@pytest.mark.parametrize("clip", CMU_FRAMES)
def test_cmu_joints_are_upright_on_the_floor_on_reference_bones(cmu, clip):
    _, joints = cmu[clip]
    assert joints.shape == ((CMU_FRAMES[clip] - 1) // 6 + 1, 22, 3) and np.isfinite(joints).all()  # 120 -> 20 fps
    head, pelvis, highest_foot = joints[:, J["head"], 1], joints[:, 0, 1], joints[:, FEET, 1].max(axis=1)
    assert ((head > pelvis) & (pelvis > highest_foot)).all()
    lowest_foot = joints[:, FEET, 1].min(axis=1)  # (T,)
    assert joints[..., 1].min() == pytest.approx(0.0, abs=1e-9)
    assert np.median(lowest_foot) < 0.02 and (lowest_foot < 0.03).mean() > 0.85
    np.testing.assert_allclose(HUMANML3D.bone_lengths(joints)[:, 1:],
                               np.broadcast_to(HUMANML3D.reference_bone_lengths[1:], (len(joints), 21)), atol=1e-9)


def test_official_floor_rule_leaves_the_feet_hovering(cmu):
    """Why we lift sinking frames: in 131_02 a toe dips 6 cm through the floor for 0.2 s."""
    official = bvh_to_joints(cmu["131_02"][0], floor_percentile=0.0)
    assert np.median(official[:, FEET, 1].min(axis=1)) > 0.05


@pytest.mark.parametrize("clip", CMU_FRAMES)
def test_cmu_frame0_faces_plus_z_with_left_at_plus_x(cmu, clip):
    _, joints = cmu[clip]
    assert (joints[0, [J[f"l_{part}"] for part in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow",
                                                   "wrist")], 0] > 0).all()
    assert (joints[0, [J[f"r_{part}"] for part in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow",
                                                   "wrist")], 0] < 0).all()
    # Not true by construction (facing comes from the hips and shoulders): the toes point forward too.
    assert (joints[0, [J["l_foot"], J["r_foot"]], 2] > joints[0, [J["l_ankle"], J["r_ankle"]], 2] + 0.08).all()


@pytest.mark.parametrize("clip", CMU_FRAMES)
def test_cmu_clips_travel_forward(cmu, clip):
    _, joints = cmu[clip]
    sideways, _, forward = joints[-1, 0] - joints[0, 0]
    assert forward > 1.0 and abs(sideways) < 0.4 * forward  # 131_01 starts turned 16 degrees from its path


def test_cmu_unit_is_close_to_the_documented_one(cmu):
    assert bvh_unit_scale(cmu["131_01"][0]) == pytest.approx(0.0254 / 0.45, rel=0.03)  # CMU: 1/0.45 inch


def test_features_round_trip_and_look_like_humanml3d(cmu, reference_dir):
    bvh, joints = cmu["131_01"]
    features = bvh_to_features(bvh)
    assert features.shape == (len(joints) - 1, 263) and np.isfinite(features).all()
    np.testing.assert_allclose(features_to_joints(features), joints[:-1], atol=1e-6)
    z = (features - np.load(reference_dir / "Mean.npy")) / np.load(reference_dir / "Std.npy")
    assert np.median(np.abs(z)) < 1.0  # official statistics: the tokenizer sees numbers of the usual size


def test_other_frame_rates(cmu):
    bvh, _ = cmu["131_01"]
    assert len(bvh_to_joints(bvh, fps=30.0)) == 993 // 4 + 1  # whole ratio: every 4th frame
    assert len(bvh_to_joints(bvh, fps=25.0)) == int(993 / 4.8) + 1  # interpolated


def _rename(text: str, rename) -> str:
    """The BVH text with every ROOT/JOINT name passed through ``rename``."""
    lines = []
    for line in text.splitlines():
        words = line.split()
        lines.append(f"{words[0]} {rename(words[1])}" if words[:1] in (["ROOT"], ["JOINT"]) else line)
    return "\n".join(lines)


def test_cgspeed_names_and_custom_mappings_give_the_same_joints(cmu, cmu_text):
    text, joints = cmu_text["131_01"], cmu["131_01"][1]
    ours, cgspeed = CMU_MAPPINGS["cmu_131"], CMU_MAPPINGS["cmu_cgspeed"]
    to_cgspeed = {ours[k]: cgspeed[k] for k in ours if isinstance(ours[k], str)}  # e.g. LeftShoulder -> LeftArm
    renamed = parse_bvh(_rename(text, lambda name: to_cgspeed.get(name, name)))
    np.testing.assert_allclose(bvh_to_joints(renamed), joints, atol=1e-12)

    prefixed = parse_bvh(_rename(text, lambda name: f"rig:{name}"))
    mapping = {k: f"rig:{v}" if isinstance(v, str) else tuple(f"rig:{n}" for n in v) for k, v in ours.items()}
    np.testing.assert_allclose(bvh_to_joints(prefixed, mapping=mapping), joints, atol=1e-12)


def test_mapping_errors_name_what_is_missing(cmu, cmu_text):
    bvh = cmu["131_01"][0]
    prefixed = parse_bvh(_rename(cmu_text["131_01"], lambda name: f"rig:{name}"))
    with pytest.raises(ValueError, match=r"not a CMU one we know.*'rig:LeftKnee'"):
        bvh_to_joints(prefixed)
    mapping = dict(CMU_MAPPINGS["cmu_131"], l_knee="LeftShin")
    with pytest.raises(ValueError, match=r"\['LeftShin'\] that this file does not have; its joints are \['Hips'"):
        bvh_to_joints(bvh, mapping=mapping)
    with pytest.raises(ValueError, match=r"lacks SMPL joints \['head'\]"):
        bvh_to_joints(bvh, mapping={k: v for k, v in CMU_MAPPINGS["cmu_131"].items() if k != "head"})
    with pytest.raises(ValueError, match=r"bones \['pelvis-spine1'\] on the same point"):
        bvh_to_joints(bvh, mapping=dict(CMU_MAPPINGS["cmu_131"], spine1="lowerback"))


def test_z_up_and_too_short_files_are_refused(cmu):
    bvh = cmu["131_01"][0]
    z_up = replace(bvh, offsets=bvh.offsets[:, [0, 2, 1]] * [1, -1, 1])  # rest pose turned 90 degrees about X
    with pytest.raises(ValueError, match="not \\+Y"):
        bvh_to_joints(z_up)
    with pytest.raises(ValueError, match="less than two frames"):
        bvh_to_joints(replace(bvh, motion=bvh.motion[:5]))


def _deep_bvh(depth: int) -> str:
    joints = "".join(f"JOINT J{i}\n{{\nOFFSET 0 1 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n" for i in range(depth))
    closing = "}\n" * (depth + 1)
    frame = " ".join(["0"] * (6 + 3 * depth))
    return ("HIERARCHY\nROOT Root\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation "
            f"Yrotation\n{joints}{closing}MOTION\nFrames: 1\nFrame Time: 0.05\n{frame}\n")


@pytest.mark.parametrize("text, message", [
    (TINY.replace("Frames: 2", "Frames: 0").replace("1 2 3 90 90 0 0 0 0\n0 0 0 0 0 0 0 90 90\n", ""),
     "Frames: 0; a motion needs at least one frame"),
    (TINY.replace("Frame Time: 0.5", "Frame Time: nan"), "Frame Time is nan s; it must be positive and finite"),
    (TINY.replace("Frame Time: 0.5", "Frame Time: inf"), "Frame Time is inf s; it must be positive and finite"),
    (_deep_bvh(3000), "nested more than 100 deep"),
])
def test_degenerate_bvh_files_are_named_not_crashes(text, message):
    """Issue 18: Frames: 0, a NaN/inf frame time and 3,000 nested joints (a RecursionError) each get a sentence."""
    with pytest.raises(ValueError, match=message):
        parse_bvh(text)
    assert parse_bvh(_deep_bvh(20)).motion.shape == (1, 66)  # a deep but sane chain still parses
