/*
 * write_api.c - implements the write_api.c section of server_int.h: PUT
 * /docs/{id}, POST /docs, DELETE /docs/{id}, POST /commit, the API key
 * check, and the server's one ks_writer (KS_WRITER_UPDATE: upserts).
 *
 * Documents are checked with the rules of docs/input.md (JSON Lines), here
 * on request bodies: kosearch/input.h reads files and gives a record
 * without "id" the default id "FILE:LINE", which has no meaning for a
 * request, so the server requires ids (or takes PUT's from the path) and
 * checks each record itself, in the reader's order: NUL byte, UTF-8, JSON
 * syntax, object, \u0000 escape, "text", "id", "title". Size and emptiness
 * are the writer's checks, as for the CLI.
 *
 * Invariants:
 *   - s->writer is used only under s->writer_lock, so a commit (refresher
 *     or POST /commit) never splits a POST /docs batch;
 *   - s->pending counts writes accepted since the last commit; it is reset
 *     only by a successful commit, or when a failed writer is reopened
 *     (its uncommitted writes are lost, and the answer says so);
 *   - a writer that failed (any rc but a rejected document) is closed and
 *     reopened at once, so the server keeps accepting writes.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server_int.h"

#define MAX_LISTED_ERRORS 100
#define MAX_SAFE_INTEGER 9007199254740991.0 /* 2^53 - 1 */

/* Contract: server_int.h. Time depends on the header's length only. */
int srv_api_authorized(const srv_server *s, const char *header) {
  if (!s->api_key) return 1;
  if (!header || strncasecmp(header, "Bearer ", 7) != 0) return 0;
  const char *tok = header + 7;
  while (*tok == ' ') tok++;
  size_t n = strlen(tok);
  while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t')) n--;
  unsigned char diff = (unsigned char)(n != s->api_key_len);
  for (size_t i = 0; i < n; i++)
    diff |= (unsigned char)tok[i] ^ (unsigned char)s->api_key[i < s->api_key_len ? i : 0];
  return diff == 0;
}

/* Contract: server_int.h. */
int srv_writer_start(srv_server *s, ks_err *e) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.backend = s->opts.writer_backend;
  wo.shards = s->opts.writer_shards;
  wo.mode = KS_WRITER_UPDATE;
  /* one thread: ks_writer_add then indexes the document before it returns,
   * so the writer's counters (docs_replaced) tell each answer whether its
   * documents replaced live ones */
  if (!wo.backend || strcmp(wo.backend, "native") == 0) wo.threads = 1;
  return ks_writer_open(s->opts.index, &wo, &s->writer, e);
}

/* The writer failed (rc not a rejected document): close it, dropping its
 * uncommitted writes, and open a new one. Fills why with what happened.
 * Called with writer_lock held. */
static void writer_recover(srv_server *s, const ks_err *cause, char *why, size_t n) {
  unsigned long long lost = atomic_load(&s->pending);
  ks_writer_close(s->writer);
  s->writer = NULL;
  atomic_store(&s->pending, 0);
  ks_err e;
  ks_err_clear(&e);
  int rc = srv_writer_start(s, &e);
  snprintf(why, n, "%s (the writer failed; %llu uncommitted write%s discarded%s%s)",
           srv_http_strip_tags(cause->msg), lost, lost == 1 ? " was" : "s were",
           rc ? "; reopening it failed: " : "", rc ? srv_http_strip_tags(e.msg) : "");
  if (rc) fprintf(stderr, "kosearch: error: %s\n", why);
}

/* The status of a failed write (rc, message in e): 400 for the client's
 * input (invalid document, invalid UTF-8, a size limit), else 500 after
 * recovering the writer (writer_recover). *why gets the message. Called
 * with the writer lock held. */
static unsigned failure_status(srv_server *s, int rc, ks_err *e, char *why, size_t cap) {
  if (rc == KS_EINPUT || rc == KS_EUTF8 || rc == KS_ELIMIT) {
    snprintf(why, cap, "%s", srv_http_strip_tags(e->msg));
    return 400;
  }
  if (s->writer) writer_recover(s, e, why, cap);
  else snprintf(why, cap, "%s", srv_http_strip_tags(e->msg));
  return 500;
}

/* Contract: server_int.h. */
int srv_writer_flush(srv_server *s, int force, ks_err *e) {
  int rc = 0;
  pthread_mutex_lock(&s->writer_lock);
  if (s->writer && atomic_load(&s->pending) &&
      (force || srv_http_now() - s->first_pending >= s->opts.refresh_ms / 1000.0)) {
    rc = ks_writer_commit(s->writer, e);
    if (rc) {
      char why[1400];
      writer_recover(s, e, why, sizeof why);
      ks_err_set(e, rc, "%s", why);
    } else {
      atomic_store(&s->pending, 0);
    }
  }
  pthread_mutex_unlock(&s->writer_lock);
  return rc;
}

/* One more accepted write (writer_lock held). */
static void note_pending(srv_server *s) {
  if (atomic_fetch_add(&s->pending, 1) == 0) s->first_pending = srv_http_now();
}

/* ---- checking one document ------------------------------------------------- */

/* What a checked record holds until it is given to the writer. */
typedef struct parsed_doc {
  cJSON *json;        /* parse tree (doc's strings point into it) */
  char idnum[40];     /* decimal form of an integer id */
  char *stored;       /* stored JSON built here (PUT without "id"), heap */
  ks_doc doc;
} parsed_doc;

static void parsed_free(parsed_doc *p) {
  cJSON_Delete(p->json);
  free(p->stored);
  memset(p, 0, sizeof *p);
}

static const char *type_name(const cJSON *v) {
  if (cJSON_IsNumber(v)) return "a number";
  if (cJSON_IsBool(v)) return "a boolean";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsArray(v)) return "an array";
  if (cJSON_IsObject(v)) return "an object";
  return "a string";
}

/* 1 when the JSON text p[0, n) holds the escape \u0000 (in a string). */
static int has_nul_escape(const char *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i++) {
    if (p[i] != '\\') continue;
    if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0) return 1;
    i++; /* skip the escaped character */
  }
  return 0;
}

/* Check the JSON object line[0, n) (trimmed) as a document. path_id: the
 * id from the path (PUT; NULL for POST, where "id" is required). Returns
 * KS_OK with *p filled, or KS_EINPUT / KS_EUTF8 / KS_ENOMEM with the
 * reason in why. */
static int check_doc(const char *line, size_t n, const char *path_id, size_t path_id_len,
                     parsed_doc *p, char *why, size_t whysz) {
  memset(p, 0, sizeof *p);
  const char *z = memchr(line, '\0', n);
  if (z) {
    snprintf(why, whysz, "NUL byte at byte column %zu", (size_t)(z - line) + 1);
    return KS_EINPUT;
  }
  size_t bad = 0;
  if (!ks_utf8_valid(line, n, &bad)) {
    snprintf(why, whysz, "invalid UTF-8 at byte column %zu (byte 0x%02X)", bad + 1,
             (unsigned)(unsigned char)line[bad]);
    return KS_EUTF8;
  }
  const char *end = NULL;
  p->json = cJSON_ParseWithLengthOpts(line, n, &end, 0);
  if (!p->json) {
    const char *at = end; /* cJSON leaves the error position there */
    size_t col = at && at >= line && at <= line + n ? (size_t)(at - line) + 1 : 1;
    snprintf(why, whysz, "invalid JSON (syntax error at byte column %zu)", col);
    return KS_EINPUT;
  }
  while (end && end < line + n && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
  if (end && end < line + n) {
    snprintf(why, whysz, "invalid JSON (unexpected text after the object at byte column %zu)",
             (size_t)(end - line) + 1);
    parsed_free(p);
    return KS_EINPUT;
  }
  if (!cJSON_IsObject(p->json)) {
    snprintf(why, whysz, "not a JSON object (it is %s)", type_name(p->json));
    parsed_free(p);
    return KS_EINPUT;
  }
  if (has_nul_escape(line, n)) {
    snprintf(why, whysz, "NUL character (\\u0000) in a string");
    parsed_free(p);
    return KS_EINPUT;
  }
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(p->json, "text");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(p->json, "id");
  const cJSON *title = cJSON_GetObjectItemCaseSensitive(p->json, "title");
  if (!text) snprintf(why, whysz, "\"text\" is missing");
  else if (!cJSON_IsString(text)) snprintf(why, whysz, "\"text\" is not a string (it is %s)", type_name(text));
  if (!text || !cJSON_IsString(text)) {
    parsed_free(p);
    return KS_EINPUT;
  }
  const char *idv = NULL;
  if (id && cJSON_IsString(id)) {
    idv = id->valuestring;
  } else if (id && cJSON_IsNumber(id)) {
    double d = id->valuedouble;
    if (d != (double)(long long)d || d > MAX_SAFE_INTEGER || d < -MAX_SAFE_INTEGER) {
      snprintf(why, whysz, "\"id\" must be a string or an integer from -9007199254740991 to 9007199254740991 (write larger ids as strings)");
      parsed_free(p);
      return KS_EINPUT;
    }
    snprintf(p->idnum, sizeof p->idnum, "%lld", (long long)d);
    idv = p->idnum;
  } else if (id) {
    snprintf(why, whysz, "\"id\" must be a string or an integer (it is %s)", type_name(id));
    parsed_free(p);
    return KS_EINPUT;
  }
  if (title && !cJSON_IsString(title) && !cJSON_IsNull(title)) {
    snprintf(why, whysz, "\"title\" is not a string (it is %s)", type_name(title));
    parsed_free(p);
    return KS_EINPUT;
  }
  if (!path_id && !idv) {
    snprintf(why, whysz, "\"id\" is missing (required by the server)");
    parsed_free(p);
    return KS_EINPUT;
  }
  if (path_id && idv && (strlen(idv) != path_id_len || memcmp(idv, path_id, path_id_len) != 0)) {
    snprintf(why, whysz, "the body's \"id\" differs from the id in the path");
    parsed_free(p);
    return KS_EINPUT;
  }
  ks_doc *d = &p->doc;
  d->text = text->valuestring;
  d->text_len = strlen(text->valuestring);
  if (cJSON_IsString(title)) {
    d->title = title->valuestring;
    d->title_len = strlen(title->valuestring);
  }
  d->json = line;
  d->json_len = n;
  if (idv) {
    d->id = idv;
    d->id_len = strlen(idv);
  } else { /* PUT without "id": stored as {"id":"<path id>", + the rest */
    cJSON *ids = cJSON_CreateString(path_id);
    char *idj = ids ? cJSON_PrintUnformatted(ids) : NULL;
    cJSON_Delete(ids);
    size_t lj = idj ? strlen(idj) : 0;
    p->stored = idj ? malloc(6 + lj + 1 + n) : NULL;
    if (!p->stored) {
      free(idj);
      snprintf(why, whysz, "out of memory");
      parsed_free(p);
      return KS_ENOMEM;
    }
    /* the object has "text", so it is not empty: the comma is right */
    size_t k = 0;
    memcpy(p->stored, "{\"id\":", 6), k = 6;
    memcpy(p->stored + k, idj, lj), k += lj;
    p->stored[k++] = ',';
    memcpy(p->stored + k, line + 1, n - 1), k += n - 1;
    free(idj);
    d->id = path_id;
    d->id_len = path_id_len;
    d->json = p->stored;
    d->json_len = k;
  }
  return KS_OK;
}

static void trim(const char **p, size_t *n) {
  while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t' || (*p)[0] == '\r' || (*p)[0] == '\n')) (*p)++, (*n)--;
  while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r' ||
                (*p)[*n - 1] == '\n'))
    (*n)--;
}

/* ---- endpoints ---------------------------------------------------------------- */

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_put_doc(srv_server *s, srv_request *rq) {
  const char *body = rq->body ? rq->body : "";
  size_t n = rq->body_len;
  trim(&body, &n);
  if (n >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) body += 3, n -= 3;
  if (!n) return srv_http_error(rq, 400, NULL, "empty body: send the document as a JSON object");
  parsed_doc p;
  char why[1400];
  int rc = check_doc(body, n, rq->id, rq->id_len, &p, why, sizeof why);
  if (rc) return srv_http_error(rq, rc == KS_ENOMEM ? 500 : 400, NULL, "%s", why);
  ks_err e;
  ks_err_clear(&e);
  pthread_mutex_lock(&s->writer_lock);
  ks_writer_stats before, after;
  int wrc = KS_EINVAL;
  if (s->writer) {
    ks_writer_get_stats(s->writer, &before);
    wrc = ks_writer_add(s->writer, &p.doc, &e);
  } else {
    ks_err_set(&e, KS_EINVAL, "the writer could not be reopened after a failure");
  }
  unsigned status = 200;
  if (wrc == KS_OK) {
    ks_writer_get_stats(s->writer, &after);
    note_pending(s);
  } else {
    status = failure_status(s, wrc, &e, why, sizeof why);
  }
  pthread_mutex_unlock(&s->writer_lock);
  parsed_free(&p);
  if (status != 200) return srv_http_error(rq, status, NULL, "%s", why);
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "id", rq->id);
    cJSON_AddStringToObject(o, "result",
                            after.docs_replaced > before.docs_replaced ? "replaced" : "added");
    cJSON_AddBoolToObject(o, "pending", 1);
  }
  return srv_http_send_json(rq, 200, o);
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_post_docs(srv_server *s, srv_request *rq) {
  const char *b = rq->body ? rq->body : "";
  size_t n = rq->body_len;
  if (n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) b += 3, n -= 3;
  cJSON *out = cJSON_CreateObject(), *errors = cJSON_CreateArray();
  if (!out || !errors) {
    cJSON_Delete(out);
    cJSON_Delete(errors);
    return srv_http_error(rq, 500, NULL, "out of memory");
  }
  unsigned long long lines = 0, added = 0, rejected = 0, replaced = 0, lineno = 0;
  char why[1400];
  unsigned status = 200;
  ks_err e;
  ks_err_clear(&e);
  pthread_mutex_lock(&s->writer_lock);
  ks_writer_stats before, after;
  if (s->writer) ks_writer_get_stats(s->writer, &before);
  for (size_t i = 0; i < n && status == 200;) {
    const char *nl = memchr(b + i, '\n', n - i);
    size_t stop = nl ? (size_t)(nl - b) : n;
    const char *line = b + i;
    size_t len = stop - i;
    i = stop + 1;
    lineno++;
    trim(&line, &len);
    if (!len) continue;
    lines++;
    parsed_doc p;
    int rc = check_doc(line, len, NULL, 0, &p, why, sizeof why);
    if (rc == KS_OK) {
      if (!s->writer) {
        status = 500;
        snprintf(why, sizeof why, "the writer could not be reopened after a failure");
      } else {
        rc = ks_writer_add(s->writer, &p.doc, &e);
        if (rc == KS_OK) {
          added++;
          note_pending(s);
        } else if (rc == KS_EINPUT || rc == KS_EUTF8 || rc == KS_ELIMIT) {
          snprintf(why, sizeof why, "%s", srv_http_strip_tags(e.msg));
        } else {
          status = 500;
          writer_recover(s, &e, why, sizeof why);
        }
      }
      parsed_free(&p);
    } else if (rc == KS_ENOMEM) {
      status = 500;
    }
    if (rc != KS_OK && status == 200) {
      rejected++;
      if (rejected <= MAX_LISTED_ERRORS) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
          cJSON_AddNumberToObject(o, "line", (double)lineno);
          cJSON_AddStringToObject(o, "message", why);
          cJSON_AddItemToArray(errors, o);
        }
      }
    }
  }
  if (s->writer && status == 200) {
    ks_writer_get_stats(s->writer, &after);
    replaced = after.docs_replaced - before.docs_replaced;
  }
  pthread_mutex_unlock(&s->writer_lock);
  if (status != 200) {
    cJSON_Delete(out);
    cJSON_Delete(errors);
    return srv_http_error(rq, status, NULL, "line %llu: %s", lineno, why);
  }
  if (lines == 0) {
    cJSON_Delete(out);
    cJSON_Delete(errors);
    return srv_http_error(rq, 400, NULL, "empty body: send one JSON document per line");
  }
  cJSON_AddNumberToObject(out, "added", (double)added);
  cJSON_AddNumberToObject(out, "replaced", (double)replaced);
  cJSON_AddNumberToObject(out, "rejected", (double)rejected);
  cJSON_AddNumberToObject(out, "lines", (double)lines);
  cJSON_AddItemToObject(out, "errors", errors);
  cJSON_AddBoolToObject(out, "pending", added > 0);
  return srv_http_send_json(rq, 200, out);
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_delete_doc(srv_server *s, srv_request *rq) {
  ks_err e;
  ks_err_clear(&e);
  char why[1400];
  unsigned status = 200;
  pthread_mutex_lock(&s->writer_lock);
  int rc = s->writer ? ks_writer_delete(s->writer, rq->id, rq->id_len, &e)
                     : ks_err_set(&e, KS_EINVAL, "the writer could not be reopened after a failure");
  if (rc == KS_OK) {
    note_pending(s);
  } else if (rc == KS_NOTFOUND) {
    status = 404;
    snprintf(why, sizeof why, "no document with this id");
  } else {
    status = failure_status(s, rc, &e, why, sizeof why);
  }
  pthread_mutex_unlock(&s->writer_lock);
  if (status != 200) return srv_http_error(rq, status, NULL, "%s", why);
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "id", rq->id);
    cJSON_AddStringToObject(o, "result", "deleted");
    cJSON_AddBoolToObject(o, "pending", 1);
  }
  return srv_http_send_json(rq, 200, o);
}

/* Contract: server_int.h. */
SRV_MHD_RESULT srv_api_commit(srv_server *s, srv_request *rq) {
  ks_err e;
  ks_err_clear(&e);
  int rc = srv_writer_flush(s, 1, &e);
  if (rc) return srv_http_error(rq, 500, NULL, "%s", srv_http_strip_tags(e.msg));
  rc = srv_snapshot_refresh(s, &e);
  if (rc) return srv_http_error(rq, 500, NULL, "committed, but reopening failed: %s",
                               srv_http_strip_tags(e.msg));
  ks_writer_stats st;
  memset(&st, 0, sizeof st);
  pthread_mutex_lock(&s->writer_lock);
  if (s->writer) ks_writer_get_stats(s->writer, &st);
  pthread_mutex_unlock(&s->writer_lock);
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddBoolToObject(o, "committed", 1);
    cJSON_AddNumberToObject(o, "generation", (double)st.generation);
    cJSON_AddNumberToObject(o, "documents", (double)st.docs_live);
  }
  return srv_http_send_json(rq, 200, o);
}
