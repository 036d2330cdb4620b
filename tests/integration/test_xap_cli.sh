#!/usr/bin/env bash
# test_xap_cli.sh - `kosearch index --backend xapian` and the commands on a
# Xapian database: same bad-input handling as the native backend (warnings
# naming FILE:LINE, skipped and counted; --strict fails and leaves the
# previous database as it was), duplicate ids replace, .txt input, summary,
# automatic detection by search/get/stats/check, and a native index or
# foreign directory is never overwritten. Skipped when kosearch was built
# without Xapian.
source "$(dirname "$0")/cli_lib.sh"
require_xapian

BAD="$T/bad.jsonl"
{
  printf '%s\n' '{"id":"good1","title":"좋은 문서","text":"대통령이 방문했다"}'
  printf '%s\n' '{"id":"bad-json","text": "unterminated'
  printf '%s\n' '{"id":"no-text","title":"제목만"}'
  printf '{"id":"bad-utf8","text":"abc\xff\xfe zzzutf"}\n'
  printf '%s\n' '{"id":"nul","text":"a\u0000b zzznul"}'
  printf '%s\n' '{"id":"empty","text":""}'
  printf '%s\n' '{"id":"good2","text":"보스턴 클러스터"}'
  printf '%s\n' '{"id":"good1","title":"새 문서","text":"대통령은 다시 왔다"}'
} >"$BAD"

ks index --backend xapian -o "$T/x" "$BAD"
expect_rc 0 "xapian index of a file with 5 bad records"
expect_summary "documents indexed" 3
expect_summary "documents replaced" 1
expect_summary "documents skipped" 5
expect_summary "documents live" 2
check "backend line in the summary" out_has "backend: xapian"
check "bad JSON reported at bad.jsonl:2" bash -c "grep 'bad.jsonl:2:' '$T/err' | grep -q 'invalid JSON'"
check "invalid UTF-8 reported at bad.jsonl:4" bash -c "grep 'bad.jsonl:4:' '$T/err' | grep -q 'UTF-8'"
check "NUL reported at bad.jsonl:5" bash -c "grep 'bad.jsonl:5:' '$T/err' | grep -q 'NUL'"
check "empty text reported at bad.jsonl:6" bash -c "grep -q 'bad.jsonl:6:' '$T/err'"
ks search "$T/x" --json 대통령
expect_rc 0 "search detects the Xapian database"
check "the later good1 replaced the earlier" out_has '"title":"새 문서"'
check "one hit only for the replaced id" test "$(hit_ids | grep -c '^good1$')" -eq 1
check "snippet marks the match" out_has '«대통령은»'
ks search "$T/x" --json zzzutf
check "skipped record not searchable" no_hits
ks get "$T/x" good2 good1
expect_rc 0 "get on the Xapian database"
check "get prints the stored documents in order" \
  test "$(jq -r .id "$T/out" | tr '\n' ' ')" = "good2 good1 "
check "get: the later good1" grep -q '"title":"새 문서"' "$T/out"
ks get "$T/x" bad-json
expect_rc 1 "get a skipped record"
check "no document with id" err_has "no document with id 'bad-json'"

echo "# --strict leaves the previous database as it was"
ks index --backend xapian --strict -o "$T/x" "$BAD"
expect_rc 1 "--strict fails on the first bad record"
check "--strict message names the line" err_has "bad.jsonl:2:"
ks search "$T/x" --json 보스턴
check "previous database still searchable" out_has '"id":"good2"'
check "no temporary directory left" test ! -e "$T/x.tmp"

echo "# .txt input, stats, check"
ks index --backend xapian -o "$T/c" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "xapian index of corpus/"
ks search "$T/c" -k 2 대통령
check "both seed articles found" test "$(grep -c '^[0-9]*\. \[' "$T/out")" -eq 2
ks stats "$T/c"
expect_rc 0 "stats on Xapian"
check "stats: 2 documents" out_has "^documents: 2$"
ks stats "$T/c" --json
check "stats --json names the backend" out_has '"backend":"xapian"'
ks check "$T/c"
expect_rc 0 "check on Xapian (Xapian's own check, ks_db_check)"
check "check prints ok" bash -c "tail -n 1 '$T/out' | grep -qx ok"

echo "# never overwrite a native index or other files"
ks index -o "$T/n" "$KS_SOURCE_DIR/corpus"
ks index --backend xapian -o "$T/n" "$KS_SOURCE_DIR/corpus"
expect_rc 1 "refuses to overwrite a native index"
ks search "$T/n" -k 1 대통령
expect_rc 0 "the native index is intact"
ks index -o "$T/c" "$KS_SOURCE_DIR/corpus"
expect_rc 1 "the native writer refuses the Xapian database"
ks search "$T/c" --ranking bm25 대통령
expect_rc 2 "--ranking bm25 on Xapian is a usage error"
ks index --shards 2 -o "$T/s" "$KS_SOURCE_DIR/corpus"
expect_rc 2 "--shards without --backend xapian"
ks index --backend lucene -o "$T/s" "$KS_SOURCE_DIR/corpus"
expect_rc 2 "unknown backend"
finish
