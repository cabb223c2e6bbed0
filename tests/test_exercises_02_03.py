"""The exercise checkers of notebooks 02 and 03 accept right answers and reject plausible wrong ones."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from motiongpt_lite import exercises as ex
from motiongpt_lite.config import DataConfig, TrainConfig, VQConfig, get_preset
from motiongpt_lite.data.dataset import MotionWindowDataset, load_split
from motiongpt_lite.data.normalization import Normalizer
from motiongpt_lite.runtime import seed_everything
from motiongpt_lite.training import batch_stream, make_scheduler
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.tokenize import MotionTokenizer
from toy_data import write_random_walk_dataset

LOOP_VQ = VQConfig(width=16, depth=1, down_t=2, num_codes=8, code_dim=8, quantizer="ema_reset", codebook_rule="reference",
                   train=TrainConfig(steps=6, batch_size=4, warmup_steps=2, min_lr_ratio=0.05, log_every=1,
                                     checkpoint_every=0, lr=2e-3,
                                     grad_clip=1e-4))  # small enough that clipping acts on these toy gradients


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    """A HumanML3D-layout folder of 16 random-walk clips of 41-89 frames, with Mean/Std."""
    return write_random_walk_dataset(tmp_path_factory.mktemp("toy_dataset_02_03"), mirrored=0)


# -- exercise 2.1: a clip of any length through the tokenizer ------------------------------------
@pytest.fixture(scope="module")
def tokenizer_and_clips(toy_dataset):
    torch.manual_seed(0)
    vq = VQVAE(replace(LOOP_VQ, quantizer="plain", num_codes=64)).eval()
    tokenizer = MotionTokenizer(vq, Normalizer.from_folder(toy_dataset))
    clip = np.load(toy_dataset / "new_joint_vecs" / "000000.npy")
    clips = [clip[:len(clip) - r] for r in range(4)]
    with torch.no_grad():  # codes drawn among the clips' own latents, as a trained codebook sits among them
        x = [torch.as_tensor(tokenizer.normalizer.normalize(c)) for c in clips]
        x = [torch.cat([c, c[-1:].expand(-len(c) % 4, -1)]) for c in x]  # padded the right way
        z = torch.cat([vq.encode_latent(c[None])[0].t() for c in x])  # (N, C)
        vq.quantizer.codebook.data.copy_(z[torch.randperm(len(z))[:64]])
    return tokenizer, clips


def _reconstruct(tokenizer, motion, pad="last", denormalize=True):
    x = torch.as_tensor(tokenizer.normalizer.normalize(motion), dtype=torch.float32)
    extra = -len(x) % tokenizer.down_rate
    if pad == "last":
        x = torch.cat([x, x[-1:].expand(extra, -1)])
    elif pad == "zeros":
        x = torch.cat([x, torch.zeros(extra, x.shape[1])])
    else:  # crop to whole tokens
        x = x[:len(x) - len(x) % tokenizer.down_rate]
    out = tokenizer.vq.decode(tokenizer.vq.encode(x[None]))[0, :len(motion)]
    return tokenizer.normalizer.denormalize(out) if denormalize else out


def test_exercise_2_1(tokenizer_and_clips):
    tokenizer, clips = tokenizer_and_clips
    ex.check_exercise_2_1(_reconstruct, tokenizer, clips)
    with pytest.raises(AssertionError, match="came back with shape"):
        ex.check_exercise_2_1(lambda t, m: _reconstruct(t, m, pad="crop"), tokenizer, clips)
    with pytest.raises(AssertionError, match="not with zeros"):
        ex.check_exercise_2_1(lambda t, m: _reconstruct(t, m, pad="zeros"), tokenizer, clips)
    with pytest.raises(AssertionError, match="denormalise"):
        ex.check_exercise_2_1(lambda t, m: _reconstruct(t, m, denormalize=False), tokenizer, clips)


# -- exercise 3.2: the reference's reset -----------------------------------------------------------
def _reset(codebook, code_count, flat, threshold=1.0, restart_counts=False, touch_live=False):
    dead = torch.ones_like(code_count, dtype=torch.bool) if touch_live else code_count < threshold
    if dead.any():
        fresh = flat[torch.randperm(len(flat))[:len(codebook)]]
        codebook = torch.where(dead[:, None], fresh, codebook)
    count = torch.where(dead, torch.ones_like(code_count), code_count) if restart_counts else code_count.clone()
    return codebook, count


def test_exercise_3_2():
    ex.check_exercise_3_2(_reset)
    with pytest.raises(AssertionError, match="`smoothed` variation"):
        ex.check_exercise_3_2(lambda *a: _reset(*a, restart_counts=True))
    with pytest.raises(AssertionError, match="keep exactly its vector"):
        ex.check_exercise_3_2(lambda *a: _reset(*a, touch_live=True))


# -- exercise 3.3: the training loop by hand -------------------------------------------------------
def _loop(cfg, windows, seed, device="cpu", betas=(0.9, 0.99), reseed=True, lookup_before=False, clip=True):
    """Exercise 3.3's intended solution, with switches for the mistakes the checker must catch."""
    seed_everything(seed)
    vq = VQVAE(cfg, motion_dim=windows[0].shape[-1]).to(device)
    if reseed:
        seed_everything(seed)
    optimizer = torch.optim.AdamW(vq.parameters(), lr=cfg.train.lr, betas=betas, weight_decay=cfg.train.weight_decay)
    schedule = make_scheduler(optimizer, cfg.train.warmup_steps, cfg.train.steps, cfg.train.decay, cfg.train.min_lr_ratio)
    batches, codebook, history = batch_stream(windows, cfg.train.batch_size, seed), None, []
    vq.train()
    for _ in range(cfg.train.steps):
        m = next(batches).to(device)
        z = vq.encode_latent(m)
        flat = z.detach().permute(0, 2, 1).reshape(-1, cfg.code_dim)
        if codebook is None:
            codebook = flat[torch.randperm(len(flat))[:cfg.num_codes]]
            code_sum, code_count = codebook.clone(), torch.ones(cfg.num_codes)
        code_idx = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.t() + codebook.pow(2).sum(1)).argmin(1)
        old_codebook = codebook
        n = torch.bincount(code_idx, minlength=cfg.num_codes).float()
        code_count = code_count.mul(cfg.ema_decay).add(n, alpha=1 - cfg.ema_decay)
        sums = torch.zeros_like(code_sum).index_add_(0, code_idx, flat)
        code_sum = code_sum.mul(cfg.ema_decay).add(sums, alpha=1 - cfg.ema_decay)
        codebook, _ = _reset(code_sum / code_count[:, None], code_count, flat, cfg.reset_threshold)
        looked_up = old_codebook if lookup_before else codebook
        codes = looked_up[code_idx].view(z.shape[0], z.shape[2], -1).permute(0, 2, 1)
        m_hat = vq.decode_latent(z + (codes - z).detach())
        parts = {"recon": F.smooth_l1_loss(m_hat, m),
                 "velocity": F.smooth_l1_loss(m_hat[..., 4:67], m[..., 4:67]),
                 "commit": F.mse_loss(z, codes.detach())}
        loss = (cfg.recon_weight * parts["recon"] + cfg.velocity_weight * parts["velocity"]
                + cfg.commit_weight * parts["commit"])
        optimizer.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(vq.parameters(), cfg.train.grad_clip)
        optimizer.step()
        schedule.step()
        history.append({"loss": loss.item(), **{k: v.item() for k, v in parts.items()}})
    return history


@pytest.fixture(scope="module")
def loop_setup(toy_dataset):
    preset = get_preset("tiny").with_overrides(vq=LOOP_VQ, data=DataConfig(window_frames=16, min_frames=20))
    split = load_split(toy_dataset, "train", min_frames=20, max_frames=10**9)
    windows = MotionWindowDataset(split, window_frames=16, seed=preset.seed)
    return preset, windows, toy_dataset


def test_exercise_3_3_accepts_the_loop_and_measures_zero_difference(loop_setup, capsys):
    preset, windows, data = loop_setup
    worst = ex.check_exercise_3_3(_loop, "ema", preset, LOOP_VQ, windows, data)
    assert "Exercise 3.3: correct ✓" in capsys.readouterr().out
    assert worst == 0.0  # the same operations on a CPU: the same bits


@pytest.mark.parametrize("mistake", [{"betas": (0.9, 0.999)}, {"reseed": False}, {"lookup_before": True},
                                     {"clip": False}])
def test_exercise_3_3_rejects_a_loop_that_differs_from_fit(loop_setup, mistake):
    preset, windows, data = loop_setup
    with pytest.raises(AssertionError, match="your loop: the .* loss first differs at step"):
        ex.check_exercise_3_3(lambda *a: _loop(*a, **mistake), "ema", preset, LOOP_VQ, windows, data)


def test_exercise_3_3_rejects_a_wrong_prediction(loop_setup):
    preset, windows, data = loop_setup
    with pytest.raises(AssertionError, match="can a running count ever be below 0"):
        ex.check_exercise_3_3(_loop, "ema_reset", preset, LOOP_VQ, windows, data)
