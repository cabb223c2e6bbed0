"""Seeds, devices and the environment report every notebook's setup cell prints (notebook 00)."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import random

import numpy as np
import torch

__all__ = ["seed_everything", "pick_device", "versions", "hub_offline"]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices) so that a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


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
