"""The evaluators of notebook 07: ours (contrastive text-motion retrieval, trained here) and the loader of the
official T2M evaluator. Ours is checked for batch-independent embeddings, the InfoNCE loss against torch's
cross-entropy, learning (loss falls, held-out pairs ranked far above chance), save/load, exact resume and clear
errors. The official loader is checked against a checkpoint this test writes in the published key layout
(names and shapes of Guo et al.'s ``finest.tar``: it proves the key mapping and shapes, not the published
weights) and the official normalisation files of ../shared/data."""
from __future__ import annotations

import dataclasses
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from motiongpt_lite.config import DataConfig, EvalConfig, TrainConfig, get_preset
from motiongpt_lite.data.dataset import load_split
from motiongpt_lite.data.synthetic.build import build_embedded_dataset
from motiongpt_lite.eval import evaluator as evaluator_module
from motiongpt_lite.eval.base import caption_words, one_cpu_thread
from motiongpt_lite.eval.evaluator import (RetrievalEvaluator, build_vocabulary, evaluator_for, ground_truth_metrics,
                                           info_nce, train_evaluator)
from motiongpt_lite.eval import t2m as t2m_module
from motiongpt_lite.eval.t2m import (POS_CATEGORIES, TRUST_ENV, T2MEvaluator, UnverifiedFilesError, build_lexicon,
                                     read_plain_pickle, tag_caption)

TOY_EVAL = EvalConfig(embed_dim=32, hidden=32, temperature=0.1,
                      train=TrainConfig(steps=100, batch_size=16, lr=3e-3, warmup_steps=10, log_every=10,
                                        checkpoint_every=0))


def _preset():
    return get_preset("tiny").with_overrides(eval=TOY_EVAL)


def _quiet_split(root: Path, split: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_split(root, split)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Two small embedded sets from different seeds: one to train on, one never seen (held-out motions and captions)."""
    root = tmp_path_factory.mktemp("evaluator_data")
    build_embedded_dataset(root / "train_set", num_motions=96, seed=7, workers=1)
    build_embedded_dataset(root / "held_out", num_motions=32, seed=8, workers=1)
    return root / "train_set", root / "held_out"


@pytest.fixture(scope="module")
def trained(datasets, tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluator_run")
    return train_evaluator(_preset(), data_dir=datasets[0], out_dir=folder, progress=False), folder


def _untrained(motion_dim: int = 263) -> RetrievalEvaluator:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    vocabulary = build_vocabulary(["a person walks forward", "someone jumps up twice", "a man waves"])
    return RetrievalEvaluator(vocabulary, rng.normal(size=motion_dim), rng.uniform(0.5, 2, motion_dim), 16, 16)


# -- ours: embeddings and loss ----------------------------------------------------------------------
def test_embeddings_are_unit_vectors_independent_of_batch():
    model = _untrained()
    rng = np.random.default_rng(1)
    motions = [rng.normal(size=(n, 263)).astype(np.float32) for n in (40, 57, 196, 4)]
    texts = ["a person walks forward", "someone jumps", "a man waves his left hand slowly"]
    motion_emb, text_emb = model.embed_motions(motions), model.embed_texts(texts)
    assert motion_emb.shape == (4, 16) and text_emb.shape == (3, 16) and motion_emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(motion_emb, axis=1), 1, atol=1e-5)
    alone = np.concatenate([model.embed_motions([m]) for m in motions])
    np.testing.assert_allclose(alone, motion_emb, atol=1e-5)  # padding never leaks into a motion's embedding
    np.testing.assert_allclose(np.concatenate([model.embed_texts([t]) for t in texts]), text_emb, atol=1e-5)
    np.testing.assert_array_equal(model.embed_motions(motions), motion_emb)  # deterministic in eval mode


def test_one_cpu_thread_is_restored():
    before = torch.get_num_threads()
    with one_cpu_thread("cpu"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_unknown_words_and_word_splitting():
    model = _untrained()
    assert caption_words("A man's left-hand wave.") == ["a", "man", "s", "left", "hand", "wave"]
    ids, lengths = model.tokenize(["zebra walks", "a person"])
    assert ids.tolist() == [[1, model.word_ids["walks"]], [model.word_ids["a"], model.word_ids["person"]]]
    assert lengths.tolist() == [2, 2]


def test_info_nce_matches_cross_entropy():
    torch.manual_seed(0)
    text, motion = F.normalize(torch.randn(6, 8), dim=1), F.normalize(torch.randn(6, 8), dim=1)
    logits = text @ motion.T / 0.1
    expected = (F.cross_entropy(logits, torch.arange(6)) + F.cross_entropy(logits.T, torch.arange(6))) / 2
    torch.testing.assert_close(info_nce(text, motion, 0.1, [f"caption {c}" for c in "abcdef"]), expected)
    # two identical captions: each of their texts may match either motion (half the target on each)
    captions = ["walk", "walk", "jump", "run", "sit", "wave"]
    target = torch.eye(6)
    target[:2, :2] = 0.5
    by_hand = (-(target * logits.log_softmax(1)).sum(1).mean() - (target * logits.T.log_softmax(1)).sum(1).mean()) / 2
    torch.testing.assert_close(info_nce(text, motion, 0.1, captions), by_hand)
    same = F.normalize(torch.ones(6, 8), dim=1)
    assert info_nce(same, same, 0.1).item() == pytest.approx(np.log(6), abs=1e-5)  # no information: log B


def test_bad_inputs_raise_clear_errors():
    model = _untrained()
    with pytest.raises(ValueError, match="has no words"):
        model.embed_texts(["a person walks", ""])
    with pytest.raises(ValueError, match="has no words"):
        model.embed_texts(["!!!"])
    with pytest.raises(TypeError, match="list of captions"):
        model.embed_texts("a person walks")
    with pytest.raises(ValueError, match="texts is empty"):
        model.embed_texts([])
    with pytest.raises(ValueError, match=r"expected \(T, 263\)"):
        model.embed_motions([np.zeros((40, 251), np.float32)])
    with pytest.raises(ValueError, match="at least 4"):
        model.embed_motions([np.zeros((3, 263), np.float32)])
    bad = np.zeros((40, 263), np.float32)
    bad[5, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.embed_motions([bad])
    with pytest.raises(TypeError, match="list of"):
        model.embed_motions(np.zeros((40, 263), np.float32))
    with pytest.raises(FileNotFoundError, match="train_evaluator"):
        RetrievalEvaluator.load("/nonexistent/evaluator")


# -- ours: training ---------------------------------------------------------------------------------
def test_training_lowers_the_loss(trained):
    model, _ = trained
    first, last = model.history[0], model.history[-1]
    assert last["step"] == TOY_EVAL.train.steps
    assert first["loss"] > np.log(16) - 0.5  # starts near chance, log(batch)
    assert last["loss"] < first["loss"] - 1.0
    assert last["top1"] > first["top1"]


def test_ranks_held_out_pairs_far_above_chance(trained, datasets):
    model, _ = trained
    held_out = _quiet_split(datasets[1], "all")
    reference = _quiet_split(datasets[0], "train")
    runs = [ground_truth_metrics(model, held_out, reference=reference, seed=seed) for seed in range(3)]
    baseline = [ground_truth_metrics(_untrained(), held_out, seed=seed) for seed in range(3)]
    top1 = np.mean([run["r_precision_top1"] for run in runs])
    # Chance is 1/32 = 0.031. Measured on these 64 never-seen pairs (2 batches of 32, 3 draws): trained 0.25-0.30,
    # untrained ~0.03-0.08. We ask for 0.15, five times chance, leaving room for other platforms' arithmetic.
    assert np.mean([run["r_precision_top1"] for run in baseline]) < 0.12
    assert top1 > 0.15
    for run in runs:
        assert run["r_precision_top1"] <= run["r_precision_top2"] <= run["r_precision_top3"]
        assert run["fid"] >= 0
    assert np.mean([run["mm_dist"] for run in runs]) < np.mean([run["mm_dist"] for run in baseline])


def test_save_load_round_trip_and_instant_reuse(trained, datasets, monkeypatch):
    model, folder = trained
    loaded = RetrievalEvaluator.load(folder)
    motions = [clip.motion for clip in _quiet_split(datasets[1], "test").clips[:5]]
    np.testing.assert_array_equal(loaded.embed_motions(motions), model.embed_motions(motions))
    np.testing.assert_array_equal(loaded.embed_texts(["a person walks", "qwerty"]),
                                  model.embed_texts(["a person walks", "qwerty"]))
    assert loaded.vocabulary == model.vocabulary and loaded.history == model.history
    # a finished run is reused without reading the dataset
    monkeypatch.setattr(evaluator_module, "load_split", lambda *a, **k: pytest.fail("the dataset was read again"))
    again = train_evaluator(_preset(), data_dir=datasets[0], out_dir=folder, progress=False)
    np.testing.assert_array_equal(again.embed_motions(motions), model.embed_motions(motions))


def test_resume_is_exact(datasets, tmp_path):
    preset = get_preset("tiny").with_overrides(eval=EvalConfig(embed_dim=8, hidden=8, train=TrainConfig(
        steps=6, batch_size=8, warmup_steps=0, log_every=2, checkpoint_every=0)))
    whole = train_evaluator(preset, data_dir=datasets[0], out_dir=tmp_path / "whole", progress=False)
    train_evaluator(preset, data_dir=datasets[0], out_dir=tmp_path / "cut", progress=False, stop_after=3)
    resumed = train_evaluator(preset, data_dir=datasets[0], out_dir=tmp_path / "cut", progress=False)
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=0)
    assert [row["loss"] for row in resumed.history] == [row["loss"] for row in whole.history]


def test_nan_statistics_stop_training_before_it_starts(datasets, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in datasets[0].iterdir():
        (broken / item.name).symlink_to(item)
    (broken / "Mean.npy").unlink()
    np.save(broken / "Mean.npy", np.full(263, np.nan, np.float32))
    with pytest.raises(ValueError, match="NaN"):
        train_evaluator(_preset(), data_dir=broken, out_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


# -- the official T2M evaluator -----------------------------------------------------------------------
def _official_layout() -> dict[str, dict[str, tuple[int, ...]]]:
    """Key names and shapes of the three state dicts in Guo et al.'s ``finest.tar`` (HumanML3D, D = 263)."""
    def gru(inp: int, hidden: int) -> dict[str, tuple[int, ...]]:
        shapes = {"weight_ih_l0": (3 * hidden, inp), "weight_hh_l0": (3 * hidden, hidden),
                  "bias_ih_l0": (3 * hidden,), "bias_hh_l0": (3 * hidden,)}
        return {f"gru.{k}{s}": v for k, v in shapes.items() for s in ("", "_reverse")}

    def head(hidden: int, out: int) -> dict[str, tuple[int, ...]]:
        return {"output_net.0.weight": (hidden, 2 * hidden), "output_net.0.bias": (hidden,),
                "output_net.1.weight": (hidden,), "output_net.1.bias": (hidden,),
                "output_net.3.weight": (out, hidden), "output_net.3.bias": (out,)}

    return {
        "text_encoder": {"pos_emb.weight": (300, 15), "pos_emb.bias": (300,), "input_emb.weight": (512, 300),
                         "input_emb.bias": (512,), **gru(512, 512), **head(512, 512), "hidden": (2, 1, 512)},
        "movement_encoder": {"main.0.weight": (512, 259, 4), "main.0.bias": (512,), "main.3.weight": (512, 512, 4),
                             "main.3.bias": (512,), "out_net.weight": (512, 512), "out_net.bias": (512,)},
        "motion_encoder": {"input_emb.weight": (1024, 512), "input_emb.bias": (1024,), **gru(1024, 1024),
                           **head(1024, 512), "hidden": (2, 1, 1024)},
    }


WORDS = ["sos", "eos", "unk", "a", "person", "kick", "with", "left", "leg", "walk", "forward", "man", "high"]


@pytest.fixture(scope="module")
def official(tmp_path_factory, request):
    """A folder laid out like ``data_download.sh t2m-evaluators`` output, with random weights in the official keys."""
    reference = Path(request.config.rootpath).parent / "shared" / "data" / "humanml3d_reference"
    if not (reference / "t2m_mean.npy").exists():
        pytest.skip(f"official normalisation files not found in {reference}; fetch them with "
                    "`bash data_download.sh sample`")
    folder = tmp_path_factory.mktemp("t2m_evaluators")
    generator = torch.Generator().manual_seed(0)
    checkpoint = {part: {k: 0.05 * torch.randn(shape, generator=generator) for k, shape in keys.items()}
                  for part, keys in _official_layout().items()}
    checkpoint.update(epoch=3, iter=100)
    (folder / "t2m" / "text_mot_match" / "model").mkdir(parents=True)
    torch.save(checkpoint, folder / "t2m" / "text_mot_match" / "model" / "finest.tar")
    meta = folder / "t2m" / "Comp_v6_KLD01" / "meta"
    meta.mkdir(parents=True)
    shutil.copy(reference / "t2m_mean.npy", meta / "mean.npy")
    shutil.copy(reference / "t2m_std.npy", meta / "std.npy")
    (folder / "glove").mkdir()
    np.save(folder / "glove" / "our_vab_data.npy", np.random.default_rng(0).normal(size=(len(WORDS), 300)))
    with open(folder / "glove" / "our_vab_words.pkl", "wb") as f:
        pickle.dump(WORDS, f)
    with open(folder / "glove" / "our_vab_idx.pkl", "wb") as f:
        pickle.dump({w: i for i, w in enumerate(WORDS)}, f)
    return folder, checkpoint, reference


def test_official_checkpoint_keys_load(official):
    folder, checkpoint, reference = official
    model = T2MEvaluator.load(folder, captions_dir=reference / "texts", trust_unverified=True)
    for part, state in checkpoint.items():
        if isinstance(state, dict):
            loaded = getattr(model, part).state_dict()
            assert loaded.keys() == state.keys()
            for key, value in state.items():
                torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)
    assert model.embed_dim == 512 and model.motion_dim == 263


def test_official_motion_input_handling(official):
    """Normalised with t2m_mean/std (not the dataset's Mean/Std), foot contacts dropped, T // 4 GRU steps; our
    padding gives what the protocol's padding to 196 frames gives."""
    folder, _, reference = official
    model = T2MEvaluator.load(folder, trust_unverified=True)
    motion = np.load(reference / "new_joint_vecs" / "000000.npy").astype(np.float32)[:112]  # (112, 263)
    emb = model.embed_motions([motion])
    assert emb.shape == (1, 512)
    mean, std = np.load(reference / "t2m_mean.npy"), np.load(reference / "t2m_std.npy")
    protocol = np.zeros((1, 196, 263), np.float32)
    protocol[0, :112] = (motion - mean) / std
    with torch.no_grad():
        movements = model.movement_encoder(torch.from_numpy(protocol[..., :-4]))  # (1, 49, 512)
        expected = model.motion_encoder(movements, torch.tensor([112 // 4])).numpy()
    np.testing.assert_allclose(emb, expected, atol=1e-5)
    contacts = motion.copy()
    contacts[:, -4:] = 1 - contacts[:, -4:]
    np.testing.assert_allclose(model.embed_motions([contacts]), emb, atol=1e-6)
    dataset_norm = np.zeros_like(protocol)
    dataset_norm[0, :112] = (motion - np.load(reference / "Mean.npy")) / np.load(reference / "Std.npy")
    with torch.no_grad():
        other = model.motion_encoder(model.movement_encoder(torch.from_numpy(dataset_norm[..., :-4])),
                                     torch.tensor([28])).numpy()
    assert not np.allclose(other, emb, atol=1e-3)
    with pytest.raises(ValueError, match=r"expected \(T, 263\)"):
        model.embed_motions([motion[:, :251]])


def test_official_text_input_handling(official):
    folder, _, reference = official
    model = T2MEvaluator.load(folder, captions_dir=reference / "texts", trust_unverified=True)
    lines = [line.split("#") for line in (reference / "texts" / "000000.txt").read_text().splitlines() if line]
    captions, tokens = [fields[0] for fields in lines], [fields[1].split() for fields in lines]
    lexicon = build_lexicon(reference / "texts")
    for caption, expected in zip(captions, tokens):
        if len(caption_words(caption.replace("-", ""))) == len(expected):
            assert tag_caption(caption, lexicon) == expected
    emb = model.embed_texts(captions, tokens)
    assert emb.shape == (len(captions), 512)
    np.testing.assert_allclose(np.concatenate([model.embed_texts([c], [t]) for c, t in zip(captions, tokens)]),
                               emb, atol=1e-5)  # sorting for packing never mixes up the rows
    assert model.vectorize("walk/NOUN") == (WORDS.index("walk"), POS_CATEGORIES.index("Act_VIP"))
    assert model.vectorize("person/NOUN") == (WORDS.index("person"), POS_CATEGORIES.index("NOUN"))
    assert model.vectorize("person/INTJ") == (WORDS.index("person"), POS_CATEGORIES.index("OTHER"))
    assert model.vectorize("somersault/VERB") == (WORDS.index("unk"), POS_CATEGORIES.index("OTHER"))
    long = " ".join(["a person"] * 15)  # 30 words: only the first 20 count
    np.testing.assert_allclose(model.embed_texts([long]), model.embed_texts([" ".join(["a person"] * 10)]), atol=1e-6)


def test_missing_official_files_say_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_download.sh t2m-evaluators"):
        T2MEvaluator.load(tmp_path)
    with pytest.raises(ValueError, match="kit needs"):  # HumanML3D statistics given for the KIT-ML evaluator
        T2MEvaluator(np.zeros((3, 300)), {"sos": 0, "eos": 1, "unk": 2}, np.zeros(263), np.ones(263), "kit")


def test_evaluator_for_picks_official_or_falls_back(datasets, official, tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "humanml3d").symlink_to(datasets[0], target_is_directory=True)
    preset = get_preset("tiny").with_overrides(
        data=DataConfig(dataset="humanml3d", num_motions=48),
        eval=EvalConfig(embed_dim=8, hidden=8, train=TrainConfig(steps=2, batch_size=8, warmup_steps=0, log_every=1,
                                                                 checkpoint_every=0)))
    assert isinstance(evaluator_for(preset, progress=False), RetrievalEvaluator)  # "auto", no official files
    shutil.copytree(official[0], tmp_path / "data" / "t2m_evaluators")
    monkeypatch.delenv(TRUST_ENV, raising=False)
    assert isinstance(evaluator_for(preset, progress=False), RetrievalEvaluator)  # present but unverified: not loaded
    with pytest.raises(UnverifiedFilesError, match=TRUST_ENV):  # asked for by name: refused, saying how to opt in
        evaluator_for(preset.with_overrides(eval=dataclasses.replace(preset.eval, evaluator="t2m")), progress=False)
    monkeypatch.setenv(TRUST_ENV, "1")
    assert isinstance(evaluator_for(preset, progress=False), T2MEvaluator)
    ours = preset.with_overrides(eval=dataclasses.replace(preset.eval, evaluator="ours"))
    assert isinstance(evaluator_for(ours, progress=False), RetrievalEvaluator)


# -- loading downloaded files never runs code (issue 18) ---------------------------------------------
class _Payload:
    """Unpickling this runs a shell command that creates a file: what a hostile download would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f"touch {self.marker}",)


def _hostile_copy(official, tmp_path, part: str) -> tuple[Path, Path]:
    folder, marker = tmp_path / "t2m_evaluators", tmp_path / "pwned"
    shutil.copytree(official[0], folder)
    if part == "glove":
        with open(folder / "glove" / "our_vab_idx.pkl", "wb") as f:
            pickle.dump({"sos": 0, "eos": 1, "unk": 2, "evil": _Payload(marker)}, f)
    else:
        torch.save({"text_encoder": _Payload(marker)}, folder / "t2m" / "text_mot_match" / "model" / "finest.tar")
    return folder, marker


@pytest.mark.parametrize("part", ["glove", "checkpoint"])
def test_a_hostile_pickle_is_refused_and_runs_nothing(official, tmp_path, part):
    folder, marker = _hostile_copy(official, tmp_path, part)
    with pytest.raises(ValueError, match="not loaded"):
        T2MEvaluator.load(folder, trust_unverified=True)  # even when the user trusts the download
    assert not marker.exists()


def test_the_plain_unpickler_reads_the_vocabulary_and_refuses_any_global(tmp_path):
    path = tmp_path / "idx.pkl"
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with open(path, "wb") as f:
            pickle.dump({w: i for i, w in enumerate(WORDS)}, f, protocol=protocol)
        assert read_plain_pickle(path) == {w: i for i, w in enumerate(WORDS)}
    with open(path, "wb") as f:
        pickle.dump({"a": Path("x")}, f)  # a harmless class is refused too: nothing but plain data
    with pytest.raises(ValueError, match="refused to load"):
        read_plain_pickle(path)


def test_unverified_files_need_an_opt_in_and_a_wrong_sha256_is_named(official, tmp_path, monkeypatch):
    folder = official[0]
    monkeypatch.delenv(TRUST_ENV, raising=False)
    with pytest.raises(UnverifiedFilesError, match=f"{TRUST_ENV}=1"):
        T2MEvaluator.load(folder)
    monkeypatch.setenv(TRUST_ENV, "1")
    assert isinstance(T2MEvaluator.load(folder), T2MEvaluator)
    monkeypatch.delenv(TRUST_ENV)
    checkpoint = folder / "t2m" / "text_mot_match" / "model" / "finest.tar"
    known = {p.relative_to(folder).as_posix(): t2m_module._sha256(p) for p in t2m_module.unverified_files(folder)}
    monkeypatch.setattr(t2m_module, "KNOWN_SHA256", known)
    assert isinstance(T2MEvaluator.load(folder), T2MEvaluator)  # every file verified: no opt-in needed
    monkeypatch.setitem(known, "t2m/text_mot_match/model/finest.tar", "0" * 64)
    with pytest.raises(ValueError, match="finest.tar does not have the published sha256"):
        T2MEvaluator.load(folder, trust_unverified=True)
    assert checkpoint.exists()


def test_importing_the_metrics_loads_no_training_code():
    """Reading embeddings and metrics needs neither the training loop nor accelerate (issue 14)."""
    import subprocess
    import sys

    code = ("import sys, motiongpt_lite.eval; "
            "print([m for m in ('accelerate', 'motiongpt_lite.training', 'motiongpt_lite.vq.train') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
