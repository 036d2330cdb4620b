/*
 * segment.c - implements section segment.c of segment_int.h: opening the
 * files of one segment (each file kind's own checks are done by its
 * *_attach function, segment_priv.h) and the segment-wide accessors.
 *
 * Invariants established by ks_segment_open (so accessors need no checks):
 *   - every file has the right magic, version, flags and page frame, and
 *     (with verify_all) CRC; the bytes of the big files are verified page
 *     by page when first read (file_int.h), not here, so opening reads
 *     O(1) bytes per file whatever the segment's size (.del excepted);
 *   - .len holds exactly ndocs * KS_NFIELDS lengths (lengths.c);
 *   - .del, when present, holds a bitmap of exactly ndocs bits whose
 *     population count equals its recorded deleted count (deletions.c);
 *   - .doc/.pos data ends, .tid and .sto trailers point inside their files
 *     (postings.c, dict.c, docstore.c).
 * Spec: docs/format/README.md.
 */
#include <string.h>

#include "dir_int.h"
#include "ks_alloc.h"
#include "lengths_int.h"
#include "segment_priv.h"

static int open_kind(ks_segment *seg, ks_map *m, const char *ext,
                     const char *magic, size_t min_body, int verify_all,
                     ks_err *err) {
  char *path = ks_dir_segment_file(seg->dir, seg->segno, ext);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  int rc = ks_map_open(m, path, err);
  ks_free(path);
  if (rc == KS_NOTFOUND) {
    /* A segment file named by the manifest must exist. */
    err && (err->rc = KS_EIO);
    return KS_EIO;
  }
  if (rc) return rc;
  return ks_map_check_paged(m, magic, min_body, verify_all, err);
}

/* Contract: segment_int.h. */
int ks_segment_open(const char *dir, uint32_t segno, int verify_all,
                    ks_segment **out, ks_err *err) {
  return ks_segment_open_gen(dir, segno, 0, verify_all, out, err);
}

/* Contract: segment_int.h. */
int ks_segment_open_gen(const char *dir, uint32_t segno, uint64_t del_gen, int verify_all,
                        ks_segment **out, ks_err *err) {
  *out = NULL;
  ks_segment *seg = ks_calloc(1, sizeof *seg);
  if (!seg) return ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  seg->segno = segno;
  seg->del_gen = del_gen;
  __atomic_store_n(&seg->refs, 1, __ATOMIC_RELAXED);
  seg->dir = ks_strndup(dir, strlen(dir));
  int rc = seg->dir ? KS_OK : ks_err_set(err, KS_ENOMEM, "[seg][open] out of memory");
  if (!rc) rc = open_kind(seg, &seg->len, ".len", KS_MAGIC_LEN, KS_LEN_MIN_BODY, verify_all, err);
  if (!rc) rc = ks_lengths_attach(seg, err);
  if (!rc) rc = open_kind(seg, &seg->tid, ".tid", KS_MAGIC_TID, KS_TID_TRAILER, verify_all, err);
  if (!rc) rc = open_kind(seg, &seg->doc, ".doc", KS_MAGIC_DOC, KS_DATA_TRAILER, verify_all, err);
  if (!rc) rc = open_kind(seg, &seg->pos, ".pos", KS_MAGIC_POS, KS_DATA_TRAILER, verify_all, err);
  if (!rc) rc = open_kind(seg, &seg->sto, ".sto", KS_MAGIC_STO, KS_STO_TRAILER, verify_all, err);
  /* .del: always its CRC (small, read whole anyway); the lengths of the
   * deleted documents it subtracts from the totals are verified. */
  if (!rc) rc = ks_deletions_attach(seg, del_gen, err);
  if (!rc && seg->delbits) rc = ks_lengths_verify_marked(seg, seg->delbits, err);
  if (!rc) rc = ks_postings_attach(seg, err);
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

/* Contract: segment_int.h. */
ks_segment *ks_segment_ref(ks_segment *seg) {
  __atomic_add_fetch(&seg->refs, 1, __ATOMIC_RELAXED);
  return seg;
}

/* Contract: segment_int.h. */
void ks_segment_close(ks_segment *seg) {
  if (!seg || __atomic_sub_fetch(&seg->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  ks_map_close(&seg->tid);
  ks_map_close(&seg->doc);
  ks_map_close(&seg->pos);
  ks_map_close(&seg->len);
  ks_map_close(&seg->sto);
  ks_map_close(&seg->del);
  ks_free(seg->dir);
  ks_free(seg);
}

/* Contracts: segment_int.h. */
uint32_t ks_segment_number(const ks_segment *seg) { return seg->segno; }
uint32_t ks_segment_ndocs(const ks_segment *seg) { return seg->ndocs; }
uint32_t ks_segment_nlive(const ks_segment *seg) { return seg->nlive; }
uint64_t ks_segment_nterms(const ks_segment *seg) { return seg->nterms; }
uint64_t ks_segment_del_gen(const ks_segment *seg) { return seg->del_gen; }
const uint8_t *ks_segment_deleted_bitmap(const ks_segment *seg) { return seg->delbits; }

/* Contract: segment_int.h. */
uint64_t ks_segment_file_size(const ks_segment *seg, const char *ext) {
  if (!strcmp(ext, ".tid")) return seg->tid.size;
  if (!strcmp(ext, ".doc")) return seg->doc.size;
  if (!strcmp(ext, ".pos")) return seg->pos.size;
  if (!strcmp(ext, ".len")) return seg->len.size;
  if (!strcmp(ext, ".sto")) return seg->sto.size;
  if (!strcmp(ext, ".del")) return seg->del.size;
  return 0;
}
