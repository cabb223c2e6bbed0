"""Does a language model that has read text first learn motion better? MotionGPT's thesis at CPU scale
(notebook 05 §7; the command ``motiongpt-lite thesis``).

MotionGPT fine-tunes a *pretrained* flan-t5; at ``tiny``/``small`` our T5 starts from random weights.
This experiment trains the same motion-language stages (pretraining, then instruction tuning, same
steps, seed, data, tokenizer and architecture) from two or three starting points:

- ``random init``: the preset's T5 architecture from random weights (as ``tiny``/``small`` build it);
- ``text first``: the same T5 after :func:`~motiongpt_lite.lm.text_pretrain.text_pretrain` on the
  captions and the training phrasings (a stand-in for flan-t5's reading, at our scale);
- ``flan-t5-small``: the real pretrained model, when it can be loaded (Colab, a connected laptop);
  offline the arm is skipped and the result says why.

Each arm is scored on labelled test motions with the instruction phrasings held out of training
(``templates(family, "held_out")``) and, for comparison, with the training phrasings: the semantic
checks of the motions it writes from captions (API default decoding), the share of free greedy
outputs that close one well-formed motion span, and its captions (BLEU@4, CIDEr, action named).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from motiongpt_lite.config import Preset, get_preset, run_dir, with_training

__all__ = ["FLAN_T5_SMALL", "ThesisResult", "phrasing_scores", "thesis_experiment"]

FLAN_T5_SMALL = "google/flan-t5-small"
SCORES = ("t2m_action", "t2m_side", "well_formed", "m2t_action", "bleu_4", "cider")  # what each arm is scored on


@dataclass
class ThesisResult:
    """The experiment's numbers.

    Attributes:
        scores: arm -> phrasing split ("held_out", "train") -> score name (``SCORES``) -> value.
        histories: arm -> stage ("text", "pretrain", "instruct") -> the logged losses.
        skipped: arm -> why it did not run.
        budget: the steps of each stage and the number of test motions scored.
    """

    scores: dict[str, dict[str, dict[str, float]]]
    histories: dict[str, dict[str, list[dict[str, float]]]]
    skipped: dict[str, str] = field(default_factory=dict)
    budget: dict[str, int] = field(default_factory=dict)

    def table(self) -> str:
        """A text table: one row per arm, held-out phrasings (training phrasings in brackets)."""
        lines = [f"{'arm':>16s} | " + " | ".join(f"{s:>15s}" for s in SCORES)]
        for arm, splits in self.scores.items():
            cells = [f"{splits['held_out'][s]:6.3f} ({splits['train'][s]:5.3f})" for s in SCORES]
            lines.append(f"{arm:>16s} | " + " | ".join(cells))
        lines += [f"{arm:>16s} | skipped: {why}" for arm, why in self.skipped.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"scores": self.scores, "skipped": self.skipped, "budget": self.budget}


def phrasing_scores(gpt, clips: list, split: str) -> dict[str, float]:
    """Score a model on labelled motions, asking with the phrasings of ``split`` ("train" or "held_out").

    Motion ``i`` is asked with phrasing ``i mod n`` of each family, so every phrasing is used about equally.

    Returns:
        ``t2m_action``, ``t2m_side`` (semantic checks of the motions written from the first caption, API
        default decoding; a motion not written fails), ``well_formed`` (free greedy outputs closing one motion
        span), ``m2t_action`` (captions naming the labelled action), ``bleu_4`` and ``cider`` (captions against
        every reference caption).
    """
    from motiongpt_lite.eval.semantic import caption_accuracy, semantic_accuracy
    from motiongpt_lite.eval.text_metrics import caption_metrics
    from motiongpt_lite.lm.pretrain import text_to_motion_report
    from motiongpt_lite.lm.templates import fill, templates

    captions, labels = [c.captions[0].text for c in clips], [c.labels for c in clips]
    t2m, m2t = templates("text_to_motion", split), templates("motion_to_text", split)
    joints: list = [None] * len(clips)
    written: list = [None] * len(clips)
    for k in range(min(len(t2m), len(clips))):
        rows = [i for i in range(len(clips)) if i % len(t2m) == k]
        for i, result in zip(rows, gpt.text_to_motion([captions[i] for i in rows], template=t2m[k])):
            joints[i] = result.joints if result.has_motion else np.zeros((8, 22, 3))  # a still pose fails every check
    for k in range(min(len(m2t), len(clips))):
        rows = [i for i in range(len(clips)) if i % len(m2t) == k]
        for i, result in zip(rows, gpt.motion_to_text([clips[i].motion for i in rows], template=m2t[k])):
            written[i] = result.text
    motions = semantic_accuracy(joints, labels, gpt.fps).overall
    free = text_to_motion_report(gpt.lm, captions, gpt.max_codes, constrained=False,
                                 prompts=[fill(t2m[i % len(t2m)], caption=c) for i, c in enumerate(captions)])
    words = caption_metrics(written, [[c.text for c in clip.captions] for clip in clips])
    return {"t2m_action": motions["action"], "t2m_side": motions.get("side", float("nan")),
            "well_formed": free["well_formed"], "m2t_action": caption_accuracy(written, labels).overall["action"],
            "bleu_4": words["bleu_4"], "cider": words["cider"]}


def thesis_experiment(preset: Preset | str | None = None, *, text_steps: int, pretrain_steps: int,
                      instruct_steps: int, num_clips: int = 48, out_dir: str | Path | None = None,
                      flan: str | None = FLAN_T5_SMALL, resume: bool = True, progress: bool = False) -> ThesisResult:
    """Train and score the arms (see the module docstring); needs the preset's motion tokenizer and tokens.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET``.
        text_steps: steps of text-only pretraining (the ``text first`` arm).
        pretrain_steps, instruct_steps: steps of the two motion stages, the same for every arm.
        num_clips: labelled whole test motions scored.
        out_dir: where the arms' runs go; default ``checkpoints/<preset>/thesis``.
        flan: the pretrained T5 of the third arm, or None to leave it out.
        resume: reuse finished stages and continue interrupted ones.
        progress: progress bars.
    """
    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.data.dataset import load_split
    from motiongpt_lite.data.registry import dataset_dir, spec_of
    from motiongpt_lite.lm.instruct import instruct
    from motiongpt_lite.lm.model import FROM_CONFIG, load_pretrained_t5
    from motiongpt_lite.lm.pretrain import pretrain
    from motiongpt_lite.lm.text_pretrain import text_pretrain
    from motiongpt_lite.lm.tokenizer import load_text_tokenizer
    from motiongpt_lite.vq.tokenize import MotionTokenizer
    from motiongpt_lite.vq.train import vq_dir

    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    root = Path(out_dir) if out_dir else run_dir(preset) / "thesis"
    data_dir = dataset_dir(preset)
    spec = spec_of(data_dir)
    motion_tokenizer = MotionTokenizer.load(vq_dir(preset))
    clips = [c for c in load_split(data_dir, "test", dataset=spec).clips if c.labels and "#" not in c.id][:num_clips]
    if not clips:
        raise ValueError(f"no labelled whole test motions in {data_dir}; the experiment scores on the embedded "
                         "dataset's labels (bash data_download.sh embedded).")
    scratch = replace(preset.lm, model=FROM_CONFIG, tokenizer="trained")  # base/paper name flan-t5: not here
    starts, skipped, histories = {"random init": scratch}, {}, {}
    text = text_pretrain(preset, cfg=scratch, out_dir=root / "text_first" / "text", steps=text_steps,
                         resume=resume, progress=progress)
    starts["text first"] = replace(scratch, model=str(text.folder), tokenizer=str(text.folder))
    histories["text first"] = {"text": text.history}
    if flan:
        model, source = load_pretrained_t5(flan)
        if model is not None:
            try:
                load_text_tokenizer(flan)
            except ValueError as error:  # weights without their tokenizer are of no use
                model, source = None, str(error)
        if model is None:
            skipped[flan.split("/")[-1]] = source
        else:
            starts[flan.split("/")[-1]] = replace(scratch, model=flan, tokenizer=flan, d_model=model.config.d_model,
                                                  d_ff=model.config.d_ff, d_kv=model.config.d_kv,
                                                  num_layers=model.config.num_layers, num_heads=model.config.num_heads)
    scores = {}
    for arm, lm_cfg in starts.items():
        folder = root / arm.replace(" ", "_")
        pre = pretrain(preset, cfg=with_training(lm_cfg, steps=pretrain_steps), out_dir=folder / "lm_pretrain",
                       resume=resume, progress=progress)
        tuned = instruct(preset, cfg=with_training(preset.instruct, steps=instruct_steps), pretrained_dir=folder / "lm_pretrain",
                         out_dir=folder / "lm_instruct", resume=resume, progress=progress)
        histories.setdefault(arm, {}).update(pretrain=pre.history, instruct=tuned.history)
        gpt = MotionGPT(tuned.lm, motion_tokenizer, fps=spec.fps, max_frames=preset.data.max_frames,
                        max_caption_tokens=preset.lm.max_caption_tokens, max_source_len=preset.instruct.max_source_len)
        scores[arm] = {split: phrasing_scores(gpt, clips, split) for split in ("held_out", "train")}
    result = ThesisResult(scores, histories, skipped, {"text_steps": text_steps, "pretrain_steps": pretrain_steps,
                                                       "instruct_steps": instruct_steps, "clips": len(clips)})
    (root / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    return result
