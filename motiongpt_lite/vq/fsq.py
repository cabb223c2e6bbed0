"""Finite scalar quantization (FSQ, Mentzer et al. 2023): a codebook that nobody learns (notebook 03b).

Instead of looking up the nearest of K learnt vectors, FSQ projects each latent vector to
d = ``len(levels)`` numbers, squashes number i into a range that holds exactly ``levels[i]`` = L_i
integers, and rounds it, with a straight-through gradient. The codes are the points of that grid:
``prod(levels)`` of them, an *implicit* codebook. There is nothing to collapse, so FSQ needs no
embedding loss, no commitment loss, no EMA and no dead-code reset.

Per dimension, with ``half_l = (L - 1)(1 + eps) / 2`` and ``offset = 0.5`` for even L (0 for odd L),

    bounded = tanh(z + atanh(offset / half_l)) * half_l - offset      # (-L/2, L/2), L integers inside
    code    = round_ste(bounded) / (L // 2)                           # in [-1, 1]
    digit   = code * (L // 2) + L // 2                                # integer in [0, L)
    index   = sum_i digit_i * prod(levels[:i])                        # mixed radix, in [0, prod(levels))

Paper vs library (notebook 03b checks ours against ``vector-quantize-pytorch``'s ``FSQ``): the paper's
appendix code shrinks the range by ``(1 - eps)`` and shifts with ``tan`` where ``arctanh`` is meant (its
author agreed, vector-quantize-pytorch issue #94; the two are close near 0). We follow the maintained
library: ``arctanh`` and ``(1 + eps)``. Either ``eps`` gives exactly L values per dimension.

It plugs into :class:`motiongpt_lite.vq.model.VQVAE` in place of its quantizer (``vq.quantizer = FSQ(...)``):
``forward``, ``quantize`` and ``dequantize`` have the shapes of :class:`motiongpt_lite.vq.quantizer.Quantizer`,
and 1x1 convolutions project the encoder's ``code_dim`` channels to the d FSQ dimensions and back.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from motiongpt_lite.vq.quantizer import QuantizerOutput, perplexity

__all__ = ["FSQ", "round_ste", "fsq_codes", "fsq_indices", "fsq_codes_from_indices"]


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """``round(x)`` forward, identity gradient backward (straight-through)."""
    return x + (x.round() - x).detach()


def _levels(levels: Sequence[int] | torch.Tensor, like: torch.Tensor | None = None) -> torch.Tensor:
    levels = torch.as_tensor(levels, dtype=torch.long, device=None if like is None else like.device)
    if levels.ndim != 1 or len(levels) == 0 or bool((levels < 3).any()):
        raise ValueError(f"levels must be a list of integers >= 3, one per FSQ dimension, got {levels.tolist()}; "
                         "with L = 2 the tanh shift is huge and one of the two values is almost never reached.")
    return levels


def fsq_codes(z: torch.Tensor, levels: Sequence[int] | torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Bound, round (straight-through) and rescale: (..., d) real numbers -> (..., d) codes in [-1, 1].

    Args:
        z: (..., d) latents, d = len(levels).
        levels: (d,) number of values L_i of each dimension, each >= 3.
        eps: widens the tanh range a little, so the outermost values are reached.
    Returns:
        (..., d) codes; dimension i takes the L_i values ``(k - L_i // 2) / (L_i // 2)``, k = 0 .. L_i - 1.
    """
    levels = _levels(levels, z)
    if z.shape[-1] != len(levels):
        raise ValueError(f"z has {z.shape[-1]} dimensions in its last axis but there are {len(levels)} levels.")
    half_l = (levels - 1).to(z.dtype) * (1 + eps) / 2  # (d,)
    offset = (levels % 2 == 0).to(z.dtype) * 0.5  # (d,) even L: the grid is shifted by half a step
    bounded = torch.tanh(z + torch.atanh(offset / half_l)) * half_l - offset  # (..., d)
    return round_ste(bounded) / (levels // 2).to(z.dtype)


def fsq_indices(codes: torch.Tensor, levels: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """(..., d) codes in [-1, 1] -> (...,) index into the implicit codebook, ``sum_i digit_i * prod(levels[:i])``."""
    levels = _levels(levels, codes)
    half = (levels // 2).to(codes.dtype)
    digits = (codes * half + half).round().long()  # (..., d) integers in [0, L_i)
    basis = torch.cumprod(torch.cat([levels.new_ones(1), levels[:-1]]), 0)  # (d,) 1, L_0, L_0 L_1, ...
    return (digits * basis).sum(-1)


def fsq_codes_from_indices(code_idx: torch.Tensor, levels: Sequence[int] | torch.Tensor,
                           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(...,) indices -> (..., d) codes in [-1, 1]; the inverse of :func:`fsq_indices`."""
    levels = _levels(levels, code_idx)
    basis = torch.cumprod(torch.cat([levels.new_ones(1), levels[:-1]]), 0)  # (d,)
    digits = (code_idx.long()[..., None] // basis) % levels  # (..., d)
    half = (levels // 2).to(dtype)
    return (digits.to(dtype) - half) / half


class FSQ(nn.Module):
    """FSQ as a VQ-VAE bottleneck: project ``code_dim`` -> d, quantize on the grid, project back.

    Args:
        levels: values per FSQ dimension, e.g. (8, 5, 5, 5) for about 2^10 codes (the paper's table 1).
        code_dim: channels of the encoder's latents (``cfg.code_dim``); None or d: no projections.
        eps: see :func:`fsq_codes`.

    Attributes:
        num_codes: ``prod(levels)``, the size of the implicit codebook (the number of motion words).
    """

    def __init__(self, levels: Sequence[int], code_dim: int | None = None, eps: float = 1e-3):
        super().__init__()
        self.register_buffer("levels", _levels(levels), persistent=False)
        self.dim, self.eps = len(self.levels), eps
        self.code_dim = code_dim or self.dim
        self.num_codes = math.prod(int(n) for n in self.levels)
        project = self.code_dim != self.dim
        self.project_in = nn.Conv1d(self.code_dim, self.dim, 1) if project else nn.Identity()  # (B, C, N) -> (B, d, N)
        self.project_out = nn.Conv1d(self.dim, self.code_dim, 1) if project else nn.Identity()

    @property
    def implicit_codebook(self) -> torch.Tensor:
        """(num_codes, d) every code, in index order."""
        return fsq_codes_from_indices(torch.arange(self.num_codes, device=self.levels.device), self.levels)

    def _codes(self, z_e: torch.Tensor) -> torch.Tensor:
        """(B, C, N) latents -> (B, N, d) grid codes."""
        if z_e.ndim != 3 or z_e.shape[1] != self.code_dim:
            raise ValueError(f"latents must have shape (B, {self.code_dim}, N), got {tuple(z_e.shape)}.")
        return fsq_codes(self.project_in(z_e.float()).transpose(1, 2), self.levels, self.eps)

    def forward(self, z_e: torch.Tensor) -> QuantizerOutput:
        """Quantize (B, C, N) latents; the output has the fields of every quantizer (no losses: both are 0).

        Returns:
            QuantizerOutput with z_q (B, C, N) = project_out(codes), code_idx (B, N), the batch's perplexity
            and usage (share of the ``num_codes`` grid points chosen).
        """
        codes = self._codes(z_e)  # (B, N, d), straight-through gradient to z_e
        code_idx = fsq_indices(codes.detach(), self.levels)  # (B, N)
        counts = torch.bincount(code_idx.flatten(), minlength=self.num_codes).float()  # (num_codes,)
        z_q = self.project_out(codes.transpose(1, 2)).to(z_e.dtype)  # (B, C, N)
        zero = z_e.new_zeros(())
        return QuantizerOutput(z_q=z_q, code_idx=code_idx, embed_loss=zero, commit_loss=zero,
                               perplexity=perplexity(counts), usage=(counts > 0).float().mean())

    @torch.no_grad()
    def quantize(self, z_e: torch.Tensor) -> torch.Tensor:
        """(B, C, N) latents -> (B, N) code_idx."""
        return fsq_indices(self._codes(z_e), self.levels)

    def dequantize(self, code_idx: torch.Tensor) -> torch.Tensor:
        """(B, N) code_idx -> (B, C, N) latents for the decoder."""
        if code_idx.numel() and (code_idx.min() < 0 or code_idx.max() >= self.num_codes):
            raise ValueError(f"code_idx must lie in [0, {self.num_codes}), got values from {int(code_idx.min())} "
                             f"to {int(code_idx.max())}; strip padding and special tokens before decoding.")
        codes = fsq_codes_from_indices(code_idx, self.levels)  # (B, N, d)
        return self.project_out(codes.transpose(1, 2))

    def dead_codes(self) -> torch.Tensor:
        """No code is ever dead in the sense of an EMA codebook: (num_codes,) all False."""
        return torch.zeros(self.num_codes, dtype=torch.bool, device=self.levels.device)
