#!/usr/bin/env bash
# test_cli_eval.sh - `kosearch eval`: exact MRR@10 / Recall / nDCG@10 on a
# tiny corpus whose ranks are known (same-length documents, one Latin word
# with term frequency 3 > 2 > 1, so BM25 ranks them a, b, c), the same
# figures from `--run` on a hand-written TREC file, agreement between the
# index mode and scoring the run file `kosearch search --run` writes, the
# Xapian backend, and malformed input naming FILE:LINE.
source "$(dirname "$0")/cli_lib.sh"

# near VALUE EXPECTED: |VALUE - EXPECTED| < 1e-9
near() { awk -v v="$1" -v e="$2" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(v != "" && d < 1e-9) }'; }
# expect_json KEY EXPECTED: the number at jq path KEY in $T/out
expect_json() {
  local v
  v=$(jq -r "$1" "$T/out" 2>/dev/null)
  if near "$v" "$2"; then pass "$1 = $2"; else fail "$1 = '$v', expected $2"; show; fi
}

C="$T/c.jsonl"
{
  echo '{"id":"a","text":"apple apple apple pad"}'
  echo '{"id":"b","text":"apple apple pad pad"}'
  echo '{"id":"c","text":"apple pad pad pad"}'
  echo '{"id":"d","text":"kiwi pad pad pad"}'
} >"$C"
# q1: relevant a (rank 1); q2: c (rank 3); q3: b and c (ranks 2, 3);
# q4: a, not retrieved by "kiwi".
Q="$T/q.tsv"
printf 'q1\tapple\ta\nq2\tapple\tc\nq3\tapple\tb\n\nq3\tapple\tc\nq4\tkiwi\ta\n' >"$Q"
# By hand (binary relevance, discount 1/log2(rank+1)):
#   MRR@10  = (1 + 1/3 + 1/2 + 0) / 4                     = 0.458333...
#   R@10    = R@100 = (1 + 1 + 1 + 0) / 4                  = 0.75
#   nDCG@10 = (1 + 0.5 + (1/log2 3 + 1/log2 4)/(1 + 1/log2 3) + 0) / 4
#           = (1 + 0.5 + 0.6934264036) / 4                 = 0.5483566009
MRR=0.4583333333333333
NDCG=0.548356600904
ks index -o "$T/idx" "$C"
expect_rc 0 "index the tiny corpus"

ks eval "$T/idx" --queries "$Q"
expect_rc 0 "eval on a native index"
check "queries: 4" out_has "^queries: 4$"
check "MRR@10: 0.4583" out_has "^MRR@10: 0.4583$"
check "Recall@10: 0.7500" out_has "^Recall@10: 0.7500$"
check "Recall@100: 0.7500" out_has "^Recall@100: 0.7500$"
check "nDCG@10: 0.5484" out_has "^nDCG@10: 0.5484$"

ks eval "$T/idx" --queries "$Q" --json
expect_rc 0 "eval --json"
check "--json is one JSON object" jq -e . "$T/out" >/dev/null
expect_json '.queries' 4
expect_json '.["mrr@10"]' $MRR
expect_json '.["recall@10"]' 0.75
expect_json '.["recall@100"]' 0.75
expect_json '.["ndcg@10"]' $NDCG

ks eval "$T/idx" --queries "$Q" --per-query
expect_rc 0 "eval --per-query"
check "q1 first relevant at rank 1" out_has "^q1	1	apple$"
check "q2 first relevant at rank 3" out_has "^q2	3	apple$"
check "q3 first relevant at rank 2" out_has "^q3	2	apple$"
check "q4 has no relevant hit (-)" out_has "^q4	-	kiwi$"
ks eval "$T/idx" --queries "$Q" --per-query --json
check "--json --per-query ranks" test "$(jq -c '[.per_query[].rank]' "$T/out")" = "[1,3,2,null]"

# -k 2: q2's c (rank 3) and q3's c are cut off.
#   MRR = (1 + 0 + 1/2 + 0)/4 = 0.375, R@10 = (1 + 0 + 0.5 + 0)/4 = 0.375,
#   nDCG = (1 + 0 + (1/log2 3)/(1 + 1/log2 3) + 0)/4 = 0.3467132018
ks eval "$T/idx" --queries "$Q" -k 2 --json
expect_rc 0 "eval -k 2"
expect_json '.["mrr@10"]' 0.375
expect_json '.["recall@10"]' 0.375
expect_json '.["ndcg@10"]' 0.346713201805
check "-k < 100 warns about Recall@100" err_has "Recall@100 counts only the top 2"

echo "# --run on a hand-written TREC file"
R="$T/run.trec"
cat >"$R" <<'RUN'
q1 Q0 b 1 3.0 other
q1 Q0 a 2 2.0 other
q2 Q0 c 1 5 other
q2 Q0 c 2 4 other
q3 Q0 z 3 1 other
q3	Q0	c	1	3	other
q3 Q0 b 2 2 other

qX Q0 a 1 1 other
RUN
# q1: a at 2; q2: c at 1 (the duplicate counts once); q3: c at 1, b at 2
# (lines sorted by rank); q4: no lines. MRR = (1/2 + 1 + 1 + 0)/4 = 0.625,
# R@10 = 0.75, nDCG = (1/log2 3 + 1 + 1 + 0)/4 = 0.6577324384
ks eval --run "$R" --queries "$Q" --json --per-query
expect_rc 0 "eval --run"
expect_json '.queries' 4
expect_json '.["mrr@10"]' 0.625
expect_json '.["recall@10"]' 0.75
expect_json '.["recall@100"]' 0.75
expect_json '.["ndcg@10"]' 0.657732438405
check "--run per-query ranks" test "$(jq -c '[.per_query[].rank]' "$T/out")" = "[2,1,1,null]"
check "unknown qid in the run is reported" err_has "not in the queries file"

echo "# index mode = scoring the run that search --run writes"
ks search "$T/idx" --queries "$Q" --run "$T/own.trec"
expect_rc 0 "search --run"
ks eval --run "$T/own.trec" --queries "$Q"
cp "$T/out" "$T/from_run"
ks eval "$T/idx" --queries "$Q"
check "same figures from the index and from its run" cmp -s "$T/out" "$T/from_run"
check "(the run repeats q3's hits: one TSV line per relevant doc)" test "$(grep -c '^q3 Q0 b ' "$T/own.trec")" -eq 2

if has_xapian; then
  echo "# Xapian backend"
  ks index --backend xapian -o "$T/xap" "$C"
  ks eval "$T/xap" --queries "$Q" --json
  expect_rc 0 "eval on a Xapian database"
  expect_json '.["mrr@10"]' $MRR
  expect_json '.["ndcg@10"]' $NDCG
else
  echo "# (built without Xapian: Xapian checks skipped)"
fi

echo "# malformed input names FILE:LINE"
printf 'q1\tapple\ta\nq2\tapple\n' >"$T/bad1.tsv"
ks eval "$T/idx" --queries "$T/bad1.tsv"
expect_rc 1 "missing relevant id"
check "message names bad1.tsv:2" err_has "bad1.tsv:2: .*relevant"
printf 'q1\tapple\ta\n\nq2 apple b\n' >"$T/bad2.tsv"
ks eval "$T/idx" --queries "$T/bad2.tsv"
expect_rc 1 "line without a tab"
check "message names bad2.tsv:3" err_has "bad2.tsv:3: expected"
printf 'q1\tapple\ta\nq1\tkiwi\tb\n' >"$T/bad3.tsv"
ks eval "$T/idx" --queries "$T/bad3.tsv"
expect_rc 1 "same qid, different query"
check "message names bad3.tsv:2 and line 1" err_has "bad3.tsv:2: .*line 1"
printf 'q1 Q0 a 1 1 x\nq1 Q0 b 2 1\n' >"$T/bad1.trec"
ks eval --run "$T/bad1.trec" --queries "$Q"
expect_rc 1 "run line with 5 fields"
check "message names bad1.trec:2" err_has "bad1.trec:2: expected 6 fields"
printf 'q1 Q0 a first 1 x\n' >"$T/bad2.trec"
ks eval --run "$T/bad2.trec" --queries "$Q"
expect_rc 1 "run line with a bad rank"
check "message names bad2.trec:1" err_has "bad2.trec:1: the rank"
printf 'q1 Q0 a 1 high x\n' >"$T/bad3.trec"
ks eval --run "$T/bad3.trec" --queries "$Q"
expect_rc 1 "run line with a bad score"
check "message names bad3.trec:1" err_has "bad3.trec:1: the score"
: >"$T/empty.tsv"
ks eval "$T/idx" --queries "$T/empty.tsv"
expect_rc 1 "empty queries file"
ks eval "$T/idx" --queries "$T/missing.tsv"
expect_rc 1 "missing queries file"
check "message names the file" err_has "missing.tsv: cannot open"

echo "# usage errors"
ks eval "$T/idx"
expect_rc 2 "missing --queries"
ks eval --queries "$Q"
expect_rc 2 "missing INDEX and --run"
ks eval "$T/idx" --run "$R" --queries "$Q"
expect_rc 2 "INDEX and --run together"
ks eval --run "$R" --queries "$Q" -k 5
expect_rc 2 "-k with --run"
ks eval "$T/idx" --queries "$Q" --ranking tfidf
expect_rc 2 "unknown ranking"
if has_xapian; then
  ks eval "$T/xap" --queries "$Q" --ranking bm25
  expect_rc 2 "--ranking bm25 on Xapian"
fi
ks help eval
check "help eval" out_has "Usage: kosearch eval INDEX"
finish
