#!/usr/bin/env bash
# Check the Colab install command of the notebooks' setup cell in a fresh virtual environment, and time it.
#
# Colab comes with torch installed; so does our venv before the test (this machine's local CPU wheel
# torch==2.13.0 when pip can find it, as scripts/setup.sh does; plain `torch` otherwise). Then we run
# the setup cell's own `!pip -q install "motiongpt_lite @ git+https://github.com/..."` line, taken from
# the notebooks, with the GitHub URL replaced by this checkout (`git+file://`, i.e. its committed HEAD),
# import the package, run colab_setup and print the versions. Everything else (transformers, accelerate,
# ...) comes from the package index, so this needs network access to it and is not part of pytest.
#
# Usage: bash scripts/check_colab_install.sh [REPO]   (REPO: a git checkout to install from; default this one)
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE="$(cd "${1:-.}" && pwd)"
GITHUB="git+https://github.com/motiongpt-lite/motiongpt_lite"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The install line of every notebook's setup cell: they must all be the same line.
install_line="$(python3 - <<'EOF'
import json, pathlib, sys
lines = {line.strip() for path in sorted(pathlib.Path("notebooks").glob("*.ipynb"))
         for cell in json.loads(path.read_text())["cells"][:3] if cell["cell_type"] == "code"
         for line in "".join(cell["source"]).splitlines() if line.strip().startswith("!pip")}
if len(lines) != 1:
    sys.exit(f"expected one install line shared by every notebook's setup cell, found {sorted(lines)}")
print(lines.pop())
EOF
)"
command="${install_line#!}"                       # pip -q install "motiongpt_lite @ git+https://..."
command="${command//$GITHUB/git+file://localhost$SOURCE}"  # not on GitHub from here (pip 23 needs the host)
echo "[colab-install] setup cell: $install_line"
echo "[colab-install] running:    $command  (in a fresh venv)"

python3 -m venv "$WORK/venv"
export PATH="$WORK/venv/bin:$PATH"  # `pip` is the venv's, as `!pip` is Colab's own
pip_quiet() { python -m pip --disable-pip-version-check -q install "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

start=$(date +%s)
if python -m pip -q install --no-index --no-deps "torch==2.13.0" >/dev/null 2>&1; then
    pip_quiet "torch==2.13.0"  # the local CPU wheel's own dependencies
else
    pip_quiet torch
fi
torch_s=$(( $(date +%s) - start ))

start=$(date +%s)
eval "$command --disable-pip-version-check" 2> >(grep -v "is ignored: it is neither" >&2)  # minus local-index noise
install_s=$(( $(date +%s) - start ))

cd "$WORK"  # import the installed package, not this checkout
python - <<'EOF'
import os
os.environ.pop("MOTIONGPT_LITE_PRESET", None)
import motiongpt_lite
from motiongpt_lite.runtime import colab_setup, versions
from motiongpt_lite import api, viz, pipeline
from motiongpt_lite.tools import classroom  # every layer imports with the installed dependencies
colab_setup(use_drive=False)
print("[colab-install] versions:", versions())
print("[colab-install] installed at", os.path.dirname(motiongpt_lite.__file__))
EOF
motiongpt-lite --help >/dev/null
echo "[colab-install] ok: torch (pre-installed, as on Colab) ${torch_s} s; the setup cell's install ${install_s} s"
