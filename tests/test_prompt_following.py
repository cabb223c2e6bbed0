"""The measurements of "does the model do what it is asked": the tokenizer's semantic fidelity, the
prompt-following report, real clips captioned and the gallery (motiongpt_lite.evaluation, pipeline)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from motiongpt_lite.config import get_preset
from motiongpt_lite.data.synthetic import held_out
from motiongpt_lite.evaluation import REAL_CLIPS, TARGETS, real_motion_captions, tokenizer_fidelity
from motiongpt_lite.vq.tokenize import whole_motions
from motiongpt_lite.data.registry import dataset_dir

TINY = get_preset("tiny")
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass
class FakeTokenizer:
    """A 'tokenizer' that gives each clip back unchanged, or frozen in its first pose."""

    frozen: bool = False

    def reconstruct(self, motion):
        motion = torch.as_tensor(motion, dtype=torch.float32)
        if self.frozen:  # the first frame's pose held still: root velocities and joint velocities zero
            still = motion[:1].repeat(len(motion), 1)
            still[:, :3] = 0.0
            still[:, 193:259] = 0.0
            return still
        return motion


@pytest.fixture(scope="module")
def dataset() -> Path:
    return dataset_dir(TINY)


def test_a_lossless_tokenizer_keeps_every_check_of_the_real_clips(dataset):
    fidelity = tokenizer_fidelity(FakeTokenizer(), dataset, max_clips=40)
    assert fidelity["real"].overall == fidelity["reconstructed"].overall
    assert fidelity["real"].overall["action"] == 1.0  # the checks hold on the dataset's own motions


def test_a_tokenizer_that_freezes_motion_fails_the_moving_actions(dataset):
    fidelity = tokenizer_fidelity(FakeTokenizer(frozen=True), dataset, max_clips=40)
    recon = fidelity["reconstructed"]
    assert recon.overall["action"] < 0.5
    moving = [a for a in ("walk", "jump", "wave", "kick", "turn") if a in recon.per_action]
    assert moving and all(recon.per_action[a]["action"] == 0.0 for a in moving)


def test_seen_and_held_out_combinations_are_reported_apart(dataset):
    fidelity = tokenizer_fidelity(FakeTokenizer(), dataset, max_clips=80)
    clips = [c for c in whole_motions(dataset, "test") if c.labels][:80]
    expected = {"seen": sum(not held_out(c.labels) for c in clips), "held-out": sum(held_out(c.labels) for c in clips)}
    for part, count in expected.items():
        key = f"reconstructed, {part} combinations"
        assert (fidelity[key].counts["overall"] if key in fidelity else 0) == count
    assert sum(expected.values()) == len(clips)


def test_no_labels_no_fidelity(tmp_path, dataset):
    import shutil
    copy = tmp_path / "nolabels"
    shutil.copytree(dataset, copy, ignore=shutil.ignore_patterns("labels", "tokens"))
    assert tokenizer_fidelity(FakeTokenizer(), copy) == {}


class EchoGPT:
    """Captions every motion with one fixed sentence."""

    max_frames = 196

    def __init__(self, caption: str):
        self.caption = caption
        self.seen: list[int] = []

    def motion_to_text(self, motion):
        self.seen.append(len(motion))

        class Result:
            text = self.caption
        return Result()


def test_real_clips_are_judged_by_the_action_their_caption_names():
    if not (SHARED / "cmu_bvh").is_dir() or not (SHARED / "humanml3d_reference").is_dir():
        pytest.skip(f"real clips not found under {SHARED} (../shared/data beside the repository)")
    rows = real_motion_captions(EchoGPT("a person walks forward."), root=SHARED)
    assert [r["clip"] for r in rows] == list(REAL_CLIPS)
    assert [r["ok"] for r in rows] == [False, True, True, False]  # kick, walk, walk, hop
    kicks = real_motion_captions(EchoGPT("someone kicks with the left leg."), root=SHARED)
    assert [r["ok"] for r in kicks] == [True, False, False, False]


def test_targets_are_shares_or_ratios():
    assert all(0 < value <= 1 for value in TARGETS.values())
