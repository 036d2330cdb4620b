/*
 * router.c - implements the router.c section of server_int.h: the
 * libmicrohttpd access handler. It maps method + path to an endpoint
 * (docs/http.md), answers 404/405/403/401/415/413/503 itself, collects
 * request bodies up to --max-body-mb, and calls read_api.c / write_api.c
 * once the request has fully arrived.
 *
 * libmicrohttpd calls the handler several times per request: once when the
 * headers have arrived (rq->started = 0), then once per chunk of body
 * (*upload_data_size > 0), then a last time with *upload_data_size = 0.
 * Invariants:
 *   - the path is taken from the raw request target (rq->uri), never from
 *     libmicrohttpd's lenient unescaping, so invalid percent-encoding is a
 *     400 and not a silently different id;
 *   - a body is never held beyond max_body_bytes: from the first chunk
 *     past the limit on, the body is read and dropped (at most DISCARD_MAX
 *     bytes, then the connection is closed) and the answer is a 413;
 *   - once rq->answered, the handler only discards body bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server_int.h"

/* Body bytes read and dropped after the limit before the connection is
 * simply closed. */
#define DISCARD_MAX ((uint64_t)16 << 20)

static const char *allow_of(int route) {
  switch (route) {
  case ROUTE_DOC: return "GET, HEAD, PUT, DELETE";
  case ROUTE_DOCS:
  case ROUTE_COMMIT: return "POST";
  default: return "GET, HEAD";
  }
}

/* The path part of the raw target (an absolute-form target
 * "http://host/p" is reduced to "/p"): *path, *plen, and the query string
 * *qs, *qlen (NULL, 0 without '?'). */
static void split_target(const char *uri, const char **path, size_t *plen, const char **qs,
                         size_t *qlen) {
  const char *p = uri;
  if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
    p = strstr(p, "//") + 2;
    p += strcspn(p, "/?");
  }
  size_t n = strcspn(p, "?#");
  *path = p;
  *plen = n;
  if (p[n] == '?') {
    *qs = p + n + 1;
    *qlen = strcspn(*qs, "#");
  } else {
    *qs = NULL;
    *qlen = 0;
  }
}

static int path_is(const char *p, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* The route of path p[0, n) (ROUTE_NONE: unknown). */
static int route_of(const char *p, size_t n) {
  if (path_is(p, n, "/") || path_is(p, n, "/index.html")) return ROUTE_PAGE;
  if (path_is(p, n, "/search")) return ROUTE_SEARCH;
  if (path_is(p, n, "/docs")) return ROUTE_DOCS;
  if (n > 6 && memcmp(p, "/docs/", 6) == 0) return ROUTE_DOC;
  if (path_is(p, n, "/analyze")) return ROUTE_ANALYZE;
  if (path_is(p, n, "/stats")) return ROUTE_STATS;
  if (path_is(p, n, "/health")) return ROUTE_HEALTH;
  if (path_is(p, n, "/commit")) return ROUTE_COMMIT;
  return ROUTE_NONE;
}

static int method_allowed(int route, const char *m) {
  int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
  switch (route) {
  case ROUTE_DOC: return get || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0;
  case ROUTE_DOCS:
  case ROUTE_COMMIT: return strcmp(m, "POST") == 0;
  default: return get;
  }
}

static int is_write(const char *m) {
  return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

/* 1 when the Content-Type value `ct` (may be NULL) is the media type
 * `type` (case-insensitive), with or without parameters. */
static int media_is(const char *ct, const char *type) {
  if (!ct) return 0;
  while (*ct == ' ') ct++;
  size_t n = strlen(type);
  if (strncasecmp(ct, type, n) != 0) return 0;
  return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* The checks made once the headers are in. Returns 1 when an answer was
 * queued (*ret set), 0 to go on. */
static int first_call(srv_server *s, srv_request *rq, const char *method, SRV_MHD_RESULT *ret) {
  const char *path, *qs;
  size_t plen, qlen;
  split_target(rq->uri, &path, &plen, &qs, &qlen);
  if (atomic_load(&s->shutting_down)) {
    *ret = srv_http_error(rq, 503, NULL, "the server is shutting down");
    return 1;
  }
  rq->route = route_of(path, plen);
  if (rq->route == ROUTE_NONE) {
    *ret = srv_http_error(rq, 404, NULL, "no such endpoint (see docs/http.md)");
    return 1;
  }
  if (!method_allowed(rq->route, method)) {
    *ret = srv_http_error(rq, 405, allow_of(rq->route), "method %s is not allowed here (allowed: %s)",
                         method, allow_of(rq->route));
    return 1;
  }
  if (rq->route == ROUTE_DOC) {
    int rc = srv_http_decode(path + 6, plen - 6, 0, &rq->id, &rq->id_len);
    if (rc) {
      *ret = srv_http_error(rq, rc == -4 ? 500 : 400, NULL, "document id: %s", srv_http_decode_error(rc));
      return 1;
    }
  }
  if (is_write(method)) {
    if (!s->opts.allow_writes) {
      *ret = srv_http_error(rq, 403, NULL, "writes are disabled (start the server with --allow-writes)");
      return 1;
    }
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    if (!srv_api_authorized(s, auth)) {
      *ret = srv_http_error(rq, 401, NULL, "%s", auth ? "wrong API key" : "missing 'Authorization: Bearer KEY' header");
      return 1;
    }
    const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (rq->route == ROUTE_DOC && strcmp(method, "PUT") == 0 && !media_is(ct, "application/json")) {
      *ret = srv_http_error(rq, 415, NULL, "PUT /docs/{id} takes Content-Type: application/json (got %s)",
                           ct ? ct : "none");
      return 1;
    }
    if (rq->route == ROUTE_DOCS && !media_is(ct, "application/x-ndjson") &&
        !media_is(ct, "application/jsonl")) {
      *ret = srv_http_error(rq, 415, NULL, "POST /docs takes Content-Type: application/x-ndjson (got %s)",
                           ct ? ct : "none");
      return 1;
    }
  }
  const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl) {
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (end != cl && n > s->opts.max_body_bytes) {
      /* A client that waits for "100 Continue", or whose body is far too
       * large to read through, is answered now; others are answered after
       * their body has been read and dropped, because closing a socket
       * the client is still writing to resets the connection and the
       * client never sees the answer. */
      const char *expect = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                       MHD_HTTP_HEADER_EXPECT);
      if (expect || n > s->opts.max_body_bytes + DISCARD_MAX) {
        *ret = srv_http_error(rq, 413, NULL, "request body of %llu bytes is larger than the limit of %llu bytes (--max-body-mb)",
                             n, (unsigned long long)s->opts.max_body_bytes);
        return 1;
      }
      rq->too_large = 1;
    }
  }
  return 0;
}

/* Parse the query string for a GET endpoint; answers 400 itself on
 * failure (returns 1 and *ret). */
static int get_query(srv_request *rq, srv_query *q, SRV_MHD_RESULT *ret) {
  const char *path, *qs;
  size_t plen, qlen;
  split_target(rq->uri, &path, &plen, &qs, &qlen);
  char *bad = NULL;
  int rc = srv_query_parse(qs ? qs : "", qlen, q, &bad);
  if (rc) {
    *ret = srv_http_error(rq, rc == -4 ? 500 : 400, NULL, "parameter '%s': %s", bad ? bad : "?",
                         srv_http_decode_error(rc));
    free(bad);
    return 1;
  }
  return 0;
}

/* Every parameter of q must be in `known`: else answer 400. */
static int only_known(srv_request *rq, const srv_query *q, const char *const *known,
                      SRV_MHD_RESULT *ret) {
  const char *u = srv_query_unknown(q, known);
  if (!u) return 0;
  *ret = srv_http_error(rq, 400, NULL, "unknown parameter '%s'", u);
  return 1;
}

/* The request has fully arrived: call its endpoint. */
static SRV_MHD_RESULT dispatch(srv_server *s, srv_request *rq, const char *method) {
  SRV_MHD_RESULT ret = MHD_YES;
  srv_query q;
  memset(&q, 0, sizeof q);
  static const char *const none[] = {NULL};
  static const char *const search_params[] = {"q", "k", "offset", "snippet_chars", "k1", "b",
                                              "bigram_weight", "min_normlen", "ranking",
                                              "algorithm", "stored", NULL};
  static const char *const analyze_params[] = {"text", "query", NULL};
  int get = !is_write(method);
  if (get && rq->route != ROUTE_PAGE && get_query(rq, &q, &ret)) return ret;
  switch (rq->route) {
  case ROUTE_PAGE:
    ret = srv_api_page(s, rq);
    break;
  case ROUTE_SEARCH:
    if (!only_known(rq, &q, search_params, &ret)) ret = srv_api_search(s, rq, &q);
    break;
  case ROUTE_ANALYZE:
    if (!only_known(rq, &q, analyze_params, &ret)) ret = srv_api_analyze(s, rq, &q);
    break;
  case ROUTE_STATS:
    if (!only_known(rq, &q, none, &ret)) ret = srv_api_stats(s, rq);
    break;
  case ROUTE_HEALTH:
    if (!only_known(rq, &q, none, &ret)) ret = srv_api_health(s, rq);
    break;
  case ROUTE_DOC:
    if (get) {
      if (!only_known(rq, &q, none, &ret)) ret = srv_api_get_doc(s, rq);
    } else if (strcmp(method, "PUT") == 0) {
      ret = srv_api_put_doc(s, rq);
    } else {
      ret = srv_api_delete_doc(s, rq);
    }
    break;
  case ROUTE_DOCS:
    ret = srv_api_post_docs(s, rq);
    break;
  case ROUTE_COMMIT:
    ret = srv_api_commit(s, rq);
    break;
  default:
    ret = srv_http_error(rq, 404, NULL, "no such endpoint");
  }
  srv_query_free(&q);
  return ret;
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_router_handle(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **req_cls) {
  srv_server *s = cls;
  srv_request *rq = *req_cls;
  if (!rq) return MHD_NO; /* the URI log callback could not allocate it */
  rq->conn = conn;
  if (!rq->started) {
    rq->started = 1;
    /* libmicrohttpd 0.9.x closes the connection after an answer queued in
     * this first call; a request without body is answered in the next
     * call (which comes at once) so that keep-alive connections stay
     * open. A request with a body is checked now: an early error answer
     * (the body unread) must close the connection anyway. */
    if (!is_write(method)) return MHD_YES;
    SRV_MHD_RESULT ret;
    if (first_call(s, rq, method, &ret)) {
      srv_deadlines_busy(s, conn, 1);
      return ret;
    }
    return MHD_YES; /* the body follows */
  }
  if (!is_write(method) && !rq->answered) {
    srv_deadlines_busy(s, conn, 1);
    SRV_MHD_RESULT ret;
    if (first_call(s, rq, method, &ret)) return ret;
    return dispatch(s, rq, method);
  }
  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (rq->answered) return MHD_YES; /* discard */
    if (rq->too_large || n > s->opts.max_body_bytes - rq->body_len) {
      /* over the limit: drop what was kept, read the rest and drop it too
       * (the 413 follows the body), up to DISCARD_MAX bytes */
      rq->too_large = 1;
      free(rq->body);
      rq->body = NULL;
      rq->body_len = rq->body_cap = 0;
      rq->discarded += n;
      return rq->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (rq->body_len + n + 1 > rq->body_cap) {
      size_t cap = rq->body_cap ? rq->body_cap : 4096;
      while (cap < rq->body_len + n + 1) cap *= 2;
      char *b = realloc(rq->body, cap);
      if (!b) return srv_http_error(rq, 500, NULL, "out of memory for the request body");
      rq->body = b;
      rq->body_cap = cap;
    }
    memcpy(rq->body + rq->body_len, upload_data, n);
    rq->body_len += n;
    rq->body[rq->body_len] = '\0';
    return MHD_YES;
  }
  if (rq->answered) return MHD_YES;
  srv_deadlines_busy(s, conn, 1);
  if (rq->too_large)
    return srv_http_error(rq, 413, NULL, "request body is larger than the limit of %llu bytes (--max-body-mb)",
                         (unsigned long long)s->opts.max_body_bytes);
  return dispatch(s, rq, method);
}
