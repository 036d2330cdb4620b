/*
 * kosearch/db.h - an open index of any backend, ks_db_* (public, stable
 * API).
 *
 *   ks_db *db; ks_err e;
 *   if (ks_db_open("my.idx", &db, &e)) { fprintf(stderr, "%s\n", e.msg); ... }
 *   ks_search_opts o; ks_search_opts_default(&o); o.k = 10;
 *   ks_results *r;
 *   if (ks_db_search(db, "대통령 +\"첨단 산업\" -보스턴", SIZE_MAX, &o, &r, &e)) ...
 *   for (size_t i = 0; i < ks_results_count(r); i++) {
 *     ks_hit h; ks_results_hit(r, i, &h);      // h.id, h.id_len, h.score
 *   }
 *   ks_results_free(r); ks_db_close(db);
 *
 * What ks_db_open accepts, detected from what is on disk:
 *   - a native index directory (a MANIFEST: docs/format/README.md);
 *   - a Xapian database built by kosearch, or a directory of Xapian shards
 *     (a KOSEARCH-SHARDS marker: docs/xapian.md), when the Xapian backend
 *     is registered (kosearch/xapian.h); without it, KS_EUNSUPPORTED
 *     "built without Xapian".
 * ks_db_open_shards searches several Xapian databases as one: local paths
 * and remote xapian-tcpsrv servers ("tcp://HOST:PORT").
 *
 * Snapshots: a ks_db sees the index as it was committed when it was opened;
 * later commits by a writer are not seen by it (ks_db_reopen moves to
 * them). Xapian keeps a reader's revision only until the writer's second
 * commit after it: then a search may fail with KS_EXAPIAN ("reopen it").
 *
 * Threading: a ks_db is used by one thread at a time. Give each thread its
 * own handle with ks_db_dup: for a native index the duplicate shares the
 * mapped files (cheap); a Xapian database is opened again.
 */
#ifndef KOSEARCH_DB_H
#define KOSEARCH_DB_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/results.h"
#include "kosearch/search.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_db ks_db;

/* Open the index at `path` (in). *out (out) receives the handle, NULL on
 * failure. Returns KS_OK; KS_NOTFOUND ("no such directory", or a directory
 * that is no kosearch index); KS_EUNSUPPORTED (a Xapian index but the
 * Xapian backend is not registered); KS_EIO, KS_ECORRUPT, KS_EVERSION,
 * KS_ENOMEM, KS_EICU, KS_EXAPIAN. Close with ks_db_close. */
KS_API int ks_db_open(const char *path, ks_db **out, ks_err *err);

/* Open `n` >= 1 Xapian shards (in: each a database path, a sharded
 * directory, or "tcp://HOST:PORT" of a xapian-tcpsrv) as one index: one
 * ranking over the union, as if the documents were in one database.
 * Returns as ks_db_open; KS_EINVAL when n is 0 or a spec is empty;
 * KS_EUNSUPPORTED without the Xapian backend. */
KS_API int ks_db_open_shards(const char *const *specs, size_t n, ks_db **out,
                             ks_err *err);

/* A second handle on the same index and snapshot for another thread
 * (see Threading above; Xapian: the index is opened again, at its latest
 * commit). Returns KS_OK, KS_ENOMEM, or the backend's open errors. Both
 * handles are closed separately, in any order. */
KS_API int ks_db_dup(ks_db *db, ks_db **out, ks_err *err);

/* Move to the index's latest commit: *out (out) receives a NEW handle on
 * the latest commit, or NULL when `db` already shows it (nothing changed).
 * `db` keeps its own snapshot and stays valid: close it when its last
 * query is done. Cheap: the native backend shares every unchanged segment
 * between the two handles and opens only new ones; files of a commit are
 * kept on disk while any handle (in any process) still uses them
 * (docs/live.md). Returns KS_OK, or the errors of ks_db_open. */
KS_API int ks_db_reopen(ks_db *db, ks_db **out, ks_err *err);

/* Close the handle. Every ks_results from it must be freed first. NULL
 * allowed. */
KS_API void ks_db_close(ks_db *db);

/* The backend's name: "native" or "xapian" (static string). */
KS_API const char *ks_db_backend(const ks_db *db);

/* Parse, analyze and run `query` (in: UTF-8, `len` bytes or SIZE_MAX for
 * NUL-terminated) with `opts` (in; NULL: defaults). *out (out) receives the
 * results: the hits ranked offset + 1 ... offset + k. Returns KS_OK
 * (possibly zero hits); KS_EQUERY (malformed query: invalid UTF-8, an
 * empty clause such as "+"); KS_EINVAL (bad opts: NaN or negative
 * parameters, k + offset > KS_MAX_HITS, a ranking the backend does not
 * have: KS_RANK_BM25 on Xapian); KS_ECORRUPT, KS_ENOMEM, KS_EXAPIAN. On failure *out = NULL.
 * Free *out with ks_results_free, before ks_db_close. */
KS_API int ks_db_search(ks_db *db, const char *query, size_t len,
                        const ks_search_opts *opts, ks_results **out,
                        ks_err *err);

/* The stored JSON object of the document whose id is `id` (in, `id_len`
 * bytes), NUL-terminated in *json (out; its length in *len if non-NULL);
 * free it with ks_mem_free. Returns KS_OK; KS_NOTFOUND (no live document
 * with that id; *json = NULL); KS_ECORRUPT, KS_ENOMEM, KS_EXAPIAN. */
KS_API int ks_db_get(ks_db *db, const char *id, size_t id_len, char **json,
                     size_t *len, ks_err *err);

/* Statistics of an open index. A field a backend cannot tell is 0 unless
 * said otherwise. */
typedef struct ks_db_stats {
  const char *backend;       /* "native" or "xapian" (static string) */
  uint64_t docs;             /* live documents */
  uint64_t deleted;          /* native: replaced documents still on disk */
  uint64_t terms;            /* distinct terms of both fields (native:
                                summed over segments) */
  uint64_t terms_word;       /* xapian: distinct word-field terms */
  uint64_t terms_bigram;     /* xapian: distinct bigram-field terms */
  uint64_t postings;         /* native: (term, document) pairs */
  uint64_t field_total[2];   /* native: total length of word / bigram
                                fields */
  uint64_t total_length;     /* xapian: sum of document lengths */
  double avg_length;         /* xapian: average document length */
  uint32_t segments;         /* native: segments */
  uint32_t shards;           /* xapian: databases searched (>= 1) */
  uint64_t generation;       /* native: commit number; xapian: revision
                                of the first database */
  /* native: bytes per file kind */
  uint64_t bytes_tid, bytes_doc, bytes_pos, bytes_len, bytes_sto,
      bytes_del, bytes_manifest;
  uint64_t bytes_total;      /* bytes of the index on disk (xapian: below
                                the path; 0 for remote shards) */
} ks_db_stats;

/* Fill *st (out). Cheap for native indexes (no postings are decoded); for
 * Xapian, counting terms walks the vocabulary. Returns KS_OK, KS_ECORRUPT,
 * KS_ENOMEM, KS_EXAPIAN. */
KS_API int ks_db_get_stats(ks_db *db, ks_db_stats *st, ks_err *err);

/* Verify the whole index at `path` (in), detected as ks_db_open does.
 * Native: every file's CRC, dictionary, postings (decoded, ordered, within
 * bounds, statistics consistent), positions, lengths, stored documents.
 * Xapian: Xapian's own consistency check of every table. `report` (may be
 * NULL) gets progress and problem lines with `ctx`. Returns KS_OK when the
 * index is sound, else the first problem's code (err says which file and
 * what): KS_ECORRUPT, KS_EIO, KS_EVERSION, KS_NOTFOUND, KS_EUNSUPPORTED,
 * KS_ENOMEM, KS_EXAPIAN. */
KS_API int ks_db_check(const char *path,
                       void (*report)(void *ctx, const char *line), void *ctx,
                       ks_err *err);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_DB_H */
