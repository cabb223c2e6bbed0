"""Language-model speed: training tokens per second and generation latency (notebook 05's table;
``motiongpt-lite bench lm``).

For each architecture (the ``tiny`` and ``small`` presets, and flan-t5-base's, built from its config so
that nothing is downloaded) we time

- **training**: AdamW steps on random batches shaped like pretraining (prompts of ``source_len``
  tokens, targets of a 196-frame motion: 49 codes + 2 markers + eos); throughput counts source and
  target tokens;
- **one caption**: greedy generation of 40 tokens from a prompt holding a 196-frame motion;
- **one motion**: constrained generation of a 196-frame motion (start marker, 49 codes, end marker, eos).

The merged vocabulary has the size the preset would have: its tokenizer's upper bound plus the
motion words (flan-t5: 32100 text tokens). Random weights: speed does not depend on them.
"""
from __future__ import annotations

import dataclasses
import time

import torch

from motiongpt_lite.config import LMConfig, get_preset
from motiongpt_lite.lm.model import MotionSpanLogitsProcessor, build_t5
from motiongpt_lite.lm.vocab import MotionVocab
from motiongpt_lite.runtime import pick_device

__all__ = ["FLAN_T5_BASE", "bench_lm_setting", "bench_lm"]

FLAN_T5_BASE = dict(d_model=768, d_ff=2048, d_kv=64, num_layers=12, num_heads=12, feed_forward_proj="gated-gelu",
                    tie_embeddings=False)  # google/flan-t5-base's architecture
FLAN_TEXT_VOCAB = 32100  # tokens of the flan-t5 tokenizer


def _setting(name: str) -> tuple[LMConfig, int, int]:
    """(architecture, text vocabulary size, codebook size) of a benchmark setting."""
    preset = get_preset("base" if name == "base" else name)
    if name == "base":
        return dataclasses.replace(preset.lm, model="config", **FLAN_T5_BASE), FLAN_TEXT_VOCAB, preset.vq.num_codes
    return preset.lm, preset.lm.text_vocab_size + preset.lm.extra_ids, preset.vq.num_codes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


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
    lm, text_vocab, num_codes = _setting(name)
    vocab = MotionVocab(num_codes, offset=text_vocab)
    dev = pick_device(device)
    model = build_t5(lm, vocab.end, seed=0).to(dev).train()
    batch_size = batch_size or lm.batch_size
    codes = 49  # a 196-frame motion at 4 frames per token
    g = torch.Generator().manual_seed(0)
    source = torch.randint(3, text_vocab, (batch_size, source_len), generator=g).to(dev)
    target = torch.cat([torch.full((batch_size, 1), vocab.som_id),
                        torch.randint(vocab.offset, vocab.offset + num_codes, (batch_size, codes), generator=g),
                        torch.full((batch_size, 1), vocab.eom_id), torch.ones(batch_size, 1, dtype=torch.long)], 1).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lm.lr)

    def step() -> None:
        loss = model(input_ids=source, labels=target).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

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
            "batch": batch_size, "train_tokens_per_s": batch_size * (source_len + target.shape[1]) / train_s,
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
    print(f"Language-model benchmark on {rows[0]['device']} (random weights; 64 prompt tokens, 196-frame motions)")
    print(f"{'setting':<8} {'params':>8} {'vocab':>6} {'batch':>5} {'train tok/s':>12} {'caption ms':>11} {'motion ms':>10}")
    for r in rows:
        print(f"{r['setting']:<8} {r['params_m']:>7.2f}M {r['vocab']:>6} {r['batch']:>5} {r['train_tokens_per_s']:>12.0f} "
              f"{r['caption_ms']:>11.0f} {r['motion_ms']:>10.0f}")
    return rows
