/*
 * deletions_int.h - the .del file kind: the bitmap of a segment's deleted
 * documents and the statistics they take with them (reader and writer;
 * internal API shared by indexer/ and searcher/). Spec:
 * docs/format/deletions.md. Implemented by common/deletions.c.
 *
 * A segment's deletions change from commit to commit, so its .del is
 * written copy-on-write: commit G writes NNNNNN_G.del and the MANIFEST
 * entry names G (ks_manifest_seg.del_gen). Besides the bitmap, a .del
 * records, for every term of the deleted documents, in how many of them it
 * occurs, and their summed field lengths, so that a reader's collection
 * statistics count live documents only, whether or not a merge has
 * removed the deleted ones yet (docs/ranking.md).
 */
#ifndef KS_DELETIONS_INT_H
#define KS_DELETIONS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"
#include "segment_int.h"

/* 1 if `doc` (< ndocs) is deleted, else 0. */
int ks_segment_is_deleted(const ks_segment *seg, uint32_t doc);

/* The number of deleted documents of seg that contain the term `key`
 * (field byte + term, ks_term_key): what to subtract from the dictionary's
 * df. 0 without deletions. O(log terms). */
uint32_t ks_deletions_df(const ks_segment *seg, const void *key, size_t klen);

/* Entries of the deleted-term table: `count` deleted documents contain
 * the term `key` (klen bytes: field byte + term). */
typedef struct ks_deleted_term {
  const uint8_t *key;
  uint32_t klen;
  uint32_t count;
} ks_deleted_term;

/* Number of entries of seg's deleted-term table, and entry i (borrowed
 * from the mapping). */
size_t ks_deletions_nterms(const ks_segment *seg);
void ks_deletions_term(const ks_segment *seg, size_t i, ks_deleted_term *t);

/* For every term of seg, in key order, the number of documents marked in
 * `docs` (a bitmap over seg's documents) that contain it: fn(ctx, key,
 * klen, count, err), count possibly 0; a non-KS_OK return stops the walk
 * and is returned. Walks every postings list: O(postings). KS_OK,
 * KS_ECORRUPT, or fn's error. */
typedef int (*ks_term_count_fn)(void *ctx, const uint8_t *key, size_t klen,
                                uint32_t count, ks_err *err);
int ks_deletions_count(const ks_segment *seg, const uint8_t *docs,
                       ks_term_count_fn fn, void *ctx, ks_err *err);

/* Verify the deleted-term table against the postings: every term's
 * count equals the number of deleted documents in its postings list, and
 * the table names exactly the terms with a nonzero count (kosearch
 * check). KS_OK (also without deletions), KS_ECORRUPT. */
int ks_deletions_check(const ks_segment *seg, ks_err *err);

/* Write DIR/NNNNNN_G.del (G = gen >= 1): `bitmap` holds bit d of byte d/8
 * for each of the `ndocs` documents, `count` >= 1 of them set (bits past
 * ndocs must be 0); dellen[f] is the sum of their lengths in field f;
 * terms[0..nterms) the deleted-term table, sorted by key (memcmp, shorter
 * first), counts >= 1. fsync if do_fsync. KS_OK, KS_EIO, KS_ENOMEM; on
 * failure a partial file may remain (garbage collection removes it: no
 * MANIFEST names it). */
int ks_deletions_write(const char *dir, uint32_t segno, uint64_t gen,
                       uint32_t ndocs, const uint8_t *bitmap, uint32_t count,
                       const uint64_t dellen[KS_NFIELDS],
                       const ks_deleted_term *terms, size_t nterms,
                       int do_fsync, ks_err *err);

#endif /* KS_DELETIONS_INT_H */
