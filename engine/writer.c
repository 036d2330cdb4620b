/*
 * writer.c - implements kosearch/writer.h: one writer for every backend.
 *
 * The native backend checks and analyzes documents itself (on its analysis
 * thread: writer_add_doc). For a backend with writer_add, the engine does
 * it here with the very functions the native writer uses (ks_doc_validate,
 * ks_doc_analyze, ks_doc_default_json in indexer/), so every backend
 * accepts the same documents and indexes the same (field, term, position)
 * triples (docs/xapian.md, "Documents").
 */
#include <string.h>

#include "document.h"
#include "engine_int.h"
#include "index_writer.h"
#include "ks_alloc.h"

struct ks_writer {
  const ks_backend_ops *ops;
  void *h;                 /* the backend's writer */
  ks_writer_opts opts;
  ks_tok *tok;             /* analyzer (engine-analyzed backends) */
  ks_doc_term *terms;      /* the current document's terms */
  size_t nterms, cap;
  char *bytes;             /* their bytes */
  size_t nbytes, bcap;
  int oom;
  uint64_t bytes_in;       /* title + text of accepted documents */
};

/* Contract: kosearch/writer.h. */
int ks_writer_open(const char *dir, const ks_writer_opts *opts, ks_writer **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[engine][writer] NULL output");
  *out = NULL;
  if (!dir || !dir[0]) return ks_err_set(err, KS_EINVAL, "[engine][writer] empty path");
  ks_writer_opts o;
  if (opts) o = *opts;
  else ks_writer_opts_default(&o);
  const ks_backend_ops *ops = ks_backend_find(o.backend);
  if (!ops) return ks_backend_missing(o.backend, dir, err);
  ks_writer *w = ks_calloc(1, sizeof *w);
  if (!w) return ks_err_set(err, KS_ENOMEM, "[engine][writer] out of memory");
  w->ops = ops;
  w->opts = o;
  int rc = KS_OK;
  if (!ops->writer_add_doc) rc = ks_tok_new(&o.tok, &w->tok, err);
  if (rc == KS_OK) rc = ops->writer_open(dir, &w->opts, &w->h, err);
  if (rc != KS_OK) {
    w->h = NULL;
    ks_writer_close(w);
    return rc;
  }
  *out = w;
  return KS_OK;
}

/* Collect one analyzed term (ks_doc_analyze callback): the analyzer's
 * bytes are only valid during the callback, so they are copied. */
static int on_term(void *ctx, const ks_token *t) {
  ks_writer *w = ctx;
  if (w->nterms == w->cap) {
    size_t nc = w->cap ? 2 * w->cap : 256;
    ks_doc_term *p = ks_realloc(w->terms, nc * sizeof *p);
    if (!p) return w->oom = KS_ENOMEM;
    w->terms = p, w->cap = nc;
  }
  if (w->nbytes + t->len > w->bcap) {
    size_t nc = w->bcap ? 2 * w->bcap : 4096;
    while (nc < w->nbytes + t->len) nc *= 2;
    char *p = ks_realloc(w->bytes, nc);
    if (!p) return w->oom = KS_ENOMEM;
    w->bytes = p, w->bcap = nc;
  }
  ks_doc_term *d = &w->terms[w->nterms++];
  d->field = t->field;
  d->pos = t->pos;                    /* document-level (ks_doc_analyze) */
  d->term = (const char *)(uintptr_t)w->nbytes; /* offset until the end */
  d->len = t->len;
  memcpy(w->bytes + w->nbytes, t->term, t->len);
  w->nbytes += t->len;
  return 0;
}

/* Check, analyze and hand one document to an engine-analyzed backend. */
static int add_analyzed(ks_writer *w, const ks_doc *doc, ks_err *err) {
  int rc = ks_doc_validate(doc, w->opts.max_doc_bytes, err);
  if (rc != KS_OK) return rc;
  w->nterms = w->nbytes = 0;
  w->oom = 0;
  rc = ks_doc_analyze(w->tok, doc, on_term, w, err);
  if (w->oom) return ks_err_set(err, KS_ENOMEM, "[engine][add] out of memory");
  if (rc != KS_OK) return rc;
  for (size_t i = 0; i < w->nterms; i++)
    w->terms[i].term = w->bytes + (uintptr_t)w->terms[i].term;
  char *built = NULL;
  const char *json = doc->json;
  size_t jlen = doc->json_len;
  if (!json || !jlen) {
    rc = ks_doc_default_json(doc, &built, &jlen, err);
    if (rc != KS_OK) return rc;
    json = built;
  }
  rc = w->ops->writer_add(w->h, doc->id, doc->id_len, json, jlen, w->terms, w->nterms, err);
  ks_mem_free(built);
  if (rc == KS_OK) w->bytes_in += doc->title_len + doc->text_len;
  return rc;
}

/* Contract: kosearch/writer.h. */
int ks_writer_add(ks_writer *w, const ks_doc *doc, ks_err *err) {
  if (!w || !doc) return ks_err_set(err, KS_EINVAL, "[engine][add] NULL argument");
  if (w->ops->writer_add_doc) return w->ops->writer_add_doc(w->h, doc, err);
  return add_analyzed(w, doc, err);
}

/* Contract: kosearch/writer.h. */
int ks_writer_delete(ks_writer *w, const char *id, size_t id_len, ks_err *err) {
  if (!w) return ks_err_set(err, KS_EINVAL, "[engine][delete] NULL writer");
  int rc = ks_doc_validate_id(id, id_len, err);
  if (rc != KS_OK) return rc;
  return w->ops->writer_delete(w->h, id, id_len, err);
}

/* Contract: kosearch/writer.h. */
int ks_writer_merge(ks_writer *w, uint32_t max_segments, ks_err *err) {
  if (!w) return ks_err_set(err, KS_EINVAL, "[engine][merge] NULL writer");
  if (max_segments == 0)
    return ks_err_set(err, KS_EINVAL, "[engine][merge] max_segments must be at least 1");
  return w->ops->writer_merge ? w->ops->writer_merge(w->h, max_segments, err) : KS_OK;
}

/* Contract: kosearch/writer.h. */
int ks_writer_commit(ks_writer *w, ks_err *err) {
  if (!w) return ks_err_set(err, KS_EINVAL, "[engine][commit] NULL writer");
  return w->ops->writer_commit(w->h, err);
}

/* Contract: kosearch/writer.h. */
void ks_writer_get_stats(const ks_writer *w, ks_writer_stats *st) {
  memset(st, 0, sizeof *st);
  if (!w) return;
  w->ops->writer_stats(w->h, st);
  if (!w->ops->writer_add_doc) st->bytes_in = w->bytes_in;
}

/* Contract: kosearch/writer.h. */
void ks_writer_close(ks_writer *w) {
  if (!w) return;
  if (w->h) w->ops->writer_close(w->h);
  ks_tok_free(w->tok);
  ks_free(w->terms);
  ks_free(w->bytes);
  ks_free(w);
}
