#!/usr/bin/env bash
# CTest "fuzz" label: builds the libFuzzer targets in a clang tree of their
# own (clang-14, ASan + UBSan + libFuzzer, checksums bypassed: KS_FUZZING)
# under the build tree, runs each target for 2 seconds on its seeds and
# replays every input of tests/fuzz/regressions/, so that a target that no
# longer builds or crashes fails the suite (scripts/fuzz.sh --smoke).
# Skips (77) only when clang-14 or libFuzzer is missing.
set -euo pipefail
cd "${KS_SOURCE_DIR:-$(dirname "$0")/../..}"
build=${KS_BUILD_DIR:-build}
export KS_FUZZ_BUILD_DIR=${KS_FUZZ_BUILD_DIR:-$build/fuzz-tree}
export KS_FUZZ_TMP=${KS_TMP:-}
rc=0
scripts/fuzz.sh --smoke 2 || rc=$?
if [ "$rc" = 77 ]; then
  echo "SKIP: clang-14 with libFuzzer is not installed (packages clang-14, libfuzzer-14-dev)"
fi
exit "$rc"
