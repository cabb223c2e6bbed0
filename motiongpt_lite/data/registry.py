"""Which dataset a folder holds, and what follows from it: one home for dataset identity (notebook 01).

Every stage asks this module instead of guessing from a folder's name::

    from motiongpt_lite.data.registry import dataset_dir, spec_of
    folder = dataset_dir(preset)       # the preset's dataset, the embedded set built when missing
    spec = spec_of(folder)             # DatasetSpec: name, skeleton, feature dim, fps, minimum length
    spec.name, spec.feature_dim, spec.fps   # e.g. "kit", 251, 12.5

A folder is recognised by its contents, not its name: the embedded set carries the ``build_info.json`` its
builder writes, and the width of ``Mean.npy`` tells HumanML3D's 263 features from KIT-ML's 251.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motiongpt_lite.config import Preset, data_root, embedded_dir
from motiongpt_lite.data.skeleton import HUMANML3D, KIT, Skeleton

__all__ = ["DatasetSpec", "DATASETS", "dataset_spec", "spec_of", "dataset_dir", "preset_spec"]


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is: its skeleton (joints, features, frame rate) and its reference rules.

    Attributes:
        name: "embedded", "humanml3d" or "kit".
        skeleton: the joints and feature layout (:mod:`motiongpt_lite.data.skeleton`).
        min_frames: the reference loader's shortest motion (HumanML3D 40, KIT-ML 24).
        provide: the command that creates the folder (``{root}`` is filled in).
    """

    name: str
    skeleton: Skeleton
    min_frames: int
    provide: str

    @property
    def feature_dim(self) -> int:
        """D, features per frame (263 or 251)."""
        return self.skeleton.feature_dim

    @property
    def fps(self) -> float:
        """Frames per second (20, KIT-ML 12.5)."""
        return self.skeleton.fps


DATASETS: dict[str, DatasetSpec] = {
    "embedded": DatasetSpec("embedded", HUMANML3D, 40, "motiongpt-lite data build --out {root}"),
    "humanml3d": DatasetSpec("humanml3d", HUMANML3D, 40, "bash data_download.sh humanml3d"),
    "kit": DatasetSpec("kit", KIT, 24, "bash data_download.sh kit"),
}


def dataset_spec(dataset: str | Skeleton | DatasetSpec) -> DatasetSpec:
    """The spec of a dataset named ``"embedded"``, ``"humanml3d"`` or ``"kit"`` (or of a skeleton's layout).

    Raises:
        ValueError: an unknown name; the message lists the known ones.
    """
    if isinstance(dataset, DatasetSpec):
        return dataset
    if isinstance(dataset, Skeleton):
        return DATASETS["kit" if dataset.name == "kit" else "humanml3d"]
    if not isinstance(dataset, str) or dataset.lower() not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)} or pass a Skeleton.")
    return DATASETS[dataset.lower()]


def spec_of(folder: str | Path) -> DatasetSpec:
    """The spec of the dataset in ``folder`` (HumanML3D layout), from what the folder holds.

    Raises:
        FileNotFoundError: no ``Mean.npy`` (not a dataset folder, or an unfinished one).
        ValueError: ``Mean.npy`` of a width no known dataset has.
    """
    folder = Path(folder)
    if (folder / "build_info.json").exists():
        return DATASETS["embedded"]
    mean = folder / "Mean.npy"
    if not mean.exists():
        raise FileNotFoundError(f"{mean} does not exist; {folder} is not a finished dataset folder (create it with "
                                "`motiongpt-lite data build` or `bash data_download.sh humanml3d|kit`).")
    width = np.load(mean, mmap_mode="r", allow_pickle=False).shape
    for spec in (DATASETS["humanml3d"], DATASETS["kit"]):
        if width == (spec.feature_dim,):
            return spec
    raise ValueError(f"{mean} has shape {width}: neither HumanML3D (263 features) nor KIT-ML (251); "
                     "point the preset at a dataset folder in the HumanML3D layout.")


def _downloaded(preset: Preset) -> Path | None:
    """``<data root>/<dataset>`` when the preset names a downloaded dataset and it is there, else None."""
    folder = data_root() / preset.data.dataset
    return folder if preset.data.dataset != "embedded" and (folder / "Mean.npy").exists() else None


def preset_spec(preset: Preset) -> DatasetSpec:
    """The spec of the dataset :func:`dataset_dir` gives the preset, without building anything: the one the
    preset names when its folder is there, else the embedded set's."""
    return dataset_spec(preset.data.dataset) if _downloaded(preset) else DATASETS["embedded"]


def dataset_dir(preset: Preset) -> Path:
    """The dataset the preset trains on: ``<data root>/<dataset>`` when present, else the embedded set.

    The embedded set is generated on the spot when missing (a few seconds to a minute).
    """
    folder = _downloaded(preset)
    if folder:
        return folder
    if preset.data.dataset != "embedded":
        print(f"[data] {data_root() / preset.data.dataset} not found; using the embedded dataset instead "
              "(see `bash data_download.sh`).")
    from motiongpt_lite.data.synthetic import build_embedded_dataset

    folder = embedded_dir(preset)
    # returns at once for a finished build of this generator
    build_embedded_dataset(folder, num_motions=preset.data.num_motions, seed=preset.seed)
    return folder
