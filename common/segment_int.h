/*
 * segment_int.h - read access to one immutable on-disk segment and to the
 * index manifest (internal API shared by indexer/ and searcher/).
 *
 * Format: docs/format/ (overview in docs/format/README.md). A segment NNNNNN
 * is the set of files NNNNNN.tid (term dictionary), NNNNNN.doc (doc ids +
 * term frequencies + skip/score-bound data), NNNNNN.pos (positions),
 * NNNNNN.len (per-document field lengths + field totals), NNNNNN.sto (stored
 * documents + document id table) and optionally NNNNNN.del (deleted docs).
 * All files are mmapped read-only; every decoder bounds its reads by the
 * mapping and reports KS_ECORRUPT instead of reading past it.
 *
 * Threading: a ks_segment is immutable after open and may be shared by any
 * number of threads. A ks_postings cursor belongs to one thread.
 *
 * Implemented by common/segment.c (open/close/accessors), common/dict.c
 * (term lookup and iteration), common/postings.c (cursors),
 * common/docstore.c (stored documents), common/manifest.c (manifest).
 */
#ifndef KS_SEGMENT_INT_H
#define KS_SEGMENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ks_buf.h"
#include "kosearch/error.h"
#include "kosearch/tok.h"

/* Documents per postings block. Fixed by the format (version 1). */
#define KS_BLOCK_SIZE 128

/* Largest document number + 1 in a segment. */
#define KS_MAX_DOCS 0x7fffffffu

typedef struct ks_segment ks_segment;

/* Statistics and location of one term in one segment (filled by lookup). */
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

/* ---- segment ---------------------------------------------------------- */

/* Open segment `segno` of the index directory `dir`: mmaps its files and
 * checks magic, version, sizes, trailers and the CRC of .len. `verify_all`
 * = 1 also checks the CRC32 of every file (reads everything once; the
 * searcher does this at open so that a damaged file is refused instead of
 * giving wrong results; merge skips it for files it has just written).
 * Returns KS_OK, KS_EIO, KS_ECORRUPT, KS_EVERSION, KS_ENOMEM.
 * Close with ks_segment_close. */
int ks_segment_open(const char *dir, uint32_t segno, int verify_all,
                    ks_segment **out, ks_err *err);
void ks_segment_close(ks_segment *seg);  /* NULL allowed */

uint32_t ks_segment_number(const ks_segment *seg);
uint32_t ks_segment_ndocs(const ks_segment *seg);     /* incl. deleted */
uint32_t ks_segment_nlive(const ks_segment *seg);     /* excl. deleted */
uint64_t ks_segment_nterms(const ks_segment *seg);
/* Sum of field lengths over the segment's LIVE documents. */
uint64_t ks_segment_field_total(const ks_segment *seg, int field);
/* Field length (number of indexed terms) of document `doc` (< ndocs). */
uint32_t ks_segment_doclen(const ks_segment *seg, uint32_t doc, int field);
/* 1 if `doc` is deleted (a later document had the same id). */
int ks_segment_is_deleted(const ks_segment *seg, uint32_t doc);
/* Bytes of each file kind (for stats): kind is one of ".tid", ".doc", ... */
uint64_t ks_segment_file_size(const ks_segment *seg, const char *ext);

/* ---- term dictionary --------------------------------------------------- */

/* Look up `key` (field byte + UTF-8 term, see ks_term_key). Returns KS_OK
 * (info filled), KS_NOTFOUND, or KS_ECORRUPT. Does not allocate. */
int ks_segment_lookup(const ks_segment *seg, const char *key, size_t keylen,
                      ks_term_info *info, ks_err *err);

/* Build a dictionary key: key[0] = field, then the term bytes. Returns the
 * key length; `key` must hold len + 1 bytes. */
size_t ks_term_key(char *key, int field, const char *term, size_t len);

/* Iterate all terms in key order (for merge, check, stats). */
typedef struct ks_dict_iter {
  const ks_segment *seg;
  uint64_t index;                    /* ordinal of the current term */
  const uint8_t *p, *end;            /* cursor within the current block */
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

/* ---- postings cursor --------------------------------------------------- */

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

/* ---- stored documents ---------------------------------------------------- */

/* The document's own id (borrowed from the mmapped id table; valid while
 * the segment is open; not NUL-terminated). KS_OK or KS_ECORRUPT. */
int ks_segment_doc_id(const ks_segment *seg, uint32_t doc, const char **id,
                      size_t *len, ks_err *err);
/* The stored JSON object of `doc` appended to `out` (decompressed).
 * KS_OK, KS_ECORRUPT, KS_ENOMEM. */
int ks_segment_doc_json(const ks_segment *seg, uint32_t doc, ks_buf *out,
                        ks_err *err);

/* Raw access to stored block b (< ks_segment_sto_nblocks) for merges that
 * copy blocks without recompressing: its first document, number of
 * documents, uncompressed length and compressed bytes (borrowed from the
 * mapping). KS_OK or KS_ECORRUPT. */
uint32_t ks_segment_sto_nblocks(const ks_segment *seg);
int ks_segment_sto_block(const ks_segment *seg, uint32_t b, uint32_t *first,
                         uint32_t *ndocs, uint32_t *raw_len,
                         const uint8_t **comp, uint32_t *comp_len, ks_err *err);

/* Sequential reader of all stored documents (merge, check): decompresses
 * each block once. */
typedef struct ks_sto_iter {
  const ks_segment *seg;
  uint32_t block;            /* next block to load */
  uint32_t doc;              /* number of the next document */
  ks_buf raw;                /* current block, decompressed */
  const uint8_t *p, *end;    /* cursor in raw */
} ks_sto_iter;
void ks_sto_iter_init(ks_sto_iter *it, const ks_segment *seg);
/* Next document's JSON (borrowed until the next call). KS_OK, KS_DONE,
 * KS_ECORRUPT, KS_ENOMEM. */
int ks_sto_iter_next(ks_sto_iter *it, const char **json, size_t *len,
                     ks_err *err);
void ks_sto_iter_free(ks_sto_iter *it);

/* ---- integrity ------------------------------------------------------------ */

/* Walk the whole segment: CRC of every file, every dictionary entry (keys
 * strictly increasing), every postings list fully decoded (doc numbers
 * increasing and < ndocs, df/cf and term/block score bounds match,
 * positions increasing), per-document field lengths equal to the sum of
 * their term frequencies, field totals equal to the sum of the lengths,
 * every stored document decompressing to a JSON object with an id. `report` (may be NULL)
 * gets one line per finding. Returns KS_OK or the first error. */
int ks_segment_check(const ks_segment *seg,
                     void (*report)(void *ctx, const char *line), void *ctx,
                     ks_err *err);

/* ---- manifest ------------------------------------------------------------ */

/* Snapshot of an index's MANIFEST (docs/format/manifest.md). */
typedef struct ks_manifest_seg {
  uint32_t segno;     /* segment number (file name NNNNNN) */
  uint32_t ndocs;     /* documents in the segment, incl. deleted */
  uint32_t ndeleted;  /* deleted documents (.del present when > 0) */
} ks_manifest_seg;

typedef struct ks_manifest {
  uint64_t generation;      /* commit counter, +1 per commit */
  uint32_t next_segno;      /* next free segment number */
  uint32_t tok_version;     /* KS_TOK_VERSION used to build */
  ks_tok_config tok;        /* analyzer options used to build */
  uint32_t nsegs;
  ks_manifest_seg *segs;    /* heap; freed by ks_manifest_free */
} ks_manifest;

/* Read DIR/MANIFEST. KS_OK, KS_NOTFOUND (no MANIFEST: not an index),
 * KS_EIO, KS_ECORRUPT, KS_EVERSION, KS_ENOMEM. */
int ks_manifest_read(const char *dir, ks_manifest *m, ks_err *err);
/* Atomically replace DIR/MANIFEST: write MANIFEST.tmp, fsync (if
 * do_fsync), rename, fsync the directory (if do_fsync). KS_OK or KS_EIO. */
int ks_manifest_write(const char *dir, const ks_manifest *m, int do_fsync,
                      ks_err *err);
void ks_manifest_free(ks_manifest *m);

#endif /* KS_SEGMENT_INT_H */
