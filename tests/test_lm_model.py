"""The model wrapper (motiongpt_lite.lm.model): building from a preset offline, fallback messages,
mixed prompts, constrained decoding, save/load."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from motiongpt_lite.config import get_preset
from motiongpt_lite.lm.model import MotionLM, MotionSpanLogitsProcessor, t5_config
from motiongpt_lite.lm.parse import parse_ids
from motiongpt_lite.lm.surgery import embeddings_tied
from motiongpt_lite.lm.vocab import MotionVocab

CAPTIONS = ["a person walks forward", "the man jumps twice", "someone waves with the left hand",
            "a figure turns around and sits down"] * 5
K = 12


@pytest.fixture(scope="module")
def lm() -> MotionLM:
    return MotionLM.build(get_preset("tiny").lm, num_codes=K, captions=CAPTIONS, seed=0)


def test_t5_config_sets_the_ids_transformers_5_no_longer_sets():
    config = t5_config(get_preset("tiny").lm, 100)
    assert (config.decoder_start_token_id, config.pad_token_id, config.eos_token_id) == (0, 0, 1)


def test_build_from_config_merges_an_untied_model(lm):
    assert "T5 from the preset's config" in lm.message and "trained on 20 captions" in lm.message
    assert lm.vocab.end == len(lm.tokenizer) == lm.model.config.vocab_size == lm.model.shared.num_embeddings
    assert not embeddings_tied(lm.model)  # tiny is flan-t5 in miniature


def test_pretrained_name_offline_falls_back_and_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = dataclasses.replace(get_preset("tiny").lm, model="google/flan-t5-small", tokenizer="google/flan-t5-small")
    built = MotionLM.build(config, num_codes=K, captions=CAPTIONS)
    assert "HF_HUB_OFFLINE=1" in built.message and "Falling back" in built.message
    assert built.model.config.d_model == config.d_model


def test_mixed_prompt_is_text_tokens_then_motion_ids(lm):
    prompt = "Generate text: " + lm.vocab.codes_to_text([4, 4, 11])
    ids = lm.encode([prompt, "someone waves"]).input_ids  # (2, L), padded
    assert ids[0, -6:].tolist() == [*lm.vocab.codes_to_ids([4, 4, 11]), 1]
    assert ids[1].tolist().count(0) == ids.shape[1] - len(lm.tokenizer("someone waves").input_ids)


def test_processor_rules():
    vocab = MotionVocab(num_codes=4, offset=10)  # codes 10..13, som 14, eom 15, mask 16; V = 17
    scores = torch.zeros(4, 17)
    input_ids = torch.tensor([[0, 5, 6, 7],         # text: anything but codes / eom / mask
                              [0, 5, 14, 11],       # inside a span with one code
                              [0, 14, 11, 12],      # inside, max_codes=2 reached: only eom
                              [0, 14, 11, 15]])     # motion done
    allowed = MotionSpanLogitsProcessor(vocab, max_codes=2)(input_ids, scores).isfinite()
    assert allowed[0].nonzero().flatten().tolist() == [*range(10), 14]
    assert allowed[1].nonzero().flatten().tolist() == [10, 11, 12, 13, 15]
    assert allowed[2].nonzero().flatten().tolist() == [15]
    assert allowed[3].nonzero().flatten().tolist() == [*range(10), 14]
    only = MotionSpanLogitsProcessor(vocab, motion_only=True)(torch.tensor([[0]]), torch.zeros(1, 17)).isfinite()
    assert only[0].nonzero().flatten().tolist() == [14]
    done = MotionSpanLogitsProcessor(vocab, motion_only=True)(input_ids[3:], torch.zeros(1, 17)).isfinite()
    assert done[0].nonzero().flatten().tolist() == [1]
    empty = MotionSpanLogitsProcessor(vocab)(torch.tensor([[0, 14]]), torch.zeros(1, 17)).isfinite()
    assert empty[0].nonzero().flatten().tolist() == [10, 11, 12, 13]  # min_codes=1: no empty motion


def test_constrained_generation_of_an_untrained_model_is_always_well_formed(lm):
    prompts = ["Generate motion: " + c for c in CAPTIONS[:4]]
    outputs = lm.generate(prompts, max_new_tokens=12, mode="motion", max_codes=8, do_sample=True, top_k=0, seed=0)
    parsed = [parse_ids(o, lm.vocab, lm.tokenizer) for o in outputs]
    assert all(p.well_formed_motion and 1 <= len(p.code_idx) <= 8 for p in parsed), parsed
    spans = lm.generate(prompts, max_new_tokens=25, do_sample=True, seed=1)  # free text, but spans hold codes only
    for out in spans:
        assert not {"stray_text", "mask_in_motion"} & set(parse_ids(out, lm.vocab, lm.tokenizer).flags)
    captions = lm.generate(prompts, max_new_tokens=25, mode="text", do_sample=True, seed=1)  # no motion word at all
    assert not any(lm.vocab.offset <= i < lm.vocab.end for out in captions for i in out)
    with pytest.raises(ValueError, match="mode='motions' is not a generation mode"):
        lm.generate(prompts, max_new_tokens=5, mode="motions")


def test_save_and_load_round_trip(lm, tmp_path):
    lm.save(tmp_path)
    again = MotionLM.load(tmp_path)
    assert again.vocab == lm.vocab and not embeddings_tied(again.model)
    batch = lm.encode(["the man jumps " + lm.vocab.codes_to_text([1, 2])])
    target = torch.tensor([[0, lm.vocab.som_id, lm.vocab.offset + 3]])
    with torch.no_grad():
        assert torch.equal(lm.model(**batch, decoder_input_ids=target).logits,
                           again.model(**batch, decoder_input_ids=target).logits)
    with pytest.raises(FileNotFoundError, match="motion_vocab.json missing"):
        MotionLM.load(tmp_path / "nowhere")


def test_benchmark_of_the_tiny_setting_reports_positive_speeds():
    from motiongpt_lite.tools.bench import bench_lm_setting

    row = bench_lm_setting("tiny", steps=1, batch_size=2, repeats=1, device="cpu")
    assert row["setting"] == "tiny" and row["params_m"] > 0 and row["vocab"] > get_preset("tiny").vq.num_codes
    assert row["train_tokens_per_s"] > 0 and row["caption_ms"] > 0 and row["motion_ms"] > 0


@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json"])
def test_a_deleted_tokenizer_file_is_named_not_blamed_on_the_motion_words(lm, tmp_path, name):
    """Issue 18: deleted tokenizer files used to end in advice to call add_motion_tokens."""
    folder = lm.save(tmp_path / "lm")
    (folder / name).unlink()
    with pytest.raises(FileNotFoundError, match=f"lacks the tokenizer file {name}"):
        MotionLM.load(folder)


def test_the_gpu_estimate_counts_flops_that_scale_with_the_batch():
    """`bench estimate` scales FLOPs counted at a small batch up to the preset's: that must be exact."""
    from motiongpt_lite.tools.bench import estimate_training

    two, four = estimate_training("tiny", batch=2), estimate_training("tiny", batch=4)
    assert [r["stage"] for r in two] == ["vq", "pretrain", "instruct"]
    for a, b in zip(two, four):
        assert a["gflop_per_step"] > 0 and a["gflop_per_step"] == pytest.approx(b["gflop_per_step"], rel=1e-6)
        assert a["t4_minutes"] == pytest.approx(a["steps"] * a["gflop_per_step"] * 1e9 / (65e12 * 0.2) / 60)
