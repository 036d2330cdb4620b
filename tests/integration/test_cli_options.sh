#!/usr/bin/env bash
# test_cli_options.sh - the command-line conventions of `kosearch search`
# and `kosearch get` (kosearch search --help, docs/query.md "On the command
# line"): options before or after INDEX but before the query; the first
# argument after INDEX that is not an option starts the query and the rest
# is query text (so -word is an excluded word and -k a query word there);
# `--` starts the query too; an unknown option before the query is a usage
# error (exit 2); --offset paging with absolute ranks; `search --json` as
# one object; `get` (found, missing ids, ids with '/' and spaces); a
# missing index reported as "no such directory".
source "$(dirname "$0")/cli_lib.sh"

# -클러스터 excludes the word (docs/query.md): B (클러스터), not A
# (마스터 shares only the bigram 스터), C, D.
printf '%s\n' \
  '{"id":"A","text":"마스터 사과"}' \
  '{"id":"B","text":"클러스터 사과"}' \
  '{"id":"C","text":"사과 나무"}' \
  '{"id":"D","title":"과일","text":"사과 사과 바나나"}' \
  '{"id":"dir/e 1","title":"포도 문서","text":"포도"}' >"$T/docs.jsonl"
IDX="$T/o.idx"
ks index --quiet -o "$IDX" "$T/docs.jsonl"
expect_rc 0 "index the test documents"

# ids IDS...: the hits of the last `search --json`, in rank order, are IDS
ids_are() { [ "$(hit_ids | tr '\n' ' ')" = "$* " ]; }

echo "# unknown options before the query are usage errors"
ks search "$IDX" -n 5 사과
expect_rc 2 "search IDX -n 5 사과"
check "names the option" err_has "kosearch search: unknown option '-n'"
check "with the help hint" err_has "Try 'kosearch search --help'"
ks search -n 5 "$IDX" 사과
expect_rc 2 "search -n 5 IDX 사과 (before INDEX)"
ks search "$IDX" --bogus 사과
expect_rc 2 "search IDX --bogus 사과"
check "names the long option" err_has "unknown option '--bogus'"
ks search "$IDX" --k 3 사과
expect_rc 2 "--k is no abbreviation of --k1 (getopt_long would take it)"
check "suggests the whole name" err_has "unknown option '--k' (did you mean '--k1'?)"
ks search "$IDX" --js 사과
expect_rc 2 "--js: long options are whole names only"
ks search "$IDX" -클러스터 사과
expect_rc 2 "search IDX -클러스터 사과: a -word before the query needs --"
ks search "$IDX" 사과 -k
expect_rc 0 "-k as the last query word is no missing value"
ks search "$IDX" -k
expect_rc 2 "-k without a value before the query"
check "says the value is missing" err_has "option '-k' needs a value"

echo "# the reference: 사과 matches A, B, C, D"
ks search "$IDX" --json --algorithm exhaustive 사과
expect_rc 0 "search 사과"
check "4 hits" test "$(hit_count)" = 4
check "A, B, C, D all found" test "$(hit_ids | sort | tr '\n' ' ')" = "A B C D "
cp "$T/out" "$T/all.json"

echo "# -word after the first query word is an excluded word"
ks search "$IDX" --json 사과 -클러스터
expect_rc 0 "search IDX 사과 -클러스터"
check "query is '사과 -클러스터'" json_is '.query == "사과 -클러스터"'
check "B (클러스터) excluded, A (마스터: one shared bigram) kept: A C D" \
  test "$(hit_ids | sort | tr '\n' ' ')" = "A C D "
cp "$T/out" "$T/excl.json"

echo "# -- starts the query"
ks search "$IDX" --json -- -클러스터 사과
expect_rc 0 "search IDX --json -- -클러스터 사과"
check "same hits as 사과 -클러스터" \
  test "$(hit_ids | sort | tr '\n' ' ')" = "A C D "
check "query is '-클러스터 사과'" json_is '.query == "-클러스터 사과"'
ks search --json "$IDX" -- -- 사과
expect_rc 0 "a second -- is a query word"
check "query is '-- 사과'" json_is '.query == "-- 사과"'

echo "# options before and after INDEX"
ks search --json -k 2 "$IDX" 사과
expect_rc 0 "options before INDEX"
check "2 hits" test "$(hit_count)" = 2
ks search "$IDX" --json -k 2 사과
expect_rc 0 "options after INDEX"
check "2 hits" test "$(hit_count)" = 2
ks search -k 3 "$IDX" --json 사과
expect_rc 0 "options on both sides of INDEX"
check "3 hits, as JSON" test "$(hit_count)" = 3
ks search "$IDX" --json --k1=0.9 --b 0.5 --snippet-chars=0 사과
expect_rc 0 "--long=VALUE and --long VALUE"
check "no snippet with --snippet-chars=0" json_is '[.hits[].snippet] | all(. == "")'

echo "# after the first query word, options are query words"
ks search "$IDX" --json 사과 -k 1
expect_rc 0 "search IDX --json 사과 -k 1"
check "query is the three words '사과 -k 1'" json_is '.query == "사과 -k 1"'
check "-k 1 did not limit the hits (4 hits, k 10)" json_is '(.hits | length) == 4 and .k == 10'
ks search "$IDX" 사과 --json
expect_rc 0 "search IDX 사과 --json"
check "--json after the query is a query word: text output" out_has "^1\. \["
ks search "$IDX" 사과 --help
expect_rc 0 "search IDX 사과 --help"
check "--help after the query is a query word: a search, not the help" out_lacks "^Usage:"

echo "# --offset: paging with absolute ranks"
ks search "$IDX" --json -k 4 사과
ids4=$(hit_ids | tr '\n' ' ')
ks search "$IDX" --json -k 2 --offset 2 사과
expect_rc 0 "--offset 2 -k 2"
check "page 2 ranks are 3 and 4" json_is '[.hits[].rank] == [3, 4] and .offset == 2 and .k == 2'
check "page 2 ids = ranks 3..4 of the top 4 ($ids4)" \
  test "$(hit_ids | tr '\n' ' ')" = "$(echo "$ids4" | cut -d' ' -f3-4) "
check "matches still counts every match" json_is '.matches == 4'
ks search "$IDX" --json -k 2 사과
check "page 1 ids = ranks 1..2 of the top 4" \
  test "$(hit_ids | tr '\n' ' ')" = "$(echo "$ids4" | cut -d' ' -f1-2) "
ks search "$IDX" -k 2 --offset 2 사과
expect_rc 0 "--offset in text output"
check "text ranks start at 3" bash -c "grep -qE '^3\. \[' '$T/out' && grep -qE '^4\. \[' '$T/out' && ! grep -qE '^1\. \[' '$T/out'"
check "footer says which ranks are shown" out_has "2 shown (ranks 3-4)"
ks search "$IDX" --json --offset 10 사과
expect_rc 0 "--offset past the last match"
check "no hits, matches 4" json_is '.hits == [] and .matches == 4'
ks search "$IDX" --offset x 사과
expect_rc 2 "--offset not a number"
ks search "$IDX" -k 1000000 --offset 1 사과
expect_rc 2 "-k + --offset over the limit"

echo "# search --json: one object"
ks search "$IDX" --json --algorithm exhaustive 사과 -클러스터
check "exactly one line" test "$(wc -l <"$T/out")" -eq 1
check "keys query, matches, matches_exact, offset, k, took_ms, hits" \
  json_is 'keys == (["hits","k","matches","matches_exact","offset","query","took_ms"])'
check "exhaustive: 3 matches, exact" json_is '.matches == 3 and .matches_exact == true'
check "hit keys rank, id, score, title, snippet" \
  json_is '[.hits[] | keys] | all(. == ["id","rank","score","snippet","title"])'
check "title from the stored document" json_is '[.hits[] | select(.id == "D") | .title] == ["과일"]'
ks search "$IDX" --json -k 1 사과
check "-k 1: an exact count is 4, a lower bound is at most 4" \
  json_is 'if .matches_exact then .matches == 4 else .matches >= 1 and .matches <= 4 end'
ks search "$IDX" --json 없는낱말
expect_rc 0 "no match"
check "no match: still one object" json_is '.hits == [] and .matches == 0 and .matches_exact'

echo "# batch --json stays JSON Lines (one object per hit)"
printf 'q1\t사과 -클러스터\nq2\t포도\n' >"$T/q.tsv"
ks search "$IDX" --queries "$T/q.tsv" --json
expect_rc 0 "batch --json"
check "4 lines, one per hit" test "$(wc -l <"$T/out")" -eq 4
check "each line {qid, rank, id, score}" \
  bash -c "jq -e 'keys == [\"id\",\"qid\",\"rank\",\"score\"]' '$T/out' | grep -vqx false"
ks search "$IDX" --queries "$T/q.tsv" -k 1 --offset 1
expect_rc 0 "batch with --offset"
check "batch ranks are absolute" bash -c "awk '\$1 == \"q1\" && \$4 != 2 { bad = 1 } END { exit bad }' '$T/out' && grep -q '^q1 Q0 ' '$T/out'"

echo "# get"
ks get "$IDX" C "dir/e 1"
expect_rc 0 "get C and an id with '/' and a space"
check "two lines" test "$(wc -l <"$T/out")" -eq 2
check "in the order given" test "$(jq -r .id "$T/out" | tr '\n' '|')" = "C|dir/e 1|"
check "the stored document: text and title" \
  bash -c "sed -n 2p '$T/out' | jq -e '.text == \"포도\" and .title == \"포도 문서\"' >/dev/null"
ks get "$IDX" C nope D
expect_rc 1 "get with a missing id"
check "the others are printed" test "$(jq -r .id "$T/out" | tr '\n' ' ')" = "C D "
check "missing id reported" err_has "kosearch: error: $IDX: no document with id 'nope'"
ks get "$IDX" dir
expect_rc 1 "get a prefix of an id"
ks get "$IDX"
expect_rc 2 "get without ID"
ks get "$IDX" --bogus C
expect_rc 2 "get: unknown option"
ks get "$IDX" -- -x
expect_rc 1 "get -- -x: an id, not an option"
check "looked up as an id" err_has "no document with id '-x'"
ks get --help
check "get --help" bash -c "[ $RC -eq 0 ] && grep -q '^Usage: kosearch get INDEX ID' '$T/out'"

echo "# a missing index is 'no such directory'"
for c in search get stats check; do
  case $c in
    search) ks search "$T/none.idx" 사과 ;;
    get) ks get "$T/none.idx" A ;;
    *) ks "$c" "$T/none.idx" ;;
  esac
  check "$c: exit 1" test "$RC" -eq 1
  check "$c: 'no such directory'" err_has "kosearch: error: $T/none.idx: no such directory"
done
mkdir -p "$T/empty"
ks search "$T/empty" 사과
check "an empty directory is an error, not 'no such directory'" \
  bash -c "[ $RC -eq 1 ] && ! grep -q 'no such directory' '$T/err'"

finish
