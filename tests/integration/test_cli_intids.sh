#!/usr/bin/env bash
# test_cli_intids.sh - integer ids are accepted only where a double holds
# every integer exactly (|id| <= 2^53 - 1): beyond, 2^53 + 1 reads as 2^53
# and would replace the document with id 2^53 (issue 13, defect 1). Each
# such id is rejected with a FILE:LINE warning; no document is replaced.
source "$(dirname "$0")/cli_lib.sh"

IDS="$T/ids.jsonl"
{
  printf '%s\n' '{"id":9007199254740991,"text":"가장 큰 정확한 정수 하나"}'     # 1: 2^53 - 1, kept
  printf '%s\n' '{"id":9007199254740992,"text":"이 문서는 첫 번째 큰 수"}'      # 2: 2^53
  printf '%s\n' '{"id":9007199254740993,"text":"이 문서는 두 번째 큰 수"}'      # 3: 2^53 + 1
  printf '%s\n' '{"id":-9007199254740993,"text":"음수 큰 수"}'                 # 4: -2^53 - 1
  printf '%s\n' '{"id":-9007199254740991,"text":"가장 작은 정확한 정수"}'       # 5: -(2^53 - 1), kept
  printf '%s\n' '{"id":"9007199254740993","text":"문자열 아이디는 그대로"}'     # 6: string, kept
  printf '%s\n' '{"id":1e3,"text":"천 번 문서"}'                               # 7: 1000, kept
} >"$IDS"

ks index -o "$T/ids.idx" "$IDS"
expect_rc 0 "index integer ids around 2^53"
expect_summary "documents indexed" 4
expect_summary "documents replaced" 0
expect_summary "documents skipped" 3
for l in 2 3 4; do
  check "line $l: integer id out of the exact range" \
    bash -c "grep 'ids.jsonl:$l:' '$T/err' | grep -q '2^53 - 1'"
done
for l in 1 5 6 7; do
  check "line $l: no warning" bash -c "! grep -q 'ids.jsonl:$l:' '$T/err'"
done
ks get "$T/ids.idx" -- 9007199254740991 -9007199254740991 9007199254740993 1000
expect_rc 0 "the accepted ids are there, as decimal strings"
check "2^53 - 1 kept its text" out_has "가장 큰 정확한 정수 하나"
check "the string id 2^53 + 1 kept its text" out_has "문자열 아이디는 그대로"
ks get "$T/ids.idx" 9007199254740992
expect_rc 1 "no document got the id 2^53"
finish
