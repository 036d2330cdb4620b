/*
 * http_json.c - implements the http_json.c section of server_int.h: JSON
 * answers and errors ({"error":{"code","message"}}, docs/http.md), the
 * status of an engine rc, strict percent-decoding and query strings.
 *
 * Invariants: every answer carries a Content-Type and
 * X-Content-Type-Options: nosniff; a decoded string is valid UTF-8 with no
 * NUL byte inside (so it can be passed as a C string and as
 * (pointer, length) alike).
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

/* Contract: server_int.h. */
double srv_http_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Contract: server_int.h. */
const char *srv_http_code(unsigned status) {
  switch (status) {
  case 400: return "bad_request";
  case 401: return "unauthorized";
  case 403: return "forbidden";
  case 404: return "not_found";
  case 405: return "method_not_allowed";
  case 413: return "payload_too_large";
  case 415: return "unsupported_media_type";
  case 503: return "shutting_down";
  default: return "internal";
  }
}

/* Contract: server_int.h. */
unsigned srv_http_status_of(int rc) {
  switch (rc) {
  case KS_EQUERY:
  case KS_EINVAL:
  case KS_EINPUT:
  case KS_EUTF8:
  case KS_ELIMIT:
    return 400;
  case KS_NOTFOUND:
    return 404;
  default:
    return 500;
  }
}

/* Contract: server_int.h. */
const char *srv_http_strip_tags(const char *msg) {
  const char *p = msg;
  while (*p == '[') {
    const char *q = strchr(p, ']');
    if (!q) break;
    p = q + 1;
  }
  while (*p == ' ') p++;
  return *p ? p : msg;
}

/* Queue response r (headers of every answer added here) and record the
 * status; r is released. */
static SRV_MHD_RESULT queue(srv_request *rq, unsigned status, struct MHD_Response *r,
                            const char *ctype, const char *allow) {
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          ctype ? ctype : "application/json; charset=utf-8");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  /* a request whose body was not read to the end cannot be followed by
   * another on the same connection */
  if (status == 413 || status == 503) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  SRV_MHD_RESULT ret = MHD_queue_response(rq->conn, status, r);
  MHD_destroy_response(r);
  rq->status = status;
  rq->answered = 1;
  return ret;
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_http_send(srv_request *rq, unsigned status, char *body, size_t len,
                           const char *ctype) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  return queue(rq, status, r, ctype, NULL);
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_http_send_json(srv_request *rq, unsigned status, cJSON *o) {
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!s) return srv_http_error(rq, 500, NULL, "out of memory");
  return srv_http_send(rq, status, s, strlen(s), NULL);
}

/* Contract: server_int.h. The body is built by hand so that an error can
 * still be answered when cJSON cannot allocate. */
SRV_MHD_RESULT srv_http_error(srv_request *rq, unsigned status, const char *allow,
                            const char *fmt, ...) {
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
  char *s = NULL;
  if (o && e && cJSON_AddStringToObject(e, "code", srv_http_code(status)) &&
      cJSON_AddStringToObject(e, "message", msg)) {
    cJSON_AddItemToObject(o, "error", e);
    e = NULL;
    s = cJSON_PrintUnformatted(o);
  }
  cJSON_Delete(o);
  cJSON_Delete(e);
  if (!s) {
    static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    return queue(rq, 500, r, NULL, NULL);
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(s);
    return MHD_NO;
  }
  return queue(rq, status, r, NULL, allow);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Contract: server_int.h. */
int srv_http_decode(const char *s, size_t n, int plus_is_space, char **out, size_t *out_len) {
  *out = NULL;
  char *d = malloc(n + 1);
  if (!d) return -4;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
        free(d);
        return -1;
      }
      c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') {
      free(d);
      return -2;
    }
    d[j++] = c;
  }
  d[j] = '\0';
  if (!ks_utf8_valid(d, j, NULL)) {
    free(d);
    return -3;
  }
  *out = d;
  if (out_len) *out_len = j;
  return 0;
}

/* Contract: server_int.h. */
const char *srv_http_decode_error(int code) {
  switch (code) {
  case -1: return "invalid percent-encoding ('%' must be followed by two hex digits)";
  case -2: return "NUL byte (%00) not allowed";
  case -3: return "invalid UTF-8";
  case -4: return "out of memory";
  case -5: return "parameter given twice";
  default: return "bad request";
  }
}

/* Contract: server_int.h. */
void srv_query_free(srv_query *q) {
  for (size_t i = 0; i < q->n; i++) {
    free(q->name[i]);
    free(q->value[i]);
  }
  free(q->name);
  free(q->value);
  free(q->value_len);
  memset(q, 0, sizeof *q);
}

/* Contract: server_int.h. */
int srv_query_parse(const char *s, size_t n, srv_query *q, char **bad) {
  memset(q, 0, sizeof *q);
  *bad = NULL;
  size_t cap = 1;
  for (size_t i = 0; i < n; i++) cap += s[i] == '&';
  q->name = calloc(cap, sizeof *q->name);
  q->value = calloc(cap, sizeof *q->value);
  q->value_len = calloc(cap, sizeof *q->value_len);
  if (!q->name || !q->value || !q->value_len) {
    srv_query_free(q);
    return -4;
  }
  size_t i = 0;
  while (i < n) {
    size_t end = i;
    while (end < n && s[end] != '&') end++;
    if (end > i) { /* empty pieces ("a=1&&b=2") are ignored */
      size_t eq = i;
      while (eq < end && s[eq] != '=') eq++;
      char *name = NULL, *value = NULL;
      size_t vlen = 0;
      int rc = srv_http_decode(s + i, eq - i, 1, &name, NULL);
      if (!rc) rc = srv_http_decode(s + (eq < end ? eq + 1 : end), eq < end ? end - eq - 1 : 0, 1,
                                   &value, &vlen);
      if (rc) {
        free(name);
        *bad = strndup(s + i, eq - i > 64 ? 64 : eq - i);
        srv_query_free(q);
        return rc;
      }
      if (srv_query_get(q, name, NULL)) {
        *bad = name;
        free(value);
        srv_query_free(q);
        return -5;
      }
      q->name[q->n] = name;
      q->value[q->n] = value;
      q->value_len[q->n] = vlen;
      q->n++;
    }
    i = end + 1;
  }
  return 0;
}

/* Contract: server_int.h. */
const char *srv_query_get(const srv_query *q, const char *name, size_t *len) {
  for (size_t i = 0; i < q->n; i++)
    if (strcmp(q->name[i], name) == 0) {
      if (len) *len = q->value_len[i];
      return q->value[i];
    }
  return NULL;
}

/* Contract: server_int.h. */
const char *srv_query_unknown(const srv_query *q, const char *const *known) {
  for (size_t i = 0; i < q->n; i++) {
    int found = 0;
    for (size_t k = 0; known[k] && !found; k++) found = strcmp(q->name[i], known[k]) == 0;
    if (!found) return q->name[i];
  }
  return NULL;
}
