"""Instruction tuning, MotionGPT's stage 3 (notebook 06; the command ``motiongpt-lite instruct``).

The pretrained model (``checkpoints/<preset>/lm_pretrain/model``) is fine-tuned on prompts written
with the templates of :mod:`motiongpt_lite.lm.templates`: every example draws a task family with the
preset's ratios (``preset.instruct.mix_*``), one of the family's *training* instructions, and a
motion with one of its captions. Drawing is seeded by ``(seed, epoch, index)`` as in pretraining, so
a resumed run sees exactly the examples the uninterrupted run would have seen. The training loop
is the shared one of :mod:`motiongpt_lite.training` (accelerate, AdamW, atomic checkpoints, exact
resume). The run folder (``checkpoints/<preset>/lm_instruct``) ends up holding:

- ``checkpoint.safetensors``: the training state (resume point);
- ``model/``: the tuned T5 and tokenizer, loadable with :meth:`MotionLM.load`;
- ``history.json``: the logged losses, one ``loss_<family>`` per task family.

How examples look (K codes; ``<som>``/``<eom>``/``<mask>`` are the markers ``<motion_id_K>``,
``<motion_id_{K+1}>``, ``<motion_id_{K+2}>``):

- prediction shows the first 20-60 % of the codes; the target is the rest;
- in-betweening shows ``<som> start <mask> ... <mask> end <eom>`` with one mask per missing code
  (20-60 % of them); the target is the missing middle;
- paraphrasing maps one caption of a motion to another caption of the same motion.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motiongpt_lite.config import InstructConfig, Preset, get_preset, run_dir, stored_settings
from motiongpt_lite.data.dataset import SeededDataset, content_fingerprint, dataset_fingerprint
from motiongpt_lite.lm.model import MotionLM
from motiongpt_lite.lm.tasks import ComposedItems, MotionText, collate_examples, seq2seq_step
from motiongpt_lite.lm.templates import FAMILIES, fill, pick
from motiongpt_lite.lm.vocab import MotionVocab
from motiongpt_lite.training import fit, make_accelerator

__all__ = ["InstructRun", "lm_instruct_dir", "family_weights", "make_instruction",
           "InstructDataset", "instruct_step", "instruct"]


@dataclass
class InstructRun:
    """The result of :func:`instruct`.

    Attributes:
        lm: the tuned model (eval mode, on the CPU).
        history: one dict per ``log_every`` steps: step, lr, loss, ``loss_<family>`` for every family seen, elapsed_s.
        folder: the run folder, or None when nothing was saved.
    """

    lm: MotionLM
    history: list[dict[str, float]]
    folder: Path | None


def lm_instruct_dir(preset: Preset) -> Path:
    """The preset's instruction-tuning folder: ``<checkpoint root>/<preset>/lm_instruct``."""
    return run_dir(preset) / "lm_instruct"


def family_weights(cfg: InstructConfig) -> np.ndarray:
    """The mixture ratios of ``FAMILIES`` from the config, normalised to sum to 1."""
    weights = np.array([getattr(cfg, f"mix_{family}") for family in FAMILIES], dtype=np.float64)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"task ratios {dict(zip(FAMILIES, weights.tolist()))} must be non-negative and not all "
                         "zero; fix the mix_* fields of the preset's InstructConfig.")
    return weights / weights.sum()


def _share(bounds: tuple[float, float], total: int, low: int, high: int, rng: np.random.Generator) -> int:
    """round(total * u), u uniform in ``bounds``, clipped to [low, high]."""
    return int(np.clip(round(total * rng.uniform(*bounds)), low, high))


def make_instruction(family: str, item: MotionText, vocab: MotionVocab, cfg: InstructConfig, rng: np.random.Generator,
                     split: str = "train", fps: float = 20.0) -> tuple[str, str, str]:
    """One prompt and its answer, as text.

    Families that cannot be built from ``item`` fall back: prediction needs 2 codes, in-betweening 3
    (else text-to-motion); paraphrasing needs two different captions (else motion-to-text).

    Args:
        family: one of ``FAMILIES``.
        item: the motion (codes, captions, length in frames).
        vocab: where the motion words sit.
        cfg: prediction / in-betweening shares.
        rng: draws the caption, the template and the cut points.
        split: which templates ("train" or "held_out").
        fps: frame rate, for lengths in seconds.
    Returns:
        ``(family actually used, prompt, target)``; motion targets are motion words with markers.
    """
    codes = [int(c) for c in item.code_idx]
    caption = item.captions[int(rng.integers(len(item.captions)))]
    others = sorted({c for c in item.captions if c != caption})
    if (family == "predict" and len(codes) < 2) or (family == "inbetween" and len(codes) < 3):
        family = "text_to_motion"
    if family == "paraphrase" and not others:
        family = "motion_to_text"
    template = pick(family, rng, split)
    if family in ("text_to_motion", "text_to_motion_length"):
        return family, fill(template, fps, caption=caption, frames=item.motion_len), vocab.codes_to_text(codes)
    if family == "motion_to_text":
        return family, fill(template, fps, motion=vocab.codes_to_text(codes)), caption
    if family == "paraphrase":
        return family, fill(template, fps, caption=caption), others[int(rng.integers(len(others)))]
    if family == "predict":
        given = _share(cfg.predict_given, len(codes), 1, len(codes) - 1, rng)
        return family, fill(template, fps, motion=vocab.codes_to_text(codes[:given])), vocab.codes_to_text(codes[given:])
    if family == "inbetween":
        masked = _share(cfg.inbetween_masked, len(codes), 1, len(codes) - 2, rng)
        first = int(rng.integers(1, len(codes) - masked))  # codes kept before the gap, at least one on each side
        motion = vocab.masked_to_text(codes[:first], masked, codes[first + masked:])
        return family, fill(template, fps, motion=motion), vocab.codes_to_text(codes[first:first + masked])
    raise ValueError(f"unknown task family {family!r}; choose one of {', '.join(FAMILIES)}.")


class InstructDataset(SeededDataset):
    """The shuffled instruction mixture over a list of motions; item ``i`` of epoch ``e`` is fixed by (seed, e, i).

    Args:
        items: the motions with their captions (motions without codes or captions are dropped).
        tokenizer: the merged tokenizer.
        vocab: where the motion words sit.
        cfg: family ratios, lengths, shares.
        seed: seeds the draws.
        split: which templates ("train"; "held_out" for evaluation sets).
        fps: frame rate, for lengths in seconds.
        max_frames: longest composed motion (see ``cfg.compose_rate``).
    """

    def __init__(self, items: list[MotionText], tokenizer, vocab: MotionVocab, cfg: InstructConfig, seed: int = 0,
                 split: str = "train", fps: float = 20.0, max_frames: int = 196) -> None:
        self.items = [item for item in items if len(item.code_idx) >= 1 and item.captions]
        if not self.items:
            raise ValueError("no motion with tokens and a caption; tokenize the dataset first.")
        super().__init__(seed)
        self.pool = ComposedItems(self.items, cfg.compose_rate, max_frames)
        self.tokenizer, self.vocab, self.cfg, self.split, self.fps = tokenizer, vocab, cfg, split, fps
        self.weights = family_weights(cfg)

    def __len__(self) -> int:
        return len(self.items)

    def example(self, index: int) -> tuple[str, str, str]:
        """``(family, prompt, target)`` of item ``index`` in the current epoch, as text."""
        rng = self.rng(index)
        family = FAMILIES[int(rng.choice(len(FAMILIES), p=self.weights))]
        return make_instruction(family, self.pool.draw(index, rng), self.vocab, self.cfg, rng, self.split, self.fps)

    def __getitem__(self, index: int) -> dict:
        family, prompt, target = self.example(index)
        eos = self.tokenizer.eos_token_id
        source = self.tokenizer(prompt, add_special_tokens=False).input_ids
        labels = self.tokenizer(target, add_special_tokens=False).input_ids
        return {"input_ids": source[:self.cfg.max_source_len - 1] + [eos],
                "labels": labels[:self.cfg.max_target_len - 1] + [eos], "task": FAMILIES.index(family)}


def instruct_step(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """:func:`~motiongpt_lite.lm.tasks.seq2seq_step` over the template families (logs ``loss_<family>``)."""
    return seq2seq_step(model, batch, FAMILIES)


def instruct(preset: Preset | str | None = None, *, cfg: InstructConfig | None = None,
             data_dir: str | Path | None = None, tokens_dir: str | Path | None = None,
             pretrained_dir: str | Path | None = None, out_dir: str | Path | None = None, save: bool = True,
             resume: bool = True, stop_after: int | None = None, progress: bool = True) -> InstructRun:
    """Instruction-tune (or resume tuning) the preset's pretrained motion-language model.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET`` (small).
        cfg: replaces ``preset.instruct`` (e.g. other task ratios).
        data_dir: dataset folder; default the one the motion tokenizer trained on.
        tokens_dir: motion tokens; default ``checkpoints/<preset>/vq/tokens``.
        pretrained_dir: the pretraining run folder (holding ``model/``); default ``checkpoints/<preset>/lm_pretrain``.
        out_dir: run folder; default :func:`lm_instruct_dir`.
        save: write checkpoints, the final model and the history (and resume from them).
        resume: continue from the folder's checkpoint when there is one.
        stop_after: stop after this many steps (with a checkpoint), as if interrupted.
        progress: show a progress bar.
    Returns:
        InstructRun with the model, the per-family loss history and the run folder.
    Raises:
        FileNotFoundError: no pretrained model or no tokens.
    """
    from motiongpt_lite.lm.pretrain import lm_pretrain_dir, load_motion_texts
    from motiongpt_lite.data.registry import dataset_dir, spec_of
    from motiongpt_lite.vq.train import vq_dir

    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    cfg = cfg or preset.instruct
    pretrained = Path(pretrained_dir) if pretrained_dir else lm_pretrain_dir(preset)
    if not (pretrained / "model").is_dir():
        raise FileNotFoundError(f"no pretrained language model in {pretrained / 'model'}; run "
                                f"`motiongpt-lite pretrain --preset {preset.name}` first.")
    data_dir = Path(data_dir) if data_dir else dataset_dir(preset)
    tokens_dir = Path(tokens_dir) if tokens_dir else vq_dir(preset) / "tokens"
    spec = spec_of(data_dir)
    items, _ = load_motion_texts(data_dir, tokens_dir, "train", preset.vq.frames_per_token, spec)
    lm = MotionLM.load(pretrained / "model")
    largest = max(int(item.code_idx.max()) for item in items if len(item.code_idx))
    if largest >= lm.vocab.num_codes:
        raise ValueError(f"tokens in {tokens_dir} reach code {largest} but the pretrained model knows "
                         f"{lm.vocab.num_codes} codes; re-tokenize with the tokenizer it was pretrained on.")
    dataset = InstructDataset(items, lm.tokenizer, lm.vocab, cfg, seed=preset.seed, fps=spec.fps,
                             max_frames=preset.data.max_frames)
    folder = Path(out_dir) if out_dir else lm_instruct_dir(preset)
    config = json.loads(json.dumps({"instruct": stored_settings(cfg), "seed": preset.seed, "pretrained": content_fingerprint(
                                        (pretrained / "model").glob("*.safetensors")),
                                    "data": dataset_fingerprint(data_dir),
                                    "tokens": content_fingerprint(tokens_dir.glob("*.npy"))}))  # tuples -> lists, as stored
    accelerator = make_accelerator(cfg.train.mixed_precision, preset.device)
    history = fit(lm.model, dataset, instruct_step, cfg.train, seed=preset.seed,
                  checkpoint_path=folder / "checkpoint.safetensors" if save else None, resume=resume,
                  stop_after=stop_after,
                  extra={"config": config}, collate_fn=collate_examples, accelerator=accelerator,
                  progress=progress, desc=f"instruct {preset.name}")
    lm.model = accelerator.unwrap_model(lm.model).cpu().eval()
    lm.message = f"instruction-tuned for {history[-1]['step'] if history else 0} steps from {pretrained / 'model'}"
    if save and accelerator.is_main_process:
        lm.save(folder / "model")
        (folder / "history.json").write_text(json.dumps(history, indent=1))
    return InstructRun(lm, history, folder if save else None)
