#!/usr/bin/env bash
# test_cli_live.sh - the live index from the command line, native backend
# (cli_live_lib.sh has the checks): add to a new index and to an existing
# one (upserts: get and search see the new version only), delete by
# argument, --ids FILE (CRLF, empty lines) and --ids - with not-found
# counts and names, --strict commits nothing, merge to 1 segment (0
# deleted, identical search hits and scores), --commit-every commits
# (generation), a second writer gets a "locked" error; and a kill -9 in
# the middle of `add --commit-every` keeps exactly the committed batches.
source "$(dirname "$0")/cli_lib.sh"
source "$(dirname "$0")/cli_live_lib.sh"

live_suite native

echo "# [native] kill -9 during add --commit-every: the committed batches survive"
K="$T/kill"
mkdir -p "$K"
awk 'BEGIN { srand(11); for (i = 0; i < 300000; i++) {
  printf "{\"id\":\"k%d\",\"text\":\"", i;
  for (w = 0; w < 20; w++) printf "낱말%d ", int(rand() * 30000);
  printf "\"}\n" } }' >"$K/big.jsonl"
"$KOSEARCH" add "$K/idx" --quiet --commit-every 20000 "$K/big.jsonl" >/dev/null 2>&1 &
pid=$!
committed=0
for _ in $(seq 1 600); do
  n=$(live_docs "$K/idx" 2>/dev/null)
  if [ -n "$n" ] && [ "$n" != null ] && [ "$n" -gt 0 ]; then committed=1; break; fi
  sleep 0.05
done
if kill -9 "$pid" 2>/dev/null; then pass "killed the add after its first commit"
else fail "the add finished before it could be killed (or never committed)"; fi
wait "$pid" 2>/dev/null
check "a commit was seen before the kill" test "$committed" = 1
n=$(live_docs "$K/idx")
check "documents after the kill are whole batches of 20000 (got $n)" \
  test -n "$n" -a "$n" != null -a $((n % 20000)) -eq 0 -a "$n" -gt 0 -a "$n" -lt 300000
ks check "$K/idx"
expect_rc 0 "check after the kill"
ks add "$K/idx" --quiet "$T/native/a.jsonl"
expect_rc 0 "the next add works (the lock of the killed writer is gone)"
rm -rf "$K"

finish
