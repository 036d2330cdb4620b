/*
 * segment.c - implements the segment part of segment_int.h: opening the
 * files of one segment, field lengths (.len) and deletions (.del).
 *
 * Invariants established by ks_segment_open (so accessors need no checks):
 *   - every file has the right magic, version and (if verified) CRC;
 *   - .len holds exactly ndocs * KS_NFIELDS lengths;
 *   - .del, when present, holds a bitmap of exactly ndocs bits whose
 *     population count equals its recorded deleted count;
 *   - .tid and .sto trailers point inside their files (dict.c, docstore.c).
 * Spec: docs/format/README.md, lengths.md, deletions.md.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ks_alloc.h"
#include "ks_buf.h"
#include "codec_int.h"
#include "segment_priv.h"

static int open_kind(ks_segment *seg, ks_map *m, const char *ext,
                     const char *magic, size_t min_body, int verify_all,
                     ks_err *err) {
  char *path = ks_path("%s/%06u%s", seg->dir, seg->segno, ext);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  int rc = ks_map_open(m, path, err);
  ks_free(path);
  if (rc == KS_NOTFOUND) {
    /* A segment file named by the manifest must exist. */
    err && (err->rc = KS_EIO);
    return KS_EIO;
  }
  if (rc) return rc;
  return ks_map_check(m, magic, min_body, verify_all, err);
}

static int attach_lengths(ks_segment *seg, ks_err *err) {
  const ks_map *m = &seg->len;
  const uint8_t *p = m->data + KS_FILE_HEADER;
  uint32_t ndocs = ks_load_u32(p), nfields = ks_load_u32(p + 4);
  if (nfields != KS_NFIELDS)
    return ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: %u fields, expected %d",
                      m->path, nfields, KS_NFIELDS);
  uint64_t want = (uint64_t)KS_FILE_HEADER + 8 + (uint64_t)ndocs * KS_NFIELDS * 4 +
                  8 * KS_NFIELDS + KS_FILE_FOOTER;
  if (ndocs > KS_MAX_DOCS || want != m->size)
    return ks_err_set(err, KS_ECORRUPT,
                      "[seg][open] %s: size %zu does not match %u documents",
                      m->path, m->size, ndocs);
  seg->ndocs = ndocs;
  seg->lens = p + 8;
  const uint8_t *t = seg->lens + (size_t)ndocs * KS_NFIELDS * 4;
  for (int f = 0; f < KS_NFIELDS; f++) seg->total[f] = ks_load_u64(t + 8 * f);
  return KS_OK;
}

static int attach_deletions(ks_segment *seg, int verify_all, ks_err *err) {
  char *path = ks_path("%s/%06u.del", seg->dir, seg->segno);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  int rc = access(path, F_OK) == 0 ? ks_map_open(&seg->del, path, err) : KS_NOTFOUND;
  ks_free(path);
  seg->nlive = seg->ndocs;
  if (rc == KS_NOTFOUND) return KS_OK;
  if (rc) return rc;
  const ks_map *m = &seg->del;
  if ((rc = ks_map_check(m, KS_MAGIC_DEL, 8, verify_all, err))) return rc;
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

int ks_segment_open(const char *dir, uint32_t segno, int verify_all,
                    ks_segment **out, ks_err *err) {
  *out = NULL;
  ks_segment *seg = ks_calloc(1, sizeof *seg);
  if (!seg) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  seg->segno = segno;
  seg->dir = ks_strndup(dir, strlen(dir));
  int rc = seg->dir ? KS_OK : ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  if (!rc) rc = open_kind(seg, &seg->len, ".len", KS_MAGIC_LEN, 8 + 8 * KS_NFIELDS, 1, err);
  if (!rc) rc = attach_lengths(seg, err);
  if (!rc) rc = open_kind(seg, &seg->tid, ".tid", KS_MAGIC_TID, KS_TID_TRAILER, verify_all, err);
  if (!rc) rc = open_kind(seg, &seg->doc, ".doc", KS_MAGIC_DOC, KS_DATA_TRAILER, verify_all, err);
  if (!rc) rc = open_kind(seg, &seg->pos, ".pos", KS_MAGIC_POS, KS_DATA_TRAILER, verify_all, err);
  if (!rc) rc = open_kind(seg, &seg->sto, ".sto", KS_MAGIC_STO, KS_STO_TRAILER, verify_all, err);
  if (!rc) rc = attach_deletions(seg, verify_all, err);
  if (!rc) {
    /* .doc/.pos trailers: end of the data area (padding follows). */
    const ks_map *maps[2] = {&seg->doc, &seg->pos};
    uint64_t *ends[2] = {&seg->doc_end, &seg->pos_end};
    for (int i = 0; i < 2 && !rc; i++) {
      const ks_map *m = maps[i];
      uint64_t e = ks_load_u64(m->data + m->size - KS_FILE_FOOTER - KS_DATA_TRAILER);
      if (e < KS_FILE_HEADER || e + KS_CODEC_PAD > m->size - KS_FILE_FOOTER - KS_DATA_TRAILER)
        rc = ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: bad data end", m->path);
      *ends[i] = e;
    }
  }
  if (!rc) rc = ks_dict_attach(seg, err);
  if (!rc) rc = ks_docstore_attach(seg, err);
  if (rc) {
    if (err && err->rc != rc) err->rc = rc;
    ks_segment_close(seg);
    return rc;
  }
  *out = seg;
  return KS_OK;
}

void ks_segment_close(ks_segment *seg) {
  if (!seg) return;
  ks_map_close(&seg->tid);
  ks_map_close(&seg->doc);
  ks_map_close(&seg->pos);
  ks_map_close(&seg->len);
  ks_map_close(&seg->sto);
  ks_map_close(&seg->del);
  ks_free(seg->dir);
  ks_free(seg);
}

uint32_t ks_segment_number(const ks_segment *seg) { return seg->segno; }
uint32_t ks_segment_ndocs(const ks_segment *seg) { return seg->ndocs; }
uint32_t ks_segment_nlive(const ks_segment *seg) { return seg->nlive; }
uint64_t ks_segment_nterms(const ks_segment *seg) { return seg->nterms; }

uint64_t ks_segment_field_total(const ks_segment *seg, int field) {
  return seg->total[field];
}

uint32_t ks_segment_doclen(const ks_segment *seg, uint32_t doc, int field) {
  return ks_load_u32(seg->lens + ((size_t)doc * KS_NFIELDS + (size_t)field) * 4);
}

int ks_segment_is_deleted(const ks_segment *seg, uint32_t doc) {
  return seg->delbits && (seg->delbits[doc >> 3] & (1u << (doc & 7)));
}

uint64_t ks_segment_file_size(const ks_segment *seg, const char *ext) {
  if (!strcmp(ext, ".tid")) return seg->tid.size;
  if (!strcmp(ext, ".doc")) return seg->doc.size;
  if (!strcmp(ext, ".pos")) return seg->pos.size;
  if (!strcmp(ext, ".len")) return seg->len.size;
  if (!strcmp(ext, ".sto")) return seg->sto.size;
  if (!strcmp(ext, ".del")) return seg->del.size;
  return 0;
}
