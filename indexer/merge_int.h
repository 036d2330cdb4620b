/*
 * merge_int.h - merging segments into one (indexer-internal).
 */
#ifndef KS_MERGE_INT_H
#define KS_MERGE_INT_H

#include <stdint.h>

#include "kosearch/error.h"

typedef struct ks_merge_input {
  uint32_t segno;          /* segment to read (files must be complete) */
  const uint8_t *deleted;  /* bitmap of deleted docs (bit d of byte d/8), or
                              NULL; overrides the segment's .del file */
} ks_merge_input;

typedef struct ks_merge_result {
  uint32_t ndocs;          /* live documents written */
  uint64_t nterms, npostings;
} ks_merge_result;

/* Write segment out_segno holding the live documents of in[0..n) in order
 * (segment order, then document order), dropping deleted documents and
 * terms left without postings. Inputs are left in place.
 * KS_OK, KS_EIO, KS_ECORRUPT, KS_ENOMEM, KS_ELIMIT; on error no output
 * files remain. async: encode the output on a second thread while the
 * inputs are decoded (ks_segw_set_async; the output is identical). */
int ks_merge_segments(const char *dir, const ks_merge_input *in, uint32_t n,
                      uint32_t out_segno, int do_fsync, int async,
                      ks_merge_result *res, ks_err *err);

#endif /* KS_MERGE_INT_H */
