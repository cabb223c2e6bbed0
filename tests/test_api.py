"""The MotionGPT API (motiongpt_lite.api) on a tiny model trained for a few steps: every task method,
single clips and batches, numpy and torch, lengths in frames, bad inputs, and a save/load round trip
that gives identical greedy outputs."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from lm_fake_data import NUM_CODES, fake_preset, make_fake_dataset
from motiongpt_lite.api import TEXT_TO_MOTION_DECODING, MotionGPT, MotionResult
from motiongpt_lite.config import with_training
from motiongpt_lite.data.normalization import Normalizer
from motiongpt_lite.lm.instruct import instruct
from motiongpt_lite.lm.pretrain import pretrain
from motiongpt_lite.lm.templates import fill, templates
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.tokenize import MotionTokenizer

MICRO = dict(d_model=32, d_ff=64, d_kv=8, num_layers=1, num_heads=2)
MASK = f"<motion_id_{NUM_CODES + 2}>"


@pytest.fixture(scope="module")
def gpt(tmp_path_factory) -> MotionGPT:
    """Pretrained and instruction-tuned for a few steps; a small VQ-VAE whose codebook saw one batch."""
    root = tmp_path_factory.mktemp("api")
    data = make_fake_dataset(root / "data", num_motions=24)
    preset = fake_preset(steps=8, batch_size=8, **MICRO)
    pretrain(preset, data_dir=data, tokens_dir=data / "tokens", out_dir=root / "pre", progress=False)
    cfg = with_training(preset.instruct, steps=8, batch_size=8, warmup_steps=1, log_every=4)
    run = instruct(preset, cfg=cfg, data_dir=data, tokens_dir=data / "tokens", pretrained_dir=root / "pre",
                   out_dir=root / "ins", progress=False)
    torch.manual_seed(0)
    vq = VQVAE(dataclasses.replace(preset.vq, width=32, depth=1, code_dim=16))
    vq.train()(torch.randn(4, 32, 263))  # initialises the codebook from encoder outputs
    rng = np.random.default_rng(0)
    normalizer = Normalizer(rng.normal(size=263).astype(np.float32), np.full(263, 0.5, np.float32))
    return MotionGPT(run.lm, MotionTokenizer(vq.eval(), normalizer), max_frames=64, max_caption_tokens=12)


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.normal(size=(n, 263)).astype(np.float32) for n in (18, 25)]


def _check_motion(result: MotionResult, num_codes: int | None = None, frames: int | None = None) -> None:
    assert isinstance(result, MotionResult) and result.has_motion and result.flags == ()
    assert result.code_idx.dtype == np.int64 and ((0 <= result.code_idx) & (result.code_idx < NUM_CODES)).all()
    if num_codes is not None:
        assert len(result.code_idx) == num_codes
    assert result.features.shape == (frames or 4 * len(result.code_idx), 263)
    assert result.joints.shape == (result.features.shape[0], 22, 3) and np.isfinite(result.joints).all()


def test_text_to_motion_single_and_with_a_length_in_frames(gpt):
    free = gpt.text_to_motion("a man jumps up.")
    _check_motion(free)
    assert 1 <= len(free.code_idx) <= 16 and free.generated == slice(0, len(free.code_idx))  # 64 frames = 16 tokens
    sized = gpt.text_to_motion("a man jumps up.", length=30)
    _check_motion(sized, num_codes=8, frames=30)  # ceil(30 / 4) tokens, cropped back to 30 frames
    assert sized.prompt == "Generate a motion of 30 frames: a man jumps up."  # frames, not the 8 tokens


def test_text_to_motion_batches_samples_and_seeds(gpt):
    batch = gpt.text_to_motion(["a man jumps up.", "someone turns around."], length=[12, 20])
    assert len(batch) == 2
    _check_motion(batch[0], 3, 12)
    _check_motion(batch[1], 5, 20)
    samples = gpt.text_to_motion(["a man jumps up.", "a person waves a hand."], length=16, num_samples=3, seed=7)
    assert [len(s) for s in samples] == [3, 3] and all(len(r.code_idx) == 4 for s in samples for r in s)
    again = gpt.text_to_motion(["a man jumps up.", "a person waves a hand."], length=16, num_samples=3, seed=7)
    assert [r.code_idx.tolist() for s in samples for r in s] == [r.code_idx.tolist() for s in again for r in s]
    greedy = gpt.text_to_motion("a man jumps up.", length=16, num_samples=2, do_sample=False)
    assert greedy[0].code_idx.tolist() == greedy[1].code_idx.tolist()


def test_text_to_motion_defaults_to_the_documented_seeded_sampling(gpt):
    prompts = [f"a person walks {n} steps." for n in range(6)]
    default = [r.code_idx.tolist() for r in gpt.text_to_motion(prompts, length=32)]
    assert default == [r.code_idx.tolist() for r in gpt.text_to_motion(prompts, length=32)]  # seeded: repeatable
    explicit = gpt.text_to_motion(prompts, length=32, **TEXT_TO_MOTION_DECODING)
    assert default == [r.code_idx.tolist() for r in explicit]
    other_seed = gpt.text_to_motion(prompts, length=32, seed=TEXT_TO_MOTION_DECODING["seed"] + 1)
    greedy = gpt.text_to_motion(prompts, length=32, do_sample=False)
    assert default != [r.code_idx.tolist() for r in other_seed]  # sampled: the seed matters
    assert default != [r.code_idx.tolist() for r in greedy]


def test_a_phrasing_of_ones_own_is_used_as_given(gpt, clips):
    held = templates("text_to_motion", "held_out")[0]
    asked = gpt.text_to_motion(["a man jumps up.", "someone walks."], template=held)
    assert [r.prompt for r in asked] == [fill(held, caption=c) for c in ("a man jumps up.", "someone walks.")]
    _check_motion(asked[0])
    sized = gpt.text_to_motion("a man jumps up.", length=30, template="Make {seconds} seconds of this: {caption}")
    assert sized.prompt == "Make 1.5 seconds of this: a man jumps up." and len(sized.code_idx) == 8
    m2t = templates("motion_to_text", "held_out")[1]
    captioned = gpt.motion_to_text(clips[0], template=m2t)
    assert captioned.prompt == fill(m2t, motion=gpt.lm.vocab.codes_to_text(captioned.code_idx.tolist()))
    assert gpt.text_to_motion("a man jumps up.").prompt == fill(templates("text_to_motion")[0], caption="a man jumps up.")


@pytest.mark.parametrize("call, match", [
    (lambda g, c: g.text_to_motion("a man jumps.", template="Generate a motion."), "must be a string holding {caption}"),
    (lambda g, c: g.text_to_motion("a man jumps.", template=3), "must be a string holding {caption}"),
    (lambda g, c: g.text_to_motion("a man jumps.", template="Do {caption"), "must be a string holding {caption}"),
    (lambda g, c: g.text_to_motion("a man jumps.", template="{caption} in {frames} frames"), "names {frames}"),
    (lambda g, c: g.text_to_motion("a man jumps.", template="{caption} like {motion}"), "names {motion}"),
    (lambda g, c: g.text_to_motion("a man jumps.", template="<motion_id_3> {caption}"), "template holds '<motion_id_3>"),
    (lambda g, c: g.motion_to_text(c[0], template="Describe {caption}."), "must be a string holding {motion}"),
    (lambda g, c: g.motion_to_text(c[0], template="{motion} </s> now"), "template holds '</s>"),
])
def test_a_bad_phrasing_is_named_before_any_work(gpt, clips, call, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        call(gpt, clips)


def test_motion_to_text_numpy_torch_lists_and_padded_batches(gpt, clips):
    single = gpt.motion_to_text(clips[0])
    assert isinstance(single.text, str) and "<motion_id" not in single.text and "no_motion" in single.flags
    assert len(single.code_idx) == 5 and single.features.shape == (18, 263)  # ceil(18 / 4) tokens
    assert gpt.motion_to_text(torch.from_numpy(clips[0])).text == single.text
    as_list = gpt.motion_to_text(clips)
    padded = np.zeros((2, 25, 263), np.float32)
    padded[0, :18], padded[1] = clips
    as_padded = gpt.motion_to_text(torch.from_numpy(padded), motion_len=[18, 25])
    assert [r.text for r in as_list] == [r.text for r in as_padded]
    assert [r.code_idx.tolist() for r in as_list] == [r.code_idx.tolist() for r in as_padded]


def test_predict_keeps_the_given_tokens_and_adds_the_asked_frames(gpt, clips):
    given = gpt.motion_tokenizer.encode(clips[0]).tolist()
    out = gpt.predict(clips[0], length=16)
    _check_motion(out, num_codes=len(given) + 4, frames=len(given) * 4 + 16)
    assert out.code_idx[:len(given)].tolist() == given and out.generated == slice(len(given), len(given) + 4)
    free = gpt.predict([clips[0], torch.from_numpy(clips[1])])
    assert len(free) == 2 and all(len(r.code_idx) <= 16 for r in free)
    for r in free:
        _check_motion(r)


def test_inbetween_fills_exactly_the_gap(gpt, clips):
    start, end = clips[0][:8], clips[1][:12]
    out = gpt.inbetween(start, end, length=20)
    _check_motion(out, num_codes=2 + 5 + 3)
    assert out.generated == slice(2, 7) and out.prompt.count(MASK) == 5
    assert out.code_idx[:2].tolist() == gpt.motion_tokenizer.encode(start).tolist()
    assert out.code_idx[7:].tolist() == gpt.motion_tokenizer.encode(end).tolist()
    pair = gpt.inbetween([start, start], [end, end], length=[8, 12])
    assert [len(r.code_idx[r.generated]) for r in pair] == [2, 3]


def test_chat_with_and_without_a_motion(gpt, clips):
    answer = gpt.chat("Paraphrase: a man jumps up.")
    assert isinstance(answer, MotionResult) and isinstance(answer.text, str)
    placed = gpt.chat(["Describe {motion} in words.", "Continue this motion:"], motion=clips)
    assert len(placed) == 2 and "{motion}" not in placed[0].prompt
    assert placed[0].prompt.startswith("Describe <motion_id_16>") and placed[1].prompt.startswith("Continue this motion: <")
    for r in placed:
        assert "out_of_range" not in r.flags and "stray_text" not in r.flags  # codes only ever inside a span


@pytest.mark.parametrize("call, error, match", [
    (lambda g, c: g.motion_to_text(c[0][:, :251]), ValueError, "expects features \\(T, 263\\)"),
    (lambda g, c: g.motion_to_text(np.where(np.arange(263) == 5, np.nan, c[0])), ValueError, "NaN or inf"),
    (lambda g, c: g.motion_to_text(c[0][:3]), ValueError, "fewer than one motion token"),
    (lambda g, c: g.motion_to_text(c[0][0]), ValueError, "expects features"),
    (lambda g, c: g.motion_to_text([]), ValueError, "empty list"),
    (lambda g, c: g.motion_to_text("walking"), TypeError, "numpy array or torch tensor"),
    (lambda g, c: g.motion_to_text(np.stack([c[0], c[0]]), motion_len=[18]), ValueError, "motion_len"),
    (lambda g, c: g.text_to_motion(""), ValueError, "non-empty string"),
    (lambda g, c: g.text_to_motion("a man jumps", length=2.5), ValueError, "whole number of frames"),
    (lambda g, c: g.text_to_motion("a man jumps", length=1000), ValueError, "between 4"),
    (lambda g, c: g.text_to_motion(["a", "b"], length=[8]), ValueError, "one value or one per input"),
    (lambda g, c: g.text_to_motion("a man jumps", num_samples=0), ValueError, "num_samples"),
    (lambda g, c: g.text_to_motion("a man jumps", temprature=0.5), TypeError, "temprature"),
    (lambda g, c: g.inbetween([c[0]], [c[0], c[1]], length=8), ValueError, "one end per start"),
    (lambda g, c: g.chat("Describe {motion}"), ValueError, "no motion was given"),
])
def test_bad_inputs_raise_clear_errors(gpt, clips, call, error, match):
    with pytest.raises(error, match=match):
        call(gpt, clips)


def test_mismatched_codebooks_are_refused(gpt):
    other = VQVAE(dataclasses.replace(gpt.motion_tokenizer.vq.cfg, num_codes=8))
    with pytest.raises(ValueError, match="8 codes but the language model knows 16"):
        MotionGPT(gpt.lm, MotionTokenizer(other, gpt.motion_tokenizer.normalizer))


def test_save_and_load_give_identical_greedy_outputs(gpt, clips, tmp_path):
    folder = gpt.save_pretrained(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["lm", "motiongpt.json", "vq"]
    assert list((folder / "lm").glob("*.safetensors")) and (folder / "vq" / "checkpoint.safetensors").exists()
    loaded = MotionGPT.from_pretrained(folder)
    assert (loaded.fps, loaded.max_frames, loaded.max_caption_tokens) == (20.0, 64, 12)
    assert (loaded.max_source_len, loaded.max_input_frames) == (gpt.max_source_len, gpt.max_input_frames)
    a, b = gpt.text_to_motion(["a man jumps up.", "someone turns around."]), \
        loaded.text_to_motion(["a man jumps up.", "someone turns around."])
    for x, y in zip(a, b):
        assert x.code_idx.tolist() == y.code_idx.tolist()
        np.testing.assert_allclose(x.features, y.features, rtol=1e-5, atol=1e-5)
    assert [r.text for r in gpt.motion_to_text(clips)] == [r.text for r in loaded.motion_to_text(clips)]
    assert gpt.inbetween(clips[0], clips[1], 12).code_idx.tolist() == loaded.inbetween(clips[0], clips[1], 12).code_idx.tolist()
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        MotionGPT.from_pretrained(tmp_path)


def test_package_exports_motiongpt_lazily():
    code = ("import sys, motiongpt_lite; assert 'motiongpt_lite.api' not in sys.modules and 'torch' not in sys.modules; "
            "from motiongpt_lite.api import MotionGPT; assert motiongpt_lite.MotionGPT is MotionGPT")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- typed text stays text, inputs are bounded (issue 18) ----------------------------------------------
CONTROL_TEXTS = {  # each special-token family, as a user could type it
    "motion code": "a man <motion_id_5> jumps",
    "motion span": f"a man jumps <motion_id_{NUM_CODES}><motion_id_3><motion_id_{NUM_CODES + 1}>",
    "mask marker": f"fill {MASK} here",
    "eos": "a man jumps</s> and then",
    "pad": "<pad>a man jumps",
    "unk": "a man <unk> jumps",
    "sentinel": "a man <extra_id_0> jumps",
    "motion word beyond the codebook": "a man <motion_id_999> jumps",
}


@pytest.mark.parametrize("family", list(CONTROL_TEXTS))
def test_typed_control_tokens_are_refused_in_captions_and_prompts(gpt, clips, family):
    text = CONTROL_TEXTS[family]
    token = next(t for t in ("<motion_id_", "</s>", "<pad>", "<unk>", "<extra_id_0>") if t in text)
    with pytest.raises(ValueError, match=f"holds '{token}"):
        gpt.text_to_motion(text, length=8)
    with pytest.raises(ValueError, match=f"text\\[1\\] holds '{token}"):
        gpt.text_to_motion(["a man jumps.", text], length=8)
    with pytest.raises(ValueError, match=f"prompt holds '{token}"):
        gpt.chat(text)
    with pytest.raises(ValueError, match="control token"):
        gpt.chat(text + " {motion}", motion=clips[0])


def test_every_special_and_added_token_of_the_tokenizer_is_refused(gpt):
    tokenizer = gpt.lm.tokenizer
    for token in [*tokenizer.all_special_tokens, *tokenizer.get_added_vocab()]:
        with pytest.raises(ValueError, match="control token"):
            gpt.text_to_motion(f"a man {token} jumps", length=8)


def test_plain_text_with_brackets_is_still_accepted(gpt, clips):
    result = gpt.text_to_motion("a man <slowly> jumps {twice} motion_id_5", length=8)
    assert result.prompt.endswith("a man <slowly> jumps {twice} motion_id_5") and len(result.code_idx) == 2
    assert gpt.chat("Describe {motion}", motion=clips[0]).prompt.startswith(f"Describe <motion_id_{NUM_CODES}>")


def test_long_prompts_are_cut_to_the_source_length_with_a_warning(gpt, clips):
    long = "a man jumps up and " * 3000  # 57,000 characters
    with pytest.warns(UserWarning, match=f"fits the model's {gpt.max_source_len} source tokens"):
        result = gpt.text_to_motion(long, length=8)
    assert len(gpt.lm.tokenizer(result.prompt).input_ids) <= gpt.max_source_len
    assert result.prompt.startswith("Generate a motion of 8 frames: a man jumps up and")
    with pytest.warns(UserWarning, match="prompt was cut"):
        answer = gpt.chat(long + " {motion}", motion=clips[0])
    assert len(gpt.lm.tokenizer(answer.prompt).input_ids) <= gpt.max_source_len
    assert answer.prompt.endswith(f"<motion_id_{NUM_CODES + 1}>")  # the motion is kept whole, the text is cut
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gpt.text_to_motion("a man jumps up.", length=8)  # a short prompt: no warning


def test_motion_inputs_are_capped(gpt, clips):
    assert gpt.max_input_frames == 2 * gpt.max_frames
    huge = np.zeros((10_000, 263), np.float32)
    for call in (lambda: gpt.motion_to_text(huge), lambda: gpt.predict(huge), lambda: gpt.chat("x", motion=huge),
                 lambda: gpt.inbetween(huge, clips[0], 8), lambda: gpt.motion_to_text(huge[None])):
        with pytest.raises(ValueError, match=f"10000 frames, more than this model takes \\({gpt.max_input_frames}"):
            call()
    small = MotionGPT(gpt.lm, gpt.motion_tokenizer, max_frames=64, max_source_len=24)
    with pytest.raises(ValueError, match="reads at most 24"):  # the motion's tokens alone overflow the prompt
        small.motion_to_text(np.zeros((100, 263), np.float32))


def test_an_interrupted_save_leaves_the_previous_model_whole(gpt, tmp_path, monkeypatch):
    folder = gpt.save_pretrained(tmp_path / "model")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    real_save = type(gpt.lm).save

    def save_and_mark(lm, where):
        real_save(lm, where)
        (Path(where) / "NEW").write_text("written by the interrupted save")
        return where

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the learner stops the cell between the language model and the VQ-VAE

    monkeypatch.setattr(type(gpt.lm), "save", save_and_mark)
    monkeypatch.setattr(gpt.motion_tokenizer, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        gpt.save_pretrained(folder)
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before  # not a new lm/ beside the old vq/
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no half-written folder left behind
    monkeypatch.undo()
    gpt.save_pretrained(folder)  # a save over a saved model still works
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(ValueError, match="notes.txt, which are not part of a saved model"):
        gpt.save_pretrained(tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "precious"


def test_nan_statistics_in_a_saved_model_are_refused_on_load(gpt, tmp_path):
    folder = gpt.save_pretrained(tmp_path / "model")
    np.save(folder / "vq" / "Std.npy", np.full(263, np.nan, np.float32))
    info = json.loads((folder / "motiongpt.json").read_text())  # saved that way: the manifest agrees
    info["sha256"]["vq/Std.npy"] = hashlib.sha256((folder / "vq" / "Std.npy").read_bytes()).hexdigest()
    (folder / "motiongpt.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="Std.npy contains NaN or inf"):
        MotionGPT.from_pretrained(folder)


def test_a_flipped_byte_or_a_swapped_tokenizer_is_named_on_load(gpt, tmp_path):
    folder = gpt.save_pretrained(tmp_path / "model")
    weights = folder / "vq" / "checkpoint.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checkpoint.safetensors differs from the file saved with this model"):
        MotionGPT.from_pretrained(folder)
    (folder / "vq" / "checkpoint.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="checkpoint.safetensors is missing"):
        MotionGPT.from_pretrained(folder)
    (folder / "motiongpt.json").write_text("{not json")
    with pytest.raises(ValueError, match="motiongpt.json is damaged"):
        MotionGPT.from_pretrained(folder)


def test_another_runs_motion_tokenizer_is_refused(gpt, tmp_path):
    """Issue 18: a VQ-VAE with the same codebook size from another run used to load without a word."""
    gpt.lm.motion_tokenizer_sha256 = gpt.tokenizer_sha256()  # as pretraining records it
    try:
        folder = gpt.save_pretrained(tmp_path / "model")
        assert MotionGPT.from_pretrained(folder).tokenizer_sha256() == gpt.tokenizer_sha256()  # survives the round trip
        other = VQVAE(gpt.motion_tokenizer.vq.cfg)  # same architecture and codebook size, other weights
        with pytest.raises(ValueError, match="is not the motion tokenizer the language model was trained with"):
            MotionGPT(gpt.lm, MotionTokenizer(other.eval(), gpt.motion_tokenizer.normalizer))
        MotionTokenizer(other.eval(), gpt.motion_tokenizer.normalizer).save(folder / "vq")  # weights included
        info = json.loads((folder / "motiongpt.json").read_text())
        info.pop("sha256")  # even without the file manifest, the pairing is checked
        (folder / "motiongpt.json").write_text(json.dumps(info))
        with pytest.raises(ValueError, match="vq is not the motion tokenizer .*lm was trained with"):
            MotionGPT.from_pretrained(folder)
    finally:
        gpt.lm.motion_tokenizer_sha256 = None


@pytest.mark.parametrize("decoding, match", [
    ({"num_beams": 0}, "num_beams=0"), ({"num_beams": 1.5}, "num_beams=1.5"), ({"top_k": -1}, "top_k=-1"),
    ({"temperature": 0.0, "do_sample": True}, "temperature=0.0"), ({"temperature": float("nan")}, "temperature=nan"),
    ({"max_new_tokens": 0}, "max_new_tokens=0"),
])
def test_bad_decoding_settings_are_named_before_any_work(gpt, clips, decoding, match):
    for call in (lambda: gpt.text_to_motion("a man jumps.", length=8, **decoding),
                 lambda: gpt.motion_to_text(clips[0], **decoding)):
        with pytest.raises(ValueError, match=match):
            call()


def test_a_damaged_motion_vocab_file_is_named(gpt, tmp_path):
    from motiongpt_lite.lm.model import MotionLM

    folder = gpt.lm.save(tmp_path / "lm")
    for content in ("{not json", '{"offset": 3}'):
        (folder / "motion_vocab.json").write_text(content)
        with pytest.raises(ValueError, match="motion_vocab.json is damaged"):
            MotionLM.load(folder)


def test_saving_and_loading_a_model_prints_no_progress_bar_and_leaves_the_setting_alone(gpt, tmp_path, capfd):
    from transformers.utils import logging as hf_logging

    from motiongpt_lite.lm.model import MotionLM

    assert hf_logging.is_progress_bar_enabled()
    reloaded = MotionLM.load(gpt.lm.save(tmp_path / "lm"))
    assert "Writing model shards" not in capfd.readouterr().err and hf_logging.is_progress_bar_enabled()
    MotionLM.load(tmp_path / "lm")
    assert "Loading weights" not in capfd.readouterr().err and hf_logging.is_progress_bar_enabled()
    assert reloaded.model.state_dict().keys() == gpt.lm.model.state_dict().keys()


@pytest.mark.parametrize("content", ["{not json", "[]", "7", '{"fps": 20.0, "max_frames": 32}'])
def test_a_damaged_model_config_is_named(gpt, tmp_path, content):
    folder = gpt.save_pretrained(tmp_path / "model")
    (folder / "motiongpt.json").write_text(content)
    with pytest.raises(ValueError, match="motiongpt.json is damaged"):
        MotionGPT.from_pretrained(folder)


@pytest.mark.parametrize("content", ["{not json", '{"motion_dim": 263}', '{"vq": {"no_such_knob": 1}, "motion_dim": 263}'])
def test_a_damaged_vq_config_is_named(gpt, tmp_path, content):
    folder = gpt.save_pretrained(tmp_path / "model")
    (folder / "vq" / "config.json").write_text(content)
    info = json.loads((folder / "motiongpt.json").read_text())
    info.pop("sha256")  # past the manifest (a model saved before it existed): the loader itself must name the file
    (folder / "motiongpt.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="vq/config.json is damaged"):
        MotionGPT.from_pretrained(folder)
