#!/usr/bin/env bash
# test_xap_korquad.sh - on the real KorQuAD paragraphs, every tuning question
# must give the same top-10 (ids in order, ties only among equal scores,
# scores to 1e-9 relative) on the native index with --ranking bm25-xapian
# and on the Xapian backend; the TREC runs (6 decimals) must be identical
# byte for byte. Skipped (exit 77) when ../shared/data is absent.
DIR="$(cd "$(dirname "$0")" && pwd)"
. "$DIR/../integration/cli_lib.sh"
require_xapian
SUP="$KS_SOURCE_DIR/tests/support"
D="${KS_DATA_DIR:-}"
C="$D/korquad-paragraphs.jsonl.gz"
Q="$D/queries/korquad-paragraphs-tune.tsv"
if [ -z "$D" ] || [ ! -r "$C" ] || [ ! -r "$Q" ]; then
  echo "skip: $C or $Q not found (set KS_DATA_DIR to the shared data directory)"
  exit 77
fi
ks index --quiet -o "$T/kq.idx" "$C"
expect_rc 0 "native index of korquad-paragraphs"
ks index --quiet --backend xapian -o "$T/kq.xap" "$C"
expect_rc 0 "xapian index of korquad-paragraphs"
ks search "$T/kq.idx" --ranking bm25-xapian --queries "$Q" -k 10 --json --run "$T/nat.jsonl"
expect_rc 0 "native batch (bm25-xapian)"
ks search "$T/kq.xap" --queries "$Q" -k 10 --json --run "$T/xap.jsonl"
expect_rc 0 "xapian batch"
nq=$(grep -c . "$Q")
if awk -v tol=1e-9 -f "$SUP/xap_compare.awk" "$T/nat.jsonl" "$T/xap.jsonl" >"$T/cmp"; then
  pass "$nq questions: $(tail -1 "$T/cmp")"
else
  fail "top-10 differ"; head -20 "$T/cmp"
fi
got=$(sed -n 's/^queries: \([0-9]*\),.*/\1/p' "$T/cmp")
[ "$got" = "$nq" ] && pass "every question has hits on both" || fail "$got of $nq questions compared"
ks search "$T/kq.idx" --ranking bm25-xapian --queries "$Q" -k 10 --run "$T/nat.trec"
ks search "$T/kq.xap" --queries "$Q" -k 10 --run "$T/xap.trec"
check "TREC runs identical" cmp -s "$T/nat.trec" "$T/xap.trec"
finish
