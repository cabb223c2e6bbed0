"""The headless main job: every stage of the tutorial in order, resumable (``motiongpt-lite run``).

Each stage writes into the preset's run folder (``config.run_dir``) and is skipped when its
outputs are already complete, so an interrupted run continues where it stopped. The run ends
with a summary table on stdout and ``report.json`` in the run folder.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from motiongpt_lite.config import Preset, embedded_dir, run_dir

__all__ = ["run", "STAGES"]


def stage_data(preset: Preset, out: Path) -> dict:
    """Build (or find) the embedded dataset of the preset."""
    from motiongpt_lite.data.synthetic import build_embedded_dataset

    summary = build_embedded_dataset(embedded_dir(preset), preset=preset.name)
    return {"dataset": str(embedded_dir(preset)), **{k: v for k, v in summary.items() if isinstance(v, (int, float, str))}}


def stage_demo(preset: Preset, out: Path, num_clips: int = 3) -> dict:
    """Animate a few held-out clips with their first caption as GIFs."""
    from motiongpt_lite import viz
    from motiongpt_lite.data.dataset import load_split

    split = load_split(embedded_dir(preset), "test", dataset="embedded")
    written = []
    for clip in split.clips[:num_clips]:
        path = out / "demo" / f"{clip.id}.gif"
        if not path.exists():
            from motiongpt_lite.data.features import features_to_joints
            caption = clip.captions[0].text if clip.captions else clip.id
            anim = viz.animate(features_to_joints(clip.motion), title=caption)
            path.parent.mkdir(parents=True, exist_ok=True)
            viz.save_animation(anim, path)
        written.append(str(path))
    return {"animations": written}


STAGES: dict[str, Callable[[Preset, Path], dict]] = {"data": stage_data, "demo": stage_demo}


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
    report = {"preset": preset.name, "stages": {}}
    for name in names:
        print(f"[run] stage {name} ...", flush=True)
        start = time.perf_counter()
        result = STAGES[name](preset, out)
        report["stages"][name] = {"seconds": round(time.perf_counter() - start, 2), **result}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_jsonable))
    _print_summary(report)
    print(f"[run] report written to {out / 'report.json'}")
    return report


def _jsonable(value):
    return value.tolist() if isinstance(value, np.ndarray) else str(value)


def _print_summary(report: dict) -> None:
    print(f"\nSummary (preset {report['preset']})")
    print(f"{'stage':<10} {'seconds':>8}  results")
    for name, result in report["stages"].items():
        details = ", ".join(f"{k}={v}" for k, v in result.items() if k != "seconds" and not isinstance(v, (list, dict)))
        print(f"{name:<10} {result['seconds']:>8.1f}  {details}")
