# cli_lib.sh - helpers sourced by tests/integration/test_cli_*.sh (not a test
# itself: CTest only registers test_*.sh).
#
# Environment (set by tests/CMakeLists.txt): KOSEARCH (the binary),
# KS_TMP (scratch directory), KS_SOURCE_DIR (the source tree).
# Each script prints one line per check ("ok" / "FAIL") and exits 1 if any
# check failed.

set -u
: "${KOSEARCH:?KOSEARCH must name the kosearch binary}"
: "${KS_TMP:?KS_TMP must name a scratch directory}"
: "${KS_SOURCE_DIR:?KS_SOURCE_DIR must name the source tree}"
export LC_ALL=C.UTF-8

T="$KS_TMP/$(basename "$0" .sh)"
rm -rf "$T"
mkdir -p "$T"
FAILS=0
CHECKS=0

pass() { CHECKS=$((CHECKS + 1)); echo "ok   - $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: pass if the command succeeds.
check() {
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# ks ARGS...: run kosearch; stdout in $T/out, stderr in $T/err, status in RC.
ks() {
  "$KOSEARCH" "$@" >"$T/out" 2>"$T/err"
  RC=$?
  return 0
}

# Show the last command's output (after a failed check).
show() {
  echo "  --- stdout:"; sed 's/^/  | /' "$T/out" | head -40
  echo "  --- stderr:"; sed 's/^/  | /' "$T/err" | head -40
}

rc_is() { [ "$RC" -eq "$1" ]; }
out_has() { grep -q -- "$1" "$T/out"; }
err_has() { grep -q -- "$1" "$T/err"; }
out_lacks() { ! grep -q -- "$1" "$T/out"; }

# expect_rc N DESCRIPTION: check the last status, show output on failure.
expect_rc() {
  if rc_is "$1"; then pass "$2 (exit $1)"; else fail "$2 (expected exit $1, got $RC)"; show; fi
}

# summary_value KEY: the number after "KEY: " in the index summary ($T/out).
summary_value() { sed -n "s/^$1: \([0-9][0-9]*\).*/\1/p" "$T/out" | head -1; }

expect_summary() {
  local v
  v=$(summary_value "$1")
  if [ "$v" = "$2" ]; then pass "summary '$1' = $2"; else fail "summary '$1' = '$v', expected $2"; show; fi
}

# json_lines_valid FILE: every line of FILE is one JSON value.
json_lines_valid() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    json.loads(line)' "$1"
  elif command -v jq >/dev/null 2>&1; then
    jq -e . "$1" >/dev/null
  else
    echo "  (neither python3 nor jq is installed: JSON syntax not verified)"
    return 0
  fi
}

# has_xapian: the binary was built with the Xapian backend (`kosearch
# --version` lists the backends). require_xapian: skip the test otherwise.
has_xapian() { "$KOSEARCH" --version 2>/dev/null | grep -qE '^backends:.* xapian( |$)'; }
require_xapian() {
  has_xapian || { echo "skip: kosearch was built without the Xapian backend"; exit 77; }
}

# The `search --json` object in $T/out (one object: "query", "matches",
# "hits": [...], see `kosearch search --help`), read with jq:
#   hit_count   number of hits ("" if $T/out is not such an object)
#   hit_ids     the hits' ids, one per line
#   no_hits     the last search succeeded and found nothing
#   json_is EXPR  the jq expression EXPR is true for $T/out
hit_count() { jq -er '.hits | length' "$T/out" 2>/dev/null; }
hit_ids() { jq -r '.hits[].id' "$T/out" 2>/dev/null; }
no_hits() { [ "$RC" -eq 0 ] && [ "$(hit_count)" = 0 ]; }
json_is() { jq -e "$1" "$T/out" >/dev/null 2>&1; }

finish() {
  if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS of $CHECKS checks failed"
    exit 1
  fi
  echo "all $CHECKS checks passed"
  exit 0
}

[ -x "$KOSEARCH" ] || { echo "kosearch binary not found: $KOSEARCH"; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "skip: jq is not installed (scripts/install-deps.sh)"; exit 77; }
