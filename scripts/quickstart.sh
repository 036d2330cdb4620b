#!/usr/bin/env bash
# Quick start: install the dependencies (Debian 12), build kosearch into
# ./build, index the seed corpus (corpus/) into build/corpus.idx and run an
# example search. Extra arguments are passed to the example search instead
# of the default query 대통령 (e.g. ./scripts/quickstart.sh 첨단산업).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build/kosearch index -o build/corpus.idx corpus/
echo
if [ $# -gt 0 ]; then
  build/kosearch search build/corpus.idx "$@"
else
  build/kosearch search build/corpus.idx 대통령
fi
