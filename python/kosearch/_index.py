"""_index.py - kosearch.Index: an open index (ks_db_*, kosearch/db.h) that
any number of threads may share, and its search results (ks_results_*).

Threads: a ks_db is used by one thread at a time, and ks_db_dup gives
another thread its own handle. An Index therefore keeps
  - one "template" handle, used only while the Index's lock is held (to
    dup it, reopen it, read its backend name and statistics);
  - a pool of idle handles dup'd from it. A call takes an idle handle (or
    dups a new one when every handle is busy), runs with the lock
    released, and gives the handle back. The pool grows to the number of
    threads that ever searched at once.
C calls release the GIL (cffi does so for every ABI-mode call), so
searches in several threads run in parallel.

Snapshots: the handles of one generation show the template's snapshot
(native; ks_db_dup of a Xapian handle opens the database again, at its
latest commit). reopen() replaces the template by ks_db_reopen's new
handle and starts a new generation: idle handles of the old one are
closed at once, busy ones when their call returns, so a search that was
running when reopen() was called finishes on its old snapshot.

Ownership: every handle is a cffi object with a destructor (ffi.gc), so
an Index that is never closed frees its handles when it is collected;
close() frees them at once (ffi.release). Results own plain Python
objects only: ids, titles, snippets and stored documents are copied out
before ks_results_free, which runs before the handle goes back to the
pool.
"""
import json
import os
import threading
from typing import NamedTuple, Optional

from ._errors import check, error_for, invalid
from ._lib import ffi, lib

ALGORITHMS = {"maxscore": lib.KS_ALGO_MAXSCORE, "bmw": lib.KS_ALGO_BMW,
              "exhaustive": lib.KS_ALGO_EXHAUSTIVE}
RANKINGS = {"bm25": lib.KS_RANK_BM25, "bm25-xapian": lib.KS_RANK_BM25_XAPIAN}
DEFAULT_MARKS = ("\u00ab", "\u00bb")  # « », as `kosearch search --json`
DEFAULT_SNIPPET_CHARS = 160           # as `kosearch search`
_U32 = 0xFFFFFFFF


class Hit(NamedTuple):
    """One hit: its rank in the whole ranking (offset + 1, ...), the
    document's id and BM25 score, the stored "title" ("" when none), a
    snippet of its text with matched words between the marks ("" when
    snippet_chars=0) and the whole stored document as a dict (None when
    the search was run with documents=False; title is then None too)."""
    rank: int
    id: str
    score: float
    title: Optional[str]
    snippet: str
    document: Optional[dict]


class SearchResults(list):
    """The hits of one search (a list of Hit, best first), with
    `matches` (documents that matched the query), `matches_exact` (False
    when `matches` is a lower bound: a pruning algorithm skipped documents
    it proved could not enter the top k), `query`, `k` and `offset`."""

    def __init__(self, hits, query, k, offset, matches, matches_exact):
        super().__init__(hits)
        self.query = query
        self.k = k
        self.offset = offset
        self.matches = matches
        self.matches_exact = matches_exact

    def __repr__(self):
        return "SearchResults(query=%r, matches=%s%d, hits=%s)" % (
            self.query, "" if self.matches_exact else ">=", self.matches, list.__repr__(self))


def _u32(operation, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U32:
        raise invalid(operation, "%s must be a non-negative integer (got %r)" % (name, value))
    return value


def _utf8(value, what):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))


def _path(path):
    return os.fsencode(path)


class _Pool:
    """The template handle and the idle handles of an Index (see the top
    of the file). Every method takes the lock."""

    def __init__(self, template):
        self.lock = threading.Lock()
        self.template = template
        self.generation = 0
        self.idle = []          # handles of the current generation
        self.closed = False

    def _check_open(self, operation):
        if self.closed:
            raise invalid(operation, "the index is closed")

    def acquire(self, operation):
        """(generation, handle) for one call by this thread."""
        with self.lock:
            self._check_open(operation)
            if self.idle:
                return self.generation, self.idle.pop()
            out = ffi.new("ks_db **")
            err = ffi.new("ks_err *")
            check(lib.ks_db_dup(self.template, out, err), err)
            return self.generation, ffi.gc(out[0], lib.ks_db_close)

    def release(self, generation, handle):
        with self.lock:
            if self.closed or generation != self.generation:
                ffi.release(handle)
            else:
                self.idle.append(handle)

    def reopen(self):
        with self.lock:
            self._check_open("reopen")
            out = ffi.new("ks_db **")
            err = ffi.new("ks_err *")
            check(lib.ks_db_reopen(self.template, out, err), err)
            if out[0] == ffi.NULL:
                return False
            ffi.release(self.template)
            self.template = ffi.gc(out[0], lib.ks_db_close)
            self.generation += 1
            for h in self.idle:
                ffi.release(h)
            self.idle = []
            return True

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
            for h in self.idle:
                ffi.release(h)
            self.idle = []
            ffi.release(self.template)
            self.template = None


class Index:
    """An open index (native or Xapian, detected from disk), shared by any
    number of threads.

        with kosearch.Index("my.idx") as idx:
            for hit in idx.search("대통령 +\\"첨단 산업\\"", k=5):
                print(hit.rank, hit.id, hit.score, hit.snippet)

    `path` is a directory (str or os.PathLike), or a list of Xapian shard
    specs (database paths or "tcp://HOST:PORT") searched as one index
    (ks_db_open_shards). Raises NotFound (no such directory, or not an
    index), Unsupported (a Xapian index, but libkosearch-xapian was not
    loaded), Corrupt, UnsupportedVersion, IOError...
    """

    def __init__(self, path):
        out = ffi.new("ks_db **")
        err = ffi.new("ks_err *")
        if isinstance(path, (list, tuple)):
            keep = [ffi.new("char[]", _path(p)) for p in path]
            specs = ffi.new("const char *[]", keep)
            rc = lib.ks_db_open_shards(specs, len(keep), out, err)
            self.path = list(path)
        else:
            rc = lib.ks_db_open(_path(path), out, err)
            self.path = path
        check(rc, err)
        db = ffi.gc(out[0], lib.ks_db_close)
        self.backend = ffi.string(lib.ks_db_backend(db)).decode()
        self._pool = _Pool(db)

    # ---- lifetime -------------------------------------------------------
    def close(self):
        """Close the index. Calls running in other threads finish first on
        their own handles; later calls raise InvalidArgument. Idempotent."""
        self._pool.close()

    @property
    def closed(self):
        return self._pool.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "<kosearch.Index %r (%s)%s>" % (self.path, self.backend,
                                                " closed" if self.closed else "")

    def reopen(self):
        """Move to the index's latest commit (ks_db_reopen): True if there
        was a newer commit, False if the Index already showed the latest.
        Searches running meanwhile finish on the snapshot they started on."""
        return self._pool.reopen()

    def _call(self, operation, fn, *args):
        generation, db = self._pool.acquire(operation)
        try:
            return fn(db, *args)
        finally:
            self._pool.release(generation, db)

    # ---- searching ------------------------------------------------------
    def search(self, query, k=10, offset=0, *, k1=None, b=None, bigram_weight=None,
               algorithm=None, ranking=None, min_normlen=None, xapian_pruning=False,
               snippet_chars=DEFAULT_SNIPPET_CHARS, marks=DEFAULT_MARKS, documents=True):
        """Run `query` (the query language of docs/query.md: words,
        "phrases", +required, -excluded; str, or UTF-8 bytes) and return
        the hits ranked offset + 1 ... offset + k as SearchResults.

        Options as `kosearch search`: k1, b, bigram_weight (floats; None:
        the library's defaults), algorithm ("maxscore", the default, "bmw"
        or "exhaustive": same hits, only exhaustive always counts every
        match), ranking ("bm25" or "bm25-xapian"; None: the backend's
        own), min_normlen, xapian_pruning. snippet_chars: snippet length
        in characters (0: no snippet, ""); marks: the strings put around
        matched words. documents=False skips reading stored documents
        (Hit.title and Hit.document are None): faster when only ids and
        scores are wanted.

        Raises QueryError (malformed query), InvalidArgument (bad options,
        k + offset > 1,000,000, a ranking the backend does not have)."""
        op = "search"
        qbytes = _utf8(query, "query")
        opts = ffi.new("ks_search_opts *")
        lib.ks_search_opts_default(opts)
        opts.k = _u32(op, "k", k)
        opts.offset = _u32(op, "offset", offset)
        for name, value in (("k1", k1), ("b", b), ("bigram_weight", bigram_weight),
                            ("min_normlen", min_normlen)):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise invalid(op, "%s must be a number (got %r)" % (name, value))
                setattr(opts, name, float(value))
        if algorithm is not None:
            if algorithm not in ALGORITHMS:
                raise invalid(op, "unknown algorithm %r (known: %s)"
                              % (algorithm, ", ".join(ALGORITHMS)))
            opts.algorithm = ALGORITHMS[algorithm]
        if ranking is not None:
            if ranking not in RANKINGS:
                raise invalid(op, "unknown ranking %r (known: %s)"
                              % (ranking, ", ".join(RANKINGS)))
            opts.ranking = RANKINGS[ranking]
        opts.xapian_pruning = 1 if xapian_pruning else 0
        snippet_chars = _u32(op, "snippet_chars", snippet_chars)
        if len(marks) != 2:
            raise invalid(op, "marks must be a pair (open, close)")
        mark_open = ffi.new("char[]", _utf8(marks[0], "marks[0]"))
        mark_close = ffi.new("char[]", _utf8(marks[1], "marks[1]"))
        hits, matches, exact = self._call(op, _run_search, qbytes, opts, snippet_chars,
                                          mark_open, mark_close, documents)
        return SearchResults(hits, query, k, offset, matches, exact)

    def get(self, id):
        """The stored document with this id as a dict (at least "id" and
        "text", plus the fields it was indexed with), or None when there
        is no live document with this id (like dict.get)."""
        return self._call("get", _run_get, _utf8(id, "id"))

    def stats(self):
        """ks_db_get_stats as a dict, keys as the fields of ks_db_stats
        (kosearch/db.h): backend, docs, deleted, terms, terms_word,
        terms_bigram, postings, field_total ([word, bigram]),
        total_length, avg_length, segments, shards, generation,
        bytes_tid ... bytes_manifest, bytes_total. A field the backend
        cannot tell is 0."""
        return self._call("stats", _run_stats)


def _run_search(db, qbytes, opts, snippet_chars, mark_open, mark_close, documents):
    out = ffi.new("ks_results **")
    err = ffi.new("ks_err *")
    check(lib.ks_db_search(db, qbytes, len(qbytes), opts, out, err), err)
    r = out[0]
    try:
        hits = []
        h = ffi.new("ks_hit *")
        js = ffi.new("char **")
        jlen = ffi.new("size_t *")
        for i in range(lib.ks_results_count(r)):
            check(lib.ks_results_hit(r, i, h), None)
            hid = ffi.unpack(h.id, h.id_len).decode("utf-8")
            doc = title = None
            if documents:
                check(lib.ks_results_json(r, i, js, jlen, err), err)
                try:
                    doc = json.loads(ffi.unpack(js[0], jlen[0]).decode("utf-8"))
                finally:
                    lib.ks_mem_free(js[0])
                t = doc.get("title") if isinstance(doc, dict) else None
                title = t if isinstance(t, str) else ""
            snippet = ""
            if snippet_chars:
                check(lib.ks_results_snippet(r, i, snippet_chars, mark_open, mark_close,
                                             js, err), err)
                try:
                    snippet = ffi.string(js[0]).decode("utf-8")
                finally:
                    lib.ks_mem_free(js[0])
            hits.append(Hit(int(h.rank), hid, float(h.score), title, snippet, doc))
        return hits, int(lib.ks_results_matches(r)), bool(lib.ks_results_matches_exact(r))
    finally:
        lib.ks_results_free(r)


def _run_get(db, idbytes):
    js = ffi.new("char **")
    jlen = ffi.new("size_t *")
    err = ffi.new("ks_err *")
    rc = lib.ks_db_get(db, idbytes, len(idbytes), js, jlen, err)
    if rc == lib.KS_NOTFOUND:
        return None
    check(rc, err)
    try:
        return json.loads(ffi.unpack(js[0], jlen[0]).decode("utf-8"))
    finally:
        lib.ks_mem_free(js[0])


_STATS_FIELDS = ("docs", "deleted", "terms", "terms_word", "terms_bigram", "postings",
                 "total_length", "avg_length", "segments", "shards", "generation",
                 "bytes_tid", "bytes_doc", "bytes_pos", "bytes_len", "bytes_sto",
                 "bytes_del", "bytes_manifest", "bytes_total")


def _run_stats(db):
    st = ffi.new("ks_db_stats *")
    err = ffi.new("ks_err *")
    check(lib.ks_db_get_stats(db, st, err), err)
    d = {"backend": ffi.string(st.backend).decode() if st.backend != ffi.NULL else None}
    for f in _STATS_FIELDS:
        d[f] = getattr(st, f)
    d["field_total"] = [st.field_total[0], st.field_total[1]]
    return d


@ffi.callback("void(void *, const char *)")
def _check_report(ctx, line):
    ffi.from_handle(ctx).append(ffi.string(line).decode("utf-8", "replace"))


def check_index(path):
    """Verify the whole index at `path` (ks_db_check: every checksum,
    dictionary entry, postings list, position, length and stored
    document; Xapian: Xapian's own check). Returns the report lines when
    the index is sound; raises the first problem's exception (Corrupt,
    IOError, NotFound...) otherwise, with the report lines so far in its
    `report` attribute."""
    lines = []
    handle = ffi.new_handle(lines)
    err = ffi.new("ks_err *")
    rc = lib.ks_db_check(_path(path), _check_report, handle, err)
    if rc != lib.KS_OK:
        e = error_for(rc, err)
        e.report = lines
        raise e
    return lines
