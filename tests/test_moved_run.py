"""A trained run folder moved with its data (another checkout, another MOTIONGPT_LITE_DATA, a teacher's
checkpoints/ handed to a class) is reused: runs identify their data by content, not by path (issue 18.11)."""
from __future__ import annotations

import shutil

import pytest

from motiongpt_lite.config import get_preset
from motiongpt_lite.data.dataset import content_fingerprint, dataset_fingerprint

TINY = get_preset("tiny")


def test_fingerprints_follow_content_not_location(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "train.txt").write_text("000001\n")
        (folder / "Mean.npy").write_bytes(b"\x00\x01")
    assert dataset_fingerprint(a) == dataset_fingerprint(b)
    (b / "train.txt").write_text("000002\n")
    assert dataset_fingerprint(a) != dataset_fingerprint(b)
    assert content_fingerprint([a / "train.txt"]) != content_fingerprint([b / "train.txt"])


@pytest.mark.slow
def test_a_moved_run_reuses_every_trained_stage(tmp_path, monkeypatch):
    from motiongpt_lite.eval.evaluator import train_evaluator
    from motiongpt_lite.lm.instruct import instruct, lm_instruct_dir
    from motiongpt_lite.lm.pretrain import lm_pretrain_dir, pretrain
    from motiongpt_lite.vq.train import tokenize_preset, train_vq, vq_dir

    def train_all():
        train_vq(TINY, progress=False)
        tokenize_preset(TINY)
        pretrain(TINY, progress=False)
        instruct(TINY, progress=False)
        train_evaluator(TINY, progress=False)

    first = tmp_path / "first"
    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(first / "data"))
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(first / "checkpoints"))
    train_all()
    checkpoints = [vq_dir(TINY), lm_pretrain_dir(TINY), lm_instruct_dir(TINY)]
    names = [c.relative_to(first / "checkpoints") / "checkpoint.safetensors" for c in checkpoints]

    moved = tmp_path / "elsewhere"
    shutil.move(first, moved)
    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(moved / "data"))
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(moved / "checkpoints"))
    before = {n: (moved / "checkpoints" / n).read_bytes() for n in names}
    train_all()  # raised "... was trained with other settings" when the runs recorded absolute paths
    assert {n: (moved / "checkpoints" / n).read_bytes() for n in names} == before  # nothing retrained
