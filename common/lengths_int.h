/*
 * lengths_int.h - the .len file kind: the field lengths (number of indexed
 * terms per field) of every document of a segment, and the field totals
 * (reader and writer; internal API shared by indexer/ and searcher/).
 * Spec: docs/format/lengths.md. Implemented by common/lengths.c.
 */
#ifndef KS_LENGTHS_INT_H
#define KS_LENGTHS_INT_H

#include <stdint.h>

#include "kosearch/error.h"
#include "segment_int.h"

/* Field length of document `doc` (< ndocs) in `field` (< KS_NFIELDS). */
uint32_t ks_segment_doclen(const ks_segment *seg, uint32_t doc, int field);
/* Sum of field lengths over the segment's LIVE documents. */
uint64_t ks_segment_field_total(const ks_segment *seg, int field);

/* Write DIR/NNNNNN.len for `ndocs` documents whose lengths are
 * lens[doc * KS_NFIELDS + field]; the totals are computed here. fsync if
 * do_fsync. KS_OK, KS_EIO, KS_ENOMEM; on failure a partial file may remain
 * (the caller removes it, or garbage collection does: no MANIFEST names
 * it). */
int ks_lengths_write(const char *dir, uint32_t segno, uint32_t ndocs,
                     const uint32_t *lens, int do_fsync, ks_err *err);

#endif /* KS_LENGTHS_INT_H */
