#!/usr/bin/env bash
# test_commit_durability.sh - the durability order of a commit
# (indexer/commit.c, common/manifest.c; docs/live.md): every new file of the
# commit is fsync'ed, then the directory, then MANIFEST.tmp is written and
# fsync'ed, renamed over MANIFEST, and the directory is fsync'ed again. A
# commit that renamed MANIFEST before its contents (or the files it names)
# were durable could, after a power cut, publish a manifest that names
# missing or empty files; a kill -9 cannot show that (the page cache
# survives it), so the calls themselves are traced through the LD_PRELOAD
# fault injector (tests/support/ks_fault.c, KS_FAULT_TRACE) during
# `kosearch add` (a new segment, a replaced document: a .del) and
# `kosearch delete` (a .del only).
source "$(dirname "$0")/cli_lib.sh"

if [ -z "${KS_FAULT_LIB:-}" ] || [ ! -r "$KS_FAULT_LIB" ]; then
  echo "SKIP: the fault injector library (KS_FAULT_LIB) is missing"
  exit 77
fi
# the injector is not sanitized; an ASan kosearch accepts it with this
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# Ten documents, so that one replacement and one deletion stay below the
# merge policy's 30% rewrite rule (docs/live.md): each traced command makes
# exactly one commit, and every file it adds belongs to that commit.
IDX="$T/i.idx"
for i in 0 1 2 3 4 5 6 7 8 9; do
  printf '{"id":"d%s","text":"사과 나무 %s"}\n' "$i" "$i"
done >"$T/one.jsonl"
ks index --quiet -o "$IDX" "$T/one.jsonl"
expect_rc 0 "index ten documents"

# traced RUN...: run kosearch under the injector, tracing into $T/trace;
# the files the commit added are listed in $T/new.
traced() {
  ls "$IDX" | sort >"$T/before"
  rm -f "$T/trace"
  LD_PRELOAD="$KS_FAULT_LIB" KS_FAULT_TRACE="$T/trace" "$KOSEARCH" "$@" >"$T/out" 2>"$T/err"
  RC=$?
  ls "$IDX" | sort >"$T/after"
  comm -13 "$T/before" "$T/after" | grep -v '^LEASE\.' >"$T/new" || true
}

# line_of PATTERN: the first trace line number matching PATTERN (ERE), or 0
line_of() { grep -n -E -m1 -- "$1" "$T/trace" | cut -d: -f1 || true; }
last_line_of() { grep -n -E -- "$1" "$T/trace" | tail -1 | cut -d: -f1 || true; }

check_order() {
  local what="$1"
  local ren tmpsync dirbefore dirafter
  check "$what: exactly one commit (one MANIFEST rename)" \
    test "$(grep -c -E '^rename .*/MANIFEST\.tmp .*/MANIFEST$' "$T/trace")" -eq 1
  ren=$(line_of "^rename .*/MANIFEST\.tmp .*/MANIFEST$")
  tmpsync=$(last_line_of "^fsync file .*/MANIFEST\.tmp$")
  check "$what: MANIFEST.tmp renamed over MANIFEST" test -n "$ren"
  check "$what: MANIFEST.tmp fsync'ed before the rename" \
    test -n "$tmpsync" -a "${tmpsync:-0}" -lt "${ren:-0}"
  check "$what: MANIFEST.tmp not fsync'ed after it (nothing else written)" \
    test "${tmpsync:-0}" -lt "${ren:-0}"
  dirbefore=$(awk -v r="${tmpsync:-0}" 'NR < r && /^fsync dir /{n=NR} END{print n+0}' "$T/trace")
  check "$what: directory fsync'ed before MANIFEST.tmp (new entries durable)" \
    test "$dirbefore" -gt 0
  dirafter=$(awk -v r="${ren:-0}" 'NR > r && /^fsync dir /{print NR; exit}' "$T/trace")
  check "$what: directory fsync'ed after the rename" test -n "$dirafter"
  local f n=0 bad=""
  while read -r f; do
    case "$f" in MANIFEST*|LOCK) continue ;; esac
    n=$((n + 1))
    local l
    l=$(line_of "^fsync file .*/$f$")
    if [ -z "$l" ] || [ "$l" -ge "${dirbefore:-0}" ]; then bad="$bad $f"; fi
  done <"$T/new"
  check "$what: $n new files, each fsync'ed before the directory and MANIFEST.tmp${bad:+ (not:$bad)}" \
    test -z "$bad" -a "$n" -gt 0
  if [ "$FAILS" -gt 0 ]; then echo "  --- trace:"; sed 's/^/  | /' "$T/trace" | head -40; fi
}

printf '%s\n' '{"id":"d1","text":"배 열매"}' '{"id":"c","text":"감 나무"}' >"$T/two.jsonl"
traced add "$IDX" "$T/two.jsonl"
expect_rc 0 "add (a new segment, one replaced document)"
check "add created a segment and a .del" \
  bash -c "grep -q '\.tid$' '$T/new' && grep -q '\.del$' '$T/new'"
check_order "add"

traced delete "$IDX" d2
expect_rc 0 "delete d2"
check "delete created a .del" grep -q '\.del$' "$T/new"
check_order "delete"

ks check "$IDX"
expect_rc 0 "check passes after the traced commits"
finish
