"""data_download.sh (notebook 00's data step): sha256-verified, idempotent, honest about what it cannot do.

The `sample` and `cmu` targets are exercised through a local mirror (MOTIONGPT_LITE_MIRROR) or a local web
server built from the reference files in ../shared/data, so no network is needed. The `embedded` target is left to the CLI's own tests.
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
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "data_download.sh"
SHARED = REPO.parent / "shared" / "data"
REFERENCE = SHARED / "humanml3d_reference"
SAMPLE_FILES = [
    "new_joints/012314.npy", "new_joint_vecs/012314.npy", "new_joints/000000.npy", "new_joint_vecs/000000.npy",
    "texts/000000.txt", "joints_raw/000021.npy", "Mean.npy", "Std.npy", "t2m_mean.npy", "t2m_std.npy",
]

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="data_download.sh needs bash")
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"reference clips not found at {REFERENCE} (../shared/data from the repository root)"
)


CMU = SHARED / "cmu_bvh"
CMU_FILES = ["131_01.bvh", "131_02.bvh", "131_03.bvh"]
needs_cmu = pytest.mark.skipif(not CMU.is_dir(), reason=f"CMU clips not found at {CMU} (../shared/data from the repository root)")


def run_script(*targets: str, data_root: Path, mirror: Path | None = None, **env_vars: str) -> subprocess.CompletedProcess:
    """Run data_download.sh with a clean environment pointing at ``data_root`` (and ``mirror``)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MOTIONGPT_LITE_")}
    env.update(MOTIONGPT_LITE_DATA=str(data_root), PYTHON=sys.executable, HF_HUB_OFFLINE="1", **env_vars)
    if mirror is not None:
        env["MOTIONGPT_LITE_MIRROR"] = str(mirror)
    return subprocess.run(["bash", str(SCRIPT), *targets], env=env, capture_output=True, text=True, timeout=120)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(root: Path) -> list[Path]:
    """Temporary files or folders the script may have left behind."""
    return [path for path in root.rglob("*") if ".part" in path.name]


def make_mirror(tmp_path: Path) -> Path:
    """A writable copy of ../shared/data's reference clips, laid out like a data root."""
    mirror = tmp_path / "mirror"
    shutil.copytree(REFERENCE, mirror / "humanml3d_reference")
    for path in mirror.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return mirror


# ---- usage -----------------------------------------------------------------------------------

def test_no_target_prints_usage_and_does_nothing(tmp_path):
    result = run_script(data_root=tmp_path / "data")
    assert result.returncode == 0
    for target in ("embedded", "sample", "cmu", "kit", "t2m-evaluators", "flan-t5-small", "flan-t5-base", "humanml3d",
                   "all"):
        assert f"  {target} " in result.stdout
    assert not (tmp_path / "data").exists()


def test_unknown_target_prints_usage_and_fails_before_any_work(tmp_path):
    result = run_script("sample", "nonsense", data_root=tmp_path / "data", mirror=tmp_path / "mirror")
    assert result.returncode != 0
    assert "unknown target 'nonsense'" in result.stderr
    assert "Usage:" in result.stderr
    assert not (tmp_path / "data").exists()


# ---- sample ----------------------------------------------------------------------------------

@needs_reference
def test_sample_from_mirror_arrives_verified(tmp_path):
    data = tmp_path / "data"
    result = run_script("sample", data_root=data, mirror=SHARED)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in SAMPLE_FILES:
        arrived = data / "humanml3d_reference" / name
        assert arrived.read_bytes() == (REFERENCE / name).read_bytes(), name
        assert f"fetched {name} (sha256 ok)" in result.stdout
    assert leftovers(data) == []


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


def run_from_web_mirror(target: str, data):
    """Run a target against a local web server laid out like ../shared/data (the real curl/wget path)."""
    handler = functools.partial(QuietHandler, directory=str(SHARED))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            return run_script(target, data_root=data, MOTIONGPT_LITE_SAMPLE_URL=url, no_proxy="127.0.0.1",
                              NO_PROXY="127.0.0.1")
        finally:
            server.shutdown()


@needs_reference
@pytest.mark.skipif(shutil.which("curl") is None and shutil.which("wget") is None, reason="needs curl or wget")
def test_sample_from_a_web_mirror_downloads_and_verifies(tmp_path):
    """The real download path (curl or wget), against a local web server laid out like the data root."""
    data = tmp_path / "data"
    result = run_from_web_mirror("sample", data)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in SAMPLE_FILES:
        assert (data / "humanml3d_reference" / name).read_bytes() == (REFERENCE / name).read_bytes(), name
    assert leftovers(data) == []


@needs_reference
def test_sample_second_run_skips_and_leaves_files_untouched(tmp_path):
    data = tmp_path / "data"
    assert run_script("sample", data_root=data, mirror=SHARED).returncode == 0
    files = [data / "humanml3d_reference" / name for name in SAMPLE_FILES]
    for path in files:  # an old, distinctive mtime: any rewrite would change it
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))

    result = run_script("sample", data_root=data, mirror=SHARED)
    assert result.returncode == 0, result.stdout + result.stderr
    for name, path in zip(SAMPLE_FILES, files):
        assert f"skipped {name} (present, sha256 ok)" in result.stdout
        assert path.stat().st_mtime_ns == 1_000_000_000_000_000_000
    assert "0 fetched, 10 skipped, 0 failed" in result.stdout


@needs_reference
def test_sample_replaces_a_local_file_with_the_wrong_checksum(tmp_path):
    data = tmp_path / "data"
    assert run_script("sample", data_root=data, mirror=SHARED).returncode == 0
    damaged = data / "humanml3d_reference" / "Mean.npy"
    damaged.write_bytes(b"not the official mean")

    result = run_script("sample", data_root=data, mirror=SHARED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Mean.npy is present but its sha256 is wrong" in result.stdout
    assert sha256(damaged) == sha256(REFERENCE / "Mean.npy")


@needs_reference
def test_sample_refuses_a_tampered_file_and_leaves_nothing_half_written(tmp_path):
    mirror = make_mirror(tmp_path)
    tampered = mirror / "humanml3d_reference" / "new_joint_vecs" / "012314.npy"
    content = bytearray(tampered.read_bytes())
    content[-1] ^= 0x01  # one bit of the last float
    tampered.write_bytes(bytes(content))
    data = tmp_path / "data"

    result = run_script("sample", data_root=data, mirror=mirror)
    assert result.returncode != 0
    assert "REFUSED new_joint_vecs/012314.npy" in result.stdout
    assert not (data / "humanml3d_reference" / "new_joint_vecs" / "012314.npy").exists()
    assert leftovers(data) == []
    summary = result.stdout.split("Summary:")[1]
    assert "sample" in summary and "FAILED" in summary and "1 failed" in summary
    # The other files are still delivered, verified.
    assert (data / "humanml3d_reference" / "Mean.npy").read_bytes() == (REFERENCE / "Mean.npy").read_bytes()


@needs_reference
def test_sample_reports_a_file_missing_from_the_mirror(tmp_path):
    mirror = make_mirror(tmp_path)
    (mirror / "humanml3d_reference" / "t2m_std.npy").unlink()
    data = tmp_path / "data"

    result = run_script("sample", data_root=data, mirror=mirror)
    assert result.returncode != 0
    assert "FAILED  t2m_std.npy" in result.stdout
    assert not (data / "humanml3d_reference" / "t2m_std.npy").exists()
    assert leftovers(data) == []


# ---- humanml3d -------------------------------------------------------------------------------

def test_humanml3d_absent_prints_the_manual_steps(tmp_path):
    result = run_script("humanml3d", data_root=tmp_path / "data")
    assert result.returncode != 0
    assert "amass.is.tue.mpg.de" in result.stdout
    assert "raw_pose_processing" in result.stdout and "motion_representation" in result.stdout
    assert "MANUAL" in result.stdout.split("Summary:")[1]


def test_humanml3d_empty_folder_lists_everything_missing(tmp_path):
    (tmp_path / "data" / "humanml3d").mkdir(parents=True)
    result = run_script("humanml3d", data_root=tmp_path / "data")
    assert result.returncode != 0
    for item in ("new_joint_vecs/: 0", "new_joints/: 0", "texts/: 0", "Mean.npy", "Std.npy", "train.txt", "val.txt", "test.txt"):
        assert f"MISSING {item}" in result.stdout, item


def test_humanml3d_partial_folder_names_what_is_wrong(tmp_path):
    folder = tmp_path / "data" / "humanml3d"
    (folder / "new_joint_vecs").mkdir(parents=True)
    np.save(folder / "Mean.npy", np.zeros(263, np.float32))
    np.save(folder / "Std.npy", np.ones(262, np.float32))  # one dimension short
    np.save(folder / "new_joint_vecs" / "000000.npy", np.zeros((40, 263), np.float32))
    (folder / "train.txt").write_text("000000\n")

    result = run_script("humanml3d", data_root=tmp_path / "data")
    assert result.returncode != 0
    assert "ok      Mean.npy" in result.stdout
    assert "WRONG   Std.npy: shape (262,)" in result.stdout
    assert "ok      new_joint_vecs/000000.npy: shape (40, 263)" in result.stdout
    assert "MISSING texts/: 0" in result.stdout
    assert "MISSING train.txt: 1 clips, 1 without features or captions" in result.stdout
    assert "MISSING val.txt" in result.stdout


def test_kit_folder_with_the_full_layout_passes(tmp_path):
    """A folder with KIT-ML's layout and counts is accepted (the check that humanml3d shares)."""
    folder = tmp_path / "data" / "kit"
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

    result = run_script("kit", data_root=tmp_path / "data")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISSING" not in result.stdout and "WRONG" not in result.stdout
    assert "present, layout verified" in result.stdout


# ---- targets that need what this machine lacks ----------------------------------------------

def test_flan_t5_offline_says_the_fallback_still_works(tmp_path):
    result = run_script("flan-t5-small", data_root=tmp_path / "data", HF_HOME=str(tmp_path / "hf"))
    assert result.returncode != 0
    summary = result.stdout.split("Summary:")[1]
    assert "flan-t5-small" in summary and "the offline T5 fallback still works" in summary


@pytest.mark.skipif(shutil.which("gdown") is not None, reason="gdown is installed here, so kit would really download")
def test_kit_without_gdown_prints_the_manual_steps(tmp_path):
    result = run_script("kit", data_root=tmp_path / "data")
    assert result.returncode != 0
    assert "drive.google.com/drive/folders/" in result.stdout
    assert "MANUAL" in result.stdout.split("Summary:")[1]


# ---- self-healing (issue 18, item 7) ------------------------------------------------------------

def test_sample_offline_leaves_no_empty_folder_to_shadow_the_shared_clips(tmp_path):
    data = tmp_path / "data"
    result = run_script("sample", data_root=data, MOTIONGPT_LITE_SAMPLE_URL="http://127.0.0.1:9")  # nothing listens
    assert result.returncode != 0
    assert not (data / "humanml3d_reference").exists(), result.stdout
    assert leftovers(data) == []


@needs_reference
def test_sample_removes_a_wrong_file_it_cannot_replace(tmp_path):
    mirror = make_mirror(tmp_path)
    (mirror / "humanml3d_reference" / "Mean.npy").unlink()
    data = tmp_path / "data"
    (data / "humanml3d_reference").mkdir(parents=True)
    np.save(data / "humanml3d_reference" / "Mean.npy", np.zeros(263))  # wrong content
    result = run_script("sample", data_root=data, mirror=mirror)
    assert result.returncode != 0
    assert "removed Mean.npy: its sha256 is wrong" in result.stdout
    assert not (data / "humanml3d_reference" / "Mean.npy").exists()


@needs_reference
def test_sample_sweeps_temporary_folders_of_killed_runs_only(tmp_path):
    mirror = make_mirror(tmp_path)
    data = tmp_path / "data"
    folder = data / "humanml3d_reference"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    parts = {name: folder / f".Mean.npy.part.{name}" for name in ("dead", "old", "live", "fresh")}
    for name, part in parts.items():
        part.mkdir(parents=True)
        if name in ("dead", "live"):
            (part / ".owner").write_text(dead.stdout.strip() if name == "dead" else str(os.getpid()))
    os.utime(parts["old"], (0, 0))  # no owner, untouched for decades: left by a kill -9 before owners existed
    result = run_script("sample", data_root=data, mirror=mirror)
    assert result.returncode == 0, result.stdout
    assert not parts["dead"].exists() and not parts["old"].exists()
    assert parts["live"].exists() and parts["fresh"].exists()  # another run may still be using these


def test_a_partial_glove_folder_is_completed(tmp_path):
    """A glove/ with one of its three files used to stay incomplete forever (only missing folders were moved in)."""
    import zipfile

    dest = tmp_path / "data" / "t2m_evaluators"
    (dest / "glove").mkdir(parents=True)
    (dest / "glove" / "our_vab_data.npy").write_bytes(b"kept")
    archives = tmp_path / "archives"
    archives.mkdir()
    members = {"t2m.zip": ["t2m/text_mot_match/model/finest.tar"], "kit.zip": ["kit/text_mot_match/model/finest.tar"],
               "glove.zip": ["glove/our_vab_data.npy", "glove/our_vab_idx.pkl", "glove/our_vab_words.pkl"]}
    for name, files in members.items():
        with zipfile.ZipFile(archives / name, "w") as archive:
            for member in files:
                archive.writestr(member, b"downloaded")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gdown = bin_dir / "gdown"  # stands in for Google Drive: each URL gives the next archive
    gdown.write_text("#!/usr/bin/env bash\nout=\"${@: -1}\"\n"
                     f"for z in {archives}/t2m.zip {archives}/kit.zip {archives}/glove.zip; do\n"
                     "  if [ ! -e \"$out/$(basename \"$z\")\" ]; then cp \"$z\" \"$out/\"; exit 0; fi\ndone\n")
    gdown.chmod(0o755)
    result = run_script("t2m-evaluators", data_root=tmp_path / "data", PATH=f"{bin_dir}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (dest / "glove" / "our_vab_data.npy").read_bytes() == b"kept"  # what was there is kept
    assert (dest / "glove" / "our_vab_idx.pkl").read_bytes() == b"downloaded"
    assert leftovers(tmp_path / "data") == []


# ---- cmu -------------------------------------------------------------------------------------

def cmu_mirror(tmp_path: Path) -> Path:
    """A writable copy of ../shared/data's CMU clips, laid out like a data root."""
    mirror = tmp_path / "cmu_mirror"
    shutil.copytree(CMU, mirror / "cmu_bvh")
    for path in mirror.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return mirror


@needs_cmu
def test_cmu_from_a_local_mirror_is_verified_then_skipped(tmp_path):
    data = tmp_path / "data"
    result = run_script("cmu", data_root=data, mirror=SHARED)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CMU_FILES:
        assert f"fetched {name} (sha256 ok)" in result.stdout
        assert (data / "cmu_bvh" / name).read_bytes() == (CMU / name).read_bytes(), name
    again = run_script("cmu", data_root=data, mirror=SHARED)
    assert again.returncode == 0 and "0 fetched, 3 skipped, 0 failed" in again.stdout
    assert leftovers(data) == []


@needs_cmu
@pytest.mark.skipif(shutil.which("curl") is None and shutil.which("wget") is None, reason="needs curl or wget")
def test_cmu_from_a_web_mirror_downloads_and_verifies(tmp_path):
    """The real download path (curl or wget) of the target, against a local web server."""
    data = tmp_path / "data"
    result = run_from_web_mirror("cmu", data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (data / "cmu_bvh").iterdir()) == CMU_FILES
    assert all(sha256(data / "cmu_bvh" / name) == sha256(CMU / name) for name in CMU_FILES)


@needs_cmu
def test_cmu_refuses_a_tampered_clip_and_keeps_the_others(tmp_path):
    mirror = cmu_mirror(tmp_path)
    tampered = mirror / "cmu_bvh" / "131_02.bvh"
    tampered.write_bytes(tampered.read_bytes().replace(b"Frames: 1247", b"Frames: 1246"))
    data = tmp_path / "data"
    result = run_script("cmu", data_root=data, mirror=mirror)
    assert result.returncode != 0
    assert "REFUSED 131_02.bvh" in result.stdout
    assert not (data / "cmu_bvh" / "131_02.bvh").exists()
    assert (data / "cmu_bvh" / "131_01.bvh").read_bytes() == (CMU / "131_01.bvh").read_bytes()
    assert "FAILED" in result.stdout.split("Summary:")[1] and leftovers(data) == []


@needs_cmu
def test_cmu_upstream_names_the_manual_step_and_checks_what_the_learner_adds(tmp_path):
    """Without a mirror: the two clips with a pinned upstream URL are present (no network needed), the third has
    none, so the target prints the manual steps and reports MANUAL; once the learner adds it, it is verified."""
    folder = tmp_path / "data" / "cmu_bvh"
    folder.mkdir(parents=True)
    for name in CMU_FILES[:2]:
        shutil.copy(CMU / name, folder / name)
    result = run_script("cmu", data_root=tmp_path / "data")
    assert result.returncode != 0
    assert "skipped 131_01.bvh (present, sha256 ok)" in result.stdout
    assert "Manual step for 131_03.bvh" in result.stdout and "cgspeed" in result.stdout
    assert "MANUAL" in result.stdout.split("Summary:")[1]
    (folder / "131_03.bvh").write_bytes(b"HIERARCHY\nnot the CMU clip\n")  # a wrong file is not accepted
    result = run_script("cmu", data_root=tmp_path / "data")
    assert "131_03.bvh is present but its sha256 is wrong" in result.stdout
    assert not (folder / "131_03.bvh").exists()
    shutil.copy(CMU / "131_03.bvh", folder / "131_03.bvh")
    result = run_script("cmu", data_root=tmp_path / "data")
    assert result.returncode == 0, result.stdout
    assert "0 fetched, 3 skipped, 0 failed" in result.stdout


def test_cmu_upstream_urls_are_pinned_to_one_commit():
    """A moving branch could change the bytes under the recorded sha256; the URLs name a commit."""
    import re

    text = SCRIPT.read_text()
    raw = re.search(r'^CMU_BVH_RAW="([^"]+)"', text, re.MULTILINE)
    assert raw and re.search(r"/[0-9a-f]{40}/", raw[1]), raw
    listed = re.findall(r"^(131_0[123]\.bvh) ([0-9a-f]{64}) (\S+)$", text, re.MULTILINE)
    assert [name for name, _, _ in listed] == CMU_FILES
    if CMU.is_dir():
        assert {name: digest for name, digest, _ in listed} == {name: sha256(CMU / name) for name in CMU_FILES}


def test_cmu_offline_leaves_nothing_behind(tmp_path):
    data = tmp_path / "data"
    result = run_script("cmu", data_root=data, MOTIONGPT_LITE_SAMPLE_URL="http://127.0.0.1:9")  # nothing listens
    assert result.returncode != 0
    assert "FAILED  131_01.bvh" in result.stdout and "MOTIONGPT_LITE_MIRROR" in result.stdout
    assert not (data / "cmu_bvh").exists() and leftovers(data) == []
