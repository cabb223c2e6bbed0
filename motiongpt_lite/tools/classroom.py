"""Classroom kit: student copies of the notebooks, a learner's progress report, and the notebook lint.

Notebook 00 ends with the progress report; ``docs/teaching.md`` explains how a teacher uses the rest.

* **Student copies.** Every exercise of a notebook is a ``### Exercise N.M — title`` markdown cell, a
  solution cell whose code sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines, and a checker
  cell ``run_check("N.M", lambda: check_exercise_N_M(...))``. :func:`student_notebook` replaces each
  solution block by ``raise NotImplementedError("Exercise N.M: ...")`` (at the block's indentation, so a
  block inside a function body stays a function body), strips all outputs, removes the
  ``nbval-check-output`` tags and tags the solution cells ``raises-exception``, so that "Run All" in
  JupyterLab, nbclient and nbval go on past them. Text after the marker, ``# BEGIN SOLUTION: what to
  write``, replaces the generated description of what to write. Copies are never written into the
  solution notebooks' folder, and an existing file is overwritten only when it is the copy generated
  last time, unchanged (``.student_copies.json`` in the output folder records their sha256): a notebook
  that holds solution markers, or that a learner has edited, is left alone unless ``--force``.
* **Progress.** :func:`progress` reads the saved outputs of a learner's checker cells (or runs the
  notebooks first) and says, per exercise, ``correct``, ``not done yet``, ``error`` or ``not run``.
* **Lint.** :func:`lint_notebook` lists every way a solution notebook breaks the exercise conventions
  (``NOTEBOOKS.md``); the tests run it over ``notebooks/*.ipynb``.

Commands: ``motiongpt-lite student [--out DIR]``, ``motiongpt-lite progress [DIR] [--run]`` and
``motiongpt-lite lint-notebooks`` (also ``python -m motiongpt_lite.tools.classroom ...``). Only the standard
library is needed, except for ``--run``, which executes notebooks with ``nbclient``.
"""
from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from motiongpt_lite.tools.executed_course import RECORD_KEY, record_problems, strip_record

__all__ = ["Exercise", "ExerciseStatus", "UnbalancedMarkers", "SETUP_LINES", "STATUSES", "find_exercises",
           "student_notebook", "write_student_copies", "execute_notebook", "notebook_progress", "progress",
           "progress_table", "progress_report", "lint_notebook", "add_subcommands", "main"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
CHECK_TAG = "nbval-check-output"  # nbval compares the stored output of these cells
RAISES_TAG = "raises-exception"  # JupyterLab's Run All, nbclient and nbval continue past these cells
STATUSES = ("correct", "not done yet", "error", "not run")
BADGE = "https://colab.research.google.com/github/motiongpt-lite/motiongpt_lite/blob/main/notebooks/{name}"
SETUP_LINES = (  # the first lines of every notebook's setup cell (NOTEBOOKS.md)
    "# Setup: Colab-only install, imports, versions, seed and device, folders.",
    "import os, sys",
    "USE_DRIVE = False  # Colab only: True keeps data and checkpoints on your Google Drive between sessions",
    'if "google.colab" in sys.modules:  # Colab: install the package from the repository, pick the preset',
    '    !pip -q install "motiongpt_lite @ git+https://github.com/motiongpt-lite/motiongpt_lite"',
    "    from motiongpt_lite.runtime import colab_setup",
    "    colab_setup(use_drive=USE_DRIVE)  # preset gpu on a GPU, small otherwise; folders on Drive if asked",
)

_HEADING = re.compile(r"^###\s+Exercise\s+(\d+\.\d+)\s*[—–:-]*\s*(.*?)\s*$", re.MULTILINE)
_MARKER = re.compile(r"^(\s*)# (BEGIN|END) SOLUTION\b:?\s*(.*?)\s*$")
_CHECK_FORM = re.compile(r'^run_check\("(\d+)\.(\d+)", lambda: check_exercise_(\d+)_(\d+)\(.*\)\)$')
_CHECK_CALL = re.compile(r'\brun_check\(\s*"(\d+\.\d+)"|\bcheck_exercise_(\d+)_(\d+)\(')
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")


class UnbalancedMarkers(ValueError):
    """A solution cell whose ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines do not pair up."""


@dataclass
class Exercise:
    """One exercise of a notebook: its heading and the indices of its cells."""

    number: str  # "2.1"
    title: str
    heading_cell: int
    solution_cells: list[int] = field(default_factory=list)
    check_cells: list[int] = field(default_factory=list)


@dataclass
class ExerciseStatus:
    """Where a learner stands on one exercise; ``status`` is one of :data:`STATUSES`."""

    notebook: str
    number: str
    title: str
    status: str
    detail: str = ""


# --- reading and writing notebooks (plain JSON, the nbformat 4 layout) ---
GENERATED_FILE = ".student_copies.json"  # in a student folder: file name -> sha256 of the copy we wrote

def _read(path: Path) -> dict:
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a valid notebook ({error}); open it in Jupyter and save it again.") from error
    if not (isinstance(nb, dict) and isinstance(nb.get("cells"), list)
            and all(isinstance(c, dict) and "cell_type" in c for c in nb["cells"])):
        raise ValueError(f"{path} is JSON but not a notebook (no list of cells); open it in Jupyter and save it "
                         "again, or move it out of the folder.")
    return nb


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _notebooks(folder: Path) -> list[Path]:
    """The notebooks of a folder in name order (Jupyter's checkpoints excluded)."""
    return sorted(path for path in Path(folder).glob("*.ipynb") if not path.name.startswith("."))


# --- exercises ---

def _check_number(source: str) -> str | None:
    """The exercise a cell checks (``run_check("N.M", ...)`` or a ``check_exercise_N_M(`` call), else None."""
    for line in source.splitlines():
        if line.lstrip().startswith(("from ", "import ")):
            continue  # the setup cell imports the checkers without calling them
        match = _CHECK_CALL.search(line)
        if match:
            return match.group(1) or f"{match.group(2)}.{match.group(3)}"
    return None


def _solution_blocks(source: str, where: str) -> list[tuple[int, int, str, str]]:
    """The solution blocks of a cell: (BEGIN line, END line, indentation, text after BEGIN), line indices.

    Raises:
        UnbalancedMarkers: a BEGIN without its END, an END without a BEGIN, or a BEGIN inside a block.
    """
    blocks, begin = [], None
    for i, line in enumerate(source.splitlines()):
        match = _MARKER.match(line)
        if not match:
            continue
        indent, kind, text = match.groups()
        if kind == "BEGIN":
            if begin is not None:
                raise UnbalancedMarkers(f"{where}: '{BEGIN}' on line {i + 1} comes before the block opened on line "
                                        f"{begin[0] + 1} is closed; add '{END}' after that block's code.")
            begin = (i, indent, text)
        else:
            if begin is None:
                raise UnbalancedMarkers(f"{where}: '{END}' on line {i + 1} has no '{BEGIN}' before it; "
                                        f"add the missing '{BEGIN}' line or delete this one.")
            blocks.append((begin[0], i, begin[1], begin[2]))
            begin = None
    if begin is not None:
        raise UnbalancedMarkers(f"{where}: '{BEGIN}' on line {begin[0] + 1} is never closed; add an '{END}' line "
                                "after the solution code.")
    return blocks


def find_exercises(nb: dict, name: str = "notebook") -> list[Exercise]:
    """The exercises of a notebook, in order, with their solution and checker cells.

    Args:
        nb: the notebook (parsed JSON).
        name: its name, for error messages.
    Returns:
        One :class:`Exercise` per ``### Exercise N.M — title`` heading, plus one per checker of a number
        without a heading (its title empty, so that a lint can report it).
    Raises:
        UnbalancedMarkers: a solution cell's markers do not pair up, or a solution cell comes before any
            exercise heading.
    """
    exercises: dict[str, Exercise] = {}
    current: Exercise | None = None
    for index, cell in enumerate(nb.get("cells", [])):
        source = _source(cell)
        if cell["cell_type"] == "markdown":
            for number, title in _HEADING.findall(source):
                current = exercises.setdefault(number, Exercise(number, title, index))
            continue
        if cell["cell_type"] != "code":
            continue
        where = f"{name}, cell {index}"
        if _solution_blocks(source, where):
            if current is None:
                raise UnbalancedMarkers(f"{where}: a solution block with no '### Exercise N.M — title' markdown cell "
                                        "before it; add the exercise's heading above the solution cell.")
            current.solution_cells.append(index)
        number = _check_number(source)
        if number:
            exercises.setdefault(number, Exercise(number, "", index)).check_cells.append(index)
    return list(exercises.values())


def _assigned_names(tree: ast.Module) -> tuple[list[str], list[str]]:
    """Functions/classes (with their arguments) and variable names a block defines at its top level."""
    defined, assigned = [], []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.append(f"{node.name}({', '.join(arg.arg for arg in node.args.args)})")
        elif isinstance(node, ast.ClassDef):
            defined.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name) and leaf.id not in assigned:
                        assigned.append(leaf.id)
    return defined, assigned


def _what_to_write(lines: list[str], begin: int, end: int, indent: str, later_code: str) -> str:
    """One line saying what a solution block must produce, from the code it replaces."""
    if indent:  # inside a function body: name the function
        for line in reversed(lines[:begin]):
            if line.strip() and len(line) - len(line.lstrip()) < len(indent):
                match = _DEF.match(line)
                if match:
                    return f"write the body of `{match.group(1)}`"
                break
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines[begin + 1:end])))
    except SyntaxError:  # IPython magics and the like: no names to offer
        return "write your solution here"
    defined, assigned = _assigned_names(tree)
    used_later = [name for name in assigned if re.search(rf"\b{re.escape(name)}\b", later_code)]
    assigned = used_later or assigned  # the answer's names, not the helper variables
    parts = ([f"define {_listing(defined)}"] if defined else []) + ([f"set {_listing(assigned)}"] if assigned else [])
    return "; ".join(parts) or "write your solution here"


def _listing(names: list[str]) -> str:
    """`a`, `b` and `c`."""
    quoted = [f"`{name}`" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _stub(source: str, exercise: Exercise, later_code: str, where: str) -> str:
    """The student version of a solution cell's source: every solution block becomes a raise."""
    lines = source.splitlines()
    out, last = [], 0
    for begin, end, indent, text in _solution_blocks(source, where):
        what = text or _what_to_write(lines, begin, end, indent, "\n".join([*lines[end + 1:], later_code]))
        message = f"Exercise {exercise.number}: {what}" + (f" — {exercise.title}" if exercise.title else "")
        out += lines[last:begin]
        out += [f"{indent}# Your solution here: replace the line below with your code.",
                f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"]
        last = end + 1
    out += lines[last:]
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def student_notebook(nb: dict, name: str = "notebook") -> dict:
    """The student copy of a solution notebook: stubs for the solutions, no outputs, no nbval checks.

    Args:
        nb: the solution notebook (parsed JSON); not modified.
        name: its name, for error messages.
    Returns:
        A new notebook: solution blocks replaced by ``raise NotImplementedError("Exercise N.M: ...")``
        (lines outside the markers kept), solution cells tagged ``raises-exception``, every output and
        execution count cleared (with the record and the first cell's line of ``execute-notebooks``), the
        ``nbval-check-output`` tags removed.
    Raises:
        UnbalancedMarkers: see :func:`find_exercises`.
    """
    student = copy.deepcopy(nb)
    strip_record(student)
    cells = student.get("cells", [])
    for exercise in find_exercises(student, name):
        later = "\n".join(_source(cells[i]) for i in exercise.check_cells)
        for index in exercise.solution_cells:
            cell = cells[index]
            _set_source(cell, _stub(_source(cell), exercise, later, f"{name}, cell {index}"))
            cell.setdefault("metadata", {})["tags"] = [*_tags(cell), RAISES_TAG]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        tags = [tag for tag in _tags(cell) if tag != CHECK_TAG]
        if "tags" in cell.get("metadata", {}):
            cell["metadata"]["tags"] = tags
            if not tags:
                del cell["metadata"]["tags"]
    return student


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _holds_solutions(path: Path) -> bool:
    """True when a notebook file has ``# BEGIN SOLUTION`` lines in a code cell."""
    try:
        nb = _read(path)
    except (ValueError, OSError):
        return False
    return any(cell.get("cell_type") == "code" and any(_MARKER.match(line) for line in _source(cell).splitlines())
               for cell in nb.get("cells", []) if isinstance(cell, dict))


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def write_student_copies(notebook_dir: str | Path = "notebooks", out_dir: str | Path = "student",
                         force: bool = False) -> list[Path]:
    """Write the student copy of every notebook of ``notebook_dir`` into ``out_dir`` (same file names).

    Every notebook is checked before anything is written, so an unbalanced marker leaves no half-done folder.
    A file already in ``out_dir`` is replaced only when it is the copy this function wrote last time,
    unchanged (its sha256 is in ``out_dir/.student_copies.json``), or equal to the new copy.

    Args:
        force: also replace files that hold solution markers or differ from the last generated copy
            (a learner's work); never writes into ``notebook_dir`` itself.
    Returns:
        The paths written.
    Raises:
        FileNotFoundError: no notebooks in ``notebook_dir``.
        ValueError: ``out_dir`` is ``notebook_dir``, or a file would be overwritten (without ``force``).
        UnbalancedMarkers: see :func:`find_exercises`.
    """
    source, out = Path(notebook_dir), Path(out_dir)
    if _same_folder(source, out):
        raise ValueError(f"--out {out} is the folder of the solution notebooks, which the student copies would "
                         "overwrite; pass another folder, e.g. --out student.")
    paths = _notebooks(source)
    if not paths:
        raise FileNotFoundError(f"no notebooks in {notebook_dir}; pass the folder holding the solution notebooks.")
    copies = {path.name: student_notebook(_read(path), path.name) for path in paths}
    texts = {name: json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n" for name, nb in copies.items()}
    record = out / GENERATED_FILE
    try:
        generated = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
    except (ValueError, OSError):
        generated = {}
    generated = generated if isinstance(generated, dict) else {}
    if not force:
        for name, text in texts.items():
            target = out / name
            if not target.exists() or target.read_bytes() == text.encode("utf-8"):
                continue
            if _holds_solutions(target):
                raise ValueError(f"{target} holds solution markers (a solution notebook), so it is not overwritten; "
                                 "pass another --out folder, or --force to replace it.")
            if generated.get(name) != _sha256(target):
                raise ValueError(f"{target} differs from the student copy generated last time (a learner's work?), "
                                 "so it is not overwritten; move it away, or pass --force to replace it.")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        generated[name] = _sha256(out / name)
    record.write_text(json.dumps(generated, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return [out / name for name in copies]


# --- executing notebooks and reading the verdicts ---

def execute_notebook(nb: dict, cwd: str | Path, preset: str = "tiny", timeout: int = 1800,
                     env: dict[str, str] | None = None) -> dict:
    """Run a notebook top to bottom in a fresh ``python3`` kernel, going on past errors, and return it.

    Args:
        nb: the notebook (parsed JSON); not modified.
        cwd: the kernel's working folder (the notebook's own folder, for relative paths).
        preset: ``MOTIONGPT_LITE_PRESET`` for the kernel; offline and headless as in CI.
        timeout: seconds allowed per cell.
        env: further environment variables for the kernel.
    Returns:
        The executed notebook, outputs filled in.
    """
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as error:
        raise RuntimeError("running notebooks needs nbclient and nbformat; install them with "
                           "`pip install nbclient nbformat` (or `pip install jupyterlab`).") from error
    node = nbformat.reads(json.dumps(nb), as_version=4)  # sources joined into strings, as nbclient expects
    kernel_env = {**os.environ, "MOTIONGPT_LITE_PRESET": preset, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg", **(env or {})}
    client = NotebookClient(node, kernel_name="python3", timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=kernel_env)
    return node


def _verdict(cell: dict, number: str) -> tuple[str, str]:
    """(status, detail) of one checker cell from its outputs."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            hint = (output.get("evalue") or "").strip().splitlines()
            return "error", f"{output.get('ename', 'Error')}: {hint[0] if hint else ''}".rstrip(": ")
    text = "".join("".join(o.get("text", "")) if isinstance(o.get("text", ""), list) else o.get("text", "")
                   for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    if f"Exercise {number}: correct ✓" in text:
        return "correct", ""
    if "not done yet" in text:
        return "not done yet", "its solution cell still raises NotImplementedError"
    if cell.get("execution_count") is None and not cell.get("outputs"):
        return "not run", ""
    return "error", "the checker printed no verdict"


def notebook_progress(nb: dict, name: str) -> list[ExerciseStatus]:
    """The status of every exercise of one notebook, from the outputs saved in it."""
    cells = nb.get("cells", [])
    statuses = []
    for exercise in find_exercises(nb, name):
        if not exercise.check_cells:
            statuses.append(ExerciseStatus(name, exercise.number, exercise.title, "not run", "no checker cell"))
            continue
        status, detail = _verdict(cells[exercise.check_cells[-1]], exercise.number)
        statuses.append(ExerciseStatus(name, exercise.number, exercise.title, status, detail))
    return statuses


def progress(notebook_dir: str | Path = ".", run: bool = False, preset: str = "tiny") -> list[ExerciseStatus]:
    """The status of every exercise in a learner's notebooks.

    Args:
        notebook_dir: the folder of the learner's notebooks.
        run: execute each notebook first (in memory, at ``preset``; the files are not changed); otherwise
            read the checker outputs saved in the files.
        preset: the preset to run at.
    Returns:
        One :class:`ExerciseStatus` per exercise, notebooks in name order.
    Raises:
        FileNotFoundError: ``notebook_dir`` is not a folder.
    """
    folder = Path(notebook_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; pass the folder that holds your notebooks.")
    statuses = []
    for path in _notebooks(folder):
        try:
            nb = _read(path)
            if run and find_exercises(nb, path.name):
                print(f"running {path.name} at preset {preset} ...", file=sys.stderr, flush=True)
                nb = execute_notebook(nb, cwd=folder, preset=preset)
            statuses += notebook_progress(nb, path.name)
        except ValueError as error:  # a notebook that is not valid JSON, or whose markers do not pair up
            statuses.append(ExerciseStatus(path.name, "-", "", "error", str(error)))
    return statuses


def progress_table(statuses: list[ExerciseStatus]) -> str:
    """A markdown table of the statuses, then one line counting the exercises done."""
    marks = {"correct": "✓ correct", "not done yet": "… not done yet", "error": "✗ error", "not run": "- not run"}
    table = [("notebook", "exercise", "title", "status", "detail")] + [
        (s.notebook, s.number, s.title, marks[s.status], s.detail.replace("|", "/")) for s in statuses]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in table]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    done = sum(s.status == "correct" for s in statuses)
    return "\n".join(lines) + f"\n\n{done} of {len(statuses)} exercises done."


def progress_report(notebook_dir: str | Path = ".", run: bool = False, preset: str = "tiny") -> str:
    """:func:`progress` as a table, or one sentence saying why there is nothing to report."""
    folder = Path(notebook_dir).resolve()
    if not folder.is_dir() or not _notebooks(folder):
        return (f"no notebooks in {folder}; run `motiongpt-lite progress FOLDER` with the folder of your notebooks "
                "(in Colab, download them first: File > Download).")
    statuses = progress(folder, run=run, preset=preset)
    if not statuses:
        return f"the notebooks in {folder} have no exercises."
    return progress_table(statuses)


# --- the conventions of a solution notebook ---

def _exercise_imports(setup: str) -> set[str]:
    """The names a setup cell imports from ``motiongpt_lite.exercises`` (IPython ``!`` and ``%`` lines ignored)."""
    code = "\n".join(re.sub(r"^(\s*)[!%].*$", r"\1pass", line) for line in setup.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module == "motiongpt_lite.exercises" for alias in node.names}


def lint_notebook(path: str | Path) -> list[str]:
    """Every way a solution notebook breaks the setup-cell, badge and exercise conventions (NOTEBOOKS.md).

    Checks: the setup cell starts with :data:`SETUP_LINES` and imports ``run_check`` and each checker
    it calls; the Colab badge points at this notebook's own path; at least two exercises; each has a
    solution cell with balanced markers and one checker cell ``run_check("N.M", lambda:
    check_exercise_N_M(...))``, tagged ``nbval-check-output`` and stored with the single output
    ``Exercise N.M: correct ✓`` and an execution count (nbval compares only cells whose count is set);
    every other output stripped, unless ``execute-notebooks`` stored them and they are still that run's
    (:func:`~motiongpt_lite.tools.executed_course.record_problems`: neither a source nor an output changed since).

    Returns:
        One sentence per problem; empty when the notebook is clean.
    """
    path = Path(path)
    nb = _read(path)
    cells = nb.get("cells", [])
    problems = []
    badge = BADGE.format(name=path.name)
    badges = re.findall(r"https://colab\.research\.google\.com/github/\S+?\.ipynb", "".join(
        _source(c) for c in cells if c["cell_type"] == "markdown"))
    if badges != [badge]:
        problems.append(f"the Colab badge must link {badge} (found {badges or 'none'}).")
    ids = [c.get("id") for c in cells]
    if None in ids or len(set(ids)) < len(ids):
        problems.append(f"cells {[i for i, x in enumerate(ids) if x is None or ids.count(x) > 1]} have no id or a "
                        "repeated one; give each cell a unique 'id' (nbformat 4.5 requires it; "
                        "nbformat.validator.normalize adds the missing ones).")
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    setup = _source(cells[code[0]]) if code else ""
    if tuple(setup.splitlines()[:len(SETUP_LINES)]) != SETUP_LINES:
        problems.append("the first code cell must start with the canonical setup lines (classroom.SETUP_LINES).")
    imported = _exercise_imports(setup)
    try:
        exercises = find_exercises(nb, path.name)
    except UnbalancedMarkers as error:
        return problems + [str(error)]
    if len(exercises) < 2:
        problems.append(f"{len(exercises)} exercise(s); every notebook needs at least two.")
    checks = set()
    for ex in exercises:
        label = f"exercise {ex.number}"
        if not ex.title:
            problems.append(f"{label}: a checker with no '### Exercise {ex.number} — title' heading.")
        if not ex.solution_cells:
            problems.append(f"{label}: no solution cell (code between '{BEGIN}' and '{END}').")
        if len(ex.check_cells) != 1:
            problems.append(f"{label}: {len(ex.check_cells)} checker cells; exactly one must follow the solution.")
            continue
        index = ex.check_cells[0]
        checks.add(index)
        cell, function = cells[index], f"check_exercise_{ex.number.replace('.', '_')}"
        match = _CHECK_FORM.match(_source(cell).strip())
        if not match or f"{match[1]}.{match[2]}" != ex.number or f"{match[3]}.{match[4]}" != ex.number:
            problems.append(f'{label}, cell {index}: the checker cell must be the one line '
                            f'run_check("{ex.number}", lambda: {function}(...)).')
        if ex.solution_cells and max(ex.solution_cells) > index:
            problems.append(f"{label}, cell {index}: the checker cell must come after the solution cell.")
        if CHECK_TAG not in _tags(cell):
            problems.append(f"{label}, cell {index}: tag the checker cell '{CHECK_TAG}'.")
        expected = [{"name": "stdout", "output_type": "stream", "text": f"Exercise {ex.number}: correct ✓\n"}]
        stored = [{**o, "text": "".join(o["text"]) if isinstance(o.get("text"), list) else o.get("text")}
                  for o in cell.get("outputs", [])]
        if stored != expected or not isinstance(cell.get("execution_count"), int):
            problems.append(f"{label}, cell {index}: store exactly one output, the stdout line 'Exercise {ex.number}: "
                            "correct ✓', and an execution_count (nbval fails a stored output with a null count as "
                            "'unrun reference cell has outputs').")
        if not {function, "run_check"} <= imported:
            problems.append(f"{label}: the setup cell must import run_check and {function} from motiongpt_lite.exercises.")
    if RECORD_KEY in nb.get("metadata", {}):  # outputs written by execute-notebooks: still this run's?
        return problems + record_problems(nb)
    dirty = [i for i in code if i not in checks and (cells[i].get("outputs") or cells[i].get("execution_count"))]
    if dirty:
        problems.append(f"cells {dirty} have outputs or execution counts; strip them (only checker cells keep one), "
                        "or store a whole run with `motiongpt-lite execute-notebooks`.")
    return problems


# --- commands ---

def _cmd_student(args: argparse.Namespace) -> None:
    for path in write_student_copies(args.notebooks, args.out, force=args.force):
        print(f"wrote {path}")


def _cmd_progress(args: argparse.Namespace) -> None:
    print(progress_report(args.notebook_dir, run=args.run, preset=args.preset))


def _cmd_lint(args: argparse.Namespace) -> None:
    failed = False
    for path in _notebooks(Path(args.notebooks)):
        problems = lint_notebook(path)
        failed |= bool(problems)
        print(f"{path.name}: " + ("ok" if not problems else "\n  " + "\n  ".join(problems)))
    if failed:
        raise ValueError("some notebooks break the exercise conventions (listed above); fix them as each line says.")


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add ``student``, ``progress`` and ``lint-notebooks`` to a command line's subcommands."""
    p = sub.add_parser("student", help="write the student copies of the notebooks (solutions replaced by stubs)")
    p.add_argument("--notebooks", default="notebooks", help="folder of the solution notebooks (default: notebooks)")
    p.add_argument("--out", default="student", help="folder for the student copies (default: student); never "
                                                    "the solution notebooks' folder")
    p.add_argument("--force", action="store_true", help="replace copies a learner has changed and notebooks "
                                                        "holding solutions (their work is lost)")
    p.set_defaults(func=_cmd_student)

    p = sub.add_parser("progress", help="print which exercises of a learner's notebooks are done")
    p.add_argument("notebook_dir", nargs="?", default=".", help="folder of the learner's notebooks (default: .)")
    p.add_argument("--run", action="store_true", help="run the notebooks first (files unchanged) instead of "
                                                      "reading their saved outputs")
    p.add_argument("--preset", default="tiny", help="preset to run at with --run (default: tiny)")
    p.set_defaults(func=_cmd_progress)

    p = sub.add_parser("lint-notebooks", help="check the solution notebooks' setup cells, badges and exercises")
    p.add_argument("--notebooks", default="notebooks", help="folder of the solution notebooks (default: notebooks)")
    p.set_defaults(func=_cmd_lint)


def run_tool(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv`` with a tool's parser and run the chosen command: 0, or 2 with the error's one sentence
    (the ``python -m`` entry of the classroom tools)."""
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"motiongpt-lite: error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m motiongpt_lite.tools.classroom student|progress|lint-notebooks ...``"""
    parser = argparse.ArgumentParser(prog="python -m motiongpt_lite.tools.classroom", description=__doc__.splitlines()[0])
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return run_tool(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
