"""`motiongpt-lite execute-notebooks` (motiongpt_lite.tools.executed_course): the notebooks are written back with
the outputs of one run, a record the lint checks (stale or hand-edited outputs are refused), the run-time row
and the stored-outputs line; foreign outputs, failures and files edited during the run stop it before anything
is written back."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from motiongpt_lite.tools.classroom import lint_notebook, student_notebook
from motiongpt_lite.tools.executed_course import (README_BEGIN, README_END, RECORD_KEY, STORED_LINE, execute_notebooks,
                                                  outputs_digest, record_problems)
from motiongpt_lite.tools.notebook_check import _duration

pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TABLE = "# probe\n\n| preset | run time |\n|---|---|\n| `tiny` | not measured |\n| `small` | 3 min |\n"


def _probe(folder: Path, code: list[str], outputs: list | None = None) -> Path:
    """folder/00_probe.ipynb: a markdown cell with a run-time table, then code cells (with outputs if given)."""
    cells = [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": TABLE.splitlines(keepends=True)}]
    cells += [{"cell_type": "code", "execution_count": 1 if outputs else None, "id": f"c{i}", "metadata": {},
               "outputs": outputs or [], "source": source} for i, source in enumerate(code)]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "00_probe.ipynb"
    path.write_text(json.dumps(nb, indent=1) + "\n")
    return path


def _run(folder: Path, tmp_path: Path, **kwargs):
    return execute_notebooks("tiny", folder, out_dir=tmp_path / "out", progress=False, **kwargs)


def test_outputs_are_written_back_with_the_record_the_row_and_the_line(tmp_path):
    path = _probe(tmp_path / "nbs", ["import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()", "print(6 * 7)"])
    (run,) = _run(tmp_path / "nbs", tmp_path)
    nb = json.loads(path.read_text())
    plot, answer = nb["cells"][1], nb["cells"][2]
    assert any("image/png" in o.get("data", {}) for o in plot["outputs"]), "matplotlib figures are stored as PNG"
    assert answer["outputs"][0]["text"] == ["42\n"], "stored as Jupyter saves it, lines as lists"
    assert ["".join(plot["source"]), "".join(answer["source"])] == [
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()", "print(6 * 7)"], "sources unchanged"
    first = "".join(nb["cells"][0]["source"])
    row = next(line for line in first.splitlines() if line.startswith("| `tiny` |"))
    assert row.startswith(f"| `tiny` | {_duration(run.seconds)} reusing the checkpoints")
    assert "(`motiongpt-lite execute-notebooks --preset tiny`," in row and "not measured" not in row
    assert "| `small` | 3 min |" in first, "only the run's preset row changes"
    assert first.splitlines()[-1].startswith(STORED_LINE)
    record = nb["metadata"][RECORD_KEY]
    assert record["preset"] == "tiny" and record["seconds"] == round(run.seconds, 1) and record["commit"]
    assert record_problems(nb) == []

    (again,) = _run(tmp_path / "nbs", tmp_path)  # its own outputs are replaced without --force
    rerun = json.loads(path.read_text())
    assert "".join(rerun["cells"][0]["source"]).count(STORED_LINE) == 1 and rerun["cells"][2] == answer

    edited = json.loads(path.read_text())
    edited["cells"][2]["source"] = "print(6 * 9)"
    assert any("stale" in p for p in record_problems(edited))
    edited = json.loads(path.read_text())
    edited["cells"][2]["outputs"][0]["text"] = "54\n"
    assert any("edited" in p for p in record_problems(edited))

    student = student_notebook(json.loads(path.read_text()))
    assert RECORD_KEY not in student["metadata"] and STORED_LINE not in "".join(student["cells"][0]["source"])
    assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")


def test_outputs_it_did_not_write_are_refused_before_anything_runs(tmp_path):
    mine = [{"name": "stdout", "output_type": "stream", "text": "my own notes\n"}]
    path = _probe(tmp_path / "nbs", ["print(1)"], outputs=mine)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="did not write.*--force"):
        _run(tmp_path / "nbs", tmp_path)
    assert path.read_bytes() == before and not (tmp_path / "out").exists()
    _run(tmp_path / "nbs", tmp_path, force=True)
    assert json.loads(path.read_text())["cells"][1]["outputs"][0]["text"] == ["1\n"]


def test_a_failure_or_a_file_edited_during_the_run_writes_nothing_back(tmp_path):
    path = _probe(tmp_path / "nbs", ["print(1)", "raise RuntimeError('broken')"])
    before = path.read_bytes()
    with pytest.raises(ValueError, match="00_probe.ipynb failed, so no notebook was written back"):
        _run(tmp_path / "nbs", tmp_path)
    assert path.read_bytes() == before

    path = _probe(tmp_path / "nbs", ["from pathlib import Path\np = Path('00_probe.ipynb')\n"
                                     "p.write_text(p.read_text() + ' ')"])  # a learner saving while it runs
    before = path.read_bytes()
    with pytest.raises(ValueError, match="changed while it ran"):
        _run(tmp_path / "nbs", tmp_path)
    assert path.read_bytes() == before + b" "


def test_a_real_notebook_executed_passes_the_lint_until_a_source_or_an_output_changes(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "04_vocabulary_merging.ipynb", folder)
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{README_BEGIN}\nold\n{README_END}\n\nthe rest\n")
    _run(folder, tmp_path, readme=readme)
    path = folder / "04_vocabulary_merging.ipynb"
    assert lint_notebook(path) == []
    text = readme.read_text()
    assert "old" not in text and text.endswith(f"{README_END}\n\nthe rest\n")
    assert "[04_vocabulary_merging.ipynb](notebooks/04_vocabulary_merging.ipynb)" in text

    nb = json.loads(path.read_text())
    code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c["outputs"]
                and "nbval-check-output" not in c["metadata"].get("tags", []))
    nb["cells"][code]["source"] = "".join(nb["cells"][code]["source"]) + "\n# changed after the run"
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    assert any("stale" in p and "execute-notebooks --preset tiny" in p for p in lint_notebook(path))

    nb = json.loads(path.read_text())
    nb["cells"][code]["outputs"] = []
    nb["metadata"][RECORD_KEY]["sources_sha256"] = "edited"  # a record forged to hide the edit is refused too
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    assert nb["metadata"][RECORD_KEY]["outputs_sha256"] != outputs_digest(nb)
    assert any("edited" in p for p in lint_notebook(path))


def test_the_readme_block_shows_the_run_and_the_gallery_notebook_07_wrote(tmp_path, monkeypatch):
    from motiongpt_lite.pipeline import GALLERY_MARK

    checkpoints = tmp_path / "checkpoints"
    gallery = checkpoints / "tiny" / "gallery"
    gallery.mkdir(parents=True)
    (gallery / "gallery.md").write_text(f"{GALLERY_MARK}\n# Gallery\n\n| caption | motion |\n|---|---|\n"
                                        "| a man waves. | ![](gallery_0.png) |\n")
    (gallery / "gallery_0.png").write_bytes(b"\x89PNG not really")
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(checkpoints))
    repo = tmp_path / "repo"
    _probe(repo / "notebooks", ["print(6 * 7)"])
    readme = repo / "README.md"
    readme.write_text(f"# title\n\n{README_BEGIN}\n{README_END}\n")
    execute_notebooks("tiny", repo / "notebooks", out_dir=tmp_path / "out", progress=False, readme=readme)
    text = readme.read_text()
    assert "| a man waves. | ![](docs/gallery/gallery_0.png) |" in text, "image paths relative to the README"
    assert (repo / "docs" / "gallery" / "gallery_0.png").read_bytes() == b"\x89PNG not really"
    assert "| [00_probe.ipynb](notebooks/00_probe.ipynb) |" in text and "--preset tiny" in text

    (repo / "docs" / "gallery" / "gallery.md").write_text("# my own page\n")  # not written by the gallery
    before = (repo / "notebooks" / "00_probe.ipynb").read_bytes()
    with pytest.raises(ValueError, match="gallery.md was not written by `motiongpt-lite gallery`"):
        execute_notebooks("tiny", repo / "notebooks", out_dir=tmp_path / "out2", progress=False, readme=readme)
    assert not (tmp_path / "out2").exists() and (repo / "notebooks" / "00_probe.ipynb").read_bytes() == before
