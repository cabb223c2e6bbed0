"""motiongpt_lite.data.download and its entry point data_download.sh (notebook 00's data step): sha256-verified,
idempotent, atomic, honest about what it cannot do.

The targets run in-process through ``download.main`` against a local mirror (MOTIONGPT_LITE_MIRROR) or a local web
server built from the reference files in ../shared/data, so no network is needed; two tests run the bash entry
point itself. Google Drive is stood in for by a fake ``gdown`` module.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from motiongpt_lite.data import download

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
REFERENCE = SHARED / "humanml3d_reference"
CMU = SHARED / "cmu_bvh"
SAMPLE_FILES = sorted(download.SAMPLE_FILES)
CMU_FILES = sorted(download.CMU_FILES)
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"reference clips not found at {REFERENCE} (../shared/data from the repository root)")
needs_cmu = pytest.mark.skipif(not CMU.is_dir(), reason=f"CMU clips not found at {CMU} (../shared/data from the repository root)")


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """An empty data root, and an environment with no mirror, no hub and no proxy for the local server."""
    for key in list(os.environ):
        if key.startswith("MOTIONGPT_LITE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MOTIONGPT_LITE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    return tmp_path / "data"


def run(capsys, *targets: str, mirror: Path | None = None, web: str | None = None) -> tuple[int, str, str]:
    """``download.main(targets)`` with the given mirror; returns (exit status, stdout, stderr)."""
    os.environ.pop(download.MIRROR_ENV, None)
    os.environ.pop(download.WEB_MIRROR_ENV, None)
    if mirror is not None:
        os.environ[download.MIRROR_ENV] = str(mirror)
    if web is not None:
        os.environ[download.WEB_MIRROR_ENV] = web
    try:
        code = download.main(list(targets))
    finally:
        os.environ.pop(download.MIRROR_ENV, None)
        os.environ.pop(download.WEB_MIRROR_ENV, None)
    out, err = capsys.readouterr()
    return code, out, err


def summary(out: str) -> str:
    return out.split("Summary:")[1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> list[str]:
    """Every file under ``folder`` (hidden work folders and pooch's temporary files included), relative."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def leftovers(root: Path) -> list[Path]:
    """Work folders (``.<name>.part.*``) or temporary files (pooch's ``tmp*``) left behind."""
    return [path for path in root.rglob("*") if path.name.startswith((".", "tmp"))] if root.exists() else []


def writable_copy(source: Path, tmp_path: Path) -> Path:
    """A mirror (laid out like a data root) holding a writable copy of ``source``."""
    mirror = tmp_path / "mirror"
    shutil.copytree(source, mirror / source.name)
    for path in mirror.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return mirror


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def web_server():
    """Serve a folder over HTTP on 127.0.0.1: ``web_server(folder)`` gives its URL."""
    servers = []

    def serve(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


# ---- listing and the entry point -----------------------------------------------------------------------------

def test_no_target_lists_the_targets_and_does_nothing(data, capsys):
    code, out, _ = run(capsys)
    assert code == 0
    for target in [*download.TARGETS, "all"]:
        assert f"  {target} " in out, target
    assert not data.exists()


def test_unknown_target_fails_before_any_work(data, capsys):
    code, _, err = run(capsys, "sample", "nonsense", mirror=SHARED)
    assert code == 2
    assert "unknown target 'nonsense'" in err and "usage:" in err
    assert not data.exists()


def run_script(*targets: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``bash data_download.sh TARGET...`` from another folder, with ``env`` added to a clean environment."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("MOTIONGPT_LITE_", "PYTHON"))}
    return subprocess.run(["bash", str(REPO / "data_download.sh"), *targets], env={**clean, "HF_HUB_OFFLINE": "1", **env},
                          cwd="/", capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("bash") is None, reason="data_download.sh needs bash")
def test_the_bash_entry_point_lists_the_targets_without_arguments(tmp_path):
    result = run_script(env={"MOTIONGPT_LITE_DATA": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    assert "  t2m-evaluators " in result.stdout and f"now: {tmp_path / 'data'}" in result.stdout


@needs_reference
@pytest.mark.skipif(shutil.which("bash") is None, reason="data_download.sh needs bash")
def test_the_bash_entry_point_runs_targets_and_summarises(tmp_path):
    """sample from a mirror succeeds; flan-t5-small offline with an empty cache fails, naming the fallback."""
    data = tmp_path / "data"
    result = run_script("sample", "flan-t5-small", env={"MOTIONGPT_LITE_DATA": str(data), "MOTIONGPT_LITE_MIRROR": str(SHARED),
                                                        "HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 1, result.stdout + result.stderr
    assert files_in(data / "humanml3d_reference") == SAMPLE_FILES
    assert "HF_HUB_OFFLINE is set: looking in the local cache only" in result.stdout
    lines = summary(result.stdout).splitlines()
    assert any(line.split()[:2] == ["sample", "ok"] for line in lines)
    assert any(line.split()[:2] == ["flan-t5-small", "FAILED"] and "offline T5 fallback still works" in line for line in lines)


# ---- sample --------------------------------------------------------------------------------------------------

@needs_reference
def test_recorded_checksums_are_those_of_the_reference_files():
    assert {name: remote.sha256 for name, remote in download.SAMPLE_FILES.items()} == {
        name: sha256(REFERENCE / name) for name in SAMPLE_FILES}


@needs_reference
def test_sample_from_a_local_mirror_arrives_verified(data, capsys):
    code, out, _ = run(capsys, "sample", mirror=SHARED)
    assert code == 0, out
    assert files_in(data) == [f"humanml3d_reference/{name}" for name in SAMPLE_FILES]  # nothing else is left
    for name in SAMPLE_FILES:
        assert (data / "humanml3d_reference" / name).read_bytes() == (REFERENCE / name).read_bytes(), name
        assert f"fetched {name} (sha256 ok)" in out
    assert "source: local mirror" in out


@needs_reference
def test_sample_from_a_web_mirror_downloads_and_verifies(data, capsys, web_server):
    code, out, _ = run(capsys, "sample", web=web_server(SHARED))
    assert code == 0, out
    assert files_in(data) == [f"humanml3d_reference/{name}" for name in SAMPLE_FILES]
    assert all(sha256(data / "humanml3d_reference" / name) == sha256(REFERENCE / name) for name in SAMPLE_FILES)


@needs_reference
def test_a_file_from_a_zip_archive_is_taken_out_and_verified(data, capsys, web_server, tmp_path, monkeypatch):
    """The upstream path of texts/000000.txt (a member of HumanML3D's texts.zip), against a local server; an archive
    whose member differs from the recorded bytes is refused."""
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "texts.zip", "w") as archive:
        archive.write(REFERENCE / "texts" / "000000.txt", "texts/000000.txt")
        archive.writestr("texts/000001.txt", "another clip#a/DET#0.0#0.0\n")
    with zipfile.ZipFile(site / "bad.zip", "w") as archive:
        archive.writestr("texts/000000.txt", "not the official caption#0.0#0.0\n")
    url, recorded = web_server(site), download.SAMPLE_FILES["texts/000000.txt"]
    monkeypatch.setattr(download, "SAMPLE_FILES", {"texts/000000.txt": recorded._replace(url=f"{url}/texts.zip")})
    code, out, _ = run(capsys, "sample")
    assert code == 0, out
    assert files_in(data) == ["humanml3d_reference/texts/000000.txt"]
    assert sha256(data / "humanml3d_reference" / "texts" / "000000.txt") == recorded.sha256

    shutil.rmtree(data)
    monkeypatch.setattr(download, "SAMPLE_FILES", {"texts/000000.txt": recorded._replace(url=f"{url}/bad.zip")})
    code, out, _ = run(capsys, "sample")
    assert code == 1 and "REFUSED texts/000000.txt" in out and recorded.sha256 in out
    assert files_in(data) == []


@needs_reference
def test_sample_second_run_skips_and_leaves_files_untouched(data, capsys):
    assert run(capsys, "sample", mirror=SHARED)[0] == 0
    files = [data / "humanml3d_reference" / name for name in SAMPLE_FILES]
    for path in files:  # an old, distinctive mtime: any rewrite would change it
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    code, out, _ = run(capsys, "sample", mirror=SHARED)
    assert code == 0, out
    for name, path in zip(SAMPLE_FILES, files):
        assert f"skipped {name} (present, sha256 ok)" in out
        assert path.stat().st_mtime_ns == 1_000_000_000_000_000_000
    assert "0 fetched, 10 skipped, 0 failed" in out


@needs_reference
def test_sample_replaces_a_local_file_with_the_wrong_checksum(data, capsys):
    assert run(capsys, "sample", mirror=SHARED)[0] == 0
    damaged = data / "humanml3d_reference" / "Mean.npy"
    damaged.write_bytes(b"not the official mean")
    code, out, _ = run(capsys, "sample", mirror=SHARED)
    assert code == 0, out
    assert "Mean.npy is present but its sha256 is wrong" in out and "1 fetched, 9 skipped" in out
    assert sha256(damaged) == sha256(REFERENCE / "Mean.npy")


@needs_reference
def test_sample_refuses_a_tampered_file_and_leaves_nothing_half_written(data, capsys, tmp_path):
    mirror = writable_copy(REFERENCE, tmp_path)
    tampered = mirror / "humanml3d_reference" / "new_joint_vecs" / "012314.npy"
    content = bytearray(tampered.read_bytes())
    content[-1] ^= 0x01  # one bit of the last float
    tampered.write_bytes(bytes(content))
    code, out, _ = run(capsys, "sample", mirror=mirror)
    assert code == 1
    recorded = download.SAMPLE_FILES["new_joint_vecs/012314.npy"].sha256
    assert f"REFUSED new_joint_vecs/012314.npy: sha256 is {sha256(tampered)}, expected {recorded}" in out
    assert files_in(data) == [f"humanml3d_reference/{name}" for name in SAMPLE_FILES if name != "new_joint_vecs/012314.npy"]
    assert "FAILED" in summary(out) and "1 failed" in summary(out)
    assert (data / "humanml3d_reference" / "Mean.npy").read_bytes() == (REFERENCE / "Mean.npy").read_bytes()


@needs_reference
def test_sample_reports_a_file_missing_from_the_mirror(data, capsys, tmp_path):
    mirror = writable_copy(REFERENCE, tmp_path)
    (mirror / "humanml3d_reference" / "t2m_std.npy").unlink()
    code, out, _ = run(capsys, "sample", mirror=mirror)
    assert code == 1
    assert "FAILED  t2m_std.npy: could not get it from" in out and "FileNotFoundError" in out
    assert "humanml3d_reference/t2m_std.npy" not in files_in(data) and leftovers(data) == []


def test_sample_offline_leaves_no_empty_folder_and_stops_trying(data, capsys):
    code, out, _ = run(capsys, "sample", web="http://127.0.0.1:9")  # nothing listens
    assert code == 1
    assert out.count("could not get it from http://127.0.0.1:9") == 1  # the first failure says the network is down
    assert out.count("not tried, the network is unreachable") == len(SAMPLE_FILES) - 1
    assert download.MIRROR_ENV in out
    assert not (data / "humanml3d_reference").exists() and leftovers(data) == []


@needs_reference
def test_sample_removes_a_wrong_file_it_cannot_replace(data, capsys, tmp_path):
    mirror = writable_copy(REFERENCE, tmp_path)
    (mirror / "humanml3d_reference" / "Mean.npy").unlink()
    (data / "humanml3d_reference").mkdir(parents=True)
    np.save(data / "humanml3d_reference" / "Mean.npy", np.zeros(263))  # wrong content
    code, out, _ = run(capsys, "sample", mirror=mirror)
    assert code == 1
    assert "removed Mean.npy: its sha256 is wrong" in out
    assert not (data / "humanml3d_reference" / "Mean.npy").exists()


@needs_reference
def test_sample_sweeps_work_folders_of_killed_runs_only(data, capsys):
    folder = data / "humanml3d_reference"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    parts = {name: folder / f".Mean.npy.part.{name}" for name in ("dead", "old", "live", "fresh")}
    for name, part in parts.items():
        part.mkdir(parents=True)
        if name in ("dead", "live"):
            (part / ".owner").write_text(dead.stdout.strip() if name == "dead" else str(os.getpid()))
    os.utime(parts["old"], (0, 0))  # no owner, untouched for decades: left by a kill -9
    code, out, _ = run(capsys, "sample", mirror=SHARED)
    assert code == 0, out
    assert not parts["dead"].exists() and not parts["old"].exists()
    assert parts["live"].exists() and parts["fresh"].exists()  # another run may still be using these
    assert out.count("left by an interrupted run") == 2


# ---- humanml3d and kit: layout checks ------------------------------------------------------------------------

def test_humanml3d_absent_prints_the_manual_steps(data, capsys):
    code, out, _ = run(capsys, "humanml3d")
    assert code == 1
    assert "amass.is.tue.mpg.de" in out and "raw_pose_processing" in out and "motion_representation" in out
    assert "MANUAL" in summary(out)


def test_humanml3d_empty_folder_lists_everything_missing(data, capsys):
    (data / "humanml3d").mkdir(parents=True)
    code, out, _ = run(capsys, "humanml3d")
    assert code == 1
    for item in ("new_joint_vecs/: 0", "new_joints/: 0", "texts/: 0", "Mean.npy", "Std.npy", "train.txt", "val.txt", "test.txt"):
        assert f"MISSING {item}" in out, item


def test_humanml3d_partial_folder_names_what_is_wrong(data, capsys):
    folder = data / "humanml3d"
    (folder / "new_joint_vecs").mkdir(parents=True)
    np.save(folder / "Mean.npy", np.zeros(263, np.float32))
    np.save(folder / "Std.npy", np.ones(262, np.float32))  # one dimension short
    np.save(folder / "new_joint_vecs" / "000000.npy", np.zeros((40, 263), np.float32))
    (folder / "train.txt").write_text("000000\n")
    code, out, _ = run(capsys, "humanml3d")
    assert code == 1
    assert "ok      Mean.npy" in out
    assert "WRONG   Std.npy: shape (262,)" in out
    assert "ok      new_joint_vecs/000000.npy: shape (40, 263)" in out
    assert "MISSING texts/: 0" in out
    assert "MISSING train.txt: 1 clips, 1 without features or captions" in out
    assert "MISSING val.txt" in out


def test_kit_folder_with_the_full_layout_passes(data, capsys):
    folder = data / "kit"
    ids = [f"{i:06d}" for i in range(3900)]
    for sub in ("new_joint_vecs", "new_joints", "texts"):
        (folder / sub).mkdir(parents=True)
    np.save(folder / "new_joint_vecs" / f"{ids[0]}.npy", np.zeros((40, 251), np.float32))
    np.save(folder / "new_joints" / f"{ids[0]}.npy", np.zeros((40, 21, 3), np.float32))
    (folder / "texts" / f"{ids[0]}.txt").write_text("a person walks.#a/DET person/NOUN walk/VERB#0.0#0.0\n")
    for sub, suffix in (("new_joint_vecs", ".npy"), ("new_joints", ".npy"), ("texts", ".txt")):
        for clip in ids[1:]:  # hard links: thousands of valid clips for the price of one
            os.link(folder / sub / f"{ids[0]}{suffix}", folder / sub / f"{clip}{suffix}")
    np.save(folder / "Mean.npy", np.zeros(251, np.float32))
    np.save(folder / "Std.npy", np.ones(251, np.float32))
    for split, part in (("train.txt", ids[:3000]), ("val.txt", ids[3000:3400]), ("test.txt", ids[3400:])):
        (folder / split).write_text("\n".join(part) + "\n")
    code, out, _ = run(capsys, "kit")
    assert code == 0, out
    assert "MISSING" not in out and "WRONG" not in out and "present, layout verified" in out
    np.save(folder / "new_joints" / f"{ids[0]}.npy", np.zeros((40, 22, 3), np.float32))  # HumanML3D's skeleton
    code, out, _ = run(capsys, "kit")
    assert code == 1 and "WRONG   new_joints/000000.npy: shape (40, 22, 3), expected (T, 21, 3)" in out


def test_kit_without_gdown_prints_the_manual_steps(data, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gdown", None)  # import gdown raises ImportError
    code, out, _ = run(capsys, "kit")
    assert code == 1
    assert "gdown is not installed" in out and "drive.google.com/drive/folders/" in out
    assert "MANUAL" in summary(out) and not (data / "kit").exists()


# ---- embedded: the package's own builder ---------------------------------------------------------------------

def test_embedded_builds_with_the_package_builder_then_skips(data, capsys, monkeypatch):
    monkeypatch.setenv("MOTIONGPT_LITE_PRESET", "tiny")
    code, out, _ = run(capsys, "embedded")
    assert code == 0, out
    folder = data / "embedded_tiny"
    assert (folder / "build_info.json").is_file() and "built in" in out
    assert download.check_layout(folder, "humanml3d", min_clips=300)  # the layout check accepts the builder's output
    stamp = (folder / "Mean.npy").stat().st_mtime_ns
    code, out, _ = run(capsys, "embedded")
    assert code == 0 and "skipped: already built" in out
    assert (folder / "Mean.npy").stat().st_mtime_ns == stamp and leftovers(data) == []


# ---- t2m-evaluators: Google Drive through gdown --------------------------------------------------------------

def fake_gdown(tmp_path: Path, fail: bool = False) -> types.SimpleNamespace:
    """A stand-in for gdown: ``download(id=..., output=...)`` copies the zip that Drive file id names."""
    archives = tmp_path / "archives"
    archives.mkdir()
    members = {"t2m.zip": ["t2m/text_mot_match/model/finest.tar"], "kit.zip": ["kit/text_mot_match/model/finest.tar"],
               "glove.zip": ["glove/our_vab_data.npy", "glove/our_vab_idx.pkl", "glove/our_vab_words.pkl"]}
    by_id = {}
    for name, files in members.items():
        with zipfile.ZipFile(archives / name, "w") as archive:
            for member in files:
                archive.writestr(member, b"downloaded")
        by_id[download.EVALUATOR_ZIPS[name].split("/d/")[1].split("/")[0]] = archives / name

    def fetch(id: str, output: str, quiet: bool) -> str | None:
        if fail and by_id[id].name == "kit.zip":
            return None  # gdown's answer when Drive refuses (quota)
        shutil.copyfile(by_id[id], output)
        return output

    return types.SimpleNamespace(download=fetch)


def test_a_partial_glove_folder_is_completed_and_what_is_there_kept(data, capsys, monkeypatch, tmp_path):
    dest = data / "t2m_evaluators"
    (dest / "glove").mkdir(parents=True)
    (dest / "glove" / "our_vab_data.npy").write_bytes(b"kept")
    monkeypatch.setitem(sys.modules, "gdown", fake_gdown(tmp_path))
    code, out, err = run(capsys, "t2m-evaluators")
    assert code == 0, out + err
    assert (dest / "glove" / "our_vab_data.npy").read_bytes() == b"kept"
    assert (dest / "glove" / "our_vab_idx.pkl").read_bytes() == b"downloaded"
    assert files_in(data) == sorted(f"t2m_evaluators/{name}" for name in download.EVALUATOR_FILES)
    code, out, _ = run(capsys, "t2m-evaluators")
    assert code == 0 and "skipped: all evaluator files present" in out


def test_a_failed_drive_download_keeps_nothing_and_says_what_to_do(data, capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gdown", fake_gdown(tmp_path, fail=True))
    code, out, _ = run(capsys, "t2m-evaluators")
    assert code == 1
    assert "could not download or unzip" in out and "Manual steps for the T2M evaluators" in out
    assert files_in(data) == [] and not (data / "t2m_evaluators").exists()


def test_t2m_evaluators_without_gdown_list_the_files_to_place(data, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gdown", None)
    code, out, _ = run(capsys, "t2m-evaluators")
    assert code == 1 and "MANUAL" in summary(out)
    assert all(str(data / "t2m_evaluators" / name) in out for name in download.EVALUATOR_FILES)


# ---- cmu -----------------------------------------------------------------------------------------------------

def test_cmu_upstream_urls_are_pinned_to_one_commit_and_checksums_match():
    """A moving branch could change the bytes under the recorded sha256; the URLs name a commit."""
    assert len(download.CMU_BVH_RAW.split("/")[-2]) == 40
    for name, remote in download.CMU_FILES.items():
        assert remote.url in (None, f"{download.CMU_BVH_RAW}/{name}")
    if CMU.is_dir():
        assert {name: remote.sha256 for name, remote in download.CMU_FILES.items()} == {
            name: sha256(CMU / name) for name in CMU_FILES}


@needs_cmu
def test_cmu_from_a_local_mirror_is_verified_then_skipped(data, capsys):
    code, out, _ = run(capsys, "cmu", mirror=SHARED)
    assert code == 0, out
    for name in CMU_FILES:
        assert f"fetched {name} (sha256 ok)" in out
    assert files_in(data) == [f"cmu_bvh/{name}" for name in CMU_FILES]
    code, out, _ = run(capsys, "cmu", mirror=SHARED)
    assert code == 0 and "0 fetched, 3 skipped, 0 failed" in out


@needs_cmu
def test_cmu_from_a_web_mirror_downloads_and_verifies(data, capsys, web_server):
    code, out, _ = run(capsys, "cmu", web=web_server(SHARED))
    assert code == 0, out
    assert files_in(data) == [f"cmu_bvh/{name}" for name in CMU_FILES]
    assert all(sha256(data / "cmu_bvh" / name) == sha256(CMU / name) for name in CMU_FILES)


@needs_cmu
def test_cmu_refuses_a_tampered_clip_and_keeps_the_others(data, capsys, tmp_path):
    mirror = writable_copy(CMU, tmp_path)
    tampered = mirror / "cmu_bvh" / "131_02.bvh"
    tampered.write_bytes(tampered.read_bytes().replace(b"Frames: 1247", b"Frames: 1246"))
    code, out, _ = run(capsys, "cmu", mirror=mirror)
    assert code == 1
    assert "REFUSED 131_02.bvh" in out and "FAILED" in summary(out)
    assert files_in(data) == ["cmu_bvh/131_01.bvh", "cmu_bvh/131_03.bvh"]


@needs_cmu
def test_cmu_upstream_names_the_manual_step_and_checks_what_the_learner_adds(data, capsys):
    """Without a mirror: two clips are present (no network needed), the third has no link, so the target prints the
    manual steps and reports MANUAL; a wrong file is removed; once the right one is added, it is verified."""
    folder = data / "cmu_bvh"
    folder.mkdir(parents=True)
    for name in CMU_FILES[:2]:
        shutil.copy(CMU / name, folder / name)
    code, out, _ = run(capsys, "cmu")
    assert code == 1
    assert "skipped 131_01.bvh (present, sha256 ok)" in out
    assert "Manual step for 131_03.bvh" in out and "cgspeed" in out and "MANUAL" in summary(out)
    (folder / "131_03.bvh").write_bytes(b"HIERARCHY\nnot the CMU clip\n")
    code, out, _ = run(capsys, "cmu")
    assert "131_03.bvh is present but its sha256 is wrong" in out and not (folder / "131_03.bvh").exists()
    shutil.copy(CMU / "131_03.bvh", folder / "131_03.bvh")
    code, out, _ = run(capsys, "cmu")
    assert code == 0, out
    assert "0 fetched, 3 skipped, 0 failed" in out


def test_cmu_offline_leaves_nothing_behind(data, capsys):
    code, out, _ = run(capsys, "cmu", web="http://127.0.0.1:9")  # nothing listens
    assert code == 1
    assert "FAILED  131_01.bvh" in out and download.MIRROR_ENV in out
    assert not (data / "cmu_bvh").exists() and leftovers(data) == []
