#!/usr/bin/env bash
# test_cli_corpus.sh - index the seed corpus (corpus/) with `kosearch index`,
# then exercise search (text, --json, batch TREC), check and stats on it.
# Checks that a search for 대통령 returns both seed articles although they
# only contain inflected forms (대통령은, 대통령이, 대통령의).
source "$(dirname "$0")/cli_lib.sh"

SEED_A=000_6f005e557ee66310.txt
SEED_B=003_76e429a04e766a80.txt
IDX="$T/corpus.idx"

echo "# the seed articles contain no bare 대통령 (only forms with particles)"
check "seed corpus has no standalone 대통령" \
  bash -c "! grep -E '대통령([^은이의]|$)' '$KS_SOURCE_DIR'/corpus/*.txt >/dev/null"

echo "# index corpus/"
ks index -o "$IDX" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index corpus/"
expect_summary "documents indexed" 2
expect_summary "documents skipped" 0
for key in "distinct terms" "postings" "segments" "index size" "peak memory" "throughput"; do
  check "summary has '$key'" grep -q "^$key: [0-9]" "$T/out"
done
check "no progress line when stderr is not a terminal" bash -c "! grep -q 'MB/s' '$T/err'"

echo "# search 대통령 (text output)"
ks search "$IDX" 대통령
expect_rc 0 "search 대통령"
check "hit $SEED_A returned" out_has "$SEED_A"
check "hit $SEED_B returned" out_has "$SEED_B"
check "ranks 1 and 2 printed with 4-decimal scores" \
  bash -c "grep -qE '^1\. \[[0-9]+\.[0-9]{4}\] ' '$T/out' && grep -qE '^2\. \[[0-9]+\.[0-9]{4}\] ' '$T/out'"
check "snippet marks matched words with « »" out_has "«대통령"
check "match count line" out_has "(2 matching documents"

echo "# search --json: one object"
ks search "$IDX" --json -k 5 대통령
expect_rc 0 "search --json"
check "one line" test "$(wc -l <"$T/out")" -eq 1
check "it is valid JSON" json_lines_valid "$T/out"
check "query, offset, k, took_ms" \
  json_is '.query == "대통령" and .offset == 0 and .k == 5 and (.took_ms | numbers)'
check "2 matches, exact (fewer matches than k)" json_is '.matches == 2 and .matches_exact == true'
check "two hits" test "$(hit_count)" = 2
for f in rank id score title snippet; do
  check "field \"$f\" in every hit" json_is "[.hits[] | has(\"$f\")] == [true, true]"
done
check "ranks 1, 2 and decreasing scores" \
  json_is '[.hits[].rank] == [1, 2] and .hits[0].score >= .hits[1].score'
check "JSON ids are the seed file names" \
  test "$(hit_ids | sort | tr '\n' ' ')" = "$SEED_A $SEED_B "
check "JSON title is the first line of the article" grep -q '"title":"미국을 국빈 방문' "$T/out"

echo "# -k limits the hits"
ks search "$IDX" -k 1 --json 대통령
check "-k 1 gives one hit" test "$RC" -eq 0 -a "$(hit_count)" = 1

echo "# query operators"
ks search "$IDX" --json 대통령 -보스턴
expect_rc 0 "search with an excluded word"
check "both seeds mention 보스턴, so excluding it leaves nothing" no_hits
check "no hits: matches 0" json_is '.matches == 0 and .hits == []'
ks search "$IDX" --json '"첨단산업 글로벌"'
expect_rc 0 "phrase query"
check "phrase found only in $SEED_B" test "$(hit_ids)" = "$SEED_B"

echo "# documents with only 대통령이 / 대통령은"
printf '%s\n' \
  '{"id":"only-i","text":"어제 윤 대통령이 말했다."}' \
  '{"id":"only-eun","text":"대통령은 오늘 떠났다."}' \
  '{"id":"unrelated","text":"사과와 바나나를 샀다."}' >"$T/forms.jsonl"
ks index -o "$T/forms.idx" "$T/forms.jsonl"
expect_rc 0 "index forms.jsonl"
ks search "$T/forms.idx" --json 대통령
check "document with only 대통령이 found" out_has '"id":"only-i"'
check "document with only 대통령은 found" out_has '"id":"only-eun"'
check "unrelated document not found" out_lacks '"id":"unrelated"'

echo "# batch mode (--queries/--run)"
printf 'q1\t대통령\tignored-column\n\nq2\t보스턴 클러스터\nq3\t존재하지않는낱말\n' >"$T/queries.tsv"
ks search "$IDX" --queries "$T/queries.tsv" -k 100 --run "$T/run.trec"
expect_rc 0 "batch run"
check "run file written" test -s "$T/run.trec"
check "no temporary file left" test ! -e "$T/run.trec.tmp"
check "every run line has 6 fields: qid Q0 docid rank score kosearch" \
  awk 'NF != 6 || $2 != "Q0" || $6 != "kosearch" || $4 !~ /^[0-9]+$/ || $5 !~ /^-?[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ { bad = 1 } END { exit bad }' "$T/run.trec"
check "ranks run 1..n within each query" \
  awk '{ if ($1 != q) { q = $1; n = 0 } n++; if ($4 != n) bad = 1 } END { exit bad }' "$T/run.trec"
check "scores do not increase within a query" \
  awk '{ if ($1 == q && $5 > prev + 1e-9) bad = 1; q = $1; prev = $5 } END { exit bad }' "$T/run.trec"
check "q1 returns both seed articles" test "$(grep -c '^q1 ' "$T/run.trec")" -eq 2
check "q2 has results" grep -q '^q2 Q0 ' "$T/run.trec"
check "q3 (no match) has no lines" bash -c "! grep -q '^q3 ' '$T/run.trec'"

printf 'q1\t대통령\nbad line without tab\n' >"$T/badq.tsv"
ks search "$IDX" --queries "$T/badq.tsv" --run "$T/bad.trec"
expect_rc 1 "batch with a line without a tab fails"
check "error names FILE:LINE" err_has "badq.tsv:2:"
check "no partial run file" test ! -e "$T/bad.trec"

echo "# check and stats"
ks check "$IDX"
expect_rc 0 "check on a fresh index"
check "check prints ok" bash -c "tail -n 1 '$T/out' | grep -qx ok"
ks stats "$IDX"
expect_rc 0 "stats"
check "stats: documents 2" grep -qE '^documents +2$' "$T/out"
for key in "distinct terms" "postings" "segments" "generation" "bytes .tid" "bytes .doc" \
           "bytes .pos" "bytes .len" "bytes .sto" "bytes .del" "bytes MANIFEST" "bytes total"; do
  check "stats: '$key' is a number" grep -qE "^$key +[0-9]+" "$T/out"
done
check "stats: terms > 0" bash -c "[ \$(sed -n 's/^distinct terms *//p' '$T/out') -gt 0 ]"
ks stats "$IDX" --json
expect_rc 0 "stats --json"
check "stats --json is valid JSON" json_lines_valid "$T/out"
check "stats --json documents = 2" grep -q '"documents":2' "$T/out"

echo "# index --json summary"
ks index -o "$IDX" --json "$KS_SOURCE_DIR/corpus"
expect_rc 0 "re-index with --json"
check "summary is one valid JSON line" bash -c "[ \$(wc -l <'$T/out') -eq 1 ]" 
check "summary JSON parses" json_lines_valid "$T/out"
check "summary JSON documents_indexed = 2" grep -q '"documents_indexed":2' "$T/out"

finish
