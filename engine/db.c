/*
 * db.c - implements kosearch/db.h and kosearch/results.h: the engine
 * handle, dispatching through the backend's ks_backend_ops.
 *
 * Paging: a search with offset o and k hits asks the backend for the best
 * o + k and exposes hits o .. o + k - 1; ranks stay those of the whole
 * ranking. A backend without its own parser (ops->search) gets the query
 * parsed and analyzed by the native parser (ks_query_plan, searcher/), so
 * every backend reads the query language the same way; its snippets are
 * made from the stored JSON with the same plan.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_int.h"
#include "index.h"
#include "ks_alloc.h"
#include "query_plan.h"

struct ks_db {
  const ks_backend_ops *ops;
  void *h;              /* the backend's handle */
};

struct ks_results {
  ks_db *db;
  void *res;            /* the backend's results */
  ks_query_plan *plan;  /* the parsed query (backends without search_text) */
  ks_query_clause *clauses;
  size_t offset;        /* hits skipped */
  size_t count;         /* hits exposed */
};

/* ---- opening -------------------------------------------------------------- */

static int db_new(const ks_backend_ops *ops, const char *const *specs, size_t n, ks_db **out,
                  ks_err *err) {
  ks_db *db = ks_calloc(1, sizeof *db);
  if (!db) return ks_err_set(err, KS_ENOMEM, "[engine][open] out of memory");
  int rc = ops->open(specs, n, &db->h, err);
  if (rc != KS_OK) {
    ks_free(db);
    return rc;
  }
  db->ops = ops;
  *out = db;
  return KS_OK;
}

/* Which backend holds `path`; KS_OK with *ops set, or an error saying why
 * none does. */
static int detect(const char *path, const ks_backend_ops **ops, ks_err *err) {
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return ks_err_set(err, KS_NOTFOUND, "[engine][open] %s: no such directory", path);
    return ks_err_set(err, KS_EIO, "[engine][open] %s: %s", path, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return ks_err_set(err, KS_NOTFOUND,
                      "[engine][open] %s: not a directory (an index is a directory)", path);
  *ops = ks_backend_detect(path);
  if (*ops) return KS_OK;
  if (ks_backend_looks_xapian(path) && !ks_backend_find("xapian"))
    return ks_backend_missing("xapian", path, err);
  *ops = &ks_native_backend; /* its open says what is missing */
  return KS_OK;
}

/* Contract: kosearch/db.h. */
int ks_db_open(const char *path, ks_db **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][open] NULL output");
  *out = NULL;
  if (!path || !path[0]) return ks_err_set(err, KS_EINVAL, "[engine][open] empty path");
  const ks_backend_ops *ops = NULL;
  int rc = detect(path, &ops, err);
  if (rc != KS_OK) return rc;
  return db_new(ops, &path, 1, out, err);
}

/* Contract: kosearch/db.h. */
int ks_db_open_shards(const char *const *specs, size_t n, ks_db **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][open] NULL output");
  *out = NULL;
  if (!specs || n == 0) return ks_err_set(err, KS_EINVAL, "[engine][open] no shard given");
  for (size_t i = 0; i < n; i++)
    if (!specs[i] || !specs[i][0])
      return ks_err_set(err, KS_EINVAL, "[engine][open] shard %zu: empty spec", i + 1);
  const ks_backend_ops *ops = ks_backend_find("xapian");
  if (!ops) return ks_backend_missing("xapian", specs[0], err);
  return db_new(ops, specs, n, out, err);
}

/* Contract: kosearch/db.h. */
int ks_db_dup(ks_db *db, ks_db **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][dup] NULL output");
  *out = NULL;
  if (!db) return ks_err_set(err, KS_EINVAL, "[engine][dup] NULL handle");
  ks_db *d = ks_calloc(1, sizeof *d);
  if (!d) return ks_err_set(err, KS_ENOMEM, "[engine][dup] out of memory");
  int rc = db->ops->dup(db->h, &d->h, err);
  if (rc != KS_OK) {
    ks_free(d);
    return rc;
  }
  d->ops = db->ops;
  *out = d;
  return KS_OK;
}

/* Contract: kosearch/db.h. */
int ks_db_reopen(ks_db *db, ks_db **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][reopen] NULL output");
  *out = NULL;
  if (!db) return ks_err_set(err, KS_EINVAL, "[engine][reopen] NULL handle");
  void *h = NULL;
  int rc = db->ops->reopen(db->h, &h, err);
  if (rc != KS_OK || !h) return rc;
  ks_db *d = ks_calloc(1, sizeof *d);
  if (!d) {
    db->ops->close(h);
    return ks_err_set(err, KS_ENOMEM, "[engine][reopen] out of memory");
  }
  d->ops = db->ops;
  d->h = h;
  *out = d;
  return KS_OK;
}

/* Contract: kosearch/db.h. */
void ks_db_close(ks_db *db) {
  if (!db) return;
  db->ops->close(db->h);
  ks_free(db);
}

/* Contract: kosearch/db.h. */
const char *ks_db_backend(const ks_db *db) { return db ? db->ops->name : ""; }

/* ---- searching ------------------------------------------------------------ */

/* The engine's own limit; k1, b and the other parameters are checked by
 * each backend (searcher/search.c, xapian/xapian.cc), with its message. */
static int check_opts(const ks_search_opts *o, ks_err *err) {
  if ((uint64_t)o->k + o->offset > KS_MAX_HITS)
    return ks_err_set(err, KS_EINVAL, "[engine][search] k + offset must be at most %u (got %llu)",
                      KS_MAX_HITS, (unsigned long long)o->k + o->offset);
  return KS_OK;
}

/* A backend without search_text ranks with Xapian's BM25Weight formula
 * (kosearch/backend.h), the native KS_RANK_BM25_XAPIAN. */
static int check_ranking(const ks_db *db, ks_search_opts *o, ks_err *err) {
  if (o->ranking != KS_RANK_DEFAULT && o->ranking != KS_RANK_BM25 &&
      o->ranking != KS_RANK_BM25_XAPIAN)
    return ks_err_set(err, KS_EINVAL, "[engine][search] unknown ranking %d", o->ranking);
  if (db->ops->search_text) return KS_OK;
  if (o->ranking == KS_RANK_BM25)
    return ks_err_set(err, KS_EINVAL,
                      "[engine][search] the %s backend ranks with bm25-xapian only (Xapian's "
                      "BM25Weight), not bm25",
                      db->ops->name);
  o->ranking = KS_RANK_BM25_XAPIAN;
  return KS_OK;
}

/* Parse the query for a backend without search_text and run it. */
static int search_clauses(ks_db *db, const char *query, size_t len, const ks_search_opts *o,
                          uint32_t nhits, ks_results *r, ks_err *err) {
  int rc = ks_query_plan_new(query, len, NULL, &r->plan, err);
  if (rc != KS_OK) return rc;
  size_t n = ks_query_plan_count(r->plan);
  r->clauses = ks_calloc(n ? n : 1, sizeof *r->clauses);
  if (!r->clauses) return ks_err_set(err, KS_ENOMEM, "[engine][search] out of memory");
  for (size_t i = 0; i < n; i++) {
    rc = ks_query_plan_clause(r->plan, i, &r->clauses[i]);
    if (rc != KS_OK) return ks_err_set(err, rc, "[engine][search] clause %zu", i);
  }
  return db->ops->search(db->h, r->clauses, n, o, nhits, &r->res, err);
}

static void results_release(ks_results *r) {
  r->db->ops->results_free(r->res);
  ks_query_plan_free(r->plan);
  ks_free(r->clauses);
  ks_free(r);
}

/* Contract: kosearch/db.h. */
int ks_db_search(ks_db *db, const char *query, size_t len, const ks_search_opts *opts,
                 ks_results **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][search] NULL output");
  *out = NULL;
  if (!db || !query) return ks_err_set(err, KS_EINVAL, "[engine][search] NULL argument");
  if (len == SIZE_MAX) len = strlen(query);
  ks_search_opts o;
  if (opts) o = *opts;
  else ks_search_opts_default(&o);
  int rc = check_opts(&o, err);
  if (rc == KS_OK) rc = check_ranking(db, &o, err);
  if (rc != KS_OK) return rc;
  ks_results *r = ks_calloc(1, sizeof *r);
  if (!r) return ks_err_set(err, KS_ENOMEM, "[engine][search] out of memory");
  r->db = db;
  uint32_t nhits = o.k + o.offset;
  if (db->ops->search_text)
    rc = db->ops->search_text(db->h, query, len, &o, nhits, &r->res, err);
  else
    rc = search_clauses(db, query, len, &o, nhits, r, err);
  if (rc != KS_OK) {
    results_release(r);
    return rc;
  }
  size_t have = db->ops->results_count(r->res);
  r->offset = o.offset;
  r->count = have > o.offset ? have - o.offset : 0;
  if (r->count > o.k) r->count = o.k;
  *out = r;
  return KS_OK;
}

/* Contract: kosearch/db.h. */
int ks_db_get(ks_db *db, const char *id, size_t id_len, char **json, size_t *len, ks_err *err) {
  if (!json) return ks_err_set(err, KS_EINVAL, "[engine][get] NULL output");
  *json = NULL;
  if (len) *len = 0;
  if (!db || !id) return ks_err_set(err, KS_EINVAL, "[engine][get] NULL argument");
  size_t l = 0;
  int rc = db->ops->get(db->h, id, id_len, json, &l, err);
  if (rc == KS_OK && len) *len = l;
  return rc;
}

/* Contract: kosearch/db.h. */
int ks_db_get_stats(ks_db *db, ks_db_stats *st, ks_err *err) {
  if (!db || !st) return ks_err_set(err, KS_EINVAL, "[engine][stats] NULL argument");
  memset(st, 0, sizeof *st);
  st->backend = db->ops->name;
  return db->ops->stats(db->h, st, err);
}

/* Contract: kosearch/db.h. */
int ks_db_check(const char *path, void (*report)(void *ctx, const char *line), void *ctx,
                ks_err *err) {
  if (!path || !path[0]) return ks_err_set(err, KS_EINVAL, "[engine][check] empty path");
  const ks_backend_ops *ops = NULL;
  int rc = detect(path, &ops, err);
  if (rc != KS_OK) return rc;
  if (!ops->check)
    return ks_err_set(err, KS_EUNSUPPORTED, "[engine][check] %s: the %s backend cannot check",
                      path, ops->name);
  return ops->check(path, report, ctx, err);
}

/* ---- results -------------------------------------------------------------- */

/* Contract: kosearch/results.h. */
size_t ks_results_count(const ks_results *r) { return r ? r->count : 0; }

/* Contract: kosearch/results.h. */
uint64_t ks_results_offset(const ks_results *r) { return r ? r->offset : 0; }

/* Contract: kosearch/results.h. */
uint64_t ks_results_matches(const ks_results *r) {
  int exact;
  return r ? r->db->ops->results_matches(r->res, &exact) : 0;
}

/* Contract: kosearch/results.h. */
int ks_results_matches_exact(const ks_results *r) {
  int exact = 1;
  if (r) r->db->ops->results_matches(r->res, &exact);
  return exact;
}

/* Contract: kosearch/results.h. */
int ks_results_hit(const ks_results *r, size_t i, ks_hit *hit) {
  if (!r || !hit || i >= r->count) return KS_EINVAL;
  ks_hit h;
  int rc = r->db->ops->results_hit(r->res, r->offset + i, &h.id, &h.id_len, &h.score, NULL);
  if (rc != KS_OK) return rc;
  h.rank = (uint64_t)r->offset + i + 1;
  *hit = h;
  return KS_OK;
}

/* Contract: kosearch/results.h. */
int ks_results_json(ks_results *r, size_t i, char **json, size_t *len, ks_err *err) {
  if (!json) return ks_err_set(err, KS_EINVAL, "[engine][json] NULL output");
  *json = NULL;
  if (len) *len = 0;
  if (!r || i >= r->count) return ks_err_set(err, KS_EINVAL, "[engine][json] no hit %zu", i);
  size_t l = 0;
  int rc = r->db->ops->results_json(r->res, r->offset + i, json, &l, err);
  if (rc == KS_OK && len) *len = l;
  return rc;
}

/* Contract: kosearch/results.h. */
int ks_results_snippet(ks_results *r, size_t i, size_t max_chars, const char *mark_open,
                       const char *mark_close, char **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][snippet] NULL output");
  *out = NULL;
  if (!r || i >= r->count) return ks_err_set(err, KS_EINVAL, "[engine][snippet] no hit %zu", i);
  if (!mark_open) mark_open = "";
  if (!mark_close) mark_close = "";
  const ks_backend_ops *ops = r->db->ops;
  if (ops->results_snippet)
    return ops->results_snippet(r->res, r->offset + i, max_chars, mark_open, mark_close, out,
                                err);
  char *json = NULL;
  size_t len = 0;
  int rc = ops->results_json(r->res, r->offset + i, &json, &len, err);
  if (rc == KS_OK)
    rc = ks_query_plan_snippet(r->plan, json, len, max_chars, mark_open, mark_close, out, err);
  ks_mem_free(json);
  return rc;
}

/* Contract: kosearch/results.h. */
void ks_results_free(ks_results *r) {
  if (r) results_release(r);
}
