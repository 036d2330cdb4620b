/*
 * engine_int.h - the engine API's internals (libkosearch-internal): the
 * backend registry and the native backend's operations table.
 *
 * The engine (kosearch/db.h, kosearch/results.h, kosearch/writer.h) owns
 * no index logic: every call goes through the ks_backend_ops table of the
 * backend that holds the index (kosearch/backend.h). This folder sits
 * above indexer/ and searcher/ and is the only code that knows both.
 *
 * Sections: backend.c (registry), native.c (native backend ops).
 */
#ifndef KS_ENGINE_INT_H
#define KS_ENGINE_INT_H

#ifndef KS_BACKEND_UNSTABLE_API
#define KS_BACKEND_UNSTABLE_API
#endif
#include "kosearch/backend.h"

/* ---- backend.c ------------------------------------------------------------ */

/* The backend named `name` (NULL: "native"), or NULL if none is
 * registered. */
const ks_backend_ops *ks_backend_find(const char *name);

/* The first registered backend whose detect() accepts `path`, or NULL. */
const ks_backend_ops *ks_backend_detect(const char *path);

/* 1 if `path` looks like a Xapian database or a kosearch shard directory
 * (its files), whether or not the Xapian backend is registered: lets the
 * engine say "built without Xapian" instead of "not an index". */
int ks_backend_looks_xapian(const char *path);

/* The error for a backend that is not available. */
int ks_backend_missing(const char *name, const char *path, ks_err *err);

/* ---- native.c ------------------------------------------------------------- */

/* The native backend (indexer/ + searcher/), always registered. */
extern const ks_backend_ops ks_native_backend;

#endif /* KS_ENGINE_INT_H */
