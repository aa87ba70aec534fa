#!/usr/bin/env bash
# Screenshots of the live window at 1280x800 and 1920x1080 under Xvfb (apt: xvfb).
# Usage: tools/screenshots/run.sh OUT_DIR [extra arguments for tools.screenshots.live]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: run.sh OUT_DIR [args]}; shift
python=${PYTHON:-.venv/bin/python}
for size in 1280x800 1920x1080; do
    display=:$((80 + RANDOM % 9))
    Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp &
    xvfb=$!
    sleep 1
    DISPLAY=$display QT_QPA_PLATFORM=xcb "$python" -m tools.screenshots.live \
        --out "$out/$size" "$@" || status=$?
    kill "$xvfb"; wait "$xvfb" 2>/dev/null || true
    [ "${status:-0}" -eq 0 ] || exit "$status"
done
