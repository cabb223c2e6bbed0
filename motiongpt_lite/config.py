"""Presets: every tunable knob of the pipeline in one dataclass (introduced in notebook 00).

Choose one with the environment variable ``MOTIONGPT_LITE_PRESET`` (``tiny``, ``small`` -- the
default --, ``base`` or ``paper``) or by name in code::

    from motiongpt_lite.config import get_preset
    preset = get_preset()            # reads MOTIONGPT_LITE_PRESET, default "small"
    preset = get_preset("tiny")      # explicit

Folders come from environment variables with repository-relative defaults:
``MOTIONGPT_LITE_DATA`` (datasets; default ``<repo>/data``) and ``MOTIONGPT_LITE_CHECKPOINTS``
(trained models; default ``<repo>/checkpoints``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["DataConfig", "VQConfig", "Preset", "PRESETS", "get_preset", "data_root", "checkpoint_root", "embedded_dir", "run_dir", "PRESET_ENV"]

PRESET_ENV = "MOTIONGPT_LITE_PRESET"
DEFAULT_PRESET = "small"


@dataclass(frozen=True)
class DataConfig:
    """Which motions we learn from and how they are cut."""

    dataset: str = "embedded"  # "embedded" (generated offline), "humanml3d" or "kit" (downloaded by data_download.sh)
    num_motions: int = 2000  # embedded set: motions generated before mirroring (mirroring doubles them)
    min_frames: int = 40  # reference filter: clips and caption crops shorter than this are skipped (HumanML3D: 40)
    max_frames: int = 196  # reference filter: clips longer are cropped to this (HumanML3D keeps < 200, uses 196)
    window_frames: int = 64  # length of the random motion windows the VQ-VAE trains on
    batch_size: int = 64  # clips or windows per training batch


@dataclass(frozen=True)
class VQConfig:
    """The motion tokenizer (VQ-VAE): architecture, quantizer, loss weights and training (notebooks 02-03)."""

    # Architecture (1D convolutions over time, see motiongpt_lite.vq.model)
    width: int = 512  # channels of every hidden convolution (reference: 512)
    depth: int = 3  # dilated residual blocks per resolution (reference: 3)
    down_t: int = 2  # stride-2 down-sampling layers: 2**down_t frames per token (reference: 2 -> 4 frames)
    dilation_growth: int = 3  # dilations inside a residual stack grow 1, 3, 9, ... (reference: 3)
    num_codes: int = 512  # K, codebook size (reference: 512)
    code_dim: int = 512  # dimension of each code vector (reference: 512)
    # Quantizer (motiongpt_lite.vq.quantizer)
    quantizer: str = "ema_reset"  # "plain" (codebook loss), "ema" (moving averages) or "ema_reset" (EMA + dead-code reset, reference)
    ema_decay: float = 0.99  # decay of the EMA codebook statistics (reference: 0.99)
    reset_threshold: float = 1.0  # a code whose EMA count per batch falls below this is dead and re-initialised (reference: 1.0)
    # Loss weights (motiongpt_lite.vq.losses)
    recon_weight: float = 1.0  # smooth-L1 reconstruction of all feature dims (reference: 1.0)
    velocity_weight: float = 0.5  # the "velocity" term (reference: 0.5)
    velocity_kind: str = "reference"  # "reference": positions dims 4:67 as the reference code; "true": their frame-to-frame differences
    embed_weight: float = 1.0  # codebook (embedding) loss, used by the plain quantizer only (EMA kinds have none)
    commit_weight: float = 0.02  # beta, commitment loss (reference: 0.02)
    # Training (motiongpt_lite.vq.train, machinery in motiongpt_lite.training)
    steps: int = 300_000  # optimiser steps (reference recipe: 300k)
    batch_size: int = 256  # windows per step (reference: 256)
    lr: float = 2e-4  # AdamW peak learning rate (reference: 2e-4)
    weight_decay: float = 0.0  # AdamW weight decay (reference: 0)
    warmup_steps: int = 1000  # linear warm-up from 0 to lr (reference: 1000)
    decay: str = "cosine"  # after warm-up: "cosine" or "linear" decay to min_lr_ratio * lr, or "constant"
    min_lr_ratio: float = 0.05  # final learning rate as a fraction of lr (reference steps 2e-4 down to 1e-5)
    grad_clip: float = 1.0  # clip the global gradient norm to this (0 turns clipping off)
    checkpoint_every: int = 5000  # steps between checkpoints (a final one is always written)
    log_every: int = 100  # steps between logged loss / usage / perplexity values
    mixed_precision: str = "no"  # accelerate's "no", "fp16" or "bf16"


@dataclass(frozen=True)
class Preset:
    """One complete set of knobs. Presets are instances of this class, see ``PRESETS``."""

    name: str
    data: DataConfig = field(default_factory=DataConfig)
    seed: int = 1234  # one seed for data generation, initialisation and shuffling
    device: str = "auto"  # "auto" picks cuda, then mps, then cpu; or name one explicitly
    vq: VQConfig = field(default_factory=VQConfig)  # the motion tokenizer (defaults: the paper's)

    def with_overrides(self, **changes) -> "Preset":
        """A copy with top-level fields replaced, e.g. ``preset.with_overrides(seed=0)``."""
        return replace(self, **changes)


PRESETS: dict[str, Preset] = {
    # CI and quick checks: every notebook in seconds.
    "tiny": Preset(name="tiny", data=DataConfig(num_motions=160, batch_size=32)),
    # The default: a 2-core CPU, about five minutes per notebook.
    "small": Preset(name="small", data=DataConfig(num_motions=2000, batch_size=64)),
    # One GPU: HumanML3D when present (else a large embedded set), flan-t5-base.
    "base": Preset(name="base", data=DataConfig(dataset="humanml3d", num_motions=8000, batch_size=256)),
    # MotionGPT's own settings (HumanML3D, 64-frame windows, batch 256 for the tokenizer).
    "paper": Preset(name="paper", data=DataConfig(dataset="humanml3d", num_motions=8000, batch_size=256)),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, or the one named by ``MOTIONGPT_LITE_PRESET`` (default ``small``).

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    name = name or os.environ.get(PRESET_ENV) or DEFAULT_PRESET
    key = name.strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)} "
                         f"(set {PRESET_ENV} or pass --preset).")
    return PRESETS[key]


def _repo_root() -> Path:
    """The checkout this package lives in (editable install), else the current folder."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def data_root() -> Path:
    """Folder holding datasets: ``$MOTIONGPT_LITE_DATA`` or ``<repo>/data``."""
    return Path(os.environ.get("MOTIONGPT_LITE_DATA") or _repo_root() / "data")


def checkpoint_root() -> Path:
    """Folder holding trained models: ``$MOTIONGPT_LITE_CHECKPOINTS`` or ``<repo>/checkpoints``."""
    return Path(os.environ.get("MOTIONGPT_LITE_CHECKPOINTS") or _repo_root() / "checkpoints")


def embedded_dir(preset: Preset) -> Path:
    """Folder of the preset's embedded dataset, ``<data root>/embedded_<preset name>`` (sizes differ per preset)."""
    return data_root() / f"embedded_{preset.name}"


def run_dir(preset: Preset) -> Path:
    """Folder for everything a pipeline run at ``preset`` writes (models, tokens, report, demos)."""
    return checkpoint_root() / preset.name
