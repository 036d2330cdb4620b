#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ (tests/fuzz/README.md,
# docs/testing.md#fuzzing).
#
#   scripts/fuzz.sh --list                      the targets, one per line
#   scripts/fuzz.sh --build                     configure (clang-14) and build them
#   scripts/fuzz.sh TARGET SECONDS [ARGS...]    run one target for SECONDS
#                                               (0: no time limit; ARGS go to
#                                               libFuzzer, e.g. -runs=10000000)
#   scripts/fuzz.sh --report DIR                a table of a campaign's figures from
#                                               DIR/summary: per target the runs,
#                                               executions, exec/s, final coverage
#                                               and corpus, exit codes
#   scripts/fuzz.sh --smoke [SECONDS]           every target SECONDS (default 2)
#                                               on its seeds, then every
#                                               regression input once
#   scripts/fuzz.sh --replay TARGET FILE...     run a target once on each FILE
#   scripts/fuzz.sh --seeds                     regenerate the file-reader seeds
#                                               (tests/fuzz/corpus/<target>/template)
#   scripts/fuzz.sh --campaign RUNS DIR TARGET...
#                                               a campaign: each TARGET in turn
#                                               for RUNS executions (or, as Ns,
#                                               N seconds of wall time) at nice 19,
#                                               one process at a time, its log in
#                                               DIR/TARGET.log and one summary
#                                               line per target in DIR/summary
#
# TARGET runs on a copy of tests/fuzz/corpus/TARGET (kept, with what the
# run adds, in $KS_FUZZ_BUILD_DIR/runs/TARGET/corpus), with its dictionary
# (tests/fuzz/TARGET.dict, or query.dict / json.dict). A crash (or leak,
# sanitizer report, timeout) makes the script exit non-zero; the input
# that caused it is left in $KS_FUZZ_BUILD_DIR/runs/TARGET/crashes/ (the
# path is printed). Add it to tests/fuzz/regressions/TARGET/ once fixed.
#
# Environment: KS_FUZZ_BUILD_DIR (default ./build-fuzz): the fuzzing tree,
# a clang-14 build of the library with -fsanitize=fuzzer-no-link,address,
# undefined and KS_FUZZING (checksums bypassed); KS_FUZZ_JOBS (default 2):
# build parallelism; KS_FUZZ_CC / KS_FUZZ_CXX (default clang-14 /
# clang++-14): the compilers. Exit code 77 when they or libFuzzer are
# missing (packages clang-14 and libfuzzer-14-dev, scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${KS_FUZZ_BUILD_DIR:-$src/build-fuzz}
case "$build" in /*) ;; *) build=$src/$build ;; esac
jobs=${KS_FUZZ_JOBS:-2}
cc=${KS_FUZZ_CC:-clang-14}
cxx=${KS_FUZZ_CXX:-clang++-14}
runs=$build/runs   # per-target corpus copies and crashes (--smoke: $build/smoke)
prefix=()          # command prefix of the fuzzer (--campaign: nice -n 19)

targets() {
  local f
  for f in tests/fuzz/fuzz_*.c; do
    f=${f##*/fuzz_}
    f=${f%.c}
    [ "$f" = util ] || echo "$f"
  done
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# clang-14 that links libFuzzer, or exit 77.
have_toolchain() {
  if ! command -v "$cc" >/dev/null || ! command -v "$cxx" >/dev/null; then
    echo "fuzz.sh: $cc or $cxx not found (install clang-14 and libfuzzer-14-dev)" >&2
    exit 77
  fi
  local t
  t=$(mktemp -d)
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$t/probe.c"
  if ! "$cc" -fsanitize=fuzzer "$t/probe.c" -o "$t/probe" 2>/dev/null; then
    rm -rf "$t"
    echo "fuzz.sh: $cc cannot link libFuzzer (install libfuzzer-14-dev)" >&2
    exit 77
  fi
  rm -rf "$t"
}

build_tree() {
  have_toolchain
  if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=$cc CXX=$cxx cmake -S "$src" -B "$build" -DKS_FUZZ=ON \
      -DKS_WITH_XAPIAN=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build" -j"$jobs" --target fuzz_all >/dev/null
}

known_target() {
  targets | grep -qx "$1" || { echo "fuzz.sh: unknown target '$1' (see --list)" >&2; exit 2; }
}

# per-target libFuzzer arguments: dictionaries; the differential target's
# inputs reach 12 documents of 10 words only past its seeds' length
dict_args() {
  case "$1" in
    query|analyzer) echo "-dict=$src/tests/fuzz/query.dict" ;;
    record) echo "-dict=$src/tests/fuzz/json.dict" ;;
    differential) echo "-max_len=200 -len_control=0" ;;
  esac
}

# run_target TARGET SECONDS [ARGS...]: exit status of libFuzzer
run_target() {
  local t=$1 secs=$2
  shift 2
  local run=$runs/$t
  mkdir -p "$run/corpus" "$run/crashes"
  if [ -d "tests/fuzz/corpus/$t" ]; then
    cp -n tests/fuzz/corpus/"$t"/* "$run/corpus/" 2>/dev/null || true
  fi
  local limit=()
  [ "$secs" != 0 ] && limit=(-max_total_time="$secs")
  local rc=0
  # shellcheck disable=SC2046 # dict_args is zero or one word
  "${prefix[@]}" "$build/tests/fuzz/fuzz_$t" "$run/corpus" -artifact_prefix="$run/crashes/" \
    -timeout=30 -rss_limit_mb=2048 $(dict_args "$t") "${limit[@]}" "$@" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "fuzz.sh: $t failed (exit $rc); the input is in $run/crashes/:" >&2
    ls -t "$run/crashes/" | head -3 | sed "s|^|  $run/crashes/|" >&2
  fi
  return "$rc"
}

# replay TARGET FILE...: run each input once
replay() {
  local t=$1
  shift
  [ "$#" -gt 0 ] || return 0
  "$build/tests/fuzz/fuzz_$t" -runs=1 "$@"
}

case "${1:-}" in
  --list)
    targets
    ;;
  --build)
    build_tree
    echo "built: $build/tests/fuzz/fuzz_*"
    ;;
  --replay)
    [ "$#" -ge 3 ] || usage
    known_target "$2"
    build_tree
    t=$2
    shift 2
    replay "$t" "$@"
    ;;
  --seeds)
    build_tree
    for t in manifest dictionary postings positions lengths stored deletions; do
      mkdir -p "tests/fuzz/corpus/$t"
      KS_FUZZ_SEED_OUT="$src/tests/fuzz/corpus/$t/template" \
        "$build/tests/fuzz/fuzz_$t" -runs=0 >/dev/null 2>&1
      echo "tests/fuzz/corpus/$t/template: $(stat -c %s "tests/fuzz/corpus/$t/template") bytes"
    done
    ;;
  --campaign)
    [ "$#" -ge 4 ] || usage
    n=$2
    out=$3
    shift 3
    for t in "$@"; do known_target "$t"; done
    mkdir -p "$out"
    for t in "$@"; do
      build_tree   # each target starts with the sources as they are now
      start=$(date -u +%FT%TZ)
      log=$out/$t.$(date -u +%Y%m%dT%H%M%S).log
      rc=0
      prefix=(nice -n 19)
      # -timeout=900: libFuzzer's timeout is wall time, and a campaign may
      # be stopped (SIGSTOP) for minutes by whoever needs the cores.
      case "$n" in
        *s) budget=(-max_total_time="${n%s}") ;;
        *) budget=(-runs="$n") ;;
      esac
      run_target "$t" 0 "${budget[@]}" -timeout=900 -print_final_stats=1 >"$log" 2>&1 || rc=$?
      last=$(grep -E '^#[0-9]+' "$log" | tail -1)
      execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
      rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
      echo "$t start=$start end=$(date -u +%FT%TZ) exit=$rc executions=$execs exec/s=$rate" \
        "log=$log last: $last" >>"$out/summary"
    done
    ;;
  --report)
    [ "$#" -eq 2 ] || usage
    awk '
      { t = $1; runs[t]++; order[t] = order[t] ? order[t] : ++n
        for (i = 2; i <= NF; i++) {
          if ($i ~ /^executions=/) { v = substr($i, 12); if (v ~ /^[0-9]+$/) ex[t] += v }
          if ($i ~ /^exec\/s=/) rate[t] = rate[t] (rate[t] == "" ? "" : ", ") substr($i, 8)
          if ($i ~ /^exit=/) code[t] = code[t] (code[t] == "" ? "" : ", ") substr($i, 6)
          if ($i == "cov:") cov[t] = $(i + 1)
          if ($i == "ft:") ft[t] = $(i + 1)
          if ($i == "corp:") corp[t] = $(i + 1)
        } }
      END {
        print "| target | runs | executions | exec/s (per run) | cov | ft | corpus (units/bytes) | exit codes |"
        print "|---|---:|---:|---|---:|---:|---|---|"
        for (t in order) k[order[t]] = t
        for (i = 1; i <= n; i++) { t = k[i]
          printf "| `%s` | %d | %d | %s | %s | %s | %s | %s |\n", t, runs[t], ex[t], rate[t],
                 cov[t], ft[t], corp[t], code[t] }
      }' "$2/summary"
    ;;
  --smoke)
    secs=${2:-2}
    build_tree
    failed=()
    runs=$build/smoke
    rm -rf "$runs"
    for t in $(targets); do
      mkdir -p "$runs/$t"
      if ! run_target "$t" "$secs" >"$runs/$t/fuzz.log" 2>&1; then
        failed+=("$t")
        tail -40 "$runs/$t/fuzz.log" >&2
        continue
      fi
      execs=$(grep -Eo '^Done [0-9]+ runs' "$runs/$t/fuzz.log" | grep -Eo '[0-9]+' || true)
      regs=(tests/fuzz/regressions/"$t"/*)
      if [ -e "${regs[0]}" ]; then
        if ! replay "$t" "${regs[@]}" >"$runs/$t/replay.log" 2>&1; then
          failed+=("$t (regressions)")
          tail -40 "$runs/$t/replay.log" >&2
          continue
        fi
      else
        regs=()
      fi
      echo "fuzz_$t: ${execs:-?} executions in ${secs} s, ${#regs[@]} regression inputs replayed"
    done
    if [ "${#failed[@]}" -gt 0 ]; then
      echo "fuzz.sh --smoke: FAILED: ${failed[*]}" >&2
      exit 1
    fi
    echo "fuzz.sh --smoke: all $(targets | wc -l) targets ok"
    ;;
  ""|-h|--help)
    usage
    ;;
  -*)
    usage
    ;;
  *)
    [ "$#" -ge 2 ] || usage
    known_target "$1"
    case "$2" in *[!0-9]*|"") usage ;; esac
    build_tree
    t=$1
    secs=$2
    shift 2
    run_target "$t" "$secs" "$@"
    ;;
esac
