"""Speed and memory benchmarks on whatever device is present (``motiongpt-lite bench vq|lm|concurrency``).

**vq** (:func:`bench_vq`) times VQ-VAE training steps (forward, loss, backward, AdamW step) at the ``paper``
architecture (batch 32, 64-frame windows) and at the ``small`` preset (its own batch), then tokenizing
throughput (encode of whole clips, one at a time) in frames per second. Each setting runs in a fresh child
process so that its peak memory is its own: on CUDA the peak of allocated GPU memory, on the CPU the peak
resident set size of that process. Inputs are random features: speed does not depend on the data.

**lm** (:func:`bench_lm`, notebook 05's table): for each architecture (the ``tiny`` and ``small`` presets, and
flan-t5-base's, built from its config so that nothing is downloaded) we time

- **training**: AdamW steps on random batches shaped like pretraining (prompts of ``source_len``
  tokens, targets of a 196-frame motion: 49 codes + 2 markers + eos); throughput counts source and
  target tokens;
- **one caption**: greedy generation of 40 tokens from a prompt holding a 196-frame motion;
- **one motion**: constrained generation of a 196-frame motion (start marker, 49 codes, end marker, eos).

The merged vocabulary has the size the preset would have: its tokenizer's upper bound plus the
motion words (flan-t5: 32100 text tokens). Random weights: speed does not depend on them.

**concurrency** (:func:`bench_concurrency`) measures what a shared machine does to training: the ``small``
training step's rate in one process alone, then in each of several processes started together, for each
thread policy (see :mod:`motiongpt_lite.threads`).
"""
from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import re
import resource
import subprocess
import sys
import time

import torch

from motiongpt_lite.config import LMConfig, get_preset, with_training
from motiongpt_lite.lm.model import MotionSpanLogitsProcessor, build_t5
from motiongpt_lite.lm.vocab import MotionVocab
from motiongpt_lite.runtime import pick_device

__all__ = ["bench_vq_setting", "bench_vq", "bench_lm_setting", "bench_lm", "training_steps_per_second",
           "bench_concurrency", "estimate_training"]


# -- the motion tokenizer -------------------------------------------------------------------------
def bench_vq_setting(preset_name: str, batch_size: int | None, steps: int, clips: int, device: str) -> dict:
    """Time one VQ-VAE setting in the current process.

    Args:
        preset_name: whose ``vq`` architecture to use.
        batch_size: windows per step; default the preset's.
        steps: timed training steps (after one untimed warm-up step).
        clips: 196-frame clips encoded for the throughput.
        device: "auto", "cpu" or "cuda".
    Returns:
        dict with preset, batch, params_m, steps_per_s, windows_per_s, peak_mem_mb, encode_frames_per_s, device.
    """
    from motiongpt_lite.training import make_optimizer
    from motiongpt_lite.vq.losses import vq_loss
    from motiongpt_lite.vq.model import VQVAE
    from motiongpt_lite.vq.tokenize import encode

    preset = get_preset(preset_name)
    cfg = with_training(preset.vq, batch_size=batch_size or preset.vq.train.batch_size)
    dev = pick_device(device)
    torch.manual_seed(0)
    vq = VQVAE(cfg).to(dev).train()
    opt = make_optimizer(vq, cfg.train.lr)
    motion = torch.randn(cfg.train.batch_size, preset.data.window_frames, 263, device=dev)  # (B, 64, 263)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step():
        loss, _ = vq_loss(vq(motion), motion, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()  # warm-up (and codebook initialisation)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    train_s = time.perf_counter() - t0
    vq.eval()
    clip = torch.randn(196, 263)
    encode(vq, clip)  # warm-up
    sync()
    t0 = time.perf_counter()
    for _ in range(clips):
        encode(vq, clip)
    sync()
    encode_s = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports kB
    return {"preset": preset_name, "batch": cfg.train.batch_size, "params_m": sum(p.numel() for p in vq.parameters()) / 1e6,
            "steps_per_s": steps / train_s, "windows_per_s": steps * cfg.train.batch_size / train_s,
            "peak_mem_mb": peak, "encode_frames_per_s": clips * 196 / encode_s,
            "device": torch.cuda.get_device_name() if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"}


def bench_vq(steps_paper: int = 3, steps_small: int = 10, clips: int = 20, device: str = "auto") -> list[dict]:
    """Run the ``paper`` (batch 32) and ``small`` settings, each in its own child process, and print a table."""
    ctx = mp.get_context("spawn")
    settings = [("paper", 32, steps_paper), ("small", None, steps_small)]
    rows = []
    for name, batch, steps in settings:
        with ctx.Pool(1) as pool:
            rows.append(pool.apply(bench_vq_setting, (name, batch, steps, clips, device)))
    _print_table(f"VQ-VAE benchmark on {rows[0]['device']} (64-frame windows, random features)", rows,
                 [("setting", "preset", "<8"), ("batch", "batch", ">5"), ("params (M)", "params_m", ">10.2f"),
                  ("steps/s", "steps_per_s", ">8.2f"), ("windows/s", "windows_per_s", ">10.1f"),
                  ("peak MB", "peak_mem_mb", ">9.0f"), ("encode frames/s", "encode_frames_per_s", ">16.0f")])
    return rows


def _print_table(title: str, rows: list[dict], columns: list[tuple[str, str, str]]) -> None:
    """Print ``rows`` under ``title``: one column per (header, key, format spec), headers aligned like the values."""
    print(title)
    print(" ".join(f"{header:{re.match(r'[<>^]?[0-9]+', spec).group()}}" for header, _, spec in columns))
    for row in rows:
        print(" ".join(f"{row[key]:{spec}}" for _, key, spec in columns))


# -- the language model ---------------------------------------------------------------------------
FLAN_TEXT_VOCAB = 32100  # tokens of the flan-t5 tokenizer


def _setting(name: str) -> tuple[LMConfig, int, int]:
    """(architecture, text vocabulary size, codebook size) of a preset's language model, built from its config
    (a preset naming flan-t5 weights lists their architecture too, and has flan-t5's vocabulary)."""
    preset = get_preset(name)
    flan = preset.lm.model != "config"
    text_vocab = FLAN_TEXT_VOCAB if flan else preset.lm.text_vocab_size + preset.lm.extra_ids
    return dataclasses.replace(preset.lm, model="config"), text_vocab, preset.vq.num_codes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


CODES = 49  # a 196-frame motion at 4 frames per token


def _training_setup(name: str, batch_size: int | None, source_len: int, device: str):
    """A model of the setting, one random batch shaped like pretraining and a closure doing one AdamW step."""
    lm, text_vocab, num_codes = _setting(name)
    vocab = MotionVocab(num_codes, offset=text_vocab)
    dev = pick_device(device)
    model = build_t5(lm, vocab.end, seed=0).to(dev).train()
    batch_size = batch_size or lm.train.batch_size
    g = torch.Generator().manual_seed(0)
    source = torch.randint(3, text_vocab, (batch_size, source_len), generator=g).to(dev)
    target = torch.cat([torch.full((batch_size, 1), vocab.som_id),
                        torch.randint(vocab.offset, vocab.offset + num_codes, (batch_size, CODES), generator=g),
                        torch.full((batch_size, 1), vocab.eom_id), torch.ones(batch_size, 1, dtype=torch.long)], 1).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lm.train.lr)

    def step() -> None:
        loss = model(input_ids=source, labels=target).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return model, vocab, source, target, step


def bench_lm_setting(name: str, steps: int = 5, batch_size: int | None = None, source_len: int = 64,
                     repeats: int = 3, device: str = "auto") -> dict:
    """Time one setting in the current process.

    Args:
        name: "tiny", "small" or "base" (flan-t5-base's architecture).
        steps: timed training steps (after one untimed warm-up step).
        batch_size: examples per step; default the preset's.
        source_len: prompt tokens per example.
        repeats: timed generations of each kind (the median is reported).
        device: "auto", "cpu" or "cuda".
    Returns:
        dict with setting, params_m, vocab, batch, train_tokens_per_s, caption_ms, motion_ms, device.
    """
    model, vocab, source, target, step = _training_setup(name, batch_size, source_len, device)
    dev, codes = source.device, CODES
    step()
    _sync(dev)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(dev)
    train_s = (time.perf_counter() - start) / steps
    model.eval()
    motion_prompt = source[:1, :source_len - codes - 3]
    caption_prompt = torch.cat([motion_prompt, target[:1]], 1)  # text + a 196-frame motion + eos

    def timed(prompt: torch.Tensor, **kwargs) -> float:
        times = []
        for _ in range(repeats + 1):  # the first call warms up and is not counted
            _sync(dev)
            t0 = time.perf_counter()
            with torch.no_grad():
                model.generate(input_ids=prompt, do_sample=False, **kwargs)
            _sync(dev)
            times.append(time.perf_counter() - t0)
        return sorted(times[1:])[repeats // 2] * 1000

    caption_ms = timed(caption_prompt, max_new_tokens=40, min_new_tokens=40)
    processor = MotionSpanLogitsProcessor(vocab, motion_only=True, max_codes=codes, min_codes=codes)
    motion_ms = timed(motion_prompt, max_new_tokens=codes + 3, logits_processor=[processor])
    return {"setting": name, "params_m": sum(p.numel() for p in model.parameters()) / 1e6, "vocab": vocab.end,
            "batch": len(source), "train_tokens_per_s": len(source) * (source_len + target.shape[1]) / train_s,
            "caption_ms": caption_ms, "motion_ms": motion_ms,
            "device": torch.cuda.get_device_name() if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"}


def bench_lm(settings: tuple[str, ...] = ("tiny", "small", "base"), steps: int = 5, device: str = "auto",
             base_batch: int | None = 8) -> list[dict]:
    """Run the settings one after the other and print a table.

    Args:
        settings: names for :func:`bench_lm_setting`.
        steps: timed training steps per setting.
        device: "auto", "cpu" or "cuda".
        base_batch: batch of the base architecture (its preset's 32 is slow on a CPU); None: the preset's.
    Returns:
        the rows.
    """
    rows = [bench_lm_setting(name, steps, base_batch if name == "base" else None, device=device) for name in settings]
    _print_table(f"Language-model benchmark on {rows[0]['device']} (random weights; 64 prompt tokens, 196-frame motions)",
                 rows, [("setting", "setting", "<8"), ("params (M)", "params_m", ">10.2f"), ("vocab", "vocab", ">6"),
                        ("batch", "batch", ">5"), ("train tok/s", "train_tokens_per_s", ">12.0f"),
                        ("caption ms", "caption_ms", ">11.0f"), ("motion ms", "motion_ms", ">10.0f")])
    return rows


def training_steps_per_second(seconds: float = 20.0, name: str = "small") -> float:
    """Training steps per second of a setting on the CPU, timed for ``seconds`` after three warm-up steps."""
    *_, step = _training_setup(name, None, 64, "cpu")
    for _ in range(3):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps / (time.perf_counter() - start)


POLICIES = {  # name -> environment of the child processes
    "every core (torch's default)": {"MOTIONGPT_LITE_THREADS": ""},
    "MOTIONGPT_LITE_THREADS=1": {"MOTIONGPT_LITE_THREADS": "1"},
}


def _rates(processes: int, seconds: float, env: dict) -> list[float]:
    """Start ``processes`` children at once, each timing ``small`` training steps; their steps/s."""
    code = (f"import motiongpt_lite; from motiongpt_lite.tools.bench import training_steps_per_second as f; "
            f"print(f({seconds}))")
    child_env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"} | env  # the policy alone decides
    children = [subprocess.Popen([sys.executable, "-c", code], env=child_env, stdout=subprocess.PIPE, text=True)
                for _ in range(processes)]
    out = [child.communicate()[0] for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError("a benchmark process failed; run `motiongpt-lite bench lm` to see its error")
    return [float(text.strip().splitlines()[-1]) for text in out]


def bench_concurrency(processes: int = 2, seconds: float = 20.0) -> list[dict]:
    """How ``small`` training slows down when ``processes`` torch processes share the cores, per thread policy.

    Run it on an otherwise idle machine: every other busy process counts as one more learner.

    Returns:
        rows of policy, alone (steps/s), together (mean steps/s of each process) and kept (together / the
        default policy alone: the speed a learner keeps compared with having the machine to themselves).
    """
    rows = []
    for policy, env in POLICIES.items():
        alone = _rates(1, seconds, env)[0]
        together = sum(_rates(processes, seconds, env)) / processes
        rows.append({"policy": policy, "alone": alone, "together": together})
    for r in rows:
        r["kept"] = r["together"] / rows[0]["alone"]
    print(f"small training steps/s on {os.cpu_count()} cores: one process alone, then each of {processes} at once")
    print(f"{'policy':<40} {'alone':>7} {'together':>9} {'kept':>6}")
    for r in rows:
        print(f"{r['policy']:<40} {r['alone']:>7.2f} {r['together']:>9.2f} {r['kept']:>6.0%}")
    return rows


# -- time estimates for a GPU that is not here ------------------------------------------------------
T4_FP16_TFLOPS = 65.0  # NVIDIA T4 datasheet: peak fp16 tensor-core throughput (fp32: 8.1 TFLOPS)
ASSUMED_UTILISATION = 0.2  # share of that peak we assume these small models reach; replace by a measurement
PROMPT_TOKENS = 64  # a pretraining example's prompt; its target is a 196-frame motion with markers (CODES + 3)


def _counted(step) -> tuple[float, float]:
    """(FLOPs, CPU seconds) of one call of ``step``: FLOPs counted by torch's FlopCounterMode, seconds the median
    of three timed calls after a warm-up."""
    from torch.utils.flop_counter import FlopCounterMode

    step()
    with FlopCounterMode(display=False) as counter:
        step()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(counter.get_total_flops()), sorted(times)[1]


def _vq_step(cfg, window: int, motion_dim: int, batch: int):
    """A closure doing one VQ-VAE forward, loss and backward on a random batch."""
    from motiongpt_lite.vq.losses import vq_loss
    from motiongpt_lite.vq.model import VQVAE

    torch.manual_seed(0)
    vq = VQVAE(cfg, motion_dim=motion_dim).train()
    motion = torch.randn(batch, window, motion_dim)

    def step() -> None:
        loss, _ = vq_loss(vq(motion), motion, cfg)
        loss.backward()

    return step


def estimate_training(preset_name: str, batch: int = 2, utilisation: float = ASSUMED_UTILISATION) -> list[dict]:
    """Estimated T4 minutes of each training stage of a preset, from FLOPs counted on this CPU.

    Each stage's step (forward, loss and backward of its model, at its width, on random inputs shaped like its
    batches) runs at ``batch`` here with its FLOPs counted; FLOPs scale with the batch, so a step of the
    preset's batch costs ``flops * preset_batch / batch``. The estimate divides the stage's FLOPs by
    ``utilisation`` times the T4's fp16 peak. Element-wise work (the language model's AdamW update, which its
    timed step includes) and data loading are not counted, being small beside these matrix products; generation
    (evaluation, demo) is latency-bound and not estimated this way.

    Returns:
        one row per stage: stage, steps, batch, gflop_per_step (at the preset's batch), cpu_gflops (the rate
        measured here at ``batch``), t4_minutes.
    """
    preset = get_preset(preset_name)
    vq = _counted(_vq_step(preset.vq, preset.data.window_frames, 263, batch))
    lm = _counted(_training_setup(preset_name, batch, PROMPT_TOKENS, "cpu")[-1])  # tuning trains the same T5
    rate = T4_FP16_TFLOPS * 1e12 * utilisation
    rows = []
    for stage, (flops, seconds), train in (("vq", vq, preset.vq.train), ("pretrain", lm, preset.lm.train),
                                           ("instruct", lm, preset.instruct.train)):
        per_step = flops * train.batch_size / batch
        rows.append({"stage": stage, "steps": train.steps, "batch": train.batch_size, "gflop_per_step": per_step / 1e9,
                     "cpu_gflops": flops / seconds / 1e9, "t4_minutes": train.steps * per_step / rate / 60})
    _print_table(f"{preset_name}: training FLOPs counted on this CPU, T4 time at {utilisation:.0%} of "
                 f"{T4_FP16_TFLOPS:.0f} TFLOPS fp16 (an estimate until a GPU measures it)", rows,
                 [("stage", "stage", "<9"), ("steps", "steps", ">7"), ("batch", "batch", ">5"),
                  ("GFLOP/step", "gflop_per_step", ">10.1f"), ("CPU GFLOP/s", "cpu_gflops", ">11.1f"),
                  ("T4 min", "t4_minutes", ">7.1f")])
    return rows
