"""Checkers for the exercises of notebooks 00-03 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from motiongpt_lite.data.features import FOOT_CONTACT_THRESHOLD, feature_groups, features_to_joints, joints_to_features
from motiongpt_lite.data.skeleton import HUMANML3D
from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_0_1", "check_exercise_0_2", "check_exercise_0_3", "check_exercise_1_1", "check_exercise_1_2", "check_exercise_1_3", "check_exercise_2_1", "check_exercise_2_2", "check_exercise_2_3", "check_exercise_3_1", "check_exercise_3_2", "check_exercise_3_3"]


# --- notebooks 00 and 01 ---

def check_exercise_0_1(seconds: float, motion_lengths: list[int], fps: float = 20.0) -> None:
    """Exercise 0.1: duration in seconds of the longest motion of a split.

    Args:
        seconds: the learner's answer.
        motion_lengths: frame count of every motion in the split.
        fps: frames per second of the dataset (HumanML3D: 20).
    """
    expected = max(motion_lengths) / fps
    assert np.isclose(float(seconds), expected, atol=1e-6), (
        f"got {seconds}; find the largest frame count T among the motions and divide by the frame rate ({fps} fps).")
    _correct("0.1")


def check_exercise_0_2(tokens_now: int, tokens_down_t_3: int, down_t: int, motion_len: int = 196) -> None:
    """Exercise 0.2: motion tokens of a ``motion_len``-frame clip with the preset's ``down_t`` and with ``down_t=3``."""
    from motiongpt_lite.vq.tokenize import num_tokens

    hint = ("the encoder halves the time axis down_t times, so one token covers 2**down_t frames, and a partial "
            "token is padded to a whole one: round up.")
    assert int(tokens_now) == num_tokens(motion_len, 2 ** down_t), f"tokens_now={tokens_now} is off: {hint}"
    assert int(tokens_down_t_3) == num_tokens(motion_len, 2 ** 3), f"tokens_down_t_3={tokens_down_t_3} is off: {hint}"
    _correct("0.2")


def check_exercise_0_3(speed: float, joints: np.ndarray, fps: float = 20.0) -> None:
    """Exercise 0.3: average speed (m/s) of the root along its path on the floor.

    Args:
        speed: the learner's answer in metres per second.
        joints: (T, 22, 3) positions of the clip, Y up.
    """
    root = np.asarray(joints)[:, 0, [0, 2]]  # (T, 2) pelvis on the floor plane
    expected = np.linalg.norm(np.diff(root, axis=0), axis=1).sum() / ((len(root) - 1) / fps)
    assert np.isclose(float(speed), expected, rtol=0.02), (
        f"got {speed:.3f} m/s; sum the lengths of the pelvis's frame-to-frame steps in x and z (not y), "
        "then divide by the duration (T - 1) / fps.")
    _correct("0.3")


def check_exercise_1_1(trajectory: np.ndarray, features: np.ndarray) -> None:
    """Exercise 1.1: the root's (x, z) path, integrated by hand from the features.

    Args:
        trajectory: (T, 2) the learner's root positions on the floor, frame 0 at the origin.
        features: (T, 263) the features it was computed from.
    """
    expected = features_to_joints(np.asarray(features, dtype=np.float64))[:, 0, [0, 2]]  # (T, 2)
    trajectory = np.asarray(trajectory, dtype=np.float64)
    assert trajectory.shape == expected.shape, f"expected shape {expected.shape} (frames x (x, z)), got {trajectory.shape}."
    error = np.abs(trajectory - expected).max()
    assert error < 1e-4, (
        f"off by up to {error:.3f} m; heading: theta_t = -2 * sum of dim 0 over frames < t (frame 0 at 0), "
        "then turn each (dim 1, dim 2) step from the body frame to the world by theta_t and add the steps up.")
    _correct("1.1")


def check_exercise_1_2(prediction: str, fractions_10x: np.ndarray, joints: np.ndarray) -> None:
    """Exercise 1.2: predict, then measure, the foot contacts with a 10x larger threshold.

    Args:
        prediction: "more", "fewer" or "same" planted frames.
        fractions_10x: (4,) share of frames marked planted for (l_ankle, l_toe, r_ankle, r_toe) at 10x.
        joints: (T, 22, 3) the clip.
    """
    contacts = feature_groups()["foot_contacts"]
    expected = joints_to_features(joints, feet_threshold=10 * FOOT_CONTACT_THRESHOLD)[:, contacts].mean(axis=0)  # (4,)
    fractions_10x = np.asarray(fractions_10x, dtype=np.float64)
    assert fractions_10x.shape == (4,), f"expected 4 fractions (l_ankle, l_toe, r_ankle, r_toe), got shape {fractions_10x.shape}."
    assert np.allclose(fractions_10x, expected, atol=1e-6), (
        "measured fractions are off; pass feet_threshold=10 * FOOT_CONTACT_THRESHOLD and average dims 259:263 over frames.")
    assert str(prediction).strip().lower() == "more", (
        f"prediction {prediction!r}: a larger threshold on the squared step lets faster feet count as planted.")
    _correct("1.2")


def _mirror_reference(joints: np.ndarray) -> np.ndarray:
    """Mirror left-right: negate x and swap every l_/r_ joint pair. (T, 22, 3) -> (T, 22, 3)."""
    names = HUMANML3D.joint_names
    swap = [names.index("r_" + n[2:]) if n.startswith("l_") else names.index("l_" + n[2:]) if n.startswith("r_") else i
            for i, n in enumerate(names)]
    mirrored = np.asarray(joints, dtype=np.float64)[:, swap].copy()
    mirrored[..., 0] *= -1
    return mirrored


def check_exercise_1_3(mirror: Callable[[np.ndarray], np.ndarray], joints: np.ndarray) -> None:
    """Exercise 1.3: a function that mirrors a clip left-right (as HumanML3D's ``M`` copies).

    Args:
        mirror: the learner's function, (T, 22, 3) -> (T, 22, 3).
        joints: (T, 22, 3) a clip to try it on.
    """
    joints = np.asarray(joints, dtype=np.float64)
    mirrored = np.asarray(mirror(joints.copy()), dtype=np.float64)
    assert mirrored.shape == joints.shape, f"mirror must keep the shape {joints.shape}, got {mirrored.shape}."
    assert np.allclose(np.asarray(mirror(mirrored.copy())), joints, atol=1e-9), "mirroring twice must give the clip back."
    expected = _mirror_reference(joints)
    if np.allclose(mirrored[..., 0], -joints[..., 0]):
        raise AssertionError("you negated x but kept the joint order: the left hand must become the right hand too "
                             "(swap every l_/r_ pair of HUMANML3D.joint_names).")
    assert np.allclose(mirrored, expected, atol=1e-9), (
        "not a left-right mirror: the person's left is +x, so negate x (only x) and swap every l_/r_ joint pair.")
    _correct("1.3")


# --- notebook 02 ---

def check_exercise_2_1(tokens_for: Callable[[int, int], int]) -> None:
    """Exercise 2.1: ``tokens_for(num_frames, down_t)``, the number of tokens of a clip."""
    from motiongpt_lite.vq.tokenize import num_tokens

    for down_t in (1, 2, 3):
        for frames in (4, 8, 9, 63, 64, 65, 70, 196, 199):
            if frames < 2 ** down_t:
                continue
            got = int(tokens_for(frames, down_t))
            assert got == num_tokens(frames, 2 ** down_t), (
                f"tokens_for({frames}, {down_t}) = {got} is off; one token covers 2**down_t frames and a clip that is "
                "not a multiple of that is padded with its last frame, so round up, not down.")
    _correct("2.1")


def check_exercise_2_2(usage: float, perplexity: float, code_lists: list, num_codes: int) -> None:
    """Exercise 2.2: codebook usage and perplexity of a list of token strips, by hand."""
    from motiongpt_lite.vq.metrics import code_perplexity, codebook_usage

    assert np.isclose(float(usage), codebook_usage(code_lists, num_codes)), (
        f"usage {usage} is off; count how many of the {num_codes} codes occur at least once (np.bincount with "
        "minlength) and divide by the codebook size, not by the number of tokens.")
    assert np.isclose(float(perplexity), code_perplexity(code_lists, num_codes), rtol=1e-6), (
        f"perplexity {perplexity} is off; p_k = count_k / total over all strips together, skip p_k = 0, "
        "then exp(-sum p_k log p_k) with the natural log.")
    _correct("2.2")


def _measured_receptive_field(cfg) -> int:
    """Input frames that reach the middle latent vector of the package's encoder, measured with autograd."""
    from dataclasses import replace

    import torch

    from motiongpt_lite.vq.model import Encoder

    torch.manual_seed(0)
    encoder = Encoder(263, replace(cfg, width=8, code_dim=8)).double()  # the width does not change the answer
    x = torch.randn(1, 263, 4096, dtype=torch.double, requires_grad=True)
    z = encoder(x)  # (1, 8, N)
    z[0, :, z.shape[-1] // 2].sum().backward()
    frames = (x.grad[0].abs().sum(0) > 0).nonzero().flatten()
    return int(frames.max() - frames.min() + 1)


def check_exercise_2_3(receptive_field: Callable, cfg) -> None:
    """Exercise 2.3: ``receptive_field(cfg)`` of the encoder, for the preset and for other knob settings."""
    from dataclasses import replace

    for variant, label in ((cfg, "the preset"), (replace(cfg, dilation_growth=1), "dilation growth 1"),
                           (replace(cfg, depth=cfg.depth + 1), "one more block per stack")):
        got, expected = int(receptive_field(variant)), _measured_receptive_field(variant)
        assert got == expected, (
            f"for {label} you predict {got} frames, autograd measures {expected}; walk through the layers in order, "
            "keep the total stride s so far (x2 after each down-sampling), and add (k - 1) * d * s per convolution.")
    _correct("2.3")


# --- notebook 03 ---

def check_exercise_3_1(commit, z_e, codebook) -> None:
    """Exercise 3.1: the unweighted commitment loss of latents (B, C, L) against a codebook (K, C)."""
    import torch

    from motiongpt_lite.vq.quantizer import Quantizer

    quantizer = Quantizer(*codebook.shape)
    quantizer.codebook.data.copy_(codebook)
    expected = ((z_e - quantizer.dequantize(quantizer.quantize(z_e))) ** 2).mean()
    assert torch.isclose(torch.as_tensor(commit, dtype=expected.dtype), expected, rtol=1e-5), (
        f"got {float(commit):.4f}; flatten z_e to (B*L, C) vectors (channels last), pick each vector's nearest code "
        "(Euclidean), then average the squared difference over every element, not just over vectors.")
    _correct("3.1")


def check_exercise_3_2(reset_dead_codes: Callable) -> None:
    """Exercise 3.2: ``reset_dead_codes(codebook, code_count, flat, threshold) -> (codebook, code_count)``,
    the reference's reset (T2M-GPT): dead vectors re-drawn from the batch, every count left as it was."""
    import torch

    torch.manual_seed(0)
    codebook, flat = torch.randn(6, 3), torch.randn(10, 3)
    code_count = torch.tensor([2.0, 0.3, 1.0, 0.0, 5.0, 0.99])
    dead = code_count < 1.0
    new_codebook, new_count = reset_dead_codes(codebook.clone(), code_count.clone(), flat, 1.0)
    assert torch.equal(new_codebook[~dead], codebook[~dead]), (
        "a code whose count is at least the threshold must keep exactly its vector.")
    from_batch = (new_codebook[dead][:, None] == flat[None]).all(-1).any(-1)  # (dead,) equal to some row of flat
    assert from_batch.all(), "every dead code (count < threshold) must become one of the rows of flat."
    assert torch.equal(torch.as_tensor(new_count), code_count), (
        "the reference leaves every count as it was (a reset code stays below the threshold until it is chosen "
        "often enough); restarting the counts at 1 is our `smoothed` variation, not the reference.")
    _correct("3.2")


def check_exercise_3_3(prediction: str, run, named_run) -> None:
    """Exercise 3.3: EMA + reset with ``reset_threshold=0`` compared with the run the learner predicted."""
    import torch

    assert str(prediction).strip().lower() == "ema", (
        f"prediction {prediction!r}: can a running count ever be below 0? If no code is ever reset, what is left?")
    ours, theirs = run.tokenizer.vq.state_dict(), named_run.tokenizer.vq.state_dict()
    same = ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert same, ("the two runs differ; train with experiment(..., quantizer='ema_reset', reset_threshold=0.0) and "
                  "pass the run it returns together with results['ema'][0].")
    _correct("3.3")
