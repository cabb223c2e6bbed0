"""Checkers for the exercises of notebook 03b, beyond the paper's tokenizer (see :mod:`motiongpt_lite.exercises`).

Notebook 03b goes on with notebook 03's exercise numbers: 3.4 (the FSQ index), 3.5 (residual quantization by
hand) and 3.6 (decoding residual tokens with fewer codebooks, predicted and then measured).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_3_4", "check_exercise_3_5", "check_exercise_3_6", "rvq_mpjpe_by_layers", "PREDICTIONS_3_6"]

PREDICTIONS_3_6 = ("falls with every codebook", "stops falling")  # the RVQ arm's MPJPE as codebooks are added


def check_exercise_3_4(fsq_index: Callable) -> None:
    """Exercise 3.4: ``fsq_index(codes, levels) -> (...,) long``, the implicit-codebook index of FSQ codes (..., d).

    The right answer is :func:`motiongpt_lite.vq.fsq.fsq_indices`: digits ``code * (L // 2) + L // 2`` in the mixed
    radix of the levels, the first dimension the least significant.
    """
    import torch

    from motiongpt_lite.vq.fsq import fsq_codes, fsq_codes_from_indices, fsq_indices

    for levels in ([8, 5, 5, 5], [4, 4, 4], [7, 3], [8, 6, 5]):
        size = int(np.prod(levels))
        grid = fsq_codes_from_indices(torch.arange(size), levels)  # (size, d), every code in index order
        got = torch.as_tensor(fsq_index(grid.clone(), list(levels)))
        assert got.shape == (size,), (
            f"levels {levels}: {size} codes of shape ({size}, {len(levels)}) must give {size} indices, got shape "
            f"{tuple(got.shape)}; sum over the last axis (one index per code vector).")
        assert torch.is_floating_point(got) is False, "return integer indices (e.g. .long()), not floats."
        if not torch.equal(got.long(), torch.arange(size)):
            assert sorted(got.long().tolist()) != list(range(size)), (
                f"levels {levels}: every index of 0 .. {size - 1} occurs once, but in another order; the first FSQ "
                "dimension counts in steps of 1, the second in steps of L_0, the third of L_0 L_1 (as the library does).")
            raise AssertionError(
                f"levels {levels}: the indices of the implicit codebook are not 0 .. {size - 1}; turn each code in "
                "[-1, 1] into its digit in [0, L) first (scale by L // 2, then shift by L // 2), then combine the digits.")
        torch.manual_seed(0)
        codes = fsq_codes(torch.randn(3, 7, len(levels)) * 2, levels)  # (3, 7, d) codes of some batch
        got = torch.as_tensor(fsq_index(codes.clone(), list(levels)))
        assert got.shape == (3, 7) and torch.equal(got.long(), fsq_indices(codes, levels)), (
            f"levels {levels}: codes of shape (3, 7, {len(levels)}) must give (3, 7) indices, those of the same "
            "rule; keep the leading axes and combine along the last.")
    _correct("3.4")


def _residual_reference(z: np.ndarray, codebooks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, C) vectors and (Q, K, C) codebooks -> (M, Q) code_idx and (M, C) sum of the chosen codes."""
    import torch

    from motiongpt_lite.vq.rvq import ResidualQuantizer

    q, k, c = codebooks.shape
    rvq = ResidualQuantizer(q, k, c).eval()
    for layer, codebook in zip(rvq.layers, torch.as_tensor(codebooks, dtype=torch.float32)):
        layer.codebook.copy_(codebook)
    latents = torch.as_tensor(z, dtype=torch.float32).t()[None]  # (1, C, M)
    code_idx = rvq.quantize(latents)[0]  # (M, Q)
    return code_idx.numpy(), rvq.dequantize(code_idx[None])[0].t().numpy()


def check_exercise_3_5(residual_quantize: Callable) -> None:
    """Exercise 3.5: ``residual_quantize(z, codebooks) -> (code_idx, z_hat)``: (M, C) vectors and (Q, K, C) codebooks
    give (M, Q) indices (each codebook quantizes what the earlier ones left) and (M, C) sums of the chosen codes."""
    import torch

    torch.manual_seed(3)
    for q, k, c, m in ((3, 8, 4, 50), (1, 5, 2, 9), (4, 16, 3, 40)):
        z = torch.randn(m, c)
        codebooks = torch.randn(q, k, c) * torch.tensor([1.0, 0.5, 0.25, 0.125][:q])[:, None, None]  # finer and finer
        expected_idx, expected_hat = _residual_reference(z.numpy(), codebooks.numpy())
        got_idx, got_hat = residual_quantize(z.clone(), codebooks.clone())
        got_idx, got_hat = np.asarray(torch.as_tensor(got_idx)), np.asarray(torch.as_tensor(got_hat).detach())
        assert got_idx.shape == (m, q) and got_hat.shape == (m, c), (
            f"with {m} vectors of {c} dims and {q} codebooks return code_idx ({m}, {q}) and z_hat ({m}, {c}); got "
            f"{got_idx.shape} and {got_hat.shape}.")
        first = expected_idx[:, :1]
        assert np.array_equal(got_idx[:, :1], first), (
            "the first column must be each vector's nearest code of the first codebook (Euclidean distance).")
        if not np.array_equal(got_idx, expected_idx):
            plain = np.stack([torch.cdist(z, cb).argmin(1).numpy() for cb in codebooks], 1)  # every codebook on z itself
            assert not np.array_equal(got_idx, plain), (
                "each codebook after the first must quantize the residual (what is left after subtracting the codes "
                "chosen so far), not the vector z itself.")
            raise AssertionError("from the second codebook on the indices differ; subtract the chosen code from the "
                                 "residual after every codebook, and pick the next code for that new residual.")
        assert np.allclose(got_hat, expected_hat, atol=1e-5), (
            "the indices are right, but z_hat is not the sum over the codebooks of the chosen codes.")
    _correct("3.5")


def rvq_mpjpe_by_layers(vq, normalizer, clips: Sequence[np.ndarray]) -> list[float]:
    """MPJPE (mm, frames weighted as ``evaluate_tokenizer``) of clips decoded from the first q = 1 .. Q residual codebooks.

    Args:
        vq: a VQ-VAE whose quantizer is a :class:`motiongpt_lite.vq.rvq.ResidualQuantizer` (eval mode).
        normalizer: the Mean/Std it was trained with.
        clips: raw (T, D) feature arrays.
    """
    import torch

    from motiongpt_lite.data.features import features_to_joints
    from motiongpt_lite.vq.metrics import mpjpe
    from motiongpt_lite.vq.tokenize import _pad_clip

    rvq, rate, device = vq.quantizer, vq.down_rate, next(vq.parameters()).device
    errors = [[] for _ in range(rvq.num_quantizers)]
    frames = []
    with torch.no_grad():
        for clip in clips:
            clip = np.asarray(clip, np.float32)
            x = _pad_clip(torch.as_tensor(normalizer.normalize(clip), dtype=torch.float32), rate)  # (ceil(T/r) r, D)
            code_idx = rvq.quantize(vq.encode_latent(x[None].to(device)))  # (1, N, Q)
            target = features_to_joints(clip)
            for q in range(rvq.num_quantizers):
                recon = vq.decode_latent(rvq.dequantize(code_idx[..., :q + 1]))[0, :len(clip)].cpu().numpy()
                errors[q].append(mpjpe(features_to_joints(normalizer.denormalize(recon)), target))
            frames.append(len(clip))
    return [float(np.average(e, weights=frames)) for e in errors]


def check_exercise_3_6(mpjpe_by_layers: Sequence[float], prediction: str, vq, normalizer,
                       clips: Sequence[np.ndarray]) -> None:
    """Exercise 3.6: MPJPE of the RVQ arm decoded from its first q = 1 .. Q codebooks, and the prediction made before
    measuring: does the error fall with every codebook added (``"falls with every codebook"``) or not (``"stops falling"``)?

    Args:
        mpjpe_by_layers: the learner's Q numbers, in mm.
        prediction: one of :data:`PREDICTIONS_3_6`.
        vq, normalizer: the trained RVQ arm and its normaliser; clips: the raw (T, D) test clips it was scored on.
    """
    expected = rvq_mpjpe_by_layers(vq, normalizer, clips)
    got = [float(x) for x in mpjpe_by_layers]
    assert len(got) == len(expected), (
        f"give one MPJPE per number of codebooks read, q = 1 .. {len(expected)}: {len(expected)} numbers, got {len(got)}.")
    if not np.allclose(got, expected, rtol=1e-4, atol=0.05):
        assert not np.allclose(got[::-1], expected, rtol=1e-4, atol=0.05), (
            "the numbers are in reverse order; the first is the error with one codebook (q = 1).")
        assert not np.isclose(got[-1], expected[-1], rtol=1e-4, atol=0.05) or len(got) == 1, (
            "the last number (all Q codebooks) is right but the others are not; decode from the *sum* of the first q "
            "codebooks' codes (code_idx[..., :q]), not from codebook q alone.")
        raise AssertionError("the MPJPEs differ from a measurement on the same clips; encode each clip once, then "
                             "decode it from the first q codebooks for q = 1 .. Q, and average over frames.")
    assert prediction in PREDICTIONS_3_6, f"prediction must be one of {PREDICTIONS_3_6}, got {prediction!r}."
    falls = all(later < earlier for earlier, later in zip(expected, expected[1:]))
    measured = PREDICTIONS_3_6[0] if falls else PREDICTIONS_3_6[1]
    assert prediction == measured, (
        f"the measurement says {measured!r}: {', '.join(f'{e:.1f}' for e in expected)} mm for q = 1 .. {len(expected)}. "
        "Each codebook quantizes what the earlier ones left, and the decoder was trained on the sum of all of them.")
    _correct("3.6")
