#!/usr/bin/env bash
# test_eval_korquad.sh - relevance regression floor: index
# korquad-paragraphs.jsonl.gz, run `kosearch eval` with the default options
# on queries/korquad-paragraphs-tune.tsv and require MRR@10 to stay at or
# above the measured value minus 0.005. Deterministic, not timed. Skips
# (exit 77) when KS_DATA_DIR lacks the data.
source "$(dirname "$0")/../integration/cli_lib.sh"

# Measured with the defaults when this test was written (docs/eval.md);
# raise it when the analyzer or ranking improves.
MEASURED=0.9477
FLOOR=$(awk -v m="$MEASURED" 'BEGIN { printf "%.4f", m - 0.005 }')

CORPUS="${KS_DATA_DIR:-}/korquad-paragraphs.jsonl.gz"
QUERIES="${KS_DATA_DIR:-}/queries/korquad-paragraphs-tune.tsv"
if [ ! -f "$CORPUS" ] || [ ! -f "$QUERIES" ]; then
  echo "skipped: $CORPUS or $QUERIES not found (set KS_DATA_DIR)"
  exit 77
fi

ks index -o "$T/kq" "$CORPUS"
expect_rc 0 "index korquad-paragraphs"
ks eval "$T/kq" --queries "$QUERIES" --json
expect_rc 0 "eval korquad-paragraphs-tune"
MRR=$(jq -r '.["mrr@10"]' "$T/out" 2>/dev/null)
echo "korquad-paragraphs-tune: $(jq -c '{queries, "mrr@10", "recall@10", "recall@100", "ndcg@10"}' "$T/out" 2>/dev/null)"
check "1567 queries evaluated" test "$(jq -r .queries "$T/out" 2>/dev/null)" = 1567
if awk -v v="$MRR" -v f="$FLOOR" 'BEGIN { exit !(v != "" && v + 0 >= f + 0) }'; then
  pass "MRR@10 $MRR >= $FLOOR (measured $MEASURED - 0.005)"
else
  fail "MRR@10 '$MRR' < $FLOOR (measured $MEASURED - 0.005)"
fi
finish
