"""Notebook 03b's bottlenecks (FSQ, residual VQ) and its exercise checkers.

FSQ and RVQ are checked against vector-quantize-pytorch when it is installed (an optional extra,
``pip install -e .[beyond]``); without it those two tests are skipped and the rest still run.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongpt_lite.config import get_preset
from motiongpt_lite.exercises import check_exercise_3_4, check_exercise_3_5, check_exercise_3_6
from motiongpt_lite.exercises.notebook_03b import rvq_mpjpe_by_layers
from motiongpt_lite.vq.fsq import FSQ, fsq_codes, fsq_codes_from_indices, fsq_indices
from motiongpt_lite.vq.model import VQVAE
from motiongpt_lite.vq.rvq import ResidualQuantizer

LEVELS = ([8, 5, 5, 5], [4, 4, 4], [8, 6, 5], [7, 5, 5, 5, 5], [3, 3])


# --- FSQ ---

@pytest.mark.parametrize("levels", LEVELS, ids=str)
def test_fsq_takes_exactly_the_levels_and_indexes_the_grid(levels):
    torch.manual_seed(0)
    codes = fsq_codes(torch.randn(4000, len(levels)) * 3, levels)  # (M, d)
    for dim, level in enumerate(levels):
        values = codes[:, dim].unique()
        assert len(values) == level and values.min() == -1.0 and values.max() <= 1.0
    size = int(np.prod(levels))
    grid = fsq_codes_from_indices(torch.arange(size), levels)
    assert torch.equal(fsq_indices(grid, levels), torch.arange(size))
    assert len(grid.unique(dim=0)) == size


def test_fsq_gradient_is_straight_through_the_bound():
    z = torch.randn(5, 3, requires_grad=True)
    fsq_codes(z, [5, 5, 5]).sum().backward()
    half_l = 2 * (1 + 1e-3)
    torch.testing.assert_close(z.grad, (1 - torch.tanh(z.detach()) ** 2) * half_l / 2)  # d(tanh * half_l)/dz / (L // 2)


def test_fsq_refuses_two_levels_with_a_reason():
    with pytest.raises(ValueError, match=">= 3"):
        FSQ([2, 5])


def test_fsq_bottleneck_in_the_vqvae():
    cfg = get_preset("tiny").vq
    torch.manual_seed(0)
    vq = VQVAE(cfg, motion_dim=263)
    vq.quantizer = FSQ([4, 4, 4], code_dim=cfg.code_dim)
    motion = torch.randn(2, 16, 263)
    out = vq(motion)
    assert out.motion.shape == motion.shape and out.quant.code_idx.shape == (2, 4)
    assert out.quant.commit_loss == 0 and 0 < out.quant.usage <= 1
    out.motion.sum().backward()
    assert vq.encoder[0].weight.grad.abs().sum() > 0  # the straight-through gradient reaches the encoder
    vq.eval()
    code_idx = vq.encode(motion)
    torch.testing.assert_close(vq.decode(code_idx), vq(motion).motion)


def test_fsq_matches_vector_quantize_pytorch():
    library = pytest.importorskip("vector_quantize_pytorch")
    for levels in LEVELS:
        lib = library.FSQ(levels).eval()
        z = (torch.randn(4, 50, len(levels)) * 2).requires_grad_()
        lib_codes, lib_idx = lib(z)
        ours = fsq_codes(z, levels)
        assert torch.equal(ours, lib_codes) and torch.equal(fsq_indices(ours, levels), lib_idx.long())
        weights = torch.randn_like(ours)
        torch.testing.assert_close(torch.autograd.grad((ours * weights).sum(), z)[0],
                                   torch.autograd.grad((lib_codes * weights).sum(), z)[0])
        torch.testing.assert_close(FSQ(levels).implicit_codebook, lib.implicit_codebook)


# --- residual VQ ---

def _rvq(q=3, k=16, c=8, seed=0) -> ResidualQuantizer:
    torch.manual_seed(seed)
    rvq = ResidualQuantizer(q, k, c).eval()
    for i, layer in enumerate(rvq.layers):
        layer.codebook.copy_(torch.randn(k, c) * 0.5 ** i)
    return rvq


def test_rvq_error_falls_with_every_codebook_and_round_trips():
    rvq = _rvq()
    z = torch.randn(2, 8, 30)
    out = rvq(z)
    assert out.code_idx.shape == (2, 30, 3)
    assert torch.equal(rvq.quantize(z), out.code_idx)
    torch.testing.assert_close(rvq.dequantize(out.code_idx), out.z_q)
    errors = [((z - rvq.dequantize(out.code_idx[..., :q])) ** 2).mean().item() for q in (1, 2, 3)]
    assert errors[0] > errors[1] > errors[2]


def test_rvq_trains_every_layer_and_passes_the_gradient_once():
    torch.manual_seed(0)
    rvq = ResidualQuantizer(2, 8, 4).train()
    z = torch.randn(3, 4, 20, requires_grad=True)
    out = rvq(z)
    assert all(bool(layer.initialized) for layer in rvq.layers) and out.commit_loss > 0
    (grad,) = torch.autograd.grad(out.z_q.sum(), z)
    torch.testing.assert_close(grad, torch.ones_like(z))  # one straight-through estimator on the sum
    with pytest.raises(ValueError, match=r"\(B, N, q\)"):
        rvq.dequantize(out.code_idx[..., 0])


def test_rvq_matches_vector_quantize_pytorch():
    library = pytest.importorskip("vector_quantize_pytorch")
    ours = _rvq(q=3, k=16, c=8)
    lib = library.ResidualVQ(dim=8, num_quantizers=3, codebook_size=16).eval()
    for layer, mine in zip(lib.layers, ours.layers):
        layer._codebook.embed.data.copy_(mine.codebook[None])
    x = torch.randn(2, 12, 8)  # (B, N, C), channels last as the library wants
    lib_out, lib_idx, _ = lib(x)
    out = ours(x.transpose(1, 2))
    assert torch.equal(out.code_idx, lib_idx.long())
    torch.testing.assert_close(out.z_q.transpose(1, 2), lib_out)


# --- the checkers accept the solutions and reject plausible wrong answers ---

def test_check_3_4_fsq_index():
    check_exercise_3_4(lambda codes, levels: fsq_indices(codes, levels))
    levels_t = lambda levels: torch.tensor(levels)  # noqa: E731

    def big_endian(codes, levels):
        half = levels_t(levels) // 2
        digits = (codes * half + half).round().long()
        basis = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.long), levels_t(levels).flip(0)[:-1]]), 0).flip(0)
        return (digits * basis).sum(-1)

    def no_shift(codes, levels):
        basis = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.long), levels_t(levels)[:-1]]), 0)
        return ((codes * (levels_t(levels) // 2)).round().long() * basis).sum(-1)

    def scaled_by_l_minus_1(codes, levels):
        half = (levels_t(levels) - 1) / 2
        basis = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.long), levels_t(levels)[:-1]]), 0)
        return ((codes * half + half).round().long() * basis).sum(-1)

    def float_index(codes, levels):
        return fsq_indices(codes, levels).float()

    def flat_sum(codes, levels):
        return fsq_indices(codes, levels).reshape(-1)

    for wrong in (big_endian, no_shift, scaled_by_l_minus_1, float_index, flat_sum):
        with pytest.raises(AssertionError):
            check_exercise_3_4(wrong)


def _residual(z, codebooks):
    residual, idx, total = z.clone(), [], torch.zeros_like(z)
    for codebook in codebooks:
        i = torch.cdist(residual, codebook).argmin(1)
        idx.append(i)
        total += codebook[i]
        residual = residual - codebook[i]
    return torch.stack(idx, 1), total


def test_check_3_5_residual_quantization():
    check_exercise_3_5(_residual)

    def same_input(z, codebooks):
        idx = torch.stack([torch.cdist(z, cb).argmin(1) for cb in codebooks], 1)
        return idx, sum(cb[idx[:, i]] for i, cb in enumerate(codebooks))

    def last_code_only(z, codebooks):
        idx, _ = _residual(z, codebooks)
        return idx, codebooks[-1][idx[:, -1]]

    def residual_plus(z, codebooks):  # adds the code instead of subtracting it
        residual, idx = z.clone(), []
        for codebook in codebooks:
            i = torch.cdist(residual, codebook).argmin(1)
            idx.append(i)
            residual = residual + codebook[i]
        idx = torch.stack(idx, 1)
        return idx, sum(cb[idx[:, j]] for j, cb in enumerate(codebooks))

    def dot_product(z, codebooks):  # largest inner product instead of smallest distance
        residual, idx, total = z.clone(), [], torch.zeros_like(z)
        for codebook in codebooks:
            i = (residual @ codebook.t()).argmax(1)
            idx.append(i)
            total += codebook[i]
            residual = residual - codebook[i]
        return torch.stack(idx, 1), total

    for wrong in (same_input, last_code_only, residual_plus, dot_product):
        with pytest.raises(AssertionError):
            check_exercise_3_5(wrong)


class _Identity:
    def normalize(self, x):
        return x

    def denormalize(self, x):
        return x


def _codebook_alone(vq, clips) -> list[float]:
    """The plausible mistake of 3.6: MPJPE of clips (lengths multiples of 4) decoded from codebook q alone."""
    from motiongpt_lite.data.features import features_to_joints
    from motiongpt_lite.vq.metrics import mpjpe

    result = []
    for q, layer in enumerate(vq.quantizer.layers):
        errors = []
        for clip in clips:
            with torch.no_grad():
                code_idx = vq.quantizer.quantize(vq.encode_latent(torch.as_tensor(clip)[None]))  # (1, N, Q)
                recon = vq.decode_latent(layer.dequantize(code_idx[..., q]))[0].numpy()
            errors.append(mpjpe(features_to_joints(recon), features_to_joints(clip)))
        result.append(float(np.average(errors, weights=[len(c) for c in clips])))
    return result


def test_check_3_6_rvq_layers():
    cfg = get_preset("tiny").vq
    torch.manual_seed(0)
    vq = VQVAE(cfg, motion_dim=263)
    vq.quantizer = ResidualQuantizer(2, cfg.num_codes, cfg.code_dim, rule=cfg.codebook_rule)
    vq.train()(torch.randn(4, 16, 263))  # initialise both codebooks from a batch
    vq.quantizer.layers[1].codebook.copy_(torch.randn(cfg.num_codes, cfg.code_dim) * 3)  # q = 1 and 2 differ
    vq.eval()
    clips = [np.random.default_rng(i).normal(size=(20 + 4 * i, 263)).astype(np.float32) * 0.05 for i in range(3)]
    measured = rvq_mpjpe_by_layers(vq, _Identity(), clips)
    assert abs(measured[0] - measured[1]) > 0.1 + 1e-4 * measured[0], measured  # beyond the checker's tolerance
    right = "falls with every codebook" if measured[1] < measured[0] else "stops falling"
    check_exercise_3_6(measured, right, vq, _Identity(), clips)
    wrong_prediction = "stops falling" if right == "falls with every codebook" else "falls with every codebook"
    alone = _codebook_alone(vq, clips)  # decoding from codebook q alone, not from the first q
    assert alone[0] == pytest.approx(measured[0]) and abs(alone[1] - measured[1]) > 0.1 + 1e-4 * measured[1]
    for answer, prediction in ((measured[::-1], right), (measured[:1], right), ([m + 5 for m in measured], right),
                               (alone, right), (measured, wrong_prediction), (measured, "falls")):
        with pytest.raises(AssertionError):
            check_exercise_3_6(answer, prediction, vq, _Identity(), clips)
