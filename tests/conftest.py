"""Shared fixtures: where the reference data lives, and an offline, headless environment."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
REFERENCE = SHARED_DATA / "humanml3d_reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The official HumanML3D reference clips (../shared/data); tests using it skip when absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference clips not found at {REFERENCE}; fetch them with `bash data_download.sh sample` "
                    "and point ../shared/data at them")
    return REFERENCE


@pytest.fixture(scope="session")
def reference_clip(reference_dir):
    """Load (joints, features) of a reference clip id, features cast to float32 as loaders must."""
    def load(clip_id: str) -> tuple[np.ndarray, np.ndarray]:
        joints = np.load(reference_dir / "new_joints" / f"{clip_id}.npy")
        features = np.load(reference_dir / "new_joint_vecs" / f"{clip_id}.npy")
        return joints, features
    return load


@pytest.fixture
def lock_holder():
    """``hold(folder)`` starts another process that holds ``folder``'s run-folder lock and returns it (its
    ``pid`` is what a refusal must name); every holder is killed at teardown."""
    import subprocess
    import sys

    holders = []

    def hold(folder: Path) -> subprocess.Popen:
        holder = subprocess.Popen([sys.executable, "-c", (
            "import time; from motiongpt_lite.runtime import run_folder_lock\n"
            f"with run_folder_lock({str(folder)!r}):\n    print('locked', flush=True); time.sleep(60)")],
            stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline().strip() == "locked"
        return holder

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait()
