/*
 * deletions_int.h - the .del file kind: the bitmap of a segment's deleted
 * documents (those replaced by a later document with the same id), present
 * only when some are (reader and writer; internal API shared by indexer/
 * and searcher/). Spec: docs/format/deletions.md. Implemented by
 * common/deletions.c.
 */
#ifndef KS_DELETIONS_INT_H
#define KS_DELETIONS_INT_H

#include <stdint.h>

#include "kosearch/error.h"
#include "segment_int.h"

/* 1 if `doc` (< ndocs) is deleted, else 0. */
int ks_segment_is_deleted(const ks_segment *seg, uint32_t doc);

/* Write DIR/NNNNNN.del: `bitmap` holds bit d of byte d/8 for each of the
 * `ndocs` documents, `count` of them set (bits past ndocs must be 0).
 * fsync if do_fsync. KS_OK, KS_EIO, KS_ENOMEM; on failure a partial file
 * may remain (garbage collection removes it: no MANIFEST names it). */
int ks_deletions_write(const char *dir, uint32_t segno, uint32_t ndocs,
                       const uint8_t *bitmap, uint32_t count, int do_fsync,
                       ks_err *err);

#endif /* KS_DELETIONS_INT_H */
