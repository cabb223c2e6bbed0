"""Speed and memory benchmarks on whatever device is present: ``python -m motiongpt_lite.bench vq``.

``vq`` times VQ-VAE training steps (forward, loss, backward, AdamW step) at the ``paper``
architecture (batch 32, 64-frame windows) and at the ``small`` preset (its own batch), then
tokenizing throughput (encode of whole clips, one at a time) in frames per second. Each setting
runs in a fresh child process so that its peak memory is its own: on CUDA the peak of allocated
GPU memory, on the CPU the peak resident set size of that process. Inputs are random features:
speed does not depend on the data.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from dataclasses import replace

__all__ = ["bench_vq_setting", "bench_vq", "main"]


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
    import torch

    from motiongpt_lite.config import get_preset
    from motiongpt_lite.runtime import pick_device
    from motiongpt_lite.training import make_optimizer
    from motiongpt_lite.vq.losses import vq_loss
    from motiongpt_lite.vq.model import VQVAE
    from motiongpt_lite.vq.tokenize import encode

    preset = get_preset(preset_name)
    cfg = replace(preset.vq, batch_size=batch_size or preset.vq.batch_size)
    dev = pick_device(device)
    torch.manual_seed(0)
    vq = VQVAE(cfg).to(dev).train()
    opt = make_optimizer(vq, cfg.lr)
    motion = torch.randn(cfg.batch_size, preset.data.window_frames, 263, device=dev)  # (B, 64, 263)

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
    return {"preset": preset_name, "batch": cfg.batch_size, "params_m": sum(p.numel() for p in vq.parameters()) / 1e6,
            "steps_per_s": steps / train_s, "windows_per_s": steps * cfg.batch_size / train_s,
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
    print(f"VQ-VAE benchmark on {rows[0]['device']} (64-frame windows, random features)")
    print(f"{'setting':<8} {'batch':>5} {'params':>8} {'steps/s':>8} {'windows/s':>10} {'peak MB':>9} {'encode frames/s':>16}")
    for r in rows:
        print(f"{r['preset']:<8} {r['batch']:>5} {r['params_m']:>7.2f}M {r['steps_per_s']:>8.2f} "
              f"{r['windows_per_s']:>10.1f} {r['peak_mem_mb']:>9.0f} {r['encode_frames_per_s']:>16.0f}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motiongpt_lite.bench", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["vq"], help="what to benchmark")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--steps-paper", type=int, default=3, help="timed steps at the paper architecture")
    parser.add_argument("--steps-small", type=int, default=10, help="timed steps at the small preset")
    parser.add_argument("--clips", type=int, default=20, help="196-frame clips encoded for the throughput")
    args = parser.parse_args(argv)
    bench_vq(args.steps_paper, args.steps_small, args.clips, args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
