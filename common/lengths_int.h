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

/* Field length of document `doc` (< ndocs) in `field` (< KS_NFIELDS).
 * No error channel: the caller makes sure that the page holding it has
 * been verified. A document delivered by a postings cursor is (its block
 * load verifies the lengths of its documents: ks_lengths_verify_docs);
 * any other with ks_lengths_verify_range. */
uint32_t ks_segment_doclen(const ks_segment *seg, uint32_t doc, int field);

/* Verify the pages that hold the lengths of docs[0..n) (sorted,
 * < ndocs). KS_OK or KS_ECORRUPT. */
int ks_lengths_verify_docs(const ks_segment *seg, const uint32_t *docs,
                           uint32_t n, ks_err *err);
/* The same for documents first .. first + count - 1 (<= ndocs). */
int ks_lengths_verify_range(const ks_segment *seg, uint32_t first,
                            uint32_t count, ks_err *err);
/* The same for the documents marked in `bitmap` (bit d of byte d/8, ndocs
 * bits). */
int ks_lengths_verify_marked(const ks_segment *seg, const uint8_t *bitmap,
                             ks_err *err);
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
