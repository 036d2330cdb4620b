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
 *   [12..16) reserved flags, u32, must be 0 in version 1
 *   ...      kind-specific body
 *   [n-4..n) CRC32 (zlib crc32) of bytes [0..n-4), u32 little-endian
 * See docs/format/README.md.
 */
#ifndef KS_FILE_INT_H
#define KS_FILE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kosearch/error.h"

#define KS_FILE_HEADER 16
#define KS_FILE_FOOTER 4
#define KS_FORMAT_VERSION 2

/* ---- reading ------------------------------------------------------------- */

/* A read-only mapping of a whole file. */
typedef struct ks_map {
  const uint8_t *data;  /* mapping (NULL for an empty file) */
  size_t size;          /* file size in bytes */
  char *path;           /* heap copy of the path, for messages */
} ks_map;

/* Map `path` read-only. KS_OK, KS_EIO (missing file: KS_NOTFOUND). */
int ks_map_open(ks_map *m, const char *path, ks_err *err);
void ks_map_close(ks_map *m);  /* safe on a zeroed or closed map */

/* Check the header of a mapped file: size >= header + footer + min_body,
 * magic equals `magic`, version == KS_FORMAT_VERSION (else KS_EVERSION),
 * flags == 0. With verify_crc, also the CRC footer. KS_OK, KS_ECORRUPT,
 * KS_EVERSION. Messages name m->path. */
int ks_map_check(const ks_map *m, const char *magic, size_t min_body,
                 int verify_crc, ks_err *err);

/* CRC32 of the whole file except its footer equals the footer? */
int ks_map_crc_ok(const ks_map *m);

/* ---- writing ------------------------------------------------------------- */

/* Buffered writer that keeps a running CRC32 and byte count. Small writes
 * (varints, fixed fields) are gathered in buf so that neither stdio nor
 * crc32 is called per field. `offset` counts pending bytes too. */
typedef struct ks_wfile {
  FILE *fp;
  char *path;       /* heap copy */
  uint64_t offset;  /* bytes written so far */
  uint32_t crc;     /* running CRC32 of everything written */
  int failed;       /* sticky: errno after any write error */
  uint8_t *buf;     /* pending bytes (KS_WFILE_BUF), CRC not yet applied */
  size_t blen;      /* bytes pending in buf */
} ks_wfile;

#define KS_WFILE_BUF (64 * 1024)

/* Create (truncate) `path` and write the common header with `magic`.
 * KS_OK or KS_EIO. */
int ks_wfile_open(ks_wfile *w, const char *path, const char *magic,
                  ks_err *err);
/* Append bytes (sticky error, checked by ks_wfile_finish). */
void ks_wfile_write(ks_wfile *w, const void *p, size_t n);
void ks_wfile_u32(ks_wfile *w, uint32_t v);
void ks_wfile_u64(ks_wfile *w, uint64_t v);
void ks_wfile_varint(ks_wfile *w, uint64_t v);
/* Append the CRC footer, flush, optionally fsync, close. KS_OK or KS_EIO.
 * The ks_wfile is closed afterwards even on error. */
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
