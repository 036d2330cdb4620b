"""_writer.py - kosearch.Writer: building and updating an index
(ks_writer_*, kosearch/writer.h).

A Writer is one ks_writer handle. The C writer is for one thread at a
time; the Writer serializes its calls with a lock, so sharing one between
threads is safe (the calls simply run one after another).

Documents: add(id, text, title, **fields) passes id, title and text to
ks_writer_add; when extra fields are given, the stored form (ks_doc.json)
is json.dumps of {"id", "title", "text", **fields}, which the searcher
returns verbatim (Index.get, Hit.document). Without extra fields the
library builds the stored JSON itself.

Context manager: leaving the `with` block normally commits, then closes;
leaving it by an exception closes WITHOUT committing, so the changes made
since the last commit() are discarded and the index stays at its last
commit. Closing (or collecting) a Writer never commits.
"""
import json
import os
import threading

from ._errors import check, invalid
from ._lib import ffi, lib

MODES = {"update": lib.KS_WRITER_UPDATE, "replace": lib.KS_WRITER_REPLACE}

_STATS_FIELDS = ("docs_added", "docs_replaced", "docs_deleted", "docs_live", "bytes_in",
                 "terms", "postings", "index_bytes", "segments_flushed", "segments", "merges",
                 "merged_bytes", "generation", "mem_used")


def _text(value, what):
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (what, type(value).__name__))
    return value.encode("utf-8")


class Writer:
    """A writer on the index directory `path` (created if missing).

    Options (ks_writer_opts; None: the library's default):
      mode          "update" (default: continue from the last commit;
                    add() is an upsert) or "replace" (the first commit
                    replaces the whole index)
      backend       "native" (default) or "xapian"
      shards        Xapian: 0 (one database) or N >= 1 shards
      mem_budget    flush threshold in bytes (default 256 MiB)
      merge         False: never merge segments
      max_doc_bytes a larger title + text is refused (LimitExceeded)
      fsync         False only for throwaway indexes
      threads       1: everything on the caller's thread (default 2)
      stems, bigrams, min_stem: analyzer options (kosearch/tok.h)

    Raises Locked (another writer holds the index), InvalidArgument (bad
    options, or a non-empty directory that is not an index), Unsupported
    (backend="xapian" without libkosearch-xapian), IOError...
    """

    def __init__(self, path, *, mode="update", backend=None, shards=None, mem_budget=None,
                 merge=None, max_doc_bytes=None, fsync=None, threads=None, stems=None,
                 bigrams=None, min_stem=None):
        op = "writer"
        opts = ffi.new("ks_writer_opts *")
        lib.ks_writer_opts_default(opts)
        if mode not in MODES:
            raise invalid(op, "mode must be 'update' or 'replace' (got %r)" % (mode,))
        opts.mode = MODES[mode]
        keep = None
        if backend is not None:
            keep = ffi.new("char[]", _text(backend, "backend"))
            opts.backend = keep
        for name, value, target in (("shards", shards, None), ("mem_budget", mem_budget, None),
                                    ("max_doc_bytes", max_doc_bytes, None),
                                    ("threads", threads, None), ("min_stem", min_stem, "tok")):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(op, "%s must be a non-negative integer (got %r)" % (name, value))
            try:
                setattr(opts.tok if target else opts, name, value)
            except OverflowError:
                raise invalid(op, "%s is too large (%r)" % (name, value)) from None
        for name, value, target in (("merge", merge, None), ("fsync", fsync, None),
                                    ("stems", stems, "tok"), ("bigrams", bigrams, "tok")):
            if value is not None:
                setattr(opts.tok if target else opts, name, 1 if value else 0)
        out = ffi.new("ks_writer **")
        err = ffi.new("ks_err *")
        check(lib.ks_writer_open(os.fsencode(path), opts, out, err), err)
        del keep  # the options were copied by ks_writer_open
        self.path = path
        self._w = ffi.gc(out[0], lib.ks_writer_close)
        self._lock = threading.Lock()

    def _handle(self, operation):
        if self._w is None:
            raise invalid(operation, "the writer is closed")
        return self._w

    def add(self, id, text, title=None, **fields):
        """Add (upsert) one document: a live document with the same id is
        replaced at the next commit. Extra keyword fields (JSON-serializable
        values) are stored with it. Raises InvalidInput / InvalidUTF8 /
        LimitExceeded for a refused document (nothing changes; the writer
        stays usable); any other error leaves the writer failed (only
        close() is then useful)."""
        idb, textb = _text(id, "id"), _text(text, "text")
        titleb = _text(title, "title") if title is not None else None
        doc = ffi.new("ks_doc *")
        keep = [ffi.from_buffer(idb), ffi.from_buffer(textb)]
        doc.id, doc.id_len = keep[0], len(idb)
        doc.text, doc.text_len = keep[1], len(textb)
        if titleb is not None:
            keep.append(ffi.from_buffer(titleb))
            doc.title, doc.title_len = keep[-1], len(titleb)
        if fields:
            stored = {"id": id, "title": title if title is not None else "", "text": text}
            stored.update(fields)
            js = json.dumps(stored, ensure_ascii=False).encode("utf-8")
            keep.append(ffi.from_buffer(js))
            doc.json, doc.json_len = keep[-1], len(js)
        err = ffi.new("ks_err *")
        with self._lock:
            check(lib.ks_writer_add(self._handle("add"), doc, err), err)

    def delete(self, id):
        """Delete the live document `id` at the next commit: True, or False
        when there is no live document with this id (nothing changes)."""
        idb = _text(id, "id")
        err = ffi.new("ks_err *")
        with self._lock:
            rc = lib.ks_writer_delete(self._handle("delete"), idb, len(idb), err)
        if rc == lib.KS_NOTFOUND:
            return False
        check(rc, err)
        return True

    def commit(self):
        """Publish every change since the previous commit atomically. The
        writer stays usable. Readers see it after Index.reopen()."""
        err = ffi.new("ks_err *")
        with self._lock:
            check(lib.ks_writer_commit(self._handle("commit"), err), err)

    def merge(self, max_segments=1):
        """Merge segments down to at most max_segments (>= 1; 1 also drops
        deleted documents); published by the next commit. Xapian: no-op."""
        if isinstance(max_segments, bool) or not isinstance(max_segments, int) or \
                not 0 <= max_segments <= 0xFFFFFFFF:
            raise invalid("merge", "max_segments must be a positive integer (got %r)"
                          % (max_segments,))
        err = ffi.new("ks_err *")
        with self._lock:
            check(lib.ks_writer_merge(self._handle("merge"), max_segments, err), err)

    def stats(self):
        """ks_writer_get_stats as a dict, keys as the fields of
        ks_writer_stats (kosearch/writer.h): docs_added, docs_replaced,
        docs_deleted, docs_live, bytes_in, terms, postings, index_bytes,
        segments_flushed, segments, merges, merged_bytes, generation,
        mem_used."""
        st = ffi.new("ks_writer_stats *")
        with self._lock:
            lib.ks_writer_get_stats(self._handle("stats"), st)
        return {f: getattr(st, f) for f in _STATS_FIELDS}

    def close(self):
        """Release the writer WITHOUT committing: changes since the last
        commit are discarded (a background merge that is running may still
        be published, a commit that changes no document: docs/live.md).
        Idempotent."""
        with self._lock:
            if self._w is not None:
                ffi.release(self._w)
                self._w = None

    @property
    def closed(self):
        return self._w is None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.commit()
            finally:
                self.close()
        else:
            self.close()
        return False

    def __repr__(self):
        return "<kosearch.Writer %r%s>" % (self.path, " closed" if self.closed else "")
