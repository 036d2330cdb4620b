#!/usr/bin/env bash
# Concurrency trial of the live index (issue 11): one writer process adds,
# upserts, deletes and merges continuously, committing after every batch,
# while several reader processes search in a loop (ks_db_reopen on every
# iteration) and a loop runs `kosearch check`.
#
#   scripts/concurrency_trial.sh [SECONDS] [READERS]     (defaults 120, 4)
#
# Every commit K of the writer (`ks_live_driver writer`) adds the marker
# document "gen-K" (word "zzmarker", JSON "live": the live documents the
# commit leaves) and deletes "gen-(K-1)". A reader (`ks_live_driver
# reader`) must never fail a search, must see exactly one marker once a
# commit exists, with "live" equal to its snapshot's document count, and
# markers must never go back: anything else is a state that was never
# committed. `kosearch check` must never fail. Prints the counts; exit 1
# on any failure.
#
# Environment: KS_BUILD_DIR (default ./build), or KS_LIVE_DRIVER and
# KOSEARCH; KS_CONC_DIR a work directory to keep (default: temporary).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
nreaders=${2:-4}
build=${KS_BUILD_DIR:-build}
driver=${KS_LIVE_DRIVER:-$build/tests/ks_live_driver}
kosearch=${KOSEARCH:-$build/kosearch}
for f in "$driver" "$kosearch"; do
  [ -x "$f" ] || { echo "concurrency_trial: $f not found (build first)" >&2; exit 2; }
done
keep=1
if [ -z "${KS_CONC_DIR:-}" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/ks-conc.XXXXXX")
  keep=0
else
  work=$KS_CONC_DIR
  rm -rf "$work"
  mkdir -p "$work"
fi
idx="$work/idx"

"$driver" writer "$idx" "$seconds" 1 > "$work/writer.out" 2>&1 &
wpid=$!
rpids=()
for i in $(seq 1 "$nreaders"); do
  "$driver" reader "$idx" "$seconds" $((100 + i)) > "$work/reader$i.out" 2>&1 &
  rpids+=($!)
done
checks=0 check_failed=0
end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
  [ -e "$idx/MANIFEST" ] || { sleep 0.05; continue; }
  checks=$((checks + 1))
  if ! "$kosearch" check "$idx" > "$work/check.out" 2>&1; then
    check_failed=$((check_failed + 1))
    [ "$check_failed" -le 3 ] && { echo "kosearch check failed:"; grep -v ': ok' "$work/check.out" | head -3; } >&2
  fi
done
status=0
wait "$wpid" || { echo "the writer failed:" >&2; cat "$work/writer.out" >&2; status=1; }
searches=0 failed=0 bad=0 reopens=0
for i in $(seq 1 "$nreaders"); do
  wait "${rpids[$((i - 1))]}" || status=1
  line=$(cat "$work/reader$i.out")
  echo "$line"
  n() { sed -n "s/.* \([0-9]*\) $1.*/\1/p" <<< "$line" | head -1; }
  searches=$((searches + $(n searches)))
  reopens=$((reopens + $(n reopens)))
  failed=$((failed + $(n failed)))
  bad=$((bad + $(n 'bad states')))
done
cat "$work/writer.out"
"$kosearch" check "$idx" > "$work/check.out" 2>&1 || { echo "final check failed" >&2; status=1; }
echo "concurrency trial: $seconds s, 1 writer, $nreaders readers: $searches searches ($reopens reopens to a new commit), $failed failed searches, $bad results from a state never committed; $checks kosearch check runs, $check_failed failed"
[ $((failed + bad + check_failed)) -eq 0 ] || status=1
if [ "$keep" -eq 0 ] && [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "concurrency trial: work directory $work"; fi
exit "$status"
