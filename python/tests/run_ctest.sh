#!/usr/bin/env bash
# run_ctest.sh FILE [PYTEST ARGS...] - run one test file of the Python
# package for CTest (tests/CMakeLists.txt registers every
# python/tests/test_*.py through it).
#
# Environment: KS_PYTHON (the interpreter; default /usr/bin/python3),
# KS_PY_PRELOAD (a sanitizer runtime to preload into Python, set in
# KS_SANITIZE builds), and what conftest.py reads (KOSEARCH_LIBRARY,
# KOSEARCH, KS_PY_ABI_DUMP, KS_DATA_DIR...).
# Exit: pytest's status; 77 (CTest "skipped") when the interpreter cannot
# import cffi and pytest, or when every test of the file skipped itself
# (conftest.py, e.g. ../shared/data is absent). The reason is printed.
py="${KS_PYTHON:-/usr/bin/python3}"
if ! "$py" -c 'import cffi, pytest' 2>/dev/null; then
  echo "skipped: $py cannot import cffi and pytest (Debian 12: apt-get install" \
       "python3-cffi python3-pytest; or configure with -DKS_PYTHON=/path/to/python3)"
  exit 77
fi
export KS_PYTEST_SKIP_RC=77
if [ -n "${KS_PY_PRELOAD:-}" ]; then
  export LD_PRELOAD="$KS_PY_PRELOAD${LD_PRELOAD:+:$LD_PRELOAD}"
fi
exec "$py" -m pytest -q -rs -p no:cacheprovider "$@"
