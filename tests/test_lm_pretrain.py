"""Pretraining (motiongpt_lite.lm.tasks / .pretrain): span corruption, the shuffled task mixture, lengths
in frames, a short run whose per-task losses fall, exact resume, and two processes with gloo."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_fake_data import NUM_CODES, state_digest, distributed_preset, fake_preset, make_fake_dataset
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.lm.pretrain import load_motion_texts, pretrain
from motiongpt_lite.lm.tasks import (TASKS, MotionText, PretrainDataset, collate_examples, make_example,
                                     prompt_texts, random_spans_noise_mask, span_corrupt, task_weights)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_fake_dataset(tmp_path_factory.mktemp("lm_data"))


@pytest.fixture(scope="module")
def lm_and_items(data):
    items, _ = load_motion_texts(data, data / "tokens")
    preset = fake_preset()
    lm = MotionLM.build(preset.lm, NUM_CODES, [c for i in items for c in i.captions] + prompt_texts())
    return preset, lm, items


# -- span corruption ------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(length=st.integers(2, 300), density=st.floats(0.05, 0.5), span=st.floats(1.0, 8.0), seed=st.integers(0, 2**32 - 1))
def test_noise_mask_counts_and_spans(length, density, span, seed):
    mask = random_spans_noise_mask(length, density, span, np.random.default_rng(seed))
    num_noise = int(np.clip(round(length * density), 1, length - 1))
    assert mask.shape == (length,) and mask.sum() == num_noise and not mask[0]
    starts = int((mask[1:] & ~mask[:-1]).sum())
    assert starts == int(np.clip(round(num_noise / span), 1, min(num_noise, length - num_noise)))


@settings(max_examples=100, deadline=None)
@given(ids=st.lists(st.integers(3, 99), min_size=2, max_size=120), seed=st.integers(0, 1000))
def test_span_corruption_reassembles_to_the_original(ids, seed):
    sentinels = list(range(1000, 900, -1))
    source, target = span_corrupt(ids, sentinels, 0.15, 3.0, np.random.default_rng(seed))
    spans, current = {}, None
    for token in target:  # sentinel -> the tokens it stands for
        if token in sentinels:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)
    rebuilt = [t for token in source for t in (spans[token] if token in sentinels else [token])]
    assert rebuilt == ids and target[0] == sentinels[0]


def test_too_many_spans_for_the_sentinels_raises():
    with pytest.raises(ValueError, match="raise extra_ids"):
        span_corrupt(list(range(3, 203)), [1000], 0.15, 3.0, np.random.default_rng(0))


# -- the mixture and the examples ------------------------------------------------------------------
def test_mixture_is_shuffled_with_the_preset_ratios_and_repeatable(lm_and_items):
    preset, lm, items = lm_and_items
    dataset = PretrainDataset(items * 40, lm.tokenizer, lm.vocab, preset.lm, seed=3)
    tasks = [dataset[i]["task"] for i in range(len(dataset))]
    share = np.bincount(tasks, minlength=len(TASKS)) / len(tasks)
    np.testing.assert_allclose(share, task_weights(preset.lm), atol=0.03)
    assert len(set(tasks[:20])) >= 3  # mixed within a stretch, not one task after the other
    assert [dataset[i]["labels"] for i in range(5)] == [dataset[i]["labels"] for i in range(5)]
    dataset.set_epoch(1)
    assert [dataset[i]["task"] for i in range(200)] != tasks[:200]


def test_ratios_switch_tasks_off_and_bad_ratios_raise(lm_and_items):
    preset, lm, items = lm_and_items
    import dataclasses

    paired_only = dataclasses.replace(preset.lm, mix_span_motion=0.0, mix_span_text=0.0)
    dataset = PretrainDataset(items, lm.tokenizer, lm.vocab, paired_only)
    assert {TASKS[dataset[i]["task"]] for i in range(len(dataset))} <= {"text_to_motion", "motion_to_text", "predict"}
    with pytest.raises(ValueError, match="must be non-negative"):
        task_weights(dataclasses.replace(preset.lm, mix_predict=-1.0))


def test_examples_of_each_task(lm_and_items):
    preset, lm, _ = lm_and_items
    item = MotionText(np.array([5, 6, 5, 6, 5, 6, 5, 6, 5, 6]), ["a man jumps up."], motion_len=39)
    tok, vocab = lm.tokenizer, lm.vocab
    rng = np.random.default_rng(0)
    source, target = make_example("text_to_motion", item, tok, vocab, preset.lm, rng)
    assert target == vocab.codes_to_ids(item.code_idx) + [1]
    prompts = {tok.decode(make_example("text_to_motion", item, tok, vocab, preset.lm, rng)[0], skip_special_tokens=True)
               for _ in range(20)}
    assert prompts == {"Generate motion: a man jumps up.", "Generate a motion of 39 frames: a man jumps up."}
    source, target = make_example("motion_to_text", item, tok, vocab, preset.lm, rng)
    assert source[-13:-1] == vocab.codes_to_ids(item.code_idx) and tok.decode(target, skip_special_tokens=True) == \
        "a man jumps up."
    source, target = make_example("predict", item, tok, vocab, preset.lm, rng)  # predict_ratio 0.2: 2 codes given
    assert source[-5:-1] == vocab.codes_to_ids([5, 6]) and target == vocab.codes_to_ids([5, 6, 5, 6, 5, 6, 5, 6]) + [1]
    source, target = make_example("span_motion", item, tok, vocab, preset.lm, rng)
    sentinel = tok.convert_tokens_to_ids("<extra_id_0>")
    assert sentinel in source and target[0] == sentinel and source[-1] == target[-1] == 1
    batch = collate_examples([{"input_ids": source, "labels": target, "task": 0}, {"input_ids": [7, 1], "labels": [1],
                                                                                      "task": 2}])
    assert batch["labels"][1].tolist() == [1] + [-100] * (len(target) - 1)
    assert batch["attention_mask"][1].sum() == 2 and batch["task"].tolist() == [0, 2]


def test_load_motion_texts_slices_part_captions(data, tmp_path):
    items, skipped = load_motion_texts(data, data / "tokens")
    assert len(items) == 49 and not skipped  # 48 whole motions + one captioned part
    whole = np.load(data / "tokens" / "000000.npy")
    part = next(i for i in items if i.captions == ["a person starts walking."])
    assert part.motion_len == 44 and np.array_equal(part.code_idx, whole[2:13])  # frames 8..52 -> tokens 2..12
    with pytest.raises(FileNotFoundError, match="train-vq"):
        load_motion_texts(data, tmp_path / "nowhere")


# -- training --------------------------------------------------------------------------------------
def test_short_pretraining_lowers_every_task_loss_and_resumes_exactly(data, tmp_path):
    preset = fake_preset(steps=24, batch_size=8)
    run = pretrain(preset, data_dir=data, tokens_dir=data / "tokens", out_dir=tmp_path / "full", progress=False)
    first, last = run.history[0], run.history[-1]
    for task in TASKS:
        early = np.mean([h[f"loss_{task}"] for h in run.history[:3] if f"loss_{task}" in h])
        late = np.mean([h[f"loss_{task}"] for h in run.history[-3:] if f"loss_{task}" in h])
        assert late < 0.7 * early, (task, early, late)
    assert last["loss"] < 0.6 * first["loss"]
    assert (tmp_path / "full" / "model" / "motion_vocab.json").exists()
    assert MotionLM.load(tmp_path / "full" / "model").vocab == run.lm.vocab

    half = pretrain(preset, data_dir=data, tokens_dir=data / "tokens", out_dir=tmp_path / "resumed", stop_after=11,
                    progress=False)
    assert half.history[-1]["step"] == 10
    resumed = pretrain(preset, data_dir=data, tokens_dir=data / "tokens", out_dir=tmp_path / "resumed", progress=False)
    assert resumed.history == [{**h, "elapsed_s": r["elapsed_s"]} for h, r in zip(run.history, resumed.history)]
    for name, tensor in run.lm.model.state_dict().items():
        assert np.array_equal(tensor.numpy(), resumed.lm.model.state_dict()[name].numpy()), name


def test_codes_beyond_the_codebook_raise(data, tmp_path):
    import dataclasses

    preset = fake_preset()
    preset = preset.with_overrides(vq=dataclasses.replace(preset.vq, num_codes=8))
    with pytest.raises(ValueError, match="re-tokenize"):
        pretrain(preset, data_dir=data, tokens_dir=data / "tokens", save=False, progress=False)


@pytest.mark.slow
def test_two_processes_with_gloo_train_every_stage_as_one_model(data, tmp_path):
    """`accelerate launch --multi_gpu --num_processes 2` on a CPU machine, as README's "Several GPUs" runs every
    training stage: one gloo group, and after each stage (VQ-VAE, pretraining, tuning, evaluator) one model."""
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or shutil.which("accelerate")
    if accelerate is None:
        pytest.skip("the accelerate command is not installed")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29517",
               str(REPO / "tests" / "lm_fake_data.py"), str(data), str(tmp_path / "dist")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / "dist" / f"rank{i}.json").read_text()) for i in range(2)]
    assert ranks[0] == ranks[1]
    assert (ranks[0]["world"], ranks[0]["backend"], ranks[0]["initialised"]) == (2, "gloo", True)
    assert list(ranks[0]["digests"]) == ["vq", "pretrain", "instruct", "evaluator"]

    single = pretrain(distributed_preset(), data_dir=data, tokens_dir=data / "tokens", save=False,
                      progress=False)  # one process, half the global batch: a different run
    assert state_digest(single.lm.model) != ranks[0]["digests"]["pretrain"]


def test_pretraining_records_which_motion_tokenizer_made_its_tokens(data, tmp_path):
    """Issue 18: the saved language model names its motion tokenizer (a fingerprint of the VQ-VAE's weights
    and Mean/Std), so that MotionGPT can refuse another run's tokenizer."""
    import dataclasses

    import torch

    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.data.normalization import Normalizer
    from motiongpt_lite.vq.model import VQVAE
    from motiongpt_lite.vq.tokenize import MotionTokenizer

    preset = fake_preset(steps=2, batch_size=4, d_model=32, d_ff=64, d_kv=8, num_layers=1, num_heads=2)
    vq_folder = tmp_path / "vq"
    torch.manual_seed(0)
    vq = VQVAE(dataclasses.replace(preset.vq, width=32, depth=1, code_dim=16)).eval()
    tokenizer = MotionTokenizer(vq, Normalizer(np.zeros(263, np.float32), np.ones(263, np.float32)))
    tokenizer.save(vq_folder)  # config, statistics and weights
    shutil.copytree(data / "tokens", vq_folder / "tokens")
    run = pretrain(preset, data_dir=data, tokens_dir=vq_folder / "tokens", out_dir=tmp_path / "pre", progress=False)
    loaded = MotionLM.load(tmp_path / "pre" / "model")
    assert loaded.motion_tokenizer_sha256 == run.lm.motion_tokenizer_sha256 is not None
    assert MotionGPT(loaded, MotionTokenizer.load(vq_folder)).tokenizer_sha256() == loaded.motion_tokenizer_sha256
    torch.manual_seed(1)
    other = VQVAE(vq.cfg).eval()
    with pytest.raises(ValueError, match="not the motion tokenizer"):
        MotionGPT(loaded, MotionTokenizer(other, tokenizer.normalizer))


def test_broken_token_files_skip_their_motion_and_name_the_file(data, tmp_path):
    """Issue 18: a truncated token file broke pretraining with no file named; a negative code was accepted."""
    tokens = tmp_path / "tokens"
    shutil.copytree(data / "tokens", tokens)
    (tokens / "000001.npy").write_bytes((tokens / "000001.npy").read_bytes()[:70])  # cut inside the header
    np.save(tokens / "000002.npy", np.array([3, -1, 4], dtype=np.int64))
    np.save(tokens / "000003.npy", np.zeros((2, 2), np.float32))
    with pytest.warns(UserWarning, match="skipped 3 motions with broken token files"):
        items, skipped = load_motion_texts(data, tokens)
    assert skipped["000001"].startswith("unreadable tokens file 000001.npy")
    assert skipped["000002"] == "tokens file 000002.npy holds a negative code (-1)"
    assert "000003.npy holds float32 (2, 2)" in skipped["000003"]
    assert len(items) == len(load_motion_texts(data, data / "tokens")[0]) - 3


# -- exercise 5.1: one training step by hand ------------------------------------------------------
def _step(pad_labels_with):
    def train_step(model, optimizer, examples, pad_id):
        source_len, target_len = (max(len(e[k]) for e in examples) for k in ("input_ids", "labels"))
        input_ids = torch.full((len(examples), source_len), pad_id, dtype=torch.long)
        labels = torch.full((len(examples), target_len), pad_labels_with(pad_id), dtype=torch.long)
        for row, e in enumerate(examples):
            input_ids[row, :len(e["input_ids"])] = torch.tensor(e["input_ids"])
            labels[row, :len(e["labels"])] = torch.tensor(e["labels"])
        loss = model(input_ids=input_ids, attention_mask=(input_ids != pad_id).long(), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return train_step


def test_exercise_5_1_accepts_a_hand_written_step_and_names_the_padding_mistake(lm_and_items):
    from motiongpt_lite.exercises import check_exercise_5_1

    preset, lm, items = lm_and_items
    dataset = PretrainDataset(items, lm.tokenizer, lm.vocab, preset.lm, seed=3)
    examples = [dataset[i] for i in range(8)]
    assert len({len(e["labels"]) for e in examples}) > 1  # padding matters in this batch
    before = [p.detach().clone() for p in lm.model.parameters()]
    check_exercise_5_1(_step(lambda pad_id: -100), lm.model, examples, lm.tokenizer.pad_token_id)
    assert all(torch.equal(a, b) for a, b in zip(before, lm.model.parameters()))  # the checker steps copies
    with pytest.raises(AssertionError, match="pad the labels with -100"):
        check_exercise_5_1(_step(lambda pad_id: pad_id), lm.model, examples, lm.tokenizer.pad_token_id)

    def no_step(model, optimizer, examples, pad_id):
        return _step(lambda p: -100)(model, type("NoOp", (), {"step": lambda s: None, "zero_grad": lambda s: None})(),
                                      examples, pad_id)
    with pytest.raises(AssertionError, match="did not change"):
        check_exercise_5_1(no_step, lm.model, examples, lm.tokenizer.pad_token_id)
