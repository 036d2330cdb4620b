/*
 * dict_int.h - the .tid file kind: a segment's term dictionary, mapping
 * each key (field byte + term) to its statistics and to the location of
 * its postings (reader: lookup and ordered iteration; writer: one entry
 * per term in key order). Internal API shared by indexer/ and searcher/.
 * Spec: docs/format/tid.md. Implemented by common/dict.c.
 */
#ifndef KS_DICT_INT_H
#define KS_DICT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"
#include "segment_int.h"

/* Statistics and location of one term in one segment: one dictionary
 * entry (filled by lookup and iteration; given to the writer). */
typedef struct ks_term_info {
  uint32_t df;          /* documents containing the term in this segment */
  uint64_t cf;          /* total occurrences (sum of tf) */
  uint64_t doc_offset;  /* start of the term's data in .doc */
  uint64_t doc_length;  /* bytes of the term's data in .doc */
  uint64_t pos_offset;  /* start of the term's positions in .pos */
  uint64_t pos_length;  /* bytes of the term's positions in .pos */
  uint32_t max_tf;      /* largest tf over all postings (score bound) */
  uint32_t min_len;     /* smallest field length among its documents */
} ks_term_info;

/* Build a dictionary key: key[0] = field, then the term bytes. Returns the
 * key length; `key` must hold len + 1 bytes. */
size_t ks_term_key(char *key, int field, const char *term, size_t len);

/* ---- reading --------------------------------------------------------------- */

/* Look up `key` (field byte + UTF-8 term, see ks_term_key). Returns KS_OK
 * (info filled), KS_NOTFOUND, or KS_ECORRUPT. Does not allocate. */
int ks_segment_lookup(const ks_segment *seg, const char *key, size_t keylen,
                      ks_term_info *info, ks_err *err);

/* Iterate all terms in key order (for merge, check, stats). */
typedef struct ks_dict_iter {
  const ks_segment *seg;
  uint64_t index;                    /* ordinal of the current term */
  const uint8_t *p, *block_end;      /* cursor within the current block */
  uint64_t block;                    /* current block number */
  uint32_t in_block;                 /* terms left in the current block */
  char key[KS_TOK_MAX_TERM + 2];     /* current key */
  size_t keylen;
  ks_term_info info;                 /* current term's info */
  uint64_t prev_doc_end, prev_pos_end; /* running offsets */
} ks_dict_iter;
void ks_dict_iter_init(ks_dict_iter *it, const ks_segment *seg);
/* Advance: KS_OK (it->key/keylen/info valid), KS_DONE, or KS_ECORRUPT. */
int ks_dict_iter_next(ks_dict_iter *it, ks_err *err);

/* ---- writing --------------------------------------------------------------- */

/* Writer of one segment's .tid, fed the terms in strictly increasing key
 * order. Memory: the block index (one entry and one key per
 * KS_TID_TERMS_PER_BLOCK terms) until ks_dict_writer_finish. */
typedef struct ks_dict_writer ks_dict_writer;

/* Create DIR/NNNNNN.tid. KS_OK, KS_EIO, KS_ENOMEM; *out = NULL on failure. */
int ks_dict_writer_open(ks_dict_writer **out, const char *dir, uint32_t segno,
                        ks_err *err);
/* 1 if key (keylen bytes) may be the next term: a known field byte, a
 * non-empty term of at most KS_TOK_MAX_TERM bytes, and greater than the
 * last key added. */
int ks_dict_writer_accepts(const ks_dict_writer *w, const char *key,
                           size_t keylen);
/* Append the entry of the next term (ks_dict_writer_accepts must hold):
 * its df (>= 1), cf, max_tf, min_len, and where its data lies in .doc and
 * .pos (each term's data directly follows the previous term's; the
 * offsets of a block's first term go to the block index). KS_OK or
 * KS_ENOMEM (write errors surface at finish). */
int ks_dict_writer_add(ks_dict_writer *w, const char *key, size_t keylen,
                       const ks_term_info *info, ks_err *err);
/* Terms added so far. */
uint64_t ks_dict_writer_nterms(const ks_dict_writer *w);
/* Write the block index, the first keys and the trailer, fsync (if
 * do_fsync) and close. The writer is freed whatever the result. KS_OK or
 * KS_EIO; on failure the file may remain (the caller removes it). */
int ks_dict_writer_finish(ks_dict_writer *w, int do_fsync, ks_err *err);
/* Free the writer and remove its file (error paths). NULL allowed. */
void ks_dict_writer_abort(ks_dict_writer *w);

#endif /* KS_DICT_INT_H */
