"""Motion <-> tokens with a trained VQ-VAE, for single clips, padded batches and whole datasets (notebook 02).

Lengths: the encoder turns every ``down_rate`` frames (4 by default) into one token. A clip whose
length T is not a multiple of ``down_rate`` is padded at the end by repeating its last frame up to
``ceil(T / down_rate) * down_rate`` frames, so no frame is dropped; it gets ``ceil(T / down_rate)``
tokens, and decoding gives back ``4 * N`` frames (crop to T when you know it, as
:meth:`MotionTokenizer.reconstruct` does). Clips shorter than one token (T < down_rate) are
refused. (Paper vs code: the reference instead crops every clip down to a multiple of 4 frames.)

Batches of different lengths come as (B, T_max, D) with ``motion_len`` (B,); the codes come back
as (B, N_max) padded with ``PAD_CODE`` (-1). Each clip is encoded on its own, so a clip's codes
never depend on its neighbours or on padding.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from motiongpt_lite.config import VQConfig, stage_config, stored_settings
from motiongpt_lite.config import reference_dir as config_reference_dir
from motiongpt_lite.data.dataset import MotionClip, load_split
from motiongpt_lite.data.registry import spec_of
from motiongpt_lite.data.features import features_to_joints
from motiongpt_lite.data.normalization import Normalizer
from motiongpt_lite.checkpoints import load_model_weights, save_checkpoint
from motiongpt_lite.vq.metrics import accel_error, code_perplexity, codebook_usage, mpjpe, pa_mpjpe
from motiongpt_lite.vq.model import VQVAE

__all__ = ["PAD_CODE", "num_tokens", "encode", "decode", "MotionTokenizer", "tokenize_dataset", "evaluate_tokenizer",
           "whole_motions", "evaluate_split", "evaluate_reference"]

PAD_CODE = -1  # fills code_idx beyond a clip's last token in a padded batch


def num_tokens(motion_len: int, down_rate: int = 4) -> int:
    """Tokens for a clip of ``motion_len`` frames: ``ceil(motion_len / down_rate)``."""
    return -(-int(motion_len) // down_rate)


def _pad_clip(clip: torch.Tensor, down_rate: int) -> torch.Tensor:
    """(T, D) -> (ceil(T / r) * r, D), repeating the last frame."""
    if clip.shape[0] < down_rate:
        raise ValueError(f"a clip of {clip.shape[0]} frames is shorter than one token ({down_rate} frames); "
                         "drop it or use a longer clip.")
    extra = num_tokens(clip.shape[0], down_rate) * down_rate - clip.shape[0]
    return torch.cat([clip, clip[-1:].expand(extra, -1)]) if extra else clip


def encode(vq: VQVAE, motion: torch.Tensor, motion_len: torch.Tensor | Iterable[int] | None = None) -> torch.Tensor:
    """Normalised motion -> code_idx.

    Args:
        vq: a trained VQ-VAE.
        motion: (T, D) one clip, or (B, T, D) a batch; frames past ``motion_len[b]`` are ignored.
        motion_len: (B,) valid frames per clip; default: every clip is T frames long.
    Returns:
        (N,) for one clip, or (B, N_max) long padded with ``PAD_CODE``; N = ceil(T / vq.down_rate).
    """
    motion = torch.as_tensor(motion, dtype=torch.float32)
    if motion.ndim == 2:
        return encode(vq, motion[None], None if motion_len is None else motion_len)[0]
    if motion.ndim != 3 or motion.shape[-1] != vq.motion_dim:
        raise ValueError(f"motion must be (T, {vq.motion_dim}) or (B, T, {vq.motion_dim}), got {tuple(motion.shape)}.")
    lengths = [motion.shape[1]] * motion.shape[0] if motion_len is None else [int(n) for n in motion_len]
    if len(lengths) != motion.shape[0] or any(n > motion.shape[1] for n in lengths):
        raise ValueError(f"motion_len {lengths} does not fit a batch of shape {tuple(motion.shape)}; give one length "
                         "per clip, none longer than the padded batch.")
    device = next(vq.parameters()).device
    code_idx = torch.full((len(lengths), max(num_tokens(n, vq.down_rate) for n in lengths)), PAD_CODE, dtype=torch.long)
    for b, n in enumerate(lengths):
        clip = _pad_clip(motion[b, :n], vq.down_rate).to(device)  # (ceil(n/r)*r, D)
        codes = vq.encode(clip[None])[0].cpu()  # (ceil(n/r),)
        code_idx[b, :len(codes)] = codes
    return code_idx


def decode(vq: VQVAE, code_idx: torch.Tensor) -> torch.Tensor:
    """code_idx -> normalised motion.

    Args:
        vq: a trained VQ-VAE.
        code_idx: (N,) one clip, or (B, N) a batch padded with ``PAD_CODE`` after each clip's codes.
    Returns:
        (N * r, D) for one clip, or (B, N_max * r, D) with zeros past each clip's ``r * n_valid`` frames
        (r = vq.down_rate; n_valid = ``(code_idx >= 0).sum(-1)``).
    """
    code_idx = torch.as_tensor(code_idx, dtype=torch.long)
    if code_idx.ndim == 1:
        return decode(vq, code_idx[None])[0]
    if code_idx.ndim != 2:
        raise ValueError(f"code_idx must be (N,) or (B, N), got {tuple(code_idx.shape)}.")
    device = next(vq.parameters()).device
    motion = torch.zeros(code_idx.shape[0], code_idx.shape[1] * vq.down_rate, vq.motion_dim)
    for b, row in enumerate(code_idx):
        codes = row[row != PAD_CODE]
        if codes.numel():
            clip = vq.decode(codes[None].to(device))[0].cpu()  # (n * r, D)
            motion[b, :len(clip)] = clip
    return motion


@dataclass
class MotionTokenizer:
    """A trained VQ-VAE with the normalisation of its dataset: raw 263-dim features <-> tokens.

    Attributes:
        vq: the VQ-VAE (in eval mode).
        normalizer: the Mean/Std it was trained with.
    """

    vq: VQVAE
    normalizer: Normalizer

    @property
    def num_codes(self) -> int:
        """K, the number of motion tokens."""
        return self.vq.cfg.num_codes

    @property
    def down_rate(self) -> int:
        """Frames per token."""
        return self.vq.down_rate

    def encode(self, motion, motion_len=None) -> torch.Tensor:
        """Raw features (T, D) or (B, T, D) -> code_idx, see :func:`encode`."""
        return encode(self.vq, self.normalizer.normalize(torch.as_tensor(motion, dtype=torch.float32)), motion_len)

    def decode(self, code_idx) -> torch.Tensor:
        """code_idx (N,) or (B, N) -> raw features (N * r, D) or (B, N_max * r, D), see :func:`decode`."""
        motion = self.normalizer.denormalize(decode(self.vq, code_idx))
        valid = torch.as_tensor(code_idx) != PAD_CODE
        frames = valid.repeat_interleave(self.down_rate, dim=-1)[..., None]  # (..., N * r, 1)
        return motion * frames  # zeros (not the mean) after each clip's end

    def reconstruct(self, motion) -> torch.Tensor:
        """One clip (T, D) of raw features through the tokenizer and back, cropped to T frames."""
        motion = torch.as_tensor(motion, dtype=torch.float32)
        return self.decode(self.encode(motion))[: motion.shape[0]]

    def save(self, folder: str | Path, weights: bool = True) -> None:
        """Write ``config.json`` (architecture), ``Mean.npy``/``Std.npy`` and, with ``weights``, the VQ-VAE's
        weights as ``checkpoint.safetensors`` (what :meth:`load` reads). ``train_vq`` passes ``weights=False``:
        its training checkpoint is already there, holding the weights and what resuming needs."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps({"vq": stored_settings(self.vq.cfg), "motion_dim": self.vq.motion_dim},
                                                       indent=2))
        self.normalizer.save(folder)
        if weights:
            save_checkpoint(folder / "checkpoint.safetensors", self.vq)

    @classmethod
    def load(cls, folder: str | Path, device: str | torch.device = "cpu") -> "MotionTokenizer":
        """Load a tokenizer written by ``train_vq`` (config.json, Mean/Std and checkpoint.safetensors)."""
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise FileNotFoundError(f"{folder} holds no trained tokenizer (config.json missing); run "
                                    "`motiongpt-lite train-vq --preset P` first.")
        config = json.loads((folder / "config.json").read_text())
        vq = VQVAE(stage_config(VQConfig, config["vq"]), motion_dim=config["motion_dim"])
        load_model_weights(folder / "checkpoint.safetensors", vq)
        return cls(vq.to(device).eval(), Normalizer.from_folder(folder))


def tokenize_dataset(tokenizer: MotionTokenizer, dataset_dir: str | Path, out_dir: str | Path | None = None,
                     splits: Iterable[str] = ("train", "val", "test"), mirror: bool = True) -> Path:
    """Write the tokens of every clip of a HumanML3D-layout dataset, one ``<id>.npy`` (N,) int64 each.

    Args:
        tokenizer: a trained tokenizer.
        dataset_dir: folder with ``new_joint_vecs/`` and the split files.
        out_dir: where to write; default ``<dataset_dir>/tokens``.
        splits: split files whose ids are tokenized.
        mirror: also tokenize each clip's mirrored twin ``M<id>`` when its features exist.
    Returns:
        the output folder.
    """
    dataset_dir = Path(dataset_dir)
    out_dir = Path(out_dir) if out_dir else dataset_dir / "tokens"
    ids: list[str] = []
    for split in splits:
        split_file = dataset_dir / f"{split}.txt"
        if not split_file.exists():
            raise FileNotFoundError(f"{split_file} is missing; build or download the dataset first.")
        ids += [line.strip() for line in split_file.read_text().splitlines() if line.strip()]
    if mirror:
        ids += [f"M{i}" for i in ids if not i.startswith("M")]
    out_dir.mkdir(parents=True, exist_ok=True)
    for clip_id in dict.fromkeys(ids):  # unique, in order
        path = dataset_dir / "new_joint_vecs" / f"{clip_id}.npy"
        if not path.exists() or len(np.load(path, mmap_mode="r")) < tokenizer.down_rate:
            continue  # mirrored twin not stored, or too short to tokenize
        code_idx = tokenizer.encode(np.load(path).astype(np.float32))
        np.save(out_dir / f"{clip_id}.npy", code_idx.numpy().astype(np.int64))
    return out_dir


def evaluate_tokenizer(tokenizer: MotionTokenizer, clips: Iterable[np.ndarray]) -> dict[str, float]:
    """Reconstruction quality over whole clips, as the paper's table 8.

    Each clip goes through ``reconstruct``; joints of the original and of the reconstruction come
    from ``features_to_joints``. Errors are averaged over all frames of all clips.

    Args:
        tokenizer: a trained tokenizer.
        clips: raw (T_i, D) feature arrays, T_i >= 3.
    Returns:
        dict with ``mpjpe_mm`` (root-aligned), ``pa_mpjpe_mm``, ``accel_mm`` (mm/frame^2),
        ``usage`` (fraction of codes used over all clips), ``perplexity``, ``clips`` and ``frames``.
    """
    errors, codes, frames = {"mpjpe_mm": [], "pa_mpjpe_mm": [], "accel_mm": []}, [], []
    for clip in clips:
        clip = np.asarray(clip, dtype=np.float32)
        code_idx = tokenizer.encode(clip)  # (N,)
        recon = tokenizer.decode(code_idx)[: len(clip)].numpy()  # (T, D)
        pred, target = features_to_joints(recon), features_to_joints(clip)  # (T, J, 3) each
        for name, fn in (("mpjpe_mm", mpjpe), ("pa_mpjpe_mm", pa_mpjpe), ("accel_mm", accel_error)):
            errors[name].append(fn(pred, target))
        codes.append(code_idx.numpy())
        frames.append(len(clip))
    if not frames:
        raise ValueError("no clips to evaluate; pass a non-empty list of (T, D) feature arrays.")
    weights = np.asarray(frames, dtype=np.float64)
    report = {name: float(np.average(values, weights=weights)) for name, values in errors.items()}
    return {**report, "usage": codebook_usage(codes, tokenizer.num_codes),
            "perplexity": code_perplexity(codes, tokenizer.num_codes), "clips": len(frames), "frames": int(weights.sum())}


def whole_motions(data_dir: str | Path, split: str = "test", max_clips: int | None = None) -> list[MotionClip]:
    """The whole motions of a split (no caption parts, mirrored twins included), at most ``max_clips``."""
    data_dir = Path(data_dir)
    with warnings.catch_warnings():  # skipped clips are listed in MotionSplit.skipped; not needed here
        warnings.simplefilter("ignore")
        clips = load_split(data_dir, split, dataset=spec_of(data_dir)).clips
    return [clip for clip in clips if "#" not in clip.id][:max_clips]


def evaluate_split(tokenizer: MotionTokenizer, data_dir: str | Path, split: str = "test",
                   max_clips: int | None = None) -> dict[str, float]:
    """:func:`evaluate_tokenizer` on the whole motions of a held-out split of a dataset folder."""
    return evaluate_tokenizer(tokenizer, [clip.motion for clip in whole_motions(data_dir, split, max_clips)])


def evaluate_reference(tokenizer: MotionTokenizer, reference_dir: str | Path | None = None) -> dict[str, float] | None:
    """:func:`evaluate_tokenizer` on the real reference clips (all of ``new_joint_vecs``); None when absent,
    or when none of them has the tokenizer's width (the HumanML3D clips say nothing of a KIT-ML tokenizer).

    The folder defaults to ``motiongpt_lite.config.reference_dir()``.

    The clips are normalised with the tokenizer's own statistics, so this measures how well a
    tokenizer trained elsewhere (e.g. on the embedded set) transfers to real motion capture.
    """
    folder = Path(reference_dir) if reference_dir else config_reference_dir()
    if folder is None or not (folder / "new_joint_vecs").is_dir():
        return None
    clips = [np.load(path).astype(np.float32) for path in sorted((folder / "new_joint_vecs").glob("*.npy"))]
    clips = [clip for clip in clips if clip.shape[-1] == tokenizer.vq.motion_dim]
    return evaluate_tokenizer(tokenizer, clips) if clips else None
