/*
 * native.c - the native backend's operations table (engine_int.h): the
 * engine API mapped onto the native writer (indexer/index_writer.h) and
 * the native reader (searcher/index.h).
 *
 * The native backend parses queries and analyzes documents itself
 * (search_text, writer_add_doc), so it uses its own top-k algorithms and
 * its analysis thread. A ks_index is read-only and thread-safe once open,
 * so ks_db_dup shares it: the handle is a reference-counted wrapper and the
 * index is closed with its last handle.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_int.h"
#include "index.h"
#include "index_writer.h"
#include "ks_alloc.h"

typedef struct nat_db {
  ks_index *ix;
  atomic_int refs;     /* handles sharing ix */
} nat_db;

typedef struct nat_res {
  ks_index *ix;        /* borrowed from the nat_db */
  ks_index_results *r;
} nat_res;

static int nat_detect(const char *path) {
  char p[4096];
  struct stat st;
  if (snprintf(p, sizeof p, "%s/MANIFEST", path) >= (int)sizeof p) return 0;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int nat_open(const char *const *specs, size_t n, void **db, ks_err *err) {
  *db = NULL;
  if (n != 1)
    return ks_err_set(err, KS_EUNSUPPORTED,
                      "[engine][open] native indexes are searched one at a time "
                      "(shards are a Xapian backend feature)");
  nat_db *d = ks_calloc(1, sizeof *d);
  if (!d) return ks_err_set(err, KS_ENOMEM, "[engine][open] out of memory");
  int rc = ks_index_open(specs[0], &d->ix, err);
  if (rc != KS_OK) {
    ks_free(d);
    return rc;
  }
  atomic_init(&d->refs, 1);
  *db = d;
  return KS_OK;
}

static int nat_dup(void *db, void **out, ks_err *err) {
  (void)err;
  nat_db *d = db;
  atomic_fetch_add(&d->refs, 1);
  *out = d;
  return KS_OK;
}

static void nat_close(void *db) {
  nat_db *d = db;
  if (!d || atomic_fetch_sub(&d->refs, 1) != 1) return;
  ks_index_close(d->ix);
  ks_free(d);
}

/* A new snapshot shares the unchanged segments of the old one
 * (ks_index_reopen); the handle is new, with its own reference count. */
static int nat_reopen(void *db, void **out, ks_err *err) {
  nat_db *d = db;
  *out = NULL;
  ks_index *nix = NULL;
  int rc = ks_index_reopen(d->ix, &nix, err);
  if (rc != KS_OK || !nix) return rc;
  nat_db *n = ks_calloc(1, sizeof *n);
  if (!n) {
    ks_index_close(nix);
    return ks_err_set(err, KS_ENOMEM, "[engine][reopen] out of memory");
  }
  n->ix = nix;
  atomic_init(&n->refs, 1);
  *out = n;
  return KS_OK;
}

static int nat_search_text(void *db, const char *query, size_t len, const ks_search_opts *opts,
                           uint32_t nhits, void **res, ks_err *err) {
  nat_db *d = db;
  *res = NULL;
  nat_res *r = ks_calloc(1, sizeof *r);
  if (!r) return ks_err_set(err, KS_ENOMEM, "[engine][search] out of memory");
  ks_search_opts o = *opts;
  o.k = nhits;
  int rc = ks_index_search(d->ix, query, len, &o, &r->r, err);
  if (rc != KS_OK) {
    ks_free(r);
    return rc;
  }
  r->ix = d->ix;
  *res = r;
  return KS_OK;
}

static size_t nat_results_count(void *res) { return ks_index_results_count(((nat_res *)res)->r); }

static int nat_results_hit(void *res, size_t i, const char **id, size_t *id_len, double *score,
                           ks_err *err) {
  nat_res *r = res;
  ks_index_hit h;
  int rc = ks_index_results_hit(r->r, i, &h);
  if (rc != KS_OK) return ks_err_set(err, rc, "[engine][hit] no hit %zu", i);
  *score = h.score;
  return ks_index_doc_id(r->ix, h.doc, id, id_len, err);
}

static uint64_t nat_results_matches(void *res, int *exact) {
  nat_res *r = res;
  *exact = ks_index_results_matches_exact(r->r);
  return ks_index_results_matches(r->r);
}

static int nat_results_json(void *res, size_t i, char **json, size_t *len, ks_err *err) {
  nat_res *r = res;
  ks_index_hit h;
  int rc = ks_index_results_hit(r->r, i, &h);
  if (rc != KS_OK) return ks_err_set(err, rc, "[engine][json] no hit %zu", i);
  return ks_index_doc_json(r->ix, h.doc, json, len, err);
}

static int nat_results_snippet(void *res, size_t i, size_t max_chars, const char *mark_open,
                               const char *mark_close, char **out, ks_err *err) {
  nat_res *r = res;
  return ks_index_results_snippet(r->ix, r->r, i, max_chars, mark_open, mark_close, out, err);
}

static void nat_results_free(void *res) {
  nat_res *r = res;
  if (!r) return;
  ks_index_results_free(r->r);
  ks_free(r);
}

static int nat_get(void *db, const char *id, size_t id_len, char **json, size_t *len,
                   ks_err *err) {
  nat_db *d = db;
  uint64_t doc;
  int rc = ks_index_find_id(d->ix, id, id_len, &doc, err);
  if (rc == KS_NOTFOUND)
    return ks_err_set(err, KS_NOTFOUND, "[engine][get] no document with id '%.*s'",
                      (int)(id_len > 200 ? 200 : id_len), id);
  if (rc != KS_OK) return rc;
  return ks_index_doc_json(d->ix, doc, json, len, err);
}

static int nat_stats(void *db, ks_db_stats *st, ks_err *err) {
  nat_db *d = db;
  ks_index_stats s;
  int rc = ks_index_get_stats(d->ix, &s, err);
  if (rc != KS_OK) return rc;
  st->docs = s.docs;
  st->deleted = s.deleted;
  st->terms = s.terms;
  st->postings = s.postings;
  st->field_total[0] = s.field_total[0];
  st->field_total[1] = s.field_total[1];
  st->segments = s.segments;
  st->shards = 1;
  st->generation = s.generation;
  st->bytes_tid = s.bytes_tid;
  st->bytes_doc = s.bytes_doc;
  st->bytes_pos = s.bytes_pos;
  st->bytes_len = s.bytes_len;
  st->bytes_sto = s.bytes_sto;
  st->bytes_del = s.bytes_del;
  st->bytes_manifest = s.bytes_manifest;
  st->bytes_total = s.bytes_total;
  return KS_OK;
}

static int nat_check(const char *path, void (*report)(void *ctx, const char *line), void *ctx,
                     ks_err *err) {
  return ks_index_check(path, report, ctx, err);
}

static int nat_writer_open(const char *dir, const ks_writer_opts *opts, void **w, ks_err *err) {
  *w = NULL;
  if (opts->shards)
    return ks_err_set(err, KS_EINVAL,
                      "[engine][writer] shards are a Xapian backend feature (native index: "
                      "shards must be 0)");
  ks_index_writer *iw = NULL;
  int rc = ks_index_writer_open(dir, opts, &iw, err);
  *w = iw;
  return rc;
}

static int nat_writer_add_doc(void *w, const ks_doc *doc, ks_err *err) {
  return ks_index_writer_add(w, doc, err);
}

static int nat_writer_delete(void *w, const char *id, size_t id_len, ks_err *err) {
  return ks_index_writer_delete(w, id, id_len, err);
}

static int nat_writer_merge(void *w, uint32_t max_segments, ks_err *err) {
  return ks_index_writer_merge(w, max_segments, err);
}

static int nat_writer_commit(void *w, ks_err *err) { return ks_index_writer_commit(w, err); }

static void nat_writer_stats(void *w, ks_writer_stats *st) { ks_index_writer_get_stats(w, st); }

static void nat_writer_close(void *w) { ks_index_writer_close(w); }

const ks_backend_ops ks_native_backend = {
    .abi = KS_BACKEND_ABI,
    .name = "native",
    .detect = nat_detect,
    .open = nat_open,
    .dup = nat_dup,
    .close = nat_close,
    .reopen = nat_reopen,
    .search_text = nat_search_text,
    .results_count = nat_results_count,
    .results_hit = nat_results_hit,
    .results_matches = nat_results_matches,
    .results_json = nat_results_json,
    .results_snippet = nat_results_snippet,
    .results_free = nat_results_free,
    .get = nat_get,
    .stats = nat_stats,
    .check = nat_check,
    .writer_open = nat_writer_open,
    .writer_add_doc = nat_writer_add_doc,
    .writer_delete = nat_writer_delete,
    .writer_merge = nat_writer_merge,
    .writer_commit = nat_writer_commit,
    .writer_stats = nat_writer_stats,
    .writer_close = nat_writer_close,
};
