"""Feature normalisation the HumanML3D way (introduced in notebook 01).

Every dataset folder carries ``Mean.npy`` and ``Std.npy`` (D,). The mean is per dimension; the
standard deviation is *averaged within each feature group* (root yaw velocity, root xz velocity,
root height, positions, rotations, velocities, foot contacts), so that, for example, all 63
position dimensions share one scale and relative sizes inside a group survive normalisation.
The official HumanML3D ``Std.npy`` has exactly this structure (tests/test_normalization.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from motiongpt_lite.data.features import feature_groups

__all__ = ["compute_mean_std", "Normalizer"]


def compute_mean_std(features: Sequence[np.ndarray] | np.ndarray, num_joints: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """Mean and group-averaged standard deviation over all frames of all clips.

    Args:
        features: clips of shape (T_i, D), or one array (N, D) of stacked frames.
        num_joints: J with D = 12J - 1.
    Returns:
        ``(mean, std)``, each (D,) float32.
    """
    frames = np.concatenate([np.asarray(f, dtype=np.float64) for f in features], axis=0) if not isinstance(features, np.ndarray) else features.astype(np.float64)
    if frames.ndim != 2 or frames.shape[1] != 12 * num_joints - 1:
        raise ValueError(f"expected frames of shape (N, {12 * num_joints - 1}), got {frames.shape}.")
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    for group in feature_groups(num_joints).values():
        std[group] = std[group].mean()
    return mean.astype(np.float32), std.astype(np.float32)


class Normalizer:
    """``(x - mean) / std`` and back, for numpy arrays and torch tensors of shape (..., D).

    Args:
        mean, std: (D,) arrays, e.g. from a dataset folder's ``Mean.npy`` / ``Std.npy``.
    """

    def __init__(self, mean: np.ndarray, std: np.ndarray):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(f"mean and std must both be (D,), got {self.mean.shape} and {self.std.shape}.")
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise ValueError("mean or std contains NaN or inf (every motion would become NaN); recompute them with "
                             "compute_mean_std over finite clips.")
        if (self.std <= 0).any():
            raise ValueError("std has zero or negative entries; recompute it with compute_mean_std.")

    @classmethod
    def from_folder(cls, root: str | Path) -> "Normalizer":
        """Load ``Mean.npy`` and ``Std.npy`` from a dataset folder."""
        root = Path(root)
        missing = [n for n in ("Mean.npy", "Std.npy") if not (root / n).exists()]
        if missing:
            raise FileNotFoundError(f"{root} has no {' or '.join(missing)}; build the dataset with "
                                    "`motiongpt-lite data build` or fetch it with `bash data_download.sh`.")
        stats = {name: np.load(root / name) for name in ("Mean.npy", "Std.npy")}
        for name, values in stats.items():  # checked on load: a NaN Std.npy would turn every motion into NaN
            if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
                raise ValueError(f"{root / name} contains NaN or inf, which would turn every motion into NaN; "
                                 "rebuild the statistics (motiongpt_lite.data.normalization.compute_mean_std over "
                                 "finite clips) or restore the file.")
        return cls(stats["Mean.npy"], stats["Std.npy"])

    def _stats(self, x):
        if isinstance(x, torch.Tensor):
            return torch.as_tensor(self.mean, device=x.device, dtype=x.dtype), torch.as_tensor(self.std, device=x.device, dtype=x.dtype)
        return self.mean, self.std

    def normalize(self, features):
        """(..., D) raw features -> (..., D) normalised, same kind as the input."""
        mean, std = self._stats(features)
        return (features - mean) / std

    def denormalize(self, normalized):
        """(..., D) normalised features -> (..., D) raw features, same kind as the input."""
        mean, std = self._stats(normalized)
        return normalized * std + mean

    def save(self, root: str | Path) -> None:
        """Write ``Mean.npy`` and ``Std.npy`` into ``root``."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        np.save(root / "Mean.npy", self.mean)
        np.save(root / "Std.npy", self.std)
