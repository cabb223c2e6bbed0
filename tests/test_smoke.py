"""The GPU presets' code paths on a CPU (issue 15): `gpu`, `base` and `paper` at full width, two steps of every stage.

Their data is HumanML3D's layout: a folder built here from a few embedded motions, with the official reference
clips (../shared/data) beside them and HumanML3D's own Mean/Std, so the loader reads real HumanML3D files. One
reference clip has no caption file, as can happen in a real download: it must be skipped, not stop the load.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from motiongpt_lite.config import get_preset, smoke_preset
from motiongpt_lite.data.dataset import load_split
from motiongpt_lite.data.registry import dataset_dir, spec_of
from motiongpt_lite.data.synthetic import build_embedded_dataset
from motiongpt_lite.pipeline import STAGES, run

REAL_CLIPS = ("000000", "012314")  # 012314 has no caption in the reference files


def _humanml3d_folder(root, reference_dir):
    """A HumanML3D-layout folder: 8 embedded motions (16 clips with mirrors) plus the reference clips."""
    folder = root / "humanml3d"
    build_embedded_dataset(folder, num_motions=8, seed=0, workers=1)
    for name in ("build_info.json", "splits.json", "labels"):  # what marks the embedded set: gone
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    for clip in REAL_CLIPS:
        shutil.copy(reference_dir / "new_joint_vecs" / f"{clip}.npy", folder / "new_joint_vecs" / f"{clip}.npy")
        shutil.copy(reference_dir / "new_joints" / f"{clip}.npy", folder / "new_joints" / f"{clip}.npy")
    shutil.copy(reference_dir / "texts" / "000000.txt", folder / "texts" / "000000.txt")
    for name in ("Mean.npy", "Std.npy"):  # HumanML3D's own statistics
        shutil.copy(reference_dir / name, folder / name)
    for split in ("train", "test"):
        ids = (folder / f"{split}.txt").read_text().split() + list(REAL_CLIPS)
        (folder / f"{split}.txt").write_text("\n".join(ids) + "\n")
    return folder


@pytest.mark.parametrize("name", ["gpu", "base", "paper"])
def test_the_big_presets_run_every_stage_on_humanml3d_files(name, reference_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    folder = _humanml3d_folder(tmp_path / "data", reference_dir)
    preset = smoke_preset(get_preset(name))
    full = get_preset(name)
    assert (preset.vq.width, preset.vq.num_codes, preset.lm.d_model, preset.lm.num_layers) == \
        (full.vq.width, full.vq.num_codes, full.lm.d_model, full.lm.num_layers)  # the full architectures
    assert dataset_dir(preset) == folder and spec_of(folder).name == "humanml3d"
    train = load_split(folder, "train", dataset=spec_of(folder))
    assert "000000" in {c.id for c in train.clips} and train.skipped.get("012314")  # no caption: skipped, with why

    out = tmp_path / "checkpoints" / f"{name}-smoke"
    try:
        report = run(preset)
        _check(report, name, folder, out)
    finally:  # about 6 GB of full-width checkpoints: never left for pytest's kept temporary folders
        shutil.rmtree(out, ignore_errors=True)


def _check(report, name, folder, out):
    full = get_preset(name)
    stages = report["stages"]
    assert list(stages) == list(STAGES) and not any(s.get("skipped") for s in stages.values())
    assert stages["data"]["dataset"] == str(folder)
    assert stages["pretrain"]["loss"] > 0 and np.isfinite(stages["instruct"]["loss"])
    history = json.loads((out / "lm_pretrain" / "history.json").read_text())
    assert [row["step"] for row in history] == [1, 2]
    message = json.loads((out / "lm_pretrain" / "model" / "motion_vocab.json").read_text())["message"]
    assert f"({full.lm.num_layers}+{full.lm.num_layers} layers, d_model {full.lm.d_model})" in message
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["dataset"] == "humanml3d" and evaluation["settings"]["clips"] > 0
