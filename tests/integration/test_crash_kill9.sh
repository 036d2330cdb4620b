#!/usr/bin/env bash
# Crash safety: `kosearch index` killed with SIGKILL in the middle of a run
# (after it has flushed segment files, before its commit) must leave the
# previous commit intact: `check` passes and searches return the old
# documents only. A later run over the same directory cleans up and works.
set -euo pipefail
: "${KOSEARCH:?}" "${KS_TMP:?}"
dir="$KS_TMP/crash_kill9"
rm -rf "$dir" && mkdir -p "$dir"
idx="$dir/idx"

fail() { echo "FAIL: $*" >&2; exit 1; }

printf '{"id":"old1","title":"옛날","text":"첫번째 커밋에 들어간 문서입니다 사과나무"}\n' > "$dir/old.jsonl"
"$KOSEARCH" index -o "$idx" --quiet "$dir/old.jsonl" > /dev/null
echo "ok: first commit"

# A corpus big enough to take a few seconds and several flushes.
awk 'BEGIN { srand(7); for (i = 0; i < 400000; i++) {
  printf "{\"id\":\"big%d\",\"title\":\"제목%d\",\"text\":\"", i, i % 1000;
  for (w = 0; w < 30; w++) printf "단어%d을 ", int(rand() * 50000);
  printf "바나나나무\"}\n" } }' > "$dir/big.jsonl"

"$KOSEARCH" index -o "$idx" --quiet --mem-budget 4 "$dir/big.jsonl" > /dev/null 2>&1 &
pid=$!
# Wait until the run has written segment files of its own, then kill it.
for _ in $(seq 1 200); do
  n=$(ls "$idx" | grep -c '\.tid$' || true)
  [ "$n" -ge 3 ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || fail "indexer finished before it could be killed"
wait "$pid" 2>/dev/null || true
[ "$(ls "$idx" | grep -c '\.tid$')" -ge 2 ] || fail "expected debris from the killed run"
echo "ok: killed the indexer mid-run ($(ls "$idx" | wc -l) files in the index directory)"

"$KOSEARCH" check "$idx" > /dev/null || fail "check failed after the crash"
"$KOSEARCH" search "$idx" --json 사과나무 | grep -q '"old1"' || fail "old document lost"
if "$KOSEARCH" search "$idx" --json 바나나나무 | grep -q '"big'; then
  fail "documents of the killed run are visible"
fi
echo "ok: previous commit intact and consistent"

"$KOSEARCH" index -o "$idx" --quiet "$dir/old.jsonl" > /dev/null || fail "re-index failed"
[ "$(ls "$idx" | grep -c '\.tid$')" -eq 1 ] || fail "debris not collected: $(ls "$idx")"
"$KOSEARCH" check "$idx" > /dev/null || fail "check failed after re-index"
echo "ok: next run collected the debris"
rm -rf "$dir"
