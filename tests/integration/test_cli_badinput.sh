#!/usr/bin/env bash
# test_cli_badinput.sh - bad input never crashes and is never silently
# dropped: each bad record gets a warning naming FILE:LINE, is skipped and
# counted; --strict fails the run (exit 1) and leaves the previous index
# untouched. Covers: invalid JSON, "text" missing, "text" not a string,
# invalid UTF-8 (JSON and .txt), NUL byte (\u0000 and raw), empty text,
# a document over --max-doc-mb, a non-object line, a bad "id", truncated
# gzip, a missing input file.
source "$(dirname "$0")/cli_lib.sh"

BAD="$T/bad.jsonl"
{
  printf '%s\n' '{"id":"good1","title":"좋은 문서","text":"대통령이 방문했다"}'   # 1
  printf '%s\n' '{"id":"bad-json","text": "unterminated'                          # 2
  printf '%s\n' '{"id":"no-text","title":"제목만"}'                               # 3
  printf '%s\n' '{"id":"num-text","text":42}'                                     # 4
  printf '{"id":"bad-utf8","text":"abc\xff\xfe zzzutf"}\n'                        # 5
  printf '%s\n' '{"id":"nul","text":"a\u0000b zzznul"}'                          # 6
  printf '%s\n' '{"id":"empty","text":""}'                                        # 7
  printf '%s\n' '["not","an","object"]'                                           # 8
  printf '%s\n' '{"id":{"x":1},"text":"zzzbadid"}'                                # 9
  printf '%s\n' ''                                                                # 10 (blank: ignored)
  printf '%s\n' '{"id":"good2","text":"보스턴 클러스터"}'                         # 11
} >"$BAD"

echo "# default mode: bad records are reported, skipped and counted"
ks index -o "$T/bad.idx" "$BAD"
expect_rc 0 "index a file with 8 bad records"
expect_summary "documents indexed" 2
expect_summary "documents skipped" 8
check "line 2: invalid JSON"          bash -c "grep 'bad.jsonl:2:' '$T/err' | grep -q 'invalid JSON'"
check "line 3: text missing"          bash -c "grep 'bad.jsonl:3:' '$T/err' | grep -q 'text.*missing'"
check "line 4: text not a string"     bash -c "grep 'bad.jsonl:4:' '$T/err' | grep -q 'not a string'"
check "line 5: invalid UTF-8"         bash -c "grep 'bad.jsonl:5:' '$T/err' | grep -q 'UTF-8'"
check "line 6: NUL"                   bash -c "grep 'bad.jsonl:6:' '$T/err' | grep -q 'NUL'"
check "line 7: empty text"            bash -c "grep -q 'bad.jsonl:7:' '$T/err'"
check "line 8: not an object"         bash -c "grep 'bad.jsonl:8:' '$T/err' | grep -q 'not a JSON object'"
check "line 9: bad id"                bash -c "grep 'bad.jsonl:9:' '$T/err' | grep -q 'id'"
check "blank line 10 is not reported" bash -c "! grep -q 'bad.jsonl:10:' '$T/err'"
check "warnings use the 'kosearch: warning:' prefix" \
  test "$(grep -c '^kosearch: warning: .*bad.jsonl:[0-9]*:' "$T/err")" -eq 8
for w in zzzutf zzznul zzzbadid; do
  ks search "$T/bad.idx" --json "$w"
  check "skipped record's text ($w) is not searchable" no_hits
done
ks search "$T/bad.idx" --json 대통령
check "good record is searchable" out_has '"id":"good1"'
ks check "$T/bad.idx"
expect_rc 0 "check passes on the index built from bad input"

echo "# raw NUL byte and invalid UTF-8 in a .txt file"
printf '{"id":"rawnul","text":"a\000b"}\n{"id":"ok","text":"fine"}\n' >"$T/rawnul.jsonl"
mkdir -p "$T/txt"
printf '첫 줄 제목\n둘째 줄\n셋째 줄 \xc3\x28 깨짐\n' >"$T/txt/broken.txt"
printf '정상 문서\n내용\n' >"$T/txt/fine.txt"
ks index -o "$T/mixed.idx" "$T/rawnul.jsonl" "$T/txt"
expect_rc 0 "index raw NUL jsonl + txt dir with a broken file"
check "raw NUL reported at rawnul.jsonl:1" bash -c "grep 'rawnul.jsonl:1:' '$T/err' | grep -q NUL"
check "txt invalid UTF-8 reported at broken.txt:3 (the line of the bad byte)" \
  bash -c "grep 'broken.txt:3:' '$T/err' | grep -q 'UTF-8'"
expect_summary "documents indexed" 2
expect_summary "documents skipped" 2

echo "# --max-doc-mb: a 2 MB document with a 1 MB limit"
{
  printf '{"id":"small","text":"작은 문서"}\n'
  printf '{"id":"huge","text":"'
  yes 'hugeword' | head -c 2200000 | tr '\n' ' '
  printf '"}\n'
  printf '{"id":"after","text":"다음 문서"}\n'
} >"$T/huge.jsonl"
ks index -o "$T/huge.idx" --max-doc-mb 1 "$T/huge.jsonl"
expect_rc 0 "index with --max-doc-mb 1"
check "over-limit document reported at huge.jsonl:2" err_has "huge.jsonl:2:"
expect_summary "documents indexed" 2
expect_summary "documents skipped" 1
ks search "$T/huge.idx" --json hugeword
check "over-limit document is not searchable" no_hits
ks index -o "$T/huge2.idx" "$T/huge.jsonl"
check "the same document is accepted with the default limit" test "$RC" -eq 0 -a "$(summary_value 'documents indexed')" = 3

echo "# --strict: the first bad record fails the run, the previous index stays"
printf '%s\n' '{"id":"keep","text":"사과 바나나"}' >"$T/good.jsonl"
ks index -o "$T/strict.idx" "$T/good.jsonl"
expect_rc 0 "build the previous index"
ks index -o "$T/strict.idx" --strict "$BAD"
expect_rc 1 "--strict on bad input"
check "--strict error names bad.jsonl:2" bash -c "grep '^kosearch: error:' '$T/err' | grep -q 'bad.jsonl:2:'"
check "--strict stops at the first bad record" bash -c "! grep -q 'bad.jsonl:3:' '$T/err'"
ks search "$T/strict.idx" --json 사과
check "previous index still answers" out_has '"id":"keep"'
ks search "$T/strict.idx" --json 대통령
check "nothing from the failed run was committed" no_hits
ks check "$T/strict.idx"
expect_rc 0 "check passes on the untouched index"
ks stats "$T/strict.idx"
check "stats still shows 1 document" grep -qE '^documents +1$' "$T/out"
for f in "$T/huge.jsonl" "$T/txt"; do
  ks index -o "$T/strict2.idx" --strict --max-doc-mb 1 "$f"
  check "--strict fails on $(basename "$f")" test "$RC" -eq 1
done

echo "# truncated gzip and missing files are errors (exit 1), not crashes"
gzip -c "$BAD" | head -c 200 >"$T/trunc.jsonl.gz"
ks index -o "$T/trunc.idx" "$T/trunc.jsonl.gz"
expect_rc 1 "truncated gzip"
check "truncated gzip message names the file" bash -c "grep '^kosearch: error:' '$T/err' | grep -q 'trunc.jsonl.gz'"
ks index -o "$T/missing.idx" "$T/does-not-exist.jsonl"
expect_rc 1 "missing input file"
check "missing input named in the error" err_has "does-not-exist.jsonl"
check "no index directory created for a missing input" test ! -e "$T/missing.idx"
mkdir -p "$T/emptydir"
printf 'not an input\n' >"$T/emptydir/readme.md"
ks index -o "$T/emptydir.idx" "$T/emptydir"
expect_rc 1 "directory without input files"
check "message says no input files" err_has "no \*.txt"

echo "# more than 20 bad records: 20 printed, all counted"
for i in $(seq 1 30); do printf '{"id":"b%d","text":5}\n' "$i"; done >"$T/many.jsonl"
printf '{"id":"g","text":"좋다"}\n' >>"$T/many.jsonl"
ks index -o "$T/many.idx" "$T/many.jsonl"
expect_rc 0 "index 30 bad + 1 good"
expect_summary "documents skipped" 30
check "20 warnings printed" test "$(grep -c 'many.jsonl:[0-9]*:' "$T/err")" -eq 20
check "the rest is summarized" err_has "10 more bad records"

echo "# issue 13, defect 3: JSON nested past cJSON's limit says so"
{
  printf '{"id":"deep","text":"t","a":'
  printf '%.0s[' $(seq 1200)
  printf '%.0s]' $(seq 1200)
  printf '}\n'
  printf '{"id":"ok","text":"t","a":'
  printf '%.0s[' $(seq 900)
  printf '%.0s]' $(seq 900)
  printf '}\n'
} >"$T/deep.jsonl"
ks index -o "$T/deep.idx" "$T/deep.jsonl"
expect_rc 0 "index a too deep and a deep record"
check "too deep: names the limit" bash -c "grep 'deep.jsonl:1:' '$T/err' | grep -q 'nested deeper than 1000 levels'"
check "900 levels: accepted" bash -c "! grep -q 'deep.jsonl:2:' '$T/err'"

echo "# control characters outside strings are not JSON whitespace (found by fuzz_record)"
# cJSON skips them; the default id's stored JSON was then built from a line
# that did not start with '{' and was no JSON at all
printf '\002\002{"text":"before"}\n{"text":"between",\037"id":"c2"}\n{"id":"c3","text":"ok\\u0001"}\n' \
  >"$T/ctl.jsonl"
ks index -o "$T/ctl.idx" "$T/ctl.jsonl"
expect_rc 0 "index records with control characters"
check "before the object: invalid JSON" bash -c "grep 'ctl.jsonl:1:' '$T/err' | grep -q 'control character 0x02 at byte column 1'"
check "between members: invalid JSON" bash -c "grep 'ctl.jsonl:2:' '$T/err' | grep -q 'control character 0x1F'"
expect_summary "documents indexed" 1
ks get "$T/ctl.idx" c3
check "an escaped control character in a string is kept" grep -q 'ok\\u0001' "$T/out"

echo "# a byte order mark is accepted at the start of a file only (found by fuzz_record)"
printf '\357\273\277{"text":"first"}\n\357\273\277{"text":"second"}\n\013\357\273\277{"text":"third"}\n' \
  >"$T/bom.jsonl"
ks index -o "$T/bom.idx" "$T/bom.jsonl"
expect_rc 0 "index records with byte order marks"
check "line 2: byte order mark refused" bash -c "grep 'bom.jsonl:2:' '$T/err' | grep -q 'byte order mark at byte column 1'"
check "line 3: byte order mark refused" bash -c "grep 'bom.jsonl:3:' '$T/err' | grep -q 'byte order mark at byte column 2'"
expect_summary "documents indexed" 1

finish
