#!/usr/bin/env bash
# data_download.sh -- fetch, build or check every dataset and model motiongpt_lite can use.
#
# Idempotent: what is already there and verified is skipped. Nothing half-written is left behind:
# everything is written under a hidden temporary name next to its final place, checked, then renamed.
# Run `bash data_download.sh` without arguments for the list of targets.
#
# Honesty about verification:
#   sample, cmu      every file checked against the sha256 recorded below (fails closed).
#   kit, t2m-evaluators, humanml3d
#                    no checksums are published for these, so we check the layout only
#                    (folders, files, counts, array shapes) and say so.
#   flan-t5-*        the Hugging Face hub client checks the files it downloads.
#   embedded         generated here by the package; nothing to download.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Same default as motiongpt_lite.config.data_root().
DATA_ROOT="${MOTIONGPT_LITE_DATA:-$REPO_DIR/data}"
# The embedded set is per preset, as motiongpt_lite.config.embedded_dir(): <data root>/embedded_<preset>.
PRESET="${MOTIONGPT_LITE_PRESET:-small}"
# A local folder laid out like the data root (e.g. a USB stick with humanml3d_reference/ or cmu_bvh/
# on it): `sample` and `cmu` copy from there instead of downloading, and still check every sha256.
MIRROR="${MOTIONGPT_LITE_MIRROR:-}"
# A web server laid out like the data root: replaces the upstream URLs of `sample` and `cmu`.
SAMPLE_URL="${MOTIONGPT_LITE_SAMPLE_URL:-}"

# Upstream sources (raw.githubusercontent.com resolves HEAD to the default branch).
HUMANML3D_RAW="https://raw.githubusercontent.com/EricGuo5513/HumanML3D/HEAD"        # the HumanML3D repository
HUMANML3D_EARLY_RAW="https://raw.githubusercontent.com/EricGuoICT/HumanML3D/HEAD"   # its early release
MDM_RAW="https://raw.githubusercontent.com/GuyTevet/motion-diffusion-model/HEAD"    # ships the T2M evaluator's mean/std
JOINTS_FORK_RAW="https://raw.githubusercontent.com/mikittt/HumanML3D/HEAD"          # a public fork holding joints/000021.npy
# The CMU clips of subject 131 in cgspeed's 3dsMax-friendly BVH conversion, as a public C++ BVH library
# commits them (pinned to one commit, so the bytes cannot change under the recorded sha256).
CMU_BVH_RAW="https://raw.githubusercontent.com/yuki-koyama/bvh11/c4c4e6c81cf574d0e9f0260785b33b29a9cb97ad/resources"
CMU_BVH_RELEASE="https://sites.google.com/a/cgspeed.com/cgspeed/motion-capture/3dsmax-friendly-release-of-cmu-motion-database"
KIT_DRIVE_FOLDER="https://drive.google.com/drive/folders/1MnixfyGfujSP-4t8w_2QvjtTVpEKr97t"  # KIT-ML link of the HumanML3D README
# T2M evaluator checkpoints (t2m.zip, kit.zip) and GloVe (glove.zip) on Google Drive, the links
# motion-diffusion-model's prepare/download_t2m_evaluators.sh and download_glove.sh use.
EVALUATOR_DRIVE_FILES=(
    "https://drive.google.com/file/d/1O_GUHgjDbl2tgbyfSwZOUYXDACnk25Kb/view"
    "https://drive.google.com/file/d/12liZW5iyvoybXD8eOw4VanTgsMtynCuU/view"
    "https://drive.google.com/file/d/1cmXKUT31pqd7_XpJAiWEo1K81TMYHA5n/view"
)

ALL_TARGETS="embedded sample kit t2m-evaluators flan-t5-small flan-t5-base"
KNOWN_TARGETS="$ALL_TARGETS cmu humanml3d"

usage() {
    cat <<EOF
Usage: bash data_download.sh [TARGET...]

Targets:
  embedded        build the offline embedded dataset (preset \$MOTIONGPT_LITE_PRESET, default small)
                  into \$DATA_ROOT/embedded_<preset>; needs no network
  sample          the public HumanML3D reference clips the conformance tests use, sha256-verified,
                  into \$DATA_ROOT/humanml3d_reference
  cmu             three real CMU motion-capture clips (subject 131: two walks and a hop, BVH) for
                  notebook 08, sha256-verified, into \$DATA_ROOT/cmu_bvh; one of them needs a manual
                  download (the script says how), so it is not part of 'all'
  kit             KIT-ML (Google Drive; needs gdown and unrar/7z), into \$DATA_ROOT/kit
  t2m-evaluators  the official T2M evaluator checkpoints and GloVe (Google Drive; needs gdown),
                  into \$DATA_ROOT/t2m_evaluators
  flan-t5-small   google/flan-t5-small into the Hugging Face cache
  flan-t5-base    google/flan-t5-base into the Hugging Face cache
  humanml3d       cannot be downloaded (AMASS licence): prints the steps to build it, then
                  checks the folder you made at \$DATA_ROOT/humanml3d
  all             $ALL_TARGETS
                  (not humanml3d, which needs your manual step first, nor cmu)

Without a target this help is printed and nothing is done.

Environment:
  MOTIONGPT_LITE_DATA        data root (now: $DATA_ROOT)
  MOTIONGPT_LITE_PRESET      preset of the embedded set (now: $PRESET)
  MOTIONGPT_LITE_MIRROR      local folder laid out like the data root; 'sample' and 'cmu' copy from it
  MOTIONGPT_LITE_SAMPLE_URL  web mirror laid out like the data root; replaces the upstream URLs of
                             'sample' and 'cmu'
  HF_HUB_OFFLINE=1           never contact the Hugging Face hub
  PYTHON                     interpreter to use (default: python, else python3)

Exit status: 0 when every requested target succeeded, 1 otherwise (a summary line per target),
2 for an unknown target. Offline, everything still works with the embedded data.
EOF
}

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

# The one temporary folder in progress (always made by mktemp); removed when a target ends,
# whether it succeeded or not, and when the script stops early (error, Ctrl-C).
PARTIAL=""
cleanup() {
    if [ -n "$PARTIAL" ]; then
        rm -rf -- "$PARTIAL"
    fi
    PARTIAL=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Make the temporary folder of a target: mktemp -d under $1 named .$2.part.XXXXXX, with the owner's pid
# inside, so that a later run can tell a folder left by a killed run (kill -9 skips the trap) from one
# in use. Sets PARTIAL.
new_partial() {
    sweep_stale_parts "$1" "$2"
    PARTIAL="$(mktemp -d "$1/.$2.part.XXXXXX")"
    echo "$$" >"$PARTIAL/.owner"
}

# Remove .$2.part.* folders under $1 whose owner process is gone (older ones without an owner file:
# when they are more than an hour old).
sweep_stale_parts() {
    local folder="$1" stem="$2" part owner
    for part in "$folder"/."$stem".part.*; do
        [ -d "$part" ] || continue
        owner="$(cat "$part/.owner" 2>/dev/null || true)"
        if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
            continue
        fi
        if [ -z "$owner" ] && [ -z "$(find "$part" -maxdepth 0 -mmin +60)" ]; then
            continue
        fi
        echo "    removed $part, left by an interrupted run"
        rm -rf -- "$part"
    done
}

pick_python() {
    if [ -n "${PYTHON:-}" ]; then
        echo "$PYTHON"
    elif command -v python >/dev/null 2>&1; then
        echo python
    else
        echo python3
    fi
}
PY="$(pick_python)"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    else
        shasum -a 256 "$1" | cut -d ' ' -f 1
    fi
}

# Returns 0 on success, NO_NETWORK when the host cannot be reached at all (so that callers stop
# trying further files), 1 for any other failure (e.g. 404).
NO_NETWORK=75
NETWORK_DOWN=0
download() {
    local url="$1" out="$2" status=0
    if command -v curl >/dev/null 2>&1; then
        curl --fail --location --silent --show-error --retry 2 --connect-timeout 20 --output "$out" "$url" || status=$?
        # curl: 6 cannot resolve host, 7 cannot connect, 28 timed out.
        if [ "$status" -eq 6 ] || [ "$status" -eq 7 ] || [ "$status" -eq 28 ]; then
            return "$NO_NETWORK"
        fi
    elif command -v wget >/dev/null 2>&1; then
        wget --quiet --tries=3 --timeout=20 --output-document="$out" "$url" || status=$?
        # wget: 4 network failure.
        if [ "$status" -eq 4 ]; then
            return "$NO_NETWORK"
        fi
    else
        echo "    neither curl nor wget is installed" >&2
        return 1
    fi
    if [ "$status" -ne 0 ]; then
        return 1
    fi
    return 0
}

hub_offline() {
    case "${HF_HUB_OFFLINE:-}" in
        1 | true | TRUE | True | yes | YES | on | ON) return 0 ;;
        *) return 1 ;;
    esac
}

# Each target sets DETAIL (one line for the summary) and returns 0 (ok), 1 (failed) or
# 2 (a manual step is needed).
DETAIL=""

# ---------------------------------------------------------------------------------------------
# embedded: generated by the package, offline
# ---------------------------------------------------------------------------------------------
target_embedded() {
    local out="$DATA_ROOT/embedded_$PRESET"
    echo "==> embedded: building the offline embedded dataset (preset $PRESET) in $out"
    if [ -f "$out/Mean.npy" ] && [ -f "$out/Std.npy" ] && [ -f "$out/train.txt" ]; then
        echo "    skipped: already built (delete the folder to build it again)"
        DETAIL="already built in $out"
        return 0
    fi
    if [ -e "$out" ]; then
        echo "    $out exists but is incomplete (no Mean.npy, Std.npy or train.txt); remove it and rerun." >&2
        DETAIL="incomplete folder in the way: $out"
        return 1
    fi
    local cli=(motiongpt-lite)
    if ! command -v motiongpt-lite >/dev/null 2>&1; then
        cli=("$PY" -m motiongpt_lite)
    fi
    # Build into a hidden temporary folder, then rename: an interrupted build leaves nothing.
    mkdir -p "$DATA_ROOT"
    new_partial "$DATA_ROOT" "embedded_$PRESET"
    if ! "${cli[@]}" data build --preset "$PRESET" --out "$PARTIAL/embedded"; then
        echo "    the generator failed; is the package installed? (pip install -e . from $REPO_DIR)" >&2
        DETAIL="'${cli[*]} data build' failed"
        return 1
    fi
    if [ ! -f "$PARTIAL/embedded/Mean.npy" ]; then
        echo "    the generator finished but wrote no Mean.npy into $PARTIAL/embedded" >&2
        DETAIL="the generator's output is incomplete"
        return 1
    fi
    mv "$PARTIAL/embedded" "$out"
    DETAIL="built in $out"
    return 0
}

# ---------------------------------------------------------------------------------------------
# sample: the public HumanML3D reference clips, sha256-verified
# ---------------------------------------------------------------------------------------------

# One line per file: path inside humanml3d_reference/, its sha256, its upstream URL and, when
# that URL is a zip archive, the member to take from it. The checksums were computed from the
# published files themselves (the reference copies the project's conformance tests use).
# Upstream paths: the 012314 pair and Mean/Std are the HumanML3D repository's own example and
# statistics; the 000000 clip is the early release's example; t2m_mean/t2m_std are the T2M
# evaluator's normalisation as motion-diffusion-model ships it; the caption is in HumanML3D's
# texts.zip; joints_raw/000021.npy (the pipeline's reference skeleton, an output of its
# raw_pose_processing step) is taken from a public fork that commits it. Whatever the source,
# a file whose sha256 differs is refused.
sample_files() {
    cat <<EOF
new_joints/012314.npy      739df5e2e025d21ae5ce01ea7e0a8d3038448a46e88865d95a638e6242ee8b6b $HUMANML3D_RAW/HumanML3D/new_joints/012314.npy
new_joint_vecs/012314.npy  6e6fc0204ea9e48abdf94f84e8be22b19a1f1e955c7b98e025b1d702f6fe96a0 $HUMANML3D_RAW/HumanML3D/new_joint_vecs/012314.npy
Mean.npy                   26e136555dab04c94a129d446c26e6b9939cbf045fbf77bcf5462c1fb5a2001c $HUMANML3D_RAW/HumanML3D/Mean.npy
Std.npy                    6565a65ed9b31e23c328829a309e1c482be8b85fd23b43d65451a9b19a917f40 $HUMANML3D_RAW/HumanML3D/Std.npy
new_joints/000000.npy      97eef85b5ede8aef0bf953df885bb4a967146d5fdb0091dad1ba49fcd326dcc4 $HUMANML3D_EARLY_RAW/HumanML3D/new_joints/000000.npy
new_joint_vecs/000000.npy  3e915da6ff5f8bc4ce26474823048e0cab9734184504618f750598f32f770d3a $HUMANML3D_EARLY_RAW/HumanML3D/new_joint_vecs/000000.npy
texts/000000.txt           a6b518bbdcbf3df09c52f70928b2c89d95ceb705094e9a899d6d882a269d18e9 $HUMANML3D_RAW/HumanML3D/texts.zip texts/000000.txt
t2m_mean.npy               0bdb5ba69a3a9e34d71990db15bc535ebc024c8d95ddb5574196f96058faa7d3 $MDM_RAW/dataset/t2m_mean.npy
t2m_std.npy                6a5f7d60301c9465972fc225f8ad0ee8f957e7720431189123eb6d15873a9557 $MDM_RAW/dataset/t2m_std.npy
joints_raw/000021.npy      c6d456ffaab1afe2086d46c181c9b7bb9908f32bf249a193b597b8fdea72e4e7 $JOINTS_FORK_RAW/joints/000021.npy
EOF
}

# Put one verified file at $dest. Args: dest, expected sha256, name (for messages), then how to
# get it: "copy PATH", "url URL" or "zip URL MEMBER". Work happens in a hidden temporary folder
# next to $dest; only a file with the right sha256 is renamed into place.
fetch_verified() {
    local dest="$1" expected="$2" name="$3" how="$4"
    local folder
    folder="$(dirname "$dest")"
    mkdir -p "$folder"
    new_partial "$folder" "$(basename "$dest")"
    local file="$PARTIAL/file" got_it=0
    case "$how" in
        copy) cp "$5" "$file" || got_it=$? ;;
        url) download "$5" "$file" || got_it=$? ;;
        zip)
            download "$5" "$PARTIAL/archive.zip" || got_it=$?
            if [ "$got_it" -eq 0 ]; then
                "$PY" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
                    "$PARTIAL/archive.zip" "$6" >"$file" || got_it=$?
            fi
            ;;
    esac
    if [ "$got_it" -eq "$NO_NETWORK" ]; then
        NETWORK_DOWN=1
    fi
    local actual="" result=1
    if [ "$got_it" -eq 0 ]; then
        actual="$(sha256_of "$file")"
    fi
    if [ "$got_it" -ne 0 ]; then
        echo "    FAILED  $name: could not get it from $5"
    elif [ "$actual" != "$expected" ]; then
        echo "    REFUSED $name: sha256 is $actual, expected $expected (file discarded)"
    else
        chmod 644 "$file"
        mv -f "$file" "$dest"
        echo "    fetched $name (sha256 ok)"
        result=0
    fi
    rm -rf -- "$PARTIAL"
    PARTIAL=""
    return "$result"
}

# Whether $1 already holds the file of sha256 $2 (label $3), saying what is found: 0 skips the download.
already_verified() {
    if [ -f "$1" ] && [ "$(sha256_of "$1")" = "$2" ]; then
        echo "    skipped $3 (present, sha256 ok)"
        return 0
    fi
    if [ -f "$1" ]; then
        echo "    $3 is present but its sha256 is wrong: fetching it again"
    fi
    return 1
}

# Name the mirror the files of folder $1 come from, when one is set.
say_mirror() {
    if [ -n "$MIRROR" ]; then
        echo "    source: local mirror $MIRROR/$1"
    elif [ -n "$SAMPLE_URL" ]; then
        echo "    source: web mirror $SAMPLE_URL/$1"
    fi
}

target_sample() {
    local dir="$DATA_ROOT/humanml3d_reference"
    echo "==> sample: HumanML3D reference clips into $dir"
    say_mirror "humanml3d_reference"
    local rel expected url member failures=0 fetched=0 skipped=0
    while read -r rel expected url member <&3; do
        local dest="$dir/$rel"
        if already_verified "$dest" "$expected" "$rel"; then
            skipped=$((skipped + 1))
            continue
        fi
        local ok=1
        if [ -z "$MIRROR" ] && [ "$NETWORK_DOWN" -eq 1 ]; then
            echo "    FAILED  $rel: not tried, the network is unreachable (see above)"
        elif [ -n "$MIRROR" ]; then
            fetch_verified "$dest" "$expected" "$rel" copy "$MIRROR/humanml3d_reference/$rel" && ok=0
        elif [ -n "$SAMPLE_URL" ]; then
            fetch_verified "$dest" "$expected" "$rel" url "$SAMPLE_URL/humanml3d_reference/$rel" && ok=0
        elif [ -n "$member" ]; then
            fetch_verified "$dest" "$expected" "$rel" zip "$url" "$member" && ok=0
        else
            fetch_verified "$dest" "$expected" "$rel" url "$url" && ok=0
        fi
        if [ "$ok" -eq 0 ]; then
            fetched=$((fetched + 1))
        else
            failures=$((failures + 1))
            if [ -f "$dest" ]; then  # a wrong file must not stay where the tests and the VQ stage read it
                rm -f -- "$dest"
                echo "    removed $rel: its sha256 is wrong and no good copy could be fetched"
            fi
        fi
    done 3< <(sample_files)
    if [ -d "$dir" ] && [ -z "$(find "$dir" -type f -print -quit)" ]; then
        # An empty folder would shadow ../shared/data/humanml3d_reference (motiongpt_lite.config.reference_dir).
        rm -rf -- "$dir"
        echo "    removed the empty $dir, so that other reference clips are still found"
    fi
    DETAIL="$fetched fetched, $skipped skipped, $failures failed (in $dir)"
    if [ "$failures" -gt 0 ]; then
        echo "    Offline or blocked? Copy the files from a machine that has them and point"
        echo "    MOTIONGPT_LITE_MIRROR at a folder holding humanml3d_reference/; tests that need them skip meanwhile."
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# cmu: three CMU motion-capture clips as BVH, sha256-verified (notebook 08's "bring your own motion")
# ---------------------------------------------------------------------------------------------

# One line per file: name inside cmu_bvh/, its sha256, and its upstream URL ("-": none we could
# establish, so the file is a manual step). The checksums are those of the clips the project's
# tests use: CMU subject 131 (131_01 and 131_02 "start, walk, stop", 131_03 "start, hop, stop"),
# 120 fps, cgspeed's 3dsMax-friendly BVH conversion. CMU's terms: free for research and commercial
# use, not to be resold; acknowledge mocap.cs.cmu.edu.
cmu_files() {
    cat <<EOF
131_01.bvh 525a261b085d44ea302205f7bbdf824c20ca8256b9e0797aeae43183326fce27 $CMU_BVH_RAW/131_01.bvh
131_02.bvh fe7882961ae1ecaf62273424a7ac64905fd20b0596051c78f3d1488dfa66d708 $CMU_BVH_RAW/131_02.bvh
131_03.bvh f8b19d31da5d596e523c9bab7ace69756afd02c38f61e5cac3141e5b579dbb4a -
EOF
}

cmu_manual_steps() {
    local dir="$1"
    shift
    cat <<EOF
    Manual step for $*: no stable direct link is known to us.
      1. Open $CMU_BVH_RELEASE
         (cgspeed's 3dsMax-friendly BVH release of the CMU database) and download the zip file
         that holds subject 131.
      2. Copy $* from it into $dir
      3. Run 'bash data_download.sh cmu' again: every file is checked against its sha256.
    The original clips (ASF/AMC) are at http://mocap.cs.cmu.edu (subject 131). Notebook 08 runs
    without them, on a small made-up BVH file, and uses whichever CMU clips it finds.
EOF
}

target_cmu() {
    local dir="$DATA_ROOT/cmu_bvh"
    echo "==> cmu: CMU motion-capture clips (subject 131, BVH) into $dir"
    say_mirror "cmu_bvh"
    local name expected url failures=0 fetched=0 skipped=0 manual=""
    while read -r name expected url <&3; do
        local dest="$dir/$name"
        if already_verified "$dest" "$expected" "$name"; then
            skipped=$((skipped + 1))
            continue
        fi
        local ok=1
        if [ -n "$MIRROR" ]; then
            fetch_verified "$dest" "$expected" "$name" copy "$MIRROR/cmu_bvh/$name" && ok=0
        elif [ -n "$SAMPLE_URL" ]; then
            fetch_verified "$dest" "$expected" "$name" url "$SAMPLE_URL/cmu_bvh/$name" && ok=0
        elif [ "$url" = "-" ]; then
            manual="$manual $name"
            ok=2
        elif [ "$NETWORK_DOWN" -eq 1 ]; then
            echo "    FAILED  $name: not tried, the network is unreachable (see above)"
        else
            fetch_verified "$dest" "$expected" "$name" url "$url" && ok=0
        fi
        if [ "$ok" -eq 0 ]; then
            fetched=$((fetched + 1))
        elif [ "$ok" -eq 1 ]; then
            failures=$((failures + 1))
        fi
        if [ "$ok" -ne 0 ] && [ -f "$dest" ]; then  # a wrong file must not pass for the clip
            rm -f -- "$dest"
            echo "    removed $name: its sha256 is wrong and no good copy could be fetched"
        fi
    done 3< <(cmu_files)
    if [ -d "$dir" ] && [ -z "$(find "$dir" -type f -print -quit)" ]; then
        rmdir -- "$dir"
    fi
    DETAIL="$fetched fetched, $skipped skipped, $failures failed"
    if [ -n "$manual" ]; then
        DETAIL="$DETAIL, manual step for${manual} (in $dir)"
    else
        DETAIL="$DETAIL (in $dir)"
    fi
    if [ "$failures" -gt 0 ]; then
        echo "    Offline or blocked? Copy the clips from a machine that has them and point"
        echo "    MOTIONGPT_LITE_MIRROR at a folder holding cmu_bvh/."
    fi
    if [ -n "$manual" ]; then
        cmu_manual_steps "$dir" $manual
    fi
    if [ "$failures" -gt 0 ]; then
        return 1
    fi
    if [ -n "$manual" ]; then
        return 2
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# Layout checks for the datasets that have no published checksums (HumanML3D, KIT-ML)
# ---------------------------------------------------------------------------------------------

# Args: folder, feature size (263 or 251), joints (22 or 21), minimum number of clips.
# Prints one line per check and returns non-zero if anything is missing or wrong.
verify_dataset() {
    "$PY" - "$@" <<'PYCHECK'
import os
import sys
from pathlib import Path

try:
    import numpy as np
except ImportError:
    print("    MISSING numpy (needed to check array shapes): install the package's dependencies")
    sys.exit(1)

folder, dim, joints, min_clips = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
problems = []

def report(ok, message, label="MISSING"):
    """Print one check; label says how it failed (MISSING: absent or too few, WRONG: bad content)."""
    print(f"    {'ok' if ok else label:<7} {message}")
    if not ok:
        problems.append(message)

def shape_of(path):
    """Shape of a .npy file, or None when it cannot be read."""
    try:
        return np.load(path, mmap_mode="r").shape
    except (OSError, ValueError):
        return None

report(folder.is_dir(), f"folder {folder}")
counts = {}
for sub, suffix in (("new_joint_vecs", ".npy"), ("new_joints", ".npy"), ("texts", ".txt")):
    names = os.listdir(folder / sub) if (folder / sub).is_dir() else []
    files = sorted(folder / sub / name for name in names if name.endswith(suffix))
    counts[sub] = files
    report(len(files) >= min_clips, f"{sub}/: {len(files)} {suffix} files (expected at least {min_clips})")

for name in ("Mean.npy", "Std.npy"):
    path = folder / name
    if not path.is_file():
        report(False, f"{name} (shape ({dim},))")
        continue
    try:
        array = np.load(path)
    except (OSError, ValueError):
        report(False, f"{name}: not a readable .npy file", "WRONG")
        continue
    good = array.shape == (dim,) and bool(np.isfinite(array).all())
    if name == "Std.npy":
        good = good and bool((array > 0).all())
    report(good, f"{name}: shape {array.shape}, expected ({dim},), finite" + (", positive" if name == "Std.npy" else ""),
           "WRONG")

if counts["new_joint_vecs"]:
    first = counts["new_joint_vecs"][0]
    shape = shape_of(first)
    report(shape is not None and len(shape) == 2 and shape[1] == dim,
           f"new_joint_vecs/{first.name}: shape {shape}, expected (T, {dim})", "WRONG")
if counts["new_joints"]:
    first = counts["new_joints"][0]
    shape = shape_of(first)
    report(shape is not None and shape[1:] == (joints, 3),
           f"new_joints/{first.name}: shape {shape}, expected (T, {joints}, 3)", "WRONG")

# Split files: every listed clip should have features and captions. The official pipeline drops
# a handful of clips it cannot process, so up to 1% missing is tolerated.
have_vecs = {path.stem for path in counts["new_joint_vecs"]}
have_texts = {path.stem for path in counts["texts"]}
for split in ("train.txt", "val.txt", "test.txt"):
    path = folder / split
    if not path.is_file():
        report(False, split)
        continue
    ids = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    lacking = [i for i in ids if i not in have_vecs or i not in have_texts]
    report(bool(ids) and len(lacking) <= len(ids) // 100,
           f"{split}: {len(ids)} clips, {len(lacking)} without features or captions"
           + (f" (e.g. {', '.join(lacking[:3])})" if lacking else ""))

sys.exit(1 if problems else 0)
PYCHECK
}

# ---------------------------------------------------------------------------------------------
# humanml3d: manual (AMASS licence), then verified
# ---------------------------------------------------------------------------------------------
target_humanml3d() {
    local dir="$DATA_ROOT/humanml3d"
    echo "==> humanml3d: checking $dir"
    if [ ! -d "$dir" ]; then
        cat <<EOF
    HumanML3D cannot be downloaded by a script: its motions come from AMASS, whose licence
    forbids redistribution. Build it once yourself (a few hours on a CPU):
      1. Register at https://amass.is.tue.mpg.de and download the SMPL+H G body data of the AMASS
         subsets listed in the HumanML3D README (https://github.com/EricGuo5513/HumanML3D).
      2. Download the SMPL+H body model (https://mano.is.tue.mpg.de) and the DMPLs
         (https://smpl.is.tue.mpg.de) into the HumanML3D checkout's body_models/, as its README says.
      3. git clone https://github.com/EricGuo5513/HumanML3D, unpack the AMASS data into its
         amass_data/, then run raw_pose_processing.ipynb, motion_representation.ipynb and
         cal_mean_variance.ipynb in that order.
      4. Copy its HumanML3D/ folder to $dir and unzip texts.zip inside it (texts/*.txt).
      5. Run 'bash data_download.sh humanml3d' again to check the result.
    Until then every notebook runs on the embedded data ('bash data_download.sh embedded').
EOF
        DETAIL="not built yet: follow the steps above"
        return 2
    fi
    # HumanML3D: 14,616 motions, each also mirrored (M-prefixed files) = 29,232; a few fail to process.
    if verify_dataset "$dir" 263 22 29000; then
        DETAIL="layout verified in $dir (no published checksums)"
        return 0
    fi
    DETAIL="incomplete: see the lines marked MISSING or WRONG above"
    return 1
}

# ---------------------------------------------------------------------------------------------
# kit: KIT-ML from Google Drive (needs gdown and a rar extractor)
# ---------------------------------------------------------------------------------------------
extract_rar() {
    local archive="$1" into="$2"
    if command -v unrar >/dev/null 2>&1; then
        unrar x -o+ -inul "$archive" "$into/"
    elif command -v 7z >/dev/null 2>&1; then
        7z x -y -bd -o"$into" "$archive" >/dev/null
    elif command -v bsdtar >/dev/null 2>&1; then
        bsdtar -xf "$archive" -C "$into"
    else
        echo "    no rar extractor found: install unrar, 7z (p7zip) or bsdtar" >&2
        return 1
    fi
}

kit_manual_steps() {
    cat <<EOF
    Manual steps for KIT-ML:
      1. Open $KIT_DRIVE_FOLDER
         and download every file into $DATA_ROOT/kit
      2. Extract new_joint_vecs.rar, new_joints.rar and texts.rar there (unrar x FILE),
         so that new_joint_vecs/, new_joints/ and texts/ sit next to Mean.npy, Std.npy and train.txt.
      3. Run 'bash data_download.sh kit' again to check the layout.
    Or install gdown (pip install gdown) and rerun to do it automatically.
EOF
}

target_kit() {
    local dir="$DATA_ROOT/kit"
    echo "==> kit: KIT-ML into $dir (layout checked; no published checksums)"
    # KIT-ML: 3,911 motions (the processed release adds mirrored copies).
    if [ -d "$dir" ]; then
        if verify_dataset "$dir" 251 21 3900; then
            DETAIL="present, layout verified in $dir"
            return 0
        fi
        echo "    $dir exists but is incomplete (see above); complete it or remove it and rerun." >&2
        DETAIL="incomplete folder: $dir"
        return 1
    fi
    if ! command -v gdown >/dev/null 2>&1; then
        echo "    gdown is not installed, so Google Drive cannot be scripted."
        kit_manual_steps
        DETAIL="manual step needed (no gdown)"
        return 2
    fi
    mkdir -p "$DATA_ROOT"
    new_partial "$DATA_ROOT" kit
    if ! gdown --folder --quiet "$KIT_DRIVE_FOLDER" -O "$PARTIAL/download"; then
        echo "    gdown could not download the Drive folder (offline, or Drive's daily quota)." >&2
        kit_manual_steps
        DETAIL="download failed"
        return 1
    fi
    # The folder holds rar archives next to Mean.npy/Std.npy/splits; gather everything in one place.
    local staged="$PARTIAL/kit" file
    mkdir -p "$staged"
    while IFS= read -r file <&3; do
        case "$file" in
            *.rar) extract_rar "$file" "$staged" || { DETAIL="could not extract $(basename "$file")"; return 1; } ;;
            *) mv "$file" "$staged/" ;;
        esac
    done 3< <(find "$PARTIAL/download" -type f)
    if ! verify_dataset "$staged" 251 21 3900; then
        DETAIL="downloaded files do not have the expected layout (kept nothing)"
        return 1
    fi
    mv "$staged" "$dir"
    DETAIL="downloaded, layout verified in $dir"
    return 0
}

# ---------------------------------------------------------------------------------------------
# t2m-evaluators: the official T2M evaluator checkpoints + GloVe (Guo et al., text-to-motion)
# ---------------------------------------------------------------------------------------------

# Files the evaluator code loads; no checksums are published for them.
EVALUATOR_FILES="t2m/text_mot_match/model/finest.tar kit/text_mot_match/model/finest.tar glove/our_vab_data.npy glove/our_vab_idx.pkl glove/our_vab_words.pkl"

evaluators_missing() {
    local dir="$1" file missing=""
    for file in $EVALUATOR_FILES; do
        if [ ! -f "$dir/$file" ]; then
            missing="$missing $file"
        fi
    done
    echo "$missing"
}

evaluator_manual_steps() {
    local dir="$1" url
    echo "    Manual steps for the T2M evaluators (from https://github.com/EricGuo5513/text-to-motion):"
    echo "      1. Download these three zip files (t2m.zip, kit.zip, glove.zip):"
    for url in "${EVALUATOR_DRIVE_FILES[@]}"; do
        echo "           $url"
    done
    echo "      2. Unzip them into $dir so that these files exist:"
    for url in $EVALUATOR_FILES; do
        echo "           $dir/$url"
    done
    echo "      3. Run 'bash data_download.sh t2m-evaluators' again to check."
    echo "    Or install gdown (pip install gdown) and rerun to do it automatically."
}

target_t2m_evaluators() {
    local dir="$DATA_ROOT/t2m_evaluators"
    echo "==> t2m-evaluators: evaluator checkpoints and GloVe into $dir (presence checked; no published checksums)"
    echo "    unverified files are loaded only with MOTIONGPT_LITE_TRUST_T2M=1 (never as arbitrary pickles)"
    local missing
    missing="$(evaluators_missing "$dir")"
    if [ -z "$missing" ]; then
        echo "    skipped: all evaluator files present"
        DETAIL="present in $dir"
        return 0
    fi
    if ! command -v gdown >/dev/null 2>&1; then
        echo "    gdown is not installed, so Google Drive cannot be scripted."
        evaluator_manual_steps "$dir"
        DETAIL="manual step needed (no gdown)"
        return 2
    fi
    mkdir -p "$dir"
    new_partial "$DATA_ROOT" t2m_evaluators
    local url
    for url in "${EVALUATOR_DRIVE_FILES[@]}"; do
        # A trailing slash makes gdown keep Drive's own file name (t2m.zip, kit.zip, glove.zip).
        if ! gdown --fuzzy --quiet "$url" -O "$PARTIAL/"; then
            echo "    gdown could not download $url (offline, or Drive's daily quota)." >&2
            evaluator_manual_steps "$dir"
            DETAIL="download failed"
            return 1
        fi
    done
    # Each zip holds one top folder (t2m/, kit/ or glove/); unpack, then move in what is missing.
    local archive top
    for archive in "$PARTIAL"/*.zip; do
        if ! "$PY" -m zipfile -e "$archive" "$PARTIAL/unpacked"; then
            DETAIL="could not unzip $(basename "$archive")"
            return 1
        fi
    done
    for top in "$PARTIAL"/unpacked/*; do
        if [ ! -e "$dir/$(basename "$top")" ]; then
            mv "$top" "$dir/"
        else  # a partial folder (e.g. glove/ with one file): add what it lacks, keep what it has
            cp -Rn "$top/." "$dir/$(basename "$top")/"
        fi
    done
    missing="$(evaluators_missing "$dir")"
    if [ -n "$missing" ]; then
        echo "    still missing after download:$missing" >&2
        DETAIL="incomplete: missing$missing"
        return 1
    fi
    DETAIL="downloaded into $dir"
    return 0
}

# ---------------------------------------------------------------------------------------------
# flan-t5-small / flan-t5-base: Hugging Face cache
# ---------------------------------------------------------------------------------------------
target_flan_t5() {
    local repo_id="google/$1"
    echo "==> $1: $repo_id into the Hugging Face cache"
    local offline=0
    if hub_offline; then
        offline=1
        echo "    HF_HUB_OFFLINE is set: looking in the local cache only"
    fi
    # PyTorch weights (safetensors, else the .bin), config and tokenizer; not the TF/Flax copies.
    local status=0
    "$PY" - "$repo_id" "$offline" <<'PYHUB' || status=$?
import sys
from pathlib import Path

repo_id, offline = sys.argv[1], sys.argv[2] == "1"
try:
    from huggingface_hub import snapshot_download
except ImportError:
    print("    huggingface_hub is not installed (it comes with transformers: pip install -e .)")
    sys.exit(1)
try:
    path = Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "spiece.model"],
                                  local_files_only=offline))
    if not list(path.glob("*.safetensors")):
        path = Path(snapshot_download(repo_id, allow_patterns=["pytorch_model.bin"], local_files_only=offline))
except Exception as error:  # offline, DNS, proxy, not in the cache: all mean "not available now"
    first_line = (str(error).strip().splitlines() or [""])[0]
    print(f"    could not get {repo_id}: {type(error).__name__}: {first_line}")
    sys.exit(1)
print(f"    in the cache: {path}")
PYHUB
    if [ "$status" -eq 0 ]; then
        DETAIL="in the Hugging Face cache"
        return 0
    fi
    echo "    Nothing is lost offline: the notebooks fall back to a T5 built from a config with a"
    echo "    tokenizer trained on the fly. Rerun this target once the hub is reachable."
    DETAIL="not available (offline or hub unreachable); the offline T5 fallback still works"
    return 1
}

# ---------------------------------------------------------------------------------------------
# Main: check the targets, run them, print a summary
# ---------------------------------------------------------------------------------------------
main() {
    if [ "$#" -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
        usage
        return 0
    fi
    local targets=() target known
    for target in "$@"; do
        if [ "$target" = "all" ]; then
            for known in $ALL_TARGETS; do
                targets+=("$known")
            done
            continue
        fi
        case " $KNOWN_TARGETS " in
            *" $target "*) targets+=("$target") ;;
            *)
                echo "data_download.sh: unknown target '$target'." >&2
                echo >&2
                usage >&2
                return 2
                ;;
        esac
    done

    echo "Data root: $DATA_ROOT"
    local summary=() status word failed=0
    for target in "${targets[@]}"; do
        DETAIL=""
        status=0
        case "$target" in
            embedded) target_embedded || status=$? ;;
            sample) target_sample || status=$? ;;
            cmu) target_cmu || status=$? ;;
            kit) target_kit || status=$? ;;
            t2m-evaluators) target_t2m_evaluators || status=$? ;;
            flan-t5-small | flan-t5-base) target_flan_t5 "$target" || status=$? ;;
            humanml3d) target_humanml3d || status=$? ;;
        esac
        cleanup
        case "$status" in
            0) word="ok" ;;
            2) word="MANUAL" ; failed=1 ;;
            *) word="FAILED" ; failed=1 ;;
        esac
        summary+=("$(printf '  %-15s %-7s %s' "$target" "$word" "$DETAIL")")
    done

    echo
    echo "Summary:"
    printf '%s\n' "${summary[@]}"
    if [ "$failed" -ne 0 ]; then
        echo "Some targets did not complete. Everything still works with the embedded data"
        echo "('bash data_download.sh embedded'); the rest adds real data and pretrained weights."
        return 1
    fi
    return 0
}

main "$@"
