#!/usr/bin/env bash
# The test command: set-up, lint (ruff), then unit tests and every notebook (nbval) at the `tiny` preset, offline.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k features`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MOTIONGPT_LITE_PRESET="${MOTIONGPT_LITE_PRESET:-tiny}" HF_HUB_OFFLINE=1 MPLBACKEND=Agg
export MOTIONGPT_LITE_DATA="${MOTIONGPT_LITE_DATA:-$PWD/data}" MOTIONGPT_LITE_CHECKPOINTS="${MOTIONGPT_LITE_CHECKPOINTS:-$PWD/checkpoints}"
.venv/bin/ruff check motiongpt_lite tests scripts
exec .venv/bin/python -m pytest tests notebooks --nbval-lax --durations=15 "$@"
