/*
 * deletions.c - implements deletions_int.h: the .del file kind, reader and
 * writer. Spec: docs/format/deletions.md.
 *
 * Layout summary (version 2): u32 ndocs, u32 ndeleted, u64 deleted length
 * per field, a bitmap of ndocs bits (bit d of byte d / 8 set when document
 * d is deleted; unused high bits of the last byte 0), then the
 * deleted-term table: u32 nterms, u32 count[nterms], u32 keyoff[nterms +
 * 1], the key bytes. A segment without deleted documents has no .del file.
 *
 * Invariants after ks_deletions_attach: the bitmap covers exactly the
 * segment's ndocs, its population count equals ndeleted, the recorded
 * deleted lengths equal the .len lengths of the deleted documents, nlive =
 * ndocs - ndeleted, the field totals count live documents only, and the
 * table's keys are 2..KS_TOK_MAX_TERM + 1 bytes, strictly increasing, with
 * counts in 1..ndeleted. The CRC is always verified: the file is small
 * (its size grows with the deletions, not with the segment's postings).
 */
#include "deletions_int.h"

#include <string.h>

#include "dict_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "lengths_int.h"
#include "postings_int.h"
#include "segment_priv.h"

#define DEL_FIXED (8 + 8 * KS_NFIELDS) /* ndocs, ndeleted, dellen[] */

static int bad(const ks_segment *seg, const char *what, ks_err *err) {
  return ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: %s", seg->del.path, what);
}

/* Contract: segment_priv.h. */
int ks_deletions_attach(ks_segment *seg, uint64_t del_gen, ks_err *err) {
  seg->nlive = seg->ndocs;
  if (del_gen == 0) return KS_OK;
  char *path = ks_path("%s/%06u_%llu.del", seg->dir, seg->segno, (unsigned long long)del_gen);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  int rc = ks_map_open(&seg->del, path, err);
  ks_free(path);
  if (rc == KS_NOTFOUND) {
    /* A file named by the manifest must exist (the snapshot retry of the
     * reader tells a removed commit from a damaged index). */
    if (err) err->rc = KS_EIO;
    return KS_EIO;
  }
  if (rc) return rc;
  const ks_map *m = &seg->del;
  if ((rc = ks_map_check(m, KS_MAGIC_DEL, DEL_FIXED + 4, 1, err))) return rc;
  const uint8_t *p = m->data + KS_FILE_HEADER;
  const uint8_t *end = m->data + m->size - KS_FILE_FOOTER;
  uint32_t ndocs = ks_load_u32(p), ndel = ks_load_u32(p + 4);
  uint64_t dellen[KS_NFIELDS];
  for (int f = 0; f < KS_NFIELDS; f++) dellen[f] = ks_load_u64(p + 8 + 8 * f);
  size_t nbytes = ((size_t)ndocs + 7) / 8;
  p += DEL_FIXED;
  if (ndocs != seg->ndocs || (size_t)(end - p) < nbytes + 4)
    return bad(seg, "deletion bitmap does not match the segment's documents", err);
  seg->delbits = p;
  uint32_t count = 0;
  for (size_t i = 0; i < nbytes; i++) count += (uint32_t)__builtin_popcount(seg->delbits[i]);
  if (count != ndel || ndel == 0 || (ndocs % 8 && (seg->delbits[nbytes - 1] >> (ndocs % 8))))
    return bad(seg, "deleted count does not match the bitmap", err);
  p += nbytes;
  uint64_t nterms = ks_load_u32(p);
  p += 4;
  if ((uint64_t)(end - p) < nterms * 8 + 4) return bad(seg, "deleted-term table truncated", err);
  seg->del_nterms = (size_t)nterms;
  seg->del_counts = p;
  seg->del_keyoff = p + 4 * nterms;
  seg->del_keys = seg->del_keyoff + 4 * (nterms + 1);
  uint64_t keys_len = (uint64_t)(end - seg->del_keys);
  if (ks_load_u32(seg->del_keyoff) != 0 ||
      ks_load_u32(seg->del_keyoff + 4 * nterms) != keys_len)
    return bad(seg, "deleted-term table size does not match the file", err);
  for (size_t i = 0; i < seg->del_nterms; i++) {
    uint32_t a = ks_load_u32(seg->del_keyoff + 4 * i), b = ks_load_u32(seg->del_keyoff + 4 * i + 4);
    uint32_t c = ks_load_u32(seg->del_counts + 4 * i);
    if (b < a || b - a < 2 || b - a > KS_TOK_MAX_TERM + 1 || c == 0 || c > ndel)
      return bad(seg, "bad deleted-term entry", err);
    if (i > 0) {
      uint32_t pa = ks_load_u32(seg->del_keyoff + 4 * i - 4);
      size_t l1 = a - pa, l2 = b - a, n = l1 < l2 ? l1 : l2;
      int c2 = memcmp(seg->del_keys + pa, seg->del_keys + a, n);
      if (c2 > 0 || (c2 == 0 && l1 >= l2)) return bad(seg, "deleted terms out of order", err);
    }
  }
  seg->nlive = ndocs - ndel;
  /* Field totals on disk cover every document; keep live totals. */
  uint64_t sum[KS_NFIELDS] = {0};
  for (uint32_t d = 0; d < ndocs; d++)
    if (seg->delbits[d >> 3] & (1u << (d & 7)))
      for (int f = 0; f < KS_NFIELDS; f++) sum[f] += ks_segment_doclen(seg, d, f);
  for (int f = 0; f < KS_NFIELDS; f++) {
    if (sum[f] != dellen[f] || sum[f] > seg->total[f])
      return bad(seg, "deleted lengths do not match the segment's lengths", err);
    seg->total[f] -= sum[f];
  }
  return KS_OK;
}

/* Contract: deletions_int.h. */
int ks_segment_is_deleted(const ks_segment *seg, uint32_t doc) {
  return seg->delbits && (seg->delbits[doc >> 3] & (1u << (doc & 7)));
}

/* Contract: deletions_int.h. */
size_t ks_deletions_nterms(const ks_segment *seg) { return seg->del_nterms; }

/* Contract: deletions_int.h. */
void ks_deletions_term(const ks_segment *seg, size_t i, ks_deleted_term *t) {
  uint32_t a = ks_load_u32(seg->del_keyoff + 4 * i), b = ks_load_u32(seg->del_keyoff + 4 * i + 4);
  t->key = seg->del_keys + a;
  t->klen = b - a;
  t->count = ks_load_u32(seg->del_counts + 4 * i);
}

/* Contract: deletions_int.h. */
uint32_t ks_deletions_df(const ks_segment *seg, const void *key, size_t klen) {
  size_t lo = 0, hi = seg->del_nterms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    ks_deleted_term t;
    ks_deletions_term(seg, mid, &t);
    size_t n = t.klen < klen ? t.klen : klen;
    int c = memcmp(t.key, key, n);
    if (c == 0) c = (t.klen > klen) - (t.klen < klen);
    if (c == 0) return t.count;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* Contract: deletions_int.h. */
int ks_deletions_write(const char *dir, uint32_t segno, uint64_t gen, uint32_t ndocs,
                       const uint8_t *bitmap, uint32_t count,
                       const uint64_t dellen[KS_NFIELDS], const ks_deleted_term *terms,
                       size_t nterms, int do_fsync, ks_err *err) {
  uint64_t keys = 0;
  for (size_t i = 0; i < nterms; i++) keys += terms[i].klen;
  if (nterms > UINT32_MAX / 8 || keys > UINT32_MAX)
    return ks_err_set(err, KS_ELIMIT, "[idx][commit] segment %u: too many deleted terms", segno);
  char *path = ks_path("%s/%06u_%llu.del", dir, segno, (unsigned long long)gen);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[idx][commit] out of memory");
  ks_wfile f;
  int rc = ks_wfile_open(&f, path, KS_MAGIC_DEL, err);
  ks_free(path);
  if (rc) return rc;
  ks_wfile_u32(&f, ndocs);
  ks_wfile_u32(&f, count);
  for (int k = 0; k < KS_NFIELDS; k++) ks_wfile_u64(&f, dellen[k]);
  ks_wfile_write(&f, bitmap, ((size_t)ndocs + 7) / 8);
  ks_wfile_u32(&f, (uint32_t)nterms);
  for (size_t i = 0; i < nterms; i++) ks_wfile_u32(&f, terms[i].count);
  uint32_t off = 0;
  ks_wfile_u32(&f, 0);
  for (size_t i = 0; i < nterms; i++) ks_wfile_u32(&f, off += terms[i].klen);
  for (size_t i = 0; i < nterms; i++) ks_wfile_write(&f, terms[i].key, terms[i].klen);
  return ks_wfile_finish(&f, do_fsync, err);
}

/* Contract: deletions_int.h. Walks every postings list: O(postings). */
int ks_deletions_count(const ks_segment *seg, const uint8_t *docs, ks_term_count_fn fn,
                       void *ctx, ks_err *err) {
  ks_dict_iter it;
  ks_dict_iter_init(&it, seg);
  int rc;
  while ((rc = ks_dict_iter_next(&it, err)) == KS_OK) {
    ks_postings cur;
    if ((rc = ks_postings_open(&cur, seg, &it.info, err)) != KS_OK) return rc;
    uint32_t n = 0;
    while (rc == KS_OK) {
      n += (docs[cur.doc >> 3] >> (cur.doc & 7)) & 1;
      rc = ks_postings_next(&cur, err);
    }
    ks_postings_close(&cur);
    if (rc != KS_DONE) return rc;
    if ((rc = fn(ctx, (const uint8_t *)it.key, it.keylen, n, err)) != KS_OK) return rc;
  }
  return rc == KS_DONE ? KS_OK : rc;
}

/* ks_deletions_check: each term's count against the table, in key order. */
typedef struct table_walk {
  const ks_segment *seg;
  size_t next; /* table entries matched so far */
} table_walk;

static int compare_count(void *ctx, const uint8_t *key, size_t klen, uint32_t gone,
                         ks_err *err) {
  table_walk *tw = ctx;
  uint32_t want = 0;
  if (tw->next < tw->seg->del_nterms) {
    ks_deleted_term t;
    ks_deletions_term(tw->seg, tw->next, &t);
    if (t.klen == klen && memcmp(t.key, key, klen) == 0) {
      want = t.count;
      tw->next++;
    }
  }
  if (gone != want)
    return ks_err_set(err, KS_ECORRUPT,
                      "[seg][check] %s: %u deleted documents contain a term, the "
                      "deleted-term table says %u", tw->seg->del.path, gone, want);
  return KS_OK;
}

/* Contract: deletions_int.h. */
int ks_deletions_check(const ks_segment *seg, ks_err *err) {
  if (!seg->delbits) return KS_OK;
  table_walk tw = {seg, 0};
  int rc = ks_deletions_count(seg, seg->delbits, compare_count, &tw, err);
  if (rc != KS_OK) return rc;
  if (tw.next != seg->del_nterms)
    return ks_err_set(err, KS_ECORRUPT, "[seg][check] %s: the deleted-term table names "
                      "terms the segment does not have", seg->del.path);
  return KS_OK;
}
