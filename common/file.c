/*
 * file.c - implements file_int.h: mmap-based reading with header/CRC
 * checks, and checksummed buffered writing with fsync.
 *
 * Invariant: a ks_wfile's crc always equals crc32 of the bytes written so
 * far, so the footer can be appended without re-reading the file.
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
  int fd = open(path, O_RDONLY | O_CLOEXEC);
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
  if (m->size > 0) {
    void *p = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
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
  memset(m, 0, sizeof *m);
}

/* Contract: file_int.h. */
int ks_map_crc_ok(const ks_map *m) {
  if (m->size < KS_FILE_HEADER + KS_FILE_FOOTER) return 0;
  size_t n = m->size - KS_FILE_FOOTER;
  uLong crc = crc32(0L, Z_NULL, 0);
  const uint8_t *p = m->data;
  while (n > 0) { /* zlib takes uInt lengths */
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)crc == ks_load_u32(m->data + m->size - KS_FILE_FOOTER);
}

/* Contract: file_int.h. */
int ks_map_check(const ks_map *m, const char *magic, size_t min_body,
                 int verify_crc, ks_err *err) {
  if (m->size < KS_FILE_HEADER + KS_FILE_FOOTER + min_body)
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
  if (ks_load_u32(m->data + 12) != 0)
    return ks_err_set(err, KS_ECORRUPT, "[file][check] %s: unknown flags",
                      m->path);
  if (verify_crc && !ks_map_crc_ok(m))
    return ks_err_set(err, KS_ECORRUPT,
                      "[file][check] %s: checksum mismatch (file is corrupt)",
                      m->path);
  return KS_OK;
}

/* ---- writing ------------------------------------------------------------- */

/* Contract: file_int.h. */
int ks_wfile_open(ks_wfile *w, const char *path, const char *magic,
                  ks_err *err) {
  memset(w, 0, sizeof *w);
  w->path = ks_strndup(path, strlen(path));
  if (!w->path) return ks_err_set(err, KS_ENOMEM, "[file][create] out of memory");
  w->fp = fopen(path, "wbe");
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
  uint8_t hdr[KS_FILE_HEADER];
  memcpy(hdr, magic, 8);
  ks_store_u32(hdr + 8, KS_FORMAT_VERSION);
  ks_store_u32(hdr + 12, 0);
  ks_wfile_write(w, hdr, sizeof hdr);
  return KS_OK;
}

/* Write bytes to the file and fold them into the CRC. */
static void put_raw(ks_wfile *w, const uint8_t *b, size_t n) {
  if (w->failed || n == 0) return;
  if (fwrite(b, 1, n, w->fp) != n) {
    w->failed = errno ? errno : EIO;
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
  flush_buf(w);
  ks_free(w->buf);
  w->buf = NULL;
  uint8_t t[4];
  ks_store_u32(t, w->crc);
  if (!w->failed && fwrite(t, 1, 4, w->fp) != 4) w->failed = errno ? errno : EIO;
  if (!w->failed && fflush(w->fp) != 0) w->failed = errno ? errno : EIO;
  if (!w->failed && do_fsync && fsync(fileno(w->fp)) != 0)
    w->failed = errno ? errno : EIO;
  if (fclose(w->fp) != 0 && !w->failed) w->failed = errno ? errno : EIO;
  w->fp = NULL;
  if (w->failed)
    rc = ks_err_set(err, KS_EIO, "[file][write] %s: %s", w->path,
                    strerror(w->failed));
  else
    w->offset += 4;
  ks_free(w->path);
  w->path = NULL;
  return rc;
}

/* Contract: file_int.h. */
void ks_wfile_abort(ks_wfile *w) {
  ks_free(w->buf);
  if (w->fp) fclose(w->fp);
  if (w->path) unlink(w->path);
  ks_free(w->path);
  memset(w, 0, sizeof *w);
}
