/*
 * file.c - implements file_int.h: mmap-based reading with header/CRC
 * checks and page verification on first use, and checksummed buffered
 * writing (with the page tables of paged files) with fsync.
 * Spec: docs/format/README.md sections 2 and 8.
 *
 * Invariants: a ks_wfile's crc, combined with page_crc over the page_fill
 * bytes of the current page, equals crc32 of the bytes written so far, so
 * the footer is appended without re-reading the file (each byte goes
 * through crc32 once: a completed page's CRC is folded into the file's
 * with crc32_combine_op). A set bit in a ks_map's `verified` bitmap means
 * that page (or page-table piece) matched its checksum; bits are only
 * ever set, and a page is trusted only through its bit, so two threads
 * verifying the same page at once merely do the work twice.
 *
 * Why zlib's crc32 per 4096-byte page: it is the CRC the frame already
 * uses (Python's binascii.crc32 checks either), it runs at about 2 GB/s
 * here (2 us per page, measured: docs/format/README.md section 8), which
 * is small next to the cost of faulting the page in from the page cache
 * on first use; and a page is the unit the kernel reads anyway, so
 * verifying a whole page costs no extra I/O or resident memory.
 */
#include "file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ks_alloc.h"
#include "ks_buf.h"
#include "ks_io.h"

/* The checksum of page (or page-table piece) number i whose bytes have
 * the CRC32 `crc`: the CRC32 of its bytes followed by i as a u64, so that
 * each checksum is bound to its place (and no checksum directly follows
 * the bytes it covers from offset 0, which would make the whole-file CRC
 * of every valid one-page file the same constant). */
static uint32_t page_sum(uint32_t crc, uint64_t i) {
  uint8_t le[8];
  ks_store_u64(le, i);
  return (uint32_t)crc32(crc, le, 8);
}

/* Contract: file_int.h. */
char *ks_path(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = ks_malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* ---- reading ------------------------------------------------------------- */

/* Contract: file_int.h. */
int ks_map_open(ks_map *m, const char *path, ks_err *err) {
  memset(m, 0, sizeof *m);
  m->path = ks_strndup(path, strlen(path));
  if (!m->path) return ks_err_set(err, KS_ENOMEM, "[file][open] out of memory");
  int fd = ks_io_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    ks_map_close(m);
    return ks_err_set(err, e == ENOENT ? KS_NOTFOUND : KS_EIO,
                      "[file][open] %s: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    ks_map_close(m);
    return ks_err_set(err, KS_EIO, "[file][open] %s: %s", path, strerror(e));
  }
  m->size = (size_t)st.st_size;
  m->body = m->size >= KS_FILE_FOOTER ? m->size - KS_FILE_FOOTER : 0;
  if (m->size > 0) {
    void *p = ks_io_mmap(m->size, fd);
    if (p == MAP_FAILED) {
      int e = errno;
      close(fd);
      ks_map_close(m);
      return ks_err_set(err, KS_EIO, "[file][mmap] %s: %s", path, strerror(e));
    }
    m->data = p;
  }
  close(fd);
  return KS_OK;
}

/* Contract: file_int.h. */
void ks_map_close(ks_map *m) {
  if (m->data) munmap((void *)m->data, m->size);
  ks_free(m->path);
  ks_free((void *)m->verified);
  memset(m, 0, sizeof *m);
}

static uint32_t crc_of(const uint8_t *p, uint64_t n);

/* Every checksum comparison of the readers (whole-file CRC, page table,
 * pages) goes through SUM_OK. In the fuzzing tree only (KS_FUZZING, set by
 * -DKS_FUZZ=ON, tests/fuzz/) a checksum is not computed and always
 * matches, so that a mutated file reaches the structural checks behind it
 * (bounds, counts, orders) instead of stopping at the first CRC; the
 * range arithmetic that locates the checksummed bytes and the load of the
 * stored checksum still run. */
#ifdef KS_FUZZING
static uint32_t crc_of(const uint8_t *p, uint64_t n) __attribute__((unused));
#define SUM_OK(computed, stored) ((void)sizeof(computed), (void)(stored), 1)
#else
#define SUM_OK(computed, stored) ((computed) == (stored))
#endif

/* Contract: file_int.h. */
int ks_map_crc_ok(const ks_map *m) {
  if (m->size < KS_FILE_HEADER + KS_FILE_FOOTER) return 0;
  return SUM_OK(crc_of(m->data, m->size - KS_FILE_FOOTER),
                ks_load_u32(m->data + m->size - KS_FILE_FOOTER));
}

/* Size, magic, version and flags of the header (shared by both checks). */
static int check_header(const ks_map *m, const char *magic, size_t min_size,
                        uint32_t flags, ks_err *err) {
  if (m->size < min_size)
    return ks_err_set(err, KS_ECORRUPT,
                      "[file][check] %s: file too short (%zu bytes; truncated?)",
                      m->path, m->size);
  if (memcmp(m->data, magic, 8) != 0)
    return ks_err_set(err, KS_ECORRUPT,
                      "[file][check] %s: bad magic (not a kosearch %.8s file)",
                      m->path, magic);
  uint32_t version = ks_load_u32(m->data + 8);
  if (version != KS_FORMAT_VERSION)
    return ks_err_set(err, KS_EVERSION,
                      "[file][check] %s: format version %u is not supported "
                      "(this build reads version %u)",
                      m->path, version, KS_FORMAT_VERSION);
  if (ks_load_u32(m->data + 12) != flags)
    return ks_err_set(err, KS_ECORRUPT, "[file][check] %s: unknown flags",
                      m->path);
  return KS_OK;
}

static int crc_mismatch(const ks_map *m, ks_err *err) {
  return ks_err_set(err, KS_ECORRUPT,
                    "[file][check] %s: checksum mismatch (file is corrupt)",
                    m->path);
}

/* Contract: file_int.h. */
int ks_map_check(const ks_map *m, const char *magic, size_t min_body,
                 int verify_crc, ks_err *err) {
  int rc = check_header(m, magic, KS_FILE_HEADER + KS_FILE_FOOTER + min_body, 0, err);
  if (rc) return rc;
  if (verify_crc && !ks_map_crc_ok(m)) return crc_mismatch(m, err);
  return KS_OK;
}

static uint32_t crc_of(const uint8_t *p, uint64_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) { /* zlib takes uInt lengths */
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)crc;
}

/* Contract: file_int.h. */
int ks_map_check_paged(ks_map *m, const char *magic, size_t min_body,
                       int verify_crc, ks_err *err) {
  /* the smallest frame: one page, one piece */
  int rc = check_header(m, magic, KS_FILE_HEADER + min_body + 4 + 4 + KS_PAGE_TAIL +
                        KS_FILE_FOOTER, KS_FILE_PAGED, err);
  if (rc) return rc;
  const uint8_t *tail = m->data + m->size - KS_FILE_FOOTER - KS_PAGE_TAIL;
  uint64_t body = ks_load_u64(tail);
  uint32_t page = ks_load_u32(tail + 8);
  /* The file size determines the body size (the size is strictly
   * increasing in it), so a damaged body size cannot go unnoticed. */
  uint64_t n1 = 0, n2 = 0, room = m->size - KS_FILE_FOOTER - KS_PAGE_TAIL;
  int ok = page == KS_PAGE_SIZE && body >= KS_FILE_HEADER + min_body && body <= room;
  if (ok) {
    n1 = (body + KS_PAGE_SIZE - 1) >> KS_PAGE_SHIFT;
    n2 = (4 * n1 + KS_PAGE_SIZE - 1) >> KS_PAGE_SHIFT;
    ok = room - body == 4 * n1 + 4 * n2;
  }
  if (!ok)
    return ks_err_set(err, KS_ECORRUPT, "[file][check] %s: bad page frame "
                      "(truncated?)", m->path);
  const uint8_t *table2 = m->data + body + 4 * n1;
  if (!SUM_OK(crc_of(table2, 4 * n2 + 12), ks_load_u32(tail + 12)))
    return ks_err_set(err, KS_ECORRUPT, "[file][check] %s: page table checksum "
                      "mismatch (file is corrupt)", m->path);
  if (verify_crc && !ks_map_crc_ok(m)) return crc_mismatch(m, err);
  size_t words = (size_t)((n1 + 63) / 64 + (n2 + 63) / 64);
  m->verified = ks_calloc(words, sizeof *m->verified);
  if (!m->verified) return ks_err_set(err, KS_ENOMEM, "[file][check] out of memory");
  m->body = (size_t)body;
  m->npages = n1;
  m->ntable = n2;
  m->page_crcs = m->data + body;
  m->table_crcs = table2;
  return KS_OK;
}

static int test_bit(_Atomic uint64_t *bits, uint64_t i) {
  return (int)((atomic_load_explicit(&bits[i >> 6], memory_order_acquire) >> (i & 63)) & 1);
}

static void set_bit(_Atomic uint64_t *bits, uint64_t i) {
  atomic_fetch_or_explicit(&bits[i >> 6], (uint64_t)1 << (i & 63), memory_order_release);
}

/* Compare piece t of the page table with its CRC. */
static int check_piece(const ks_map *m, uint64_t t, ks_err *err) {
  uint64_t start = t << KS_PAGE_SHIFT, n = 4 * m->npages - start;
  if (n > KS_PAGE_SIZE) n = KS_PAGE_SIZE;
  if (!SUM_OK(page_sum(crc_of(m->page_crcs + start, n), t),
              ks_load_u32(m->table_crcs + 4 * t)))
    return ks_err_set(err, KS_ECORRUPT, "[file][page] %s: checksum mismatch in "
                      "the page table (piece %llu; file is corrupt)", m->path,
                      (unsigned long long)t);
  return KS_OK;
}

/* Compare page i with its CRC (the page table piece must be trusted). */
static int check_page(const ks_map *m, uint64_t i, ks_err *err) {
  uint64_t start = i << KS_PAGE_SHIFT, n = m->body - start;
  if (n > KS_PAGE_SIZE) n = KS_PAGE_SIZE;
  if (!SUM_OK(page_sum(crc_of(m->data + start, n), i),
              ks_load_u32(m->page_crcs + 4 * i)))
    return ks_err_set(err, KS_ECORRUPT, "[file][page] %s: checksum mismatch in "
                      "page %llu (bytes %llu..%llu; file is corrupt)", m->path,
                      (unsigned long long)i, (unsigned long long)start,
                      (unsigned long long)(start + n - 1));
  return KS_OK;
}

static _Atomic uint64_t *table_bits(const ks_map *m) {
  return m->verified + (m->npages + 63) / 64;
}

/* Verify page i (whose bit is not set yet), first the piece of the page
 * table that holds its CRC (1024 CRCs per piece). */
static int verify_page(const ks_map *m, uint64_t i, ks_err *err) {
  uint64_t t = i >> (KS_PAGE_SHIFT - 2);
  int rc;
  if (!test_bit(table_bits(m), t)) {
    if ((rc = check_piece(m, t, err))) return rc;
    set_bit(table_bits(m), t);
  }
  if ((rc = check_page(m, i, err))) return rc;
  set_bit(m->verified, i);
  return KS_OK;
}

/* Contract: file_int.h. */
int ks_map_verify_pages(const ks_map *m, uint64_t off, uint64_t len,
                        ks_err *err) {
  if (!m->verified || len == 0) return KS_OK;
  if (off > m->body || len > m->body - off)
    return ks_err_set(err, KS_ECORRUPT, "[file][page] %s: bytes %llu..+%llu are "
                      "outside the data", m->path, (unsigned long long)off,
                      (unsigned long long)len);
  uint64_t last = (off + len - 1) >> KS_PAGE_SHIFT;
  for (uint64_t i = off >> KS_PAGE_SHIFT; i <= last; i++) {
    if (test_bit(m->verified, i)) continue;
    int rc = verify_page(m, i, err);
    if (rc) return rc;
  }
  return KS_OK;
}

/* Contract: file_int.h. */
int ks_map_verify_all(const ks_map *m, ks_err *err) {
  if (!m->verified) return KS_OK;
  /* Everything again, even what this process verified before. */
  int rc = KS_OK;
  for (uint64_t t = 0; t < m->ntable && !rc; t++)
    if (!(rc = check_piece(m, t, err))) set_bit(table_bits(m), t);
  for (uint64_t i = 0; i < m->npages && !rc; i++)
    if (!(rc = check_page(m, i, err))) set_bit(m->verified, i);
  return rc;
}

/* ---- writing ------------------------------------------------------------- */

static int wfile_open(ks_wfile *w, const char *path, const char *magic,
                      uint32_t flags, ks_err *err) {
  memset(w, 0, sizeof *w);
  w->path = ks_strndup(path, strlen(path));
  if (!w->path) return ks_err_set(err, KS_ENOMEM, "[file][create] out of memory");
  w->fp = ks_io_fopen(path, "wbe");
  if (!w->fp) {
    int e = errno;
    ks_free(w->path);
    w->path = NULL;
    return ks_err_set(err, KS_EIO, "[file][create] %s: %s", path, strerror(e));
  }
  w->buf = ks_malloc(KS_WFILE_BUF);
  if (!w->buf) {
    fclose(w->fp);
    unlink(path);
    ks_free(w->path);
    w->path = NULL;
    w->fp = NULL;
    return ks_err_set(err, KS_ENOMEM, "[file][create] out of memory");
  }
  w->crc = (uint32_t)crc32(0L, Z_NULL, 0);
  if (flags & KS_FILE_PAGED) {
    w->paged = 1;
    w->page_crc = w->crc;
    w->page_op = crc32_combine_gen(KS_PAGE_SIZE);
  }
  uint8_t hdr[KS_FILE_HEADER];
  memcpy(hdr, magic, 8);
  ks_store_u32(hdr + 8, KS_FORMAT_VERSION);
  ks_store_u32(hdr + 12, flags);
  ks_wfile_write(w, hdr, sizeof hdr);
  return KS_OK;
}

/* Contract: file_int.h. */
int ks_wfile_open(ks_wfile *w, const char *path, const char *magic,
                  ks_err *err) {
  return wfile_open(w, path, magic, 0, err);
}

/* Contract: file_int.h. */
int ks_wfile_open_paged(ks_wfile *w, const char *path, const char *magic,
                        ks_err *err) {
  return wfile_open(w, path, magic, KS_FILE_PAGED, err);
}

/* Record the CRC of the current page (`page_fill` bytes: a whole page,
 * or the last, partial one) and fold it into the file's CRC. */
static void end_page(ks_wfile *w) {
  if (w->npages == w->pages_cap) {
    size_t cap = w->pages_cap ? 2 * w->pages_cap : 256;
    uint8_t *p = ks_realloc(w->pages, 4 * cap);
    if (!p) {
      w->failed = ENOMEM;
      return;
    }
    w->pages = p;
    w->pages_cap = cap;
  }
  ks_store_u32(w->pages + 4 * w->npages, page_sum(w->page_crc, w->npages));
  w->npages++;
  w->crc = (uint32_t)(w->page_fill == KS_PAGE_SIZE
                          ? crc32_combine_op(w->crc, w->page_crc, w->page_op)
                          : crc32_combine(w->crc, w->page_crc, (z_off_t)w->page_fill));
  w->page_crc = (uint32_t)crc32(0L, Z_NULL, 0);
  w->page_fill = 0;
}

/* Write bytes to the file and fold them into the CRC (and the page CRCs). */
static void put_raw(ks_wfile *w, const uint8_t *b, size_t n) {
  if (w->failed || n == 0) return;
  if (ks_io_fwrite(b, n, w->fp) != n) {
    w->failed = errno ? errno : EIO;
    return;
  }
  if (w->paged) {
    while (n > 0 && !w->failed) {
      size_t k = KS_PAGE_SIZE - w->page_fill;
      if (k > n) k = n;
      w->page_crc = (uint32_t)crc32(w->page_crc, b, (uInt)k);
      w->page_fill += (uint32_t)k;
      b += k;
      n -= k;
      if (w->page_fill == KS_PAGE_SIZE) end_page(w);
    }
    return;
  }
  while (n > 0) {
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    w->crc = (uint32_t)crc32(w->crc, b, chunk);
    b += chunk;
    n -= chunk;
  }
}

static void flush_buf(ks_wfile *w) {
  put_raw(w, w->buf, w->blen);
  w->blen = 0;
}

/* End the body of a paged file: its page table, the table-page table and
 * the tail (docs/format/README.md section 2), written unpaged. */
static void write_page_tables(ks_wfile *w) {
  flush_buf(w);
  uint64_t body = w->offset;
  if (w->page_fill > 0) end_page(w); /* the last, partial page */
  w->paged = 0;
  if (w->failed) return;
  size_t n1 = w->npages, bytes = 4 * n1;
  ks_wfile_write(w, w->pages, bytes);
  uint8_t t[KS_PAGE_TAIL];
  uLong tail_crc = crc32(0L, Z_NULL, 0);
  for (size_t off = 0; off < bytes; off += KS_PAGE_SIZE) {
    size_t k = bytes - off < KS_PAGE_SIZE ? bytes - off : KS_PAGE_SIZE;
    ks_store_u32(t, page_sum((uint32_t)crc32(0L, w->pages + off, (uInt)k),
                             off >> KS_PAGE_SHIFT));
    tail_crc = crc32(tail_crc, t, 4);
    ks_wfile_write(w, t, 4);
  }
  ks_store_u64(t, body);
  ks_store_u32(t + 8, KS_PAGE_SIZE);
  tail_crc = crc32(tail_crc, t, 12);
  ks_store_u32(t + 12, (uint32_t)tail_crc);
  ks_wfile_write(w, t, KS_PAGE_TAIL);
}

/* Contract: file_int.h. */
void ks_wfile_write(ks_wfile *w, const void *p, size_t n) {
  if (w->failed || n == 0) return;
  /* Pending bytes always go out first: output order is input order. */
  if (w->blen + n > KS_WFILE_BUF || n >= KS_WFILE_BUF / 2) flush_buf(w);
  if (n >= KS_WFILE_BUF / 2) {
    put_raw(w, p, n);
  } else {
    memcpy(w->buf + w->blen, p, n);
    w->blen += n;
  }
  w->offset += n;
}

/* Contract: file_int.h. */
void ks_wfile_u32(ks_wfile *w, uint32_t v) {
  uint8_t t[4];
  ks_store_u32(t, v);
  ks_wfile_write(w, t, 4);
}

/* Contract: file_int.h. */
void ks_wfile_u64(ks_wfile *w, uint64_t v) {
  uint8_t t[8];
  ks_store_u64(t, v);
  ks_wfile_write(w, t, 8);
}

/* Contract: file_int.h. */
void ks_wfile_varint(ks_wfile *w, uint64_t v) {
  uint8_t t[10];
  ks_wfile_write(w, t, ks_varint_encode(t, v));
}

/* Contract: file_int.h. */
int ks_wfile_finish(ks_wfile *w, int do_fsync, ks_err *err) {
  int rc = KS_OK;
  if (!w->fp) return ks_err_set(err, KS_EIO, "[file][write] file not open");
  if (w->paged) write_page_tables(w);
  flush_buf(w);
  ks_free(w->buf);
  w->buf = NULL;
  ks_free(w->pages);
  w->pages = NULL;
  uint8_t t[4];
  ks_store_u32(t, w->crc);
  if (!w->failed && ks_io_fwrite(t, 4, w->fp) != 4) w->failed = errno ? errno : EIO;
  if (!w->failed && ks_io_fflush(w->fp) != 0) w->failed = errno ? errno : EIO;
  if (!w->failed && do_fsync && ks_io_fsync(fileno(w->fp)) != 0)
    w->failed = errno ? errno : EIO;
  if (ks_io_fclose(w->fp) != 0 && !w->failed) w->failed = errno ? errno : EIO;
  w->fp = NULL;
  if (w->failed)
    rc = ks_err_set(err, w->failed == ENOMEM ? KS_ENOMEM : KS_EIO,
                    "[file][write] %s: %s", w->path, strerror(w->failed));
  else
    w->offset += 4;
  ks_free(w->path);
  w->path = NULL;
  return rc;
}

/* Contract: file_int.h. */
void ks_wfile_abort(ks_wfile *w) {
  ks_free(w->buf);
  ks_free(w->pages);
  if (w->fp) fclose(w->fp);
  if (w->path) unlink(w->path);
  ks_free(w->path);
  memset(w, 0, sizeof *w);
}
