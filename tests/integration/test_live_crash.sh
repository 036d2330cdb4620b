#!/usr/bin/env bash
# Crash safety of the live index (issue 11), short version of
# scripts/crash_trials.sh (1,000 trials, outside the default suite): 20
# kill -9 trials at random moments of adds, deletes, commits, merges and
# writer restarts; after each, `kosearch check` passes and the live
# documents are exactly the last committed ones (or the commit in flight,
# when its MANIFEST rename happened before the kill).
set -euo pipefail
: "${KOSEARCH:?}" "${KS_TMP:?}" "${KS_LIVE_DRIVER:?}" "${KS_SOURCE_DIR:?}"
export KS_CRASH_DIR="$KS_TMP/live_crash"
export KOSEARCH KS_LIVE_DRIVER
out=$("$KS_SOURCE_DIR/scripts/crash_trials.sh" 20 1000) || { echo "$out"; echo "FAIL: crash trials"; exit 1; }
echo "$out"
grep -q "0 unopenable indexes, 0 failed checks, 0 lost committed documents, 0 resurrected deletions, 0 stale versions, 0 mismatching trials" <<< "$out"
rm -rf "$KS_CRASH_DIR"
echo "ok: 20 crash trials"
