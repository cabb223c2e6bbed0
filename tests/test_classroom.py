"""The classroom kit: student copies, the progress report, the notebook lint, Colab set-up and the docs' names.

The slow test at the bottom generates the student copy of every notebook and runs it at ``tiny``: every
solution cell must raise NotImplementedError, every checker must say "not done yet", nothing else may fail.
The solution notebooks themselves are run by nbval (`pytest --nbval-lax notebooks`), which compares each
checker cell's stored "Exercise N.M: correct ✓" with what the solution prints.
"""
from __future__ import annotations

import ast
import importlib
import json
import uuid
import os
import re
import sys
import time
import types
from pathlib import Path

import pytest

from motiongpt_lite.tools import classroom
from motiongpt_lite.tools.classroom import (RAISES_TAG, SETUP_LINES, UnbalancedMarkers, find_exercises, lint_notebook,
                                      notebook_progress, progress, progress_report, student_notebook,
                                      write_student_copies)
from motiongpt_lite.runtime import colab_setup

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
DOCS = REPO / "docs"


def cell(kind: str, source: str, tags: list[str] | None = None, outputs: list | None = None) -> dict:
    """A notebook cell as nbformat writes it."""
    made = {"cell_type": kind, "id": uuid.uuid4().hex[:8], "metadata": {"tags": tags} if tags else {},
            "source": source.splitlines(keepends=True)}
    if kind == "code":
        made.update(outputs=outputs or [], execution_count=3 if outputs else None)
    return made


def stream(text: str) -> dict:
    return {"name": "stdout", "output_type": "stream", "text": [text]}


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def source(nb: dict, index: int) -> str:
    return "".join(nb["cells"][index]["source"])


SETUP = "\n".join([*SETUP_LINES, "from motiongpt_lite.exercises import run_check, correct"])
CHECK_9_1 = 'run_check("9.1", lambda: check(answer))'


def toy_notebook() -> dict:
    """Two exercises: a top-level solution with code around it, and one inside a function body."""
    return notebook(
        cell("code", SETUP, tags=["nbval-ignore-output"]),
        cell("markdown", "## Exercises\n\n### Exercise 9.1 — the answer\n\nSet `answer` to 42."),
        cell("code", "base = 40\n# BEGIN SOLUTION\nhelper = 1\nanswer = base + 2 * helper\n# END SOLUTION\n"
                     "print(answer)", outputs=[stream("42\n")]),
        cell("code", CHECK_9_1, tags=["nbval-check-output"], outputs=[stream("Exercise 9.1: correct ✓\n")]),
        cell("markdown", "### Exercise 9.2 — double it"),
        cell("code", "def double(x):\n    y = x\n    # BEGIN SOLUTION\n    return 2 * y\n    # END SOLUTION"),
        cell("code", 'run_check("9.2", lambda: check(double))', tags=["nbval-check-output"],
             outputs=[stream("Exercise 9.2: correct ✓\n")]),
    )


# --- student copies ---

def test_student_copy_replaces_only_the_solution_blocks():
    solution = toy_notebook()
    before = json.dumps(solution)
    student = student_notebook(solution, "toy.ipynb")
    assert json.dumps(solution) == before, "the solution notebook must not be modified"
    assert source(student, 2) == ("base = 40\n# Your solution here: replace the line below with your code.\n"
                                  'raise NotImplementedError("Exercise 9.1: set `answer` — the answer")\nprint(answer)')
    assert source(student, 5) == ("def double(x):\n    y = x\n"
                                  "    # Your solution here: replace the line below with your code.\n"
                                  '    raise NotImplementedError("Exercise 9.2: write the body of `double` — double it")')
    for index in (2, 5):
        assert student["cells"][index]["metadata"]["tags"] == [RAISES_TAG]
        ast.parse(source(student, index))
    assert [source(student, i) for i in (0, 1, 3, 4, 6)] == [source(solution, i) for i in (0, 1, 3, 4, 6)]
    for c in student["cells"]:
        assert "nbval-check-output" not in c["metadata"].get("tags", [])
        if c["cell_type"] == "code":
            assert c["outputs"] == [] and c["execution_count"] is None
    assert student["cells"][0]["metadata"]["tags"] == ["nbval-ignore-output"]


def test_student_stub_runs_and_the_checker_says_not_done_yet(capsys):
    """Executing the toy student copy's cells: the stubs raise, run_check turns that into one line."""
    student = student_notebook(toy_notebook(), "toy.ipynb")
    namespace = {"check": lambda value: value(1) if callable(value) else value}
    exec("from motiongpt_lite.exercises import run_check", namespace)
    with pytest.raises(NotImplementedError, match=r"^Exercise 9\.1: set `answer`"):
        exec(source(student, 2), namespace)
    exec(source(student, 3), namespace)  # answer undefined -> NameError -> not done yet
    exec(source(student, 5), namespace)  # defines double, whose body raises
    exec(source(student, 6), namespace)
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in out] == ["Exercise 9.1: not done yet", "Exercise 9.2: not done yet"]


def test_stub_describes_functions_names_used_later_and_explicit_text():
    nb = notebook(cell("markdown", "### Exercise 3.1 — t"),
                  cell("code", "# BEGIN SOLUTION\ndef f(a, b):\n    return a\nscratch = 1\nresult = f(scratch, 2)\n"
                               "# END SOLUTION"),
                  cell("code", 'run_check("3.1", lambda: check(f, result))'),
                  cell("markdown", "### Exercise 3.2 — u"),
                  cell("code", "# BEGIN SOLUTION: pick a word\nprediction = 'more'\n# END SOLUTION"))
    student = student_notebook(nb)
    assert 'NotImplementedError("Exercise 3.1: define `f(a, b)`; set `result` — t")' in source(student, 1)
    assert 'NotImplementedError("Exercise 3.2: pick a word — u")' in source(student, 4)


@pytest.mark.parametrize("code, problem", [
    ("# BEGIN SOLUTION\nx = 1", "is never closed"),
    ("x = 1\n# END SOLUTION", "has no '# BEGIN SOLUTION' before it"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "before the block opened on line 1 is closed"),
])
def test_unbalanced_markers_are_a_clear_error(tmp_path, code, problem):
    bad = notebook(cell("markdown", "### Exercise 1.1 — x"), cell("code", code))
    with pytest.raises(UnbalancedMarkers, match=re.escape(problem)) as error:
        student_notebook(bad, "bad.ipynb")
    assert "bad.ipynb, cell 1" in str(error.value)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "00_good.ipynb").write_text(json.dumps(toy_notebook()))
    (tmp_path / "in" / "01_bad.ipynb").write_text(json.dumps(bad))
    with pytest.raises(UnbalancedMarkers):
        write_student_copies(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists(), "nothing is written when one notebook is broken"


def test_solution_without_heading_is_an_error():
    with pytest.raises(UnbalancedMarkers, match="no '### Exercise N.M — title' markdown cell"):
        find_exercises(notebook(cell("code", "# BEGIN SOLUTION\nx = 1\n# END SOLUTION")), "n.ipynb")


def test_student_command_writes_every_notebook(tmp_path, capsys):
    from motiongpt_lite.cli import main

    assert main(["student", "--notebooks", str(REPO / "notebooks"), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert capsys.readouterr().out.count("wrote ") == len(NOTEBOOKS)
    assert main(["student", "--notebooks", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2


# --- the solution notebooks follow the conventions ---

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_follows_the_exercise_conventions(path):
    """Setup lines, own Colab badge, >= 2 exercises, one-line run_check checkers tagged with their ✓ output."""
    problems = lint_notebook(path)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_exercises_per_notebook():
    counts = {path.name: len(find_exercises(json.loads(path.read_text()), path.name)) for path in NOTEBOOKS}
    print("\nexercises per notebook: " + ", ".join(f"{name[:2]}: {n}" for name, n in counts.items())
          + f" (total {sum(counts.values())})")
    assert counts and min(counts.values()) >= 2


def test_lint_reports_each_broken_convention(tmp_path):
    path = tmp_path / "07_x.ipynb"
    bad = toy_notebook()
    bad["cells"][0]["source"] = ["import os\n"]
    bad["cells"][3]["source"] = ["check(answer)"]  # not the run_check form (and not recognised as 9.1's checker)
    bad["cells"][6]["outputs"] = [stream("Exercise 9.2: not done yet\n")]
    bad["cells"][6]["metadata"] = {}
    bad["cells"][6]["execution_count"] = None  # nbval would skip the comparison
    bad["cells"][2]["id"] = bad["cells"][1]["id"]
    path.write_text(json.dumps(bad))
    problems = "\n".join(lint_notebook(path))
    for expected in ("Colab badge must link https://colab.research.google.com/github/motiongpt-lite/motiongpt_lite/"
                     "blob/main/notebooks/07_x.ipynb", "canonical setup lines", "exercise 9.1: 0 checker cells",
                     "exercise 9.2, cell 6: tag the checker cell", "store exactly one output",
                     "the setup cell must import run_check and check_exercise_9_2",
                     "exercise 9.2, cell 6: the checker cell must be the one line",
                     "cells [1, 2] have no id or a repeated one"):
        assert expected in problems
    good = toy_notebook()
    good["cells"].insert(1, cell("markdown", "[![Open In Colab](https://colab.research.google.com/assets/colab-badge"
                                             ".svg)](" + classroom.BADGE.format(name="07_x.ipynb") + ")"))
    good["cells"][0]["source"] = [SETUP.replace("correct", "check_exercise_9_1, check_exercise_9_2")]
    for index, number in ((4, "9.1"), (7, "9.2")):
        good["cells"][index]["source"] = [f'run_check("{number}", lambda: check_exercise_{number[0]}_{number[2]}(x))']
    good["cells"][3]["outputs"], good["cells"][3]["execution_count"] = [], None
    path.write_text(json.dumps(good))
    assert lint_notebook(path) == []


# --- progress report ---

def test_progress_reads_every_verdict():
    nb = toy_notebook()
    nb["cells"].append(cell("markdown", "### Exercise 9.3 — wrong\n\n### Exercise 9.4 — unrun"))
    nb["cells"].append(cell("code", "# BEGIN SOLUTION\nx = 1\n# END SOLUTION"))
    nb["cells"].append(cell("code", 'run_check("9.3", lambda: check_exercise_9_3(x))', outputs=[
        {"output_type": "error", "ename": "AssertionError", "evalue": "got 1; count the frames\nmore", "traceback": []}]))
    nb["cells"].append(cell("code", 'run_check("9.4", lambda: check_exercise_9_4(y))'))
    nb["cells"][6]["outputs"] = [stream("Exercise 9.2: not done yet (NameError: ...). Write your solution...\n")]
    statuses = notebook_progress(nb, "toy.ipynb")
    assert [(s.number, s.status) for s in statuses] == [("9.1", "correct"), ("9.2", "not done yet"), ("9.3", "error"),
                                                        ("9.4", "not run")]
    assert statuses[2].detail == "AssertionError: got 1; count the frames"
    table = classroom.progress_table(statuses)
    assert "1 of 4 exercises done." in table and "| toy.ipynb" in table


def test_progress_report_without_notebooks_or_with_a_broken_one(tmp_path):
    assert progress_report(tmp_path).startswith(f"no notebooks in {tmp_path}")
    (tmp_path / "00_broken.ipynb").write_text("{not json")
    (tmp_path / "01_toy.ipynb").write_text(json.dumps(toy_notebook()))
    statuses = progress(tmp_path)
    assert [(s.notebook, s.status) for s in statuses] == [("00_broken.ipynb", "error"), ("01_toy.ipynb", "correct"),
                                                          ("01_toy.ipynb", "correct")]
    assert "is not a valid notebook" in statuses[0].detail
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        progress(tmp_path / "missing")


@pytest.mark.slow
def test_progress_run_executes_the_learners_notebooks(tmp_path, capsys):
    """`progress --run`: a solved and an unsolved exercise, run in a real kernel (about 5 s)."""
    nb = toy_notebook()
    nb["cells"][0]["source"] = ["from motiongpt_lite.exercises import run_check, correct\n",
                                "def check(value):\n", "    assert value(2) == 4 if callable(value) else value == 42\n",
                                "    correct('9.1' if value == 42 else '9.2')"]
    learner = student_notebook(nb)
    learner["cells"][2] = nb["cells"][2]  # 9.1 solved, 9.2 left as the stub
    (tmp_path / "09_toy.ipynb").write_text(json.dumps(learner))
    from motiongpt_lite.cli import main

    assert main(["progress", str(tmp_path), "--run"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\| 9\.1 +\| the answer +\| ✓ correct", out)
    assert re.search(r"\| 9\.2 +\| double it +\| … not done yet", out)
    assert "1 of 2 exercises done." in out
    assert json.loads((tmp_path / "09_toy.ipynb").read_text()) == learner, "--run must not change the files"


# --- Colab ---

def test_colab_setup_picks_the_preset(monkeypatch, capsys):
    monkeypatch.delenv("MOTIONGPT_LITE_PRESET", raising=False)
    assert colab_setup(cuda_available=lambda: True) == {"MOTIONGPT_LITE_PRESET": "gpu"}
    monkeypatch.delenv("MOTIONGPT_LITE_PRESET")
    assert colab_setup(cuda_available=lambda: False) == {"MOTIONGPT_LITE_PRESET": "small"}
    assert os.environ["MOTIONGPT_LITE_PRESET"] == "small"
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "tiny")
    assert colab_setup(cuda_available=lambda: True) == {"MOTIONGPT_LITE_PRESET": "tiny"}
    out = capsys.readouterr().out
    assert "preset 'gpu' (a CUDA GPU is present)" in out and "preset 'tiny' (already set" in out


def test_colab_setup_keeps_folders_on_drive(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "small")
    for variable in ("MOTIONGPT_LITE_DATA", "MOTIONGPT_LITE_CHECKPOINTS"):
        monkeypatch.setenv(variable, "/elsewhere")
    mounted = []
    chosen = colab_setup(use_drive=True, cuda_available=lambda: False, mount=mounted.append, mount_point=str(tmp_path))
    drive = tmp_path / "MyDrive" / "motiongpt_lite"
    assert mounted == [str(tmp_path)]
    assert chosen["MOTIONGPT_LITE_DATA"] == os.environ["MOTIONGPT_LITE_DATA"] == str(drive / "data")
    assert chosen["MOTIONGPT_LITE_CHECKPOINTS"] == os.environ["MOTIONGPT_LITE_CHECKPOINTS"] == str(drive / "checkpoints")
    assert (drive / "data").is_dir() and (drive / "checkpoints").is_dir()
    from motiongpt_lite.config import checkpoint_root, data_root

    assert data_root() == drive / "data" and checkpoint_root() == drive / "checkpoints"


def test_colab_setup_with_drive_outside_colab_says_so(monkeypatch):
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "small")
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails, as everywhere but Colab
    with pytest.raises(RuntimeError, match="works only in Google Colab"):
        colab_setup(use_drive=True, cuda_available=lambda: False)


def test_colab_branch_of_the_setup_cell_calls_colab_setup(monkeypatch):
    """The canonical lines run as Colab would: pip is a no-op here, colab_setup gets USE_DRIVE."""
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr("motiongpt_lite.runtime.colab_setup", lambda use_drive: calls.append(use_drive))
    code = "\n".join(re.sub(r"^(\s*)!pip .*", r"\1pass", line) for line in SETUP_LINES)
    exec(code, {})
    assert calls == [False]


# --- docs ---

def test_concept_map_names_exist():
    """Every `motiongpt_lite.x.y` the concept map names imports."""
    text = (DOCS / "concept_map.md").read_text()
    names = sorted(set(re.findall(r"`(motiongpt_lite(?:\.\w+)+)`", text)))
    assert len(names) >= 20
    missing = []
    for name in names:
        parts = name.split(".")
        for split in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            try:
                for attr in parts[split:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, f"names in docs/concept_map.md that do not exist: {missing}"


def test_teaching_guide_covers_every_notebook():
    text = (DOCS / "teaching.md").read_text()
    for path in NOTEBOOKS:
        assert re.search(rf"^## {path.name[:2]} ", text, re.MULTILINE), f"docs/teaching.md has no section for {path.name}"


# --- the student copies run (a second run of every notebook, at tiny) ---

@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_runs_with_every_exercise_not_done(path):
    """Run the student copy at tiny in the notebook's own folder (same data and checkpoint roots as this run).

    Solution cells raise NotImplementedError (or, for a stub inside a function body, run quietly),
    checker cells print "Exercise N.M: not done yet", and no other cell fails.
    """
    pytest.importorskip("nbclient")
    solution = json.loads(path.read_text())
    student = student_notebook(solution, path.name)
    exercises = find_exercises(solution, path.name)  # same cells; the copy has no markers left to find
    solutions = {i: e.number for e in exercises for i in e.solution_cells}
    checks = {i: e.number for e in exercises for i in e.check_cells}
    start = time.perf_counter()
    ran = classroom.execute_notebook(student, cwd=path.parent, preset="tiny")
    print(f"\n{path.name}: student copy ran in {time.perf_counter() - start:.0f} s")
    failures = []
    for index, c in enumerate(ran["cells"]):
        if c["cell_type"] != "code":
            continue
        errors = [o for o in c["outputs"] if o["output_type"] == "error"]
        text = "".join(o.get("text", "") for o in c["outputs"] if o["output_type"] == "stream")
        if index in solutions:
            src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            must_raise = any(line.startswith("raise NotImplementedError(") for line in src.splitlines())  # top-level stub
            if (errors or must_raise) and not (errors and errors[0]["ename"] == "NotImplementedError"
                                               and errors[0]["evalue"].startswith(f"Exercise {solutions[index]}:")):
                got = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else "no error"
                failures.append(f"cell {index} (solution of {solutions[index]}): {got}, expected its NotImplementedError")
        elif index in checks:
            if errors or f"Exercise {checks[index]}: not done yet" not in text:
                failures.append(f"cell {index} (checker of {checks[index]}) printed {text!r} "
                                f"{errors[0]['ename'] + ': ' + errors[0]['evalue'] if errors else ''}")
        elif errors:
            failures.append(f"cell {index}: {errors[0]['ename']}: {errors[0]['evalue']} (does it use an exercise's answer? "
                            "define what later cells need outside the BEGIN/END SOLUTION block)")
    assert not failures, f"student copy of {path.name}:\n" + "\n".join(failures)


# --- student copies never destroy work (issue 18) ---

def _solution_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "00_toy.ipynb").write_text(json.dumps(toy_notebook()))
    return folder


def test_student_copies_are_never_written_into_the_solution_folder(tmp_path, capsys):
    from motiongpt_lite.cli import main

    folder = _solution_folder(tmp_path)
    before = (folder / "00_toy.ipynb").read_bytes()
    for force in ([], ["--force"]):
        assert main(["student", "--notebooks", str(folder), "--out", str(folder), *force]) == 2
        assert "folder of the solution notebooks" in capsys.readouterr().err
    assert main(["student", "--notebooks", str(folder), "--out", str(tmp_path / "notebooks" / "." )]) == 2
    assert (folder / "00_toy.ipynb").read_bytes() == before


def test_student_copies_keep_a_learners_work_and_solution_notebooks_unless_forced(tmp_path):
    folder, out = _solution_folder(tmp_path), tmp_path / "student"
    write_student_copies(folder, out)
    write_student_copies(folder, out)  # our own unchanged copy: regenerated without a word
    copy_path = out / "00_toy.ipynb"
    edited = json.loads(copy_path.read_text())
    edited["cells"][2]["source"] = ["answer = 42  # the learner's work\n"]
    copy_path.write_text(json.dumps(edited))
    with pytest.raises(ValueError, match="differs from the student copy generated last time"):
        write_student_copies(folder, out)
    assert "the learner's work" in copy_path.read_text()
    other = tmp_path / "other"
    other.mkdir()
    (other / "00_toy.ipynb").write_text(json.dumps(toy_notebook()))  # a solution notebook where copies would go
    with pytest.raises(ValueError, match="holds solution markers"):
        write_student_copies(folder, other)
    assert "BEGIN SOLUTION" in (other / "00_toy.ipynb").read_text()
    write_student_copies(folder, out, force=True)
    assert "the learner's work" not in copy_path.read_text()


@pytest.mark.parametrize("content", ["[1, 2, 3]", '{"cells": 5}', '{"metadata": {}}', '{"cells": [7]}'])
def test_progress_on_json_that_is_not_a_notebook_names_the_file(tmp_path, content):
    (tmp_path / "00_odd.ipynb").write_text(content)
    (tmp_path / "01_toy.ipynb").write_text(json.dumps(toy_notebook()))
    statuses = progress(tmp_path)
    assert (statuses[0].notebook, statuses[0].status) == ("00_odd.ipynb", "error")
    assert "is JSON but not a notebook" in statuses[0].detail and statuses[1].status == "correct"
