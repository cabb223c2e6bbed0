"""Command line: ``motiongpt-lite <command>`` (or ``python -m motiongpt_lite <command>``).

Commands:
    run          the whole pipeline at a preset, resumable (the README's main job); --smoke: two steps a stage
    data build   write the embedded dataset (HumanML3D layout) into a folder
    animate      render a clip of a dataset folder to GIF/MP4
    train-vq     train (or resume) the motion tokenizer of a preset          (notebook 02)
    tokenize     write the motion tokens of the preset's whole dataset       (notebook 02)
    pretrain     motion-language pretraining of T5                           (notebook 05)
    instruct     instruction tuning on the paper's task families              (notebook 06)
    train-evaluator  train the retrieval evaluator the metrics need           (notebook 07)
    evaluate     the paper's metrics and semantic accuracy of the tuned model (notebook 07)
    gallery      test captions -> motions as filmstrips with their semantic verdicts (README)
    bench        speed and memory benchmarks: `bench vq`, `bench lm`; `bench estimate` (T4 minutes from FLOPs)
    student      write the student copies of the notebooks (solutions become stubs)   (classroom)
    progress     which exercises of a learner's notebooks are done                  (notebook 00)
    lint-notebooks  check the notebooks' setup cells, badges and exercise cells      (classroom)
    check-notebooks run every notebook top to bottom at a preset; pass/fail, time, size (README)

The training commands (train-vq, pretrain, instruct, train-evaluator) run on several GPUs, or several CPU
processes, unchanged: ``accelerate launch --multi_gpu --num_processes N -m motiongpt_lite pretrain --preset gpu``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from motiongpt_lite.config import PRESETS, embedded_dir, get_preset, smoke_preset

__all__ = ["main"]


def _locked(command):
    """Run a command that writes into the preset's run folder while holding that folder's lock
    (:func:`motiongpt_lite.runtime.run_folder_lock`): a second one exits with the holder's pid. Under
    ``accelerate launch`` or ``torchrun`` (``RANK`` set) only rank 0 holds it: the ranks are one run."""
    def locked(args) -> None:
        from motiongpt_lite.config import run_dir
        from motiongpt_lite.runtime import run_folder_lock

        if int(os.environ.get("RANK", "0")) != 0:
            command(args)
            return
        with run_folder_lock(run_dir(get_preset(args.preset))):
            command(args)
    locked.__doc__ = command.__doc__
    return locked


@_locked
def _cmd_run(args) -> None:
    from motiongpt_lite.pipeline import run

    preset = get_preset(args.preset)
    run(smoke_preset(preset) if args.smoke else preset, stages=args.stages, redo=args.redo)


@_locked
def _cmd_train_evaluator(args) -> None:
    from motiongpt_lite.eval.evaluator import train_evaluator

    evaluator = train_evaluator(get_preset(args.preset), resume=not args.no_resume, stop_after=args.stop_after)
    print(f"evaluator trained: {len(evaluator.history)} history rows")


@_locked
def _cmd_evaluate(args) -> None:
    from motiongpt_lite.pipeline import run

    run(get_preset(args.preset), stages=["evaluate"], redo=True)


def _cmd_gallery(args) -> None:
    from motiongpt_lite.api import MotionGPT
    from motiongpt_lite.pipeline import GALLERY_MARK, write_gallery

    out = Path(args.out)
    page = out / "gallery.md"
    if page.exists() and GALLERY_MARK not in page.read_text() and not args.force:
        sys.exit(f"{page} was not written by `motiongpt-lite gallery`; choose another --out or pass --force.")
    preset = get_preset(args.preset)
    rows = write_gallery(MotionGPT.from_preset(preset), preset, out)
    passed = sum(bool(r["checks"]) and all(r["checks"].values()) for r in rows)
    print(f"[gallery] {page}: {len(rows)} captions, {passed} pass every check")


def _cmd_data_build(args) -> None:
    from motiongpt_lite.data.synthetic import build_embedded_dataset

    preset = get_preset(args.preset)
    out = Path(args.out) if args.out else embedded_dir(preset)
    summary = build_embedded_dataset(out, preset=preset.name, seed=args.seed, num_motions=args.num_motions, overwrite=args.overwrite)
    for key, value in summary.items():
        print(f"{key}: {value}")


def _cmd_animate(args) -> None:
    import numpy as np

    from motiongpt_lite import viz
    from motiongpt_lite.data.dataset import read_captions
    from motiongpt_lite.data.features import features_to_joints

    root = Path(args.dataset) if args.dataset else embedded_dir(get_preset(args.preset))
    source = root / "new_joint_vecs" / f"{args.clip}.npy"
    if not source.exists():
        raise SystemExit(f"no clip {args.clip!r} in {root}; list the ids in {root / 'test.txt'} or build the data with "
                         "`motiongpt-lite data build`.")
    joints = features_to_joints(np.load(source).astype(np.float32))
    captions = read_captions(root / "texts" / f"{args.clip}.txt") if (root / "texts" / f"{args.clip}.txt").exists() else []
    anim = viz.animate(joints, title=captions[0].text if captions else args.clip)
    viz.save_animation(anim, args.out)
    print(f"wrote {args.out}")


@_locked
def _cmd_train_vq(args) -> None:
    from motiongpt_lite.vq.train import train_vq

    run = train_vq(get_preset(args.preset), resume=not args.no_resume, stop_after=args.stop_after)
    print(f"tokenizer saved in {run.folder}")


@_locked
def _cmd_tokenize(args) -> None:
    from motiongpt_lite.vq.train import tokenize_preset

    print(f"tokens written to {tokenize_preset(get_preset(args.preset), out_dir=args.out)}")


@_locked
def _cmd_pretrain(args) -> None:
    from motiongpt_lite.lm.pretrain import pretrain

    run = pretrain(get_preset(args.preset), resume=not args.no_resume, stop_after=args.stop_after)
    print(f"language model saved in {run.folder}")


@_locked
def _cmd_instruct(args) -> None:
    from motiongpt_lite.lm.instruct import instruct

    run = instruct(get_preset(args.preset), resume=not args.no_resume, stop_after=args.stop_after)
    print(f"instruction-tuned model saved in {run.folder}")


@_locked
def _cmd_thesis(args) -> None:
    from motiongpt_lite.thesis import FLAN_T5_SMALL, thesis_experiment

    preset = get_preset(args.preset)
    result = thesis_experiment(preset, text_steps=args.text_steps or preset.lm.train.steps // 2,
                               pretrain_steps=args.pretrain_steps or preset.lm.train.steps,
                               instruct_steps=args.instruct_steps or preset.instruct.train.steps, num_clips=args.clips,
                               flan=None if args.no_flan else FLAN_T5_SMALL, progress=True)
    print(f"{result.budget}\nheld-out phrasings (training phrasings in brackets):\n{result.table()}")


def _cmd_bench(args) -> None:
    if args.what == "vq":
        from motiongpt_lite.tools.bench import bench_vq

        bench_vq(device=args.device)
    elif args.what == "lm":
        from motiongpt_lite.tools.bench import bench_lm

        bench_lm(device=args.device)
    elif args.what == "estimate":
        from motiongpt_lite.tools.bench import estimate_training

        estimate_training(args.preset or "gpu")
    else:
        from motiongpt_lite.tools.bench import bench_concurrency

        bench_concurrency(processes=args.processes)


def _positive_steps(text: str) -> int:
    """argparse type of --stop-after: a whole number of steps, at least 1 (0 or less would save nothing)."""
    try:
        steps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of steps; pass e.g. --stop-after 100.") from None
    if steps < 1:
        raise argparse.ArgumentTypeError(f"{steps} steps would train nothing and write no checkpoint; pass at least 1.")
    return steps


def _add_training_args(p: argparse.ArgumentParser, presets: str) -> None:
    p.add_argument("--preset", help=f"one of {presets} (default: $MOTIONGPT_LITE_PRESET or small)")
    p.add_argument("--no-resume", action="store_true", help="start over instead of continuing from the checkpoint")
    p.add_argument("--stop-after", type=_positive_steps, help="stop (with a checkpoint) after this many steps (>= 1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motiongpt-lite", description="MotionGPT, rebuilt for learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    presets = ", ".join(PRESETS)

    p = sub.add_parser("run", help="run the whole pipeline at a preset (resumable)")
    p.add_argument("--preset", help=f"one of {presets} (default: $MOTIONGPT_LITE_PRESET or small)")
    p.add_argument("--stages", nargs="+", help="run only these stages, in the order given")
    p.add_argument("--redo", action="store_true", help="run stages again even if an earlier run finished them")
    p.add_argument("--smoke", action="store_true", help="two steps of every stage at the preset's full width on a few "
                   "clips, into checkpoints/<preset>-smoke: checks the code path in minutes, learns nothing")
    p.set_defaults(func=_cmd_run)

    data = sub.add_parser("data", help="datasets").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("build", help="generate the embedded dataset in the HumanML3D layout")
    p.add_argument("--preset", help=f"one of {presets}; sets the size")
    p.add_argument("--out", help="target folder (default: <data root>/embedded_<preset>)")
    p.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    p.add_argument("--num-motions", type=int, help="motions before mirroring (default: the preset's)")
    p.add_argument("--overwrite", action="store_true", help="rebuild even if a complete build is there")
    p.set_defaults(func=_cmd_data_build)

    p = sub.add_parser("animate", help="render one clip of a dataset folder to .gif or .mp4")
    p.add_argument("clip", help="clip id, e.g. 000012 or M000012")
    p.add_argument("--out", default="clip.gif", help="output file (.gif or .mp4)")
    p.add_argument("--dataset", help="dataset folder (default: the preset's embedded set)")
    p.add_argument("--preset", help=f"one of {presets}")
    p.set_defaults(func=_cmd_animate)

    p = sub.add_parser("train-vq", help="train the motion tokenizer (VQ-VAE) of a preset, resumable")
    _add_training_args(p, presets)
    p.set_defaults(func=_cmd_train_vq)

    p = sub.add_parser("tokenize", help="write the motion tokens of the preset's dataset (mirrors included)")
    p.add_argument("--preset", help=f"one of {presets}")
    p.add_argument("--out", help="folder for <id>.npy token files (default: checkpoints/<preset>/vq/tokens)")
    p.set_defaults(func=_cmd_tokenize)

    p = sub.add_parser("pretrain", help="motion-language pretraining of T5, resumable")
    _add_training_args(p, presets)
    p.set_defaults(func=_cmd_pretrain)

    p = sub.add_parser("instruct", help="instruction tuning from the pretrained model, resumable")
    _add_training_args(p, presets)
    p.set_defaults(func=_cmd_instruct)

    p = sub.add_parser("train-evaluator", help="train the retrieval evaluator of the metrics (else `evaluate` does)")
    _add_training_args(p, presets)
    p.set_defaults(func=_cmd_train_evaluator)

    p = sub.add_parser("evaluate", help="evaluate the preset's tuned model as the paper does (after `instruct`)")
    p.add_argument("--preset", help=f"one of {presets} (default: $MOTIONGPT_LITE_PRESET or small)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("gallery", help="test captions -> motions as filmstrips with their semantic verdicts (after `run`)")
    p.add_argument("--preset", default=None, help="preset of the trained model (default: MOTIONGPT_LITE_PRESET or small)")
    p.add_argument("--out", default="docs/gallery", help="folder for gallery.md and its images (default: docs/gallery)")
    p.add_argument("--force", action="store_true", help="write even over a gallery.md this command did not write")
    p.set_defaults(func=_cmd_gallery)
    p = sub.add_parser("thesis", help="does reading text first help? random init vs text-first (vs flan-t5-small)")
    p.add_argument("--preset", help=f"one of {presets} (default: $MOTIONGPT_LITE_PRESET or small); needs its `vq` and `tokens`")
    p.add_argument("--text-steps", type=_positive_steps, help="text-only pretraining steps (default: half the preset's pretraining)")
    p.add_argument("--pretrain-steps", type=_positive_steps, help="motion-language pretraining steps (default: the preset's)")
    p.add_argument("--instruct-steps", type=_positive_steps, help="instruction-tuning steps (default: the preset's)")
    p.add_argument("--clips", type=_positive_steps, default=48, help="labelled test motions scored (default 48)")
    p.add_argument("--no-flan", action="store_true", help="leave out the flan-t5-small arm")
    p.set_defaults(func=_cmd_thesis)

    p = sub.add_parser("bench", help="print speed and memory numbers on the present device")
    p.add_argument("what", choices=["vq", "lm", "concurrency", "estimate"],
                   help="the motion tokenizer, the language model, several training processes sharing the cores, or "
                   "a preset's training time on a T4 estimated from FLOPs counted here")
    p.add_argument("--preset", help="estimate: the preset (default gpu)")
    p.add_argument("--processes", type=int, default=2, help="concurrency: processes started together (default 2)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="auto, cpu, cuda or mps")
    p.set_defaults(func=_cmd_bench)

    from motiongpt_lite.tools.classroom import add_subcommands as add_classroom_commands

    add_classroom_commands(sub)  # student, progress, lint-notebooks
    from motiongpt_lite.tools.notebook_check import add_subcommands as add_notebook_check

    add_notebook_check(sub)  # check-notebooks
    from motiongpt_lite.tools.executed_course import add_subcommands as add_executed_course

    add_executed_course(sub)  # execute-notebooks
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"motiongpt-lite: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        from motiongpt_lite.runtime import RunFolderBusy

        if not isinstance(error, RunFolderBusy):
            raise
        print(f"motiongpt-lite: error: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
