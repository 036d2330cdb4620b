/*
 * error.c - implements ks_error.h: static descriptions of return codes and
 * the ks_err detail buffer helpers.
 */
#include "kosearch/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ks_strerror(int rc) {
  switch (rc) {
    case KS_OK: return "ok";
    case KS_DONE: return "done";
    case KS_NOTFOUND: return "not found";
    case KS_ENOMEM: return "out of memory";
    case KS_EIO: return "I/O error";
    case KS_ECORRUPT: return "corrupt data";
    case KS_EINVAL: return "invalid argument";
    case KS_EVERSION: return "unsupported format version";
    case KS_EUTF8: return "invalid UTF-8";
    case KS_EINPUT: return "malformed input";
    case KS_EQUERY: return "malformed query";
    case KS_ELIMIT: return "size limit exceeded";
    case KS_EICU: return "ICU error";
    case KS_ELOCKED: return "index is locked by another writer";
    case KS_EXAPIAN: return "Xapian error";
    case KS_EUNSUPPORTED: return "operation not supported";
    default: return "unknown error";
  }
}

int ks_err_set(ks_err *err, int rc, const char *fmt, ...) {
  if (err) {
    va_list ap;
    err->rc = rc;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return rc;
}

void ks_err_clear(ks_err *err) {
  if (err) {
    err->rc = KS_OK;
    err->msg[0] = '\0';
  }
}
