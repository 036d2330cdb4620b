#!/usr/bin/env bash
# Runs the whole test suite: installs the dependencies (Debian 12), builds,
# and runs every CTest test.
#
#   ./scripts/test.sh                       build in ./build, run ctest
#   ./scripts/test.sh -DKS_SANITIZE=ON      ASan+UBSan build in ./build-asan
#   ./scripts/test.sh -DKS_WITH_XAPIAN=OFF  build without Xapian in ./build-noxap
#
# Extra arguments go to cmake's configure step. A sanitizer build and a
# build without Xapian use their own directories (build-asan, build-noxap)
# so they never mix objects or cached options with ./build;
# KS_BUILD_DIR=dir overrides the directory. KS_CTEST_ARGS adds arguments to
# ctest (e.g. KS_CTEST_ARGS="-LE slow" leaves out the slow tests).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

build_dir=build
for arg in "$@"; do
  case "$arg" in
    -DKS_SANITIZE=ON|-DKS_SANITIZE=1|-DKS_SANITIZE=TRUE|-DKS_SANITIZE:BOOL=ON) build_dir=build-asan ;;
    -DKS_WITH_XAPIAN=OFF|-DKS_WITH_XAPIAN=0|-DKS_WITH_XAPIAN=FALSE|-DKS_WITH_XAPIAN:BOOL=OFF) build_dir=build-noxap ;;
  esac
done
build_dir=${KS_BUILD_DIR:-$build_dir}

if [ "$build_dir" = build ]; then
  ./scripts/build.sh "$@"
else
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
fi
# shellcheck disable=SC2086 # KS_CTEST_ARGS is a list of words
ctest --test-dir "$build_dir" --output-on-failure -j2 ${KS_CTEST_ARGS:-}
