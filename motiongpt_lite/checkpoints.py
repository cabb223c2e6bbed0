"""Checkpoints in one safetensors file: what every stage writes to resume, and how weights are read back.

:func:`save_checkpoint` stores the model, optimizer, scheduler, random-number states, step and any JSON-able
extra (config, history) in one file, written to a temporary name and moved into place with ``os.replace``,
so an interrupted write never leaves a broken checkpoint; :func:`load_checkpoint` restores all of it and
:func:`load_model_weights` only the weights. Nothing here is unpickled: tensors and JSON only. The training
loop that writes them is :func:`motiongpt_lite.training.fit`.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from motiongpt_lite.runtime import follow_umask

__all__ = ["CHECKPOINT_FORMAT", "save_checkpoint", "load_checkpoint", "load_model_weights", "weights_sha256"]

CHECKPOINT_FORMAT = "motiongpt_lite-checkpoint-1"


def _rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and JSON-able parts of the Python, numpy and torch random states."""
    np_state = np.random.get_state()
    tensors = {"rng.torch": torch.get_rng_state(), "rng.numpy": torch.from_numpy(np_state[1].astype(np.int64))}
    if torch.cuda.is_available():
        tensors.update({f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    py_version, py_state, py_gauss = random.getstate()
    return tensors, {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
                     "python": [py_version, list(py_state), py_gauss]}


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    name, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((name, tensors["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, state, gauss_next = meta["python"]
    random.setstate((version, tuple(state), gauss_next))
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _model_tensors(model: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The state dict on the CPU, with tensors that share memory (tied weights) stored once."""
    tensors, aliases, seen = {}, {}, {}
    for name, value in model.state_dict().items():
        key = (value.data_ptr(), tuple(value.shape), value.dtype)
        if value.numel() and key in seen:
            aliases[name] = seen[key]
            continue
        seen[key] = name
        tensors[f"model.{name}"] = value.detach().cpu().contiguous()
    return tensors, aliases


def weights_sha256(model: nn.Module, *arrays: np.ndarray) -> str:
    """A fingerprint of a model's weights (its state dict, names and values) and of any extra arrays, e.g.
    the normalisation statistics of a motion tokenizer: equal exactly when the numbers are equal, however
    the weights were saved (a training checkpoint and a ``save_pretrained`` copy agree)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{value.dtype}:{tuple(value.shape)}".encode())
        digest.update(value.view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"array:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: Any = None, step: int = 0, extra: dict[str, Any] | None = None) -> Path:
    """Write everything needed to resume into one safetensors file, atomically.

    Args:
        path: target file, e.g. ``checkpoints/small/vq/checkpoint.safetensors``.
        model: the bare (unwrapped) model.
        optimizer, scheduler: their state dicts are stored when given.
        step: optimizer steps done.
        extra: JSON-able information (config, history) stored in the file's metadata.
    Returns:
        the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors, aliases = _model_tensors(model)
    meta: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "step": step, "aliases": aliases, "extra": extra or {}}
    if optimizer is not None:
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for pid, pstate in state["state"].items():
            for key, value in pstate.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{pid}.{key}"] = value.detach().cpu().contiguous()
                else:
                    scalars.setdefault(str(pid), {})[key] = value
        meta["optimizer"] = {"param_groups": state["param_groups"], "scalars": scalars}
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    rng_tensors, meta["rng"] = _rng_state()
    tensors.update(rng_tensors)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"json": json.dumps(meta)})
    follow_umask(tmp)  # safetensors writes 0600
    os.replace(tmp, path)
    return path


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}; train first (e.g. `motiongpt-lite train-vq`) or fix the path.")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {}).get("json", "{}"))
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a motiongpt_lite checkpoint; point at a file written by save_checkpoint.")
        return {k: f.get_tensor(k) for k in f.keys()}, meta


def load_model_weights(path: str | Path, model: nn.Module) -> dict[str, Any]:
    """Load only the model weights of a checkpoint into ``model``; returns the stored ``extra`` metadata."""
    tensors, meta = _read(Path(path))
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    state.update({name: state[source] for name, source in meta["aliases"].items()})
    model.load_state_dict(state)
    return meta["extra"]


def load_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    scheduler: Any = None, restore_rng: bool = True) -> tuple[int, dict[str, Any]]:
    """Restore a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the safetensors file.
        model: bare model to load the weights into.
        optimizer, scheduler: restored when given.
        restore_rng: also restore the Python, numpy and torch random states.
    Returns:
        ``(step, extra)``.
    """
    tensors, meta = _read(Path(path))
    load_model_weights(path, model)
    if optimizer is not None:
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, pid, name = key.split(".", 2)
                state.setdefault(int(pid), {})[name] = value
        for pid, scalars in meta["optimizer"]["scalars"].items():
            state.setdefault(int(pid), {}).update(scalars)
        optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
    if scheduler is not None:
        scheduler.load_state_dict(meta["scheduler"])
    if restore_rng:
        _set_rng_state(tensors, meta["rng"])
    return int(meta["step"]), meta["extra"]
