"""The main job's bookkeeping: stages in order, finished stages skipped, report.json kept across runs."""
from __future__ import annotations

import json

import pytest

from motiongpt_lite import pipeline
from motiongpt_lite.config import get_preset


@pytest.fixture
def fake_stages(monkeypatch, tmp_path):
    """Three cheap stages that record their calls, and a run folder in tmp_path."""
    monkeypatch.setenv("MOTIONGPT_LITE_CHECKPOINTS", str(tmp_path))
    calls: list[str] = []

    def stage(name: str, fail: bool = False):
        def run(preset, out):
            calls.append(name)
            if fail:
                raise RuntimeError(f"{name} broke")
            return {"value": len(calls)}
        return run

    stages = {"a": stage("a"), "b": stage("b"), "c": stage("c")}
    monkeypatch.setattr(pipeline, "STAGES", stages)
    return calls, stages, tmp_path / "tiny"


def test_runs_every_stage_in_order_and_writes_the_report(fake_stages):
    calls, _, out = fake_stages
    report = pipeline.run(get_preset("tiny"))
    assert calls == ["a", "b", "c"]
    saved = json.loads((out / "report.json").read_text())
    assert list(saved["stages"]) == ["a", "b", "c"] and saved["stages"]["c"]["value"] == 3
    assert all("seconds" in r and not r.get("skipped") for r in report["stages"].values())


def test_finished_stages_are_skipped_and_redo_runs_them_again(fake_stages):
    calls, _, out = fake_stages
    pipeline.run(get_preset("tiny"))
    calls.clear()
    report = pipeline.run(get_preset("tiny"))
    assert calls == [] and all(r["skipped"] for r in report["stages"].values())
    pipeline.run(get_preset("tiny"), stages=["b"], redo=True)
    assert calls == ["b"]
    saved = json.loads((out / "report.json").read_text())
    assert list(saved["stages"]) == ["a", "b", "c"], "stages not run this time must stay in the report"
    assert saved["stages"]["a"]["skipped"] and not saved["stages"]["b"].get("skipped")


def test_a_crash_keeps_the_finished_stages_and_the_rerun_resumes_there(fake_stages, monkeypatch):
    calls, stages, out = fake_stages

    def broken(preset, out_dir):
        raise RuntimeError("b broke")

    monkeypatch.setitem(stages, "b", broken)
    with pytest.raises(RuntimeError, match="b broke"):
        pipeline.run(get_preset("tiny"))
    assert list(json.loads((out / "report.json").read_text())["stages"]) == ["a"]
    monkeypatch.setitem(stages, "b", lambda preset, out_dir: {"value": "fixed"})
    calls.clear()
    pipeline.run(get_preset("tiny"))
    assert calls == ["c"], "a finished before the crash and is not run again"


def test_unknown_stage_names_the_valid_ones(fake_stages):
    with pytest.raises(ValueError, match=r"choose from \['a', 'b', 'c'\]"):
        pipeline.run(get_preset("tiny"), stages=["nope"])


def test_a_second_command_on_a_busy_run_folder_exits_naming_the_holder(fake_stages, capsys, lock_holder):
    """Issue 18, item 10: two `run` processes on one checkpoint folder must not both train every stage."""
    import time

    from motiongpt_lite.cli import main

    calls, _, folder = fake_stages
    holder = lock_holder(folder)
    assert main(["run", "--preset", "tiny"]) == 3
    assert f"pid {holder.pid}" in capsys.readouterr().err and calls == []
    holder.kill()
    holder.wait()
    time.sleep(0.1)
    assert main(["run", "--preset", "tiny"]) == 0 and calls == ["a", "b", "c"]  # a killed holder frees the folder


@pytest.mark.parametrize("argv, words", [
    (["train-vq", "--stop-after", "0"], "would train nothing"), (["pretrain", "--stop-after", "-5"], "would train nothing"),
    (["instruct", "--stop-after", "ten"], "not a whole number of steps"), (["bench", "lm", "--device", "tpu"], "tpu"),
])
def test_command_line_values_that_would_do_nothing_or_crash_are_refused(argv, words, capsys):
    from motiongpt_lite.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and words in capsys.readouterr().err


def test_a_read_only_run_folder_reports_finished_stages_and_refuses_unfinished_ones(fake_stages, monkeypatch, capsys):
    """Issue 18.6: a read-only checkpoint folder (a teacher's, shared) gave a traceback even when every
    stage was done. ``os.access`` is patched: tests may run as root, whom a 0555 folder does not stop."""
    calls, _, out = fake_stages
    pipeline.run(get_preset("tiny"))
    saved = (out / "report.json").read_text()
    calls.clear()
    monkeypatch.setattr(pipeline.os, "access", lambda path, mode: False)
    report = pipeline.run(get_preset("tiny"))
    assert calls == [] and all(r["skipped"] for r in report["stages"].values())
    assert "read-only" in capsys.readouterr().out and (out / "report.json").read_text() == saved
    with pytest.raises(PermissionError, match=r"cannot be written and stage\(s\) \['b'\] are not finished"):
        pipeline.run(get_preset("tiny"), stages=["b"], redo=True)
    assert calls == []
