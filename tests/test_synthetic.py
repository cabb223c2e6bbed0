"""The embedded dataset: determinism, physical plausibility, labels that agree with the motion and
the captions, mirroring, and the HumanML3D feature round trip (motiongpt_lite.data.synthetic)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motiongpt_lite.data.features import features_to_joints, joints_to_features
from motiongpt_lite.data.normalization import compute_mean_std
from motiongpt_lite.data.skeleton import HUMANML3D, facing_direction
from motiongpt_lite.data.synthetic import (ACTION_WORDS, ACTIONS, CHOICES, FIELDS, HELD_OUT, build_embedded_dataset, caption_line,
                                           describe, generate_clip, generate_motion, held_out, mirror_caption, mirror_joints,
                                           mirror_labels, tag)

SEED, NUM_MOTIONS = 11, 40
L_FOOT, R_FOOT = [7, 10], [8, 11]  # ankle, toe
SIDE_WORDS = {"left", "right", "clockwise", "counterclockwise"}


def sha256_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """One small build (in-process), reused by the whole module."""
    root = tmp_path_factory.mktemp("embedded") / "set"
    return root, build_embedded_dataset(root, num_motions=NUM_MOTIONS, seed=SEED, workers=1)


@pytest.fixture(scope="module")
def clip_ids(built) -> list[str]:
    return (built[0] / "all.txt").read_text().split()


def synth(spec, seed: int = 0) -> tuple[np.ndarray, dict]:
    return generate_motion(spec, np.random.default_rng(seed))


def heading(joints: np.ndarray) -> np.ndarray:
    """(T,) unwrapped facing angle from hips and shoulders, 0 = +Z, positive = turned left (counter-clockwise)."""
    forward = facing_direction(torch.from_numpy(joints), HUMANML3D).numpy()
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


def foot_height(joints: np.ndarray, foot: list[int]) -> np.ndarray:
    return joints[:, foot, 1].min(axis=1)


# ----------------------------------------------------------------------------- the build

def test_same_seed_gives_identical_files_whatever_the_worker_count(built, tmp_path):
    root, _ = built
    again = build_embedded_dataset(tmp_path / "again", num_motions=NUM_MOTIONS, seed=SEED, workers=2)
    assert not again["skipped"]
    assert sha256_tree(tmp_path / "again") == sha256_tree(root)
    other, _, _ = generate_clip(SEED + 1, 0)
    assert not np.array_equal(other, generate_clip(SEED, 0)[0]), "a different seed must give different motions"


def test_layout_splits_and_statistics(built, clip_ids):
    root, summary = built
    assert summary["num_clips"] == len(clip_ids) == 2 * NUM_MOTIONS
    splits = {name: (root / f"{name}.txt").read_text().split() for name in ("train", "val", "test")}
    assert sorted(sum(splits.values(), [])) == sorted(clip_ids), "splits must partition all clips"
    for name, ids in splits.items():
        originals = {i for i in ids if not i.startswith("M")}
        assert {f"M{i}" for i in originals} == {i for i in ids if i.startswith("M")}, f"{name}: a motion and its mirror share a split"
        assert summary[name] == len(ids)
    for folder, suffix in (("new_joints", ".npy"), ("new_joint_vecs", ".npy"), ("texts", ".txt"), ("labels", ".json")):
        assert sorted(p.stem for p in (root / folder).iterdir() if p.suffix == suffix) == sorted(clip_ids)
    mean, std = compute_mean_std([np.load(root / "new_joint_vecs" / f"{i}.npy") for i in sorted(splits["train"])])
    np.testing.assert_array_equal(np.load(root / "Mean.npy"), mean)
    np.testing.assert_array_equal(np.load(root / "Std.npy"), std)


def test_held_out_combinations_never_reach_train_or_val(built):
    root, _ = built
    for name in ("train", "val"):
        for clip_id in (root / f"{name}.txt").read_text().split():
            assert not held_out(json.loads((root / "labels" / f"{clip_id}.json").read_text())), clip_id
    recorded = json.loads((root / "splits.json").read_text())["held_out_combinations"]
    assert recorded == [dict(c) for c in HELD_OUT]
    for combo in HELD_OUT:  # closed under mirroring, so an M copy never leaks a held-out combination
        assert mirror_labels({"segments": [combo]})["segments"][0] in [dict(c) for c in HELD_OUT]
    assert held_out({"segments": [{"action": "walk", "direction": "backward", "speed": "fast", "count": 3}]})


def test_rebuild_is_skipped_and_a_different_build_is_refused(built, tmp_path):
    root, _ = built
    before = sha256_tree(root)
    assert build_embedded_dataset(root, num_motions=NUM_MOTIONS, seed=SEED)["skipped"]
    assert sha256_tree(root) == before
    with pytest.raises(ValueError, match="overwrite"):
        build_embedded_dataset(root, num_motions=NUM_MOTIONS, seed=SEED + 1)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        build_embedded_dataset(tmp_path / "busy", num_motions=2, seed=0)
    with pytest.raises(ValueError, match="num_motions"):
        build_embedded_dataset(tmp_path / "none", num_motions=0)
    assert not list(tmp_path.glob(".*building")), "no staging folder is left behind"


# ----------------------------------------------------------------------------- every clip

def test_every_clip_is_physically_plausible(built, clip_ids):
    root, _ = built
    reference = np.asarray(HUMANML3D.reference_bone_lengths)
    for clip_id in clip_ids:
        joints = np.load(root / "new_joints" / f"{clip_id}.npy").astype(np.float64)  # (T, 22, 3)
        assert 40 <= len(joints) <= 196, clip_id
        assert np.isfinite(joints).all(), clip_id
        bones = HUMANML3D.bone_lengths(joints)  # (T, 22): constant, the reference skeleton's
        np.testing.assert_allclose(bones, np.broadcast_to(reference, bones.shape), atol=1e-4, err_msg=clip_id)
        assert abs(joints[..., 1].min()) < 1e-4, f"{clip_id}: the floor is at y = 0"
        speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1) * HUMANML3D.fps  # (T-1, 22) m/s
        assert speed.max() < 12.0, f"{clip_id}: a joint moves at {speed.max():.1f} m/s"
        step = np.linalg.norm(np.diff(joints[:, L_FOOT + R_FOOT], axis=0), axis=-1)  # (T-1, 4)
        planted = ((step[1:] < 0.01) & (step[:-1] < 0.01)).any(axis=1)  # a foot joint at rest around frame t
        lowest = joints[1:-1, :, 1].min(axis=1)
        assert (lowest[planted] < 0.02).all(), f"{clip_id}: a foot rests in the air at frames {np.flatnonzero(planted & (lowest >= 0.02))}"


def test_new_joints_are_the_features_decoded(built, clip_ids):
    root, _ = built
    for clip_id in clip_ids:
        features = np.load(root / "new_joint_vecs" / f"{clip_id}.npy")
        assert features.dtype == np.float32 and features.shape[1] == 263
        joints = np.load(root / "new_joints" / f"{clip_id}.npy")
        assert joints.dtype == np.float32 and joints.shape == (len(features), 22, 3)
        np.testing.assert_allclose(features_to_joints(features.astype(np.float64)), joints, atol=1e-5, rtol=0, err_msg=clip_id)


def test_features_are_the_generators_joints_extracted(built):
    root, _ = built
    for index in (0, 1, 2):
        raw, labels, captions = generate_clip(SEED, index)
        clip_id = f"{index:06d}"
        for name, joints in ((clip_id, raw), (f"M{clip_id}", mirror_joints(raw))):
            saved = np.load(root / "new_joint_vecs" / f"{name}.npy")
            np.testing.assert_allclose(joints_to_features(joints), saved, atol=1e-5, rtol=1e-5, err_msg=name)
        saved_labels = json.loads((root / "labels" / f"{clip_id}.json").read_text())
        assert saved_labels["segments"] == labels["segments"]
        assert [line.split("#")[0] for line in (root / "texts" / f"{clip_id}.txt").read_text().splitlines()] == captions


def test_captions_name_the_action_and_side_and_mirrors_swap_them(built, clip_ids):
    root, _ = built
    for clip_id in clip_ids:
        labels = json.loads((root / "labels" / f"{clip_id}.json").read_text())
        lines = (root / "texts" / f"{clip_id}.txt").read_text().splitlines()
        assert len(lines) == 3 and len({line.split("#")[0] for line in lines}) == 3, clip_id
        for line in lines:
            text, tokens, start, end = line.split("#")
            assert (start, end) == ("0.0", "0.0") and tokens == tag(text)
            lemmas = {token.split("/")[0] for token in tokens.split()}
            words = set(text.replace(",", " ").replace(".", " ").split())
            for segment in labels["segments"]:
                assert lemmas & ACTION_WORDS[segment["action"]], (clip_id, text)
                for value in (segment["side"], segment["direction"]):
                    if value in SIDE_WORDS:
                        assert value in words, (clip_id, text)
        if labels["mirror_of"]:
            source = json.loads((root / "labels" / f"{labels['mirror_of']}.json").read_text())
            assert labels["segments"] == mirror_labels(source)["segments"]
            source_lines = (root / "texts" / f"{labels['mirror_of']}.txt").read_text().splitlines()
            assert [line.split("#")[0] for line in lines] == [mirror_caption(line.split("#")[0]) for line in source_lines]


# ----------------------------------------------------------------------------- labels agree with the motion

@pytest.mark.parametrize("direction, axis, sign", [("forward", 2, 1), ("backward", 2, -1), ("left", 0, 1), ("right", 0, -1)])
def test_walk_direction_moves_the_root_that_way(direction, axis, sign):
    for seed in range(3):
        raw, labels = synth({"action": "walk", "direction": direction}, seed)
        joints = features_to_joints(joints_to_features(raw))  # as saved: frame 0 faces +Z, left is +X
        move = joints[-1, 0] - joints[0, 0]
        assert sign * move[axis] > 0.25, (labels["segments"], move)
        assert abs(move[2 - axis]) < 0.35 * abs(move[axis]), (labels["segments"], move)


def test_faster_speeds_walk_faster_and_running_beats_walking():
    def speed(spec, seed):
        raw, _ = synth(spec, seed)
        moving = np.linalg.norm(np.diff(raw[:, 0, [0, 2]], axis=0), axis=-1) * HUMANML3D.fps
        return np.percentile(moving, 90)
    for seed in range(3):
        slow = speed({"action": "walk", "direction": "forward", "speed": "slow"}, seed)
        fast = speed({"action": "walk", "direction": "forward", "speed": "fast"}, seed)
        assert slow < fast < speed({"action": "run"}, seed)


@pytest.mark.parametrize("direction, degrees", [("left", 90), ("right", 90), ("left", 180), ("right", 180)])
def test_turn_left_is_counter_clockwise(direction, degrees):
    raw, _ = synth({"action": "turn", "direction": direction, "degrees": degrees}, seed=degrees)
    turned = np.degrees(heading(raw)[-1] - heading(raw)[0])
    expected = degrees if direction == "left" else -degrees
    assert abs(turned - expected) < 15, turned
    assert np.linalg.norm(raw[-1, 0, [0, 2]] - raw[0, 0, [0, 2]]) < 0.15, "turning happens in place"


@pytest.mark.parametrize("direction, sign", [("counterclockwise", 1), ("clockwise", -1)])
def test_circle_turns_once_around(direction, sign):
    raw, _ = synth({"action": "circle", "direction": direction})
    assert abs(np.degrees(heading(raw)[-1] - heading(raw)[0]) - sign * 360) < 20
    assert np.linalg.norm(raw[-1, 0, [0, 2]] - raw[0, 0, [0, 2]]) < 0.3, "a circle ends where it began"


@pytest.mark.parametrize("direction", ["in_place", "forward"])
def test_jumps_lift_both_feet(direction):
    for count in (1, 3):
        raw, _ = synth({"action": "jump", "direction": direction, "count": count}, seed=count)
        airborne = (foot_height(raw, L_FOOT) > 0.05) & (foot_height(raw, R_FOOT) > 0.05)
        flights = np.count_nonzero(np.diff(airborne.astype(int)) == 1)
        assert flights == count
        travel = raw[-1, 0, 2] - raw[0, 0, 2]
        assert travel > 0.25 * count if direction == "forward" else abs(travel) < 0.1


@pytest.mark.parametrize("side", ["left", "right"])
def test_kick_raises_the_kicking_foot_and_its_mirror_the_other(side):
    raw, labels = synth({"action": "kick", "side": side})
    kick, stance = (L_FOOT, R_FOOT) if side == "left" else (R_FOOT, L_FOOT)
    assert foot_height(raw, kick).max() > 0.35 and foot_height(raw, stance).max() < 0.02
    mirrored = mirror_joints(raw)
    assert foot_height(mirrored, stance).max() > 0.35 and foot_height(mirrored, kick).max() < 0.02
    other = "right" if side == "left" else "left"
    assert mirror_labels(labels)["segments"][0]["side"] == other
    caption = describe(labels, np.random.default_rng(0))[0]
    assert side in caption and other in mirror_caption(caption) and side not in mirror_caption(caption)


@pytest.mark.parametrize("side", ["left", "right"])
def test_hop_stays_on_the_named_leg(side):
    raw, _ = synth({"action": "hop", "side": side, "count": 2})
    stance, free = (L_FOOT, R_FOOT) if side == "left" else (R_FOOT, L_FOOT)
    up = foot_height(raw, free) > 0.1  # the free foot held up
    assert up.mean() > 0.3
    assert np.count_nonzero(np.diff((foot_height(raw, stance)[up] > 0.02).astype(int)) == 1) >= 2, "the stance foot leaves the floor twice"


@pytest.mark.parametrize("side", ["left", "right", "both"])
def test_wave_lifts_the_named_wrist_above_its_shoulder(side):
    raw, _ = synth({"action": "wave", "side": side, "count": 2})
    above = {name: (raw[:, wrist, 1] - raw[:, shoulder, 1]).max() for name, wrist, shoulder in (("left", 20, 16), ("right", 21, 17))}
    for name, height in above.items():
        assert (height > 0.1) == (side in (name, "both")), above


@pytest.mark.parametrize("target", ["overhead", "forward", "sideways"])
def test_raised_arm_points_where_the_label_says(target):
    raw, _ = synth({"action": "raise_arms", "side": "left", "target": target})
    arm = raw[:, 20] - raw[:, 16]  # left shoulder -> wrist, (T, 3); the body faces +Z, left is +X
    top = np.argmax(np.linalg.norm(arm - arm[0], axis=-1))  # the frame farthest from hanging down
    direction = arm[top] / np.linalg.norm(arm[top])
    axis = {"overhead": 1, "forward": 2, "sideways": 0}[target]
    assert direction[axis] > 0.8, direction
    assert (raw[:, 21, 1] - raw[:, 17, 1]).max() < -0.3, "the right arm stays down"


def test_punch_clap_squat_bow_and_stand_do_what_they_say():
    raw, _ = synth({"action": "punch", "side": "right", "count": 2})
    reach = raw[:, [20, 21], 2] - raw[:, [0], 2]  # wrists ahead of the pelvis
    assert reach[:, 1].max() > 0.45 and reach[:, 0].max() < reach[:, 1].max() - 0.15
    raw, _ = synth({"action": "clap", "count": 4})
    gap = np.linalg.norm(raw[:, 20] - raw[:, 21], axis=-1)
    assert np.count_nonzero(np.diff((gap < 0.1).astype(int)) == 1) == 4
    raw, _ = synth({"action": "squat", "count": 2})
    assert raw[0, 0, 1] - raw[:, 0, 1].min() > 0.2
    raw, _ = synth("bow")
    assert raw[0, 15, 1] - raw[:, 15, 1].min() > 0.1 and (raw[:, 15, 2] - raw[:, 0, 2]).max() > 0.3
    raw, _ = synth("stand")
    assert np.abs(raw - raw[:1]).max() < 0.1


def test_composition_runs_both_segments_in_order():
    raw, labels = synth([{"action": "walk", "direction": "forward", "speed": "normal", "count": 4}, {"action": "wave", "side": "right"}])
    first, second = labels["segments"]
    assert (first["action"], second["action"]) == ("walk", "wave")
    assert first["start"] == 0 and first["end"] == second["start"] < second["end"] == labels["num_frames"] == len(raw) - 1
    walked = raw[first["end"], 0, 2] - raw[0, 0, 2]
    assert walked > 0.8 and abs(raw[-1, 0, 2] - raw[first["end"], 0, 2]) < 0.1
    waving = raw[second["start"]:, 21, 1] - raw[second["start"]:, 17, 1]
    assert waving.max() > 0.1 and (raw[:first["end"], 21, 1] - raw[:first["end"], 17, 1]).max() < 0
    assert any(" then " in c or "afterwards" in c for c in describe(labels, np.random.default_rng(1)))


def test_every_action_generates_smooth_grounded_motion():
    for action in ACTIONS:
        raw, labels = synth(action, seed=5)
        assert 41 <= len(raw) <= 197 and labels["segments"][0]["action"] == action
        assert raw[..., 1].min() > -1e-6, action
        toes = raw[:, [10, 11]]  # a toe on the floor does not slide
        on_floor = (toes[1:, :, 1] < 0.005) & (toes[:-1, :, 1] < 0.005)
        assert (np.linalg.norm(np.diff(toes[..., [0, 2]], axis=0), axis=-1)[on_floor] < 0.01).all(), action
        accel = np.abs(np.diff(raw, n=2, axis=0))  # (T-2, 22, 3) m per frame^2
        assert accel.max() < 0.5, (action, "a joint jumps between frames")  # fastest strikes stay below ~0.35
        assert accel[:, 0].max() < 0.1, (action, "the pelvis moves smoothly")


def test_bad_specs_are_refused_with_the_valid_choices():
    with pytest.raises(ValueError, match="use one of"):
        synth("moonwalk")
    with pytest.raises(ValueError, match="choose one of"):
        synth({"action": "turn", "degrees": 45})
    with pytest.raises(ValueError, match="takes no"):
        synth({"action": "bow", "side": "left"})
    assert set(CHOICES) == set(ACTIONS) == set(ACTION_WORDS)


# ----------------------------------------------------------------------------- captions

def test_tagger_matches_humanml3d_tokens(reference_dir):
    """Our lexicon tagger gives the tokens the official data has (spaCy) for the words we share."""
    official = (reference_dir / "texts" / "000000.txt").read_text().splitlines()[0].split("#")[1].split()
    shared = [t for t in official if t.split("/")[0] not in {"something", "or", "someone"}]
    assert tag("a man kicks with his left leg.") == " ".join(shared)


def test_caption_lines_and_mirrored_words():
    rng = np.random.default_rng(3)
    for _ in range(300):
        action = ACTIONS[rng.integers(len(ACTIONS))]
        segment = {field: None for field in FIELDS} | {"action": action}
        segment |= {key: values[rng.integers(len(values))] for key, values in CHOICES[action].items()}
        for caption in describe({"segments": [segment]}, rng):
            assert caption_line(caption).count("#") == 3  # strict tagging: every word is in the lexicon
    mirrored = mirror_caption("someone turns left, then walks in a clockwise circle.")
    assert mirrored == "someone turns right, then walks in a counterclockwise circle."
    assert tag("the man jumps twice") == "the/DET man/NOUN jump/VERB twice/ADV"
    assert tag("someone does two jumps to the left") == "someone/PRON do/VERB two/NUM jump/NOUN to/ADP the/DET left/NOUN"


@pytest.mark.parametrize("index", [1275, 1947])
def test_half_turn_before_a_run_gives_finite_features(index):
    """Regression: motions 1275 and 1947 of the `small` build (a 180-degree turn, then a run or jog) once came out
    all NaN, because the facing vectors before and after the turn are opposite (qbetween's 0/0 case)."""
    joints, labels, _ = generate_clip(1234, index)
    assert labels["segments"][0]["action"] == "turn" and labels["segments"][0]["degrees"] == 180
    assert np.isfinite(joints_to_features(joints.astype(np.float32))).all()
