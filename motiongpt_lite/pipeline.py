"""The headless main job: every stage of the tutorial in order, resumable (``motiongpt-lite run``).

Stages, each the twin of a notebook:

==========  ===================================================================  ========
stage       does                                                                 notebook
==========  ===================================================================  ========
data        find the preset's dataset, or generate the embedded one               00, 01
vq          train the motion tokenizer; MPJPE on held-out and real clips         02, 03
tokens      write the motion tokens of every clip (mirrors included)              02
pretrain    motion-language pretraining of T5; text->motion well-formed          04, 05
instruct    instruction tuning; well-formed outputs for seen and unseen phrasing 06
evaluate    the paper's metrics, semantic accuracy (``evaluation.json``/``.md``)  07
demo        animate held-out captions and caption a held-out motion               06, 08
==========  ===================================================================  ========

Each stage writes into the preset's run folder (``config.run_dir``) and resumes from its
checkpoint, so an interrupted run continues where it stopped. A stage that finished in an earlier
run (recorded in ``report.json``) is skipped unless ``redo`` is set. The run ends with a summary
table on stdout and ``report.json`` in the run folder.
"""
from __future__ import annotations

import json
import os
import platform
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from motiongpt_lite.config import Preset, get_preset, run_dir

if TYPE_CHECKING:
    from motiongpt_lite.api import MotionGPT

__all__ = ["run", "trained_model", "write_gallery", "STAGES"]

DEMO_CLIPS = 3  # held-out captions animated at the end of a run
EVAL_CAPTIONS = 64  # held-out captions used to count well-formed text->motion outputs


def trained_model(preset: Preset | str | None = None, progress: bool = False) -> "MotionGPT":
    """The preset's instruction-tuned MotionGPT, training whatever is missing first.

    Runs, in order and each only as far as it has not finished: the dataset, the motion tokenizer, the
    tokens, pretraining and instruction tuning (each resumes from its checkpoint and returns at once
    when done). Notebooks 07 and 08 start here.

    Args:
        preset: a Preset or its name; default ``MOTIONGPT_LITE_PRESET`` (small).
        progress: show the training progress bars.
    Returns:
        MotionGPT loaded from the preset's run folder.
    """
    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.lm.instruct import instruct
    from motiongpt_lite.lm.pretrain import pretrain
    from motiongpt_lite.vq.train import tokenize_preset, train_vq

    preset = preset if isinstance(preset, Preset) else get_preset(preset)
    train_vq(preset, progress=progress)
    tokenize_preset(preset)
    pretrain(preset, progress=progress)
    instruct(preset, progress=progress)
    return MotionGPT.from_preset(preset)


def stage_data(preset: Preset, out: Path) -> dict:
    """Find the preset's dataset (HumanML3D / KIT when present), else build the embedded one."""
    from motiongpt_lite.data.registry import dataset_dir

    folder = dataset_dir(preset)
    counts = {split: len((folder / f"{split}.txt").read_text().split()) for split in ("train", "val", "test")}
    return {"dataset": str(folder), **{f"{split}_clips": n for split, n in counts.items()}}


def stage_vq(preset: Preset, out: Path) -> dict:
    """Train (or resume) the motion tokenizer, then measure it as the paper's table 8, and with the semantic
    checks (does a reconstructed wave still wave?)."""
    from motiongpt_lite.data.registry import dataset_dir
    from motiongpt_lite.evaluation import tokenizer_fidelity
    from motiongpt_lite.vq.tokenize import evaluate_reference, evaluate_split
    from motiongpt_lite.vq.train import train_vq

    tokenizer = train_vq(preset).tokenizer
    held_out = evaluate_split(tokenizer, dataset_dir(preset), "test")
    result = {f"test_{k}": round(v, 3) for k, v in held_out.items()}
    fidelity = tokenizer_fidelity(tokenizer, dataset_dir(preset))
    if fidelity:  # the embedded set: per-action semantic checks of the reconstructions, table in vq_fidelity.md
        recon = fidelity["reconstructed"]
        result.update({f"recon_semantic_{k}": round(v, 3) for k, v in recon.overall.items()})
        worst = min(recon.per_action, key=lambda a: recon.per_action[a]["action"])
        result["recon_worst_action"] = f"{worst} {recon.per_action[worst]['action']:.2f}"
        for part, key in (("seen", "reconstructed, seen combinations"), ("held_out", "reconstructed, held-out combinations")):
            if key in fidelity:
                result[f"recon_{part}_action"] = round(fidelity[key].overall["action"], 3)
        (out / "vq_fidelity.md").write_text("# Semantic checks of the motion tokenizer's reconstructions (test split)\n\n"
                                            + "\n\n".join(f"## {name}\n\n{rep.table()}" for name, rep in fidelity.items())
                                            + "\n")
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
    from motiongpt_lite.data.registry import dataset_dir, spec_of

    folder = dataset_dir(preset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = load_split(folder, "test", dataset=spec_of(folder)).clips
    return [clip.captions[0].text for clip in clips if clip.captions][:count]


def stage_pretrain(preset: Preset, out: Path) -> dict:
    """Pretrain (or resume) T5 on motion-language tasks; count well-formed text->motion outputs."""
    from motiongpt_lite.lm.pretrain import pretrain, text_to_motion_report

    run = pretrain(preset)
    last = run.history[-1] if run.history else {}
    result = {k: round(v, 3) for k, v in last.items() if k.startswith("loss")}
    captions = _held_out_captions(preset, EVAL_CAPTIONS)
    max_codes = preset.data.max_frames // preset.vq.frames_per_token
    free = text_to_motion_report(run.lm, captions, max_codes, constrained=False)
    result["t2m_well_formed_free"] = round(free["well_formed"], 3)
    sampled = text_to_motion_report(run.lm, captions, max_codes, do_sample=True, seed=preset.seed)
    result["t2m_well_formed_free_sampled"] = round(sampled["well_formed"], 3)
    result["t2m_well_formed_constrained"] = round(text_to_motion_report(run.lm, captions, max_codes, constrained=True)["well_formed"], 3)
    return result


def stage_instruct(preset: Preset, out: Path) -> dict:
    """Instruction-tune (or resume) the pretrained model; share of well-formed text->motion outputs with free
    decoding (greedy, and sampling) for instruction phrasings seen in training and for held-out ones."""
    from motiongpt_lite.lm.instruct import instruct
    from motiongpt_lite.lm.pretrain import text_to_motion_report
    from motiongpt_lite.lm.templates import fill, templates

    run = instruct(preset)
    last = run.history[-1] if run.history else {}
    result = {k: round(v, 3) for k, v in last.items() if k.startswith("loss")}
    captions = _held_out_captions(preset, EVAL_CAPTIONS)
    max_codes = preset.data.max_frames // preset.vq.frames_per_token
    for split in ("train", "held_out"):
        phrasings = templates("text_to_motion", split)
        prompts = [fill(phrasings[i % len(phrasings)], caption=c) for i, c in enumerate(captions)]
        for decoding, options in (("greedy", {}), ("sampled", {"do_sample": True, "seed": preset.seed})):
            free = text_to_motion_report(run.lm, captions, max_codes, prompts=prompts, **options)
            result[f"t2m_well_formed_{decoding}_{split}_phrasings"] = round(free["well_formed"], 3)
    return result


def stage_evaluate(preset: Preset, out: Path) -> dict:
    """The paper's evaluation of the tuned model (notebook 07); the full report goes to ``evaluation.json``
    and ``evaluation.md``, the headline numbers into the run's summary."""
    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.eval.evaluator import evaluator_for
    from motiongpt_lite.evaluation import evaluate

    report = evaluate(MotionGPT.from_preset(preset), evaluator_for(preset), preset)
    (out / "evaluation.json").write_text(json.dumps(report.to_dict(), indent=2))
    (out / "evaluation.md").write_text(report.table())
    return {"evaluation": str(out / "evaluation.json"), **report.headline()}


def stage_demo(preset: Preset, out: Path) -> dict:
    """Turn a few held-out captions into motion with the tuned model (GIFs), and caption a held-out motion."""
    from motiongpt_lite import viz
    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.data.dataset import load_split
    from motiongpt_lite.data.registry import dataset_dir, spec_of
    from motiongpt_lite.evaluation import real_motion_captions

    gpt = MotionGPT.from_preset(preset)
    written = []
    for i, caption in enumerate(_held_out_captions(preset, DEMO_CLIPS)):
        result = gpt.text_to_motion(caption)
        if not result.has_motion:
            continue
        path = out / "demo" / f"text_to_motion_{i}.gif"
        path.parent.mkdir(parents=True, exist_ok=True)
        viz.save_animation(viz.animate(result.joints, title=caption), path)
        written.append(str(path))
    folder = dataset_dir(preset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clip = load_split(folder, "test", dataset=spec_of(folder)).clips[0]
    caption = gpt.motion_to_text(clip.motion).text
    real = real_motion_captions(gpt)
    gallery = write_gallery(gpt, preset, out / "demo")
    passed = sum(bool(r["checks"]) and all(r["checks"].values()) for r in gallery)
    result = {"animations": written, "gallery": str(out / "demo" / "gallery.md"),
              "gallery_all_checks_pass": f"{passed}/{len(gallery)}" if gallery else "no labelled test motions", "caption_of_held_out_motion": caption,
              "its_real_captions": [c.text for c in clip.captions], "real_clip_captions": real}
    if real:
        result["real_clips_named_right"] = f"{sum(r['ok'] for r in real)}/{len(real)}"
    return result


GALLERY_PROMPTS = 8  # held-out test captions in the gallery: half of seen combinations, half of held-out ones
GALLERY_MARK = "<!-- written by motiongpt-lite gallery -->"


def write_gallery(gpt: "MotionGPT", preset: Preset, out: Path, count: int = GALLERY_PROMPTS) -> list[dict]:
    """A fixed-seed gallery: test captions -> generated motion (filmstrip PNG) with every semantic verdict.

    The captions are drawn with ``preset.seed`` from the labelled whole test motions, half from parameter
    combinations seen in training and half from the generator's held-out ones (``HELD_OUT``); each becomes a
    motion with the API's default decoding and no length, as a user would ask. Failures stay in.

    Args:
        gpt: the model.
        preset: its preset (dataset and seed).
        out: folder to write ``gallery.md`` and ``gallery_<i>.png`` into (created).
        count: number of captions.
    Returns:
        one dict per caption: ``caption``, ``combination`` ("seen" / "held-out"), ``checks`` (attribute ->
        passed; empty when no motion was written) and ``image`` (the PNG's path, or None); no row when the
        dataset has no labelled test motions (HumanML3D, KIT-ML).
    """
    import matplotlib.pyplot as plt

    from motiongpt_lite import viz
    from motiongpt_lite.data.synthetic import held_out
    from motiongpt_lite.eval.semantic import motion_checks
    from motiongpt_lite.vq.tokenize import whole_motions
    from motiongpt_lite.data.registry import dataset_dir

    clips = [c for c in whole_motions(dataset_dir(preset), "test") if c.labels]
    rng = np.random.default_rng(preset.seed)
    chosen = []
    for keep in (False, True):
        pool = [c for c in clips if held_out(c.labels) == keep]
        chosen += [pool[i] for i in sorted(rng.choice(len(pool), size=min(count // 2, len(pool)), replace=False))]
    out.mkdir(parents=True, exist_ok=True)
    if not chosen:  # HumanML3D and KIT-ML carry none of the labels the checks read
        (out / "gallery.md").write_text(f"{GALLERY_MARK}\n# Gallery\n\n{dataset_dir(preset).name} has no labelled test "
                                        "motions (only the embedded set has the labels the semantic checks read), so "
                                        "there is no gallery.\n")
        return []
    lines = [GALLERY_MARK, f"# Gallery: test captions -> motion (preset `{preset.name}`, seed {preset.seed})", "",
             "Each caption is a test-split caption the model never trained on; *held-out* ones also describe a "
             "parameter combination that no training motion has. The API's default decoding (seeded sampling, "
             "T = 0.7, top-k 20), no length given. The verdicts are the automatic semantic checks (`motiongpt_lite.eval.semantic`).", "",
             "| caption | combination | verdicts | motion |", "|---|---|---|---|"]
    results = gpt.text_to_motion([c.captions[0].text for c in chosen])
    rows = []
    for i, (clip, result) in enumerate(zip(chosen, results)):
        row = {"caption": clip.captions[0].text, "combination": "held-out" if held_out(clip.labels) else "seen",
               "checks": {}, "image": None}
        if result.has_motion:
            row["checks"] = motion_checks(result.joints, clip.labels, gpt.fps)
            fig = viz.filmstrip(result.joints, num_frames=6)
            row["image"] = out / f"gallery_{i}.png"
            fig.savefig(row["image"], dpi=60)
            plt.close(fig)
        verdicts = ", ".join(f"{name} {'ok' if ok else 'FAIL'}" for name, ok in row["checks"].items())
        image = f"![]({row['image'].name})" if row["image"] else ""
        lines.append(f"| {row['caption']} | {row['combination']} | {verdicts or 'no motion written'} | {image} |")
        rows.append(row)
    (out / "gallery.md").write_text("\n".join(lines) + "\n")
    return rows


STAGES: dict[str, Callable[[Preset, Path], dict]] = {
    "data": stage_data, "vq": stage_vq, "tokens": stage_tokens, "pretrain": stage_pretrain,
    "instruct": stage_instruct, "evaluate": stage_evaluate, "demo": stage_demo,
}


def run(preset: Preset, stages: list[str] | None = None, redo: bool = False) -> dict:
    """Run the pipeline's stages in order and write ``report.json``.

    Args:
        preset: the knobs of the run.
        stages: names from ``STAGES`` to run (default: all, in order).
        redo: run stages again even when ``report.json`` says they finished.
    Returns:
        The report: per stage its results and wall time in seconds.
    """
    names = list(STAGES) if stages is None else stages
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; choose from {list(STAGES)}.")
    out = run_dir(preset)
    previous = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    to_run = [n for n in names if redo or n not in previous.get("stages", {})]
    writable = _writable(out)
    if to_run and not writable:
        raise PermissionError(f"{out} cannot be written and stage(s) {to_run} are not finished there; point "
                              "MOTIONGPT_LITE_CHECKPOINTS at a writable folder (or copy the checkpoints there) and run again.")
    report = {"preset": preset.name, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {platform.system()}, {platform.processor() or 'cpu'}", "stages": {}}
    for name in names:
        if not redo and name in previous.get("stages", {}):
            print(f"[run] stage {name}: finished in an earlier run ({previous['started']}); skipped "
                  "(pass --redo to run it again)", flush=True)
            report["stages"][name] = {**previous["stages"][name], "skipped": True}
            continue
        print(f"[run] stage {name} ...", flush=True)
        start = time.perf_counter()
        result = STAGES[name](preset, out)
        report["stages"][name] = {"seconds": round(time.perf_counter() - start, 1), **result}
        _write_report(out, report, previous)  # after every stage: a crash keeps the rest
    if writable:
        report = _write_report(out, report, previous)
    else:
        print(f"[run] {out} is read-only: every stage had finished there, report.json left as it was", flush=True)
    _print_summary(report)
    print(f"[run] report written to {out / 'report.json'}")
    return report


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be written (created first where it does not exist and its parent allows)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _write_report(out: Path, report: dict, previous: dict) -> dict:
    """Write ``report.json``: this run's stages, plus earlier runs' results of stages not run this time."""
    earlier = {n: {**r, "skipped": True} for n, r in previous.get("stages", {}).items() if n not in report["stages"]}
    merged = {**report, "stages": {n: report["stages"].get(n) or earlier[n] for n in STAGES
                                   if n in report["stages"] or n in earlier}}
    (out / "report.json").write_text(json.dumps(merged, indent=2))
    return merged


def _print_summary(report: dict) -> None:
    print(f"\nSummary (preset {report['preset']})")
    print(f"{'stage':<10} {'seconds':>8}  results")
    for name, result in report["stages"].items():
        details = ", ".join(f"{k}={v}" for k, v in result.items()
                            if k not in ("seconds", "skipped") and not isinstance(v, (list, dict)))
        seconds = f"{result['seconds']:>8.1f}" + (" (earlier run)" if result.get("skipped") else "")
        print(f"{name:<10} {seconds}  {details}")
