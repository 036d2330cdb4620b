#!/usr/bin/env bash
# test_xap_differential.sh - the native engine with --ranking bm25-xapian and
# the Xapian backend must agree (docs/ranking.md, docs/xapian.md): for random
# small corpora and random queries (words, phrases, +required, -excluded),
# for the seed corpus with fixed queries, and for the regression cases in
# tests/support/xap_regress.*, both backends are built and searched through
# the real `kosearch` command and every query must give the same matching
# documents (the whole result set: -k is larger than the corpus), the same
# ids in the same order (ties may differ only among equal scores) and the
# same scores to 1e-9 relative (tests/support/xap_compare.awk).
DIR="$(cd "$(dirname "$0")" && pwd)"
. "$DIR/cli_lib.sh"
require_xapian
SUP="$KS_SOURCE_DIR/tests/support"

# both NAME INPUT QUERIES [SEARCH OPTIONS...]: index INPUT with both
# backends, run QUERIES on both, compare.
both() {
  local name="$1" input="$2" queries="$3"; shift 3
  local n="$T/$name.idx" x="$T/$name.xap"
  ks index --quiet -o "$n" "$input"
  [ "$RC" -eq 0 ] || { fail "$name: native index"; show; return; }
  ks index --quiet --backend xapian -o "$x" "$input"
  [ "$RC" -eq 0 ] || { fail "$name: xapian index"; show; return; }
  ks search "$n" --ranking bm25-xapian --queries "$queries" -k 100000 --json --run "$T/$name.nat" "$@"
  [ "$RC" -eq 0 ] || { fail "$name: native search"; show; return; }
  ks search "$x" --queries "$queries" -k 100000 --json --run "$T/$name.xr" "$@"
  [ "$RC" -eq 0 ] || { fail "$name: xapian search"; show; return; }
  if awk -v tol=1e-9 -f "$SUP/xap_compare.awk" "$T/$name.nat" "$T/$name.xr" >"$T/$name.cmp"; then
    pass "$name: $(tail -1 "$T/$name.cmp")"
  else
    fail "$name: backends differ"; head -20 "$T/$name.cmp"
  fi
  # the runs must not be trivially empty
  [ -s "$T/$name.nat" ] || fail "$name: no hits at all"
}

# random corpora and queries, several parameter settings
for seed in 1 2 3 4 5 6; do
  awk -v seed=$seed -v ndocs=$((40 + seed * 30)) -f "$SUP/gen_corpus.awk" >"$T/c$seed.jsonl"
  awk -v seed=$seed -v nq=150 -f "$SUP/gen_queries.awk" "$T/c$seed.jsonl" >"$T/q$seed.tsv"
done
both random1 "$T/c1.jsonl" "$T/q1.tsv"
both random2 "$T/c2.jsonl" "$T/q2.tsv" --k1 0.9 --b 0.4
both random3 "$T/c3.jsonl" "$T/q3.tsv" --bigram-weight 1.5
both random4 "$T/c4.jsonl" "$T/q4.tsv" --min-normlen 0.1
both random5 "$T/c5.jsonl" "$T/q5.tsv" --b 0 --bigram-weight 0
both random6 "$T/c6.jsonl" "$T/q6.tsv" --k1 0 --min-normlen 2

# the seed corpus with hand-picked queries
both seeds "$KS_SOURCE_DIR/corpus" "$SUP/xap_seed_queries.tsv"
# regression cases (each found as a difference once)
both regress "$SUP/xap_regress.jsonl" "$SUP/xap_regress_queries.tsv"

# the top-10 of a run equals the first 10 of the full ranking
ks search "$T/random1.xap" --queries "$T/q1.tsv" -k 10 --json --run "$T/top10.xr"
awk -F'"rank":' '{split($2, a, ","); if (a[1] + 0 <= 10) print}' "$T/random1.xr" >"$T/full10.xr"
check "xapian -k 10 is the prefix of the full ranking" cmp -s "$T/top10.xr" "$T/full10.xr"

# the default native ranking is NOT Xapian's: the comparison can fail
ks search "$T/random1.idx" --queries "$T/q1.tsv" -k 100000 --json --run "$T/bm25.nat"
if awk -v tol=1e-9 -f "$SUP/xap_compare.awk" "$T/bm25.nat" "$T/random1.xr" >/dev/null; then
  fail "native bm25 unexpectedly equals Xapian's BM25Weight (the comparison cannot fail?)"
else
  pass "native bm25 differs from Xapian's BM25Weight (the comparison can fail)"
fi
finish
