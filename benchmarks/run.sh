#!/usr/bin/env bash
# run.sh - the end-to-end benchmark of issue 4: builds native and Xapian
# indexes of the shared Korean corpora, runs `kosearch bench` native vs
# Xapian (and pruning vs exhaustive), and writes one JSON Lines results file,
# a markdown summary and two SVG pictures. See benchmarks/README.md.
#
# Invariants:
#   - results.jsonl is written under a temporary name and renamed at the
#     end, so a failed or interrupted run never replaces a complete one;
#   - every record is one line: {"record":"index"|"bench"|"meta", ...}, the
#     output of `kosearch index --json` / `kosearch bench --json` kept
#     verbatim under "summary" / "result";
#   - with --reuse an index is reused only together with the record of the
#     run that built it (so its build figures stay real ones);
#   - nothing is timed here that kosearch times itself, except the wall time
#     of each index build (process start included);
#   - one binary serves the whole run: --kosearch is copied to OUT/bin first,
#     so rebuilding build/ while the benchmark runs cannot mix two versions.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(dirname "$HERE")

usage() {
  cat <<EOF
Usage: benchmarks/run.sh [--kosearch BIN] [--data DIR] [--out DIR] [--reuse]
                         [--quick] [--repeat R] [--warmup N]

Builds native and Xapian indexes of the shared corpora, runs
\`kosearch bench NATIVE --vs XAPIAN --json\` on them and writes to the output
directory: results.jsonl (every index and bench record), summary.md (tables),
latency-cdf.svg (per-query latency distribution, ours vs Xapian, top-10,
1 thread, largest kowiki) and latency-vs-size.svg (latency vs collection size).

Full mode (default): kowiki-sample at 25%, 50% (line prefixes, written to
OUT/data) and 100%, and nsmc-reviews. Queries: DATA/queries/kowiki-tune.tsv
everywhere, plus 1,000 queries derived from nsmc texts on nsmc.
Bench runs: kowiki 100% k=10/100 x threads 1/2; 25%, 50%, nsmc k=10 1 thread;
native default algorithm vs exhaustive, and bmw vs maxscore, kowiki 100% k=10.
Takes about an hour on 2 cores (see benchmarks/README.md).

--quick: the same pipeline on kowiki 1%, 2%, 5% and korquad-paragraphs
(queries derived from korquad texts), --repeat 1: a few minutes.

Options:
  --kosearch BIN   the kosearch binary (default: build/kosearch)
  --data DIR       the shared data (default: ../shared/data next to the
                   source tree); when it is absent the script exits 77
  --out DIR        output directory (default: benchmarks/results, or
                   benchmarks/results/quick with --quick)
  --reuse          reuse indexes and prefix files already in OUT
  --quick          small inputs (see above)
  --repeat R       timed passes over the queries per bench run (default 2,
                   1 with --quick)
  --warmup N       untimed passes first (default 1)
  -h, --help       show this help
Needs python3 (standard library only) for the input subsets, the summary
and the pictures. KS_COMMIT=... overrides the commit recorded by kosearch.
EOF
}

KOSEARCH="$SRC/build/kosearch"
DATA="$SRC/../shared/data"
OUT=""
REUSE=0
QUICK=0
REPEAT=""
WARMUP=1
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --kosearch) KOSEARCH=${2:?--kosearch needs a value}; shift 2 ;;
    --data) DATA=${2:?--data needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    --quick) QUICK=1; shift ;;
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --warmup) WARMUP=${2:?--warmup needs a value}; shift 2 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$REPEAT" ] || { [ $QUICK -eq 1 ] && REPEAT=1 || REPEAT=2; }
case "$REPEAT$WARMUP" in *[!0-9]*) echo "run.sh: --repeat and --warmup take numbers" >&2; exit 2 ;; esac
[ "$REPEAT" -ge 1 ] || { echo "run.sh: --repeat must be at least 1" >&2; exit 2; }
[ -n "$OUT" ] || { [ $QUICK -eq 1 ] && OUT="$HERE/results/quick" || OUT="$HERE/results"; }

log() { printf '[run.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }
# json_str S: S as a JSON string literal.
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}
# seconds_since T0: elapsed seconds since the $EPOCHREALTIME value T0.
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }

# ---- prerequisites ----------------------------------------------------------
KOWIKI="$DATA/kowiki-sample.jsonl.gz"
KOWIKI_Q="$DATA/queries/kowiki-tune.tsv"
if [ $QUICK -eq 1 ]; then OTHER_NAME=korquad; OTHER="$DATA/korquad-paragraphs.jsonl.gz"
else OTHER_NAME=nsmc; OTHER="$DATA/nsmc-reviews.jsonl.gz"; fi
for f in "$KOWIKI" "$KOWIKI_Q" "$OTHER"; do
  if [ ! -f "$f" ]; then
    echo "run.sh: skipped: $f is absent (the shared data set is not on this machine; --data DIR names another copy)" >&2
    exit 77
  fi
done
[ -x "$KOSEARCH" ] || die "$KOSEARCH is not an executable (build it: scripts/build.sh, or give --kosearch BIN)"
KOSEARCH=$(cd "$(dirname "$KOSEARCH")" && pwd)/$(basename "$KOSEARCH")
if ! command -v python3 >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "python3 is missing: installing it (apt-get install python3)"
    apt-get install -y -qq python3 >/dev/null || die "apt-get install python3 failed"
  else
    die "python3 is needed (standard library only): sudo apt-get install python3"
  fi
fi

mkdir -p "$OUT/data" "$OUT/idx" "$OUT/lat" "$OUT/logs" "$OUT/bin"
OUT=$(cd "$OUT" && pwd)
KOSEARCH_GIVEN=$KOSEARCH
if [ $REUSE -eq 1 ] && [ -f "$OUT/bin/kosearch" ] && ! cmp -s "$KOSEARCH_GIVEN" "$OUT/bin/kosearch"; then
  log "note: $KOSEARCH_GIVEN differs from the binary of the last run; reused indexes were built by that one"
fi
cp "$KOSEARCH_GIVEN" "$OUT/bin/kosearch.tmp" && mv "$OUT/bin/kosearch.tmp" "$OUT/bin/kosearch" \
  || die "cannot copy $KOSEARCH_GIVEN to $OUT/bin"
KOSEARCH="$OUT/bin/kosearch"
RESULTS_TMP="$OUT/results.jsonl.tmp"
: >"$RESULTS_TMP"
T_START=$EPOCHREALTIME
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_START=$(loadavg)
log "kosearch: $KOSEARCH_GIVEN (run as $KOSEARCH); data: $DATA; out: $OUT; repeat $REPEAT, warmup $WARMUP; load $LOAD_START"

# ---- inputs -------------------------------------------------------------------
KOWIKI_LINES=""
# prefix_file PERCENT: path of the PERCENT% line prefix of kowiki (made if
# needed; the caller counts kowiki's lines into KOWIKI_LINES first).
prefix_file() {
  local p=$1 f="$OUT/data/kowiki-$1.jsonl"
  if [ $REUSE -eq 1 ] && [ -s "$f" ]; then
    log "reusing $f"
  else
    log "writing the first $p% of the $KOWIKI_LINES lines of kowiki-sample to $f"
    python3 "$HERE/corpus_tools.py" prefix --percent "$p" --total "$KOWIKI_LINES" "$KOWIKI" "$f" \
      >"$OUT/logs/prefix-$p.txt" || die "cannot write $f"
  fi
  printf '%s' "$f"
}

if [ $QUICK -eq 1 ]; then SCALES=(1 2 5); else SCALES=(25 50 100); fi
MAIN_PCT=${SCALES[${#SCALES[@]}-1]}
MAIN=kowiki-$MAIN_PCT
CORPORA=()             # names
declare -A INPUT       # name -> input file
declare -A SCALE       # name -> percent of kowiki (kowiki names only)
for p in "${SCALES[@]}"; do
  name=kowiki-$p
  CORPORA+=("$name")
  SCALE[$name]=$p
  if [ "$p" = 100 ]; then INPUT[$name]=$KOWIKI; continue; fi
  if [ -z "$KOWIKI_LINES" ] && ! { [ $REUSE -eq 1 ] && [ -s "$OUT/data/kowiki-$p.jsonl" ]; }; then
    KOWIKI_LINES=$(python3 "$HERE/corpus_tools.py" count "$KOWIKI") || die "cannot read $KOWIKI"
  fi
  INPUT[$name]=$(prefix_file "$p")
done
CORPORA+=("$OTHER_NAME")
INPUT[$OTHER_NAME]=$OTHER

OTHER_Q="$OUT/data/$OTHER_NAME-derived.tsv"
if [ $REUSE -eq 1 ] && [ -s "$OTHER_Q" ]; then
  log "reusing $OTHER_Q"
else
  log "deriving 1000 queries from the texts of $OTHER_NAME"
  python3 "$HERE/corpus_tools.py" derive-queries --count 1000 --prefix "$OTHER_NAME" "$OTHER" "$OTHER_Q" \
    >"$OUT/logs/derive-$OTHER_NAME.txt" || die "cannot derive queries from $OTHER"
fi

# ---- indexes ------------------------------------------------------------------
# build_index NAME BACKEND: build (or reuse) OUT/idx/NAME.BACKEND and append
# its record to the results.
build_index() {
  local name=$1 backend=$2 dir="$OUT/idx/$1.$2" rec="$OUT/idx/$1.$2.record.json"
  local logf="$OUT/logs/index-$1.$2.log"
  if [ $REUSE -eq 1 ] && [ -d "$dir" ] && [ -s "$rec" ]; then
    log "reusing the $backend index of $name ($dir)"
    sed 's/"reused":false/"reused":true/' "$rec" >>"$RESULTS_TMP"
    return
  fi
  rm -rf "$dir" "$rec"
  log "building the $backend index of $name"
  local t0=$EPOCHREALTIME summary wall
  "$KOSEARCH" index --json --backend "$backend" -o "$dir" "${INPUT[$name]}" >"$logf.json" 2>"$logf" \
    || die "kosearch index failed for $name ($backend): see $logf"
  wall=$(seconds_since "$t0")
  summary=$(tail -n 1 "$logf.json")
  case "$summary" in "{"*"}") ;; *) die "no JSON summary from kosearch index ($logf.json)" ;; esac
  printf '{"record":"index","corpus":%s,"backend":%s,"input":%s,"scale_percent":%s,"wall_s":%s,"du_bytes":%s,"reused":false,"summary":%s}\n' \
    "$(json_str "$name")" "$(json_str "$backend")" "$(json_str "${INPUT[$name]}")" \
    "${SCALE[$name]:-null}" "$wall" "$(du -sb "$dir" | cut -f1)" "$summary" >"$rec"
  cat "$rec" >>"$RESULTS_TMP"
  log "  $name $backend: $wall s wall, $(grep -o '"text_mb_per_s":[0-9.]*' "$rec" | awk -F: '{ printf "%.1f", $2 }') MB/s of title+text"
}

for name in "${CORPORA[@]}"; do
  build_index "$name" native
  build_index "$name" xapian
done

# ---- bench runs -------------------------------------------------------------
# bench RUN KIND CORPUS QUERY_SET QFILE K THREADS INDEX [OPTIONS...]: one
# `kosearch bench` run; appends its record to the results.
bench() {
  local run=$1 kind=$2 corpus=$3 qset=$4 qfile=$5 k=$6 threads=$7
  shift 7
  local logf="$OUT/logs/bench-$run.log" lat="lat/$run.tsv" result
  log "bench $run"
  "$KOSEARCH" bench "$@" --queries "$qfile" -k "$k" --threads "$threads" --warmup "$WARMUP" \
    --repeat "$REPEAT" --json --latencies "$OUT/$lat" >"$logf.json" 2>"$logf" \
    || die "kosearch bench failed ($run): see $logf"
  result=$(tail -n 1 "$logf.json")
  case "$result" in "{"*"}") ;; *) die "no JSON from kosearch bench ($logf.json)" ;; esac
  printf '{"record":"bench","run":%s,"kind":%s,"corpus":%s,"scale_percent":%s,"query_set":%s,"latencies":%s,"result":%s}\n' \
    "$(json_str "$run")" "$(json_str "$kind")" "$(json_str "$corpus")" "${SCALE[$corpus]:-null}" \
    "$(json_str "$qset")" "$(json_str "$lat")" "$result" >>"$RESULTS_TMP"
}
nat() { printf '%s' "$OUT/idx/$1.native"; }
xap() { printf '%s' "$OUT/idx/$1.xapian"; }

for k in 10 100; do
  for t in 1 2; do
    bench "$MAIN.k$k.t$t" vs-xapian "$MAIN" kowiki-tune "$KOWIKI_Q" "$k" "$t" "$(nat "$MAIN")" --vs "$(xap "$MAIN")"
  done
done
for p in "${SCALES[@]}"; do
  [ "$p" = "$MAIN_PCT" ] && continue
  bench "kowiki-$p.k10.t1" vs-xapian "kowiki-$p" kowiki-tune "$KOWIKI_Q" 10 1 "$(nat "kowiki-$p")" --vs "$(xap "kowiki-$p")"
done
bench "$OTHER_NAME.k10.t1" vs-xapian "$OTHER_NAME" kowiki-tune "$KOWIKI_Q" 10 1 \
  "$(nat "$OTHER_NAME")" --vs "$(xap "$OTHER_NAME")"
bench "$OTHER_NAME-derived.k10.t1" vs-xapian "$OTHER_NAME" "$OTHER_NAME-derived" "$OTHER_Q" 10 1 \
  "$(nat "$OTHER_NAME")" --vs "$(xap "$OTHER_NAME")"
bench "$MAIN.k10.t1.default-vs-exhaustive" algorithm "$MAIN" kowiki-tune "$KOWIKI_Q" 10 1 \
  "$(nat "$MAIN")" --vs "$(nat "$MAIN")" --vs-algorithm exhaustive
bench "$MAIN.k10.t1.bmw-vs-maxscore" algorithm "$MAIN" kowiki-tune "$KOWIKI_Q" 10 1 \
  "$(nat "$MAIN")" --algorithm bmw --vs "$(nat "$MAIN")" --vs-algorithm maxscore

# ---- results, summary, pictures ------------------------------------------------
TOTAL=$(seconds_since "$T_START")
HEAD_COMMIT=$(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo unknown)  # read-only
printf '{"record":"meta","mode":%s,"source_head":%s,"started":%s,"finished":%s,"total_s":%s,"kosearch":%s,"data":%s,"repeat":%s,"warmup":%s,"reuse":%s,"loadavg_start":%s,"loadavg_end":%s}\n' \
  "$(json_str "$([ $QUICK -eq 1 ] && echo quick || echo full)")" "$(json_str "$HEAD_COMMIT")" "$(json_str "$STARTED")" \
  "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$TOTAL" "$(json_str "$KOSEARCH_GIVEN")" \
  "$(json_str "$DATA")" "$REPEAT" "$WARMUP" "$([ $REUSE -eq 1 ] && echo true || echo false)" \
  "$(json_str "$LOAD_START")" "$(json_str "$(loadavg)")" >>"$RESULTS_TMP"
mv "$RESULTS_TMP" "$OUT/results.jsonl"
python3 "$HERE/report.py" "$OUT" || die "report.py failed"
log "done in $TOTAL s: $OUT/summary.md, $OUT/results.jsonl, $OUT/latency-cdf.svg, $OUT/latency-vs-size.svg"
