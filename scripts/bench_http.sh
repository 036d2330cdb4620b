#!/bin/bash
# bench_http.sh - load measurements of `kosearch serve` (issue 12; results
# in the README, "Benchmarks"), on kowiki-sample with the kowiki tuning
# questions, all in one run:
#   1. in-process reference: kosearch bench --threads 1 and --threads 2;
#   2. wrk (benchmarks/http/search.lua, one wrk thread) against a server
#      with --threads 2: GET /search?k=10&stored=0 (the same work as bench:
#      search + ids) at 1, 2, 16 and 64 connections, and the full answer
#      (titles + 160-character snippets) at 1 and 16 connections; QPS,
#      latency percentiles, and the CPU time of the server and of wrk;
#   3. the same 16-connection load (stored=0) on a server with
#      --allow-writes while another client POSTs 1,000-document batches
#      (upserts of kowiki articles): failed searches counted in wrk's
#      `response` hook, search latency p99, batches and their latency;
#   4. a robustness run (scripts/http_robustness.py fuzz) against that
#      server with the writes allowed.
#
# Usage: scripts/bench_http.sh [BUILD_DIR] [WORK_DIR] [SECONDS] [FUZZ_SECONDS]
#   BUILD_DIR  default build/ (kosearch there)
#   WORK_DIR   default a new /tmp/ks_bench_http.XXXX; the index is
#              WORK_DIR/kowiki.idx (built when missing, ~1 minute)
#   SECONDS    per wrk run, default 30; FUZZ_SECONDS: step 4, default 60
# Needs ../shared/data/kowiki-sample.jsonl.gz and queries/kowiki-tune.tsv,
# wrk, curl, /usr/bin/python3. Fuzzers of this machine (processes named
# */fuzz_*) are paused (SIGSTOP) during the run and resumed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
work=${2:-$(mktemp -d /tmp/ks_bench_http.XXXXXX)}
secs=${3:-30}
rob_secs=${4:-60}
ks=$build/kosearch
data=$here/../shared/data
corpus=$data/kowiki-sample.jsonl.gz
queries=$data/queries/kowiki-tune.tsv
lua=$here/benchmarks/http/search.lua
[[ -f $corpus && -f $queries ]] || { echo "bench_http: $corpus or $queries not found: skipped"; exit 0; }
[[ -x $ks ]] || { echo "bench_http: build kosearch first ($ks)" >&2; exit 2; }
for t in wrk curl /usr/bin/python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench_http: $t is missing" >&2; exit 2; }
done
mkdir -p "$work"
idx=$work/kowiki.idx
hz=$(getconf CLK_TCK)

pkill -STOP -f '/fuzz_' 2>/dev/null || true
srv=""
wpid=""
cleanup() {
  [[ -n $wpid ]] && kill "$wpid" 2>/dev/null || true
  [[ -n $srv ]] && kill "$srv" 2>/dev/null || true
  pkill -CONT -f '/fuzz_' 2>/dev/null || true
}
trap cleanup EXIT

if [[ ! -f $idx/MANIFEST ]]; then
  echo "building $idx ..."
  "$ks" index --quiet -o "$idx" "$corpus"
fi

echo "# bench_http: $(date -u +%FT%TZ), commit $(git -C "$here" rev-parse --short HEAD), $(nproc) cores, ${secs}s per wrk run"
echo "## in-process (kosearch bench -k 10, --warmup 1 --repeat 2)"
for t in 1 2; do
  "$ks" bench "$idx" --queries "$queries" -k 10 --threads "$t" --repeat 2 >"$work/bench$t.txt" 2>&1
  echo "threads $t: $(grep -iE 'mean|qps' "$work/bench$t.txt" | tr '\n' ' ' | tr -s ' ')"
done

# cpu_ticks PID: utime + stime of a running process, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_server LOG ARGS...: sets srv, url
start_server() {
  local log=$1; shift
  "$ks" serve "$@" --listen 127.0.0.1:0 --quiet 2>"$log" &
  srv=$!
  for _ in $(seq 1 600); do
    grep -q "^listening on" "$log" 2>/dev/null && break
    sleep 0.1
  done
  url=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' "$log")
  [[ -n $url ]] || { echo "server did not start:"; cat "$log"; exit 1; }
}

# run_wrk CONNS PARAMS COUNT LABEL: one wrk run; prints a table row
run_wrk() {
  local c=$1 params=$2 count=$3 label=$4
  local s0 s1
  s0=$(cpu_ticks "$srv")
  KS_QUERIES=$queries KS_PARAMS=$params KS_COUNT=$count \
    /usr/bin/time -f 'WRKCPU %U %S' -o "$work/wrk.time" \
    wrk -t1 -c"$c" -d"${secs}s" --latency -s "$lua" "$url" >"$work/wrk.out" 2>&1
  s1=$(cpu_ticks "$srv")
  local r wcpu scpu
  r=$(grep '^RESULT' "$work/wrk.out" | sed 's/^RESULT //')
  wcpu=$(awk '/^WRKCPU/ {printf "%.0f", ($2 + $3) * 100 / '"$secs"'}' "$work/wrk.time")
  scpu=$(awk "BEGIN {printf \"%.0f\", ($s1 - $s0) * 100 / $hz / $secs}")
  echo "$label c=$c $r server_cpu=${scpu}% wrk_cpu=${wcpu}%"
  cp "$work/wrk.out" "$work/wrk-$label-c$c.out"
}

echo "## kosearch serve --threads 2, wrk -t1 --latency, ${secs}s each (cpu: % of one core)"
start_server "$work/serve.log" "$idx" --threads 2
KS_QUERIES=$queries KS_PARAMS='&k=10' wrk -t1 -c2 -d5s -s "$lua" "$url" >/dev/null 2>&1 # warm up
# The machine is shared: compare in-process and HTTP in alternating short
# rounds, so that both sides see the same background load.
echo "## interleaved rounds: bench --threads 1 (1 pass) vs wrk -c1 10 s; bench --threads 2 vs wrk -c16 10 s (stored=0)"
secs_saved=$secs
secs=10
for r in 1 2 3 4 5; do
  b1=$("$ks" bench "$idx" --queries "$queries" -k 10 --threads 1 --warmup 0 2>&1 | awk '/^mean ms/ {print $3}')
  h1=$(run_wrk 1 '&k=10&stored=0' 0 round | sed -n 's/.* mean_ms=\([0-9.]*\).*/\1/p')
  b2=$("$ks" bench "$idx" --queries "$queries" -k 10 --threads 2 --warmup 0 2>&1 | awk '/^QPS/ {print $2}')
  h2=$(run_wrk 16 '&k=10&stored=0' 0 round | sed -n 's/.* qps=\([0-9.]*\).*/\1/p')
  echo "round $r: in-process 1-thread mean ${b1} ms, HTTP c=1 mean ${h1} ms (+$(awk "BEGIN {printf \"%.3f\", $h1 - $b1}") ms); in-process 2-thread ${b2} QPS, HTTP c=16 ${h2} QPS ($(awk "BEGIN {printf \"%.0f\", 100 * $h2 / $b2}")%)"
done
secs=$secs_saved
for c in 1 2 16 64; do run_wrk "$c" '&k=10&stored=0' 0 ids; done
for c in 1 16; do run_wrk "$c" '&k=10' 0 full; done
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=""

echo "## under writes: --allow-writes --refresh-ms 1000, POST /docs of 1,000-document batches meanwhile"
wdir=$work/writes
rm -rf "$wdir" && mkdir -p "$wdir/batches"
cp -rL "$idx" "$wdir/w.idx"
(zcat "$corpus" || true) | head -n 60000 | split -l 1000 - "$wdir/batches/b."
start_server "$wdir/serve.log" "$wdir/w.idx" --threads 2 --allow-writes
(
  n=0; fail=0; t0=$(date +%s.%N)
  while :; do
    for b in "$wdir"/batches/b.*; do
      st=$(curl -s -o "$wdir/post.out" -w '%{http_code} %{time_total}' -X POST \
        -H 'Content-Type: application/x-ndjson' --data-binary @"$b" "$url/docs")
      echo "$st" >>"$wdir/posts.txt"
      n=$((n + 1))
    done
  done
) &
wpid=$!
sleep 1
run_wrk 16 '&k=10&stored=0' 1 writes
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null || true; wpid=""
awk '{n++; if ($1 != 200) bad++; t += $2; if ($2 > m) m = $2}
     END {printf "POST /docs batches: %d (non-200: %d), mean %.0f ms, max %.0f ms\n", n, bad, t * 1000 / n, m * 1000}' \
  "$wdir/posts.txt"
curl -s -X POST "$url/commit"; echo
curl -s "$url/health"; echo

echo "## robustness: scripts/http_robustness.py fuzz (${rob_secs} s) against the writing server"
/usr/bin/python3 "$here/scripts/http_robustness.py" fuzz "$url" --seconds "$rob_secs" --seed 11 || echo "ROBUSTNESS FAILED"
kill "$srv"; wait "$srv" 2>/dev/null && rc=0 || rc=$?; echo "server exit status after SIGTERM: $rc"; srv=""
"$ks" check "$wdir/w.idx" >/dev/null && echo "kosearch check of the written index: ok"
echo "work directory: $work"
