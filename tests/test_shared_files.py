"""Files we write follow the process umask (issue 18, item 9): safetensors and ``tempfile.mkstemp`` create
files ``0600``, which on a shared machine (a classroom JupyterHub) hides a learner's checkpoints and GIFs
from the teacher. Checked for a training checkpoint, a saved language model and a GIF, under two umasks."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from torch import nn

from motiongpt_lite import viz
from motiongpt_lite.config import get_preset
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.checkpoints import save_checkpoint


@contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoints_models_and_gifs_follow_the_umask(tmp_path, mask, expected):
    with umask(mask):
        checkpoint = save_checkpoint(tmp_path / "ckpt" / "checkpoint.safetensors", nn.Linear(2, 2), step=1)
        lm = MotionLM.build(get_preset("tiny").lm, num_codes=8, captions=["a person walks.", "a man jumps."] * 8)
        folder = lm.save(tmp_path / "lm")
        joints = torch.zeros(3, 22, 3).numpy()
        joints[:, :, 1] = torch.linspace(0, 1.7, 22).numpy()
        gif = viz.save_animation(viz.animate(joints), tmp_path / "walk.gif")
    assert _mode(checkpoint) == expected
    weights = list(folder.glob("*.safetensors"))
    assert weights and all(_mode(p) == expected for p in weights)
    assert _mode(gif) == expected
