#!/usr/bin/env bash
# test_cli_bench.sh - `kosearch bench` runs and reports every figure (no
# timing assertions: speed is measured, not tested): text and --json output
# (parsed with jq: figures, build, corpus, machine), --repeat and --threads
# job counts, --vs against a Xapian database of the same corpus (when built
# with Xapian) and against the same index, skipped malformed queries, and
# usage/input errors.
source "$(dirname "$0")/cli_lib.sh"

ks index -o "$T/n" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "native index of corpus/"
if has_xapian; then
  ks index --backend xapian -o "$T/x" "$KS_SOURCE_DIR/corpus"
  expect_rc 0 "Xapian index of corpus/"
fi
Q="$T/q.tsv"
printf 'q1\t대통령\nq2\t첨단 산업\tignored column\nq3\t"보스턴 클러스터"\nq4\t+\nq5\tzzznothing\n' >"$Q"
# q4 ("+": an empty required clause) is rejected by the parser: skipped.

ks bench "$T/n" --queries "$Q"
expect_rc 0 "bench on a native index"
for f in "mean ms" "p50 ms" "p95 ms" "p99 ms" "max ms" "QPS"; do
  check "prints $f" out_has "^$f  *[0-9][0-9.]*$"
done
check "names the index, its size, the algorithm" out_has "(native, 2 documents, algorithm [a-z]*)"
check "reports the skipped query" out_has "^skipped: 1 "

ks bench "$T/n" --queries "$Q" --json --repeat 3 --warmup 0 -k 5
expect_rc 0 "bench --json"
check "--json parses" jq -e . "$T/out" >/dev/null
check "every figure is a number" jq -e '.ours | (.mean_ms, .p50_ms, .p95_ms, .p99_ms, .max_ms, .qps) | numbers' "$T/out" >/dev/null
check "p50 <= p95 <= p99 <= max" jq -e '.ours | .p50_ms <= .p95_ms and .p95_ms <= .p99_ms and .p99_ms <= .max_ms' "$T/out" >/dev/null
check "3 repeats x 4 valid queries measured" jq -e '.ours.measured == 12 and .ours.skipped == 3' "$T/out" >/dev/null
check "build facts: commit, compiler, flags" jq -e '(.commit | strings) and (.compiler | length > 0) and (.flags | strings)' "$T/out" >/dev/null
check "corpus: index and 2 documents" jq -e '.corpus.docs == 2 and (.corpus.index | endswith("/n"))' "$T/out" >/dev/null
check "machine: cpu and cores" jq -e '(.machine.cpu | length > 0) and .machine.cores >= 1' "$T/out" >/dev/null
check "k, repeat, warmup recorded" jq -e '.k == 5 and .repeat == 3 and .warmup == 0 and .threads == 1' "$T/out" >/dev/null
KS_COMMIT=test-commit "$KOSEARCH" bench "$T/n" --queries "$Q" --json >"$T/out" 2>"$T/err"
check "KS_COMMIT overrides the commit" jq -e '.commit == "test-commit"' "$T/out" >/dev/null

ks bench "$T/n" --queries "$Q" --json --threads 2 --repeat 4
expect_rc 0 "bench --threads 2"
check "2 threads: every job measured once" jq -e '.threads == 2 and .ours.measured == 16' "$T/out" >/dev/null

echo "# --vs"
if has_xapian; then
  ks bench "$T/n" --queries "$Q" --vs "$T/x"
  expect_rc 0 "bench --vs a Xapian database"
  check "table header with the ratio" out_has "ours/theirs"
  check "theirs is the Xapian database" out_has "^theirs: .*(xapian, 2 documents)"
  check "mean row has three numbers" out_has "^mean ms  *[0-9.]*  *[0-9.]*  *[0-9.]*$"
  ks bench "$T/n" --queries "$Q" --vs "$T/x" --json --threads 2 --repeat 2
  expect_rc 0 "bench --vs --json --threads 2"
  check "theirs: xapian, measured" jq -e '.theirs.backend == "xapian" and .theirs.measured == 8 and .ours.measured == 8' "$T/out" >/dev/null
  check "theirs: no algorithm" jq -e '.theirs.algorithm == null' "$T/out" >/dev/null
  check "ratio = ours/theirs" jq -e '(.ratio.mean_ms - .ours.mean_ms / .theirs.mean_ms | fabs) < 1e-9' "$T/out" >/dev/null
  ks bench "$T/x" --queries "$Q" --vs "$T/n" --vs-algorithm exhaustive --json
  expect_rc 0 "Xapian as INDEX, native as OTHER"
  check "ours is xapian" jq -e '.ours.backend == "xapian" and .theirs.algorithm == "exhaustive"' "$T/out" >/dev/null
else
  echo "# (built without Xapian: --vs Xapian checks skipped)"
fi
ks bench "$T/n" --queries "$Q" --vs "$T/n" --vs-algorithm exhaustive --json
expect_rc 0 "same index --vs itself with --vs-algorithm"
check "both native" jq -e '.ours.backend == "native" and .theirs.backend == "native"' "$T/out" >/dev/null
check "theirs: exhaustive, 2 documents" jq -e '.theirs.algorithm == "exhaustive" and .theirs.docs == 2' "$T/out" >/dev/null
ks bench "$T/n" --queries "$Q" --vs "$T/n" --threads 2 --repeat 2 --json
expect_rc 0 "--vs itself with 2 threads (ks_db_dup handles)"
check "2 threads: both measured" jq -e '.ours.measured == 8 and .theirs.measured == 8' "$T/out" >/dev/null

echo "# errors"
ks bench "$T/n" --queries "$Q" --algorithm bogus
expect_rc 2 "unknown --algorithm"
check "lists the known algorithms" err_has "known: exhaustive"
ks bench "$T/n" --queries "$Q" --vs-algorithm exhaustive
expect_rc 2 "--vs-algorithm without --vs"
ks bench "$T/n"
expect_rc 2 "missing --queries"
ks bench --queries "$Q"
expect_rc 2 "missing INDEX"
ks bench "$T/n" --queries "$Q" --threads 0
expect_rc 2 "--threads 0"
printf 'q1\t대통령\nq2 no tab\n' >"$T/bad.tsv"
ks bench "$T/n" --queries "$T/bad.tsv"
expect_rc 1 "malformed query file"
check "message names bad.tsv:2" err_has "bad.tsv:2: expected"
ks bench "$T/nothere" --queries "$Q"
expect_rc 1 "missing index"
printf 'q1\t+\n' >"$T/allbad.tsv"
ks bench "$T/n" --queries "$T/allbad.tsv"
expect_rc 1 "every query rejected"
ks help bench
check "help bench" out_has "Usage: kosearch bench INDEX"
"$KOSEARCH" --help >"$T/out" 2>&1
check "general help lists eval and bench" bash -c "grep -q '^  eval ' '$T/out' && grep -q '^  bench ' '$T/out'"
finish
