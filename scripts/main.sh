#!/usr/bin/env bash
# The main job: set-up, then the whole pipeline headless at a preset (default `small`) on the
# embedded dataset. Extra arguments go to `motiongpt-lite run`, e.g. `bash scripts/main.sh --preset tiny`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MPLBACKEND=Agg
exec .venv/bin/motiongpt-lite run "$@"
