#!/usr/bin/env bash
# test_golden_index.sh - the golden index of format version 2
# (tests/golden/index-v2, docs/format/README.md "Versioning policy"):
# written once by the version-2 writer (`kosearch index` of 10 documents,
# `add` of 2 - one replacing a3 -, `delete a2`: two segments, a deletion
# file, kept MANIFEST copy) and never regenerated. Every later version must
# read it - `check` passes, the searches, `get` and `stats --json` print
# exactly what tests/golden/index-v2.expected holds - or refuse it with a
# clear version error (then this test must be changed into that
# expectation: a format change is a decision, never an accident).
# The index is copied first: readers write lease files into an index.
source "$(dirname "$0")/cli_lib.sh"

SRC="$KS_SOURCE_DIR/tests/golden/index-v2"
IDX="$T/index-v2"
cp -r "$SRC" "$IDX"

ks check "$IDX"
expect_rc 0 "check the version-2 golden index"

# the outputs, in the order of tests/golden/index-v2.expected
{
  while IFS= read -r q; do
    echo "## search $q"
    "$KOSEARCH" search "$IDX" --json -k 20 -- "$q" | jq -c 'del(.took_ms)'
    echo "## search --algorithm exhaustive $q"
    "$KOSEARCH" search "$IDX" --json -k 20 --algorithm exhaustive -- "$q" | jq -c 'del(.took_ms)'
  done <"$KS_SOURCE_DIR/tests/golden/index-v2.queries"
  echo "## get a1 a3 'a/5 x' b1"
  "$KOSEARCH" get "$IDX" a1 a3 'a/5 x' b1
  echo "## get a2 (deleted)"
  "$KOSEARCH" get "$IDX" a2 2>&1 | sed "s|$IDX|INDEX|g"
  echo "## stats --json"
  "$KOSEARCH" stats "$IDX" --json | jq -c 'del(.index)'
} >"$T/actual" 2>&1
if [ "${KS_GOLDEN_UPDATE:-0}" = 1 ]; then
  cp "$T/actual" "$KS_SOURCE_DIR/tests/golden/index-v2.expected"
  echo "wrote tests/golden/index-v2.expected"
fi
if diff -u "$KS_SOURCE_DIR/tests/golden/index-v2.expected" "$T/actual" >"$T/diff"; then
  pass "searches, get and stats print exactly the expected output"
else
  fail "output differs from tests/golden/index-v2.expected"
  head -60 "$T/diff"
fi
check "the golden index in the source tree is untouched (no lease or lock files)" \
  test -z "$(ls "$SRC" | grep -E '^(LEASE|LOCK)')"
finish
