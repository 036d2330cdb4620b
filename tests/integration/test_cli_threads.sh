#!/usr/bin/env bash
# test_cli_threads.sh - `kosearch index --threads 1` and `--threads 2` (the
# default: analysis worker, background segment writes, asynchronous .sto
# compression and postings encoding) build the same index: equal stats,
# byte-identical term files after the merge, `check` passes on both, and
# the same search results (ids, scores, snippets) for random queries. A
# small --mem-budget forces several flushes, so the threaded run overlaps
# segment writes; replaced ids exercise deletions in the merge. Also:
# --threads is validated, and the native backend only.
source "$(dirname "$0")/cli_lib.sh"
SUP="$KS_SOURCE_DIR/tests/support"

awk -v seed=21 -v ndocs=12000 -f "$SUP/gen_corpus.awk" >"$T/c.jsonl"
awk -v seed=21 -v nq=200 -f "$SUP/gen_queries.awk" "$T/c.jsonl" >"$T/q.tsv"

for n in 1 2; do
  ks index -o "$T/t$n.idx" --threads $n --mem-budget 1 --json "$T/c.jsonl"
  expect_rc 0 "index --threads $n"
  cp "$T/out" "$T/summary$n.json"
  ks check "$T/t$n.idx"
  expect_rc 0 "check --threads $n index"
  ks stats "$T/t$n.idx"
  # .sto block boundaries follow the segments (content is equal: unit test)
  grep -v -E '^(index|bytes .sto|bytes total)[[:space:]]' "$T/out" >"$T/stats$n.txt"
  ks search "$T/t$n.idx" --queries "$T/q.tsv" -k 20 --json
  expect_rc 0 "search the --threads $n index"
  cp "$T/out" "$T/hits$n.json"
done

flushed() { sed -n 's/.*"segments_flushed":\([0-9]*\).*/\1/p' "$1"; }
check "several segments flushed with one thread" test "$(flushed "$T/summary1.json")" -ge 3
check "more (half-budget) segments with two threads" \
  test "$(flushed "$T/summary2.json")" -gt "$(flushed "$T/summary1.json")"
for key in documents_indexed documents_replaced documents_live terms postings segments; do
  v1=$(sed -n "s/.*\"$key\":\([0-9]*\).*/\1/p" "$T/summary1.json")
  v2=$(sed -n "s/.*\"$key\":\([0-9]*\).*/\1/p" "$T/summary2.json")
  check "summary $key equal ($v1)" test -n "$v1" -a "$v1" = "$v2"
done
check "some documents were replaced" test "$(sed -n 's/.*"documents_replaced":\([0-9]*\).*/\1/p' "$T/summary1.json")" -gt 0
check "stats equal (all but the path and .sto size)" cmp -s "$T/stats1.txt" "$T/stats2.txt"
check "search results equal (200 queries, top 20)" cmp -s "$T/hits1.json" "$T/hits2.json"
check "queries found something" test "$(wc -l <"$T/hits1.json")" -gt 1000
for ext in tid doc pos len; do
  check "merged .$ext byte-identical" cmp -s "$(ls "$T"/t1.idx/*.$ext)" "$(ls "$T"/t2.idx/*.$ext)"
done

ks index -o "$T/x.idx" --threads 3 "$T/c.jsonl"
expect_rc 2 "--threads 3 is a usage error"
ks index -o "$T/x.idx" --threads 2 --backend xapian "$T/c.jsonl"
expect_rc 2 "--threads with --backend xapian is a usage error"
finish
