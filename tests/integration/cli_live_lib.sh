# cli_live_lib.sh - the live-index command-line checks (kosearch add,
# delete, merge on an index that changes), sourced by test_cli_live.sh
# (native) and test_cli_live_xapian.sh (one Xapian database, 2 shards).
# Not a test itself: CTest only registers test_*.sh. Needs cli_lib.sh.
#
# live_suite TAG [OPTS...]: run every check on indexes created with
# `kosearch add INDEX OPTS...` (OPTS: nothing for native, --backend xapian
# [--shards N]); later commands give no OPTS, so the kind on disk is used.

# live_listing DIR: every path below DIR and the checksum of every file,
# to compare a directory before and after a run; without the reader leases
# LEASE.G and the content of LOCK (the last writer's pid), which opening a
# reader or a writer changes (docs/format/README.md, section 1).
live_listing() {
  (cd "$1" && find . -print | grep -v '^\./LEASE\.[0-9]*$' | LC_ALL=C sort &&
    find . -type f ! -name LOCK ! -name 'LEASE.*' -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum)
}

# live_docs IDX: the number of live documents `stats --json` reports.
live_docs() { "$KOSEARCH" stats "$1" --json 2>/dev/null | jq -r '.documents'; }
# live_generation IDX: the commit generation (native).
live_generation() { "$KOSEARCH" stats "$1" --json 2>/dev/null | jq -r '.generation'; }
# live_hits IDX QUERY: "id score" per hit of a search (k = 100), full precision.
live_hits() { "$KOSEARCH" search "$1" --json -k 100 -- "$2" | jq -r '.hits[] | "\(.id) \(.score)"'; }

# expect_eq WHAT GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1 ($3)"; else fail "$1: got '$2', expected '$3'"; show; fi
}

# json_value KEY: the value of KEY in the one JSON object of $T/out.
json_value() { jq -r ".$1" "$T/out" 2>/dev/null; }

live_suite() {
  local tag=$1; shift
  local opts=("$@") native=1
  case " $* " in *" --backend xapian "*) native=0 ;; esac
  local D="$T/$tag"
  rm -rf "$D" && mkdir -p "$D"

  # Documents: each has a word of its own (zzz<id>) to search for.
  {
    printf '%s\n' '{"id":"a1","title":"첫째","text":"사과 과수원 zzza1 이야기"}'
    printf '%s\n' '{"id":"a2","title":"둘째","text":"배나무 zzza2 zzzold 옛날 내용"}'
    printf '%s\n' '{"id":"a3","title":"셋째","text":"포도 zzza3 이야기"}'
  } >"$D/a.jsonl"
  {
    printf '%s\n' '{"id":"b1","title":"넷째","text":"사과 zzzb1 새 문서"}'
    printf '%s\n' '{"id":"a2","title":"둘째 (고침)","text":"배나무 zzza2 zzznew 새 내용"}'
    printf '%s\n' '{"id":"b2","title":"다섯째","text":"감나무 zzzb2 사과"}'
  } >"$D/b.jsonl"
  local IDX="$D/live.idx"

  echo "# [$tag] add to a new index"
  ks add "$IDX" "${opts[@]}" "$D/a.jsonl"
  expect_rc 0 "[$tag] add a.jsonl to a new index"
  expect_summary "documents added" 3
  expect_summary "documents replaced" 0
  expect_summary "documents rejected" 0
  expect_summary "documents live" 3
  expect_summary "commits" 1
  check "[$tag] summary says the index was created" out_has "^index: .*(created)"
  expect_eq "[$tag] stats: documents" "$(live_docs "$IDX")" 3
  if [ "$native" = 1 ]; then
    local g1
    g1=$(live_generation "$IDX")
    expect_summary "generation" "$g1"
  fi

  echo "# [$tag] add more: one id is replaced (upsert), the others stay"
  ks add "$IDX" --json "$D/b.jsonl"
  expect_rc 0 "[$tag] add b.jsonl (kind from disk, --json)"
  check "[$tag] --json: one object" json_lines_valid "$T/out"
  expect_eq "[$tag] json documents_added" "$(json_value documents_added)" 3
  expect_eq "[$tag] json documents_replaced" "$(json_value documents_replaced)" 1
  expect_eq "[$tag] json documents_rejected" "$(json_value documents_rejected)" 0
  expect_eq "[$tag] json documents_live" "$(json_value documents_live)" 5
  expect_eq "[$tag] json created" "$(json_value created)" false
  expect_eq "[$tag] json commits" "$(json_value commits)" 1
  expect_eq "[$tag] stats: documents" "$(live_docs "$IDX")" 5
  ks get "$IDX" a2
  expect_rc 0 "[$tag] get a2"
  check "[$tag] get a2: the new version" out_has "zzznew"
  check "[$tag] get a2: not the old one" out_lacks "zzzold"
  ks get "$IDX" a1
  check "[$tag] get a1: the first add's document is still there" out_has "zzza1"
  ks search "$IDX" --json zzznew
  check "[$tag] search finds the new content" test "$(hit_ids)" = a2
  ks search "$IDX" --json zzzold
  check "[$tag] search no longer finds the old content" no_hits
  ks search "$IDX" --json 사과
  check "[$tag] search over both adds: a1 b1 b2" \
    test "$(hit_ids | LC_ALL=C sort | tr '\n' ' ')" = "a1 b1 b2 "

  echo "# [$tag] delete by argument; an id not found is counted, not an error"
  ks delete "$IDX" a1 nope
  expect_rc 0 "[$tag] delete a1 nope"
  expect_summary "deleted" 1
  expect_summary "not found" 1
  expect_summary "documents live" 4
  check "[$tag] the id not found is named on stderr" err_has "no document with id 'nope'"
  ks get "$IDX" a1
  expect_rc 1 "[$tag] get a1 after its deletion"
  ks search "$IDX" --json zzza1
  check "[$tag] search no longer finds a1" no_hits
  expect_eq "[$tag] stats: documents" "$(live_docs "$IDX")" 4

  echo "# [$tag] delete --ids FILE: CRLF line ends, empty lines skipped"
  printf 'b1\r\n\r\n\nmissing1\n' >"$D/ids.txt"
  ks delete "$IDX" --ids "$D/ids.txt" --json
  expect_rc 0 "[$tag] delete --ids FILE"
  expect_eq "[$tag] json ids" "$(json_value ids)" 2
  expect_eq "[$tag] json deleted" "$(json_value deleted)" 1
  expect_eq "[$tag] json not_found" "$(json_value not_found)" 1
  expect_eq "[$tag] json documents_live" "$(json_value documents_live)" 3
  check "[$tag] missing1 named (without a CR)" err_has "no document with id 'missing1'$"
  ks get "$IDX" b1
  expect_rc 1 "[$tag] get b1 after --ids"

  echo "# [$tag] delete --ids - (standard input)"
  printf 'b2\n' | "$KOSEARCH" delete "$IDX" --ids - >"$T/out" 2>"$T/err"; RC=$?
  expect_rc 0 "[$tag] delete --ids -"
  expect_summary "deleted" 1
  expect_summary "not found" 0
  expect_eq "[$tag] stats: documents" "$(live_docs "$IDX")" 2

  echo "# [$tag] many ids not found: the first 5 named, the rest summed up"
  live_listing "$IDX" >"$D/before"
  ks delete "$IDX" n1 n2 n3 n4 n5 n6 n7
  expect_rc 0 "[$tag] delete 7 missing ids"
  expect_summary "deleted" 0
  expect_summary "not found" 7
  check "[$tag] 5 named" test "$(grep -c "no document with id 'n[0-9]'" "$T/err")" -eq 5
  check "[$tag] the rest summed up" err_has "2 more ids were not found (7 in all)"
  live_listing "$IDX" >"$D/after"
  check "[$tag] deleting nothing leaves the index byte for byte" cmp -s "$D/before" "$D/after"

  echo "# [$tag] --strict: one id not found, nothing committed"
  ks delete "$IDX" --strict a3 nope
  expect_rc 1 "[$tag] delete --strict a3 nope"
  check "[$tag] --strict message" err_has "1 of 2 ids not found (--strict: nothing deleted"
  ks get "$IDX" a3
  expect_rc 0 "[$tag] a3 is still there"
  live_listing "$IDX" >"$D/after"
  check "[$tag] --strict left the index byte for byte" cmp -s "$D/before" "$D/after"

  echo "# [$tag] delete: invalid ids and missing indexes are errors"
  printf 'a3\nbad\0id\n' >"$D/nul.txt"
  ks delete "$IDX" --ids "$D/nul.txt"
  expect_rc 1 "[$tag] an id with a NUL byte"
  check "[$tag] names FILE:LINE" err_has "nul.txt:2: invalid id"
  ks get "$IDX" a3
  expect_rc 0 "[$tag] nothing deleted (a3 is still there)"
  ks delete "$D/none.idx" a3
  expect_rc 1 "[$tag] delete from a missing index"
  check "[$tag] says there is no index" err_has "no such index"
  check "[$tag] delete does not create the index" test ! -e "$D/none.idx"
  ks delete "$IDX" --ids "$D/no-such-file"
  expect_rc 1 "[$tag] --ids of a missing file"
  ks delete "$IDX"
  expect_rc 2 "[$tag] delete without an id"
  ks merge "$D/none.idx"
  expect_rc 1 "[$tag] merge of a missing index"
  check "[$tag] merge does not create the index" test ! -e "$D/none.idx"

  echo "# [$tag] add --allow-empty on an existing index: a no-op"
  ks add "$IDX" --allow-empty /dev/null
  expect_rc 0 "[$tag] add --allow-empty /dev/null"
  expect_summary "documents added" 0
  expect_eq "[$tag] stats: documents unchanged" "$(live_docs "$IDX")" 2

  echo "# [$tag] --commit-every: several commits"
  local M="$D/many.idx"
  awk 'BEGIN { for (i = 1; i <= 10; i++)
    printf "{\"id\":\"m%d\",\"text\":\"사과 배 zzzm%d 감 %s\"}\n", i, i, (i % 3 ? "포도" : "") }' \
    >"$D/many.jsonl"
  local extra=()
  [ "$native" = 1 ] && extra=(--no-merge)
  ks add "$M" "${opts[@]}" "${extra[@]}" --commit-every 3 "$D/many.jsonl"
  expect_rc 0 "[$tag] add --commit-every 3 (10 documents)"
  expect_summary "commits" 4
  expect_summary "documents live" 10
  if [ "$native" = 1 ]; then
    expect_eq "[$tag] generation after 4 commits" "$(live_generation "$M")" 4
    expect_summary "generation" 4
  fi

  echo "# [$tag] --strict with --commit-every keeps the earlier commits"
  { printf '%s\n' '{"id":"s1","text":"zzzs 하나"}' '{"id":"s2","text":"zzzs 둘"}' \
      '{"id":"s3","text":"zzzs 셋"}' '{"id":"s4","text":"zzzs 넷"}'
    printf '%s\n' '{"id":"s5","text":5}' '{"id":"s6","text":"zzzs 여섯"}'; } >"$D/strict.jsonl"
  ks add "$M" "${extra[@]}" --strict --commit-every 2 "$D/strict.jsonl"
  expect_rc 1 "[$tag] add --strict --commit-every 2, bad 5th record"
  check "[$tag] says the earlier commits are kept" \
    err_has "the 4 documents committed before (--commit-every) are kept"
  expect_eq "[$tag] s1..s4 committed, s6 not" "$(live_docs "$M")" 14

  echo "# [$tag] deletions and upserts, then merge: same results"
  # The upsert comes last, from a writer that does not merge (native), so
  # that whatever the merge policy did after the deletions, the index has
  # several segments and a deleted document on disk before the merge.
  ks delete "$M" m5 m7
  expect_eq "[$tag] deleted m5 m7" "$(summary_value deleted)" 2
  printf '%s\n' '{"id":"m2","text":"사과 배 zzzm2 바뀐 내용"}' >"$D/m2.jsonl"
  ks add "$M" "${extra[@]}" "$D/m2.jsonl"
  expect_rc 0 "[$tag] upsert m2"
  expect_summary "documents replaced" 1
  local q
  for q in 사과 포도 zzzm2 '사과 감' zzzs; do live_hits "$M" "$q"; done >"$D/hits.before"
  if [ "$native" = 1 ]; then
    ks stats "$M" --json
    check "[$tag] several segments before the merge" json_is '.segments > 1'
    check "[$tag] deleted documents on disk before the merge" json_is '.deleted > 0'
  fi
  ks merge "$M"
  expect_rc 0 "[$tag] merge"
  check "[$tag] merge prints the time" out_has "^time: "
  if [ "$native" = 1 ]; then
    check "[$tag] merge prints segments before -> after" out_has "^segments: [0-9]* -> 1$"
    check "[$tag] merge prints deleted before -> after" out_has "^deleted documents on disk: [0-9]* -> 0$"
    ks stats "$M" --json
    check "[$tag] stats: 1 segment after the merge" json_is '.segments == 1'
    check "[$tag] stats: 0 deleted after the merge" json_is '.deleted == 0'
  fi
  expect_eq "[$tag] stats: documents after the merge" "$(live_docs "$M")" 12
  for q in 사과 포도 zzzm2 '사과 감' zzzs; do live_hits "$M" "$q"; done >"$D/hits.after"
  check "[$tag] search hits (ids and scores) identical before and after the merge" \
    cmp -s "$D/hits.before" "$D/hits.after"
  check "[$tag] ... and not empty" test -s "$D/hits.after"
  ks merge "$M" --json --max-segments 2
  expect_rc 0 "[$tag] merge --max-segments 2 --json"
  check "[$tag] merge --json: one object" json_lines_valid "$T/out"
  check "[$tag] merge --json keys" json_is 'has("segments_before") and has("segments_after") and has("seconds")'
  ks check "$M"
  expect_rc 0 "[$tag] check after the merges"

  echo "# [$tag] a second writer gets a clear 'locked' error"
  local L="$D/busy.idx" fifo="$D/feed.jsonl"
  ks add "$L" "${opts[@]}" "$D/a.jsonl"
  mkfifo "$fifo"
  "$KOSEARCH" add "$L" "$fifo" >"$D/bg.out" 2>"$D/bg.err" &
  local pid=$! locked=0
  exec 3>"$fifo" # lets the background add open its input; it then holds the lock
  for _ in $(seq 1 100); do
    ks delete "$L" no-such-id
    if err_has "locked by another writer"; then locked=1; break; fi
    sleep 0.1
  done
  check "[$tag] a delete while an add runs is refused" test "$locked" = 1
  expect_rc 1 "[$tag] ... with exit 1"
  check "[$tag] ... naming the other writer" err_has "locked by another writer"
  ks add "$L" "$D/b.jsonl"
  expect_rc 1 "[$tag] a second add while one runs"
  check "[$tag] ... says locked" err_has "locked by another writer"
  ks merge "$L"
  expect_rc 1 "[$tag] a merge while an add runs"
  check "[$tag] ... says locked" err_has "locked by another writer"
  if [ "$native" = 1 ]; then
    ks index -o "$L" "$D/b.jsonl"
    expect_rc 1 "[$tag] an index while an add runs"
    check "[$tag] ... says locked" err_has "locked by another writer"
  fi
  printf '%s\n' '{"id":"f1","text":"zzzfifo 문서"}' >&3
  exec 3>&-
  wait "$pid"
  local bg=$?
  expect_eq "[$tag] the first add finishes" "$bg" 0
  ks search "$L" --json zzzfifo
  check "[$tag] its document is there" test "$(hit_ids)" = f1
  ks search "$L" --json zzzb1
  check "[$tag] the refused add changed nothing" no_hits
  expect_eq "[$tag] documents after the locked runs" "$(live_docs "$L")" 4

  echo "# [$tag] exit codes of the command line"
  ks add
  expect_rc 2 "[$tag] add without INDEX"
  ks add "$IDX"
  expect_rc 2 "[$tag] add without INPUT"
  ks merge "$IDX" extra
  expect_rc 2 "[$tag] merge with an extra argument"
  ks merge "$IDX" --max-segments 0
  expect_rc 2 "[$tag] merge --max-segments 0"
  ks add "$IDX" --commit-every 0 "$D/a.jsonl"
  expect_rc 2 "[$tag] add --commit-every 0"
  if [ "$native" = 1 ]; then
    ks add "$IDX" --backend xapian "$D/a.jsonl"
  else
    ks add "$IDX" --backend native "$D/a.jsonl"
  fi
  expect_rc 1 "[$tag] add with another --backend than the index's"
  check "[$tag] ... says --backend applies to a new index only" err_has "applies only to a new index"
}
