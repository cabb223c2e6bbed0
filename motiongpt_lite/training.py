"""Shared training machinery for every stage: the VQ-VAE (notebook 02) and the language model (05-06).

One loop (:func:`fit`) through Hugging Face ``accelerate``, so the same code runs on a CPU, one GPU,
or several processes started with ``accelerate launch`` / ``torchrun``:

- AdamW with a linear warm-up, then cosine or linear decay (:func:`make_optimizer`, :func:`make_scheduler`);
- gradient clipping, optional mixed precision, a tqdm progress bar;
- a seeded, resumable batch order (:func:`batch_stream`): the batches of step ``s`` depend only on
  ``(seed, s)``, so a resumed run sees exactly the batches the uninterrupted run would have seen;
- atomic checkpoints in one safetensors file (:mod:`motiongpt_lite.checkpoints`): model, optimizer,
  scheduler, random-number states, step and history, so a stopped run resumes exactly.
"""
from __future__ import annotations

import math
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import send_to_device
from torch import nn
from torch.utils.data import default_collate
from tqdm.auto import tqdm

from motiongpt_lite.checkpoints import load_checkpoint, save_checkpoint
from motiongpt_lite.config import TrainConfig
from motiongpt_lite.runtime import pick_device, run_folder_lock, seed_everything

__all__ = ["make_accelerator", "make_optimizer", "make_scheduler", "batch_stream", "fit", "StepFn"]

StepFn = Callable[[nn.Module, Any], "tuple[torch.Tensor, dict[str, Any]]"]


def resolve_precision(mixed_precision: str, device: torch.device) -> str:
    """accelerate's precision for ``TrainConfig.mixed_precision`` on ``device``: "auto" is bf16 on a CUDA GPU that
    supports it (A100, H100, ...), fp16 with loss scaling on one that does not (T4, V100), float32 ("no") elsewhere."""
    if mixed_precision != "auto":
        return mixed_precision
    if device.type != "cuda":
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def make_accelerator(mixed_precision: str = "no", device: str = "auto") -> Accelerator:
    """An ``Accelerator`` on the preset's device.

    When that device is the CPU (asked for, or "auto" on a machine without CUDA/MPS) we tell
    accelerate so explicitly: only then do processes started by ``accelerate launch`` or
    ``torchrun`` on CPUs join one gloo process group instead of each training alone.

    Args:
        mixed_precision: "no", "fp16", "bf16" or "auto" (:func:`resolve_precision`).
        device: the preset's device ("auto", "cpu", "cuda", "mps").
    """
    chosen = pick_device(device)
    return Accelerator(mixed_precision=resolve_precision(mixed_precision, chosen), cpu=chosen.type == "cpu")


def make_optimizer(model: nn.Module, lr: float, weight_decay: float = 0.0,
                   betas: tuple[float, float] = (0.9, 0.99)) -> torch.optim.AdamW:
    """AdamW over the trainable parameters of ``model``."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=betas)


def make_scheduler(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int, decay: str = "cosine",
                   min_lr_ratio: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning-rate factor: linear 0 -> 1 over ``warmup_steps``, then ``decay`` down to ``min_lr_ratio``.

    Args:
        decay: "cosine", "linear" or "constant" (stays at 1 after warm-up).
    """
    if decay not in ("cosine", "linear", "constant"):
        raise ValueError(f"unknown decay {decay!r}; choose cosine, linear or constant.")

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        shape = {"cosine": 0.5 * (1 + math.cos(math.pi * progress)), "linear": 1 - progress, "constant": 1.0}[decay]
        return min_lr_ratio + (1 - min_lr_ratio) * shape

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def batch_stream(dataset: Sequence, batch_size: int, seed: int, start_step: int = 0, num_processes: int = 1,
                 process_index: int = 0, collate_fn: Callable | None = None) -> Iterator[Any]:
    """Endless, seeded batches; the batch of step ``s`` depends only on ``(seed, s)``.

    Each epoch shuffles the indices with a generator seeded by ``(seed, epoch)`` and calls
    ``dataset.set_epoch(epoch)`` when the dataset has it (fresh random crops). A global batch
    holds ``batch_size * num_processes`` items; process ``p`` takes every ``num_processes``-th
    of them. The last incomplete batch of an epoch is dropped. Starting at ``start_step`` skips
    the earlier batches without loading them.

    Args:
        dataset: map-style dataset (``len`` and ``[i]``).
        batch_size: items per process and step.
        collate_fn: list of items -> batch; default torch's ``default_collate``.
    Yields:
        one collated batch per step.
    """
    global_batch = batch_size * num_processes
    per_epoch = len(dataset) // global_batch
    if per_epoch == 0:
        raise ValueError(f"the dataset has {len(dataset)} items, fewer than one batch of {global_batch}; "
                         "lower the batch size or use more data.")
    collate = collate_fn or default_collate
    epoch, offset = divmod(start_step, per_epoch)
    while True:
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        for b in range(offset, per_epoch):
            chunk = order[b * global_batch:(b + 1) * global_batch][process_index::num_processes]
            yield collate([dataset[int(i)] for i in chunk])
        epoch, offset = epoch + 1, 0


# -- the loop ---------------------------------------------------------------------------------
def _check_writable(checkpoint_path: Path, steps_left: int) -> None:
    """Refuse, before any step is trained, to train into a folder whose checkpoint could not be saved."""
    folder = checkpoint_path.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    target = checkpoint_path if checkpoint_path.exists() else existing
    if not os.access(target, os.W_OK) or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{folder} cannot be written and {steps_left} training steps are left; point "
                              "MOTIONGPT_LITE_CHECKPOINTS at a writable folder (or copy the checkpoints there) and run again.")


def fit(model: nn.Module, dataset: Sequence, step_fn: StepFn, train: TrainConfig, *, seed: int = 0,
        checkpoint_path: str | Path | None = None, resume: bool = True, stop_after: int | None = None,
        extra: dict[str, Any] | None = None, collate_fn: Callable | None = None,
        accelerator: Accelerator | None = None, progress: bool = True, desc: str = "train") -> list[dict[str, float]]:
    """Train ``model`` for ``train.steps`` optimizer steps, resuming from ``checkpoint_path`` when it exists.

    Args:
        model: bare model (wrapped by accelerate here); construct it after seeding for a repeatable init.
        dataset: map-style dataset; batches come from :func:`batch_stream`.
        step_fn: ``(prepared model, batch on device) -> (loss, logs)``; logs are scalars to record.
        train: the stage's training knobs: ``steps`` (the full run's, fixing the learning-rate schedule),
            ``batch_size`` (items per process and step), the optimiser and schedule (:func:`make_optimizer`,
            :func:`make_scheduler`), ``grad_clip`` (0: off), ``log_every`` (steps averaged into one history row)
            and ``checkpoint_every``.
        seed: seeds the run (and the batch order) when it starts fresh.
        checkpoint_path: safetensors file to write (every ``checkpoint_every`` steps and at the end) and resume from.
        resume: continue from ``checkpoint_path`` when it exists (its ``extra["config"]`` must equal ours).
        stop_after: stop (with a checkpoint) once this many steps are done, as if interrupted.
        extra: JSON-able metadata stored in every checkpoint (put the run's config under "config").
        accelerator: default :func:`make_accelerator` with ``train.mixed_precision``.
        progress: show a tqdm bar on the main process.
    Returns:
        history: one dict per ``log_every`` steps with "step", "lr", "loss", "elapsed_s" and the averaged logs.
    """
    if stop_after is not None and (isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1):
        raise ValueError(f"stop_after={stop_after!r} must be a whole number of steps of at least 1 (training stops "
                         "there with a checkpoint, as if interrupted); leave it None to train every step.")
    accelerator = accelerator or make_accelerator(train.mixed_precision)
    steps, log_every = train.steps, train.log_every
    checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
    with ExitStack() as held:
        if checkpoint_path is not None and accelerator.is_main_process:  # one process trains into a folder
            held.enter_context(run_folder_lock(checkpoint_path.parent))
        extra = dict(extra or {})
        optimizer = make_optimizer(model, train.lr, train.weight_decay)
        scheduler = make_scheduler(optimizer, train.warmup_steps, steps, train.decay, train.min_lr_ratio)
        start, history, window = 0, [], {}  # window: logs of the steps since the last history row
        if checkpoint_path and resume and checkpoint_path.exists():
            start, saved = load_checkpoint(checkpoint_path, model, optimizer, scheduler)
            if saved.get("config") != extra.get("config"):
                raise ValueError(f"{checkpoint_path} was trained with other settings; pass resume=False to start over "
                                 "or choose another checkpoint folder.")
            history, window = saved.get("history", []), saved.get("window", {})
        else:
            seed_everything(seed)
        prepared, optimizer = accelerator.prepare(model, optimizer)
        stream = batch_stream(dataset, train.batch_size, seed, start, accelerator.num_processes, accelerator.process_index,
                              collate_fn)
        end = min(steps, stop_after) if stop_after is not None else steps
        if checkpoint_path is not None and end > start:
            _check_writable(checkpoint_path, end - start)

        def checkpoint(step: int) -> None:
            if checkpoint_path is not None and accelerator.is_main_process:
                save_checkpoint(checkpoint_path, accelerator.unwrap_model(prepared), optimizer, scheduler, step,
                                {**extra, "history": history, "window": window})
            accelerator.wait_for_everyone()

        elapsed0, t0 = (history[-1]["elapsed_s"] if history else 0.0), time.perf_counter()
        prepared.train()
        bar = tqdm(total=end, initial=start, desc=desc, disable=not (progress and accelerator.is_main_process))
        for step in range(start + 1, end + 1):
            batch = send_to_device(next(stream), accelerator.device)
            loss, logs = step_fn(prepared, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {step}; lower the learning rate or check the data.")
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            if train.grad_clip > 0:
                accelerator.clip_grad_norm_(prepared.parameters(), train.grad_clip)
            optimizer.step()
            scheduler.step()
            for name, value in {"loss": loss, **logs}.items():
                window.setdefault(name, []).append(float(value.detach() if torch.is_tensor(value) else value))
            if step % log_every == 0 or step == steps:
                history.append({"step": step, "lr": scheduler.get_last_lr()[0],
                                "elapsed_s": elapsed0 + time.perf_counter() - t0,
                                **{name: float(np.mean(values)) for name, values in window.items()}})
                window = {}
                bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
            bar.update(1)
            if train.checkpoint_every and step % train.checkpoint_every == 0 and step != end:
                checkpoint(step)
        bar.close()
        if end > start:
            checkpoint(end)
        prepared.eval()
        return history
