#!/usr/bin/env bash
# Runs the whole test suite: installs the dependencies (Debian 12), builds,
# and runs every CTest test.
#
#   ./scripts/test.sh                       build in ./build, run ctest
#   ./scripts/test.sh -DKS_SANITIZE=ON      ASan+UBSan build in ./build-asan
#
# Extra arguments go to cmake's configure step. A sanitizer build uses its
# own directory (build-asan) so it never mixes objects with ./build;
# KS_BUILD_DIR=dir overrides the directory.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

build_dir=build
for arg in "$@"; do
  case "$arg" in
    -DKS_SANITIZE=ON|-DKS_SANITIZE=1|-DKS_SANITIZE=TRUE|-DKS_SANITIZE:BOOL=ON) build_dir=build-asan ;;
  esac
done
build_dir=${KS_BUILD_DIR:-$build_dir}

if [ "$build_dir" = build ]; then
  ./scripts/build.sh "$@"
else
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)"
fi
ctest --test-dir "$build_dir" --output-on-failure -j2
