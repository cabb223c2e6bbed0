"""Seeds, devices, the environment report every notebook's setup cell prints, and the Colab set-up (notebook 00)."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

__all__ = ["seed_everything", "pick_device", "versions", "hub_offline", "colab_setup", "follow_umask", "LOCK_FILE", "RunFolderBusy",
           "run_folder_lock"]

LOCK_FILE = ".lock"  # in a run folder while a command trains or evaluates into it

DRIVE_MOUNT = "/content/drive"  # where Colab mounts Google Drive
DRIVE_FOLDER = "motiongpt_lite"  # our folder inside MyDrive: data/ and checkpoints/ survive the session


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices) so that a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def follow_umask(*paths: str | Path) -> None:
    """Give files the permissions a plain ``open()`` would: ``0o666`` minus the process umask.

    safetensors' ``save_file`` and ``tempfile.mkstemp`` create files ``0600``, so on a shared machine a
    teacher could not read a learner's checkpoints or GIFs; every writer of such files calls this. A
    folder's files are changed one level down (a saved model folder).
    """
    mask = os.umask(0)
    os.umask(mask)
    for path in map(Path, paths):
        for file in ([p for p in path.iterdir() if p.is_file()] if path.is_dir() else [path]):
            os.chmod(file, 0o666 & ~mask)


class RunFolderBusy(RuntimeError):
    """Another process holds a run folder's lock."""


_HELD_LOCKS: dict[Path, int] = {}  # run folders this process holds, and how many callers inside hold each


@contextmanager
def run_folder_lock(folder: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on a run folder (``<folder>/.lock``, which records the holder's pid) while the
    body runs, so that two processes never train into one folder. Re-entrant within a process (a command
    that holds its run folder may train into it). The operating system releases the lock when the process
    ends, even when it is killed. Where ``fcntl`` is missing (Windows) nothing is locked; a folder that
    cannot be written is not locked either (nothing can train into it, and what reads it needs no lock).

    Raises:
        RunFolderBusy: another process holds the lock; the message names its pid.
    """
    folder = Path(folder)
    key = folder.resolve()
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    if fcntl is None or key in _HELD_LOCKS:
        _HELD_LOCKS[key] = _HELD_LOCKS.get(key, 0) + 1
        try:
            yield folder
        finally:
            _HELD_LOCKS[key] -= 1
            if not _HELD_LOCKS[key]:
                del _HELD_LOCKS[key]
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_FILE, "a+")
    except PermissionError:  # a read-only folder (e.g. a teacher's shared checkpoints/)
        yield folder
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunFolderBusy(f"{folder} is in use by another motiongpt-lite process (pid {holder}); wait for it "
                                "to finish, or stop it, before training or evaluating into this folder.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _HELD_LOCKS[key] = 1
        try:
            yield folder
        finally:
            del _HELD_LOCKS[key]
    finally:
        handle.close()  # closing releases the lock


def pick_device(name: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; any other name is used as given."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def versions() -> dict[str, str]:
    """Python, platform and the versions of the libraries the tutorial relies on."""
    report = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for package in ("motiongpt_lite", "torch", "transformers", "accelerate", "numpy", "matplotlib", "plotly", "ipywidgets"):
        try:
            report[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            report[package] = "not installed"
    return report


def hub_offline() -> bool:
    """True when the Hugging Face hub must not be contacted (``HF_HUB_OFFLINE`` set to a true value)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _mount_google_drive(mount_point: str) -> None:
    """Mount Google Drive at ``mount_point`` with Colab's own helper (asks the learner for permission)."""
    try:
        from google.colab import drive
    except ImportError as error:
        raise RuntimeError("use_drive=True works only in Google Colab; elsewhere set MOTIONGPT_LITE_DATA and "
                           "MOTIONGPT_LITE_CHECKPOINTS to the folders you want instead.") from error
    drive.mount(mount_point)


def colab_setup(use_drive: bool = False, cuda_available: Callable[[], bool] | None = None,
                mount: Callable[[str], None] | None = None, mount_point: str = DRIVE_MOUNT) -> dict[str, str]:
    """Choose the preset and, if asked, keep data and checkpoints on Google Drive (every setup cell, in Colab).

    The preset becomes ``gpu`` when a CUDA GPU is present and ``small`` otherwise, unless
    ``MOTIONGPT_LITE_PRESET`` is already set. With ``use_drive`` we mount Google Drive and point
    ``MOTIONGPT_LITE_DATA`` and ``MOTIONGPT_LITE_CHECKPOINTS`` at ``MyDrive/motiongpt_lite/{data,checkpoints}``,
    so a new Colab session finds the dataset and the trained models again. Prints what it chose.

    Args:
        use_drive: mount Google Drive and keep the folders there.
        cuda_available: the GPU check (default ``torch.cuda.is_available``; tests pass their own).
        mount: mounts Drive at a path (default Colab's ``google.colab.drive.mount``; tests pass their own).
        mount_point: where Drive is mounted.
    Returns:
        The variables it read or set: ``MOTIONGPT_LITE_PRESET`` and, with Drive, the two folders.
    """
    from motiongpt_lite.config import PRESET_ENV

    gpu = (cuda_available or torch.cuda.is_available)()
    if os.environ.get(PRESET_ENV):
        reason = f"already set in {PRESET_ENV}"
    else:
        os.environ[PRESET_ENV] = "gpu" if gpu else "small"
        reason = "a CUDA GPU is present" if gpu else "no CUDA GPU; Runtime > Change runtime type adds one"
    chosen = {PRESET_ENV: os.environ[PRESET_ENV]}
    print(f"colab_setup: preset {chosen[PRESET_ENV]!r} ({reason})")
    if use_drive:
        (mount or _mount_google_drive)(mount_point)
        folder = Path(mount_point) / "MyDrive" / DRIVE_FOLDER
        for variable, name in (("MOTIONGPT_LITE_DATA", "data"), ("MOTIONGPT_LITE_CHECKPOINTS", "checkpoints")):
            (folder / name).mkdir(parents=True, exist_ok=True)
            os.environ[variable] = chosen[variable] = str(folder / name)
            print(f"colab_setup: {variable}={chosen[variable]} (on your Google Drive: kept between sessions)")
    else:
        print("colab_setup: data and checkpoints stay on this session's disk, lost when it ends "
              "(USE_DRIVE = True keeps them on Google Drive)")
    return chosen
