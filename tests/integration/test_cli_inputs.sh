#!/usr/bin/env bash
# test_cli_inputs.sh - the input formats of `kosearch index`: gzip JSON Lines
# (by magic, whatever the name), a directory of .txt files (ids = relative
# paths, titles = first non-empty line, other files ignored), standard
# input, default and integer ids, CRLF line ends and a UTF-8 BOM, and the
# duplicate-id rule (the later document replaces the earlier one).
source "$(dirname "$0")/cli_lib.sh"

echo "# gzip JSON Lines"
printf '%s\n' \
  '{"id":"gz1","title":"압축","text":"압축된 파일의 첫 문서 사과"}' \
  '{"id":"gz2","title":"압축 둘","text":"두 번째 문서 바나나","extra":{"k":[1,2]}}' >"$T/plain.jsonl"
gzip -c "$T/plain.jsonl" >"$T/data.jsonl.gz"
ks index -o "$T/gz.idx" "$T/data.jsonl.gz"
expect_rc 0 "index data.jsonl.gz"
expect_summary "documents indexed" 2
ks search "$T/gz.idx" --json 바나나
check "document from the gzip file is found" out_has '"id":"gz2"'
check "its title comes from the stored JSON" out_has '"title":"압축 둘"'
gzip -c "$T/plain.jsonl" >"$T/disguised.jsonl"
ks index -o "$T/gz2.idx" "$T/disguised.jsonl"
expect_rc 0 "gzip detected by magic in a file named .jsonl"
expect_summary "documents indexed" 2
cat "$T/data.jsonl.gz" "$T/data.jsonl.gz" >"$T/multi.jsonl.gz"
ks index -o "$T/gz3.idx" "$T/multi.jsonl.gz"
check "concatenated gzip members are all read (4 records, 2 replaced)" \
  test "$RC" -eq 0 -a "$(summary_value 'documents indexed')" = 4 -a "$(summary_value 'documents replaced')" = 2

echo "# a directory of .txt files"
D="$T/docs"
mkdir -p "$D/sub/deeper" "$D/.hidden"
printf '\n  첫 번째 제목  \n본문 대통령은 말했다.\n' >"$D/a.txt"
printf '두 번째 제목\n본문 보스턴 클러스터\n' >"$D/sub/b.txt"
printf '세 번째\n깊은 곳의 문서 첨단산업\n' >"$D/sub/deeper/c.txt"
printf '무시되는 파일 사과\n' >"$D/notes.md"
printf '숨은 파일 사과\n' >"$D/.hidden/h.txt"
printf '%s\n' '{"id":"from-jsonl","text":"디렉터리 안의 JSON Lines 사과"}' >"$D/sub/extra.jsonl"
ks index -o "$T/dir.idx" "$D"
expect_rc 0 "index a directory"
expect_summary "documents indexed" 4
ks search "$T/dir.idx" --json 보스턴
check "id of a .txt is its path relative to the directory" out_has '"id":"sub/b.txt"'
check "title is the first line" out_has '"title":"두 번째 제목"'
ks search "$T/dir.idx" --json 첨단산업
check "files in nested directories are read" out_has '"id":"sub/deeper/c.txt"'
ks search "$T/dir.idx" --json 대통령
check "title is the first non-empty line, trimmed" out_has '"title":"첫 번째 제목"'
check "top-level .txt id" out_has '"id":"a.txt"'
ks search "$T/dir.idx" --json 사과
check ".jsonl files inside the directory are read" out_has '"id":"from-jsonl"'
check "other files (.md) and hidden entries are ignored" test "$(hit_count)" = 1
ks index -o "$T/one.idx" "$D/sub/b.txt"
ks search "$T/one.idx" --json 보스턴
check "a .txt given directly gets its file name as id" out_has '"id":"b.txt"'

echo "# standard input"
printf '%s\n' '{"text":"표준 입력 문서 하나 사과"}' '{"id":"s2","text":"표준 입력 둘 포도"}' |
  "$KOSEARCH" index -o "$T/stdin.idx" - >"$T/out" 2>"$T/err"
RC=$?
expect_rc 0 "index from stdin (-)"
expect_summary "documents indexed" 2
ks search "$T/stdin.idx" --json 포도
check "stdin document with an id" out_has '"id":"s2"'
ks search "$T/stdin.idx" --json 사과
check "stdin document without id gets stdin:LINE" out_has '"id":"stdin:1"'
gzip -c "$T/plain.jsonl" | "$KOSEARCH" index -o "$T/stdin2.idx" - >"$T/out" 2>"$T/err"
RC=$?
check "gzip on stdin is detected" test "$RC" -eq 0 -a "$(summary_value 'documents indexed')" = 2

echo "# default and integer ids, CRLF, BOM"
printf '\xef\xbb\xbf{"id":7,"text":"정수 아이디 문서 참외"}\r\n{"text":"아이디 없는 문서 수박"}\r\n\r\n' >"$T/ids.jsonl"
ks index -o "$T/ids.idx" "$T/ids.jsonl"
expect_rc 0 "index ids.jsonl (BOM + CRLF)"
expect_summary "documents indexed" 2
ks search "$T/ids.idx" --json 참외
check "integer id 7 becomes \"7\"" out_has '"id":"7"'
ks search "$T/ids.idx" --json 수박
check "missing id becomes FILE:LINE" out_has '"id":"ids.jsonl:2"'
ks check "$T/ids.idx"
expect_rc 0 "check passes (stored JSON with the default id added is valid)"

echo "# duplicate id: the later document replaces the earlier one"
printf '%s\n' \
  '{"id":"dup","title":"첫 판","text":"예전 내용 사과"}' \
  '{"id":"other","text":"다른 문서 포도"}' \
  '{"id":"dup","title":"둘째 판","text":"새 내용 바나나"}' >"$T/dup.jsonl"
ks index -o "$T/dup.idx" "$T/dup.jsonl"
expect_rc 0 "index dup.jsonl"
expect_summary "documents indexed" 3
expect_summary "documents replaced" 1
expect_summary "documents live" 2
ks search "$T/dup.idx" --json 바나나
check "the later text is found" out_has '"id":"dup"'
check "with the later title" out_has '"title":"둘째 판"'
ks search "$T/dup.idx" --json 사과
check "the earlier text is gone" no_hits
ks stats "$T/dup.idx"
check "stats counts 2 live documents" grep -qE '^documents +2$' "$T/out"
ks check "$T/dup.idx"
expect_rc 0 "check passes after a replacement"

echo "# several inputs, across files: later input wins"
printf '%s\n' '{"id":"x","text":"첫 파일 사과"}' >"$T/in1.jsonl"
printf '%s\n' '{"id":"x","text":"둘째 파일 포도"}' >"$T/in2.jsonl"
ks index -o "$T/multi.idx" "$T/in1.jsonl" "$T/in2.jsonl"
expect_rc 0 "index two files"
ks search "$T/multi.idx" --json 포도
check "id x has the text of the second file" out_has '"id":"x"'
ks search "$T/multi.idx" --json 사과
check "text of the first file is gone" no_hits

echo "# re-indexing replaces the index contents"
ks index -o "$T/multi.idx" "$T/plain.jsonl"
expect_rc 0 "re-index into an existing index"
ks search "$T/multi.idx" --json 포도
check "old contents are gone after re-indexing" no_hits
ks search "$T/multi.idx" --json 바나나
check "new contents are there" out_has '"id":"gz2"'

echo "# issue 13, defect 4: unreadable input-looking members of a directory are named"
mkdir -p "$T/odd"
printf '{"id":"o1","text":"사과"}\n' >"$T/odd/good.jsonl"
ln -s "$T/nonexistent.jsonl" "$T/odd/gone.jsonl"
mkfifo "$T/odd/pipe.jsonl"
ks index -o "$T/odd.idx" "$T/odd"
expect_rc 0 "index a directory with a dangling link and a FIFO"
check "dangling link warned" bash -c "grep -q 'gone.jsonl: dangling symbolic link (skipped)' '$T/err'"
check "FIFO warned" bash -c "grep -q 'pipe.jsonl: a FIFO, not a regular file (skipped)' '$T/err'"
check "the regular file is indexed" bash -c "grep -q 'documents indexed: 1' '$T/out'"

finish
