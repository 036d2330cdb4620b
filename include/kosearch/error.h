/*
 * kosearch/error.h - return codes, error detail and freeing library memory
 * (public, stable API).
 *
 * Every kosearch function that can fail returns an int rc. KS_OK (0) is
 * success; KS_DONE is the normal end of an iteration, not an error. Every
 * other value is an error. Values are explicit and are never renumbered or
 * reused: a retired code keeps its slot.
 *
 * Functions that can fail also take an optional `ks_err *err` (may be NULL).
 * On failure they fill it with the rc and a one-line message tagged
 * "[component][operation]" that names the file (and line, for input) or the
 * index file involved, e.g.
 *   "[idx][open] /data/idx/000001.tid: checksum mismatch (file is corrupt)".
 * A ks_err is plain memory owned by the caller: no free is needed.
 */
#ifndef KOSEARCH_ERROR_H
#define KOSEARCH_ERROR_H

#include <stddef.h>

#include "kosearch/version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  KS_OK = 0,            /* success */
  KS_DONE = 1,          /* iteration finished (not an error) */
  KS_NOTFOUND = 2,      /* looked-up item does not exist (not always an error) */
  KS_ENOMEM = -1,       /* out of memory */
  KS_EIO = -2,          /* read/write/open/fsync/rename failed (see errno text) */
  KS_ECORRUPT = -3,     /* on-disk data fails a check (magic, CRC, bounds) */
  KS_EINVAL = -4,       /* invalid argument or option */
  KS_EVERSION = -5,     /* file has an unsupported format version */
  KS_EUTF8 = -6,        /* input text is not valid UTF-8 */
  KS_EINPUT = -7,       /* malformed input record (JSON, missing field, NUL...) */
  KS_EQUERY = -8,       /* malformed query syntax */
  KS_ELIMIT = -9,       /* a size limit was exceeded (huge document, 4 GiB...) */
  KS_EICU = -10,        /* ICU reported an error */
  KS_ELOCKED = -11,     /* index is locked by another writer */
  KS_EXAPIAN = -12,     /* Xapian backend reported an error */
  KS_EUNSUPPORTED = -13 /* operation not supported by this backend/build */
};

/* Error detail filled by failing calls. `msg` is always NUL-terminated. */
typedef struct ks_err {
  int rc;          /* the code that was returned */
  char msg[1024];  /* "[component][operation] detail" */
} ks_err;

/* Static English description of rc ("checksum mismatch..."). Never NULL. */
KS_API const char *ks_strerror(int rc);

/* Fill *err (if non-NULL) with rc and a printf-style message; returns rc so
 * callers (and backends, kosearch/backend.h) can write `return ks_err_set(err, KS_EIO, "[idx][open] %s: %s", ...)`.
 * A message already present is overwritten. */
KS_API int ks_err_set(ks_err *err, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Reset *err to KS_OK with an empty message (NULL is allowed). */
KS_API void ks_err_clear(ks_err *err);

/* Free memory the library returned to the caller (stored JSON, snippets:
 * each function says when). NULL is allowed. */
KS_API void ks_mem_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_ERROR_H */
