"""Motion-language pretraining, MotionGPT's stage 2 (notebook 05; the command ``motiongpt-lite pretrain``).

The preset's T5 (:class:`~motiongpt_lite.lm.model.MotionLM`) learns the task mixture of
:mod:`motiongpt_lite.lm.tasks` on the tokens of the train split, through the shared loop of
:mod:`motiongpt_lite.training` (accelerate: one CPU, one GPU with mixed precision, or several
processes with ``accelerate launch``; AdamW, warm-up and decay, clipping, atomic checkpoints, exact
resume, a progress bar). The loss of every task is logged on its own, so the curves can be drawn
per task. The run folder (``checkpoints/<preset>/lm_pretrain``) ends up holding:

- ``checkpoint.safetensors``: the training state (resume point);
- ``model/``: the merged T5 and tokenizer, loadable with :meth:`MotionLM.load`;
- ``history.json``: the logged losses.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motiongpt_lite.config import LMConfig, Preset, get_preset, run_dir, stored_settings
from motiongpt_lite.data.dataset import content_fingerprint, dataset_fingerprint, load_split
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.lm.parse import parse_ids
from motiongpt_lite.lm.tasks import (PROMPTS, TASKS, MotionText, PretrainDataset, collate_examples, prompt_texts,
                                     seq2seq_step)
from motiongpt_lite.checkpoints import weights_sha256
from motiongpt_lite.training import fit, make_accelerator

__all__ = ["PretrainRun", "lm_pretrain_dir", "load_motion_texts", "tokenizer_texts", "pretrain_step", "pretrain",
           "text_to_motion_report"]


@dataclass
class PretrainRun:
    """The result of :func:`pretrain`.

    Attributes:
        lm: the pretrained model (eval mode, on the CPU).
        history: one dict per ``log_every`` steps: step, lr, loss, ``loss_<task>`` for every task seen, elapsed_s.
        folder: the run folder, or None when nothing was saved.
    """

    lm: MotionLM
    history: list[dict[str, float]]
    folder: Path | None


def lm_pretrain_dir(preset: Preset) -> Path:
    """The preset's pretraining folder: ``<checkpoint root>/<preset>/lm_pretrain``."""
    return run_dir(preset) / "lm_pretrain"


def load_motion_texts(data_dir: str | Path, tokens_dir: str | Path, split: str = "train",
                      frames_per_token: int = 4, dataset: str = "humanml3d") -> tuple[list[MotionText], dict[str, str]]:
    """The motions of a split as tokens with their captions.

    A caption that describes only part of a motion (``start#end`` in seconds) gets the tokens of that
    part: ``code_idx[f0 // r : f0 // r + ceil(T / r)]`` with f0 its first frame and T its frames.

    Args:
        data_dir: the dataset folder (HumanML3D layout).
        tokens_dir: one ``<id>.npy`` (N,) per motion, written by ``motiongpt_lite.vq.tokenize.tokenize_dataset``.
        split: which split file.
        frames_per_token: r, the VQ-VAE's down-sampling rate.
        dataset: "humanml3d", "kit", "embedded" or a DatasetSpec (length rules and frame rate).
    Returns:
        ``(items, skipped)``: the usable motions, and id -> reason for the others.
    Raises:
        FileNotFoundError: ``tokens_dir`` is missing.
    """
    tokens_dir = Path(tokens_dir)
    if not tokens_dir.is_dir():
        raise FileNotFoundError(f"no motion tokens in {tokens_dir}; train and run the motion tokenizer first "
                                "(`motiongpt-lite train-vq` then `motiongpt-lite tokenize`).")
    clips = load_split(data_dir, split, dataset=dataset)
    items, skipped = [], dict(clips.skipped)
    for clip in clips.clips:
        parent, *times = clip.id.split("#")
        path = tokens_dir / f"{parent}.npy"
        if not path.exists():
            skipped[clip.id] = f"no tokens file {path.name}"
            continue
        try:
            code_idx = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:  # truncated or not a .npy
            skipped[clip.id] = f"unreadable tokens file {path.name}: {error or type(error).__name__}"
            continue
        if code_idx.ndim != 1 or not np.issubdtype(code_idx.dtype, np.integer) or len(code_idx) == 0:
            skipped[clip.id] = f"tokens file {path.name} holds {code_idx.dtype} {code_idx.shape}, not (N,) integer codes"
            continue
        if code_idx.min() < 0:
            skipped[clip.id] = f"tokens file {path.name} holds a negative code ({int(code_idx.min())})"
            continue
        code_idx = code_idx.astype(np.int64)
        if times:
            first = int(float(times[0]) * clips.fps) // frames_per_token
            code_idx = code_idx[first:first + -(-len(clip.motion) // frames_per_token)]
        items.append(MotionText(code_idx, [c.text for c in clip.captions], len(clip.motion)))
    bad = {k: v for k, v in skipped.items() if "tokens file" in v and not v.startswith("no tokens file")}
    if bad:
        first = next(iter(bad.items()))
        warnings.warn(f"{tokens_dir}: skipped {len(bad)} motions with broken token files (first: {first[0]}, {first[1]}); "
                      "run `motiongpt-lite tokenize` again to rewrite them.", stacklevel=2)
    return items, skipped


def pretrain_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """:func:`~motiongpt_lite.lm.tasks.seq2seq_step` over the pretraining tasks (logs ``loss_<task>``)."""
    return seq2seq_step(model, batch, TASKS)


def _tokenizer_sha256(vq_folder: Path) -> str | None:
    """The fingerprint (:func:`~motiongpt_lite.checkpoints.weights_sha256`) of the motion tokenizer beside a tokens
    folder (``checkpoints/<preset>/vq``), or None when there is none (tokens made elsewhere)."""
    from motiongpt_lite.vq.tokenize import MotionTokenizer

    if not ((vq_folder / "config.json").is_file() and (vq_folder / "checkpoint.safetensors").is_file()):
        return None
    tokenizer = MotionTokenizer.load(vq_folder)
    return weights_sha256(tokenizer.vq, tokenizer.normalizer.mean, tokenizer.normalizer.std)


def pretrain(preset: Preset | str | None = None, *, cfg: LMConfig | None = None, data_dir: str | Path | None = None,
             tokens_dir: str | Path | None = None, out_dir: str | Path | None = None, save: bool = True,
             resume: bool = True, stop_after: int | None = None, progress: bool = True) -> PretrainRun:
    """Pretrain (or resume pretraining) the preset's motion-language model.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET`` (small).
        cfg: replaces ``preset.lm`` (notebook 05 ablates span corruption this way).
        data_dir: dataset folder; default the one the motion tokenizer trained on.
        tokens_dir: motion tokens; default ``checkpoints/<preset>/vq/tokens``.
        out_dir: run folder; default :func:`lm_pretrain_dir`.
        save: write checkpoints, the final model and the history (and resume from them).
        resume: continue from the folder's checkpoint when there is one.
        stop_after: stop after this many steps (with a checkpoint), as if interrupted.
        progress: show a progress bar.
    Returns:
        PretrainRun with the model, the per-task loss history and the run folder.
    """
    from motiongpt_lite.data.registry import dataset_dir, spec_of
    from motiongpt_lite.vq.train import vq_dir

    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    cfg = cfg or preset.lm
    data_dir = Path(data_dir) if data_dir else dataset_dir(preset)
    tokens_dir = Path(tokens_dir) if tokens_dir else vq_dir(preset) / "tokens"
    spec = spec_of(data_dir)
    frames_per_token = preset.vq.frames_per_token
    items, _ = load_motion_texts(data_dir, tokens_dir, "train", frames_per_token, spec)
    folder = Path(out_dir) if out_dir else lm_pretrain_dir(preset)
    lm = MotionLM.build(cfg, preset.vq.num_codes, tokenizer_texts(items), seed=preset.seed)
    largest = max(int(item.code_idx.max()) for item in items)
    if largest >= preset.vq.num_codes:
        raise ValueError(f"tokens in {tokens_dir} reach code {largest} but the preset's codebook has "
                         f"{preset.vq.num_codes} codes; re-tokenize with this preset's motion tokenizer.")
    dataset = PretrainDataset(items, lm.tokenizer, lm.vocab, cfg, seed=preset.seed, max_frames=preset.data.max_frames)
    accelerator = make_accelerator(cfg.train.mixed_precision, preset.device)
    history = fit(lm.model, dataset, pretrain_step, cfg.train, seed=preset.seed,
                  checkpoint_path=folder / "checkpoint.safetensors" if save else None, resume=resume,
                  stop_after=stop_after,
                  extra={"config": {"lm": stored_settings(cfg), "num_codes": preset.vq.num_codes, "seed": preset.seed,
                                    "data": dataset_fingerprint(data_dir),
                                    "tokens": content_fingerprint(tokens_dir.glob("*.npy"))}},
                  collate_fn=collate_examples, accelerator=accelerator, progress=progress,
                  desc=f"pretrain {preset.name}")
    lm.model = accelerator.unwrap_model(lm.model).cpu().eval()
    lm.motion_tokenizer_sha256 = _tokenizer_sha256(tokens_dir.parent)
    if save and accelerator.is_main_process:
        lm.save(folder / "model")
        (folder / "history.json").write_text(json.dumps(history, indent=1))
    return PretrainRun(lm, history, folder if save else None)


def tokenizer_texts(items: list[MotionText]) -> list[str]:
    """What the offline text tokenizer is trained on: every caption of ``items`` (sorted, once) and the prompts."""
    return sorted({c for item in items for c in item.captions}) + prompt_texts()


def text_to_motion_report(lm: MotionLM, captions: list[str], max_codes: int, constrained: bool = False,
                          batch_size: int = 16, prompts: list[str] | None = None, **decoding) -> dict[str, float]:
    """Generate motions from captions (greedy unless ``decoding`` says otherwise) and count the well-formed outputs.

    Args:
        lm: the model.
        captions: prompts' captions.
        max_codes: longest motion allowed (e.g. 196 frames / 4 = 49 codes).
        constrained: use constrained decoding (then every output is well-formed by construction).
        batch_size: prompts per ``generate`` call.
        prompts: one finished prompt per caption (e.g. an instruction, notebook 06); default the
            pretraining prompt around each caption.
        decoding: passed to :meth:`MotionLM.generate`, e.g. ``do_sample=True, seed=0``.
    Returns:
        ``well_formed`` (share of outputs that are one clean motion span), ``mean_codes`` (codes per
        output), and the share of outputs carrying each parser flag (``flag_<name>``).
    """
    prompts = prompts or [PROMPTS["text_to_motion"].format(caption=c) for c in captions]
    if len(prompts) != len(captions):
        raise ValueError(f"{len(prompts)} prompts for {len(captions)} captions; pass one prompt per caption.")
    parsed = []
    for start in range(0, len(prompts), batch_size):
        outputs = lm.generate(prompts[start:start + batch_size], max_new_tokens=max_codes + 3,
                              mode="motion" if constrained else "unconstrained", max_codes=max_codes, **decoding)
        parsed += [parse_ids(o, lm.vocab, lm.tokenizer) for o in outputs]
    report = {"well_formed": float(np.mean([p.well_formed_motion for p in parsed])),
              "mean_codes": float(np.mean([len(p.code_idx) for p in parsed]))}
    for flag in sorted({f for p in parsed for f in p.flags}):
        report[f"flag_{flag}"] = float(np.mean([flag in p.flags for p in parsed]))
    return report
