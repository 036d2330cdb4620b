/*
 * postings_int.h - the .doc and .pos file kinds: each term's documents,
 * term frequencies, per-block skip and score-bound data (.doc) and
 * positions (.pos) (reader: a cursor over one term's postings; writer: the
 * terms' postings appended in dictionary order). Internal API shared by
 * indexer/ and searcher/. Spec: docs/format/postings.md. Implemented by
 * common/postings.c.
 */
#ifndef KS_POSTINGS_INT_H
#define KS_POSTINGS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dict_int.h"
#include "kosearch/error.h"
#include "segment_int.h"

/* Documents per postings block. Fixed by the format (version 1). */
#define KS_BLOCK_SIZE 128

/* One entry of the per-block skip table (fixed 20 bytes on disk). The last
 * two fields bound any BM25-like score in the block from above: score grows
 * with tf and shrinks with field length. */
typedef struct ks_skip_entry {
  uint32_t last_doc;    /* last document number in the block */
  uint32_t doc_off;     /* block start, relative to the term's .doc data */
  uint32_t pos_off;     /* block's positions, relative to term's .pos data */
  uint32_t max_tf;      /* largest tf in the block */
  uint32_t min_len;     /* smallest field length (in the term's field) among
                           the block's documents */
} ks_skip_entry;

/* ---- reading: the postings cursor ----------------------------------------- */

/* Cursor over one term's postings in one segment. Embeddable (no heap
 * allocation); all buffers are inline. Positions are decoded lazily, only
 * when ks_postings_positions is called. */
typedef struct ks_postings {
  const ks_segment *seg;
  ks_term_info info;
  const uint8_t *skips;        /* skip table (nblocks entries) */
  const uint8_t *data;         /* term's block area in .doc */
  const uint8_t *pos_data;     /* term's positions in .pos (NULL if none) */
  uint32_t nblocks;
  uint32_t block;              /* current block number */
  uint32_t block_n;            /* docs in the current block */
  uint32_t i;                  /* index of the current doc in the block */
  uint32_t doc;                /* current document (valid unless done) */
  uint32_t last_doc;           /* last document of the current block */
  uint32_t tf;                 /* current term frequency */
  int done;                    /* 1 once exhausted */
  int pos_block;               /* block whose positions are decoded, or -1 */
  uint32_t docs[KS_BLOCK_SIZE];
  uint32_t tfs[KS_BLOCK_SIZE];
  uint32_t pos_start[KS_BLOCK_SIZE + 1]; /* prefix sums of tfs */
  uint32_t *positions;         /* decoded positions of pos_block (heap,
                                  grown on demand, freed by _close) */
  uint32_t positions_cap;
} ks_postings;

/* Start a cursor on the term described by `info` (from lookup or the dict
 * iterator) positioned on its first document. Returns KS_OK, or
 * KS_ECORRUPT. Call ks_postings_close to release the position buffer. */
int ks_postings_open(ks_postings *cur, const ks_segment *seg,
                     const ks_term_info *info, ks_err *err);
void ks_postings_close(ks_postings *cur);

/* Advance to the next document: KS_OK, KS_DONE, KS_ECORRUPT. */
int ks_postings_next(ks_postings *cur, ks_err *err);
/* Advance to the first document >= target (never backwards):
 * KS_OK, KS_DONE, KS_ECORRUPT. */
int ks_postings_seek(ks_postings *cur, uint32_t target, ks_err *err);
/* Positions of the current document in increasing order. *pos is valid
 * until the cursor moves. KS_OK or KS_ECORRUPT. */
int ks_postings_positions(ks_postings *cur, const uint32_t **pos,
                          uint32_t *n, ks_err *err);
/* Skip entry of block b (< nblocks), decoded from the mmapped table. */
void ks_postings_skip(const ks_postings *cur, uint32_t b, ks_skip_entry *e);

/* ---- writing ---------------------------------------------------------------- */

/* Writer of one segment's .doc and .pos, fed one term at a time (in
 * dictionary order) and, per term, its documents in increasing order.
 * Memory: one term's skip table and encoded blocks, and the positions of
 * one pending block. */
typedef struct ks_postings_writer ks_postings_writer;

/* Create DIR/NNNNNN.doc and DIR/NNNNNN.pos. KS_OK, KS_EIO, KS_ENOMEM;
 * *out = NULL on failure (nothing left behind). */
int ks_postings_writer_open(ks_postings_writer **out, const char *dir,
                            uint32_t segno, ks_err *err);
/* Start the next term's postings. */
void ks_postings_writer_begin(ks_postings_writer *w);
/* Add a posting of the current term: doc (> the previous one, checked by
 * the caller), tf >= 1 positions in pos[], strictly increasing (KS_EINVAL
 * otherwise), and the document's length in the term's field (for the score
 * bounds). KS_OK, KS_EINVAL, KS_ENOMEM, KS_ELIMIT (one term's postings
 * past 4 GiB). */
int ks_postings_writer_add(ks_postings_writer *w, uint32_t doc, uint32_t tf,
                           const uint32_t *pos, uint32_t len, ks_err *err);
/* End the current term: its data goes to .doc (skip table, then blocks)
 * and .pos, and *info gets its df, cf, max_tf, min_len and the offsets and
 * lengths of its data, ready for ks_dict_writer_add. A term without
 * postings writes nothing and gets info->df = 0. KS_OK, KS_ENOMEM,
 * KS_ELIMIT. */
int ks_postings_writer_end(ks_postings_writer *w, ks_term_info *info,
                           ks_err *err);
/* Write both trailers (padding for the SIMD decoder, data end), fsync (if
 * do_fsync) and close .doc then .pos. The writer is freed whatever the
 * result. KS_OK or KS_EIO; on failure the files may remain (the caller
 * removes them). */
int ks_postings_writer_finish(ks_postings_writer *w, int do_fsync,
                              ks_err *err);
/* Free the writer and remove its files (error paths). NULL allowed. */
void ks_postings_writer_abort(ks_postings_writer *w);

#endif /* KS_POSTINGS_INT_H */
