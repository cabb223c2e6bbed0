"""The headless main job: every stage of the tutorial in order, resumable (``motiongpt-lite run``).

Stages, each the twin of a notebook:

==========  =============================================================  ========
stage       does                                                           notebook
==========  =============================================================  ========
data        find the preset's dataset, or generate the embedded one         00, 01
vq          train the motion tokenizer; MPJPE on held-out and real clips   02, 03
tokens      write the motion tokens of every clip (mirrors included)        02
pretrain    motion-language pretraining of T5; text->motion well-formed    04, 05
demo        animate held-out captions turned into motion by the model      05
==========  =============================================================  ========

Each stage writes into the preset's run folder (``config.run_dir``) and resumes from its
checkpoint, so an interrupted run continues where it stopped and a finished stage costs seconds.
The run ends with a summary table on stdout and ``report.json`` in the run folder.
"""
from __future__ import annotations

import json
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from motiongpt_lite.config import Preset, run_dir

__all__ = ["run", "STAGES"]

DEMO_CLIPS = 3  # held-out captions animated at the end of a run
EVAL_CAPTIONS = 64  # held-out captions used to count well-formed text->motion outputs


def stage_data(preset: Preset, out: Path) -> dict:
    """Find the preset's dataset (HumanML3D / KIT when present), else build the embedded one."""
    from motiongpt_lite.vq.train import dataset_dir

    folder = dataset_dir(preset)
    counts = {split: len((folder / f"{split}.txt").read_text().split()) for split in ("train", "val", "test")}
    return {"dataset": str(folder), **{f"{split}_clips": n for split, n in counts.items()}}


def stage_vq(preset: Preset, out: Path) -> dict:
    """Train (or resume) the motion tokenizer, then measure it as the paper's table 8."""
    from motiongpt_lite.vq.tokenize import evaluate_reference, evaluate_split
    from motiongpt_lite.vq.train import dataset_dir, train_vq

    tokenizer = train_vq(preset).tokenizer
    held_out = evaluate_split(tokenizer, dataset_dir(preset), "test")
    result = {f"test_{k}": round(v, 3) for k, v in held_out.items()}
    real = evaluate_reference(tokenizer)
    if real is not None:
        result.update({f"real_clips_{k}": round(v, 3) for k, v in real.items()})
    return result


def stage_tokens(preset: Preset, out: Path) -> dict:
    """Tokens of every clip of the dataset, the language model's input."""
    from motiongpt_lite.vq.train import tokenize_preset

    folder = tokenize_preset(preset)
    return {"tokens": str(folder), "files": len(list(folder.glob("*.npy")))}


def _held_out_captions(preset: Preset, count: int) -> list[str]:
    from motiongpt_lite.data.dataset import load_split
    from motiongpt_lite.vq.train import dataset_dir

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = load_split(dataset_dir(preset), "test", dataset="embedded").clips
    return [clip.captions[0].text for clip in clips if clip.captions][:count]


def stage_pretrain(preset: Preset, out: Path) -> dict:
    """Pretrain (or resume) T5 on motion-language tasks; count well-formed text->motion outputs."""
    from motiongpt_lite.lm.pretrain import pretrain, text_to_motion_report

    run = pretrain(preset)
    last = run.history[-1] if run.history else {}
    result = {k: round(v, 3) for k, v in last.items() if k.startswith("loss")}
    captions = _held_out_captions(preset, EVAL_CAPTIONS)
    max_codes = preset.data.max_frames // 2 ** preset.vq.down_t
    free = text_to_motion_report(run.lm, captions, max_codes, constrained=False)
    result["t2m_well_formed_free"] = round(free["well_formed"], 3)
    result["t2m_well_formed_constrained"] = round(text_to_motion_report(run.lm, captions, max_codes, constrained=True)["well_formed"], 3)
    return result


def stage_demo(preset: Preset, out: Path) -> dict:
    """Turn a few held-out captions into motion with the pretrained model and animate them as GIFs."""
    from motiongpt_lite import viz
    from motiongpt_lite.data.features import features_to_joints
    from motiongpt_lite.lm.model import MotionLM
    from motiongpt_lite.lm.parse import parse_ids
    from motiongpt_lite.lm.pretrain import lm_pretrain_dir
    from motiongpt_lite.lm.tasks import PROMPTS
    from motiongpt_lite.vq.tokenize import MotionTokenizer
    from motiongpt_lite.vq.train import vq_dir

    lm = MotionLM.load(lm_pretrain_dir(preset) / "model")
    tokenizer = MotionTokenizer.load(vq_dir(preset))
    max_codes = preset.data.max_frames // 2 ** preset.vq.down_t
    written = []
    for i, caption in enumerate(_held_out_captions(preset, DEMO_CLIPS)):
        ids = lm.generate([PROMPTS["text_to_motion"].format(caption=caption)], max_new_tokens=max_codes + 3,
                          constrained=True, motion_only=True, max_codes=max_codes)[0]
        code_idx = parse_ids(ids, lm.vocab, lm.tokenizer).code_idx
        if not code_idx:
            continue
        joints = features_to_joints(tokenizer.decode(np.asarray(code_idx)).numpy())
        path = out / "demo" / f"text_to_motion_{i}.gif"
        path.parent.mkdir(parents=True, exist_ok=True)
        viz.save_animation(viz.animate(joints, title=caption), path)
        written.append(str(path))
    return {"animations": written}


STAGES: dict[str, Callable[[Preset, Path], dict]] = {
    "data": stage_data, "vq": stage_vq, "tokens": stage_tokens, "pretrain": stage_pretrain, "demo": stage_demo,
}


def run(preset: Preset, stages: list[str] | None = None) -> dict:
    """Run the pipeline's stages in order and write ``report.json``.

    Args:
        preset: the knobs of the run.
        stages: names from ``STAGES`` to run (default: all, in order).
    Returns:
        The report: per stage its results and wall time in seconds.
    """
    names = list(STAGES) if stages is None else stages
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; choose from {list(STAGES)}.")
    out = run_dir(preset)
    out.mkdir(parents=True, exist_ok=True)
    report = {"preset": preset.name, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {platform.system()}", "stages": {}}
    for name in names:
        print(f"[run] stage {name} ...", flush=True)
        start = time.perf_counter()
        result = STAGES[name](preset, out)
        report["stages"][name] = {"seconds": round(time.perf_counter() - start, 1), **result}
        (out / "report.json").write_text(json.dumps(report, indent=2))  # after every stage: a crash keeps the rest
    _print_summary(report)
    print(f"[run] report written to {out / 'report.json'}")
    return report


def _print_summary(report: dict) -> None:
    print(f"\nSummary (preset {report['preset']})")
    print(f"{'stage':<10} {'seconds':>8}  results")
    for name, result in report["stages"].items():
        details = ", ".join(f"{k}={v}" for k, v in result.items() if k != "seconds" and not isinstance(v, (list, dict)))
        print(f"{name:<10} {result['seconds']:>8.1f}  {details}")
