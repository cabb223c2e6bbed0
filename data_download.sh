#!/usr/bin/env bash
# data_download.sh -- fetch, build or check the datasets and models motiongpt_lite can use; run it without
# arguments for the list of targets. The work is done by motiongpt_lite/data/download.py (on pooch).
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO_DIR/.venv/bin/python" ]; then PYTHON="$REPO_DIR/.venv/bin/python"; else PYTHON=python3; fi
fi
export PYTHONPATH="$REPO_DIR${PYTHONPATH:+:$PYTHONPATH}"  # the checkout's package, installed or not
exec "$PYTHON" -m motiongpt_lite.data.download "$@"
