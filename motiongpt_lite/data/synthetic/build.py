"""Writing the embedded dataset in the HumanML3D layout (introduced in notebook 00).

``build_embedded_dataset(out_dir)`` generates ``num_motions`` motions (the preset's count by
default) and their mirror images, and writes::

    new_joints/<id>.npy       (T, 22, 3) float32   features_to_joints(new_joint_vecs), as HumanML3D
    new_joint_vecs/<id>.npy   (T, 263) float32     joints_to_features(raw joints)
    texts/<id>.txt            three lines caption#lemma/POS ...#0.0#0.0
    labels/<id>.json          structured labels: one segment per action (action, side, direction,
                              count, speed, degrees, target, start, end), id, mirror_of
    train.txt val.txt test.txt all.txt    ids, one per line; a motion and its M copy share a split
    splits.json               the held-out parameter combinations and the split sizes
    Mean.npy Std.npy          statistics of the train split (compute_mean_std, the reference way)
    build_info.json           generator version, num_motions, seed: a finished build with the same
                              ones is reused instead of rebuilt

Motion ``i`` depends only on ``(seed, i)``, so the files are byte-identical whatever the number
of worker processes. The folder is built under a temporary name next to ``out_dir`` and renamed
when complete, so an interrupted build never looks finished.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

from motiongpt_lite.config import get_preset
from motiongpt_lite.data.features import features_to_joints, joints_to_features
from motiongpt_lite.data.normalization import compute_mean_std
from motiongpt_lite.data.synthetic.actions import generate_motion, mirror_labels, sample_spec
from motiongpt_lite.data.synthetic.body import mirror_joints
from motiongpt_lite.data.synthetic.captions import caption_line, describe, mirror_caption

__all__ = ["build_embedded_dataset", "generate_clip", "clip_rng", "held_out", "GENERATOR_VERSION", "HELD_OUT"]

GENERATOR_VERSION = "2"  # bump when a change alters generated files, so old builds are not reused (2: no NaN half turns)
# Parameter combinations that never appear in train or val: a test of generalisation to new
# combinations of known words. Closed under mirroring (a combination's mirror image is listed too).
HELD_OUT = (
    {"action": "walk", "direction": "backward", "speed": "fast"},
    {"action": "jump", "direction": "forward", "count": 3},
    {"action": "wave", "side": "both", "count": 2},
    {"action": "raise_arms", "side": "left", "target": "forward"},
    {"action": "raise_arms", "side": "right", "target": "forward"},
    {"action": "punch", "count": 3},
)
VAL_FRACTION, TEST_FRACTION = 0.05, 0.10  # motions drawn at random into val and test (besides the held-out ones)
_FOLDERS = ("new_joints", "new_joint_vecs", "texts", "labels")


def clip_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of motion ``index`` in a dataset built with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, 0, index]))


def generate_clip(seed: int, index: int) -> tuple[np.ndarray, dict, list[str]]:
    """Motion ``index`` of the dataset built with ``seed``, before feature extraction.

    Returns:
        ``(joints, labels, captions)``: raw joints (T + 1, 22, 3) float64, labels as
        ``generate_motion`` returns them, and three captions.
    """
    rng = clip_rng(seed, index)
    joints, labels = generate_motion(sample_spec(rng), rng)
    return joints, labels, describe(labels, rng)


def held_out(labels: dict) -> bool:
    """Whether any segment of a motion matches a held-out combination of :data:`HELD_OUT`."""
    return any(all(segment.get(key) == value for key, value in combo.items())
               for combo in HELD_OUT for segment in labels["segments"])


def _write_clip(root: Path, clip_id: str, joints: np.ndarray, labels: dict, captions: list[str]) -> None:
    """Features, reconstructed joints, captions and labels of one clip."""
    features = joints_to_features(joints).astype(np.float32)  # (T, 263)
    np.save(root / "new_joint_vecs" / f"{clip_id}.npy", features)
    np.save(root / "new_joints" / f"{clip_id}.npy", features_to_joints(features.astype(np.float64)).astype(np.float32))
    (root / "texts" / f"{clip_id}.txt").write_text("".join(caption_line(c) + "\n" for c in captions), encoding="utf-8")
    (root / "labels" / f"{clip_id}.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _build_chunk(root: Path, seed: int, indices: list[int], width: int) -> list[dict]:
    """Generate and write motions ``indices`` and their mirror images; returns their labels."""
    done = []
    for index in indices:
        joints, labels, captions = generate_clip(seed, index)
        clip_id = f"{index:0{width}d}"
        labels = {"id": clip_id, "mirror_of": None, **labels}
        _write_clip(root, clip_id, joints, labels, captions)
        mirrored = {**mirror_labels(labels), "id": f"M{clip_id}", "mirror_of": clip_id}
        _write_clip(root, f"M{clip_id}", mirror_joints(joints), mirrored, [mirror_caption(c) for c in captions])
        done.append(labels)
    return done


def _available_cores() -> int:
    """CPU cores this process may use (its affinity where the OS tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _init_worker() -> None:
    torch.set_num_threads(1)  # one process per core; small tensors gain nothing from threads


def _generate_all(root: Path, seed: int, num_motions: int, workers: int) -> list[dict]:
    """Labels of every motion, in index order, after writing all clips into ``root``."""
    width = max(6, len(str(num_motions - 1)))
    size = max(1, min(25, -(-num_motions // (4 * workers))))
    chunks = [list(range(start, min(start + size, num_motions))) for start in range(0, num_motions, size)]
    if workers == 1:
        threads = torch.get_num_threads()
        _init_worker()
        try:
            return [labels for chunk in chunks for labels in _build_chunk(root, seed, chunk, width)]
        finally:
            torch.set_num_threads(threads)
    # Linux forks (instant, as torch's DataLoader does); elsewhere workers start fresh and import the package.
    context = get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        results = pool.map(_build_chunk, [root] * len(chunks), [seed] * len(chunks), chunks, [width] * len(chunks))
        return [labels for chunk in results for labels in chunk]


def _write_splits(root: Path, seed: int, labels: list[dict]) -> dict[str, int]:
    """train/val/test/all lists, splits.json and the train statistics; returns the split sizes."""
    draw = np.random.default_rng(np.random.SeedSequence([seed, 1])).random(len(labels))  # one number per motion
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for label, u in zip(labels, draw):
        name = "test" if held_out(label) or u < TEST_FRACTION else "val" if u < TEST_FRACTION + VAL_FRACTION else "train"
        splits[name] += [label["id"], f"M{label['id']}"]
    for name, ids in [*splits.items(), ("all", [i for label in labels for i in (label["id"], f"M{label['id']}")])]:
        (root / f"{name}.txt").write_text("".join(f"{i}\n" for i in sorted(ids)), encoding="utf-8")
    counts = {name: len(ids) for name, ids in splits.items()}
    info = {"held_out_combinations": list(HELD_OUT), "held_out_clips": 2 * sum(held_out(label) for label in labels),
            "random_fractions": {"val": VAL_FRACTION, "test": TEST_FRACTION}, "counts": counts}
    (root / "splits.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if not splits["train"]:
        raise ValueError("the train split came out empty; build more motions (num_motions of at least 20).")
    frames = np.concatenate([np.load(root / "new_joint_vecs" / f"{i}.npy") for i in sorted(splits["train"])])  # (N, 263) float32
    mean, std = compute_mean_std(frames)  # one stacked array: the same numbers as a list of clips, half the memory
    np.save(root / "Mean.npy", mean)
    np.save(root / "Std.npy", std)
    return counts


def _summary(root: Path, info: dict, seconds: float, skipped: bool) -> dict:
    splits = json.loads((root / "splits.json").read_text(encoding="utf-8"))
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    return {"out_dir": str(root), "num_motions": info["num_motions"], "num_clips": 2 * info["num_motions"], "seed": info["seed"],
            "generator_version": info["generator_version"], **splits["counts"], "held_out_clips": splits["held_out_clips"],
            "size_mb": round(size / 2**20, 1), "seconds": round(seconds, 1), "skipped": skipped}


def build_embedded_dataset(out_dir: str | os.PathLike, num_motions: int | None = None, preset: str | None = None,
                           seed: int | None = None, workers: int | None = None, overwrite: bool = False) -> dict:
    """Generate the embedded motion-language dataset into ``out_dir`` (HumanML3D layout).

    Args:
        out_dir: target folder; created, or replaced when ``overwrite``.
        num_motions: motions to generate before mirroring (the folder holds twice as many clips);
            default ``get_preset(preset).data.num_motions``.
        preset: preset name for the defaults (``tiny``: 160 motions, ``small``: 2000); default
            ``$MOTIONGPT_LITE_PRESET`` or ``small``.
        seed: default the preset's seed. The same seed and count give byte-identical files.
        workers: processes generating in parallel; default the number of CPU cores available.
        overwrite: rebuild even if ``out_dir`` already holds a finished build or other files.
    Returns:
        A flat summary: out_dir, num_motions, num_clips, seed, generator_version, train/val/test
        clip counts, held_out_clips, size_mb, seconds, skipped (True when an existing build was reused).
    Raises:
        ValueError: a non-positive count, a negative seed, or ``out_dir`` holding something else.
    """
    config = get_preset(preset)
    num_motions = config.data.num_motions if num_motions is None else num_motions
    seed = config.seed if seed is None else seed
    workers = _available_cores() if workers is None else workers
    if not isinstance(num_motions, int) or num_motions < 1:
        raise ValueError(f"num_motions must be a positive integer, got {num_motions!r}.")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}.")
    out_dir = Path(out_dir)
    info = {"generator_version": GENERATOR_VERSION, "num_motions": num_motions, "seed": seed, "format": "humanml3d", "fps": 20.0}
    info_path = out_dir / "build_info.json"
    if out_dir.is_file():
        raise ValueError(f"{out_dir} is a file; give a folder for the dataset.")
    if info_path.exists() and not overwrite:
        existing = json.loads(info_path.read_text(encoding="utf-8"))
        if existing == info:
            return _summary(out_dir, info, 0.0, skipped=True)
        if existing.get("generator_version") != GENERATOR_VERSION:
            raise ValueError(f"{out_dir} was built by generator version {existing.get('generator_version')} and this "
                             f"is version {GENERATOR_VERSION}; rebuild it with `motiongpt-lite data build --overwrite` "
                             "(and retrain what was trained on it).")
        raise ValueError(f"{out_dir} holds another build ({existing}); pass overwrite=True (--overwrite) or choose another folder.")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ValueError(f"{out_dir} is not empty and holds no finished build; pass overwrite=True (--overwrite) or choose another folder.")

    start = time.perf_counter()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.building"
    shutil.rmtree(staging, ignore_errors=True)  # a previous, interrupted build
    for folder in _FOLDERS:
        (staging / folder).mkdir(parents=True)
    try:
        labels = _generate_all(staging, seed, num_motions, workers)
        _write_splits(staging, seed, labels)
        (staging / "build_info.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
        staging.rename(out_dir)
        shutil.rmtree(old)
    else:
        staging.rename(out_dir)
    return _summary(out_dir, info, time.perf_counter() - start, skipped=False)
