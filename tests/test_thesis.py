"""Text-only pretraining and the thesis experiment (notebook 05 §7): the text-first arm differs from the
random one only in what its T5 has read; held-out phrasings stay unseen; the experiment resumes exactly."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from motiongpt_lite.config import get_preset, with_training
from motiongpt_lite.lm.model import load_text_model
from motiongpt_lite.lm.tasks import prompt_texts
from motiongpt_lite.lm.templates import FAMILIES
from motiongpt_lite.lm.text_pretrain import TEXT_TASKS, TextCorpus, _sentence, text_pretrain

TINY = get_preset("tiny")


@pytest.fixture(scope="module")
def tiny_tokens(tmp_path_factory):
    """The tiny preset's data, motion tokenizer and tokens in a folder of their own."""
    from motiongpt_lite.vq.train import tokenize_preset, train_vq

    root = tmp_path_factory.mktemp("thesis")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTIONGPT_LITE_DATA", str(root / "data"))
        patch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(root / "checkpoints"))
        train_vq(TINY, progress=False)
        tokenize_preset(TINY)
        yield root


@pytest.fixture
def in_tiny_run(tiny_tokens, monkeypatch):
    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(tiny_tokens / "data"))
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(tiny_tokens / "checkpoints"))
    return tiny_tokens


def test_sentences_use_training_phrasings_only(monkeypatch):
    import motiongpt_lite.lm.text_pretrain as module

    drawn, original = [], module.pick

    def recording_pick(family, rng, split="train"):
        drawn.append((family, split))
        return original(family, rng, split)

    monkeypatch.setattr(module, "pick", recording_pick)
    rng = np.random.default_rng(0)
    caption = "a person waves the left hand."
    sentences = [_sentence(caption, rng) for _ in range(400)]
    assert 120 < len(drawn) < 280  # about half of the sentences are phrasings, half the caption alone
    assert {split for _, split in drawn} == {"train"} and {f for f, _ in drawn} == set(FAMILIES)
    assert all("  " not in s and "{" not in s for s in sentences)  # placeholders filled, motion ones left empty
    assert 0.5 < np.mean([caption in s for s in sentences]) < 0.9  # phrasings of motion inputs hold no caption


def test_corpus_examples():
    _, tokenizer, _ = load_text_model(TINY.lm, ["a person walks.", "someone waves."] + prompt_texts())
    captions = [["a person walks forward.", "someone walks ahead."], ["a man jumps."]]
    corpus = TextCorpus(captions, tokenizer, TINY.lm, paraphrase_rate=0.5, seed=3)
    eos, tasks = tokenizer.eos_token_id, set()
    for epoch in range(20):
        corpus.set_epoch(epoch)
        for i in range(len(corpus)):
            item = corpus[i]
            assert item["input_ids"][-1] == eos and item["labels"][-1] == eos
            task, source, target = corpus.example(i)
            tasks.add(task)
            if task == "paraphrase":
                assert i == 0  # only a motion with two captions can be paraphrased
                assert any(c in source for c in captions[0]) and target.replace("</s>", "").strip() in captions[0]
                assert target.replace("</s>", "").strip() not in source
            else:
                assert "<extra_id_0>" in source and target.startswith("<extra_id_0>")
    assert tasks == set(TEXT_TASKS)
    assert corpus[1] == corpus[1]  # repeatable
    with pytest.raises(ValueError, match="no captions"):
        TextCorpus([], tokenizer, TINY.lm)


@pytest.mark.slow
def test_text_first_differs_from_random_init_only_in_its_weights(in_tiny_run, tmp_path):
    from motiongpt_lite.lm.pretrain import pretrain

    run = text_pretrain(TINY, out_dir=tmp_path / "text", steps=30, progress=False)
    assert run.history[-1]["loss"] < run.history[0]["loss"]
    assert {"loss_span_text", "loss_paraphrase"} <= set(run.history[-1])
    short = with_training(TINY.lm, steps=2)
    random_arm = pretrain(TINY, cfg=short, out_dir=tmp_path / "random", progress=False).lm
    text_cfg = dataclasses.replace(short, model=str(run.folder), tokenizer=str(run.folder))
    text_arm = pretrain(TINY, cfg=text_cfg, out_dir=tmp_path / "first", progress=False).lm
    assert "pretrained weights from the folder" in text_arm.message
    assert text_arm.tokenizer.get_vocab() == random_arm.tokenizer.get_vocab()  # the same words, the same ids
    assert text_arm.model.config.to_diff_dict().keys() == random_arm.model.config.to_diff_dict().keys()
    a, b = text_arm.model.state_dict(), random_arm.model.state_dict()
    assert a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)
    assert not torch.equal(a["encoder.block.0.layer.0.SelfAttention.q.weight"],
                           b["encoder.block.0.layer.0.SelfAttention.q.weight"])
    with pytest.raises(ValueError, match="builds the T5 from the preset's config"):
        text_pretrain(TINY, out_dir=tmp_path / "x", steps=2, cfg=dataclasses.replace(TINY.lm, model="google/flan-t5-small"))


@pytest.mark.slow
def test_experiment_scores_both_arms_skips_flan_offline_and_resumes_exactly(in_tiny_run, tmp_path, monkeypatch):
    from motiongpt_lite.thesis import SCORES, thesis_experiment

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    budget = dict(text_steps=20, pretrain_steps=20, instruct_steps=10, num_clips=12, out_dir=tmp_path)
    first = thesis_experiment(TINY, **budget)
    assert set(first.scores) == {"random init", "text first"}
    assert "flan-t5-small" in first.skipped and "HF_HUB_OFFLINE" in first.skipped["flan-t5-small"]
    for splits in first.scores.values():
        assert set(splits) == {"held_out", "train"}
        for scores in splits.values():
            assert set(scores) == set(SCORES)
            assert all(0 <= scores[s] <= 1 for s in SCORES if s != "cider") and scores["cider"] >= 0
    assert first.budget == {"text_steps": 20, "pretrain_steps": 20, "instruct_steps": 10, "clips": 12}
    assert json.loads((tmp_path / "result.json").read_text())["scores"] == first.scores
    assert "flan-t5-small | skipped" in first.table()
    stamp = (tmp_path / "text_first" / "lm_instruct" / "checkpoint.safetensors").stat().st_mtime_ns
    again = thesis_experiment(TINY, **budget)  # every stage finished: nothing is trained again
    assert again.scores == first.scores
    assert (tmp_path / "text_first" / "lm_instruct" / "checkpoint.safetensors").stat().st_mtime_ns == stamp
