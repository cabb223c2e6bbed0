"""Checkers for the exercises of notebooks 00-03 (see :mod:`motiongpt_lite.exercises`)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from motiongpt_lite.data.features import FOOT_CONTACT_THRESHOLD, feature_groups, features_to_joints, joints_to_features
from motiongpt_lite.data.skeleton import HUMANML3D
from motiongpt_lite.exercises.common import correct as _correct

__all__ = ["check_exercise_0_1", "check_exercise_0_2", "check_exercise_0_3", "check_exercise_1_1", "check_exercise_1_2", "check_exercise_1_3", "check_exercise_2_1", "check_exercise_2_2", "check_exercise_2_3", "check_exercise_3_1", "check_exercise_3_2", "check_exercise_3_3"]


# --- notebooks 00 and 01 ---

def check_exercise_0_1(clips_per_action: dict, segments: dict, train_ids: list) -> None:
    """Exercise 0.1: how many training clips show each action (a census of the split).

    Args:
        clips_per_action: the learner's answer, action -> number of training clips in which it occurs.
        segments: clip id -> its labelled segments (``labels/<id>.json``), for every clip of the dataset.
        train_ids: the ids listed in ``train.txt`` (mirrored copies included).
    """
    expected: dict[str, int] = {}
    for clip_id in train_ids:
        for action in {segment["action"] for segment in segments[clip_id]}:  # once per clip, however often
            expected[action] = expected.get(action, 0) + 1
    got = {str(k): int(v) for k, v in dict(clips_per_action).items() if v}
    missing = sorted(set(expected) - set(got))
    assert not missing, f"no count for {missing}; a clip of two actions counts for both of them."
    assert not set(got) - set(expected), (
        f"{sorted(set(got) - set(expected))} never occur in the training split; count train.txt's ids only.")
    wrong = sorted(a for a in expected if got[a] != expected[a])
    assert not wrong, (
        f"the counts of {wrong} are off; walk over every segment of every training clip (mirrored copies "
        "included), and count a clip once per action it contains, even when it repeats one.")
    _correct("0.1")


def _path_speed(joints: np.ndarray, fps: float) -> float:
    """Average speed (m/s) of the pelvis along its path on the floor: (T, 22, 3) joints, Y up."""
    root = np.asarray(joints, dtype=np.float64)[:, 0, [0, 2]]  # (T, 2) pelvis on the floor plane
    return float(np.linalg.norm(np.diff(root, axis=0), axis=1).sum() / ((len(root) - 1) / fps))


def check_exercise_0_2(speed: float, joints: np.ndarray, fps: float = 20.0) -> None:
    """Exercise 0.2: average speed (m/s) of the root along its path on the floor.

    Args:
        speed: the learner's answer in metres per second.
        joints: (T, 22, 3) positions of the clip, Y up.
    """
    expected = _path_speed(joints, fps)
    assert np.isclose(float(speed), expected, rtol=0.02), (
        f"got {speed:.3f} m/s; sum the lengths of the pelvis's frame-to-frame steps in x and z (not y), "
        "then divide by the duration (T - 1) / fps.")
    _correct("0.2")


def check_exercise_0_3(speed_by_label: dict, walks: dict, dataset: str | Path, fps: float = 20.0) -> None:
    """Exercise 0.3: the generator's speed knob, measured: mean pelvis speed of the walks of each speed label.

    Args:
        speed_by_label: the learner's answer, speed label -> mean path speed (m/s) of its walks.
        walks: clip id -> speed label ("slow", "normal", "fast") of the forward walks to measure.
        dataset: the dataset folder (``new_joints/<id>.npy``).
    """
    groups: dict[str, list[float]] = {}
    for clip_id, label in walks.items():
        joints = np.load(Path(dataset) / "new_joints" / f"{clip_id}.npy")
        groups.setdefault(label, []).append(_path_speed(joints, fps))
    expected = {label: float(np.mean(v)) for label, v in groups.items()}
    got = dict(speed_by_label)
    assert set(got) == set(expected), f"expected one mean per speed label {sorted(expected)}, got {sorted(got)}."
    for label, value in expected.items():
        assert np.isclose(float(got[label]), value, rtol=0.02), (
            f"{label}: got {float(got[label]):.3f} m/s; average the path speed of exercise 0.2 over the walks "
            "with that label (one speed per clip, then their mean), not the distance between the first and "
            "last frame.")
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


def check_exercise_1_2(planted_share: Callable[[float], np.ndarray], joints: np.ndarray) -> None:
    """Exercise 1.2: the foot-contact threshold as a knob, measured at several settings.

    Args:
        planted_share: the learner's function, multiplier -> (4,) share of frames marked planted for
            (l_ankle, l_toe, r_ankle, r_toe) with ``feet_threshold = multiplier * FOOT_CONTACT_THRESHOLD``.
        joints: (T, 22, 3) the clip.
    """
    contacts = feature_groups()["foot_contacts"]
    for multiplier in (0.1, 1.0, 10.0):
        threshold = multiplier * FOOT_CONTACT_THRESHOLD
        expected = joints_to_features(joints, feet_threshold=threshold)[:, contacts].mean(axis=0)  # (4,)
        got = np.asarray(planted_share(multiplier), dtype=np.float64)
        assert got.shape == (4,), f"expected 4 shares (l_ankle, l_toe, r_ankle, r_toe), got shape {got.shape}."
        assert np.allclose(got, expected, atol=1e-6), (
            f"at {multiplier} x the threshold the shares are off; pass feet_threshold={multiplier} * "
            "FOOT_CONTACT_THRESHOLD (the threshold bounds the squared step: scale it, not its root) and "
            "average dims 259:263 over frames.")
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

def check_exercise_2_1(reconstruct_clip: Callable, tokenizer, motions: list) -> None:
    """Exercise 2.1: a clip of any length through the tokenizer and back, by hand.

    Args:
        reconstruct_clip: the learner's ``(tokenizer, motion) -> (T, D)`` raw features.
        tokenizer: a ``MotionTokenizer`` (its ``vq`` and ``normalizer`` are the learner's parts).
        motions: raw (T, D) clips; lengths that are not a multiple of 4 are included.
    """
    import torch

    for motion in motions:
        motion = torch.as_tensor(np.asarray(motion), dtype=torch.float32)
        expected = tokenizer.reconstruct(motion)  # (T, D)
        got = torch.as_tensor(np.asarray(reconstruct_clip(tokenizer, motion.clone())), dtype=torch.float32)
        assert got.shape == expected.shape, (
            f"a {len(motion)}-frame clip came back with shape {tuple(got.shape)}, expected {tuple(expected.shape)}; "
            "pad to whole tokens, decode, then crop back to the clip's T frames.")
        error = float((got - expected).abs().max())
        assert error < 1e-4, (
            f"a {len(motion)}-frame clip differs by up to {error:.3g}; normalise first, pad by repeating the "
            "last (normalised) frame up to a multiple of tokenizer.down_rate (not with zeros, not by cropping), "
            "vq.encode -> vq.decode, crop, then denormalise.")
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


def check_exercise_3_3(train_by_hand: Callable, prediction: str, preset, cfg, windows, data_dir,
                       device="cpu") -> list:
    """Exercise 3.3: the VQ-VAE training loop by hand, step for step against ``train_vq``.

    The learner's ``train_by_hand(cfg, windows, seed, device)`` returns one dict per step with "loss",
    "recon", "velocity" and "commit". It must give the losses of ``train_vq(preset, cfg=cfg)``, and with
    ``reset_threshold=0`` those of ``train_vq`` with the quantizer the learner ``prediction`` names.

    Args:
        cfg: a short run (``log_every=1``), EMA + reset under the reference's codebook rule.
        windows: the ``MotionWindowDataset`` ``train_vq`` builds from ``data_dir`` (same clips, same seed).
    Returns:
        the largest absolute difference of any logged loss, over both runs.
    """
    from dataclasses import replace

    import torch

    from motiongpt_lite.vq.train import train_vq

    exercise_cfg = (cfg.quantizer, cfg.codebook_rule, cfg.train.log_every, cfg.train.mixed_precision)
    assert exercise_cfg == ("ema_reset", "reference", 1, "no"), (
        "pass the exercise's loop_cfg (EMA + reset, the reference's rule, log_every=1, float32).")
    names = ("loss", "recon", "velocity", "commit")
    # The same operations agree to the last bit on a CPU; a GPU's convolutions may round differently from run to run.
    on_cpu = torch.device(device).type == "cpu"
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if on_cpu else {"rtol": 1e-3, "atol": 1e-5}
    worst = 0.0

    def compare(mine, package, what):
        nonlocal worst
        assert len(mine) == len(package), f"{what}: {len(mine)} logged steps, expected {len(package)} (cfg.train.steps)."
        for name in names:
            ours = torch.tensor([float(row[name]) for row in mine], dtype=torch.float64)
            theirs = torch.tensor([row[name] for row in package], dtype=torch.float64)
            bad = ~torch.isclose(ours, theirs, **tolerance)
            if bad.any():
                step = int(bad.nonzero()[0]) + 1
                raise AssertionError(
                    f"{what}: the {name} loss first differs at step {step} ({float(ours[step - 1]):.6f} against "
                    f"{float(theirs[step - 1]):.6f}). Step 1 wrong: seeding (seed, build the model, seed again), "
                    "the first batch's codebook, or the loss weights. A later step: the optimiser (AdamW, betas "
                    "(0.9, 0.99), the schedule, gradient clipping), the EMA update, the reset of dead codes, "
                    "or looking the codes up before the update instead of after it.")
            worst = max(worst, float((ours - theirs).abs().max()))

    mine = train_by_hand(cfg, windows, preset.seed, device)
    compare(mine, train_vq(preset, cfg=cfg, data_dir=data_dir, save=False, progress=False).history, "your loop")
    knob = replace(cfg, reset_threshold=0.0)
    mine = train_by_hand(knob, windows, preset.seed, device)
    prediction = str(prediction).strip().lower()
    assert prediction in ("plain", "ema", "ema_reset"), f"prediction {prediction!r}: name plain, ema or ema_reset."
    twin = train_vq(preset, cfg=replace(cfg, quantizer=prediction), data_dir=data_dir, save=False, progress=False)
    try:
        compare(mine, twin.history, f"your loop with reset_threshold=0 against train_vq with quantizer={prediction!r}")
    except AssertionError as error:
        raise AssertionError(f"{error} (If your loop matched at the preset's threshold, the prediction is what to "
                             "change: can a running count ever be below 0?)") from None
    _correct("3.3")
    return worst
