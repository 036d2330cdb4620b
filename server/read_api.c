/*
 * read_api.c - implements the read_api.c section of server_int.h: GET
 * /search, /docs/{id}, /analyze, /stats and /health (docs/http.md).
 *
 * Each endpoint takes a handle on the current snapshot (snapshot.c) for
 * the duration of the request and gives it back before answering; the
 * JSON shapes are those of `kosearch search --json`, `get`, `analyze
 * --json` and `stats --json`. Invariant: no ks_results outlives the
 * handle it came from (it is freed before srv_snapshot_release).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

#define SNIPPET_CHARS_DEFAULT 160
#define SNIPPET_CHARS_MAX 10000

/* Parse a whole unsigned decimal in [lo, hi]. 0 or -1. */
static int parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (!v[0] || v[0] == '-' || v[0] == '+' || v[0] == ' ') return -1;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || *end || x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

/* Parse a whole finite number >= 0. 0 or -1. */
static int parse_double(const char *v, double *out) {
  if (!v[0] || v[0] == ' ') return -1;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || *end || !isfinite(x) || x < 0) return -1;
  *out = x;
  return 0;
}

/* Search options from the query string; answers 400 itself (returns 1). */
static int search_opts(srv_server *s, srv_request *rq, const srv_query *q, ks_search_opts *so,
                       uint64_t *snippet_chars, SRV_MHD_RESULT *ret) {
  ks_search_opts_default(so);
  *snippet_chars = SNIPPET_CHARS_DEFAULT;
  const char *v;
  uint64_t u;
  uint32_t maxh = s->opts.max_hits;
  if ((v = srv_query_get(q, "k", NULL))) {
    if (parse_u64(v, 0, maxh, &u)) goto bad_k;
    so->k = (uint32_t)u;
  }
  if ((v = srv_query_get(q, "offset", NULL))) {
    if (parse_u64(v, 0, maxh, &u)) {
      *ret = srv_http_error(rq, 400, NULL, "offset must be an integer from 0 to %u", maxh);
      return 1;
    }
    so->offset = (uint32_t)u;
  }
  if ((uint64_t)so->k + so->offset > maxh) {
    *ret = srv_http_error(rq, 400, NULL, "k + offset must be at most %u (--max-hits)", maxh);
    return 1;
  }
  if ((v = srv_query_get(q, "snippet_chars", NULL)) &&
      parse_u64(v, 0, SNIPPET_CHARS_MAX, snippet_chars)) {
    *ret = srv_http_error(rq, 400, NULL, "snippet_chars must be an integer from 0 to %d",
                         SNIPPET_CHARS_MAX);
    return 1;
  }
  static const char *const dnames[] = {"k1", "b", "bigram_weight", "min_normlen"};
  double *dvals[] = {&so->k1, &so->b, &so->bigram_weight, &so->min_normlen};
  for (int i = 0; i < 4; i++)
    if ((v = srv_query_get(q, dnames[i], NULL)) && parse_double(v, dvals[i])) {
      *ret = srv_http_error(rq, 400, NULL, "%s must be a finite number >= 0", dnames[i]);
      return 1;
    }
  if ((v = srv_query_get(q, "ranking", NULL))) {
    if (strcmp(v, "bm25") == 0) so->ranking = KS_RANK_BM25;
    else if (strcmp(v, "bm25-xapian") == 0) so->ranking = KS_RANK_BM25_XAPIAN;
    else if (strcmp(v, "default") == 0) so->ranking = KS_RANK_DEFAULT;
    else {
      *ret = srv_http_error(rq, 400, NULL, "ranking must be bm25, bm25-xapian or default");
      return 1;
    }
  }
  if ((v = srv_query_get(q, "algorithm", NULL))) {
    if (strcmp(v, "maxscore") == 0) so->algorithm = KS_ALGO_MAXSCORE;
    else if (strcmp(v, "bmw") == 0) so->algorithm = KS_ALGO_BMW;
    else if (strcmp(v, "exhaustive") == 0) so->algorithm = KS_ALGO_EXHAUSTIVE;
    else {
      *ret = srv_http_error(rq, 400, NULL, "algorithm must be maxscore, bmw or exhaustive");
      return 1;
    }
  }
  return 0;
bad_k:
  *ret = srv_http_error(rq, 400, NULL, "k must be an integer from 0 to %u", maxh);
  return 1;
}

/* "title" of hit i's stored JSON as a heap string ("" when none); NULL
 * with *rc set on failure. */
static char *hit_title(ks_results *r, size_t i, ks_err *e, int *rc) {
  char *json = NULL;
  size_t len = 0;
  *rc = ks_results_json(r, i, &json, &len, e);
  if (*rc) return NULL;
  cJSON *j = cJSON_ParseWithLength(json, len);
  ks_mem_free(json);
  const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "title") : NULL;
  char *out = strdup(cJSON_IsString(t) ? t->valuestring : "");
  cJSON_Delete(j);
  if (!out) *rc = ks_err_set(e, KS_ENOMEM, "[serve][search] out of memory");
  return out;
}

/* The response object of one search (the CLI's --json shape). NULL with
 * *rc and *e set on failure. */
static cJSON *results_json(ks_results *r, const char *query, const ks_search_opts *so,
                           uint64_t snippet_chars, int stored, double ms, ks_err *e, int *rc) {
  cJSON *obj = cJSON_CreateObject(), *hits = NULL;
  int ok = obj && cJSON_AddStringToObject(obj, "query", query) &&
           cJSON_AddNumberToObject(obj, "took_ms", round(ms * 1000.0) / 1000.0) &&
           cJSON_AddNumberToObject(obj, "matches", (double)ks_results_matches(r)) &&
           cJSON_AddBoolToObject(obj, "matches_exact", ks_results_matches_exact(r)) &&
           cJSON_AddNumberToObject(obj, "offset", (double)so->offset) &&
           cJSON_AddNumberToObject(obj, "k", (double)so->k) &&
           (hits = cJSON_AddArrayToObject(obj, "hits"));
  *rc = ok ? 0 : ks_err_set(e, KS_ENOMEM, "[serve][search] out of memory");
  size_t count = ks_results_count(r);
  for (size_t i = 0; i < count && !*rc; i++) {
    ks_hit h;
    if ((*rc = ks_results_hit(r, i, &h))) {
      ks_err_set(e, *rc, "[serve][search] hit %zu: %s", i + 1, ks_strerror(*rc));
      break;
    }
    char *title = stored ? hit_title(r, i, e, rc) : strdup("");
    if (!title) {
      if (!stored) *rc = ks_err_set(e, KS_ENOMEM, "[serve][search] out of memory");
      break;
    }
    char *snip = NULL;
    if (stored && snippet_chars &&
        (*rc = ks_results_snippet(r, i, (size_t)snippet_chars, "\xC2\xAB", "\xC2\xBB", &snip, e))) {
      free(title);
      break;
    }
    char *idz = strndup(h.id, h.id_len);
    cJSON *o = cJSON_CreateObject();
    ok = idz && o && cJSON_AddItemToArray(hits, o);
    if (!ok) cJSON_Delete(o);
    ok = ok && cJSON_AddNumberToObject(o, "rank", (double)h.rank) &&
         cJSON_AddStringToObject(o, "id", idz) && cJSON_AddNumberToObject(o, "score", h.score) &&
         cJSON_AddStringToObject(o, "title", title) &&
         cJSON_AddStringToObject(o, "snippet", snip ? snip : "");
    if (!ok) *rc = ks_err_set(e, KS_ENOMEM, "[serve][search] out of memory");
    free(idz);
    free(title);
    ks_mem_free(snip);
  }
  if (*rc) {
    cJSON_Delete(obj);
    return NULL;
  }
  return obj;
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_search(srv_server *s, srv_request *rq, const srv_query *q) {
  SRV_MHD_RESULT ret;
  size_t qlen = 0;
  const char *query = srv_query_get(q, "q", &qlen);
  if (!query) return srv_http_error(rq, 400, NULL, "missing parameter 'q' (the query)");
  if (qlen > s->opts.max_query_bytes)
    return srv_http_error(rq, 400, NULL, "q is %zu bytes long; the limit is %zu (--max-query-bytes)",
                         qlen, s->opts.max_query_bytes);
  ks_search_opts so;
  uint64_t snippet_chars;
  if (search_opts(s, rq, q, &so, &snippet_chars, &ret)) return ret;
  const char *sv = srv_query_get(q, "stored", NULL);
  if (sv && strcmp(sv, "0") != 0 && strcmp(sv, "1") != 0)
    return srv_http_error(rq, 400, NULL, "stored must be 0 or 1");
  int stored = !sv || strcmp(sv, "1") == 0;
  ks_err e;
  ks_err_clear(&e);
  cJSON *obj = NULL;
  int rc = 0, opened = 1;
  for (int attempt = 0; attempt < 2; attempt++) {
    srv_snapshot *snap;
    ks_db *db;
    if ((rc = srv_snapshot_acquire(s, &snap, &db, &e))) {
      opened = 0; /* no handle: the server's failure, whatever rc says */
      break;
    }
    ks_results *r = NULL;
    double t0 = srv_http_now();
    rc = ks_db_search(db, query, qlen, &so, &r, &e);
    double ms = (srv_http_now() - t0) * 1000.0;
    if (!rc) obj = results_json(r, query, &so, snippet_chars, stored, ms, &e, &rc);
    ks_results_free(r);
    srv_snapshot_release(s, snap, db);
    /* Xapian drops a reader's revision two commits later: retry once on
     * the latest commit */
    if (rc != KS_EXAPIAN || attempt == 1) break;
    ks_err e2;
    srv_snapshot_refresh(s, &e2);
  }
  if (rc)
    return srv_http_error(rq, opened ? srv_http_status_of(rc) : 500, NULL, "%s",
                          srv_http_strip_tags(e.msg));
  return srv_http_send_json(rq, 200, obj);
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_get_doc(srv_server *s, srv_request *rq) {
  ks_err e;
  ks_err_clear(&e);
  char *json = NULL;
  size_t len = 0;
  int rc = 0, opened = 1;
  for (int attempt = 0; attempt < 2; attempt++) {
    srv_snapshot *snap;
    ks_db *db;
    if ((rc = srv_snapshot_acquire(s, &snap, &db, &e))) {
      opened = 0;
      break;
    }
    rc = ks_db_get(db, rq->id, rq->id_len, &json, &len, &e);
    srv_snapshot_release(s, snap, db);
    if (rc != KS_EXAPIAN || attempt == 1) break;
    ks_err e2;
    srv_snapshot_refresh(s, &e2);
  }
  if (rc == KS_NOTFOUND && opened) return srv_http_error(rq, 404, NULL, "no document with this id");
  if (rc) return srv_http_error(rq, 500, NULL, "%s", srv_http_strip_tags(e.msg));
  /* the library's memory goes back through ks_mem_free: copy it */
  char *body = malloc(len + 1);
  if (!body) {
    ks_mem_free(json);
    return srv_http_error(rq, 500, NULL, "out of memory");
  }
  memcpy(body, json, len);
  ks_mem_free(json);
  return srv_http_send(rq, 200, body, len, NULL);
}

/* /analyze: collects the terms into a JSON array. */
typedef struct analyze_ctx {
  const char *text;
  cJSON *terms;
} analyze_ctx;

static const char *kind_name(uint8_t k) {
  return k == KS_KIND_SURFACE   ? "surface"
         : k == KS_KIND_STEM    ? "stem"
         : k == KS_KIND_COUNTER ? "counter"
                                : "bigram";
}

static int add_term(void *ctx, const ks_token *t) {
  analyze_ctx *a = ctx;
  cJSON *o = cJSON_CreateObject();
  char *term = strndup(t->term, t->len);
  char *src = strndup(a->text + t->start, t->end - t->start);
  int ok = o && term && src && cJSON_AddItemToArray(a->terms, o);
  if (!ok) cJSON_Delete(o);
  ok = ok && cJSON_AddNumberToObject(o, "pos", t->pos) &&
       cJSON_AddNumberToObject(o, "word", t->word) &&
       cJSON_AddStringToObject(o, "kind", kind_name(t->kind)) &&
       cJSON_AddStringToObject(o, "field", t->field == KS_FIELD_WORD ? "word" : "bigram") &&
       cJSON_AddStringToObject(o, "term", term) && cJSON_AddStringToObject(o, "source", src) &&
       cJSON_AddNumberToObject(o, "start", (double)t->start) &&
       cJSON_AddNumberToObject(o, "end", (double)t->end);
  free(term);
  free(src);
  return ok ? 0 : KS_ENOMEM;
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_analyze(srv_server *s, srv_request *rq, const srv_query *q) {
  size_t len = 0;
  const char *text = srv_query_get(q, "text", &len);
  if (!text) return srv_http_error(rq, 400, NULL, "missing parameter 'text'");
  size_t max = s->opts.max_query_bytes * 16;
  if (len > max)
    return srv_http_error(rq, 400, NULL, "text is %zu bytes long; the limit is %zu", len, max);
  const char *qv = srv_query_get(q, "query", NULL);
  if (qv && strcmp(qv, "0") != 0 && strcmp(qv, "1") != 0)
    return srv_http_error(rq, 400, NULL, "query must be 0 or 1");
  int reason = qv && strcmp(qv, "1") == 0 ? KS_TOK_QUERY : KS_TOK_DOCUMENT;
  cJSON *obj = cJSON_CreateObject();
  analyze_ctx a = {text, NULL};
  if (!obj || !cJSON_AddStringToObject(obj, "text", text) ||
      !cJSON_AddStringToObject(obj, "reason", reason == KS_TOK_QUERY ? "query" : "document") ||
      !(a.terms = cJSON_AddArrayToObject(obj, "terms"))) {
    cJSON_Delete(obj);
    return srv_http_error(rq, 500, NULL, "out of memory");
  }
  ks_err e;
  ks_err_clear(&e);
  ks_tok *tok = NULL; /* per request: creating one costs a few microseconds */
  int rc = ks_tok_new(NULL, &tok, &e);
  if (!rc) rc = ks_tok_run(tok, reason, text, len, add_term, &a, &e);
  ks_tok_free(tok);
  if (rc) {
    cJSON_Delete(obj);
    return srv_http_error(rq, srv_http_status_of(rc), NULL, "%s",
                         e.msg[0] ? srv_http_strip_tags(e.msg) : ks_strerror(rc));
  }
  return srv_http_send_json(rq, 200, obj);
}

/* Contract: server_int.h. The shapes of `kosearch stats --json`. */
SRV_MHD_RESULT srv_api_stats(srv_server *s, srv_request *rq) {
  ks_err e;
  ks_err_clear(&e);
  srv_snapshot *snap;
  ks_db *db;
  ks_db_stats st;
  memset(&st, 0, sizeof st);
  int rc = srv_snapshot_acquire(s, &snap, &db, &e);
  if (!rc) {
    rc = ks_db_get_stats(db, &st, &e);
    srv_snapshot_release(s, snap, db);
  }
  if (rc) return srv_http_error(rq, 500, NULL, "%s", srv_http_strip_tags(e.msg));
  cJSON *o = cJSON_CreateObject();
  if (!o) return srv_http_error(rq, 500, NULL, "out of memory");
  if (strcmp(st.backend, "native") == 0) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "index", s->index_label);
    cJSON_AddStringToObject(o, "backend", st.backend);
    cJSON_AddNumberToObject(o, "documents", (double)st.docs);
    cJSON_AddNumberToObject(o, "deleted", (double)st.deleted);
    cJSON_AddNumberToObject(o, "terms", (double)st.terms);
    cJSON_AddNumberToObject(o, "postings", (double)st.postings);
    cJSON_AddNumberToObject(o, "word_field_length", (double)st.field_total[0]);
    cJSON_AddNumberToObject(o, "bigram_field_length", (double)st.field_total[1]);
    cJSON_AddNumberToObject(o, "segments", (double)st.segments);
    cJSON_AddNumberToObject(o, "generation", (double)st.generation);
    if (b) {
      cJSON_AddNumberToObject(b, "tid", (double)st.bytes_tid);
      cJSON_AddNumberToObject(b, "doc", (double)st.bytes_doc);
      cJSON_AddNumberToObject(b, "pos", (double)st.bytes_pos);
      cJSON_AddNumberToObject(b, "len", (double)st.bytes_len);
      cJSON_AddNumberToObject(b, "sto", (double)st.bytes_sto);
      cJSON_AddNumberToObject(b, "del", (double)st.bytes_del);
      cJSON_AddNumberToObject(b, "manifest", (double)st.bytes_manifest);
      cJSON_AddNumberToObject(b, "total", (double)st.bytes_total);
      cJSON_AddItemToObject(o, "bytes", b);
    }
  } else {
    cJSON_AddStringToObject(o, "backend", st.backend);
    cJSON_AddNumberToObject(o, "documents", (double)st.docs);
    cJSON_AddNumberToObject(o, "terms_word", (double)st.terms_word);
    cJSON_AddNumberToObject(o, "terms_bigram", (double)st.terms_bigram);
    cJSON_AddNumberToObject(o, "terms", (double)st.terms);
    cJSON_AddNumberToObject(o, "total_length", (double)st.total_length);
    cJSON_AddNumberToObject(o, "avg_length", st.avg_length);
    cJSON_AddNumberToObject(o, "shards", (double)st.shards);
    cJSON_AddNumberToObject(o, "bytes_total", (double)st.bytes_total);
  }
  return srv_http_send_json(rq, 200, o);
}

/* Contract: server_int.h. Cheap: native statistics decode no postings;
 * for Xapian only the document count is asked of the snapshot's handle. */
SRV_MHD_RESULT srv_api_health(srv_server *s, srv_request *rq) {
  ks_err e;
  ks_err_clear(&e);
  srv_snapshot *snap;
  ks_db *db;
  uint64_t docs = 0, gen = 0;
  const char *backend = "?";
  int rc = srv_snapshot_acquire(s, &snap, &db, &e);
  if (!rc) {
    backend = ks_db_backend(db);
    if (strcmp(backend, "native") == 0) {
      ks_db_stats st;
      rc = ks_db_get_stats(db, &st, &e);
      docs = st.docs;
      gen = st.generation;
    }
    srv_snapshot_release(s, snap, db);
  }
  if (rc) return srv_http_error(rq, 500, NULL, "%s", srv_http_strip_tags(e.msg));
  uint64_t pending = atomic_load(&s->pending);
  cJSON *o = cJSON_CreateObject();
  if (!o) return srv_http_error(rq, 500, NULL, "out of memory");
  cJSON_AddStringToObject(o, "status", "ok");
  cJSON_AddStringToObject(o, "backend", backend);
  if (strcmp(backend, "native") == 0) {
    cJSON_AddNumberToObject(o, "documents", (double)docs);
    cJSON_AddNumberToObject(o, "generation", (double)gen);
  }
  cJSON_AddBoolToObject(o, "writes", s->opts.allow_writes);
  cJSON_AddNumberToObject(o, "pending", (double)pending);
  return srv_http_send_json(rq, 200, o);
}
