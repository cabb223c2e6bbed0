"""Presets and the command line's error handling."""
from __future__ import annotations

import dataclasses

import pytest

from motiongpt_lite.cli import main
from motiongpt_lite.config import PRESETS, Preset, get_preset


def test_presets_are_dataclass_instances_with_their_names():
    assert list(PRESETS) == ["tiny", "small", "base", "paper"]
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
    with pytest.raises(ValueError, match="choose one of tiny, small, base, paper"):
        get_preset("huge")
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "huge")
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        get_preset()


def test_cli_reports_unknown_preset(capsys):
    assert main(["run", "--preset", "huge"]) == 2
    assert "choose one of tiny, small, base, paper" in capsys.readouterr().err


def test_with_overrides_copies():
    preset = PRESETS["tiny"]
    other = preset.with_overrides(seed=7)
    assert other.seed == 7 and preset.seed != 7 and other.data is preset.data
