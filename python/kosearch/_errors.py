"""_errors.py - one exception class per kosearch error code
(include/kosearch/error.h), and the helper that raises them.

Every class derives from kosearch.Error, which carries the code (`code`,
an int such as -11 for KS_ELOCKED, and `name`, "KS_ELOCKED") and the
library's one-line message tagged "[component][operation]" (`message`,
also str(e)). Where a built-in exception means the same thing the class
derives from it too, so generic handlers keep working: NoMemory is a
MemoryError, IOError an OSError, NotFound a LookupError, and the
argument and input errors are ValueErrors.

Errors raised by the package itself, before any C call (a negative k, an
unknown algorithm name, a closed Index), use the same classes with the
code they would have in C (KS_EINVAL) and a "[py][operation]" tag.
"""
from ._lib import ffi, lib


class Error(Exception):
    """A kosearch error: `code` (the ks_error value), `name` ("KS_EIO"...)
    and `message` (the library's detail, "[component][operation] ...")."""

    code = None
    name = None

    def __init__(self, message, code=None):
        if code is not None:
            self.code = code
        self.name = _NAMES.get(self.code, "KS_%s" % self.code)
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (type(self), (self.message, self.code))


class NotFound(Error, LookupError):
    """KS_NOTFOUND: no such index directory, or no such document."""
    code = lib.KS_NOTFOUND


class NoMemory(Error, MemoryError):
    """KS_ENOMEM: out of memory."""
    code = lib.KS_ENOMEM


class IOError(Error, OSError):  # noqa: A001 (kosearch.IOError, on purpose)
    """KS_EIO: a read, write, open, fsync or rename failed."""
    code = lib.KS_EIO


class Corrupt(Error):
    """KS_ECORRUPT: on-disk data fails a check (magic, CRC, bounds)."""
    code = lib.KS_ECORRUPT


class InvalidArgument(Error, ValueError):
    """KS_EINVAL: an invalid argument or option."""
    code = lib.KS_EINVAL


class UnsupportedVersion(Error):
    """KS_EVERSION: a file (or library) of an unsupported version."""
    code = lib.KS_EVERSION


class InvalidUTF8(Error, ValueError):
    """KS_EUTF8: text that is not valid UTF-8."""
    code = lib.KS_EUTF8


class InvalidInput(Error, ValueError):
    """KS_EINPUT: a document the writer refuses (empty text, bad id...)."""
    code = lib.KS_EINPUT


class QueryError(Error, ValueError):
    """KS_EQUERY: malformed query syntax (an empty clause such as "+")."""
    code = lib.KS_EQUERY


class LimitExceeded(Error):
    """KS_ELIMIT: a size limit was exceeded (a huge document...)."""
    code = lib.KS_ELIMIT


class ICUError(Error):
    """KS_EICU: ICU reported an error."""
    code = lib.KS_EICU


class Locked(Error):
    """KS_ELOCKED: another writer holds the index."""
    code = lib.KS_ELOCKED


class XapianError(Error):
    """KS_EXAPIAN: the Xapian backend reported an error."""
    code = lib.KS_EXAPIAN


class Unsupported(Error):
    """KS_EUNSUPPORTED: not supported by this backend or build."""
    code = lib.KS_EUNSUPPORTED


_CLASSES = {c.code: c for c in (NotFound, NoMemory, IOError, Corrupt, InvalidArgument,
                                UnsupportedVersion, InvalidUTF8, InvalidInput, QueryError,
                                LimitExceeded, ICUError, Locked, XapianError, Unsupported)}
_NAMES = {lib.KS_NOTFOUND: "KS_NOTFOUND", lib.KS_ENOMEM: "KS_ENOMEM", lib.KS_EIO: "KS_EIO",
          lib.KS_ECORRUPT: "KS_ECORRUPT", lib.KS_EINVAL: "KS_EINVAL",
          lib.KS_EVERSION: "KS_EVERSION", lib.KS_EUTF8: "KS_EUTF8",
          lib.KS_EINPUT: "KS_EINPUT", lib.KS_EQUERY: "KS_EQUERY", lib.KS_ELIMIT: "KS_ELIMIT",
          lib.KS_EICU: "KS_EICU", lib.KS_ELOCKED: "KS_ELOCKED", lib.KS_EXAPIAN: "KS_EXAPIAN",
          lib.KS_EUNSUPPORTED: "KS_EUNSUPPORTED"}


def strerror(code):
    """ks_strerror: the library's static description of a code."""
    return ffi.string(lib.ks_strerror(code)).decode("utf-8", "replace")


def error_for(code, err=None):
    """The exception for return code `code`, with the message of the ks_err
    cdata `err` (or ks_strerror(code) when it has none)."""
    msg = ""
    if err is not None:
        msg = ffi.string(err.msg).decode("utf-8", "replace")
    if not msg:
        msg = strerror(code)
    return _CLASSES.get(code, Error)(msg, code)


def check(code, err):
    """Raise the exception for `code` unless it is KS_OK."""
    if code != lib.KS_OK:
        raise error_for(code, err)


def invalid(operation, message):
    """An InvalidArgument raised by the package itself."""
    return InvalidArgument("[py][%s] %s" % (operation, message), lib.KS_EINVAL)
