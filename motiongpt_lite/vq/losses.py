"""The VQ-VAE training objective, one function per term (notebook 03).

With motion m (B, T, D), its reconstruction m^, encoder outputs z_e and their codes z_q:

    L = w_r * SmoothL1(m^, m)                      reconstruction, every feature dim
      + w_v * L_vel(m^, m)                         "velocity" regulariser
      + w_e * ||sg[z_e] - z_q||^2                  embedding (codebook) loss, plain VQ only
      + beta * ||z_e - sg[z_q]||^2                 commitment loss

Paper vs code: the reference code calls its second term a velocity loss, but it compares feature
dims 4:67, the root-relative joint *positions*. ``velocity_kind="reference"`` reproduces that;
``velocity_kind="true"`` compares the frame-to-frame differences of those positions instead.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from motiongpt_lite.config import VQConfig
from motiongpt_lite.data.features import feature_groups
from motiongpt_lite.vq.model import VQVAEOutput

__all__ = ["reconstruction_loss", "position_loss", "true_velocity_loss", "vq_loss", "VELOCITY_KINDS"]


def _positions(motion: torch.Tensor) -> torch.Tensor:
    """(B, T, D) features -> (B, T, 3(J-1)) root-relative joint positions (dims 4:67 for D = 263)."""
    return motion[..., feature_groups((motion.shape[-1] + 1) // 12)["ric_positions"]]


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 over all (B, T, D) features -> scalar."""
    return F.smooth_l1_loss(pred, target)


def position_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The reference's "velocity" term: smooth-L1 on the position dims 4:67 of (B, T, D) features -> scalar."""
    return F.smooth_l1_loss(_positions(pred), _positions(target))


def true_velocity_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 on frame-to-frame differences of the position dims of (B, T, D) features -> scalar."""
    pred_pos, target_pos = _positions(pred), _positions(target)  # (B, T, 63)
    return F.smooth_l1_loss(pred_pos[:, 1:] - pred_pos[:, :-1], target_pos[:, 1:] - target_pos[:, :-1])


VELOCITY_KINDS = {"reference": position_loss, "true": true_velocity_loss}


def vq_loss(out: VQVAEOutput, target: torch.Tensor, cfg: VQConfig) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted sum of the four terms.

    Args:
        out: the VQ-VAE's forward output (reconstruction (B, T, D) and quantizer output).
        target: (B, T, D) the normalised motion that went in.
        cfg: weights ``recon_weight``, ``velocity_weight``, ``embed_weight``, ``commit_weight`` and ``velocity_kind``.
    Returns:
        ``(total, parts)``: the scalar loss and each unweighted term by name (detached).
    """
    if cfg.velocity_kind not in VELOCITY_KINDS:
        raise ValueError(f"unknown velocity_kind {cfg.velocity_kind!r}; choose one of {', '.join(VELOCITY_KINDS)}.")
    pred = out.motion.float()
    parts = {"recon": reconstruction_loss(pred, target), "velocity": VELOCITY_KINDS[cfg.velocity_kind](pred, target),
             "embed": out.quant.embed_loss.float(), "commit": out.quant.commit_loss.float()}
    total = (cfg.recon_weight * parts["recon"] + cfg.velocity_weight * parts["velocity"]
             + cfg.embed_weight * parts["embed"] + cfg.commit_weight * parts["commit"])
    return total, {name: value.detach() for name, value in parts.items()}
