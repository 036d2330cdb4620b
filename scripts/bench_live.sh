#!/bin/bash
# bench_live.sh - the live-index benchmarks of issue 11 on kowiki-sample
# (docs/live.md; results in the README, "Benchmarks"):
#   1. kosearch index of the whole sample (the reference time);
#   2. adding 1,000 new articles to that index and committing;
#   3. deleting 10,000 ids and committing;
#   4. kosearch add of the whole sample in batches of 1,000 with a commit
#      after each (--commit-every 1000), against run 1's time; the segment
#      count it leaves, and the write amplification of its merges;
#   5. query latency on the index run 4 left against a fully merged copy
#      (kosearch bench --vs, interleaved).
#
# Usage: scripts/bench_live.sh [BUILD_DIR] [WORK_DIR]
# Needs ../shared/data/kowiki-sample.jsonl.gz and the kowiki tuning
# queries (../shared/data/queries/); exits 0 with a message without them.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
work=${2:-$(mktemp -d /tmp/ks_bench_live.XXXXXX)}
ks=$build/kosearch
data=$here/../shared/data
corpus=$data/kowiki-sample.jsonl.gz
queries=$(ls "$data"/queries/kowiki*tune*.tsv 2>/dev/null | head -1 || true)
if [[ ! -f $corpus ]]; then
  echo "bench_live: $corpus not found: skipped (see ../shared/data/README.md)"
  exit 0
fi
[[ -x $ks ]] || { echo "bench_live: build kosearch first ($ks)" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
segments() { "$ks" stats --json "$1" | sed -n 's/.*"segments": *\([0-9]*\).*/\1/p'; }

echo "== 1. kosearch index (reference)"
rm -rf full.idx
t0=$(now)
"$ks" index --quiet -o full.idx "$corpus"
t1=$(now)
t_index=$(secs "$t0" "$t1")
echo "index: ${t_index} s, $(du -sm full.idx | cut -f1) MB, segments $(segments full.idx)"

echo "== 2. add 1,000 new articles to the full index, commit"
# (zcat is cut off by head: SIGPIPE is expected there)
{ zcat "$corpus" || true; } | head -n 1000 | sed 's/^{"id": "/{"id": "new-/' > add1000.jsonl
rm -rf upd.idx && cp -a full.idx upd.idx
sync
t0=$(now)
"$ks" add --quiet upd.idx add1000.jsonl
t1=$(now)
echo "add 1,000: $(secs "$t0" "$t1") s (target < 1 s)"
first_new=$(head -n 1 add1000.jsonl | sed 's/^{"id": "\([^"]*\)".*/\1/')
"$ks" get upd.idx "$first_new" > /dev/null && echo "visible to a new reader: $first_new"
"$ks" stats upd.idx | grep -E "documents|segments"

echo "== 3. delete 10,000 ids, commit"
{ zcat "$corpus" || true; } | head -n 20000 | tail -n 10000 | sed 's/^{"id": "\([^"]*\)".*/\1/' > del10000.txt
t0=$(now)
"$ks" delete --quiet upd.idx --ids del10000.txt
t1=$(now)
echo "delete 10,000: $(secs "$t0" "$t1") s (target < 1 s)"
"$ks" stats upd.idx | grep -E "documents|deleted|segments"

echo "== 4. sustained add in batches of 1,000 (one commit each)"
rm -rf sus.idx
t0=$(now)
"$ks" add --json sus.idx --commit-every 1000 "$corpus" > sus.json
t1=$(now)
t_sus=$(secs "$t0" "$t1")
echo "add --commit-every 1000: ${t_sus} s = $(awk -v a="$t_sus" -v b="$t_index" 'BEGIN { printf "%.2f", a / b }') x index (target <= 1.5)"
cat sus.json
echo "segments: $(segments sus.idx), $(du -sm sus.idx | cut -f1) MB"

if [[ -n $queries ]]; then
  echo "== 5. query latency: natural segments vs fully merged"
  rm -rf merged.idx && cp -a sus.idx merged.idx
  "$ks" merge merged.idx
  "$ks" bench sus.idx --vs merged.idx --queries "$queries" -k 10 --repeat 3
else
  echo "== 5. skipped: no kowiki tuning queries in $data/queries"
fi
echo "work directory: $work"
