"""A toy dataset folder in the HumanML3D layout, shared by the tokenizer tests."""
from pathlib import Path

import numpy as np

from motiongpt_lite.data.normalization import compute_mean_std


def write_random_walk_dataset(root: Path, mirrored: int = 0, seed: int = 0) -> Path:
    """16 random-walk clips of 41-89 frames (and ``M`` twins of the first ``mirrored``), splits 12/2/2, Mean/Std."""
    rng = np.random.default_rng(seed)
    for sub in ("new_joint_vecs", "texts"):
        (root / sub).mkdir()
    ids = [f"{i:06d}" for i in range(16)]
    clips = {}
    for clip_id in ids + [f"M{i}" for i in ids[:mirrored]]:
        clips[clip_id] = np.cumsum(rng.normal(0, 0.1, (int(rng.integers(41, 90)), 263)), 0).astype(np.float32)
        np.save(root / "new_joint_vecs" / f"{clip_id}.npy", clips[clip_id])
        (root / "texts" / f"{clip_id}.txt").write_text("a person moves.#a/DET person/NOUN move/VERB#0.0#0.0\n")
    (root / "train.txt").write_text("\n".join(ids[:12]) + "\n")
    (root / "val.txt").write_text("\n".join(ids[12:14]) + "\n")
    (root / "test.txt").write_text("\n".join(ids[14:]) + "\n")
    mean, std = compute_mean_std(list(clips.values()))
    np.save(root / "Mean.npy", mean)
    np.save(root / "Std.npy", std)
    return root
