#!/usr/bin/env bash
# `make test-soak [N=5]`: the whole suite N times in a row while a second process keeps one core
# busy, so a test that passes only on an idle machine fails here rather than in CI. Prints each
# run's wall time and stops at the first failure (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
python="${PYTHON:-.venv/bin/python}"

"$python" -c "while True: pass" &  # the busy core
burner=$!
trap 'kill "$burner" 2>/dev/null || true' EXIT

times=()
for run in $(seq 1 "$runs"); do
    started=$(date +%s.%N)
    status=0
    # shellcheck disable=SC2086  # PYTEST_ARGS holds several words on purpose
    "$python" -m pytest -q ${PYTEST_ARGS:-} || status=$?
    took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    times+=("${took}s")
    if [ "$status" -ne 0 ]; then
        echo "soak: run $run of $runs FAILED (exit $status) after ${took}s; runs: ${times[*]}"
        exit 1
    fi
    echo "soak: run $run of $runs passed in ${took}s"
done
echo "soak: $runs of $runs passed with one core busy; wall times: ${times[*]}"
