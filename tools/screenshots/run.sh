#!/usr/bin/env bash
# Screenshots of every window at 1280x800 and 1920x1080 under Xvfb (apt: xvfb).
#
# Usage: tools/screenshots/run.sh OUT_DIR [arguments for the one script in SCRIPTS]
#   SCRIPTS="live dialogs review" (the default) picks the scripts: live (the monitoring
#   window through the real app), dialogs (the live window's dialogs over it), review
#   (browser, review window, course view). Extra arguments go to the script when
#   SCRIPTS names one, e.g. SCRIPTS=live run.sh shots --source sim:typical --protocol nonin-2
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: run.sh OUT_DIR [args]}; shift
python=${PYTHON:-.venv/bin/python}
read -r -a scripts <<< "${SCRIPTS:-live dialogs review}"
if [ "$#" -gt 0 ] && [ "${#scripts[@]}" -ne 1 ]; then
    echo "run.sh: extra arguments need SCRIPTS to name one script" >&2; exit 2
fi
for size in 1280x800 1920x1080; do
    display=:$((80 + RANDOM % 9))
    Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp &
    xvfb=$!
    sleep 1
    status=0
    for script in "${scripts[@]}"; do
        if [ "$script" = review ]; then
            args=("$out/$size" "$@")      # the review script takes the folder as its argument
        else
            args=(--out "$out/$size" "$@")
        fi
        DISPLAY=$display QT_QPA_PLATFORM=xcb "$python" -m "tools.screenshots.$script" \
            "${args[@]}" || status=$?
        [ "$status" -eq 0 ] || break
    done
    kill "$xvfb"; wait "$xvfb" 2>/dev/null || true
    [ "$status" -eq 0 ] || exit "$status"
done
