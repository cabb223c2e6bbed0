"""Run every notebook top to bottom at a preset, as a learner would, and report how each one went.

``motiongpt-lite check-notebooks --preset small [--clean]`` executes the notebooks in name order (00 ... 08),
each in a fresh ``python3`` kernel started in the notebook's own folder, with ``MOTIONGPT_LITE_PRESET`` set to
the preset and matplotlib's inline backend (as in JupyterLab: figures become PNG outputs, so the sizes below
are what a learner's saved notebook holds; an ``MPLBACKEND`` of the calling shell is not passed on). A notebook stops at its first failing cell, as "Run All"
does in JupyterLab (cells tagged ``raises-exception`` may fail). The table it prints says, per notebook,
whether it passed (or the cell it failed at, and why), how long it took and how large the notebook is once
it holds its outputs::

    | notebook                 | result | time   | size with outputs |
    |--------------------------|--------|--------|-------------------|
    | 00_setup_and_tour.ipynb  | ok     | 35 s   | 9.5 MB            |
    | 07_evaluation.ipynb      | FAIL   | 41 s   | 12.2 MB           |
    ...

The executed notebooks, ``report.md`` (the table) and ``report.json`` go to a scratch folder (default
``outputs/notebook_check/<preset>``), never over the notebooks themselves. ``--clean`` starts from no
checkpoints: the kernels get an empty ``MOTIONGPT_LITE_CHECKPOINTS`` inside that folder, so every stage a
notebook needs is trained from scratch, as after a fresh clone (the datasets under ``MOTIONGPT_LITE_DATA``
are kept; the embedded set is rebuilt only where it is missing). Without ``--clean`` the notebooks reuse
the checkpoints of earlier runs (the main job's, for example).

Needs ``nbclient`` and ``nbformat`` (installed with ``pip install -e .[dev]`` or with JupyterLab).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

__all__ = ["NotebookRun", "run_notebook", "check_notebooks", "runs_table", "add_subcommands", "MARKER"]

MARKER = ".check-notebooks"  # the file that marks an output folder as written by this command
DEFAULT_TIMEOUT = 3600  # seconds a single cell may take before the notebook counts as failed


@dataclass
class NotebookRun:
    """How one notebook went.

    Attributes:
        notebook: its file name.
        ok: every cell ran (cells tagged ``raises-exception`` may fail).
        seconds: wall time from starting the kernel to the end of the last cell run.
        size_bytes: size of the executed notebook, outputs included (as ``output`` holds it).
        failed_cell: index of the failing cell in the notebook's ``cells`` list, or None.
        failed_code_cell: the failing cell's number among the code cells, 1-based (Jupyter's ``In [n]``
            after a Run All), or None.
        error: ``ErrorName: message`` of the failure (first line), or "".
        output: path of the executed notebook.
    """

    notebook: str
    ok: bool
    seconds: float
    size_bytes: int
    failed_cell: int | None = None
    failed_code_cell: int | None = None
    error: str = ""
    output: str = ""

    @property
    def result(self) -> str:
        """``ok``, or ``FAIL at code cell n (index i): Error: message``."""
        if self.ok:
            return "ok"
        where = (f" at code cell {self.failed_code_cell} (index {self.failed_cell})"
                 if self.failed_cell is not None else "")
        return f"FAIL{where}: {self.error}"


def _size(num_bytes: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f} {unit}"
    return f"{num_bytes} B"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def run_notebook(path: str | Path, output: str | Path, env: dict[str, str],
                 timeout: int | None = DEFAULT_TIMEOUT) -> NotebookRun:
    """Execute one notebook top to bottom in a fresh kernel; write it, outputs included, to ``output``.

    Args:
        path: the notebook; it is read, never written.
        output: where the executed notebook goes (also after a failure, with the outputs up to it).
        env: the kernel's whole environment.
        timeout: seconds one cell may take (None: no limit); a cell that takes longer fails the notebook.
    Returns:
        A :class:`NotebookRun`.
    """
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as error:
        raise RuntimeError("check-notebooks needs nbclient and nbformat; install them with "
                           "`pip install nbclient nbformat` (or `pip install -e .[dev]`).") from error
    path, output = Path(path), Path(output)
    nb = nbformat.read(path, as_version=4)
    current: dict[str, int] = {}

    def on_cell_execute(cell, cell_index, **_) -> None:
        current["index"] = cell_index

    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}},
                            on_cell_execute=on_cell_execute)
    start = time.perf_counter()
    error = ""
    try:
        client.execute(env=env)
    except Exception as failure:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
        error = (f"{failure.ename}: {_first_line(failure.evalue)}" if getattr(failure, "ename", None)
                 else f"{type(failure).__name__}: {_first_line(failure)}")
    seconds = time.perf_counter() - start
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    failed = current.get("index") if error else None
    code_number = (sum(c.cell_type == "code" for c in nb.cells[:failed + 1]) if failed is not None else None)
    return NotebookRun(path.name, not error, seconds, output.stat().st_size, failed, code_number, error, str(output))


def _prepare_output(out: Path, sources: Sequence[Path]) -> None:
    """Make ``out`` ready for this command's files; refuse a folder that is not a scratch folder of ours."""
    out = out.resolve()
    if any(out == source.parent.resolve() for source in sources):
        raise ValueError(f"{out} holds the notebooks being checked; pass --out a scratch folder "
                         "(the executed copies must never replace the notebooks).")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(f"{out} is not empty and was not written by check-notebooks; pass --out an empty or new "
                         "folder.")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `motiongpt-lite check-notebooks`; safe to delete\n")


def check_notebooks(preset: str = "small", notebooks: str | Path | Sequence[str | Path] = "notebooks",
                    out_dir: str | Path | None = None, clean: bool = False, only: Sequence[str] = (),
                    timeout: int | None = DEFAULT_TIMEOUT, progress: bool = True,
                    env: dict[str, str] | None = None) -> list[NotebookRun]:
    """Execute notebooks at ``preset``, one fresh kernel each, in name order, and report each one.

    Args:
        preset: ``MOTIONGPT_LITE_PRESET`` for the kernels (tiny, small, gpu, base, paper).
        notebooks: a folder (every ``*.ipynb`` in it) or a list of notebook files.
        out_dir: scratch folder for the executed notebooks and the report (default
            ``outputs/notebook_check/<preset>``); refused if it holds the notebooks or files of others.
        clean: give the kernels an empty checkpoint folder (``<out_dir>/checkpoints``, emptied first), so
            that nothing trained earlier is reused.
        only: keep the notebooks whose file name starts with one of these (e.g. ``["00", "04"]``).
        timeout: seconds one cell may take before its notebook counts as failed (None: no limit).
        progress: print a line per notebook to stderr while running.
        env: further environment variables for the kernels.
    Returns:
        One :class:`NotebookRun` per notebook; ``report.md`` and ``report.json`` are written to ``out_dir``.
    Raises:
        FileNotFoundError: no notebooks to run.
        ValueError: ``out_dir`` is the notebooks' folder or a folder this command did not write.
    """
    if isinstance(notebooks, (str, Path)):
        folder = Path(notebooks)
        paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(".")) if folder.is_dir() else []
    else:
        paths = [Path(p) for p in notebooks]
    paths = [p for p in paths if not only or p.name.startswith(tuple(only))]
    if not paths:
        raise FileNotFoundError(f"no notebooks to run in {notebooks}" + (f" starting with {list(only)}" if only else "")
                                + "; pass --notebooks the folder of the notebooks (default: notebooks).")
    out = Path(out_dir) if out_dir else Path("outputs") / "notebook_check" / preset
    _prepare_output(out, paths)
    env = {**{k: v for k, v in os.environ.items() if k != "MPLBACKEND"}, "MOTIONGPT_LITE_PRESET": preset, **(env or {})}
    if clean:
        checkpoints = out / "checkpoints"
        shutil.rmtree(checkpoints, ignore_errors=True)
        checkpoints.mkdir(parents=True)
        env["MOTIONGPT_LITE_CHECKPOINTS"] = str(checkpoints.resolve())
    runs = []
    for path in paths:
        if progress:
            print(f"[check-notebooks] {path.name} at preset {preset} ...", file=sys.stderr, flush=True)
        run = run_notebook(path, out / path.name, env, timeout=timeout)
        runs.append(run)
        if progress:
            print(f"[check-notebooks] {path.name}: {run.result} ({_duration(run.seconds)})", file=sys.stderr, flush=True)
    table = runs_table(runs, preset, clean)
    (out / "report.md").write_text(table + "\n")
    (out / "report.json").write_text(json.dumps({
        "preset": preset, "clean": clean, "checkpoints": env.get("MOTIONGPT_LITE_CHECKPOINTS", "(default)"),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "runs": [asdict(r) for r in runs]}, indent=1) + "\n")
    return runs


def runs_table(runs: Sequence[NotebookRun], preset: str, clean: bool = False) -> str:
    """A markdown table (notebook, result, time, size with outputs), then one line with the totals."""
    rows = [("notebook", "result", "time", "size with outputs")] + [
        (r.notebook, r.result.replace("|", "/"), _duration(r.seconds), _size(r.size_bytes)) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    passed = sum(r.ok for r in runs)
    state = "from a clean state (no checkpoints)" if clean else "reusing the checkpoints already there"
    return ("\n".join(lines) + f"\n\n{passed} of {len(runs)} notebooks passed at preset {preset}, {state}; "
            f"{_duration(sum(r.seconds for r in runs))} in all.")


# --- command ---

def _cmd_check(args: argparse.Namespace) -> None:
    runs = check_notebooks(args.preset, args.notebooks, out_dir=args.out, clean=args.clean, only=args.only,
                           timeout=args.timeout or None)
    print(runs_table(runs, args.preset, args.clean))
    print(f"\nexecuted notebooks and report.md in {Path(runs[0].output).parent}")
    failed = [r.notebook for r in runs if not r.ok]
    if failed:
        raise ValueError(f"{len(failed)} notebook(s) failed: {', '.join(failed)}; open the executed copies to see "
                         "the failing cell's traceback.")


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add ``check-notebooks`` to a command line's subcommands."""
    p = sub.add_parser("check-notebooks", help="run every notebook top to bottom at a preset (fresh kernel each) "
                                              "and report pass/fail, time and size")
    p.add_argument("--preset", default="small", help="preset to run at (default: small, what a learner uses)")
    p.add_argument("--clean", action="store_true", help="start from no checkpoints (an empty folder inside --out)")
    p.add_argument("--notebooks", default="notebooks", help="folder of the notebooks (default: notebooks)")
    p.add_argument("--only", nargs="+", default=(), metavar="PREFIX",
                   help="run only the notebooks whose name starts with these, e.g. --only 00 04")
    p.add_argument("--out", help="scratch folder for the executed notebooks and report.md "
                                 "(default: outputs/notebook_check/<preset>)")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                   help=f"seconds one cell may take before its notebook fails (default {DEFAULT_TIMEOUT}; 0: no limit)")
    p.set_defaults(func=_cmd_check)


def main(argv: list[str] | None = None) -> int:
    """``python -m motiongpt_lite.tools.notebook_check [--preset small] [--clean] ...``"""
    parser = argparse.ArgumentParser(prog="python -m motiongpt_lite.tools.notebook_check", description=__doc__.splitlines()[0])
    add_subcommands(parser.add_subparsers(dest="command"))
    from motiongpt_lite.tools.classroom import run_tool

    return run_tool(parser, ["check-notebooks", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
