"""_lib.py - the C declarations kosearch's Python package uses, and loading
the shared library (cffi ABI mode: no compiler at install or import time).

The cdef below copies, field for field and in order, the public
declarations of include/kosearch/*.h that the package calls. ABI mode
lays structs out from these declarations alone, so a header change to any
struct here must be made here too (test_py_api checks the sizes against
known values and every call against the CLI's output).

Which library is loaded (the first that exists):
  1. $KOSEARCH_LIBRARY: a path to libkosearch.so.0 (a build tree's
     build/libkosearch.so.0, for instance);
  2. the library `cmake --install` put beside this package: _config.py,
     generated at install time, records the library directory relative
     to the package directory (like the binaries' $ORIGIN RUNPATH, so an
     installed tree can be moved);
  3. "libkosearch.so.0" through the system loader (ld.so.conf,
     LD_LIBRARY_PATH).
libkosearch-xapian.so.0 is loaded from the same directory as the chosen
libkosearch (case 3: through the system loader) when it is there, and
registered with ks_xapian_register so that Xapian indexes open; without
it, opening a Xapian index raises kosearch.Unsupported ("built without
Xapian").
"""
import os

from cffi import FFI

CDEF = r"""
/* kosearch/error.h */
enum {
  KS_OK = 0, KS_DONE = 1, KS_NOTFOUND = 2,
  KS_ENOMEM = -1, KS_EIO = -2, KS_ECORRUPT = -3, KS_EINVAL = -4,
  KS_EVERSION = -5, KS_EUTF8 = -6, KS_EINPUT = -7, KS_EQUERY = -8,
  KS_ELIMIT = -9, KS_EICU = -10, KS_ELOCKED = -11, KS_EXAPIAN = -12,
  KS_EUNSUPPORTED = -13
};
typedef struct ks_err { int rc; char msg[1024]; } ks_err;
const char *ks_strerror(int rc);
void ks_mem_free(void *p);

/* kosearch/version.h */
const char *ks_version(void);

/* kosearch/tok.h */
enum { KS_FIELD_WORD = 0, KS_FIELD_BIGRAM = 1 };
enum { KS_KIND_SURFACE = 0, KS_KIND_STEM = 1, KS_KIND_BIGRAM = 2,
       KS_KIND_COUNTER = 3 };
enum { KS_TOK_DOCUMENT = 0, KS_TOK_QUERY = 1 };
typedef struct ks_token {
  const char *term; size_t len; uint8_t field; uint8_t kind;
  uint32_t pos; uint32_t word; size_t start, end;
} ks_token;
typedef struct ks_tok ks_tok;
typedef struct ks_tok_config { int stems; int bigrams; int min_stem; } ks_tok_config;
void ks_tok_config_default(ks_tok_config *cfg);
int ks_tok_new(const ks_tok_config *cfg, ks_tok **out, ks_err *err);
void ks_tok_free(ks_tok *tok);
int ks_tok_run(ks_tok *tok, int reason, const char *text, size_t len,
               int (*cb)(void *ctx, const ks_token *tok), void *ctx,
               ks_err *err);

/* kosearch/search.h */
enum { KS_ALGO_EXHAUSTIVE = 0, KS_ALGO_BMW = 1, KS_ALGO_MAXSCORE = 2 };
enum { KS_RANK_DEFAULT = -1, KS_RANK_BM25 = 0, KS_RANK_BM25_XAPIAN = 1 };
#define KS_MAX_HITS 1000000
typedef struct ks_search_opts {
  uint32_t k; uint32_t offset; double k1; double b; double bigram_weight;
  int algorithm; int ranking; double min_normlen; int xapian_pruning;
} ks_search_opts;
void ks_search_opts_default(ks_search_opts *o);

/* kosearch/results.h */
typedef struct ks_results ks_results;
typedef struct ks_hit { const char *id; size_t id_len; double score; uint64_t rank; } ks_hit;
size_t ks_results_count(const ks_results *r);
uint64_t ks_results_offset(const ks_results *r);
uint64_t ks_results_matches(const ks_results *r);
int ks_results_matches_exact(const ks_results *r);
int ks_results_hit(const ks_results *r, size_t i, ks_hit *hit);
int ks_results_json(ks_results *r, size_t i, char **json, size_t *len, ks_err *err);
int ks_results_snippet(ks_results *r, size_t i, size_t max_chars,
                       const char *mark_open, const char *mark_close,
                       char **out, ks_err *err);
void ks_results_free(ks_results *r);

/* kosearch/db.h */
typedef struct ks_db ks_db;
int ks_db_open(const char *path, ks_db **out, ks_err *err);
int ks_db_open_shards(const char *const *specs, size_t n, ks_db **out, ks_err *err);
int ks_db_dup(ks_db *db, ks_db **out, ks_err *err);
int ks_db_reopen(ks_db *db, ks_db **out, ks_err *err);
void ks_db_close(ks_db *db);
const char *ks_db_backend(const ks_db *db);
int ks_db_search(ks_db *db, const char *query, size_t len,
                 const ks_search_opts *opts, ks_results **out, ks_err *err);
int ks_db_get(ks_db *db, const char *id, size_t id_len, char **json,
              size_t *len, ks_err *err);
typedef struct ks_db_stats {
  const char *backend;
  uint64_t docs; uint64_t deleted; uint64_t terms; uint64_t terms_word;
  uint64_t terms_bigram; uint64_t postings; uint64_t field_total[2];
  uint64_t total_length; double avg_length; uint32_t segments;
  uint32_t shards; uint64_t generation;
  uint64_t bytes_tid, bytes_doc, bytes_pos, bytes_len, bytes_sto,
      bytes_del, bytes_manifest;
  uint64_t bytes_total;
} ks_db_stats;
int ks_db_get_stats(ks_db *db, ks_db_stats *st, ks_err *err);
int ks_db_check(const char *path, void (*report)(void *ctx, const char *line),
                void *ctx, ks_err *err);

/* kosearch/writer.h */
typedef struct ks_doc {
  const char *id; size_t id_len; const char *title; size_t title_len;
  const char *text; size_t text_len; const char *json; size_t json_len;
} ks_doc;
#define KS_MAX_ID_BYTES 1024
typedef struct ks_writer_opts {
  const char *backend; uint32_t shards; size_t mem_budget; int mode;
  int merge; size_t max_doc_bytes; ks_tok_config tok; int fsync;
  int threads;
} ks_writer_opts;
#define KS_WRITER_UPDATE 0
#define KS_WRITER_REPLACE 1
void ks_writer_opts_default(ks_writer_opts *o);
typedef struct ks_writer ks_writer;
int ks_writer_open(const char *dir, const ks_writer_opts *opts, ks_writer **out, ks_err *err);
int ks_writer_add(ks_writer *w, const ks_doc *doc, ks_err *err);
int ks_writer_delete(ks_writer *w, const char *id, size_t id_len, ks_err *err);
int ks_writer_merge(ks_writer *w, uint32_t max_segments, ks_err *err);
int ks_writer_commit(ks_writer *w, ks_err *err);
typedef struct ks_writer_stats {
  uint64_t docs_added; uint64_t docs_replaced; uint64_t docs_deleted;
  uint64_t docs_live; uint64_t bytes_in; uint64_t terms; uint64_t postings;
  uint64_t index_bytes; uint32_t segments_flushed; uint32_t segments;
  uint32_t merges; uint64_t merged_bytes; uint64_t generation;
  size_t mem_used;
} ks_writer_stats;
void ks_writer_get_stats(const ks_writer *w, ks_writer_stats *st);
void ks_writer_close(ks_writer *w);

/* kosearch/xapian.h (libkosearch-xapian) */
int ks_xapian_register(ks_err *err);
"""

SONAME = "libkosearch.so.0"
XAPIAN_SONAME = "libkosearch-xapian.so.0"

ffi = FFI()
ffi.cdef(CDEF)


def _installed_libdir():
    """The library directory recorded by `cmake --install` (_config.py),
    absolute; None in a source tree (no _config.py)."""
    try:
        from . import _config
    except ImportError:
        return None
    d = _config.LIBDIR
    if not os.path.isabs(d):
        d = os.path.join(os.path.dirname(os.path.abspath(__file__)), d)
    return os.path.normpath(d)


def _choose():
    """(how it was found, what to dlopen, directory for the Xapian library
    or None for the system loader)."""
    env = os.environ.get("KOSEARCH_LIBRARY")
    if env:
        return "KOSEARCH_LIBRARY", env, os.path.dirname(os.path.abspath(env))
    d = _installed_libdir()
    if d and os.path.exists(os.path.join(d, SONAME)):
        return "installed", os.path.join(d, SONAME), d
    return "system loader", SONAME, None


def _load():
    how, path, xdir = _choose()
    try:
        lib = ffi.dlopen(path)
    except OSError as e:
        raise ImportError(
            "kosearch: cannot load %s (%s: %s). Set KOSEARCH_LIBRARY to the path "
            "of libkosearch.so.0, e.g. build/libkosearch.so.0 in a build tree"
            % (path, how, e)) from e
    xpath = os.path.join(xdir, XAPIAN_SONAME) if xdir else XAPIAN_SONAME
    xlib, xerr = None, None
    if xdir and not os.path.exists(xpath):
        xerr = "%s not found" % xpath
    else:
        try:
            xlib = ffi.dlopen(xpath)
        except OSError as e:
            xerr = str(e)
    if xlib is not None:
        err = ffi.new("ks_err *")
        if xlib.ks_xapian_register(err) != lib.KS_OK:
            xerr = ffi.string(err.msg).decode("utf-8", "replace")
            xlib = None
    return lib, os.path.abspath(path) if os.sep in path else path, xlib, xerr


lib, LIBRARY, xapian_lib, XAPIAN_ERROR = _load()
