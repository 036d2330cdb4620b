#!/usr/bin/env bash
# test_cli_empty.sh - the empty-run rule of `kosearch index` and `kosearch
# add`: a run that accepts no document (/dev/null, an empty file, empty
# standard input, a file of only bad records, a failed producer in a pipe)
# exits 1 with "no document accepted; INDEX unchanged (use --allow-empty
# ...)", prints no summary and changes nothing: a missing INDEX is not
# created (nor INDEX.tmp), an empty directory stays empty, an existing
# index stays byte for byte the same. --allow-empty writes an empty index
# that opens, searches and checks. The same for a Xapian INDEX when the
# backend is built in.
source "$(dirname "$0")/cli_lib.sh"

CORPUS="$KS_SOURCE_DIR/corpus"
: >"$T/empty.jsonl"
{
  printf '%s\n' '{"id":"e","text":""}'
  printf '%s\n' '{"id":"broken","text": "unterminated'
  printf '%s\n' '{"id":"n","text":5}'
} >"$T/bad.jsonl"

# listing DIR: every path below DIR with the checksum of each file, to
# compare a directory before and after a run. Left out: the reader leases
# LEASE.G (any search creates one; writers collect them) and the content
# of LOCK (the pid of the last writer that opened the index, informative
# only: docs/format/README.md, section 1); LOCK's presence is compared.
listing() {
  (cd "$1" && find . -print | grep -v '^\./LEASE\.[0-9]*$' | LC_ALL=C sort &&
    find . -type f ! -name LOCK ! -name 'LEASE.*' -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum)
}

# refused WHAT: the last run was refused by the empty-run rule.
refused() {
  expect_rc 1 "$1"
  check "$1: says no document was accepted" err_has "no document accepted"
  check "$1: names --allow-empty" err_has "use --allow-empty"
  check "$1: no summary on stdout" test ! -s "$T/out"
}

# empty_runs CMD BACKEND...: CMD is "index" or "add"; every empty input
# against a missing INDEX, an empty directory and an existing index.
empty_runs() {
  local cmd=$1; shift
  local opts=("$@") tag="$cmd${*:+ $*}"
  local good="$T/good-$cmd${1:+-x}"
  # target DIR: the arguments that name INDEX for $cmd
  target() { if [ "$cmd" = index ]; then echo "-o $1"; else echo "$1"; fi; }

  echo "# $tag: missing INDEX is not created"
  local n=0
  for input in /dev/null "$T/empty.jsonl" stdin "$T/bad.jsonl" pipe; do
    n=$((n + 1))
    local new="$T/new-$cmd-$n"
    rm -rf "$new" "$new.tmp"
    case $input in
      stdin) "$KOSEARCH" "$cmd" $(target "$new") "${opts[@]}" - </dev/null >"$T/out" 2>"$T/err"; RC=$? ;;
      pipe) bash -c 'zcat "$1/missing.gz" | "$2" "$3" $4 "${@:5}" -' _ "$T" "$KOSEARCH" "$cmd" \
              "$(target "$new")" "${opts[@]}" >"$T/out" 2>"$T/err"; RC=$? ;;
      *) ks "$cmd" $(target "$new") "${opts[@]}" "$input" ;;
    esac
    refused "$tag $input, missing INDEX"
    check "$tag $input: INDEX not created" test ! -e "$new"
    check "$tag $input: no INDEX.tmp left" test ! -e "$new.tmp"
    check "$tag $input: message says 'not created'" err_has "not created"
    [ "$input" = "$T/bad.jsonl" ] &&
      check "$tag $input: counts the rejected records" err_has "3 records read, 3 rejected"
    [ "$input" = pipe ] &&
      check "$tag $input: hints at a failed producer" err_has "did the command writing to the pipe fail"
  done

  echo "# $tag: --strict on a missing INDEX leaves nothing either"
  rm -rf "$T/strict-$cmd"
  ks "$cmd" $(target "$T/strict-$cmd") "${opts[@]}" --strict "$T/bad.jsonl"
  expect_rc 1 "$tag --strict, only bad records"
  check "$tag --strict: INDEX not created" test ! -e "$T/strict-$cmd"
  # issue 13, defect 5: no "previous index unchanged" when there was none
  check "$tag --strict: says no index was created" err_has "no index was created"
  check "$tag --strict: no claim about a previous index" bash -c "! grep -q unchanged \"$T/err\""

  echo "# $tag: an empty directory stays empty"
  rm -rf "$T/emptydir-$cmd" && mkdir "$T/emptydir-$cmd"
  ks "$cmd" $(target "$T/emptydir-$cmd") "${opts[@]}" /dev/null
  refused "$tag /dev/null, empty directory"
  check "$tag: the directory is still there and empty" \
    test -d "$T/emptydir-$cmd" -a -z "$(ls -A "$T/emptydir-$cmd")"

  echo "# $tag: an existing index is unchanged, byte for byte"
  rm -rf "$good"
  if [ "$cmd" = index ]; then ks index -o "$good" "${opts[@]}" "$CORPUS"
  else ks add "$good" "${opts[@]}" "$CORPUS"; fi
  expect_rc 0 "$tag: build a good index"
  listing "$good" >"$T/before"
  n=0
  for input in /dev/null "$T/empty.jsonl" stdin "$T/bad.jsonl" pipe; do
    n=$((n + 1))
    case $input in
      stdin) "$KOSEARCH" "$cmd" $(target "$good") "${opts[@]}" - </dev/null >"$T/out" 2>"$T/err"; RC=$? ;;
      pipe) bash -c 'zcat "$1/missing.gz" | "$2" "$3" $4 "${@:5}" -' _ "$T" "$KOSEARCH" "$cmd" \
              "$(target "$good")" "${opts[@]}" >"$T/out" 2>"$T/err"; RC=$? ;;
      *) ks "$cmd" $(target "$good") "${opts[@]}" "$input" ;;
    esac
    refused "$tag $input, existing index"
    check "$tag $input: message says 'unchanged'" err_has "unchanged"
    listing "$good" >"$T/after"
    if cmp -s "$T/before" "$T/after"; then pass "$tag $input: index files unchanged"
    else fail "$tag $input: index files changed"; diff "$T/before" "$T/after" | head -10; fi
  done
  ks stats "$good" --json
  check "$tag: the index still has its 2 documents" json_is '.documents == 2'
  ks search "$good" --json 대통령
  check "$tag: and finds them" test "$(hit_count)" = 2
}

empty_runs index
empty_runs add

echo "# index --allow-empty writes an empty index deliberately"
rm -rf "$T/allowed"
ks index -o "$T/allowed" --allow-empty /dev/null
expect_rc 0 "index --allow-empty /dev/null"
expect_summary "documents indexed" 0
expect_summary "documents live" 0
ks stats "$T/allowed"
expect_rc 0 "stats of the empty index"
check "stats says 0 documents" grep -Eq '^documents +0$' "$T/out"
ks search "$T/allowed" --json 대통령
check "search of the empty index: exit 0, no hit" no_hits
ks check "$T/allowed"
expect_rc 0 "check of the empty index"

echo "# index --allow-empty replaces a good index with an empty one"
ks index -o "$T/replaced" "$CORPUS"
ks index -o "$T/replaced" --allow-empty "$T/bad.jsonl"
expect_rc 0 "index --allow-empty, only bad records"
expect_summary "documents skipped" 3
ks stats "$T/replaced"
check "the replaced index has 0 documents" grep -Eq '^documents +0$' "$T/out"

echo "# add --allow-empty on a missing INDEX creates an empty index"
rm -rf "$T/allowed-add"
ks add "$T/allowed-add" --allow-empty - </dev/null
expect_rc 0 "add --allow-empty, empty stdin"
expect_summary "documents added" 0
ks stats "$T/allowed-add"
check "stats says 0 documents" grep -Eq '^documents +0$' "$T/out"

echo "# a document that is accepted is enough"
{ cat "$T/bad.jsonl"; printf '%s\n' '{"id":"ok","text":"사과"}'; } >"$T/one.jsonl"
rm -rf "$T/one"
ks index -o "$T/one" "$T/one.jsonl"
expect_rc 0 "3 bad records + 1 good one"
expect_summary "documents indexed" 1

if has_xapian; then
  empty_runs index --backend xapian
  empty_runs add --backend xapian
  echo "# xapian: index --allow-empty"
  rm -rf "$T/allowed-x"
  ks index --backend xapian -o "$T/allowed-x" --allow-empty /dev/null
  expect_rc 0 "index --backend xapian --allow-empty /dev/null"
  ks search "$T/allowed-x" --json 대통령
  check "search of the empty Xapian index: exit 0, no hit" no_hits
else
  echo "# (built without Xapian: the Xapian cases are left out)"
fi

finish
