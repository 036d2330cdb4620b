#!/usr/bin/env bash
# Concurrency of the live index (issue 11), short version of
# scripts/concurrency_trial.sh (minutes, outside the default suite): one
# writer process committing continuously (adds, upserts, deletes, merges),
# three reader processes searching with ks_db_reopen on every iteration, and
# `kosearch check` in a loop, for 8 seconds: 0 failed searches, 0 results
# from a state that was never committed, 0 failed checks.
set -euo pipefail
: "${KOSEARCH:?}" "${KS_TMP:?}" "${KS_LIVE_DRIVER:?}" "${KS_SOURCE_DIR:?}"
export KS_CONC_DIR="$KS_TMP/live_concurrency"
export KOSEARCH KS_LIVE_DRIVER
out=$("$KS_SOURCE_DIR/scripts/concurrency_trial.sh" 8 3) || { echo "$out"; echo "FAIL: concurrency trial"; exit 1; }
echo "$out"
grep -q " 0 failed searches, 0 results from a state never committed; [0-9]* kosearch check runs, 0 failed" <<< "$out"
rm -rf "$KS_CONC_DIR"
echo "ok: concurrency trial"
