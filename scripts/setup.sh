#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install the package with its
# dev extras. Idempotent: a second run only checks that the install is current.
#
# torch: where a CPU-only wheel of torch lies in pip's local wheel folder (find-links), as on our CI
# machines, we install that one (a plain `pip install torch` there would pull a multi-GB CUDA build);
# everywhere else plain `torch` from the package index is right. Set MOTIONGPT_LITE_TORCH to force
# a requirement, e.g. MOTIONGPT_LITE_TORCH="torch==2.5.1".
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${MOTIONGPT_LITE_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
# pip, minus the harmless warnings about local index folders that some machines configure
pip_install() {
    "$VENV/bin/python" -m pip --disable-pip-version-check -q install "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

stamp="$VENV/.motiongpt_lite-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c "import motiongpt_lite, torch" 2>/dev/null; then
    echo "[setup] $VENV is up to date"
    exit 0
fi

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if [ -n "${MOTIONGPT_LITE_TORCH:-}" ]; then
        echo "[setup] installing $MOTIONGPT_LITE_TORCH (MOTIONGPT_LITE_TORCH)"
        pip_install "$MOTIONGPT_LITE_TORCH"
    elif "$VENV/bin/python" -m pip -q install --no-index --no-deps "torch==2.13.0" >/dev/null 2>&1; then
        echo "[setup] installed the local CPU wheel torch==2.13.0; adding its dependencies"
        pip_install "torch==2.13.0"
    else
        echo "[setup] installing torch from the package index"
        pip_install torch
    fi
fi
echo "[setup] installing motiongpt_lite[dev] (editable)"
pip_install -e ".[dev]"
echo "$want" > "$stamp"
echo "[setup] done: $("$VENV/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "| transformers", transformers.__version__)')"
