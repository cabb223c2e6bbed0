"""Text-only pretraining: what a T5 learns before it meets motion (notebook 05 §7, ``motiongpt-lite thesis``).

MotionGPT starts from flan-t5, a T5 that has read a large text corpus and followed many instructions.
Offline we cannot download it, so this module makes a small stand-in: the preset's T5, with the same
trained tokenizer that :meth:`~motiongpt_lite.lm.model.MotionLM.build` would give it, learns plain
language from the train split's captions and the *training* phrasings of every instruction family
(the held-out phrasings stay unseen), with two text tasks:

- ``span_text``: T5 span corruption of a sentence (a caption, or an instruction phrasing filled with a
  caption; motion placeholders are left empty, since no motion word exists yet);
- ``paraphrase``: a paraphrase instruction around one caption of a motion -> another caption of it.

The result is saved as an ordinary T5 folder (weights and tokenizer, ``save_pretrained``), so that the
motion stages load it exactly as they load ``google/flan-t5-small``: name the folder in
``LMConfig.model`` and ``LMConfig.tokenizer``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motiongpt_lite.config import LMConfig, Preset, get_preset, stored_settings, with_training
from motiongpt_lite.data.dataset import SeededDataset
from motiongpt_lite.lm.model import FROM_CONFIG, load_text_model, save_t5
from motiongpt_lite.lm.tasks import collate_examples, seq2seq_step, span_corrupt
from motiongpt_lite.lm.templates import FAMILIES, fill, pick
from motiongpt_lite.training import fit, make_accelerator

__all__ = ["TEXT_TASKS", "TextCorpus", "TextPretrainRun", "text_pretrain"]

TEXT_TASKS = ("span_text", "paraphrase")


def _sentence(caption: str, rng: np.random.Generator) -> str:
    """A caption, or (half of the time) a training phrasing of a random family filled with it."""
    if rng.random() < 0.5:
        return caption
    template = pick(FAMILIES[int(rng.integers(len(FAMILIES)))], rng)
    return " ".join(fill(template, caption=caption, motion="", frames=int(rng.integers(40, 197))).split())


class TextCorpus(SeededDataset):
    """The text-only examples, one per motion and epoch (its captions), as a map-style dataset for ``fit``.

    Args:
        captions: per motion, its captions (a motion with one caption gets only span corruption).
        tokenizer: the text tokenizer (no motion words).
        lm: lengths and span-corruption settings.
        paraphrase_rate: share of examples that are paraphrases (when the motion has two captions or more).
        seed: seeds the draws.
    """

    def __init__(self, captions: list[list[str]], tokenizer, lm: LMConfig, paraphrase_rate: float = 0.3,
                 seed: int = 0) -> None:
        self.captions = [list(c) for c in captions if c]
        if not self.captions:
            raise ValueError("no captions to pretrain on; load a split with captions first.")
        super().__init__(seed)
        self.tokenizer, self.lm, self.paraphrase_rate = tokenizer, lm, paraphrase_rate
        self.sentinels = tokenizer.convert_tokens_to_ids([f"<extra_id_{i}>" for i in range(lm.extra_ids)])

    def __len__(self) -> int:
        return len(self.captions)

    def example(self, index: int) -> tuple[str, str, str]:
        """``(task, input text, target text)`` of one draw, readable (sentinels shown as ``<extra_id_i>``)."""
        item = self[index]
        decode = lambda ids: self.tokenizer.decode(ids, skip_special_tokens=False)  # noqa: E731
        return TEXT_TASKS[item["task"]], decode(item["input_ids"]), decode(item["labels"])

    def __getitem__(self, index: int) -> dict:
        rng = self.rng(index)
        captions, eos = self.captions[index], self.tokenizer.eos_token_id
        ids = lambda text: self.tokenizer(text, add_special_tokens=False).input_ids  # noqa: E731
        order = rng.permutation(len(captions))
        if len(captions) > 1 and rng.random() < self.paraphrase_rate:
            task = 1
            source = ids(fill(pick("paraphrase", rng), caption=captions[order[0]]))
            target = ids(captions[order[1]])
        else:
            task = 0
            words = ids(_sentence(captions[order[0]], rng))
            if len(words) < 2:
                words = words + [eos]  # span corruption needs two tokens
            source, target = span_corrupt(words, self.sentinels, self.lm.noise_density, self.lm.mean_span_length, rng)
        return {"input_ids": source[:self.lm.max_source_len - 1] + [eos],
                "labels": target[:self.lm.max_target_len - 1] + [eos], "task": task}


@dataclass
class TextPretrainRun:
    """The result of :func:`text_pretrain`.

    Attributes:
        folder: the T5 folder (weights and tokenizer) to name in ``LMConfig.model`` / ``LMConfig.tokenizer``.
        history: one dict per ``log_every`` steps (step, lr, loss, ``loss_span_text``, ``loss_paraphrase``).
        message: how the model and tokenizer were made.
    """

    folder: Path
    history: list[dict[str, float]]
    message: str


def text_pretrain(preset: Preset | str | None = None, *, out_dir: str | Path, steps: int,
                  cfg: LMConfig | None = None, data_dir: str | Path | None = None, tokens_dir: str | Path | None = None,
                  paraphrase_rate: float = 0.3, resume: bool = True, progress: bool = True) -> TextPretrainRun:
    """Pretrain the preset's T5 on text alone and save it as a T5 folder (``out_dir/model``).

    The tokenizer is trained on exactly the texts that :func:`~motiongpt_lite.lm.pretrain.pretrain` trains its
    own on (the captions of the tokenized train motions and the pretraining prompts), and the weights start
    from the same seed, so a run from this folder differs from a run from random weights in nothing but the
    text the T5 has read.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET``.
        out_dir: run folder (``checkpoint.safetensors``, ``history.json``, ``model/``).
        steps: optimizer steps (batch size, learning rate and schedule from ``cfg``).
        cfg: the architecture and optimiser knobs; default ``preset.lm``. It must build from a config.
        data_dir, tokens_dir: the dataset and its motion tokens (for the captions); default the preset's.
        paraphrase_rate: share of paraphrase examples.
        resume: continue from the folder's checkpoint when there is one.
        progress: show a progress bar.
    Raises:
        ValueError: ``cfg.model`` names pretrained weights (they have read their text already).
    """
    from motiongpt_lite.data.registry import dataset_dir, spec_of
    from motiongpt_lite.lm.pretrain import load_motion_texts, tokenizer_texts
    from motiongpt_lite.vq.train import vq_dir

    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    cfg = with_training(cfg or preset.lm, steps=steps)
    if cfg.model != FROM_CONFIG:
        raise ValueError(f"text_pretrain builds the T5 from the preset's config, but model={cfg.model!r} names "
                         "pretrained weights; pass cfg=replace(preset.lm, model='config', tokenizer='trained').")
    data_dir = Path(data_dir) if data_dir else dataset_dir(preset)
    tokens_dir = Path(tokens_dir) if tokens_dir else vq_dir(preset) / "tokens"
    items, _ = load_motion_texts(data_dir, tokens_dir, "train", preset.vq.frames_per_token, spec_of(data_dir))
    model, tokenizer, message = load_text_model(cfg, tokenizer_texts(items), seed=preset.seed)
    corpus = TextCorpus([item.captions for item in items], tokenizer, cfg, paraphrase_rate, seed=preset.seed)
    folder = Path(out_dir)
    accelerator = make_accelerator(cfg.train.mixed_precision, preset.device)
    history = fit(model, corpus, lambda m, b: seq2seq_step(m, b, TEXT_TASKS), cfg.train, seed=preset.seed,
                  checkpoint_path=folder / "checkpoint.safetensors", resume=resume,
                  extra={"config": json.loads(json.dumps({"lm": stored_settings(cfg), "paraphrase_rate": paraphrase_rate,
                                                          "seed": preset.seed}))},
                  collate_fn=collate_examples, accelerator=accelerator, progress=progress,
                  desc=f"text pretrain {preset.name}")
    model = accelerator.unwrap_model(model).cpu().eval()
    if accelerator.is_main_process:
        save_t5(model, tokenizer, folder / "model")
        (folder / "history.json").write_text(json.dumps(history, indent=1))
    return TextPretrainRun(folder / "model", history,
                           f"{message} Then {cfg.train.steps} steps of text-only pretraining ({', '.join(TEXT_TASKS)}).")
