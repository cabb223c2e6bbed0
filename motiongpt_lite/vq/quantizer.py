"""Vector quantizers: nearest code, straight-through gradient, three ways to learn the codebook (notebooks 02-03).

All three kinds share one interface (:class:`Quantizer`): ``forward(z_e)`` returns the quantized
latents with a straight-through gradient, the chosen ``code_idx``, the embedding and commitment
losses, and usage statistics; ``quantize`` and ``dequantize`` map latents to indices and back.

- ``plain`` (:class:`Quantizer`): the codebook is a parameter learnt by the embedding loss
  ``||sg[z_e] - z_q||^2``; the encoder is pulled towards its codes by the commitment loss.
- ``ema`` (:class:`EMAQuantizer`): no embedding loss; each code is the exponential moving average
  (decay 0.99) of the encoder outputs assigned to it.
- ``ema_reset`` (:class:`EMAResetQuantizer`): EMA, and codes whose running count falls below a
  threshold ("dead" codes) are re-initialised from encoder outputs of the current batch. This
  is what the reference code uses.

The EMA kinds follow one of two ``CODEBOOK_RULES``. ``"reference"`` is T2M-GPT's (which MotionGPT
reuses): a code is its EMA sum divided by its EMA count, and a dead code's *vector* is re-drawn from
the batch while its statistics go on decaying and growing, so it is re-drawn every batch until its count
reaches the threshold again. ``"smoothed"`` is our variation: the counts are Laplace-smoothed (as in
VQ-VAE-2's EMA update, so a never-chosen code shrinks towards zero instead of keeping its value), and a
reset code's statistics restart as if it had been chosen once.

Two differences from the reference hold under both rules (notebook 03's closing table lists them): in
training, the codes the decoder and the commitment loss see are read from the codebook *after* this
batch's update (the reference reads them before it, from the codebook the assignment used), and the
first codebook and re-drawn codes are random encoder outputs of the batch (the reference takes the first
K of them, tiled with noise when the batch holds fewer).

Every kind initialises its codebook from the first training batch and keeps an EMA of how often
each code is chosen (``code_count``, per batch) so usage is measured the same way for all three.
Under distributed training (``torch.distributed`` initialised) batch statistics are all-reduced
and random choices are broadcast from rank 0, so the codebook stays identical on every process.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

__all__ = ["QuantizerOutput", "Quantizer", "EMAQuantizer", "EMAResetQuantizer", "make_quantizer",
           "QUANTIZER_KINDS", "CODEBOOK_RULES", "perplexity"]

CODEBOOK_RULES = ("reference", "smoothed")  # how the EMA kinds update and reset codes (module docstring)


@dataclass
class QuantizerOutput:
    """One quantization step.

    Attributes:
        z_q: (B, C, N) quantized latents; forward value = the codes, gradient = identity to z_e.
        code_idx: (B, N) chosen code per latent vector.
        embed_loss: scalar ``||sg[z_e] - z_q||^2`` (zero for the EMA kinds, which learn without it).
        commit_loss: scalar ``||z_e - sg[z_q]||^2``.
        perplexity: scalar ``exp(entropy)`` of the batch's code distribution (1 = collapse, K = uniform).
        usage: scalar fraction of the K codes chosen at least once in this batch.
    """

    z_q: torch.Tensor
    code_idx: torch.Tensor
    embed_loss: torch.Tensor
    commit_loss: torch.Tensor
    perplexity: torch.Tensor
    usage: torch.Tensor


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum a statistic over processes (no-op on a single process)."""
    if _distributed():
        dist.all_reduce(x, op=dist.ReduceOp.SUM)
    return x


def _broadcast(x: torch.Tensor) -> torch.Tensor:
    """Rank 0's copy of ``x`` on every process (no-op on a single process)."""
    if _distributed():
        dist.broadcast(x, src=0)
    return x


def perplexity(counts: torch.Tensor) -> torch.Tensor:
    """``exp(-sum p log p)`` of a (K,) count vector: the effective number of codes in use."""
    probs = counts / counts.sum().clamp(min=1e-12)
    return torch.exp(-(probs * torch.log(probs.clamp(min=1e-12))).sum())


def _sample_vectors(flat: torch.Tensor, num: int) -> torch.Tensor:
    """``num`` random rows of (M, C) ``flat`` (with replacement when M < num), identical on every process."""
    idx = torch.randint(0, flat.shape[0], (num,), device=flat.device) if flat.shape[0] < num \
        else torch.randperm(flat.shape[0], device=flat.device)[:num]
    return _broadcast(flat[idx].contiguous())  # (num, C)


class Quantizer(nn.Module):
    """Plain VQ: nearest code, embedding + commitment losses, straight-through gradient.

    Args:
        num_codes: K.
        code_dim: C.
        decay: decay of the running per-code counts ``code_count`` (statistics only here).
        reset_threshold: ``code_count`` below which a code counts as dead (see :meth:`dead_codes`).
    """

    def __init__(self, num_codes: int, code_dim: int, decay: float = 0.99, reset_threshold: float = 1.0):
        super().__init__()
        self.num_codes, self.code_dim = num_codes, code_dim
        self.decay, self.reset_threshold = decay, reset_threshold
        self.codebook = nn.Parameter(torch.empty(num_codes, code_dim).uniform_(-1 / num_codes, 1 / num_codes))
        self.register_buffer("code_count", torch.ones(num_codes))  # EMA of chosen-per-batch counts
        self.register_buffer("initialized", torch.tensor(False))

    # -- the shared interface ---------------------------------------------------------------
    @staticmethod
    def _flatten(z_e: torch.Tensor) -> torch.Tensor:
        if z_e.ndim != 3:
            raise ValueError(f"latents must have shape (B, code_dim, N), got {tuple(z_e.shape)}.")
        return z_e.permute(0, 2, 1).reshape(-1, z_e.shape[1])  # (B*N, C)

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """(M, C) vectors -> (M,) index of the closest code in Euclidean distance."""
        with torch.autocast(device_type=flat.device.type, enabled=False):  # distances in float32 always
            flat, codebook = flat.float(), self.codebook.float()
            dist2 = (flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.t()
                     + codebook.pow(2).sum(1)[None])  # (M, K)
        return dist2.argmin(dim=1)

    @torch.no_grad()
    def quantize(self, z_e: torch.Tensor) -> torch.Tensor:
        """(B, C, N) latents -> (B, N) code_idx (no statistics are updated)."""
        flat = self._flatten(z_e).float()
        return self.nearest(flat).view(z_e.shape[0], z_e.shape[2])

    def dequantize(self, code_idx: torch.Tensor) -> torch.Tensor:
        """(B, N) code_idx -> (B, C, N) code vectors."""
        if code_idx.numel() and (code_idx.min() < 0 or code_idx.max() >= self.num_codes):
            raise ValueError(f"code_idx must lie in [0, {self.num_codes}), got values from {int(code_idx.min())} "
                             f"to {int(code_idx.max())}; strip padding and special tokens before decoding.")
        return F.embedding(code_idx, self.codebook).permute(0, 2, 1)  # (B, C, N)

    def dead_codes(self) -> torch.Tensor:
        """(K,) bool: codes whose running count per batch is below ``reset_threshold``."""
        return self.code_count < self.reset_threshold

    def forward(self, z_e: torch.Tensor) -> QuantizerOutput:
        """Quantize (B, C, N) latents; in training mode also update the codebook statistics.

        Args:
            z_e: (B, C, N) encoder outputs.
        Returns:
            QuantizerOutput; ``z_q = z_e + sg[codes - z_e]`` passes the decoder's gradient to z_e unchanged.
        """
        flat = self._flatten(z_e).float()  # (M, C), statistics in float32 under mixed precision
        if self.training and not bool(self.initialized):
            self.init_codebook(flat)
        code_idx = self.nearest(flat)  # (M,)
        counts = torch.bincount(code_idx, minlength=self.num_codes).float()  # (K,)
        if self.training:  # only training synchronises processes (evaluation may run on one of them)
            counts = _all_reduce_sum(counts)
            self.update(flat, code_idx, counts)
        codes = F.embedding(code_idx, self.codebook).view(z_e.shape[0], z_e.shape[2], -1).permute(0, 2, 1)  # (B, C, N)
        codes = codes.to(z_e.dtype)
        embed_loss = self.embedding_loss(z_e, codes)
        commit_loss = F.mse_loss(z_e, codes.detach())
        z_q = z_e + (codes - z_e).detach()  # straight-through estimator
        return QuantizerOutput(z_q=z_q, code_idx=code_idx.view(z_e.shape[0], z_e.shape[2]), embed_loss=embed_loss,
                               commit_loss=commit_loss, perplexity=perplexity(counts),
                               usage=(counts > 0).float().mean())

    # -- what the three kinds do differently ------------------------------------------------
    @torch.no_grad()
    def init_codebook(self, flat: torch.Tensor) -> None:
        """Set the codebook to K random encoder outputs of the first training batch ((M, C) ``flat``)."""
        self.codebook.data.copy_(_sample_vectors(flat, self.num_codes))
        self.initialized.fill_(True)

    def embedding_loss(self, z_e: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """``||sg[z_e] - codes||^2``: moves the codes towards the encoder outputs (plain VQ only)."""
        return F.mse_loss(codes, z_e.detach())

    @torch.no_grad()
    def update(self, flat: torch.Tensor, code_idx: torch.Tensor, counts: torch.Tensor) -> None:
        """Training-time statistics after assignment; plain VQ only tracks the running counts.

        Args:
            flat: (M, C) encoder outputs; code_idx: (M,) their codes; counts: (K,) all-reduced counts.
        """
        self.code_count.mul_(self.decay).add_(counts, alpha=1 - self.decay)


class EMAQuantizer(Quantizer):
    """Codes learnt as exponential moving averages of their assigned encoder outputs (no embedding loss).

    With decay gamma, per batch: ``N_k <- gamma N_k + (1 - gamma) n_k`` and
    ``m_k <- gamma m_k + (1 - gamma) sum_{i: k_i = k} z_i``. Rule ``"reference"``: the code is
    ``e_k = m_k / N_k`` (a never-chosen code keeps its value: both decay alike). Rule ``"smoothed"``:
    ``e_k = m_k / N~_k`` with the Laplace-smoothed count ``N~_k = (N_k + eps) / (sum_j N_j + K eps) * sum_j N_j``
    (a never-chosen code shrinks towards zero).
    """

    def __init__(self, num_codes: int, code_dim: int, decay: float = 0.99, reset_threshold: float = 1.0,
                 eps: float = 1e-5, rule: str = "reference"):
        super().__init__(num_codes, code_dim, decay, reset_threshold)
        if rule not in CODEBOOK_RULES:
            raise ValueError(f"unknown codebook rule {rule!r}; choose one of {', '.join(CODEBOOK_RULES)}.")
        self.eps, self.rule = eps, rule
        codebook = self.codebook.data
        del self.codebook
        self.register_buffer("codebook", codebook)  # learnt without gradients
        self.register_buffer("code_sum", codebook.clone())  # m_k, EMA of summed assigned vectors

    @torch.no_grad()
    def init_codebook(self, flat: torch.Tensor) -> None:
        super().init_codebook(flat)
        self.code_sum.copy_(self.codebook)
        self.code_count.fill_(1.0)

    def embedding_loss(self, z_e: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        return z_e.new_zeros(())

    @torch.no_grad()
    def update(self, flat: torch.Tensor, code_idx: torch.Tensor, counts: torch.Tensor) -> None:
        sums = torch.zeros_like(self.code_sum).index_add_(0, code_idx, flat)  # (K, C)
        sums = _all_reduce_sum(sums)
        self.code_count.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.code_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        if self.rule == "reference":  # tiny only guards 0/0 once a count has decayed below float32's range
            counts = self.code_count.clamp(min=torch.finfo(self.code_count.dtype).tiny)
        else:
            total = self.code_count.sum()
            counts = (self.code_count + self.eps) / (total + self.num_codes * self.eps) * total  # (K,)
        self.codebook.copy_(self.code_sum / counts[:, None])


class EMAResetQuantizer(EMAQuantizer):
    """EMA codes plus dead-code reset: codes with ``code_count < reset_threshold`` restart from current encoder outputs.

    After each EMA update, every dead code's vector is replaced by a random encoder output of the current
    batch. Rule ``"reference"`` leaves its statistics as they are (it stays dead, and is re-drawn, until
    enough vectors choose it); rule ``"smoothed"`` restarts them as if it had been chosen once
    (``N_k = 1, m_k = e_k``), so it is alive at once.
    """

    @torch.no_grad()
    def update(self, flat: torch.Tensor, code_idx: torch.Tensor, counts: torch.Tensor) -> None:
        super().update(flat, code_idx, counts)
        dead = self.dead_codes()  # (K,), identical on every process: code_count is all-reduced
        if dead.any():
            fresh = _sample_vectors(flat, self.num_codes)  # (K, C), rank 0's choice everywhere
            self.codebook[dead] = fresh[dead]
            if self.rule == "smoothed":
                self.code_sum[dead] = fresh[dead]
                self.code_count[dead] = 1.0


QUANTIZER_KINDS = {"plain": Quantizer, "ema": EMAQuantizer, "ema_reset": EMAResetQuantizer}


def make_quantizer(cfg) -> Quantizer:
    """The quantizer named by ``cfg.quantizer`` ("plain", "ema" or "ema_reset") with ``cfg``'s sizes.

    Args:
        cfg: a :class:`motiongpt_lite.config.VQConfig` (num_codes, code_dim, ema_decay, reset_threshold,
            codebook_rule for the EMA kinds).
    """
    if cfg.quantizer not in QUANTIZER_KINDS:
        raise ValueError(f"unknown quantizer {cfg.quantizer!r}; choose one of {', '.join(QUANTIZER_KINDS)}.")
    rule = {} if cfg.quantizer == "plain" else {"rule": cfg.codebook_rule}
    return QUANTIZER_KINDS[cfg.quantizer](cfg.num_codes, cfg.code_dim, decay=cfg.ema_decay,
                                          reset_threshold=cfg.reset_threshold, **rule)
