/*
 * file_int.h - the container every on-disk file kind shares: the common
 * header and CRC footer, read-only mappings, checksummed buffered writers
 * and path formatting. Internal to common/: the readers and writers of the
 * file kinds (dict.c, postings.c, lengths.c, deletions.c, docstore.c,
 * manifest.c, segment.c) use it; indexer/ and searcher/ use the per-kind
 * headers (dict_int.h, postings_int.h, ...) and dir_int.h instead.
 *
 * Every kosearch file is
 *   [0..8)   magic, 8 ASCII bytes naming the kind ("KSIDXTID", ...)
 *   [8..12)  format version, u32 little-endian
 *   [12..16) flags, u32: KS_FILE_PAGED or 0 (which one is fixed per kind)
 *   ...      kind-specific body, ending at `body`
 *   paged files only: the page checksums of the body (see below)
 *   [n-4..n) CRC32 (zlib crc32) of bytes [0..n-4), u32 little-endian
 *
 * Page checksums (format version 2; the big segment files .tid .doc .pos
 * .len .sto). The body [0, B) is cut into pages of KS_PAGE_SIZE bytes
 * (page i = [i * 4096, min((i + 1) * 4096, B)), the header is in page 0)
 * and followed by
 *   [B, T)        page table: the checksum of each of the n1 =
 *                 ceil(B / 4096) pages, u32 each (T = B + 4 n1)
 *   [T, T + 4 n2) table-page table: the checksum of each 4096-byte piece
 *                 of the page table, n2 = ceil(4 n1 / 4096)
 * where the checksum of page (piece) i is the CRC32 of its bytes followed
 * by i as a u64 (little-endian), and
 *   u64 B, u32 page size (4096), u32 CRC32 of [T, n - 8) (the table-page
 *   table, B and the page size), then the file CRC.
 * The whole-file CRC is verified only when asked (writers compute it,
 * `kosearch check` and merges verify it); a reader opening a paged file
 * checks the frame and the small table-page table and then verifies each
 * page the first time it reads from it (ks_map_verify): a two-level tree
 * of CRCs, so opening costs O(1) whatever the file size, and what a query
 * reads is checked before it is trusted. Each ks_map keeps a bitmap of
 * verified pages (atomic bit operations: a mapping is shared by threads).
 * See docs/format/README.md sections 2 and 8.
 */
#ifndef KS_FILE_INT_H
#define KS_FILE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kosearch/error.h"

#define KS_FILE_HEADER 16
#define KS_FILE_FOOTER 4
#define KS_FORMAT_VERSION 2
#define KS_FILE_PAGED 1u        /* flags bit: the file has page checksums */
#define KS_PAGE_SHIFT 12
#define KS_PAGE_SIZE (1u << KS_PAGE_SHIFT) /* 4096 */
#define KS_PAGE_TAIL 16         /* u64 body size, u32 page size, u32 CRC */

/* ---- reading ------------------------------------------------------------- */

/* A read-only mapping of a whole file. */
typedef struct ks_map {
  const uint8_t *data;  /* mapping (NULL for an empty file) */
  size_t size;          /* file size in bytes */
  char *path;           /* heap copy of the path, for messages */
  size_t body;          /* end of the kind's body: size - 4, or B for a
                           paged file once ks_map_check_paged accepted it */
  /* paged files (ks_map_check_paged); all 0/NULL otherwise */
  uint64_t npages;      /* pages of the body (n1) */
  uint64_t ntable;      /* 4096-byte pieces of the page table (n2) */
  const uint8_t *page_crcs;   /* n1 u32 in the mapping */
  const uint8_t *table_crcs;  /* n2 u32 in the mapping */
  _Atomic uint64_t *verified; /* bit i: page i verified; then, from word
                                 (npages + 63) / 64, one bit per table
                                 piece (heap, freed by ks_map_close) */
} ks_map;

/* Map `path` read-only. KS_OK, KS_EIO (missing file: KS_NOTFOUND). */
int ks_map_open(ks_map *m, const char *path, ks_err *err);
void ks_map_close(ks_map *m);  /* safe on a zeroed or closed map */

/* Check the header of a mapped file without page checksums (MANIFEST,
 * .del): size >= header + footer + min_body, magic equals `magic`,
 * version == KS_FORMAT_VERSION (else KS_EVERSION), flags == 0. With
 * verify_crc, also the CRC footer. KS_OK, KS_ECORRUPT, KS_EVERSION.
 * Messages name m->path. */
int ks_map_check(const ks_map *m, const char *magic, size_t min_body,
                 int verify_crc, ks_err *err);

/* The same for a file with page checksums (flags == KS_FILE_PAGED): also
 * checks the page frame (page size, body size against the file size, the
 * CRC of the table-page table), sets m->body and the page fields and
 * allocates the bitmap of verified pages. Reads O(1) bytes unless
 * verify_crc (whole-file CRC). KS_OK, KS_ECORRUPT, KS_EVERSION,
 * KS_ENOMEM. */
int ks_map_check_paged(ks_map *m, const char *magic, size_t min_body,
                       int verify_crc, ks_err *err);

/* CRC32 of the whole file except its footer equals the footer? */
int ks_map_crc_ok(const ks_map *m);

/* Slow path of ks_map_verify (every page of the range). */
int ks_map_verify_pages(const ks_map *m, uint64_t off, uint64_t len,
                        ks_err *err);

/* Make sure bytes [off, off + len) of the body may be trusted: every page
 * they touch has been verified against its checksum, now or earlier in
 * this process. KS_OK, or KS_ECORRUPT (a page does not match, or the range
 * is not inside the body). A file without page checksums (or len == 0)
 * is always KS_OK. Thread-safe; costs one bit test once verified. */
static inline int ks_map_verify(const ks_map *m, uint64_t off, uint64_t len,
                                ks_err *err) {
  if (!m->verified || len == 0) return KS_OK;
  uint64_t first = off >> KS_PAGE_SHIFT;
  if (((off + len - 1) >> KS_PAGE_SHIFT) == first && off + len <= m->body &&
      (atomic_load_explicit(&m->verified[first >> 6], memory_order_acquire) >>
       (first & 63)) & 1)
    return KS_OK;
  return ks_map_verify_pages(m, off, len, err);
}

/* Verify every page of a paged file (and every piece of its page table)
 * against its checksum: what `kosearch check` adds to the whole-file
 * CRC. KS_OK or KS_ECORRUPT. */
int ks_map_verify_all(const ks_map *m, ks_err *err);

/* ---- writing ------------------------------------------------------------- */

/* Buffered writer that keeps a running CRC32 and byte count (and, for a
 * paged file, the CRC of every page). Small writes (varints, fixed
 * fields) are gathered in buf so that neither stdio nor crc32 is called
 * per field. `offset` counts pending bytes too. */
typedef struct ks_wfile {
  FILE *fp;
  char *path;       /* heap copy */
  uint64_t offset;  /* bytes written so far */
  uint32_t crc;     /* running CRC32 of everything written before the
                       current page (paged) or of everything (not paged) */
  int failed;       /* sticky: errno after any write error */
  uint8_t *buf;     /* pending bytes (KS_WFILE_BUF), CRC not yet applied */
  size_t blen;      /* bytes pending in buf */
  /* paged files (ks_wfile_open_paged) */
  int paged;        /* 1 while the body is written */
  uint32_t page_crc;      /* CRC32 of the current page so far */
  uint32_t page_fill;     /* bytes in the current page */
  unsigned long page_op;  /* crc32_combine_gen(KS_PAGE_SIZE) */
  uint8_t *pages;         /* CRCs of the completed pages, u32 each */
  size_t npages, pages_cap;
} ks_wfile;

#define KS_WFILE_BUF (64 * 1024)

/* Create (truncate) `path` and write the common header with `magic` and
 * flags 0. KS_OK, KS_EIO or KS_ENOMEM. */
int ks_wfile_open(ks_wfile *w, const char *path, const char *magic,
                  ks_err *err);
/* The same for a file with page checksums (flags KS_FILE_PAGED):
 * ks_wfile_finish appends the page tables after the body. Memory: 4 bytes
 * per 4096 written. */
int ks_wfile_open_paged(ks_wfile *w, const char *path, const char *magic,
                        ks_err *err);
/* Append bytes (sticky error, checked by ks_wfile_finish). */
void ks_wfile_write(ks_wfile *w, const void *p, size_t n);
void ks_wfile_u32(ks_wfile *w, uint32_t v);
void ks_wfile_u64(ks_wfile *w, uint64_t v);
void ks_wfile_varint(ks_wfile *w, uint64_t v);
/* End the body (a paged file: append its page tables and tail), append
 * the CRC footer, flush, optionally fsync, close. KS_OK, KS_EIO or
 * KS_ENOMEM. The ks_wfile is closed afterwards even on error. */
int ks_wfile_finish(ks_wfile *w, int do_fsync, ks_err *err);
/* Close and delete a half-written file (error paths). */
void ks_wfile_abort(ks_wfile *w);

/* Path helper: snprintf into a fresh heap string ("%s/%06u.tid" ...).
 * Returns NULL on out of memory. Free with ks_free. */
char *ks_path(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif /* KS_FILE_INT_H */
