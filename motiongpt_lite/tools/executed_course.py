"""The executed course: the notebooks stored with the outputs of one run, written back by one command.

``motiongpt-lite execute-notebooks --preset small --clean`` runs notebooks 00 ... 08 as
``check-notebooks`` does (name order, a fresh kernel each, every stage trained where a notebook introduces
it and reused after; ``--clean`` from no checkpoints), with animations stored as GIFs
(``MOTIONGPT_LITE_ANIMATION=gif``, see :func:`motiongpt_lite.viz.to_html`) and matplotlib figures as PNGs.
Only when every notebook passed does it write them back, each with

* its outputs, copied cell by cell onto the notebook's own cells (the sources are never taken from the
  executed copy);
* the preset's row of its run-time table replaced by this run's measured time, and a line at the end of
  the first cell saying which command, date, commit and package version produced the stored outputs;
* a record in the notebook's metadata (``metadata["motiongpt_lite"]``): the same facts, plus the sha256 of
  its cell sources and of its outputs. ``lint-notebooks`` accepts stored outputs only when both still
  match: a source cell changed after the run (stale outputs) or an output edited by hand is refused.

Then it publishes the run in the README, between :data:`README_BEGIN` and :data:`README_END`: the gallery
written by notebook 07 (copied to ``docs/gallery``), the outputs of the cells tagged ``readme``, and a table
linking each notebook with its time and size.

It refuses, before running anything, a notebook holding outputs it did not write (a teacher's executed
copy, say) unless ``--force``, and it writes nothing back if a notebook's file changed while it ran.
Every file is written atomically (a temporary file, then a rename).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

__all__ = ["RECORD_KEY", "STORED_LINE", "README_BEGIN", "README_END", "sources_digest", "outputs_digest",
           "record_problems", "strip_record", "execute_notebooks", "add_subcommands"]

RECORD_KEY = "motiongpt_lite"  # notebook metadata key of the run record
STORED_LINE = "> **Stored outputs:**"  # starts the first cell's line about the run
README_BEGIN = "<!-- execute-notebooks: begin (written by `motiongpt-lite execute-notebooks`; edits are replaced) -->"
README_END = "<!-- execute-notebooks: end -->"
README_TAG = "readme"  # cells whose outputs the README shows
GIF_ENV = {"MOTIONGPT_LITE_ANIMATION": "gif"}  # viz.ANIMATION_FORMAT: animations stored as GIFs


# --- what the record fingerprints ---

def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _joined(output: dict) -> dict:
    """An output with its multi-line strings joined (a file stores them as lists, nbformat as strings)."""
    output = dict(output)
    if "text" in output:
        output["text"] = _text(output["text"])
    if isinstance(output.get("data"), dict):
        output["data"] = {mime: _text(value) if isinstance(value, list) and all(isinstance(v, str) for v in value)
                          else value for mime, value in output["data"].items()}
    return output


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sources_digest(nb: dict) -> str:
    """sha256 of every cell's type and source, in order (what makes outputs stale when it changes)."""
    return _digest([[cell["cell_type"], _text(cell.get("source", ""))] for cell in nb.get("cells", [])])


def outputs_digest(nb: dict) -> str:
    """sha256 of every code cell's execution count and outputs, in order."""
    return _digest([[cell.get("execution_count"), [_joined(o) for o in cell.get("outputs", [])]]
                    for cell in nb.get("cells", []) if cell["cell_type"] == "code"])


def record_problems(nb: dict) -> list[str]:
    """Why a notebook's stored outputs are not the ones ``execute-notebooks`` wrote (empty when they are).

    A notebook without a record has none to check (the lint then asks for stripped outputs instead).
    """
    record = nb.get("metadata", {}).get(RECORD_KEY)
    if record is None:
        return []
    again = f"run `{record.get('command', 'motiongpt-lite execute-notebooks')}` again"
    problems = []
    if record.get("sources_sha256") != sources_digest(nb):
        problems.append(f"its stored outputs are stale: a cell changed after execute-notebooks ran it (commit "
                        f"{record.get('commit', '?')}, {record.get('date', '?')}); {again}, or strip the outputs "
                        f"and the '{RECORD_KEY}' metadata.")
    if record.get("outputs_sha256") != outputs_digest(nb):
        problems.append(f"its stored outputs were edited after execute-notebooks wrote them; {again}, or strip "
                        f"the outputs and the '{RECORD_KEY}' metadata.")
    return problems


def strip_record(nb: dict) -> None:
    """Remove the run record and the first cell's stored-outputs line (for a copy without outputs)."""
    nb.get("metadata", {}).pop(RECORD_KEY, None)
    if nb.get("cells"):
        first = nb["cells"][0]
        lines = _text(first.get("source", "")).split("\n")
        kept = [line for line in lines if not line.startswith(STORED_LINE)]
        if kept != lines:
            while kept and not kept[-1].strip():
                kept.pop()
            first["source"] = "\n".join(kept).splitlines(keepends=True)


# --- helpers ---

def _has_outputs(nb: dict) -> bool:
    """True when a code cell other than a checker (tagged ``nbval-check-output``) holds outputs."""
    return any(cell.get("outputs") for cell in nb.get("cells", [])
               if cell["cell_type"] == "code" and "nbval-check-output" not in cell.get("metadata", {}).get("tags", []))


def _commit(folder: Path) -> str:
    """Short hash of the checkout's HEAD, with ``+changes`` when the package's files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ":/motiongpt_lite", ":/pyproject.toml")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+changes" if changed else "")


def _write_atomic(path: Path, text: str | bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    if isinstance(text, bytes):
        temporary.write_bytes(text)
    else:
        temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _notebook_text(nb: dict) -> str:
    """The file's text as JupyterLab saves it (multi-line strings as lists of lines)."""
    from nbformat import from_dict
    from nbformat.v4.rwbase import split_lines

    return json.dumps(split_lines(from_dict(json.loads(json.dumps(nb)))), indent=1, ensure_ascii=False) + "\n"


def _facts(preset: str, clean: bool, seconds: float, commit: str) -> tuple[str, str]:
    """(command, where it started) for the notebook's lines."""
    from motiongpt_lite import __version__
    from motiongpt_lite.tools.notebook_check import _duration

    command = f"motiongpt-lite execute-notebooks --preset {preset}" + (" --clean" if clean else "")
    state = "from a clean state" if clean else "reusing the checkpoints already there"
    return command, (f"{_duration(seconds)} {state}, the run whose outputs are stored here (`{command}`, "
                     f"{time.strftime('%Y-%m-%d')}, commit {commit}, motiongpt_lite {__version__}, "
                     f"{os.cpu_count()}-core CPU)")


def _with_outputs(source: dict, executed: dict, preset: str, clean: bool, seconds: float, commit: str) -> dict:
    """``source`` with the outputs of ``executed``, the run-time row, the stored line and the record."""
    from motiongpt_lite import __version__

    nb = json.loads(json.dumps(source))
    ran = executed["cells"]
    if [(c["cell_type"], _text(c.get("source", ""))) for c in ran] != [
            (c["cell_type"], _text(c.get("source", ""))) for c in nb["cells"]]:
        raise ValueError("the executed copy's cells are not the notebook's; run again.")
    for cell, done in zip(nb["cells"], ran):
        if cell["cell_type"] == "code":
            cell["outputs"] = [_joined(o) for o in done.get("outputs", [])]
            cell["execution_count"] = done.get("execution_count")
    command, when = _facts(preset, clean, seconds, commit)
    first = nb["cells"][0]
    text = _text(first.get("source", ""))
    text = re.sub(rf"^\| `{re.escape(preset)}` \|.*\|$", lambda _: f"| `{preset}` | {when} |", text, count=1,
                  flags=re.MULTILINE)
    text = "\n".join(line for line in text.split("\n") if not line.startswith(STORED_LINE)).rstrip()
    text += (f"\n\n{STORED_LINE} `{command}` ran this notebook on {time.strftime('%Y-%m-%d')} at commit {commit} "
             f"(motiongpt_lite {__version__}); the outputs below are that run's. Yours should match them "
             "number for number on the same kind of machine.")
    first["source"] = text.splitlines(keepends=True)
    nb.setdefault("metadata", {})[RECORD_KEY] = {
        "command": command, "preset": preset, "clean": clean, "date": time.strftime("%Y-%m-%d"),
        "version": __version__, "commit": commit, "seconds": round(seconds, 1), "cpu_count": os.cpu_count(),
        "sources_sha256": sources_digest(nb), "outputs_sha256": outputs_digest(nb)}
    return nb


# --- the README ---

def _readme_outputs(nbs: dict[str, dict]) -> list[str]:
    """The markdown and printed text of every cell tagged ``readme``, in notebook order."""
    parts = []
    for name, nb in nbs.items():
        for cell in nb["cells"]:
            if README_TAG not in cell.get("metadata", {}).get("tags", []):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stdout":
                    parts.append("\n".join(f"> {line}" for line in _text(output["text"]).rstrip().split("\n")))
                elif "text/markdown" in output.get("data", {}):
                    parts.append(_text(output["data"]["text/markdown"]).strip())
    return parts


def _check_gallery_target(docs: Path, force: bool) -> None:
    """Refuse a ``docs/gallery.md`` that the gallery writer did not write (unless ``force``)."""
    from motiongpt_lite.pipeline import GALLERY_MARK

    target = docs / "gallery.md"
    if target.exists() and GALLERY_MARK not in target.read_text(encoding="utf-8") and not force:
        raise ValueError(f"{target} was not written by `motiongpt-lite gallery`; move it or pass --force.")


def _publish_gallery(source: Path, docs: Path, root: Path) -> list[str]:
    """Copy the gallery written by notebook 07 into ``docs``; its table rows, image paths relative to ``root``."""
    page = source / "gallery.md"
    if not page.is_file():
        return []
    docs.mkdir(parents=True, exist_ok=True)
    for old in docs.glob("gallery_*.png"):
        old.unlink()
    for image in sorted(source.glob("gallery_*.png")):
        _write_atomic(docs / image.name, image.read_bytes())
    text = page.read_text(encoding="utf-8")
    _write_atomic(docs / "gallery.md", text)
    prefix = docs.resolve().relative_to(root.resolve()).as_posix() + "/"
    return [re.sub(r"!\[\]\((gallery_\d+\.png)\)", lambda m: f"![]({prefix}{m[1]})", line)
            for line in text.splitlines() if line.startswith("|")]


def _readme_block(runs, nbs: dict[str, dict], gallery: list[str], preset: str, clean: bool, commit: str,
                  notebooks: Path, root: Path) -> str:
    from motiongpt_lite import __version__
    from motiongpt_lite.tools.notebook_check import _duration, _size

    command, _ = _facts(preset, clean, 0.0, commit)
    total = sum(r.seconds for r in runs)
    state = "from a clean state" if clean else "reusing the checkpoints already there"
    folder = notebooks.resolve().relative_to(root.resolve()).as_posix()
    lines = [README_BEGIN, f"**The course, executed.** `{command}` ran the notebooks one after another on "
             f"{time.strftime('%Y-%m-%d')} at commit {commit} (motiongpt_lite {__version__}, {os.cpu_count()}-core "
             f"CPU, {state}): {_duration(total)} in all. Each notebook is stored with that run's outputs, so you can "
             "read the argument before running it and compare your run with it. The notebooks train their own "
             "model, stage by stage as a learner does; its numbers are not those of the main job below.", "",
             "| notebook | run time | size with outputs |", "|---|---|---|"]
    lines += [f"| [{r.notebook}]({folder}/{r.notebook}) | {_duration(r.seconds)} | "
              f"{_size(len(_notebook_text(nbs[r.notebook]).encode()))} |" for r in runs]
    outputs = _readme_outputs(nbs)
    if outputs:
        lines += ["", "What the model does, from the same run (notebook 07):", "", *"\n\n".join(outputs).split("\n")]
    if gallery:
        lines += ["", "Its gallery (notebook 07 §9, `write_gallery`: fixed seed, failures included):", "", *gallery]
    return "\n".join(lines + [README_END])


def _publish_readme(readme: Path, block: str) -> bool:
    text = readme.read_text(encoding="utf-8")
    if README_BEGIN not in text or README_END not in text:
        return False
    head, rest = text.split(README_BEGIN, 1)
    _write_atomic(readme, head + block + rest.split(README_END, 1)[1])
    return True


# --- the command ---

def execute_notebooks(preset: str = "small", notebooks: str | Path = "notebooks", clean: bool = False,
                      force: bool = False, only: Sequence[str] = (), out_dir: str | Path | None = None,
                      readme: str | Path | None = None, timeout: int | None = None, progress: bool = True):
    """Execute the notebooks at ``preset`` and write them back with their outputs (see the module's docstring).

    Args:
        preset: the preset the kernels run at (``small`` is what the repository stores).
        notebooks: the notebooks' folder; every ``*.ipynb`` in it is run, in name order.
        clean: start from no checkpoints (a folder inside ``out_dir``), as after a fresh clone.
        force: replace outputs that this command did not write.
        only: keep the notebooks whose name starts with one of these.
        out_dir: scratch folder for the executed copies (default ``outputs/execute_notebooks/<preset>``).
        readme: the README to publish the run in (between the markers; None: no README), with the gallery
            copied to ``docs/gallery`` beside it.
        timeout: seconds one cell may take (None: the check-notebooks default).
        progress: print a line per notebook while running.
    Returns:
        The :class:`~motiongpt_lite.tools.notebook_check.NotebookRun` of each notebook.
    Raises:
        ValueError: a notebook holds outputs this command did not write, or ``docs/gallery/gallery.md`` is
            not the gallery writer's (and not ``force``), both before anything runs; a notebook failed, or a
            notebook's file changed during the run: nothing is written back then.
    """
    from motiongpt_lite.tools.classroom import _notebooks, _read
    from motiongpt_lite.tools.notebook_check import DEFAULT_TIMEOUT, check_notebooks, runs_table

    folder = Path(notebooks)
    paths = [p for p in _notebooks(folder) if not only or p.name.startswith(tuple(only))]
    if not paths:
        raise FileNotFoundError(f"no notebooks in {folder}" + (f" starting with {list(only)}" if only else "")
                                + "; pass --notebooks the folder of the notebooks.")
    sources = {path: _read(path) for path in paths}
    foreign = [path.name for path, nb in sources.items()  # stale outputs of ours are not foreign: they are replaced
               if _has_outputs(nb) and nb.get("metadata", {}).get(RECORD_KEY, {}).get("outputs_sha256") != outputs_digest(nb)]
    if foreign and not force:
        raise ValueError(f"{', '.join(foreign)} hold outputs that execute-notebooks did not write; save them elsewhere "
                         "(or commit them), then run again with --force to replace them.")
    docs = Path(readme).parent / "docs" / "gallery" if readme is not None else None
    if docs is not None:
        _check_gallery_target(docs, force)
    before = {path: path.read_bytes() for path in paths}
    out = Path(out_dir) if out_dir else Path("outputs") / "execute_notebooks" / preset
    runs = check_notebooks(preset, paths, out_dir=out, clean=clean, timeout=timeout or DEFAULT_TIMEOUT,
                           progress=progress, env=GIF_ENV)
    failed = [r.notebook for r in runs if not r.ok]
    if failed:
        raise ValueError(f"{', '.join(failed)} failed, so no notebook was written back:\n{runs_table(runs, preset, clean)}")
    changed = [path.name for path in paths if path.read_bytes() != before[path]]
    if changed:
        raise ValueError(f"{', '.join(changed)} changed while it ran, so no notebook was written back; run again "
                         "once the edits are saved.")
    commit = _commit(folder.resolve())
    written = {}
    for path, run in zip(paths, runs):
        executed = json.loads(Path(run.output).read_text(encoding="utf-8"))
        written[path.name] = _with_outputs(sources[path], executed, preset, clean, run.seconds, commit)
    for path in paths:
        _write_atomic(path, _notebook_text(written[path.name]))
    if readme is not None:
        readme = Path(readme)
        from motiongpt_lite.config import checkpoint_root

        checkpoints = (out / "checkpoints") if clean else checkpoint_root()
        gallery = _publish_gallery(checkpoints / preset / "gallery", docs, readme.parent)
        block = _readme_block(runs, written, gallery, preset, clean, commit, folder, readme.parent)
        if not _publish_readme(readme, block):
            print(f"[execute-notebooks] {readme} has no '{README_BEGIN}' ... '{README_END}' block; README left as it "
                  "is.", file=sys.stderr)
    return runs


def _cmd_execute(args) -> None:
    from motiongpt_lite.tools.notebook_check import runs_table

    readme = Path(args.notebooks).resolve().parent / "README.md"
    runs = execute_notebooks(args.preset, args.notebooks, clean=args.clean, force=args.force, only=args.only,
                             out_dir=args.out, readme=readme if readme.is_file() and not args.only else None,
                             timeout=args.timeout or None)
    print(runs_table(runs, args.preset, args.clean))
    print(f"\nwrote the {len(runs)} notebooks back with their outputs" + ("" if args.only else f" and updated {readme}"))


def add_subcommands(sub) -> None:
    """Add ``execute-notebooks`` to a command line's subcommands."""
    p = sub.add_parser("execute-notebooks", help="run every notebook at a preset and store its outputs in it "
                                                "(the executed course; updates the README's results)")
    p.add_argument("--preset", default="small", help="preset to run at (default: small, what the repository stores)")
    p.add_argument("--clean", action="store_true", help="start from no checkpoints, as after a fresh clone")
    p.add_argument("--force", action="store_true", help="replace outputs that execute-notebooks did not write")
    p.add_argument("--notebooks", default="notebooks", help="folder of the notebooks (default: notebooks)")
    p.add_argument("--only", nargs="+", default=(), metavar="PREFIX",
                   help="only the notebooks whose name starts with these (the README is then left alone)")
    p.add_argument("--out", help="scratch folder for the executed copies (default: outputs/execute_notebooks/<preset>)")
    p.add_argument("--timeout", type=int, default=0, help="seconds one cell may take (default: check-notebooks')")
    p.set_defaults(func=_cmd_execute)
