/*
 * index_int.h - the opened index behind the public ks_index handle
 * (searcher-internal).
 *
 * A ks_index is a snapshot of one commit: the MANIFEST read at open time
 * and every segment it lists, opened (mmapped) once. Segments are kept in
 * manifest order, and document numbers are global:
 *
 *     global doc = base[s] + local doc in segment s,
 *     base[0] = 0, base[s + 1] = base[s] + ndocs(s)   (deleted docs included)
 *
 * so global numbers increase with (segment order, local number) and the
 * exhaustive evaluator visits documents in increasing global order.
 *
 * Invariants after a successful ks_index_open:
 *   - segs[s] is open and ks_segment_ndocs(segs[s]) == man.segs[s].ndocs;
 *   - nlive = sum of ks_segment_nlive, field_total[f] = sum of
 *     ks_segment_field_total(f) (both over live documents only);
 *   - man.tok_version == KS_TOK_VERSION.
 * Everything is read-only after open except the analyzer pool, which is
 * protected by tok_lock, so one ks_index may be shared by threads.
 *
 * Sections: index.c (open/close, doc lookup, analyzer pool),
 * index_check.c (stats and integrity check).
 */
#ifndef KS_SEARCHER_INDEX_INT_H
#define KS_SEARCHER_INDEX_INT_H

#include <pthread.h>
#include <stdint.h>

#include "index.h"
#include "kosearch/tok.h"
#include "lease_int.h"
#include "manifest_int.h"
#include "segment_int.h"

/* Idle analyzers kept for reuse by concurrent searches. */
#define KS_INDEX_TOK_POOL 8

/* Attempts to open a consistent snapshot while a writer commits. */
#define KS_INDEX_OPEN_RETRIES 16

struct ks_index {
  char *dir;                     /* index directory (heap copy) */
  ks_manifest man;               /* snapshot read at open */
  uint64_t manifest_bytes;       /* size of MANIFEST when it was read */
  ks_lease lease;                /* on man.generation (docs/live.md) */
  uint32_t nsegs;                /* == man.nsegs */
  ks_segment **segs;             /* nsegs open segments, manifest order */
  uint64_t *base;                /* nsegs + 1 doc bases; base[nsegs] = total */
  uint64_t nlive;                /* live documents (N in BM25) */
  uint64_t field_total[KS_NFIELDS]; /* live field totals */
  pthread_mutex_t tok_lock;      /* guards tok_pool / ntok */
  ks_tok *tok_pool[KS_INDEX_TOK_POOL]; /* idle analyzers */
  int ntok;                      /* entries used in tok_pool */
};

/* ---- index.c -------------------------------------------------------------- */

/* Map a global document number to (segment index, local doc).
 * Returns KS_OK, or KS_EINVAL when doc >= base[nsegs] (err filled, tagged
 * with `op`). */
int ks_index_locate(const ks_index *ix, uint64_t doc, uint32_t *seg,
                    uint32_t *local, const char *op, ks_err *err);

/* Borrow an analyzer configured as the index was built (from the pool, or
 * a new one). Returns KS_OK, KS_ENOMEM or KS_EICU. Give it back with
 * ks_index_tok_release. Thread-safe. */
int ks_index_tok_acquire(ks_index *ix, ks_tok **tok, ks_err *err);
/* Return an analyzer to the pool (or free it when the pool is full).
 * NULL is allowed. Thread-safe. */
void ks_index_tok_release(ks_index *ix, ks_tok *tok);

#endif /* KS_SEARCHER_INDEX_INT_H */
