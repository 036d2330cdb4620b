/*
 * deletions.c - implements deletions_int.h: the .del file kind, reader and
 * writer. Spec: docs/format/deletions.md.
 *
 * Layout summary: u32 ndocs, u32 ndeleted, then a bitmap of ndocs bits
 * (bit d of byte d / 8 set when document d is deleted; unused high bits of
 * the last byte 0). A segment without deleted documents has no .del file.
 *
 * Invariants after ks_deletions_attach: the bitmap covers exactly the
 * segment's ndocs, its population count equals ndeleted, nlive = ndocs -
 * ndeleted, and the field totals count live documents only.
 */
#include "deletions_int.h"

#include <unistd.h>

#include "ks_alloc.h"
#include "ks_buf.h"
#include "lengths_int.h"
#include "segment_priv.h"

/* Contract: segment_priv.h. */
int ks_deletions_attach(ks_segment *seg, int verify_all, ks_err *err) {
  char *path = ks_path("%s/%06u.del", seg->dir, seg->segno);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  int rc = access(path, F_OK) == 0 ? ks_map_open(&seg->del, path, err) : KS_NOTFOUND;
  ks_free(path);
  seg->nlive = seg->ndocs;
  if (rc == KS_NOTFOUND) return KS_OK;
  if (rc) return rc;
  const ks_map *m = &seg->del;
  if ((rc = ks_map_check(m, KS_MAGIC_DEL, KS_DEL_MIN_BODY, verify_all, err))) return rc;
  const uint8_t *p = m->data + KS_FILE_HEADER;
  uint32_t ndocs = ks_load_u32(p), ndel = ks_load_u32(p + 4);
  size_t nbytes = ((size_t)ndocs + 7) / 8;
  if (ndocs != seg->ndocs || m->size != KS_FILE_HEADER + 8 + nbytes + KS_FILE_FOOTER)
    return ks_err_set(err, KS_ECORRUPT,
                      "[seg][open] %s: deletion bitmap does not match %u documents",
                      m->path, seg->ndocs);
  seg->delbits = p + 8;
  uint32_t count = 0;
  for (size_t i = 0; i < nbytes; i++) count += (uint32_t)__builtin_popcount(seg->delbits[i]);
  if (count != ndel || (ndocs % 8 && (seg->delbits[nbytes - 1] >> (ndocs % 8))))
    return ks_err_set(err, KS_ECORRUPT,
                      "[seg][open] %s: deleted count %u does not match bitmap",
                      m->path, ndel);
  seg->nlive = ndocs - ndel;
  /* Field totals on disk cover every document; keep live totals. */
  for (uint32_t d = 0; d < ndocs; d++)
    if (seg->delbits[d >> 3] & (1u << (d & 7)))
      for (int f = 0; f < KS_NFIELDS; f++) {
        uint32_t l = ks_segment_doclen(seg, d, f);
        if (l > seg->total[f])
          return ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: field totals smaller "
                            "than the lengths of deleted documents", seg->len.path);
        seg->total[f] -= l;
      }
  return KS_OK;
}

/* Contract: deletions_int.h. */
int ks_segment_is_deleted(const ks_segment *seg, uint32_t doc) {
  return seg->delbits && (seg->delbits[doc >> 3] & (1u << (doc & 7)));
}

/* Contract: deletions_int.h. */
int ks_deletions_write(const char *dir, uint32_t segno, uint32_t ndocs,
                       const uint8_t *bitmap, uint32_t count, int do_fsync,
                       ks_err *err) {
  char *path = ks_path("%s/%06u.del", dir, segno);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory");
  ks_wfile f;
  int rc = ks_wfile_open(&f, path, KS_MAGIC_DEL, err);
  ks_free(path);
  if (rc) return rc;
  ks_wfile_u32(&f, ndocs);
  ks_wfile_u32(&f, count);
  ks_wfile_write(&f, bitmap, ((size_t)ndocs + 7) / 8);
  return ks_wfile_finish(&f, do_fsync, err);
}
