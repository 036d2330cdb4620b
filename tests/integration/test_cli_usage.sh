#!/usr/bin/env bash
# test_cli_usage.sh - command-line handling: help and version (exit 0),
# unknown commands and options and missing arguments (exit 2, message on
# stderr), errors such as a missing index (exit 1, "kosearch: error: ...").
source "$(dirname "$0")/cli_lib.sh"

echo "# help and version"
ks --help
expect_rc 0 "kosearch --help"
check "--help lists the commands" bash -c "grep -q '^  index ' '$T/out' && grep -q '^  search ' '$T/out' && grep -q '^  get ' '$T/out' && grep -q '^  stats ' '$T/out' && grep -q '^  check ' '$T/out' && grep -q '^  add ' '$T/out' && grep -q '^  delete ' '$T/out' && grep -q '^  merge ' '$T/out'"
ks --version
expect_rc 0 "kosearch --version"
check "--version prints a version" grep -qE '^kosearch [0-9]+\.[0-9]+\.[0-9]+' "$T/out"
check "--version lists the backends, native first" grep -qE '^backends: native( xapian)?$' "$T/out"
for c in index add delete merge search get stats check eval bench analyze; do
  ks help "$c"
  check "kosearch help $c" bash -c "[ $RC -eq 0 ] && grep -q '^Usage: kosearch $c' '$T/out'"
  ks "$c" --help
  check "kosearch $c --help" bash -c "[ $RC -eq 0 ] && grep -q '^Usage: kosearch $c' '$T/out'"
done

echo "# usage errors exit with 2"
ks
expect_rc 2 "no command"
ks frobnicate
expect_rc 2 "unknown command"
check "unknown command is named" err_has "unknown command 'frobnicate'"
ks --bogus
expect_rc 2 "unknown global option"
ks help nosuch
expect_rc 2 "help on an unknown command"
ks index --bogus -o "$T/x.idx" "$KS_SOURCE_DIR/corpus"
expect_rc 2 "index: unknown option"
check "unknown option is named" err_has "unknown option '--bogus'"
check "no index created on a usage error" test ! -e "$T/x.idx"
ks index "$KS_SOURCE_DIR/corpus"
expect_rc 2 "index without -o"
ks index -o "$T/x.idx"
expect_rc 2 "index without input"
ks index -o "$T/x.idx" --mem-budget lots "$KS_SOURCE_DIR/corpus"
expect_rc 2 "index: --mem-budget not a number"
ks index -o "$T/x.idx" --max-doc-mb 0 "$KS_SOURCE_DIR/corpus"
expect_rc 2 "index: --max-doc-mb 0"
ks search
expect_rc 2 "search without INDEX"
ks search "$T/none.idx"
expect_rc 2 "search without QUERY"
ks search "$T/none.idx" --bogus 대통령
expect_rc 2 "search: unknown option"
ks search "$T/none.idx" -k many 대통령
expect_rc 2 "search: -k not a number"
ks search "$T/none.idx" --b 2 대통령
expect_rc 2 "search: --b out of range"
ks search "$T/none.idx" --run "$T/r.trec"
expect_rc 2 "search: --run without --queries"
ks stats
expect_rc 2 "stats without INDEX"
ks stats "$T/none.idx" --bogus
expect_rc 2 "stats: unknown option"
ks check "$T/a" "$T/b"
expect_rc 2 "check with two indexes"

echo "# errors exit with 1"
ks search "$T/none.idx" 대통령
expect_rc 1 "search a missing index"
check "error message has the kosearch: error: prefix" grep -q '^kosearch: error: ' "$T/err"
ks stats "$T/none.idx"
expect_rc 1 "stats on a missing index"
ks check "$T/none.idx"
expect_rc 1 "check on a missing index"
mkdir -p "$T/notindex"
printf 'hello\n' >"$T/notindex/file"
ks index -o "$T/notindex" "$KS_SOURCE_DIR/corpus"
expect_rc 1 "index into a non-empty directory that is not an index"
check "that directory is untouched" test "$(ls "$T/notindex")" = file

echo "# query words that start with - are excluded terms, not options"
ks index -o "$T/c.idx" --quiet "$KS_SOURCE_DIR/corpus"
expect_rc 0 "index --quiet"
check "--quiet prints no summary" test ! -s "$T/out"
ks search "$T/c.idx" --json 대통령 -보스턴
expect_rc 0 "search 대통령 -보스턴"
ks search "$T/c.idx" --json -- 대통령 -k
expect_rc 0 "after --, -k is a query word"

finish
