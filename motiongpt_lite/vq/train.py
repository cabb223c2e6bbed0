"""Training the motion tokenizer: ``train_vq`` (notebook 02; the command ``motiongpt-lite train-vq``).

The VQ-VAE learns on random ``window_frames``-long windows of normalised motion from the train
split, with the loss of :mod:`motiongpt_lite.vq.losses`, through the shared loop of
:mod:`motiongpt_lite.training` (accelerate, AdamW, warm-up and decay, clipping, atomic checkpoints,
exact resume). The run folder holds ``checkpoint.safetensors``, ``config.json`` and the
dataset's ``Mean.npy``/``Std.npy``: everything :meth:`MotionTokenizer.load` needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motiongpt_lite.config import Preset, VQConfig, get_preset, run_dir, stored_settings
from motiongpt_lite.data.dataset import MotionWindowDataset, dataset_fingerprint, load_split
from motiongpt_lite.data.registry import dataset_dir, spec_of
from motiongpt_lite.runtime import seed_everything
from motiongpt_lite.training import fit, make_accelerator
from motiongpt_lite.vq.losses import vq_loss
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.tokenize import MotionTokenizer, tokenize_dataset

__all__ = ["VQRun", "vq_dir", "train_vq", "vq_step", "tokenize_preset"]


@dataclass
class VQRun:
    """The result of :func:`train_vq`.

    Attributes:
        tokenizer: the trained VQ-VAE with its normaliser (eval mode, on the CPU).
        history: one dict per ``log_every`` steps: step, lr, loss, recon, velocity, embed, commit,
            perplexity, usage (codes chosen in the batch) and alive (codes above the reset threshold), elapsed_s.
        folder: where the checkpoint was written, or None.
    """

    tokenizer: MotionTokenizer
    history: list[dict[str, float]]
    folder: Path | None


def vq_dir(preset: Preset) -> Path:
    """The preset's tokenizer folder: ``<checkpoint root>/<preset>/vq``."""
    return run_dir(preset) / "vq"


def vq_step(model: torch.nn.Module, motion: torch.Tensor, cfg: VQConfig) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One training step's loss on a (B, T, D) batch of windows, and what to log.

    Args:
        model: the VQ-VAE (possibly wrapped by accelerate).
        motion: (B, T, D) normalised windows.
        cfg: loss weights.
    Returns:
        ``(loss, logs)`` with the unweighted loss terms, batch perplexity, usage and alive fraction.
    """
    out = model(motion)
    loss, parts = vq_loss(out, motion, cfg)
    quantizer = getattr(model, "module", model).quantizer
    alive = 1.0 - quantizer.dead_codes().float().mean()
    return loss, {**parts, "perplexity": out.quant.perplexity, "usage": out.quant.usage, "alive": alive}


def _recorded(cfg: VQConfig) -> dict:
    """The settings a VQ checkpoint records. Checkpoints written before ``codebook_rule`` existed were trained
    with the smoothed rule and do not name it; leaving it out for that rule keeps them resumable."""
    settings = stored_settings(cfg)
    if settings["codebook_rule"] == "smoothed":
        del settings["codebook_rule"]
    return settings


def train_vq(preset: Preset | str | None = None, *, cfg: VQConfig | None = None, data_dir: str | Path | None = None,
             out_dir: str | Path | None = None, save: bool = True, resume: bool = True, stop_after: int | None = None,
             progress: bool = True) -> VQRun:
    """Train (or resume training) the motion tokenizer of a preset.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET`` (small).
        cfg: replaces ``preset.vq`` (notebook 03 trains variants this way).
        data_dir: dataset folder; default :func:`dataset_dir`.
        out_dir: run folder; default :func:`vq_dir` (``checkpoints/<preset>/vq``).
        save: write checkpoints (and resume from them); False keeps everything in memory.
        resume: continue from the folder's checkpoint when there is one.
        stop_after: stop after this many steps (with a checkpoint), as if interrupted.
        progress: show a progress bar.
    Returns:
        VQRun with the tokenizer, the loss/usage history and the run folder.
    Raises:
        ValueError: windows that are not a multiple of the frames per token, or a checkpoint from other settings.
    """
    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    cfg = cfg or preset.vq
    window = preset.data.window_frames
    if window % cfg.frames_per_token:
        raise ValueError(f"window_frames={window} is not a multiple of {cfg.frames_per_token} frames per token; "
                         "change preset.data.window_frames or cfg.down_t.")
    data_dir = Path(data_dir) if data_dir else dataset_dir(preset)
    # As the reference's VQ loader: every motion at least one window long, however long it is.
    split = load_split(data_dir, "train", dataset=spec_of(data_dir), min_frames=preset.data.min_frames, max_frames=10**9)
    if not (np.isfinite(split.normalizer.mean).all() and np.isfinite(split.normalizer.std).all()):
        raise ValueError(f"{data_dir}/Mean.npy or Std.npy contains NaN or inf; rebuild the dataset's statistics "
                         "(motiongpt_lite.data.normalization.compute_mean_std over its finite clips).")
    windows = MotionWindowDataset(split, window_frames=window, seed=preset.seed)
    seed_everything(preset.seed)
    vq = VQVAE(cfg, motion_dim=split.skeleton.feature_dim)
    folder = Path(out_dir) if out_dir else vq_dir(preset)
    accelerator = make_accelerator(cfg.train.mixed_precision, preset.device)
    history = fit(vq, windows, lambda model, motion: vq_step(model, motion, cfg), cfg.train, seed=preset.seed,
                  checkpoint_path=folder / "checkpoint.safetensors" if save else None, resume=resume,
                  stop_after=stop_after,
                  extra={"config": {"vq": _recorded(cfg), "window_frames": window, "seed": preset.seed,
                                    "data": dataset_fingerprint(data_dir)}},
                  accelerator=accelerator, progress=progress, desc=f"vq {preset.name}")
    tokenizer = MotionTokenizer(accelerator.unwrap_model(vq).cpu().eval(), split.normalizer)
    if save and accelerator.is_main_process:
        tokenizer.save(folder, weights=False)  # config.json, Mean.npy, Std.npy beside the training checkpoint
    return VQRun(tokenizer=tokenizer, history=history, folder=folder if save else None)


def tokenize_preset(preset: Preset | str | None = None, out_dir: str | Path | None = None) -> Path:
    """Tokens of the preset's whole dataset (all splits, mirrored clips included) with its trained tokenizer.

    The command ``motiongpt-lite tokenize --preset P``. Reads ``checkpoints/<preset>/vq`` and writes
    one ``<id>.npy`` per clip into ``out_dir`` (default ``checkpoints/<preset>/vq/tokens``), the input
    of the language-model stages.
    """
    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    tokenizer = MotionTokenizer.load(vq_dir(preset))
    return tokenize_dataset(tokenizer, dataset_dir(preset), Path(out_dir) if out_dir else vq_dir(preset) / "tokens")
