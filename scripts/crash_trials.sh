#!/usr/bin/env bash
# Crash trials of the live index (issue 11): kill -9 a writer at random
# moments, then check the index and compare its live documents with the
# last commit the writer logged.
#
#   scripts/crash_trials.sh [TRIALS] [MAX_SLEEP_MS]     (defaults 1000, 2000)
#
# Each trial runs `ks_live_driver crash` (tests/support/ks_live_driver.c) on
# the same index: it continues from the last commit with a deterministic
# sequence (seed = trial number + KS_CRASH_SEED) of adds, upserts, deletes,
# commits, forced merges (the merge policy also merges on its own thread)
# and writer restarts, logging each commit's live set (fsync'ed) before and
# after ks_writer_commit. After a random sleep the harness kills it with
# SIGKILL, runs `kosearch check`, and `ks_live_driver verify`: the index
# must hold exactly the last logged commit, or the commit in flight if its
# MANIFEST rename happened. It prints the counts; exit 1 if any trial
# failed.
#
# Environment: KS_BUILD_DIR (default ./build) holds kosearch and
# tests/ks_live_driver; KS_CRASH_DIR a work directory to keep (default: a
# temporary one, removed when every trial passed); KS_CRASH_SEED (default
# 0) offsets the seeds. A failed trial's index is copied to
# WORK/failed-<trial> (the first five).
set -uo pipefail
cd "$(dirname "$0")/.."
trials=${1:-1000}
max_sleep_ms=${2:-2000}
build=${KS_BUILD_DIR:-build}
driver=${KS_LIVE_DRIVER:-$build/tests/ks_live_driver}
kosearch=${KOSEARCH:-$build/kosearch}
seed0=${KS_CRASH_SEED:-0}
for f in "$driver" "$kosearch"; do
  [ -x "$f" ] || { echo "crash_trials: $f not found (build first)" >&2; exit 2; }
done
keep=1
if [ -z "${KS_CRASH_DIR:-}" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/ks-crash.XXXXXX")
  keep=0
else
  work=$KS_CRASH_DIR
  rm -rf "$work"
  mkdir -p "$work"
fi
idx="$work/idx"

ok=0 unopenable=0 check_failed=0 mismatch=0 lost=0 resurrected=0 stale=0
finished=0 in_commit=0 published_in_flight=0 saved=0
declare -A phases=()
prev_log=""
start=$(date +%s)
for t in $(seq 1 "$trials"); do
  log="$work/log"
  rm -f "$log" "$log.phase"
  "$driver" crash "$idx" "$log" $((seed0 + t)) > "$work/driver.out" 2>&1 &
  pid=$!
  sleep "$(awk -v r="$RANDOM$RANDOM" -v m="$max_sleep_ms" 'BEGIN { srand(r); printf "%.3f", rand() * m / 1000 }')"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    ph=$(head -c1 "$log.phase" 2>/dev/null)
    ph=${ph:-s}
    phases[$ph]=$(( ${phases[$ph]:-0} + 1 ))
  else
    wait "$pid"
    rc=$?
    finished=$((finished + 1))
    if [ "$rc" -ne 0 ]; then
      echo "trial $t: the driver failed by itself (exit $rc):" >&2
      cat "$work/driver.out" >&2
      mismatch=$((mismatch + 1))
    fi
  fi
  failed=0
  if [ -e "$idx/MANIFEST" ] && ! "$kosearch" check "$idx" > "$work/check.out" 2>&1; then
    check_failed=$((check_failed + 1))
    failed=1
    echo "trial $t: kosearch check failed:" >&2
    grep -v ': ok' "$work/check.out" | head -5 >&2
  fi
  out=$("$driver" verify "$idx" "$log")
  vrc=$?
  if [ "$vrc" -eq 3 ] && [ -n "$prev_log" ]; then
    # killed before the driver logged its starting point: the index must
    # still be what the previous trial left
    out=$("$driver" verify "$idx" "$prev_log")
    vrc=$?
  elif [ "$vrc" -ne 3 ]; then
    prev_log="$work/prev.log"
    cp "$log" "$prev_log"
  fi
  case "$vrc" in
    0)
      case "$out" in *"killed during commit"*) in_commit=$((in_commit + 1)) ;; esac
      case "$out" in *"published before the kill"*) published_in_flight=$((published_in_flight + 1)) ;; esac
      ;;
    1)
      mismatch=$((mismatch + 1))
      failed=1
      lost=$((lost + $(sed -n 's/.*lost=\([0-9]*\).*/\1/p' <<< "$out")))
      resurrected=$((resurrected + $(sed -n 's/.*resurrected=\([0-9]*\).*/\1/p' <<< "$out")))
      stale=$((stale + $(sed -n 's/.*stale=\([0-9]*\).*/\1/p' <<< "$out")))
      ;;
    2) unopenable=$((unopenable + 1)); failed=1 ;;
    *) echo "trial $t: verify: $out" >&2; failed=1; mismatch=$((mismatch + 1)) ;;
  esac
  if [ "$failed" -eq 1 ]; then
    echo "trial $t (seed $((seed0 + t))): $out" >&2
    if [ "$saved" -lt 5 ]; then
      cp -a "$idx" "$work/failed-$t"
      cp "$log" "$work/failed-$t.log" 2>/dev/null
      saved=$((saved + 1))
    fi
    keep=1
  else
    ok=$((ok + 1))
  fi
  if [ $((t % 100)) -eq 0 ]; then
    echo "... $t trials, $ok ok, $((t - ok)) failed ($(( $(date +%s) - start )) s)"
  fi
done
segs=$("$kosearch" stats "$idx" 2>/dev/null | grep -i segments | head -1)
names() { case "$1" in s) echo start;; a) echo add;; d) echo delete;; l) echo "log write";; c) echo ks_writer_commit;; m) echo ks_writer_merge;; r) echo "writer restart";; e) echo end;; *) echo "$1";; esac; }
where=""
for ph in s a d m c l r e; do
  [ -n "${phases[$ph]:-}" ] && where="$where, ${phases[$ph]} in $(names "$ph")"
done
echo "crash trials: $trials trials ($finished finished before the kill$where; $in_commit between a logged P and its C, $published_in_flight of them after the MANIFEST rename)"
echo "crash trials: $unopenable unopenable indexes, $check_failed failed checks, $lost lost committed documents, $resurrected resurrected deletions, $stale stale versions, $mismatch mismatching trials"
echo "crash trials: index at the end: ${segs:-?}; $(( $(date +%s) - start )) s"
if [ "$keep" -eq 0 ]; then rm -rf "$work"; else echo "crash trials: work directory $work"; fi
[ $((unopenable + check_failed + mismatch)) -eq 0 ]
