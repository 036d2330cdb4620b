/*
 * kosearch/writer.h - building an index, ks_writer_* (public, stable API).
 *
 *   ks_writer_opts o; ks_writer_opts_default(&o);   // o.backend = "xapian"...
 *   ks_writer *w; ks_err e;
 *   if (ks_writer_open("my.idx", &o, &w, &e)) { puts(e.msg); ... }
 *   ks_doc d = {.id = "a1", .id_len = 2, .text = "...", .text_len = n};
 *   rc = ks_writer_add(w, &d, &e);   // upsert; a rejected document changes nothing
 *   rc = ks_writer_delete(w, "a0", 2, &e);  // KS_NOTFOUND: no such live id
 *   rc = ks_writer_commit(w, &e);    // atomic: all or nothing; may repeat
 *   ks_writer_close(w);
 *
 * One writer for every backend (opts.backend). Both backends accept exactly
 * the same documents (the checks of ks_writer_add) and index exactly the
 * same terms (the analyzer of kosearch/tok.h), so an index of either kind
 * answers a query with the same documents (docs/xapian.md).
 *
 * Open modes (opts.mode): KS_WRITER_UPDATE (the default) continues from
 * the index's last commit (creating the index if there is none): added
 * documents are upserts, ks_writer_delete removes documents by id.
 * KS_WRITER_REPLACE starts from an empty index: its first commit REPLACES
 * the whole index atomically (what `kosearch index` does).
 *
 * Commit semantics: every change (adds, replacements, deletions) since the
 * previous commit is published by ks_writer_commit as one atomic unit:
 * after a crash at any moment either all of them are visible or none
 * (Xapian shard layouts: per shard, docs/xapian.md "Live index").
 * Readers keep the snapshot they opened (ks_db_reopen moves to the latest
 * commit). The writer stays usable after a commit. Only one writer per
 * index: KS_ELOCKED.
 *
 * Memory (native): analyzed postings are buffered and flushed to a new
 * segment whenever the buffer exceeds opts.mem_budget bytes. Merging
 * (opts.merge): the first commit of a KS_WRITER_REPLACE writer merges its
 * segments into one; otherwise a tiered merge policy merges segments on a
 * background thread while documents are added, keeping the number of
 * segments logarithmic in the index size and reclaiming deleted documents
 * (docs/live.md); merges are published by the next commit. With opts.threads
 * >= 2 a segment is written by a helper thread while the next one fills,
 * so segments are cut at half the budget. Xapian buffers up to 10,000
 * documents per shard (its own flush threshold).
 *
 * Duplicate ids: a document whose id is already live (committed, or added
 * earlier by this writer) replaces it (ks_writer_stats counts it in
 * docs_replaced).
 *
 * Threading: a ks_writer is used by one thread at a time.
 */
#ifndef KOSEARCH_WRITER_H
#define KOSEARCH_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A document to index. All pointers are borrowed for the duration of
 * ks_writer_add only. Strings are UTF-8 with explicit lengths. */
typedef struct ks_doc {
  const char *id;     size_t id_len;     /* required, 1..KS_MAX_ID_BYTES */
  const char *title;  size_t title_len;  /* may be NULL/0 */
  const char *text;   size_t text_len;   /* required, non-empty */
  /* Stored form: a complete JSON object with at least "id" and "text"
   * (other fields are kept verbatim and returned by the searcher). NULL:
   * the writer builds {"id","title","text"} itself. Not validated beyond
   * being non-empty: callers must pass well-formed JSON. */
  const char *json;   size_t json_len;
} ks_doc;

/* Longest accepted document id, in bytes. */
#define KS_MAX_ID_BYTES 1024

typedef struct ks_writer_opts {
  const char *backend;    /* NULL or "native" (default): kosearch's own
                             index; "xapian": a Xapian database (the program
                             must link libkosearch-xapian and call
                             ks_xapian_register first, kosearch/xapian.h) */
  uint32_t shards;        /* xapian: 0 (default) one database; N >= 1 a
                             directory of N shards (docs/xapian.md); native:
                             must be 0 */
  size_t mem_budget;      /* flush threshold in bytes (default 256 MiB,
                             minimum 1 MiB) */
  int mode;               /* KS_WRITER_UPDATE (default) or
                             KS_WRITER_REPLACE, see above */
  int merge;              /* 1 (default): merge segments (see above);
                             0: never merge (every flush stays a segment) */
  size_t max_doc_bytes;   /* larger title+text is KS_ELIMIT (default 64 MiB) */
  ks_tok_config tok;      /* analyzer options (stored in the manifest) */
  int fsync;              /* 1: fsync files and directory at commit (default;
                             0 only for throwaway test indexes) */
  int threads;            /* 2 (default): analyze documents on a second
                             thread while indexing the previous batch, and
                             compress stored documents, write segments and
                             encode the merge on helper threads;
                             1: everything on the caller's thread. The
                             index has the same content either way (the
                             same documents, terms, postings and stored
                             documents; with opts.merge the term files are
                             byte-identical, only .sto block boundaries
                             may differ, since segments are cut at half
                             the budget). */
} ks_writer_opts;

/* ks_writer_opts.mode */
#define KS_WRITER_UPDATE  0   /* continue from the last commit (upserts) */
#define KS_WRITER_REPLACE 1   /* the first commit replaces the index */

/* Fill *o with the defaults above. */
KS_API void ks_writer_opts_default(ks_writer_opts *o);

typedef struct ks_writer ks_writer;

/* Open a writer on directory `dir` (in), created if missing; `opts` (in,
 * NULL: defaults) is copied. A non-empty directory that is not an index
 * of the chosen backend is refused (KS_EINVAL), so nothing else is ever
 * overwritten. *out (out) receives the writer, NULL on failure.
 * Returns KS_OK; KS_EINVAL (bad options, foreign directory), KS_EUNSUPPORTED
 * (backend not built in or not registered: "built without Xapian"),
 * KS_ELOCKED, KS_EIO, KS_ENOMEM, KS_EICU, KS_EXAPIAN. */
KS_API int ks_writer_open(const char *dir, const ks_writer_opts *opts,
                          ks_writer **out, ks_err *err);

/* Check, analyze and buffer one document (in; borrowed for the call only).
 * Returns KS_OK; KS_EINPUT / KS_EUTF8 / KS_ELIMIT for a rejected document
 * (nothing changes, the writer stays usable; err says why, without a file
 * location); any other code (KS_ENOMEM, KS_EIO, KS_EXAPIAN...) leaves the
 * writer failed: only ks_writer_close is then allowed. */
KS_API int ks_writer_add(ks_writer *w, const ks_doc *doc, ks_err *err);

/* Delete the live document whose id is `id` (in, `id_len` bytes; a
 * document committed earlier or added by this writer since), at the next
 * commit. Returns KS_OK (deleted), KS_NOTFOUND (no live document has this
 * id: nothing changes, err untouched), KS_EINPUT (empty or too long id,
 * NUL byte), KS_EUTF8; any other code (KS_ENOMEM, KS_EIO, KS_ECORRUPT...)
 * leaves the writer failed. */
KS_API int ks_writer_delete(ks_writer *w, const char *id, size_t id_len,
                            ks_err *err);

/* Merge segments until the index has at most `max_segments` (>= 1)
 * segments and, with max_segments = 1, no deleted document left on disk;
 * waits for the merge. The result is published by the next commit (the
 * live documents do not change). Xapian: a no-op (Xapian manages its own
 * tables). Returns KS_OK, KS_EINVAL (max_segments = 0), KS_EIO,
 * KS_ENOMEM, KS_ELIMIT; an error leaves the writer failed. */
KS_API int ks_writer_merge(ks_writer *w, uint32_t max_segments, ks_err *err);

/* Flush, and atomically publish every change since the previous commit
 * (or since ks_writer_open). The writer stays usable: more adds, deletes
 * and commits may follow. Returns KS_OK, KS_EIO, KS_ENOMEM, KS_ELIMIT,
 * KS_EXAPIAN; on error the previous commit is intact and the writer is
 * failed (only ks_writer_get_stats and ks_writer_close are allowed). */
KS_API int ks_writer_commit(ks_writer *w, ks_err *err);

typedef struct ks_writer_stats {
  uint64_t docs_added;      /* documents accepted by ks_writer_add */
  uint64_t docs_replaced;   /* live documents replaced by an added one
                               with the same id (earlier in this writer,
                               or committed before it was opened) */
  uint64_t docs_deleted;    /* documents deleted by ks_writer_delete */
  uint64_t docs_live;       /* live documents in the index after the last
                               commit (before the first: at open) */
  uint64_t bytes_in;        /* title+text bytes of accepted documents */
  uint64_t terms;           /* distinct terms; without the final merge,
                               summed over segments (a term in two
                               segments counts twice) */
  uint64_t postings;        /* (term, document) pairs; without the final
                               merge, replaced documents still count */
  uint64_t index_bytes;     /* total size of committed files */
  uint32_t segments_flushed;/* segments written before the final merge */
  uint32_t segments;        /* segments in the committed index (Xapian:
                               databases written, one per shard) */
  uint32_t merges;          /* merges completed by this writer (native) */
  uint64_t merged_bytes;    /* bytes written by those merges (native; for
                               write amplification) */
  uint64_t generation;      /* commit number of the last commit (native);
                               Xapian: revision of the first database */
  size_t mem_used;          /* bytes currently buffered (native) */
} ks_writer_stats;

/* Fill *st (out) with the writer's counters so far (never fails). Fields a
 * backend cannot tell are 0 (Xapian: segments_flushed, mem_used, merges,
 * merged_bytes; terms after a commit other than a build's first). */
KS_API void ks_writer_get_stats(const ks_writer *w, ks_writer_stats *st);

/* Release the writer. Without a successful commit, everything added is
 * discarded and the index is as it was before ks_writer_open. NULL
 * allowed. */
KS_API void ks_writer_close(ks_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_WRITER_H */
