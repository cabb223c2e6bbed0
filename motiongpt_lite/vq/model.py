"""The motion VQ-VAE: a 1D-convolutional encoder, a quantizer and a mirror decoder (notebook 02).

Motion is a sequence of feature frames (B, T, D). The encoder treats the D features as channels
and convolves over time; ``down_t`` stride-2 convolutions shrink T by ``2**down_t`` (4 by default),
so every code vector summarises 4 frames. Each resolution is followed by a stack of residual
blocks whose dilations grow by ``dilation_growth`` (1, 3, 9 for depth 3), widening the receptive
field without more parameters. The decoder mirrors the encoder with nearest-neighbour up-sampling.

Shapes: motion (B, T, D) -> z_e (B, code_dim, T / 4) -> code_idx (B, T / 4) -> motion (B, T, D).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from motiongpt_lite.config import VQConfig
from motiongpt_lite.vq.quantizer import QuantizerOutput, make_quantizer

__all__ = ["ResBlock", "ResStack", "Encoder", "Decoder", "VQVAE", "VQVAEOutput"]


class ResBlock(nn.Module):
    """``x + conv1x1(relu(conv3_dilated(relu(x))))``: one residual block, same length in and out.

    Args:
        width: channels C.
        dilation: dilation of the 3-tap convolution (padding keeps the length).
    """

    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(width, width, kernel_size=3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(width, width, kernel_size=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, C, T)."""
        return x + self.mix(self.act(self.conv(self.act(x))))


class ResStack(nn.Sequential):
    """``depth`` residual blocks with dilations ``growth**i``, largest first (as the reference).

    Args:
        width: channels C.
        depth: number of blocks.
        growth: dilation growth factor (3 gives 9, 3, 1 for depth 3).
    """

    def __init__(self, width: int, depth: int, growth: int):
        super().__init__(*[ResBlock(width, growth ** i) for i in reversed(range(depth))])


class Encoder(nn.Sequential):
    """(B, D, T) features as channels -> (B, code_dim, T / 2**down_t) latent vectors.

    Args:
        in_dim: feature dimension D (263 for HumanML3D).
        cfg: width, depth, down_t, dilation_growth and code_dim.
    """

    def __init__(self, in_dim: int, cfg: VQConfig):
        layers: list[nn.Module] = [nn.Conv1d(in_dim, cfg.width, 3, padding=1), nn.ReLU()]
        for _ in range(cfg.down_t):
            # kernel 4, stride 2, padding 1 halves an even length exactly (T -> T/2)
            layers += [nn.Conv1d(cfg.width, cfg.width, 4, stride=2, padding=1),
                       ResStack(cfg.width, cfg.depth, cfg.dilation_growth)]
        layers.append(nn.Conv1d(cfg.width, cfg.code_dim, 3, padding=1))
        super().__init__(*layers)


class Decoder(nn.Sequential):
    """(B, code_dim, N) quantized vectors -> (B, D, N * 2**down_t) features, the encoder's mirror.

    Args:
        out_dim: feature dimension D.
        cfg: the same VQConfig as the encoder.
    """

    def __init__(self, out_dim: int, cfg: VQConfig):
        layers: list[nn.Module] = [nn.Conv1d(cfg.code_dim, cfg.width, 3, padding=1), nn.ReLU()]
        for _ in range(cfg.down_t):
            layers += [ResStack(cfg.width, cfg.depth, cfg.dilation_growth),
                       nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv1d(cfg.width, cfg.width, 3, padding=1)]
        layers += [nn.Conv1d(cfg.width, cfg.width, 3, padding=1), nn.ReLU(),
                   nn.Conv1d(cfg.width, out_dim, 3, padding=1)]
        super().__init__(*layers)


@dataclass
class VQVAEOutput:
    """What one forward pass returns.

    Attributes:
        motion: (B, T, D) reconstruction.
        quant: the quantizer's output (code_idx (B, N), losses, usage, perplexity).
    """

    motion: torch.Tensor
    quant: QuantizerOutput


class VQVAE(nn.Module):
    """Encoder -> quantizer -> decoder over normalised motion features.

    Args:
        cfg: architecture and quantizer settings (``preset.vq``).
        motion_dim: D, 263 for HumanML3D, 251 for KIT-ML.
    """

    def __init__(self, cfg: VQConfig, motion_dim: int = 263):
        super().__init__()
        self.cfg = cfg
        self.motion_dim = motion_dim
        self.down_rate = cfg.frames_per_token
        self.encoder = Encoder(motion_dim, cfg)
        self.quantizer = make_quantizer(cfg)
        self.decoder = Decoder(motion_dim, cfg)

    def _check(self, motion: torch.Tensor) -> None:
        if motion.ndim != 3 or motion.shape[-1] != self.motion_dim:
            raise ValueError(f"motion must have shape (B, T, {self.motion_dim}), got {tuple(motion.shape)}; "
                             "add a batch dimension with motion[None] for a single clip.")
        if motion.shape[1] < self.down_rate or motion.shape[1] % self.down_rate:
            raise ValueError(f"motion length {motion.shape[1]} must be a positive multiple of {self.down_rate} "
                             "frames per token; crop or pad it (motiongpt_lite.vq.tokenize.encode does that for you).")

    def encode_latent(self, motion: torch.Tensor) -> torch.Tensor:
        """(B, T, D) motion -> (B, code_dim, T / down_rate) continuous latents z_e."""
        self._check(motion)
        return self.encoder(motion.transpose(1, 2))  # (B, code_dim, N)

    def decode_latent(self, z_q: torch.Tensor) -> torch.Tensor:
        """(B, code_dim, N) quantized latents -> (B, N * down_rate, D) motion."""
        return self.decoder(z_q).transpose(1, 2)  # (B, T, D)

    def forward(self, motion: torch.Tensor) -> VQVAEOutput:
        """Reconstruct a batch of windows (training and evaluation).

        Args:
            motion: (B, T, D) normalised features, T a multiple of ``down_rate``.
        Returns:
            VQVAEOutput with the (B, T, D) reconstruction and the quantizer's output.
        """
        z_e = self.encode_latent(motion)  # (B, code_dim, N)
        quant = self.quantizer(z_e)
        return VQVAEOutput(motion=self.decode_latent(quant.z_q), quant=quant)

    @torch.no_grad()
    def encode(self, motion: torch.Tensor) -> torch.Tensor:
        """(B, T, D) normalised motion, T a multiple of ``down_rate`` -> (B, T / down_rate) code_idx."""
        return self.quantizer.quantize(self.encode_latent(motion))

    @torch.no_grad()
    def decode(self, code_idx: torch.Tensor) -> torch.Tensor:
        """(B, N) code_idx -> (B, N * down_rate, D) normalised motion."""
        if code_idx.ndim != 2:
            raise ValueError(f"code_idx must have shape (B, N), got {tuple(code_idx.shape)}; add a batch dimension.")
        return self.decode_latent(self.quantizer.dequantize(code_idx))
