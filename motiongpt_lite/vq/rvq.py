"""Residual vector quantization (RVQ, as MoMask's tokenizer uses): Q codebooks, each quantizing what the last left (notebook 03b).

The first codebook quantizes the encoder's latent z; the second quantizes the residual r_1 = z - q_1;
the q-th quantizes r_{q-1} - q_{q-1}; the decoder reads the sum of the Q chosen codes. Each step of the
motion becomes Q tokens (one per codebook) instead of one, and the error left after Q codebooks shrinks
with every one added. Every layer here is the package's EMA + reset quantizer
(:class:`motiongpt_lite.vq.quantizer.EMAResetQuantizer`, with the preset's codebook rule), as in MoMask.

Gradients: the decoder's gradient reaches z through one straight-through estimator on the sum,
``z_q = z + sg[sum_q c_q - z]``; each layer's commitment loss ``||r_q - sg[c_q]||^2`` pulls the encoder
(through r_q, whose earlier codes are detached) towards the codes, and the loss reported is their mean.
Differences from MoMask (``models/vq/residual_vq.py``): no quantization dropout (MoMask leaves out the last
layers at random in training, so that its decoder also works from the first few), and one straight-through
estimator rather than one per layer (MoMask sums Q of them, so its encoder gets Q times the decoder's
gradient). As in MoMask, the commitment loss is the mean over the layers.

It plugs into :class:`motiongpt_lite.vq.model.VQVAE` in place of its quantizer; ``code_idx`` has the shape
(B, N, Q), so :class:`motiongpt_lite.vq.tokenize.MotionTokenizer` (which expects (B, N)) does not take it.
"""
from __future__ import annotations

import torch
from torch import nn

from motiongpt_lite.vq.quantizer import EMAResetQuantizer, QuantizerOutput

__all__ = ["ResidualQuantizer"]


class ResidualQuantizer(nn.Module):
    """Q EMA + reset codebooks of K codes each, applied to successive residuals.

    Args:
        num_quantizers: Q, codebooks (tokens per latent vector).
        num_codes: K per codebook.
        code_dim: C.
        decay, reset_threshold, rule: as :class:`EMAResetQuantizer` (``cfg.ema_decay``, ``cfg.reset_threshold``,
            ``cfg.codebook_rule``).
    """

    def __init__(self, num_quantizers: int, num_codes: int, code_dim: int, decay: float = 0.99,
                 reset_threshold: float = 1.0, rule: str = "reference"):
        super().__init__()
        if num_quantizers < 1:
            raise ValueError(f"num_quantizers must be at least 1, got {num_quantizers}.")
        self.num_quantizers, self.num_codes, self.code_dim = num_quantizers, num_codes, code_dim
        self.layers = nn.ModuleList([EMAResetQuantizer(num_codes, code_dim, decay=decay, reset_threshold=reset_threshold,
                                                       rule=rule) for _ in range(num_quantizers)])

    def forward(self, z_e: torch.Tensor) -> QuantizerOutput:
        """Quantize (B, C, N) latents with every codebook in turn; training mode updates each codebook.

        Returns:
            QuantizerOutput with z_q (B, C, N) (value: the sum of the Q codes), code_idx (B, N, Q), embed_loss 0,
            commit_loss the mean of the layers' commitment losses, and perplexity and usage averaged over the layers.
        """
        residual, total = z_e, torch.zeros_like(z_e)
        outs = []
        for layer in self.layers:
            out = layer(residual)  # its z_q has the value of the chosen codes
            codes = out.z_q.detach()  # (B, C, N)
            total = total + codes
            residual = residual - codes  # still differentiable in z_e, for the next layer's commitment loss
            outs.append(out)
        z_q = z_e + (total - z_e).detach()  # straight-through on the sum
        mean = lambda name: torch.stack([getattr(o, name) for o in outs]).mean()  # noqa: E731
        return QuantizerOutput(z_q=z_q, code_idx=torch.stack([o.code_idx for o in outs], -1),
                               embed_loss=z_e.new_zeros(()), commit_loss=mean("commit_loss"),
                               perplexity=mean("perplexity"), usage=mean("usage"))

    @torch.no_grad()
    def quantize(self, z_e: torch.Tensor) -> torch.Tensor:
        """(B, C, N) latents -> (B, N, Q) code_idx (no statistics are updated)."""
        residual, idx = z_e.float(), []
        for layer in self.layers:
            code_idx = layer.quantize(residual)  # (B, N)
            residual = residual - layer.dequantize(code_idx)
            idx.append(code_idx)
        return torch.stack(idx, -1)

    def dequantize(self, code_idx: torch.Tensor) -> torch.Tensor:
        """(B, N, q) code_idx of the first q <= Q codebooks -> (B, C, N), the sum of their codes."""
        if code_idx.ndim != 3 or not 1 <= code_idx.shape[-1] <= self.num_quantizers:
            raise ValueError(f"code_idx must have shape (B, N, q) with 1 <= q <= {self.num_quantizers}, "
                             f"got {tuple(code_idx.shape)}.")
        return sum(layer.dequantize(code_idx[..., i]) for i, layer in enumerate(self.layers[:code_idx.shape[-1]]))

    def dead_codes(self) -> torch.Tensor:
        """(Q, K) bool: each layer's dead codes."""
        return torch.stack([layer.dead_codes() for layer in self.layers])
