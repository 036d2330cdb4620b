#!/usr/bin/env bash
# test_cli_backends.sh - what `kosearch` says about the Xapian backend,
# in both build configurations. With Xapian: --version lists it and every
# command detects a Xapian index. Built without it (-DKS_WITH_XAPIAN=OFF,
# CI's third configuration): --version lists only "native", and building,
# searching, --shard, get, stats, check, add, delete and merge of a Xapian
# index fail with exit 1 and "built without Xapian", while native indexes
# work as always.
source "$(dirname "$0")/cli_lib.sh"

ks --version
expect_rc 0 "--version"
check "--version lists the native backend" out_has "^backends: native"
cp "$T/out" "$T/version"

ks index --quiet -o "$T/n" "$KS_SOURCE_DIR/corpus"
expect_rc 0 "native index"
ks search "$T/n" --json 대통령
expect_rc 0 "native search"
check "native search finds both seed articles" json_is '.hits | length == 2'

# A directory with Xapian's marker file: a Xapian database to the detector.
mkdir -p "$T/fake.xap"
touch "$T/fake.xap/iamglass"

if has_xapian; then
  check "--version lists xapian" grep -q "^backends: native xapian" "$T/version"
  ks index --quiet --backend xapian -o "$T/x" "$KS_SOURCE_DIR/corpus"
  expect_rc 0 "xapian index"
  ks search "$T/x" --json 대통령
  expect_rc 0 "xapian search"
  check "xapian search finds both seed articles" json_is '.hits | length == 2'
  ks search "$T/fake.xap" 대통령
  expect_rc 1 "a broken Xapian database is an error"
  check "the error comes from Xapian, not 'built without'" bash -c "! grep -q 'built without' '$T/err'"
else
  check "--version lists no xapian" bash -c "! grep -q xapian '$T/version'"
  ks index --quiet --backend xapian -o "$T/x" "$KS_SOURCE_DIR/corpus"
  expect_rc 1 "index --backend xapian without Xapian"
  check "index: built without Xapian" err_has "built without Xapian"
  check "nothing was created" test ! -e "$T/x"
  ks add "$T/x" --quiet --backend xapian "$KS_SOURCE_DIR/corpus"
  expect_rc 1 "add --backend xapian without Xapian"
  check "add: built without Xapian" err_has "built without Xapian"
  check "nothing was created" test ! -e "$T/x"
  for c in search get stats check add delete merge; do
    case $c in
      search) ks search "$T/fake.xap" 대통령 ;;
      get | delete) ks "$c" "$T/fake.xap" some-id ;;
      add) ks add "$T/fake.xap" "$KS_SOURCE_DIR/corpus" ;;
      *) ks "$c" "$T/fake.xap" ;;
    esac
    expect_rc 1 "$c of a Xapian index without Xapian"
    check "$c: built without Xapian" err_has "built without Xapian"
  done
  ks search --shard "$T/fake.xap" 대통령
  expect_rc 1 "--shard without Xapian"
  check "--shard: built without Xapian" err_has "built without Xapian"
fi
finish
