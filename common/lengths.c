/*
 * lengths.c - implements lengths_int.h: the .len file kind, reader and
 * writer. Spec: docs/format/lengths.md.
 *
 * Layout summary (a paged file, file_int.h): u32 ndocs, u32 nfields
 * (= KS_NFIELDS), then ndocs * nfields u32 lengths (document-major), then
 * one u64 total per field over ALL documents (deleted ones included:
 * deletions.c subtracts those when a segment is opened, so
 * ks_segment_field_total is a live total).
 *
 * Invariant after ks_lengths_attach: the file holds exactly ndocs *
 * KS_NFIELDS lengths, so ks_segment_doclen needs no bounds check; the
 * header fields and the totals have been verified (their pages), the
 * lengths themselves are verified page by page by their users
 * (ks_lengths_verify_*). A document's 8 bytes start at a multiple of 8, so
 * they never straddle two pages.
 */
#include "lengths_int.h"

#include "ks_alloc.h"
#include "ks_buf.h"
#include "segment_priv.h"

/* File offset of document d's lengths. */
#define LEN_OFF(d) ((uint64_t)KS_FILE_HEADER + 8 + (uint64_t)(d) * KS_NFIELDS * 4)

/* Contract: segment_priv.h. */
int ks_lengths_attach(ks_segment *seg, ks_err *err) {
  const ks_map *m = &seg->len;
  const uint8_t *p = m->data + KS_FILE_HEADER;
  int rc = ks_map_verify(m, KS_FILE_HEADER, 8, err);
  if (rc) return rc;
  uint32_t ndocs = ks_load_u32(p), nfields = ks_load_u32(p + 4);
  if (nfields != KS_NFIELDS)
    return ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: %u fields, expected %d",
                      m->path, nfields, KS_NFIELDS);
  uint64_t want = LEN_OFF(ndocs) + 8 * KS_NFIELDS;
  if (ndocs > KS_MAX_DOCS || want != m->body)
    return ks_err_set(err, KS_ECORRUPT,
                      "[seg][open] %s: size %zu does not match %u documents",
                      m->path, m->size, ndocs);
  if ((rc = ks_map_verify(m, LEN_OFF(ndocs), 8 * KS_NFIELDS, err))) return rc;
  seg->ndocs = ndocs;
  seg->lens = p + 8;
  const uint8_t *t = seg->lens + (size_t)ndocs * KS_NFIELDS * 4;
  for (int f = 0; f < KS_NFIELDS; f++) seg->total[f] = ks_load_u64(t + 8 * f);
  return KS_OK;
}

/* Contract: lengths_int.h. */
uint32_t ks_segment_doclen(const ks_segment *seg, uint32_t doc, int field) {
  return ks_load_u32(seg->lens + ((size_t)doc * KS_NFIELDS + (size_t)field) * 4);
}

/* 1 if the bits of pages a..b (b - a < 64, so at most two words) are all
 * set. */
static int span_verified(const ks_map *m, uint64_t a, uint64_t b) {
  for (uint64_t w = a >> 6; w <= b >> 6; w++) {
    uint64_t lo = w == a >> 6 ? a & 63 : 0, hi = w == b >> 6 ? b & 63 : 63;
    uint64_t mask = (hi == 63 ? ~(uint64_t)0 : ((uint64_t)1 << (hi + 1)) - 1) &
                    ~(((uint64_t)1 << lo) - 1);
    if ((atomic_load_explicit(&m->verified[w], memory_order_acquire) & mask) != mask)
      return 0;
  }
  return 1;
}

/* Contract: lengths_int.h. This runs at every postings block load, so the
 * common case is a few bit tests: a dense block (its documents' lengths
 * within 64 pages) tests the bits of its whole span; a sparse one tests
 * each document's bit without branches. Only when a bit is missing does it
 * verify: the whole span when it covers at most 16 pages (8192 documents,
 * so that the dense test succeeds next time), else each document's page. */
int ks_lengths_verify_docs(const ks_segment *seg, const uint32_t *docs,
                           uint32_t n, ks_err *err) {
  const ks_map *m = &seg->len;
  if (!m->verified || n == 0) return KS_OK;
  uint64_t lo = LEN_OFF(docs[0]), hi = LEN_OFF(docs[n - 1]) + 8;
  uint64_t first = lo >> KS_PAGE_SHIFT, last = (hi - 1) >> KS_PAGE_SHIFT;
  if (hi > m->body)
    return ks_err_set(err, KS_ECORRUPT, "[len][read] %s: document %u out of range",
                      m->path, docs[n - 1]);
  if (last - first < 64 && span_verified(m, first, last)) return KS_OK;
  uint64_t missing = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t p = LEN_OFF(docs[i]) >> KS_PAGE_SHIFT;
    missing |= ~(atomic_load_explicit(&m->verified[p >> 6], memory_order_relaxed) >> (p & 63));
  }
  atomic_thread_fence(memory_order_acquire);
  if (!(missing & 1)) return KS_OK;
  if (last - first < 16) return ks_map_verify_pages(m, lo, hi - lo, err);
  uint64_t prev = UINT64_MAX;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t off = LEN_OFF(docs[i]);
    if (off >> KS_PAGE_SHIFT == prev) continue;
    prev = off >> KS_PAGE_SHIFT;
    int rc = ks_map_verify(m, off, 8, err);
    if (rc) return rc;
  }
  return KS_OK;
}

/* Contract: lengths_int.h. */
int ks_lengths_verify_range(const ks_segment *seg, uint32_t first,
                            uint32_t count, ks_err *err) {
  return ks_map_verify(&seg->len, LEN_OFF(first), (uint64_t)count * KS_NFIELDS * 4, err);
}

/* Contract: lengths_int.h. */
int ks_lengths_verify_marked(const ks_segment *seg, const uint8_t *bitmap,
                             ks_err *err) {
  uint64_t prev = UINT64_MAX;
  for (uint32_t d = 0; d < seg->ndocs; d++) {
    if (!(bitmap[d >> 3] >> (d & 7) & 1) || LEN_OFF(d) >> KS_PAGE_SHIFT == prev) continue;
    prev = LEN_OFF(d) >> KS_PAGE_SHIFT;
    int rc = ks_map_verify(&seg->len, LEN_OFF(d), 8, err);
    if (rc) return rc;
  }
  return KS_OK;
}

/* Contract: lengths_int.h. */
uint64_t ks_segment_field_total(const ks_segment *seg, int field) {
  return seg->total[field];
}

/* Contract: lengths_int.h. */
int ks_lengths_write(const char *dir, uint32_t segno, uint32_t ndocs,
                     const uint32_t *lens, int do_fsync, ks_err *err) {
  char *path = ks_path("%s/%06u.len", dir, segno);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[segw] out of memory");
  ks_wfile f;
  int rc = ks_wfile_open_paged(&f, path, KS_MAGIC_LEN, err);
  ks_free(path);
  if (rc) return rc;
  uint64_t total[KS_NFIELDS] = {0};
  ks_wfile_u32(&f, ndocs);
  ks_wfile_u32(&f, KS_NFIELDS);
  for (size_t i = 0; i < (size_t)ndocs * KS_NFIELDS; i++) {
    ks_wfile_u32(&f, lens[i]);
    total[i % KS_NFIELDS] += lens[i];
  }
  for (int fl = 0; fl < KS_NFIELDS; fl++) ks_wfile_u64(&f, total[fl]);
  return ks_wfile_finish(&f, do_fsync, err);
}
