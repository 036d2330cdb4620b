/*
 * writer_int.h - the native index writer's state and the internal API of
 * the files that implement it (indexer-internal). The writer's own API,
 * ks_index_writer_*, is index_writer.h; document checks and analysis are
 * document.h.
 *
 * Files (one concept each):
 *   writer.c     orchestration: open, add (a document into the current
 *                segment), stats, close;
 *   directory.c  the index directory: create, refuse a foreign one, lock,
 *                garbage collection;
 *   dedup.c      duplicate ids: id -> document, the deletion bitmap;
 *   analysis.c   token records, and the analysis thread that fills them
 *                for a batch of documents while the caller indexes the
 *                previous batch;
 *   flush.c      writing a full segment (on the caller's thread or on the
 *                flusher thread) and the list of written segments;
 *   live.c       the segments of the index (committed, or flushed and
 *                settled): id lookup, deletions, their .del files;
 *   delstats.c   the term statistics of deleted documents (re-analysis);
 *   policy.c     the merge policy and the background merge;
 *   commit.c     settling, merges, MANIFEST, garbage collection.
 *
 * Threads (opts.threads >= 2; everything else is on the caller's thread):
 * the analysis thread (analysis.c), the flusher (flush.c), and the helpers
 * of one ks_stow / ks_segw (compression of stored blocks, encoding of
 * postings). All are ks_worker's (common/worker_int.h) and every hand-over
 * is in order, so document numbers, terms and postings, and therefore the
 * files, do not depend on the threads.
 */
#ifndef KS_WRITER_INT_H
#define KS_WRITER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "deletions_int.h"
#include "docstore_int.h"
#include "index_writer.h"
#include "ks_buf.h"
#include "manifest_int.h"
#include "memindex_int.h"
#include "segment_int.h"
#include "worker_int.h"

/* ---- dedup.c -----------------------------------------------------------------
 * A later document with the same id replaces the earlier one: the id table
 * maps each id to its latest global document number, and the earlier
 * document's bit is set in the deletion bitmap (global numbers, over every
 * segment this writer wrote). */

typedef struct ks_dedup {
  ks_buf ids;           /* id bytes */
  uint64_t *ent;        /* per slot: 0 empty, else latest doc + 1 */
  uint32_t *off, *len;  /* per slot: the id's bytes in ids */
  size_t slots, count;  /* open addressing, at most half full */
  ks_buf deleted;       /* bitmap over global documents */
} ks_dedup;

/* A zeroed ks_dedup is empty and valid. Release with ks_dedup_free. */
void ks_dedup_free(ks_dedup *d);
/* Forget the id (n bytes) of a document deleted by ks_writer_delete: if
 * a session document has it, that document is marked deleted, the id no
 * longer names a live document, and *doc is its global number (KS_OK);
 * KS_NOTFOUND if no live session document has it; KS_ENOMEM. */
int ks_dedup_remove(ks_dedup *d, const char *id, size_t n, uint64_t *doc);
/* Forget everything (after the session's segments are settled). */
void ks_dedup_reset(ks_dedup *d);
/* Record that global document `doc` has id (n bytes). If the id was seen,
 * the document it named is marked deleted and *replaced = 1, else 0.
 * KS_OK or KS_ENOMEM (nothing changed then, except possibly the growth of
 * the table). */
int ks_dedup_add(ks_dedup *d, const char *id, size_t n, uint64_t doc,
                 int *replaced);
/* 1 if global document `doc` was replaced by a later one. */
int ks_dedup_is_deleted(const ks_dedup *d, uint64_t doc);
/* The deletion bits of the ndocs documents from global number `base` as a
 * fresh bitmap (bit d of byte d / 8; ks_free it) and their count in
 * *count; NULL with *count = 0 when none is deleted, NULL with *count > 0
 * when out of memory. */
uint8_t *ks_dedup_bitmap(const ks_dedup *d, uint64_t base, uint32_t ndocs,
                         uint32_t *count);
/* Bytes of id text held (counted against the memory budget). */
size_t ks_dedup_id_bytes(const ks_dedup *d);
/* Bytes held in all (id text, table, bitmap; for stats). */
size_t ks_dedup_bytes(const ks_dedup *d);

/* ---- delstats.c --------------------------------------------------------------
 * The term statistics of a segment's deleted documents (for its .del):
 * for each term, how many deleted documents contain it. */

typedef struct ks_delstats_slot {
  uint32_t off, len;    /* the key's bytes in keys */
  uint32_t count;       /* 0: empty slot */
  uint32_t hash;        /* of the key */
  uint64_t prefix;      /* its first 8 bytes (set for sorting) */
  uint64_t stamp;       /* last document that counted it */
} ks_delstats_slot;

typedef struct ks_delstats {
  ks_buf keys;
  ks_buf doc_keys;      /* the terms of the document being added */
  ks_delstats_slot *tab;
  size_t slots, n;
  uint64_t stamp;
} ks_delstats;

/* A zeroed ks_delstats is empty. Add the table of seg's current .del.
 * KS_OK or KS_ENOMEM. */
int ks_delstats_load(ks_delstats *ds, const ks_segment *seg, ks_err *err);
/* Add the terms of document `doc` of seg, re-analyzed from its stored
 * JSON with tok (the index's analyzer options); scratch is a work buffer.
 * When the stored JSON does not reproduce the indexed terms (their number
 * per field differs from the recorded lengths, or it has no "text"),
 * nothing is added and *mismatch = 1: count the document with
 * ks_delstats_add_docs_from_postings. KS_OK, KS_ECORRUPT, KS_ENOMEM, the
 * analyzer's errors. */
int ks_delstats_add_doc(ks_delstats *ds, ks_tok *tok, const ks_segment *seg,
                        uint32_t doc, ks_buf *scratch, int *mismatch, ks_err *err);
/* Add the terms of the documents marked in `docs` (a bitmap over seg's
 * documents) by walking every postings list of seg. KS_OK, KS_ECORRUPT,
 * KS_ENOMEM. */
int ks_delstats_add_docs_from_postings(ks_delstats *ds, const ks_segment *seg,
                                       const uint8_t *docs, ks_err *err);
/* The table sorted by key in *out (ks_free it; keys borrowed from ds),
 * *n entries. KS_OK or KS_ENOMEM. */
int ks_delstats_table(const ks_delstats *ds, ks_deleted_term **out, size_t *n,
                      ks_err *err);
void ks_delstats_free(ks_delstats *ds);

/* ---- live.c -------------------------------------------------------------------
 * The segments of the index in document order: those of the commit the
 * writer continues from, then those it settled (flushed and handed over
 * from the session: settle in commit.c). Each has its current deletions
 * (the .del on disk plus those made since), and the documents deleted
 * since its .del was written, whose statistics the next .del must add. */

typedef struct ks_live_seg {
  uint32_t segno, ndocs;
  uint32_t ndeleted;    /* current, pending deletions included */
  uint64_t del_gen;     /* its .del on disk (0: none) */
  ks_segment *seg;      /* opened on first use (ks_live_open) */
  uint8_t *del;         /* current bitmap (ndocs bits), NULL until needed */
  uint32_t *pending;    /* documents deleted since del_gen */
  size_t npending, pcap;
  int merging;          /* an input of the merge in flight */
} ks_live_seg;

/* Take the segments of commit m as the live list. KS_OK or KS_ENOMEM. */
int ks_live_load(ks_index_writer *w, const ks_manifest *m, ks_err *err);
/* Append a settled segment (deleted: its bitmap, taken over, or NULL;
 * count set bits). KS_OK or KS_ENOMEM (deleted is freed then). */
int ks_live_append(ks_index_writer *w, uint32_t segno, uint32_t ndocs,
                   uint8_t *deleted, uint32_t count, ks_err *err);
/* Open live segment i if it is not open. KS_OK or ks_segment_open's. */
int ks_live_open(ks_index_writer *w, uint32_t i, ks_err *err);
/* The live document with this id: *seg (index into w->live) and *local.
 * KS_OK, KS_NOTFOUND (err untouched), KS_ECORRUPT, KS_EIO, KS_ENOMEM. */
int ks_live_find(ks_index_writer *w, const char *id, size_t len, uint32_t *seg,
                 uint32_t *local, ks_err *err);
/* Mark document `local` of live segment i deleted. KS_OK or KS_ENOMEM. */
int ks_live_delete(ks_index_writer *w, uint32_t i, uint32_t local, ks_err *err);
/* Write NNNNNN_<gen>.del for every live segment with pending deletions
 * (statistics: its current .del's plus the pending documents'); their
 * del_gen becomes gen. KS_OK, KS_EIO, KS_ENOMEM, KS_ECORRUPT. */
int ks_live_write_deletions(ks_index_writer *w, uint64_t gen, ks_err *err);
/* Replace live segments [i, i + n) by one segment (segno, ndocs, no
 * deletions), closing theirs; with ndocs = 0 they are just removed. */
void ks_live_replace(ks_index_writer *w, uint32_t i, uint32_t n, uint32_t segno,
                     uint32_t ndocs);
/* Fill m->nsegs/segs from the live list (m->segs allocated). */
int ks_live_manifest(const ks_index_writer *w, ks_manifest *m, ks_err *err);
/* Live documents over the list. */
uint64_t ks_live_count(const ks_index_writer *w);
void ks_live_free(ks_index_writer *w);

/* ---- policy.c ------------------------------------------------------------------
 * The merge policy (docs/live.md): logarithmic levels of KS_MERGE_FACTOR
 * adjacent segments, reclaiming deletions; one merge at a time, on the
 * merge thread (threaded writers) or at commit. */

#define KS_MERGE_FACTOR 10        /* segments merged at once, per level */
#define KS_MERGE_MIN_DOCS 1000    /* live documents of a level-0 segment */
#define KS_MERGE_DELETED_PCT 30   /* a segment with more deleted is rewritten */

/* Start a merge if the policy asks for one and none is in flight (on the
 * merge thread, or at once without one). KS_OK or an error (the writer is
 * then broken). */
int ks_policy_maybe_merge(ks_index_writer *w, ks_err *err);
/* If a merge has finished (wait = 1: wait for the one in flight), install
 * its result into the live list, carrying over the deletions made since it
 * started. KS_OK or the merge's error. */
int ks_policy_collect(ks_index_writer *w, int wait, ks_err *err);
/* Merge until at most max_segments remain (and, for 1, no deletions). */
int ks_policy_force(ks_index_writer *w, uint32_t max_segments, ks_err *err);
/* The segment number the merge in flight writes (UINT32_MAX: none). */
uint32_t ks_policy_reserved(const ks_index_writer *w);
/* Stop the merge thread (an unfinished merge's output is left for garbage
 * collection). */
void ks_policy_stop(ks_index_writer *w);

/* ---- analysis.c --------------------------------------------------------------
 * A document's terms are first written to a token buffer, one record per
 * term; the buffer is then replayed into the memindex. With
 * opts.threads >= 2 a ks_analysis analyzes batches of documents on its own
 * thread while the caller's thread indexes the previous batch. */

/* Analyze d with tok into token records appended to out; doclen[f] gets
 * the number of terms in field f. KS_OK or ks_doc_analyze's errors. */
int ks_analysis_doc(ks_tok *tok, const ks_doc *d, ks_buf *out,
                    uint32_t doclen[KS_NFIELDS], ks_err *err);
/* Add the n bytes of token records `toks` to the memindex's current
 * document (prefetching ahead). KS_OK or ks_memindex_add_hashed's
 * errors. */
int ks_analysis_replay(ks_memindex *mi, const uint8_t *toks, size_t n,
                       ks_err *err);

/* Indexes one analyzed document on the caller's thread, in order. */
typedef int (*ks_analysis_index_fn)(void *ctx, const ks_doc *d,
                                    const uint8_t *toks, size_t ntok_bytes,
                                    const uint32_t doclen[KS_NFIELDS],
                                    ks_err *err);

typedef struct ks_analysis ks_analysis;

/* Start the analysis thread with its own analyzer configured by cfg;
 * analyzed documents are handed to index(ctx, ...). KS_OK, KS_ENOMEM,
 * KS_EICU; *out = NULL on failure. */
int ks_analysis_new(ks_analysis **out, const ks_tok_config *cfg,
                    ks_analysis_index_fn index, void *ctx, ks_err *err);
/* Queue a copy of d (already validated). When the batch is full it goes
 * to the thread and the previous batch is indexed. KS_OK, or an error of
 * the analysis or of index (the writer is then unusable). */
int ks_analysis_add(ks_analysis *a, const ks_doc *d, ks_err *err);
/* Documents accepted since the last batch went to the thread. */
uint64_t ks_analysis_queued(const ks_analysis *a);
/* Analyze and index everything queued. KS_OK or the first error. */
int ks_analysis_drain(ks_analysis *a, ks_err *err);
/* Stop the thread (queued documents are dropped) and free. NULL allowed. */
void ks_analysis_free(ks_analysis *a);

/* ---- flush.c -------------------------------------------------------------------
 * A full segment is written (flushed) on the caller's thread, or, with
 * opts.threads >= 2, sealed and handed to the flusher thread while the
 * caller fills the next one. At most one segment is in flight, and its
 * bytes count against the memory budget: a segment is sealed at half the
 * budget, and the caller waits for the flusher whenever the two together
 * would exceed the budget. Written segments are recorded in w->segs in
 * sealing order (the order of their documents). */

/* A written segment. */
typedef struct ks_flushed {
  uint32_t segno;
  uint32_t ndocs;
  uint64_t base;        /* global number of its first document */
} ks_flushed;

/* A sealed segment handed to the flusher. */
typedef struct ks_flush_job {
  ks_memindex *mi;      /* its postings (consumed by the flush) */
  ks_stow *sto;         /* its stored documents (finished by the flush) */
  ks_buf lens;          /* u32 per (doc, field) */
  uint32_t segno, ndocs;
  uint64_t base;        /* global number of its first document */
  size_t bytes;         /* memory it holds (counted against the budget) */
  uint64_t nterms, npostings; /* set by the flush */
} ks_flush_job;


/* Write the current segment (w->mi, w->sto, w->lens) on the caller's
 * thread and record it; nothing to do without a current segment. The
 * current segment is consumed whatever the result. */
int ks_flush_segment(ks_index_writer *w, ks_err *err);
/* Start the flusher thread. KS_OK or KS_ENOMEM. */
int ks_flush_start(ks_index_writer *w, ks_err *err);
/* Hand the current segment to the flusher (after the previous one is
 * written and recorded); the next document starts a new segment. */
int ks_flush_seal(ks_index_writer *w, ks_err *err);
/* Wait for the segment in flight (if any) and record it. KS_OK or its
 * error. */
int ks_flush_wait(ks_index_writer *w, ks_err *err);
/* Bytes of the segment in flight (0 if none). */
size_t ks_flush_in_flight_bytes(const ks_index_writer *w);
/* Wait for the segment in flight (its files are removed by the caller if
 * uncommitted) and stop the flusher. No-op without one. */
void ks_flush_stop(ks_index_writer *w);

/* ---- directory.c ----------------------------------------------------------------- */

/* Create `dir` if needed, refuse it if it is not a directory or holds
 * files that are not an index's (before creating anything in it), and take
 * the writer lock on DIR/LOCK: *fd is the lock file's descriptor (set as
 * soon as it is open; -1 before), closed by the caller. KS_OK, KS_EIO,
 * KS_EINVAL, KS_ELOCKED, KS_ENOMEM. */
int ks_directory_lock(const char *dir, int *fd, ks_err *err);
/* Remove the files of `dir` that neither the commit `keep` (NULL: none),
 * nor the commit DIR/MANIFEST names (read again: after a commit that
 * failed past its rename it is not `keep`; unreadable other than missing:
 * nothing is removed), nor any commit a reader leases (docs/live.md)
 * needs, nor segment `reserved` (UINT32_MAX: none; a merge in flight
 * writes it): segment
 * files, .del generations, kept MANIFEST.G copies, unlocked LEASE.G files
 * and MANIFEST.tmp. Errors are ignored: what remains is removed by the next
 * collection. Call with the lock held. */
void ks_directory_collect_garbage(const char *dir, const ks_manifest *keep,
                                  uint32_t reserved);

/* ---- writer.c ------------------------------------------------------------------------ */

struct ks_index_writer {
  char *dir;
  ks_writer_opts opts;
  int lock_fd;          /* DIR/LOCK, flock'ed; -1 if not open */
  ks_manifest old;      /* the commit being replaced (may have 0 segs) */
  int have_old;
  uint32_t next_segno;
  ks_tok *tok;
  ks_buf toks;          /* token records (unthreaded path) */
  int threaded;         /* opts.threads >= 2 */
  ks_analysis *analysis; /* the analysis thread (threaded), else NULL */
  ks_worker *flusher;   /* the flusher thread (threaded), else NULL */
  ks_flush_job fjob;    /* the flusher's job */
  int finflight;        /* 1: fjob is in flight */
  /* current segment */
  ks_memindex *mi;
  ks_stow *sto;
  uint32_t cur_segno;
  uint32_t cur_ndocs;
  ks_buf lens;          /* u32 per (doc, field) of the current segment */
  /* the session: segments flushed since the last settle */
  ks_flushed *segs;
  uint32_t nsegs, segs_cap;
  uint64_t ndocs_total; /* session documents, incl. replaced */
  ks_dedup dedup;       /* session ids and replaced documents */
  /* the index: committed and settled segments (live.c) */
  ks_live_seg *live;
  uint32_t nlive, live_cap;
  int replace_pending;  /* KS_WRITER_REPLACE before its first commit */
  ks_buf scratch;       /* stored JSON being re-analyzed */
  /* the merge in flight (policy.c) */
  ks_worker *merger;
  struct ks_merge_job *mjob; /* NULL: none in flight */
  int broken;
  int dirty;            /* changes (adds, deletions) since the last commit */
  ks_writer_stats st;
};

/* Index one analyzed document into the current segment (ks_analysis_index_fn
 * with ctx = w): replay its token records into the memindex, store it,
 * record its lengths and id, flush or seal when over budget. Any error is
 * fatal for the writer. */
int ks_index_writer_add_analyzed(void *w, const ks_doc *d, const uint8_t *toks,
                                 size_t ntok_bytes,
                                 const uint32_t doclen[KS_NFIELDS], ks_err *err);

/* commit.c: if a live (committed or settled) document has this id, mark
 * it deleted (*replaced = 1): an added document replaces it. KS_OK or
 * ks_live_find's errors. */
int ks_index_writer_replace_live(ks_index_writer *w, const char *id, size_t len,
                                 int *replaced, ks_err *err);

/* commit.c: at close, with nothing uncommitted, wait for the merge in
 * flight and publish it (a commit that changes no live document), then
 * run and publish the merges the policy wants next, until it wants none.
 * Errors are ignored: the last published commit stays. */
void ks_index_writer_finish_merge(ks_index_writer *w);

#endif /* KS_WRITER_INT_H */
