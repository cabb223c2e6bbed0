"""Instruction tuning (motiongpt_lite.lm.instruct): examples of every family rebuild the original motion,
the mixture follows the ratios, only training phrasings are used, and a short run from a pretrained
model logs per-family losses, saves a loadable model and resumes exactly."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch

from lm_fake_data import NUM_CODES, fake_preset, make_fake_dataset
from motiongpt_lite.config import with_training
from motiongpt_lite.lm.instruct import InstructDataset, family_weights, instruct, make_instruction
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.lm.parse import parse_text
from motiongpt_lite.lm.pretrain import load_motion_texts, pretrain
from motiongpt_lite.lm.tasks import MotionText
from motiongpt_lite.lm.templates import FAMILIES, templates
from motiongpt_lite.lm.vocab import MotionVocab

VOCAB = MotionVocab(num_codes=NUM_CODES, offset=500)
MICRO = dict(d_model=32, d_ff=64, d_kv=8, num_layers=1, num_heads=2)  # a T5 small enough for a few quick steps
ITEM = MotionText(np.arange(12) % NUM_CODES, ["a man jumps up.", "someone jumps up.", "a person jumps up."], 47)


def _fixed_text(template: str) -> str:
    """The longest piece of a template's own words (between placeholders)."""
    return max((piece.strip() for piece in re.split(r"\{\w+\}", template)), key=len)


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("instruct")
    data = make_fake_dataset(root / "data", num_motions=24)
    preset = fake_preset(steps=6, batch_size=8, **MICRO)
    pretrain(preset, data_dir=data, tokens_dir=data / "tokens", out_dir=root / "pre", progress=False)
    cfg = with_training(preset.instruct, steps=6, batch_size=8, warmup_steps=1, log_every=2)
    return preset, cfg, data, root


def test_family_weights_normalise_and_refuse_nonsense():
    cfg = fake_preset().instruct
    weights = family_weights(cfg)
    assert weights.shape == (len(FAMILIES),) and abs(weights.sum() - 1) < 1e-12
    with pytest.raises(ValueError, match="mix_\\* fields"):
        family_weights(dataclasses.replace(cfg, **{f"mix_{f}": 0.0 for f in FAMILIES}))


@pytest.mark.parametrize("seed", range(5))
def test_every_family_builds_a_consistent_example(seed):
    cfg, codes = fake_preset().instruct, [int(c) for c in ITEM.code_idx]
    for family in FAMILIES:
        used, prompt, target = make_instruction(family, ITEM, VOCAB, cfg, np.random.default_rng(seed))
        assert used == family
        source, answer = parse_text(prompt, VOCAB), parse_text(target, VOCAB)
        if family in ("text_to_motion", "text_to_motion_length"):
            assert answer.code_idx == codes and answer.well_formed_motion
            assert any(c in prompt for c in ITEM.captions)
        if family == "text_to_motion_length":
            numbers = set(re.findall(r"\d+(?:\.\d+)?", prompt))
            assert numbers and numbers <= {"47", "2.4"}  # 47 frames = 2.4 s at 20 fps, never the 12 tokens
        if family == "motion_to_text":
            assert source.code_idx == codes and target in ITEM.captions
        if family == "paraphrase":
            assert target in ITEM.captions and target not in prompt
        if family == "predict":
            assert source.code_idx + answer.code_idx == codes and source.code_idx and answer.code_idx
        if family == "inbetween":
            masks = prompt.count(f"<motion_id_{NUM_CODES + 2}>")
            assert masks == len(answer.code_idx) >= 1 and "mask_in_motion" in source.flags
            before_gap = prompt.split(f"<motion_id_{NUM_CODES + 2}>")[0]
            head = parse_text(before_gap + f"<motion_id_{NUM_CODES + 1}>", VOCAB).code_idx
            tail = source.code_idx[len(head):]
            assert head + answer.code_idx + tail == codes and head and tail


def test_families_fall_back_when_the_motion_cannot_carry_them():
    cfg, rng = fake_preset().instruct, np.random.default_rng(0)
    short = MotionText(np.array([3, 4]), ["a man waves."], 8)
    assert make_instruction("inbetween", short, VOCAB, cfg, rng)[0] == "text_to_motion"
    assert make_instruction("predict", dataclasses.replace(short, code_idx=np.array([3])), VOCAB, cfg, rng)[0] == \
        "text_to_motion"
    assert make_instruction("paraphrase", short, VOCAB, cfg, rng)[0] == "motion_to_text"
    assert VOCAB.masked_to_text([1], 2, [3]) == \
        "<motion_id_16><motion_id_1><motion_id_18><motion_id_18><motion_id_3><motion_id_17>"


def test_dataset_mixes_families_by_ratio_with_training_phrasings_only(run_dirs):
    preset, cfg, data, root = run_dirs
    lm = MotionLM.load(root / "pre" / "model")
    items, _ = load_motion_texts(data, data / "tokens")
    dataset = InstructDataset(items * 100, lm.tokenizer, lm.vocab, cfg, seed=1)
    examples = [dataset.example(i) for i in range(len(dataset))]
    share = np.bincount([FAMILIES.index(f) for f, _, _ in examples], minlength=len(FAMILIES)) / len(examples)
    np.testing.assert_allclose(share, family_weights(cfg), atol=0.03)  # the fake motions carry every family
    held_out = [_fixed_text(t) for f in FAMILIES for t in templates(f, "held_out")]
    assert not any(h in prompt for _, prompt, _ in examples for h in held_out)
    assert dataset.example(3) == dataset.example(3)
    row = dataset[0]
    family, prompt, target = dataset.example(0)
    assert row["labels"] == lm.tokenizer(target, add_special_tokens=False).input_ids + [lm.tokenizer.eos_token_id]
    if family in ("text_to_motion", "text_to_motion_length"):
        assert row["labels"][:-1] == lm.vocab.codes_to_ids(parse_text(target, lm.vocab).code_idx)
    unseen = InstructDataset(items, lm.tokenizer, lm.vocab, cfg, seed=1, split="held_out")
    assert all(any(h in unseen.example(i)[1] for h in held_out) for i in range(len(unseen)))


def test_short_run_logs_every_family_saves_and_resumes_exactly(run_dirs):
    preset, cfg, data, root = run_dirs
    common = dict(cfg=cfg, data_dir=data, tokens_dir=data / "tokens", pretrained_dir=root / "pre", progress=False)
    full = instruct(preset, out_dir=root / "full", **common)
    assert [row["step"] for row in full.history] == [2, 4, 6]
    assert {k for row in full.history for k in row if k.startswith("loss_")} <= {f"loss_{f}" for f in FAMILIES}
    assert len({k for row in full.history for k in row if k.startswith("loss_")}) >= 4
    reloaded = MotionLM.load(root / "full" / "model")
    pre = MotionLM.load(root / "pre" / "model")
    for (name, a), b, p in zip(full.lm.model.state_dict().items(), reloaded.model.state_dict().values(),
                               pre.model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    assert any(not torch.equal(a, p) for a, p in zip(full.lm.model.parameters(), pre.model.parameters()))
    instruct(preset, out_dir=root / "cut", stop_after=3, **common)
    resumed = instruct(preset, out_dir=root / "cut", **common)
    for a, b in zip(full.lm.model.parameters(), resumed.lm.model.parameters()):
        torch.testing.assert_close(a, b)
    assert [r["loss"] for r in resumed.history] == pytest.approx([r["loss"] for r in full.history])


def test_missing_pretrained_model_says_what_to_run(run_dirs, tmp_path):
    preset, cfg, data, _ = run_dirs
    with pytest.raises(FileNotFoundError, match="motiongpt-lite pretrain --preset tiny"):
        instruct(preset, cfg=cfg, data_dir=data, tokens_dir=data / "tokens", pretrained_dir=tmp_path, progress=False)
