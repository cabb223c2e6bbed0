"""The motion tokenizer: quantizer updates against hand computations, straight-through gradients,
exact resume, encode/decode lengths, clear errors, and the metrics against scipy."""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pytest
import scipy.spatial
import torch
import torch.multiprocessing as mp

from motiongpt_lite.config import DataConfig, TrainConfig, VQConfig, get_preset
from motiongpt_lite.vq import (VQVAE, EMAQuantizer, EMAResetQuantizer, MotionTokenizer, Quantizer, decode, encode,
                               evaluate_tokenizer, make_quantizer, tokenize_dataset, train_vq)
from motiongpt_lite.vq.metrics import accel_error, code_perplexity, codebook_usage, mpjpe, pa_mpjpe, procrustes_align
from toy_data import write_random_walk_dataset

TINY_VQ = VQConfig(width=16, depth=1, down_t=2, num_codes=8, code_dim=8,
                   train=TrainConfig(steps=6, batch_size=4, warmup_steps=2, min_lr_ratio=0.05, log_every=2,
                                     checkpoint_every=0))


def _columns(*vectors) -> torch.Tensor:
    """Vectors (C,) -> latents (1, C, N) as the encoder would emit them."""
    return torch.tensor(vectors, dtype=torch.float32).t()[None]


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    """A HumanML3D-layout folder of 16 random clips (+ mirrored twins for 4 of them)."""
    return write_random_walk_dataset(tmp_path_factory.mktemp("toy_dataset"), mirrored=4)


def _tiny_preset():
    return get_preset("tiny").with_overrides(vq=TINY_VQ, data=DataConfig(window_frames=16, min_frames=20))


# -- quantizers -------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ["reference", "smoothed"])
def test_ema_update_equals_hand_computation(rule):
    q = EMAQuantizer(num_codes=3, code_dim=2, decay=0.5, eps=1e-5, rule=rule)
    q.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 10.0], [-20.0, 20.0]]))
    q.code_sum.copy_(q.codebook)
    q.code_count.fill_(1.0)
    q.initialized.fill_(True)
    out = q.train()(_columns([1, 0], [0, 1], [9, 9]))
    assert out.code_idx.tolist() == [[0, 0, 1]]
    # by hand: n = (2, 1, 0); sums = ((1, 1), (9, 9), 0); N = 0.5 * 1 + 0.5 * n; m = 0.5 * e + 0.5 * sums
    counts = [0.5 + 1.0, 0.5 + 0.5, 0.5]
    sums = [[0.5, 0.5], [9.5, 9.5], [-10.0, 10.0]]
    total, eps = sum(counts), 1e-5
    divisor = counts if rule == "reference" else [(c + eps) / (total + 3 * eps) * total for c in counts]
    expected = [[s / divisor[k] for s in sums[k]] for k in range(3)]
    torch.testing.assert_close(q.code_count, torch.tensor(counts))
    torch.testing.assert_close(q.codebook, torch.tensor(expected))
    assert float(out.embed_loss) == 0.0
    assert out.perplexity.item() == pytest.approx(np.exp(-(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))))
    for _ in range(40):  # code 2 is never chosen again: its count decays to 0.5 ** 41, far below eps
        q(_columns([1, 0], [9, 9]))
    if rule == "reference":  # T2M-GPT's sum / count: both decay alike, the code keeps its value
        assert q.codebook[2].tolist() == [-20.0, 20.0]
    else:  # Laplace smoothing: once the count is far below eps the code shrinks towards zero
        assert q.codebook[2].abs().max() < 1e-3


@pytest.mark.parametrize("rule", ["reference", "smoothed"])
def test_reset_touches_only_dead_codes(rule):
    state = {"codebook": torch.tensor([[0.0, 0.0], [50.0, 50.0], [1.0, 1.0], [-50.0, 50.0]]),
             "code_count": torch.tensor([5.0, 0.5, 5.0, 0.2]), "initialized": torch.tensor(True)}
    plain_ema, reset = EMAQuantizer(4, 2, rule=rule), EMAResetQuantizer(4, 2, rule=rule)
    for q in (plain_ema, reset):
        q.load_state_dict({**state, "code_sum": state["codebook"] * state["code_count"][:, None]})
        q.train()
    batch = _columns([0.1, 0.0], [0.0, 0.2], [1.1, 0.9], [0.9, 1.2])  # only codes 0 and 2 are near
    plain_ema(batch)
    reset(batch)
    alive = torch.tensor([0, 2])
    torch.testing.assert_close(reset.codebook[alive], plain_ema.codebook[alive], rtol=0, atol=0)
    torch.testing.assert_close(reset.code_count[alive], plain_ema.code_count[alive], rtol=0, atol=0)
    vectors = batch[0].t()  # (4, 2)
    for k in (1, 3):  # dead: now one of this batch's encoder outputs
        assert (reset.codebook[k] == vectors).all(-1).any()
    if rule == "reference":  # T2M-GPT: only the vector is re-drawn; the statistics go on as plain EMA's
        torch.testing.assert_close(reset.code_count, plain_ema.code_count, rtol=0, atol=0)
        torch.testing.assert_close(reset.code_sum, plain_ema.code_sum, rtol=0, atol=0)
        assert reset.dead_codes()[[1, 3]].all()  # still dead: re-drawn again next batch
    else:  # ours: a fresh count of one, alive at once
        assert (reset.code_count[[1, 3]] == 1.0).all() and not reset.dead_codes().any()
    assert not plain_ema.dead_codes()[alive].any() and plain_ema.dead_codes()[[1, 3]].all()


def test_an_unknown_codebook_rule_is_named():
    with pytest.raises(ValueError, match="unknown codebook rule 'laplace'; choose one of reference, smoothed"):
        make_quantizer(replace(TINY_VQ, codebook_rule="laplace"))


@pytest.mark.parametrize("kind", ["plain", "ema", "ema_reset"])
def test_straight_through_gradient_passes_unchanged(kind):
    torch.manual_seed(0)
    q = make_quantizer(replace(TINY_VQ, quantizer=kind)).train()
    z_e = torch.randn(2, 8, 5, requires_grad=True)
    out = q(z_e)
    torch.testing.assert_close(out.z_q.detach(), q.dequantize(out.code_idx))  # forward: the codes
    grad = torch.randn_like(z_e)
    (out.z_q * grad).sum().backward()
    torch.testing.assert_close(z_e.grad, grad, rtol=0, atol=0)  # backward: identity


def test_plain_codebook_learns_only_through_the_embedding_loss():
    torch.manual_seed(0)
    q = Quantizer(8, 4).train()
    q.initialized.fill_(True)  # keep the random codebook: a data-initialised one has zero loss on its own batch
    out = q(torch.randn(1, 4, 6, requires_grad=True))
    assert q.codebook.requires_grad and isinstance(q.codebook, torch.nn.Parameter)
    out.commit_loss.backward(retain_graph=True)
    assert q.codebook.grad is None or not q.codebook.grad.any()
    out.embed_loss.backward()
    used = torch.zeros(8, dtype=torch.bool)
    used[out.code_idx.flatten()] = True
    assert q.codebook.grad[used].abs().sum() > 0 and not q.codebook.grad[~used].any()
    assert "codebook" not in dict(EMAQuantizer(8, 4).named_parameters())


def _distributed_worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    torch.manual_seed(100 + rank)  # different data and RNG on each process
    q = EMAResetQuantizer(16, 4, decay=0.9).train()
    for _ in range(5):
        q(torch.randn(2, 4, 6) + rank)
    torch.save(q.state_dict(), os.path.join(out_dir, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


def test_distributed_codebook_stays_identical(tmp_path):
    port = 29500 + os.getpid() % 1000
    mp.spawn(_distributed_worker, args=(port, str(tmp_path)), nprocs=2, join=True)
    a, b = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    torch.testing.assert_close(a, b, rtol=0, atol=0)


# -- the model and its errors -----------------------------------------------------------------
def test_model_shapes_and_clear_errors():
    vq = VQVAE(TINY_VQ)
    out = vq(torch.randn(2, 32, 263))
    assert out.motion.shape == (2, 32, 263) and out.quant.code_idx.shape == (2, 8)
    with pytest.raises(ValueError, match="add a batch dimension"):
        vq(torch.randn(32, 263))
    with pytest.raises(ValueError, match=r"\(B, T, 263\)"):
        vq(torch.randn(2, 32, 251))
    with pytest.raises(ValueError, match="multiple of 4"):
        vq(torch.randn(2, 30, 263))
    with pytest.raises(ValueError, match="unknown quantizer"):
        make_quantizer(replace(TINY_VQ, quantizer="kmeans"))


def test_encode_decode_odd_lengths_and_padded_batches():
    torch.manual_seed(0)
    vq = VQVAE(TINY_VQ).eval()
    vq.quantizer.initialized.fill_(True)
    clips = [torch.randn(n, 263) for n in (70, 61, 8, 4)]
    singles = [encode(vq, clip) for clip in clips]
    assert [len(c) for c in singles] == [18, 16, 2, 1]  # ceil(T / 4)
    assert decode(vq, singles[0]).shape == (72, 263)
    batch = torch.nn.utils.rnn.pad_sequence(clips, batch_first=True)  # (4, 70, 263)
    code_idx = encode(vq, batch, [len(c) for c in clips])
    assert code_idx.shape == (4, 18)
    for row, single in zip(code_idx, singles):  # padding never changes a clip's codes
        assert row[:len(single)].tolist() == single.tolist() and (row[len(single):] == -1).all()
    motion = decode(vq, code_idx)
    assert motion.shape == (4, 72, 263)
    torch.testing.assert_close(motion[1, :64], decode(vq, singles[1]))
    assert not motion[1, 64:].any()
    with pytest.raises(ValueError, match="shorter than one token"):
        encode(vq, torch.randn(3, 263))
    with pytest.raises(ValueError, match="strip padding"):
        vq.decode(torch.tensor([[0, 9]]))
    with pytest.raises(ValueError, match="one length per clip"):
        encode(vq, batch, [70, 61])


# -- training, resume, tokenizing a dataset ---------------------------------------------------
def test_train_vq_resume_reproduces_uninterrupted_run(toy_dataset, tmp_path):
    preset = _tiny_preset()
    straight = train_vq(preset, data_dir=toy_dataset, out_dir=tmp_path / "a", progress=False)
    train_vq(preset, data_dir=toy_dataset, out_dir=tmp_path / "b", stop_after=3, progress=False)
    resumed = train_vq(preset, data_dir=toy_dataset, out_dir=tmp_path / "b", progress=False)
    torch.testing.assert_close(resumed.tokenizer.vq.state_dict(), straight.tokenizer.vq.state_dict(), rtol=0, atol=0)
    assert [row["loss"] for row in resumed.history] == [row["loss"] for row in straight.history]
    assert {"recon", "velocity", "commit", "perplexity", "usage", "alive"} <= set(straight.history[-1])
    with pytest.raises(ValueError, match="other settings"):
        train_vq(preset.with_overrides(vq=replace(TINY_VQ, commit_weight=0.5)), data_dir=toy_dataset,
                 out_dir=tmp_path / "b", progress=False)


def test_checkpoints_from_before_the_codebook_rule_resume_as_the_smoothed_rule(toy_dataset, tmp_path):
    """A VQ checkpoint written before ``codebook_rule`` existed names no rule and was trained with ours
    (smoothed): it must still resume with the smoothed rule, and be refused with the reference's."""
    from motiongpt_lite.checkpoints import load_checkpoint

    smoothed = _tiny_preset().with_overrides(vq=replace(TINY_VQ, codebook_rule="smoothed"))
    train_vq(smoothed, data_dir=toy_dataset, out_dir=tmp_path, stop_after=3, progress=False)
    _, saved = load_checkpoint(tmp_path / "checkpoint.safetensors", VQVAE(replace(TINY_VQ, codebook_rule="smoothed")),
                               restore_rng=False)
    assert "codebook_rule" not in saved["config"]["vq"]  # the layout of a checkpoint from before the rule
    train_vq(smoothed, data_dir=toy_dataset, out_dir=tmp_path, progress=False)  # resumes
    with pytest.raises(ValueError, match="other settings"):
        train_vq(_tiny_preset(), data_dir=toy_dataset, out_dir=tmp_path, progress=False)  # reference rule


def test_tokenizer_save_load_and_tokenize_dataset(toy_dataset, tmp_path):
    run = train_vq(_tiny_preset(), data_dir=toy_dataset, out_dir=tmp_path / "vq", progress=False)
    loaded = MotionTokenizer.load(tmp_path / "vq")
    clip = np.load(toy_dataset / "new_joint_vecs" / "000003.npy")
    assert loaded.encode(clip).tolist() == run.tokenizer.encode(clip).tolist()
    assert loaded.reconstruct(clip).shape == clip.shape
    out = tokenize_dataset(loaded, toy_dataset, out_dir=tmp_path / "tokens")
    written = sorted(p.stem for p in out.iterdir())
    assert len(written) == 20 and "M000003" in written  # 16 clips + the 4 mirrored twins that exist
    tokens = np.load(out / "000003.npy")
    assert tokens.dtype == np.int64 and len(tokens) == -(-len(clip) // 4)
    report = evaluate_tokenizer(loaded, [clip])
    assert report["clips"] == 1 and report["frames"] == len(clip) and report["mpjpe_mm"] > 0
    with pytest.raises(FileNotFoundError, match="train-vq"):
        MotionTokenizer.load(tmp_path / "nothing")


# -- metrics ----------------------------------------------------------------------------------
def _random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_pa_mpjpe_against_scipy_procrustes():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(5, 22, 3))
    pred = np.stack([1.3 * f @ _random_rotation(rng).T + rng.normal(size=3) for f in target])
    pred += rng.normal(scale=0.05, size=pred.shape)
    aligned = procrustes_align(pred, target)
    for p, a, t in zip(pred, aligned, target):
        _, _, disparity = scipy.spatial.procrustes(t, p)  # residual of the standardised problem
        residual = ((a - t) ** 2).sum() / ((t - t.mean(0)) ** 2).sum()
        assert residual == pytest.approx(disparity, rel=1e-9)
    expected = np.linalg.norm(aligned - target, axis=-1).mean() * 1000
    assert pa_mpjpe(pred, target) == pytest.approx(expected)
    assert pa_mpjpe(pred, target) < mpjpe(pred, target)
    mirrored = target * np.array([-1.0, 1.0, 1.0])  # a reflection is not a rotation: PA cannot undo it
    assert scipy.spatial.procrustes(target[0], mirrored[0])[2] < 1e-12 and pa_mpjpe(mirrored, target) > 10


def test_mpjpe_accel_and_usage_by_hand():
    rng = np.random.default_rng(2)
    target = rng.normal(size=(10, 22, 3))
    shifted = target + np.array([0.003, 0.004, 0.0])  # 5 mm everywhere
    assert mpjpe(shifted, target, align_root=False) == pytest.approx(5.0)
    assert mpjpe(shifted, target) == pytest.approx(0.0, abs=1e-9)
    drift = target + np.arange(10)[:, None, None] * np.array([0.01, 0.0, 0.0])  # constant velocity
    assert accel_error(drift, target) == pytest.approx(0.0, abs=1e-9)
    assert codebook_usage([np.array([0, 1, 1]), np.array([3, -1])], 8) == 3 / 8
    assert code_perplexity(np.array([0, 1, 2, 3]), 8) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="equal shape"):
        mpjpe(target[:5], target)


def test_reference_clip_through_an_untrained_tokenizer(reference_dir):
    """Real clips run through the evaluation path (trained numbers are in notebook 02)."""
    torch.manual_seed(0)
    clip = np.load(reference_dir / "new_joint_vecs" / "000000.npy").astype(np.float32)
    from motiongpt_lite.data.normalization import Normalizer
    tokenizer = MotionTokenizer(VQVAE(TINY_VQ).eval(), Normalizer.from_folder(reference_dir))
    report = evaluate_tokenizer(tokenizer, [clip])
    assert report["frames"] == len(clip) and np.isfinite(report["pa_mpjpe_mm"])


def test_exercise_3_2_accepts_the_reference_reset_and_names_our_variation():
    """The checker of notebook 03's exercise 3.2 teaches the reference's rule: vectors only, counts untouched."""
    from motiongpt_lite.exercises import check_exercise_3_2

    def reference(codebook, code_count, flat, threshold=1.0):
        dead = code_count < threshold
        codebook = codebook.clone()
        codebook[dead] = flat[torch.randint(0, len(flat), (int(dead.sum()),))]
        return codebook, code_count.clone()

    def counts_restarted(codebook, code_count, flat, threshold=1.0):
        codebook, code_count = reference(codebook, code_count, flat, threshold)
        return codebook, torch.where(code_count < threshold, torch.ones_like(code_count), code_count)

    def every_code_redrawn(codebook, code_count, flat, threshold=1.0):
        return flat[torch.randint(0, len(flat), (len(codebook),))], code_count.clone()

    check_exercise_3_2(reference)
    with pytest.raises(AssertionError, match="our `smoothed` variation"):
        check_exercise_3_2(counts_restarted)
    with pytest.raises(AssertionError, match="must keep exactly its vector"):
        check_exercise_3_2(every_code_redrawn)
