"""kosearch - full-text search for Korean text: Python package over the C
library libkosearch (cffi, ABI mode: nothing to compile).

    import kosearch
    with kosearch.Writer("my.idx") as w:              # commits on success
        w.add("a1", "서울은 대한민국의 수도이다.", title="서울", url="https://...")
    with kosearch.Index("my.idx") as idx:
        for hit in idx.search("대한민국 수도", k=5):
            print(hit.rank, hit.id, round(hit.score, 4), hit.snippet)
        idx.get("a1")                                   # {"id": "a1", ...} or None
    kosearch.analyze("대통령은 첨단산업 클러스터를 방문했다")

The classes are thin: an Index is a pool of ks_db handles (threads may
share it), a Writer is a ks_writer, every ks_error code is an exception
class under kosearch.Error. Reference: docs/python.md.
"""
from ._lib import LIBRARY, XAPIAN_ERROR, ffi as _ffi, lib as _lib, xapian_lib as _xapian_lib
from ._errors import (Corrupt, Error, ICUError, InvalidArgument, InvalidInput, InvalidUTF8,
                      IOError, LimitExceeded, Locked, NoMemory, NotFound, QueryError,
                      Unsupported, UnsupportedVersion, XapianError, strerror)
from ._index import Hit, Index, SearchResults, check_index
from ._writer import Writer
from ._analyze import Term, analyze

MAX_HITS = _lib.KS_MAX_HITS
#: True when libkosearch-xapian was loaded and registered: Xapian indexes
#: open, and Writer(backend="xapian") works. XAPIAN_ERROR says why not.
XAPIAN = _xapian_lib is not None


def version():
    """The version of the loaded libkosearch ("0.2.0"), ks_version()."""
    return _ffi.string(_lib.ks_version()).decode()


__version__ = version()

# Public classes are defined in private modules; show and pickle them by
# their public names (kosearch.QueryError, not kosearch._errors.QueryError).
for _cls in (Index, Writer, SearchResults, Hit, Term, Error, NotFound, NoMemory, IOError,
             Corrupt, InvalidArgument, UnsupportedVersion, InvalidUTF8, InvalidInput,
             QueryError, LimitExceeded, ICUError, Locked, XapianError, Unsupported):
    _cls.__module__ = __name__
del _cls

__all__ = ["Index", "Writer", "SearchResults", "Hit", "Term", "analyze", "check_index",
           "version", "strerror", "LIBRARY", "XAPIAN", "XAPIAN_ERROR", "MAX_HITS",
           "Error", "NotFound", "NoMemory", "IOError", "Corrupt", "InvalidArgument",
           "UnsupportedVersion", "InvalidUTF8", "InvalidInput", "QueryError",
           "LimitExceeded", "ICUError", "Locked", "XapianError", "Unsupported"]
