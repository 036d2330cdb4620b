/*
 * docstore_int.h - the .sto file kind: a segment's stored documents (their
 * JSON, in compressed blocks) and its document id table (reader: ids,
 * documents, raw blocks, sequential iteration; writer: ks_stow, fed the
 * documents in document-number order). Internal API shared by indexer/ and
 * searcher/. Spec: docs/format/sto.md. Implemented by common/docstore.c.
 */
#ifndef KS_DOCSTORE_INT_H
#define KS_DOCSTORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "ks_buf.h"
#include "segment_int.h"

/* ---- reading ---------------------------------------------------------------- */

/* The document's own id (borrowed from the mmapped id table; valid while
 * the segment is open; not NUL-terminated). KS_OK or KS_ECORRUPT. */
int ks_segment_doc_id(const ks_segment *seg, uint32_t doc, const char **id,
                      size_t *len, ks_err *err);
/* A document of `seg` whose id is `id` (len bytes) and that is not
 * marked in `deleted` (bit d of byte d/8; NULL: no document is
 * excluded), in *local. Several documents of a segment may share an id
 * (all but one deleted): any unmarked one is returned.
 * KS_OK, KS_NOTFOUND (none; err untouched), KS_ECORRUPT. O(log ndocs):
 * a binary search in the id hash table, then an id comparison for each
 * entry with the same hash. */
int ks_segment_find_id(const ks_segment *seg, const char *id, size_t len,
                       const uint8_t *deleted, uint32_t *local, ks_err *err);
/* The 64-bit hash of an id that orders the id hash table of .sto
 * (docs/format/sto.md: FNV-1a 64, then the MurmurHash3 fmix64 finalizer). */
uint64_t ks_id_hash(const char *id, size_t len);

/* The stored JSON object of `doc` appended to `out` (decompressed).
 * KS_OK, KS_ECORRUPT, KS_ENOMEM. */
int ks_segment_doc_json(const ks_segment *seg, uint32_t doc, ks_buf *out,
                        ks_err *err);

/* Raw access to stored block b (< ks_segment_sto_nblocks) for merges that
 * copy blocks without recompressing: its first document, number of
 * documents, uncompressed length and compressed bytes (borrowed from the
 * mapping, verified). KS_OK, KS_EINVAL (b out of range) or KS_ECORRUPT. */
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

/* ---- writing: ks_stow --------------------------------------------------------
 * Written under its final name; the file only becomes part of the index
 * when a MANIFEST naming its segment is committed, and is removed by
 * ks_stow_abort or by the next writer's garbage collection. */

typedef struct ks_stow ks_stow;

/* Start the .sto file of segment `segno`. KS_OK, KS_EIO, KS_ENOMEM. */
int ks_stow_open(ks_stow **out, const char *dir, uint32_t segno, int do_fsync,
                 ks_err *err);
/* Compress blocks on a thread of this ks_stow (the file is identical);
 * only before the first document. KS_OK, KS_ENOMEM, KS_EINVAL. */
int ks_stow_set_async(ks_stow *w, ks_err *err);
/* Append the next document's id and stored JSON. KS_OK, KS_ENOMEM,
 * KS_ELIMIT. */
int ks_stow_add(ks_stow *w, const char *id, size_t idlen, const char *json,
                size_t jsonlen, ks_err *err);
/* Append an already-compressed block of `ndocs` documents (ids given in
 * order by ids/idlens), as read from another segment's .sto. */
int ks_stow_add_block(ks_stow *w, const uint8_t *comp, uint32_t comp_len,
                      uint32_t raw_len, uint32_t ndocs, const char *const *ids,
                      const size_t *idlens, ks_err *err);
uint32_t ks_stow_ndocs(const ks_stow *w);
/* Write block index, id table, id hash table, trailer; fsync; close;
 * free. Memory: 16 bytes per document while the hash table is sorted. On
 * failure the file is removed. KS_OK, KS_EIO, KS_ENOMEM. */
int ks_stow_finish(ks_stow *w, ks_err *err);
void ks_stow_abort(ks_stow *w);  /* NULL allowed; removes the file */

#endif /* KS_DOCSTORE_INT_H */
