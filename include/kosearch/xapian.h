/*
 * kosearch/xapian.h - the optional Xapian backend, ks_xapian_* (public,
 * stable API). Declared by libkosearch-xapian, not by libkosearch.
 *
 *   #include <kosearch.h>
 *   #include <kosearch/xapian.h>
 *   ks_xapian_register(NULL);       // once, before opening Xapian indexes
 *   ks_db_open("wiki.xap", &db, &err);
 *
 * Link: pkg-config --libs kosearch-xapian (or the CMake target
 * kosearch::kosearch-xapian). A program that never calls ks_xapian_register
 * does not need that library; libkosearch alone has no libxapian or
 * libstdc++ dependency. What the backend stores and how it ranks:
 * docs/xapian.md.
 */
#ifndef KOSEARCH_XAPIAN_H
#define KOSEARCH_XAPIAN_H

#include "kosearch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Make the Xapian backend available to ks_db_open, ks_db_open_shards and
 * ks_writer_open (opts.backend = "xapian"). Idempotent and thread-safe.
 * Returns KS_OK, or KS_EVERSION when libkosearch-xapian and libkosearch
 * come from different versions. */
KS_API int ks_xapian_register(ks_err *err);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_XAPIAN_H */
