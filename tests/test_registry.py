"""One home for dataset identity: folders are recognised by what they hold, and a KIT-ML folder (21 joints,
251 features, 12.5 fps) goes through the pipeline's stages as the embedded set does."""
import json
from dataclasses import replace

import numpy as np
import pytest

from motiongpt_lite.config import get_preset, with_training
from motiongpt_lite.data.dataset import load_split
from motiongpt_lite.data.features import joints_to_features
from motiongpt_lite.data.normalization import compute_mean_std
from motiongpt_lite.data.registry import DATASETS, dataset_spec, preset_spec, spec_of
from motiongpt_lite.data.skeleton import KIT
from motiongpt_lite.data.synthetic.build import generate_clip
from motiongpt_lite.data.synthetic.captions import caption_line

# SMPL joint standing in for each KIT joint (toes: the foot joint moved 5 cm forward)
SMPL_FOR_KIT = [0, 3, 9, 12, 15, 17, 19, 21, 16, 18, 20, 2, 5, 8, 11, 11, 1, 4, 7, 10, 10]


def kit_joints(smpl: np.ndarray) -> np.ndarray:
    """(T, 22, 3) SMPL joints at 20 fps -> (T', 21, 3) KIT-layout joints resampled to 12.5 fps."""
    joints = smpl[:, SMPL_FOR_KIT].copy()
    joints[:, [15, 20]] += np.array([0.0, 0.0, 0.05])
    t = np.arange(0, len(joints) - 1, 20 / KIT.fps)
    low = np.floor(t).astype(int)
    weight = (t - low)[:, None, None]
    return joints[low] * (1 - weight) + joints[low + 1] * weight


def write_kit_folder(root, num_motions: int = 64, seed: int = 5) -> None:
    """A KIT-ML-layout dataset built from generated motions: features of 21 joints, captions, splits, statistics."""
    for folder in ("new_joint_vecs", "texts"):
        (root / folder).mkdir(parents=True)
    parents = np.zeros(21, dtype=int)
    for chain in KIT.kinematic_chains:
        parents[list(chain[1:])] = chain[:-1]
    ids = []
    for index in range(num_motions):
        smpl, _, captions = generate_clip(seed, index)
        joints = kit_joints(smpl)
        offsets = np.asarray(KIT.raw_offsets, float) * np.linalg.norm(joints[0] - joints[0, parents], axis=1)[:, None]
        features = joints_to_features(joints, skeleton=KIT, target_offsets=offsets).astype(np.float32)  # (T, 251)
        clip_id = f"{index:05d}"
        np.save(root / "new_joint_vecs" / f"{clip_id}.npy", features)
        (root / "texts" / f"{clip_id}.txt").write_text("".join(caption_line(c) + "\n" for c in captions))
        ids.append(clip_id)
    splits = {"train": ids[:48], "val": ids[48:52], "test": ids[52:]}
    for name, members in {**splits, "all": ids}.items():
        (root / f"{name}.txt").write_text("".join(f"{i}\n" for i in members))
    train = np.concatenate([np.load(root / "new_joint_vecs" / f"{i}.npy") for i in splits["train"]])  # (N, 251)
    mean, std = compute_mean_std(train, num_joints=21)
    np.save(root / "Mean.npy", mean)
    np.save(root / "Std.npy", std)


def test_folders_are_recognised_by_their_contents(tmp_path, reference_dir):
    kit = tmp_path / "my_data"  # a name that says nothing
    kit.mkdir()
    np.save(kit / "Mean.npy", np.zeros(251, np.float32))
    assert spec_of(kit) is DATASETS["kit"] and spec_of(kit).fps == 12.5 and spec_of(kit).feature_dim == 251
    assert spec_of(reference_dir) is DATASETS["humanml3d"] and spec_of(reference_dir).fps == 20.0
    built = tmp_path / "embedded_like"
    built.mkdir()
    (built / "build_info.json").write_text(json.dumps({"generator_version": "2"}))
    assert spec_of(built).name == "embedded"
    odd = tmp_path / "odd"
    odd.mkdir()
    np.save(odd / "Mean.npy", np.zeros(100, np.float32))
    with pytest.raises(ValueError, match="neither HumanML3D"):
        spec_of(odd)
    with pytest.raises(FileNotFoundError, match="not a finished dataset folder"):
        spec_of(tmp_path / "missing")
    with pytest.raises(ValueError, match="choose one of embedded, humanml3d, kit"):
        dataset_spec("amass")
    assert dataset_spec(KIT) is DATASETS["kit"]


def test_a_kit_folder_goes_through_data_vq_tokens_and_evaluate(tmp_path, monkeypatch):
    """The pipeline on KIT-ML's layout at tiny sizes (the stages once read the test split as HumanML3D's)."""
    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.pipeline import run

    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    write_kit_folder(tmp_path / "data" / "kit")
    tiny = get_preset("tiny")
    preset = tiny.with_overrides(
        data=replace(tiny.data, dataset="kit", min_frames=24),
        vq=with_training(tiny.vq, steps=4, batch_size=4, log_every=2),
        lm=with_training(tiny.lm, steps=4, batch_size=4, log_every=2),
        instruct=with_training(tiny.instruct, steps=4, batch_size=4, log_every=2),
        eval=replace(with_training(tiny.eval, steps=4, batch_size=4, log_every=2), replications=1, num_captions=8, multimodality_texts=2,
                     multimodality_repeats=2, multimodality_pairs=1, diversity_pairs=4))
    assert preset_spec(preset).name == "kit"
    report = run(preset, stages=["data", "vq", "tokens", "pretrain", "instruct", "evaluate"])
    stages = report["stages"]
    assert stages["data"]["dataset"] == str(tmp_path / "data" / "kit") and stages["data"]["test_clips"] == 12
    assert stages["tokens"]["files"] == 64
    evaluation = json.loads((tmp_path / "checkpoints" / "tiny" / "evaluation.json").read_text())
    assert evaluation["dataset"] == "kit" and evaluation["settings"]["clips"] > 0
    gpt = MotionGPT.from_preset(preset)
    assert gpt.fps == 12.5 and gpt.motion_dim == 251
    assert load_split(tmp_path / "data" / "kit", "test", dataset=spec_of(tmp_path / "data" / "kit")).fps == 12.5
