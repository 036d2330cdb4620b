"""test_api.py - the cffi declarations match the C headers (struct sizes,
field offsets, constants, as the compiler lays them out: tests/py_abi_dump
prints them), the library is the one asked for, and the package exports
what docs/python.md lists."""
import os
import subprocess

import kosearch
from kosearch._lib import ffi, lib


def test_struct_layout_matches_headers():
    out = subprocess.run([os.environ["KS_PY_ABI_DUMP"]], capture_output=True, text=True,
                         check=True).stdout
    checked = 0
    for line in out.splitlines():
        a, b, value = line.split()
        if a == "const":
            assert getattr(lib, b) == int(value), b
        elif b == "sizeof":
            assert ffi.sizeof(a) == int(value), a
        else:
            assert ffi.offsetof(a, b) == int(value), (a, b)
        checked += 1
    assert checked > 80


def test_library_and_version():
    want = os.environ.get("KOSEARCH_LIBRARY")
    if want:
        assert kosearch.LIBRARY == os.path.abspath(want)
    assert kosearch.version() == kosearch.__version__
    assert kosearch.version().count(".") == 2
    assert kosearch.MAX_HITS == 1000000


def test_exports():
    for name in kosearch.__all__:
        assert hasattr(kosearch, name), name
    assert set(kosearch.__all__) >= {"Index", "Writer", "analyze", "Error", "NotFound",
                                     "Locked", "Corrupt", "SearchResults", "Hit"}
