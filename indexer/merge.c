/*
 * merge.c - implements merge_int.h: an n-way merge of segment dictionaries
 * with document renumbering.
 *
 * New document numbers: the live documents of in[0], then of in[1], ...
 * each in its old order, so within a term the merged postings stay sorted
 * when the inputs' postings are concatenated in input order. Field lengths
 * and stored documents are copied in the same order.
 * Memory: one remap table (4 bytes per input document), the lengths of the
 * output, and one term's postings being re-encoded at a time.
 * Integrity: the inputs are opened without a whole-file CRC pass; every
 * byte a merge uses (dictionary, postings, positions and lengths of live
 * documents, stored blocks and ids) goes through the readers, which verify
 * each page against its checksum on first use (docs/format/README.md
 * section 8), so damaged input fails the merge instead of reaching its
 * output, without a second pass over the files.
 */
#include <string.h>
#include <unistd.h>

#include "deletions_int.h"
#include "dict_int.h"
#include "dir_int.h"
#include "docstore_int.h"
#include "ks_alloc.h"
#include "lengths_int.h"
#include "merge_int.h"
#include "postings_int.h"
#include "segment_int.h"
#include "segwriter_int.h"

static int is_del(const ks_merge_input *in, const ks_segment *seg, uint32_t d) {
  if (in->deleted) return (in->deleted[d >> 3] >> (d & 7)) & 1;
  return ks_segment_is_deleted(seg, d);
}

static int merge_terms(ks_segment **segs, uint32_t n, uint32_t **remap,
                       ks_segw *w, ks_err *err) {
  ks_dict_iter *its = ks_calloc(n, sizeof *its);
  int *live = ks_calloc(n, sizeof *live);
  if (!its || !live) {
    ks_free(its);
    ks_free(live);
    return ks_err_set(err, KS_ENOMEM, "[merge] out of memory");
  }
  int rc = KS_OK;
  for (uint32_t i = 0; i < n && !rc; i++) {
    ks_dict_iter_init(&its[i], segs[i]);
    int r = ks_dict_iter_next(&its[i], err);
    if (r == KS_OK) live[i] = 1;
    else if (r != KS_DONE) rc = r;
  }
  ks_postings cur;
  memset(&cur, 0, sizeof cur);
  while (!rc) {
    /* Smallest current key. */
    int m = -1;
    for (uint32_t i = 0; i < n; i++) {
      if (!live[i]) continue;
      if (m < 0) { m = (int)i; continue; }
      size_t a = its[i].keylen, b = its[m].keylen;
      int c = memcmp(its[i].key, its[m].key, a < b ? a : b);
      if (c < 0 || (c == 0 && a < b)) m = (int)i;
    }
    if (m < 0) break;
    char key[sizeof its[0].key];
    size_t keylen = its[m].keylen;
    memcpy(key, its[m].key, keylen);
    rc = ks_segw_begin_term(w, key, keylen, err);
    for (uint32_t i = 0; i < n && !rc; i++) {
      if (!live[i] || its[i].keylen != keylen || memcmp(its[i].key, key, keylen)) continue;
      rc = ks_postings_open(&cur, segs[i], &its[i].info, err);
      while (!rc) {
        uint32_t nd = remap[i][cur.doc];
        if (nd != UINT32_MAX) {
          const uint32_t *pos;
          uint32_t np;
          rc = ks_postings_positions(&cur, &pos, &np, err);
          if (!rc) rc = ks_segw_add(w, nd, np, pos, err);
        }
        if (!rc) {
          int r = ks_postings_next(&cur, err);
          if (r == KS_DONE) break;
          rc = r;
        }
      }
      ks_postings_close(&cur);
      if (!rc) {
        int r = ks_dict_iter_next(&its[i], err);
        if (r == KS_DONE) live[i] = 0;
        else if (r != KS_OK) rc = r;
      }
    }
    if (!rc) rc = ks_segw_end_term(w, err);
  }
  ks_free(its);
  ks_free(live);
  return rc;
}

static int live_all(const uint32_t *remap, uint32_t n) {
  for (uint32_t d = 0; d < n; d++)
    if (remap[d] == UINT32_MAX) return 0;
  return 1;
}

/* Copy every stored block of seg as is (a segment without deletions). */
static int copy_blocks(ks_stow *sto, const ks_segment *seg, ks_err *err) {
  const char *ids[KS_BLOCK_SIZE * 64];
  size_t lens[KS_BLOCK_SIZE * 64];
  int rc = KS_OK;
  for (uint32_t b = 0; b < ks_segment_sto_nblocks(seg) && !rc; b++) {
    uint32_t first, nd, raw_len, comp_len;
    const uint8_t *comp;
    rc = ks_segment_sto_block(seg, b, &first, &nd, &raw_len, &comp, &comp_len, err);
    if (!rc && nd > sizeof ids / sizeof *ids)
      rc = ks_err_set(err, KS_ECORRUPT, "[merge] stored block with %u documents", nd);
    for (uint32_t k = 0; k < nd && !rc; k++)
      rc = ks_segment_doc_id(seg, first + k, &ids[k], &lens[k], err);
    if (!rc) rc = ks_stow_add_block(sto, comp, comp_len, raw_len, nd, ids, lens, err);
  }
  return rc;
}

/* Contract: merge_int.h. */
int ks_merge_segments(const char *dir, const ks_merge_input *in, uint32_t n,
                      uint32_t out_segno, int do_fsync, int async,
                      ks_merge_result *res, ks_err *err) {
  memset(res, 0, sizeof *res);
  ks_segment **segs = ks_calloc(n ? n : 1, sizeof *segs);
  uint32_t **remap = ks_calloc(n ? n : 1, sizeof *remap);
  uint32_t *lens = NULL;
  ks_segw *w = NULL;
  ks_stow *sto = NULL;
  int rc = (segs && remap) ? KS_OK : ks_err_set(err, KS_ENOMEM, "[merge] out of memory");
  uint64_t total = 0;
  for (uint32_t i = 0; i < n && !rc; i++) {
    rc = ks_segment_open(dir, in[i].segno, 0, &segs[i], err);
    if (rc) break;
    uint32_t nd = ks_segment_ndocs(segs[i]);
    remap[i] = ks_malloc((size_t)nd * sizeof(uint32_t) + 1);
    if (!remap[i]) { rc = ks_err_set(err, KS_ENOMEM, "[merge] out of memory"); break; }
    for (uint32_t d = 0; d < nd; d++) {
      if (is_del(&in[i], segs[i], d)) remap[i][d] = UINT32_MAX;
      else if (total >= 0x7fffffffu) rc = ks_err_set(err, KS_ELIMIT, "[merge] more than 2^31 documents in one segment");
      else remap[i][d] = (uint32_t)total++;
    }
  }
  if (!rc && !(lens = ks_malloc((size_t)total * KS_NFIELDS * sizeof *lens + 1)))
    rc = ks_err_set(err, KS_ENOMEM, "[merge] out of memory");
  if (!rc) rc = ks_stow_open(&sto, dir, out_segno, do_fsync, err);
  for (uint32_t i = 0; i < n && !rc; i++) {
    uint32_t nd_in = ks_segment_ndocs(segs[i]);
    rc = ks_lengths_verify_range(segs[i], 0, nd_in, err);
    if (rc) break;
    for (uint32_t d = 0; d < nd_in; d++)
      if (remap[i][d] != UINT32_MAX)
        for (int f = 0; f < KS_NFIELDS; f++)
          lens[(size_t)remap[i][d] * KS_NFIELDS + f] = ks_segment_doclen(segs[i], d, f);
    if (live_all(remap[i], nd_in)) {
      rc = copy_blocks(sto, segs[i], err); /* no recompression */
      continue;
    }
    ks_sto_iter it;
    ks_sto_iter_init(&it, segs[i]);
    for (uint32_t d = 0; !rc; d++) {
      const char *json;
      size_t jl;
      int r = ks_sto_iter_next(&it, &json, &jl, err);
      if (r == KS_DONE) break;
      if (r) { rc = r; break; }
      uint32_t nd = remap[i][d];
      if (nd == UINT32_MAX) continue;
      const char *id;
      size_t idlen;
      rc = ks_segment_doc_id(segs[i], d, &id, &idlen, err);
      if (!rc) rc = ks_stow_add(sto, id, idlen, json, jl, err);
    }
    ks_sto_iter_free(&it);
  }
  if (!rc) rc = ks_segw_open(&w, dir, out_segno, (uint32_t)total, lens, do_fsync, err);
  if (!rc && async) rc = ks_segw_set_async(w, err); /* encode while decoding */
  if (!rc) rc = merge_terms(segs, n, remap, w, err);
  if (!rc) rc = ks_segw_drain(w, err);
  if (!rc) {
    res->ndocs = (uint32_t)total;
    res->nterms = ks_segw_nterms(w);
    res->npostings = ks_segw_npostings(w);
    rc = ks_segw_finish(w, err);
    w = NULL;
  }
  if (!rc) {
    rc = ks_stow_finish(sto, err);
    sto = NULL;
    if (rc) {
      /* remove the term files written above */
      static const char *const exts[] = {".tid", ".doc", ".pos", ".len"};
      ks_dir_remove_segment_files(dir, out_segno, exts, 4);
    }
  }
  ks_segw_abort(w);
  ks_stow_abort(sto);
  for (uint32_t i = 0; i < n; i++) {
    if (segs) ks_segment_close(segs[i]);
    if (remap) ks_free(remap[i]);
  }
  ks_free(segs);
  ks_free(remap);
  ks_free(lens);
  return rc;
}
