"""Presets and the command line's error handling."""
from __future__ import annotations

import dataclasses

import pytest

from motiongpt_lite.cli import main
from motiongpt_lite.config import (PRESETS, InstructConfig, Preset, TrainConfig, VQConfig, get_preset, stage_config,
                                   stored_settings, with_training)


def test_presets_are_dataclass_instances_with_their_names():
    assert list(PRESETS) == ["tiny", "small", "gpu", "base", "paper"]
    for name, preset in PRESETS.items():
        assert isinstance(preset, Preset) and dataclasses.is_dataclass(preset) and preset.name == name


def test_preset_sizes_grow():
    sizes = [PRESETS[n].data.num_motions for n in ("tiny", "small", "base")]
    assert sizes == sorted(sizes) and sizes[0] < sizes[1]


def test_environment_variable_chooses_preset(monkeypatch):
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "tiny")
    assert get_preset().name == "tiny"
    monkeypatch.delenv("MOTIONGPT_LITE_PRESET")
    assert get_preset().name == "small"
    assert get_preset(" Paper ").name == "paper"


def test_unknown_preset_lists_valid_names(monkeypatch):
    with pytest.raises(ValueError, match="choose one of tiny, small, gpu, base, paper"):
        get_preset("huge")
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "huge")
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        get_preset()


def test_cli_reports_unknown_preset(capsys):
    assert main(["run", "--preset", "huge"]) == 2
    assert "choose one of tiny, small, gpu, base, paper" in capsys.readouterr().err


def test_with_overrides_copies():
    preset = PRESETS["tiny"]
    other = preset.with_overrides(seed=7)
    assert other.seed == 7 and preset.seed != 7 and other.data is preset.data


def test_with_training_changes_only_the_training_knobs():
    vq = PRESETS["small"].vq
    short = with_training(vq, steps=7, lr=1e-3)
    assert (short.train.steps, short.train.lr, short.train.batch_size) == (7, 1e-3, vq.train.batch_size)
    assert dataclasses.replace(short, train=vq.train) == vq and vq.train.steps == 3000  # the preset is untouched


def test_stored_settings_are_flat_and_read_back():
    """Run folders record a stage config flat, as before TrainConfig existed, so old checkpoints still match."""
    for cfg in (PRESETS["small"].vq, PRESETS["tiny"].instruct):
        stored = stored_settings(cfg)
        assert "train" not in stored and stored["steps"] == cfg.train.steps and stored["lr"] == cfg.train.lr
        assert stage_config(type(cfg), stored) == cfg
    old_layout = {**{f.name: getattr(VQConfig(), f.name) for f in dataclasses.fields(VQConfig) if f.name != "train"},
                  "steps": 3000, "batch_size": 64, "lr": 2e-3, "warmup_steps": 100, "decay": "cosine",
                  "min_lr_ratio": 0.1, "grad_clip": 1.0, "checkpoint_every": 400, "log_every": 20,
                  "mixed_precision": "no", "weight_decay": 0.0}  # a config.json written before the refactor
    assert stage_config(VQConfig, old_layout).train == TrainConfig(
        steps=3000, batch_size=64, lr=2e-3, warmup_steps=100, min_lr_ratio=0.1, log_every=20, checkpoint_every=400)
    with pytest.raises(TypeError):
        stage_config(InstructConfig, {**stored_settings(InstructConfig()), "not_a_knob": 1})
