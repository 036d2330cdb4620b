#!/usr/bin/env bash
# test_srch_pruning_data.sh - on real data, every top-k algorithm returns
# exactly the exhaustive top k (docs/ranking.md, "Query evaluation"):
# KorQuAD paragraphs with all their tuning questions, k = 1, 10, 100, 1000,
# rankings bm25 and bm25-xapian; the --json runs (scores printed so that
# they round-trip: bit-identical doubles) of bmw and maxscore must equal
# exhaustive's byte for byte. The questions are run as written (ranked
# OR) and rewritten with operators: "req" puts + on the two longest words
# (conj.c), "mix" makes the first two words a +"phrase" and excludes the
# longest of the others (conj.c, phrase positions, excluded clauses),
# "excl" excludes the longest word of a ranked OR (bmw.c / maxscore.c
# rejecting by seeking). With KS_PRUNE_KOWIKI=1 the same is done on
# kowiki-sample with its tuning questions (several minutes).
# Skipped (exit 77) when the data is absent (KS_DATA_DIR).
DIR="$(cd "$(dirname "$0")" && pwd)"
. "$DIR/../integration/cli_lib.sh"
D="${KS_DATA_DIR:-}"
sets="korquad-paragraphs"
[ "${KS_PRUNE_KOWIKI:-0}" = 1 ] && sets="$sets kowiki-sample"
found=0
for name in $sets; do
  C="$D/$name.jsonl.gz"
  Q="$D/queries/${name%-sample}-tune.tsv"
  if [ -z "$D" ] || [ ! -r "$C" ] || [ ! -r "$Q" ]; then
    echo "note: $C or $Q not found"
    continue
  fi
  found=1
  ks index --quiet -o "$T/$name.idx" "$C"
  expect_rc 0 "index of $name"
  # the operator variants of the questions (awk: longest = most bytes)
  for v in req mix excl; do
    awk -F'\t' -v v=$v 'BEGIN { OFS = "\t" }
      { n = split($2, w, " "); a = 0; b = 0
        for (i = 1; i <= n; i++) {
          if (a == 0 || length(w[i]) > length(w[a])) { b = a; a = i }
          else if (b == 0 || length(w[i]) > length(w[b])) b = i
        }
        if (v == "req") { w[a] = "+" w[a]; if (b) w[b] = "+" w[b] }
        if (v == "excl" && n > 1) w[a] = "-" w[a]
        if (v == "mix" && n > 3) {
          gsub(/"/, "", w[1]); gsub(/"/, "", w[2])
          w[1] = "+\"" w[1]; w[2] = w[2] "\""
          c = 0
          for (i = 3; i <= n; i++) if (c == 0 || length(w[i]) > length(w[c])) c = i
          w[c] = "-" w[c]
        }
        q = w[1]; for (i = 2; i <= n; i++) q = q " " w[i]
        $2 = q; print }' "$Q" >"$T/q-$v.tsv"
  done
  for qv in or req mix excl; do
    QF="$Q"
    [ $qv = or ] || QF="$T/q-$qv.tsv"
    for ranking in bm25 bm25-xapian; do
      for k in 1 10 100 1000; do
        for algo in exhaustive bmw maxscore; do
          ks search "$T/$name.idx" --queries "$QF" -k $k --ranking $ranking \
            --algorithm $algo --json --run "$T/$algo.jsonl"
          expect_rc 0 "$name ($qv): $algo, k $k, $ranking"
        done
        lines=$(wc -l <"$T/exhaustive.jsonl")
        for algo in bmw maxscore; do
          check "$name ($qv): $algo = exhaustive (k $k, $ranking, $lines hits)" \
            cmp -s "$T/exhaustive.jsonl" "$T/$algo.jsonl"
        done
      done
    done
  done
done
if [ $found = 0 ]; then
  echo "skip: no data set found (set KS_DATA_DIR to the shared data directory)"
  exit 77
fi
finish
