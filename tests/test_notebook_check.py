"""`motiongpt-lite check-notebooks` (motiongpt_lite.tools.notebook_check): notebooks run top to bottom in fresh kernels,
a failing one is reported with the cell it stopped at, the table holds result, time and size per notebook,
and the executed copies go to a scratch folder, never over the notebooks."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from motiongpt_lite.cli import main
from motiongpt_lite.tools.notebook_check import MARKER, NotebookRun, check_notebooks, run_notebook, runs_table

pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _notebook(folder: Path, name: str, cells: list[tuple[str, list[str]]]) -> Path:
    """A notebook of code cells (source, tags) written to folder/name."""
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": tags},
                     "outputs": [], "source": source} for i, (source, tags) in enumerate(cells)],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(nb))
    return folder / name


def _failing(folder: Path) -> Path:
    return _notebook(folder, "99_fails.ipynb", [
        ("x = 1\nprint('first')", []),
        ("raise KeyError('allowed: tagged')", ["raises-exception"]),  # as the student copies' stubs
        ("# a markdown-free notebook: this is code cell 3\nassert x == 2, 'x should be 2'", []),
        ("print('never reached')", []),
    ])


def test_a_failing_notebook_stops_at_its_first_error_and_says_where(tmp_path):
    source = _failing(tmp_path / "nbs")
    before = source.read_bytes()
    run = run_notebook(source, tmp_path / "out" / source.name, env=dict(os.environ), timeout=120)
    assert not run.ok and run.failed_cell == 2 and run.failed_code_cell == 3
    assert run.error == "AssertionError: x should be 2"
    assert run.result == "FAIL at code cell 3 (index 2): AssertionError: x should be 2"
    executed = json.loads(Path(run.output).read_text())
    assert "".join(executed["cells"][0]["outputs"][0]["text"]) == "first\n" and executed["cells"][3]["outputs"] == []
    assert run.size_bytes == Path(run.output).stat().st_size and source.read_bytes() == before


def test_the_table_and_the_clean_checkpoint_folder(tmp_path):
    probe = _notebook(tmp_path / "nbs", "00_probe.ipynb", [(
        "import os\nfrom pathlib import Path\n"
        "assert os.environ['MOTIONGPT_LITE_PRESET'] == 'tiny'\n"
        "ckpt = Path(os.environ['MOTIONGPT_LITE_CHECKPOINTS'])\n"
        "assert ckpt.is_dir() and not any(ckpt.iterdir()), ckpt\n"
        "(ckpt / 'stale').write_text('from this run')", [])])
    out = tmp_path / "out"
    for _ in range(2):  # the second run empties the checkpoints the first one left
        (run,) = check_notebooks("tiny", [probe], out_dir=out, clean=True, progress=False)
        assert run.ok, run.error
    assert (out / "00_probe.ipynb").exists() and (out / MARKER).exists()
    report = (out / "report.md").read_text()
    assert report.startswith("| notebook") and "| 00_probe.ipynb | ok " in report
    assert "1 of 1 notebooks passed at preset tiny, from a clean state (no checkpoints)" in report
    assert json.loads((out / "report.json").read_text())["runs"][0]["notebook"] == "00_probe.ipynb"
    table = runs_table([NotebookRun("07_evaluation.ipynb", False, 137.4, 12_200_000, 16, 9, "AssertionError: x")], "small")
    assert "| 07_evaluation.ipynb | FAIL at code cell 9 (index 16): AssertionError: x | 2 min 17 s | 12.2 MB" in table


def test_the_executed_copies_never_go_over_notebooks(tmp_path, capsys):
    source = _failing(tmp_path / "nbs")
    with pytest.raises(ValueError, match="holds the notebooks being checked"):
        check_notebooks("tiny", [source], out_dir=source.parent, progress=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "work.ipynb").write_text("{}")
    assert main(["check-notebooks", "--preset", "tiny", "--notebooks", str(source.parent),
                 "--out", str(tmp_path / "mine")]) == 2
    assert "was not written by check-notebooks" in capsys.readouterr().err
    assert main(["check-notebooks", "--notebooks", str(tmp_path / "nbs"), "--only", "07"]) == 2
    assert "no notebooks to run" in capsys.readouterr().err


@pytest.mark.slow
def test_check_notebooks_runs_real_notebooks_and_reports_the_failing_one(tmp_path, capsys):
    """Notebooks 00 and 04 at tiny pass; a notebook that raises is reported as failed and the command says so."""
    failing = _failing(tmp_path / "nbs")
    before = {p.name: p.read_bytes() for p in NOTEBOOKS.glob("0[04]_*.ipynb")}
    out = tmp_path / "out"
    runs = check_notebooks("tiny", [*sorted(NOTEBOOKS.glob("0[04]_*.ipynb")), failing], out_dir=out, progress=False)
    assert [r.notebook for r in runs] == [*sorted(before), "99_fails.ipynb"]
    assert [r.ok for r in runs] == [True, True, False], [r.result for r in runs]
    assert all(r.seconds > 0 and r.size_bytes > 1000 for r in runs)
    report = (out / "report.md").read_text()
    assert "2 of 3 notebooks passed at preset tiny" in report and "FAIL at code cell 3 (index 2)" in report
    assert {p.name: p.read_bytes() for p in NOTEBOOKS.glob("0[04]_*.ipynb")} == before  # the notebooks untouched
    executed = json.loads((out / runs[0].notebook).read_text())
    assert any(c.get("outputs") for c in executed["cells"] if c["cell_type"] == "code")
    assert main(["check-notebooks", "--preset", "tiny", "--notebooks", str(failing.parent), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "| 99_fails.ipynb | FAIL at code cell 3" in captured.out and "1 notebook(s) failed" in captured.err
