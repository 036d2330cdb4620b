/*
 * analysis.c - implements section analysis.c of writer_int.h: token
 * records, and the analysis thread.
 *
 * Token record (one per term occurrence, host byte order, never on disk):
 *   u8 key length, u32 position, u32 key hash (ks_memindex_hash), key bytes
 * (field byte + term, ks_term_key). The hash is computed where the
 * analysis runs, so that the analysis thread takes that work off the
 * caller's thread, and lets the replay prefetch the memindex slots ahead.
 *
 * The analysis thread (a ks_worker) analyzes a batch of documents (copied
 * into the batch's arena) into token records while the caller's thread
 * indexes the previous batch and fills the next one. Two batches cycle:
 * filling -> in flight (being analyzed) -> indexed -> spare -> filling; at
 * most one is in flight, and batches are indexed in the order they were
 * filled, so documents get the numbers they would get without the thread.
 */
#include "writer_int.h"

#include <string.h>

#include "dict_int.h"
#include "document.h"
#include "ks_alloc.h"

#define REC_HEAD 9                      /* record header bytes */
#define BATCH_BYTES ((size_t)1 << 20)   /* text per batch before dispatch */
#define BATCH_DOCS 512

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

/* ---- token records ---------------------------------------------------------- */

typedef struct analysis {
  ks_buf *out;                    /* token records */
  ks_err *err;
  uint32_t doclen[KS_NFIELDS];    /* terms per field */
} analysis;

static int tok_cb(void *ctx, const ks_token *t) {
  analysis *a = ctx;
  a->doclen[t->field]++;
  uint8_t rec[REC_HEAD + KS_TOK_MAX_TERM + 2];
  size_t kl = ks_term_key((char *)rec + REC_HEAD, t->field, t->term, t->len);
  uint32_t h = ks_memindex_hash((const char *)rec + REC_HEAD, kl);
  rec[0] = (uint8_t)kl;
  memcpy(rec + 1, &t->pos, 4);
  memcpy(rec + 5, &h, 4);
  if (ks_buf_append(a->out, rec, REC_HEAD + kl))
    return ks_err_set(a->err, KS_ENOMEM, "[idx][add] out of memory");
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_analysis_doc(ks_tok *tok, const ks_doc *d, ks_buf *out,
                    uint32_t doclen[KS_NFIELDS], ks_err *err) {
  analysis a;
  memset(&a, 0, sizeof a);
  a.out = out;
  a.err = err;
  int rc = ks_doc_analyze(tok, d, tok_cb, &a, err);
  memcpy(doclen, a.doclen, sizeof a.doclen);
  return rc;
}

/* Contract: writer_int.h. */
int ks_analysis_replay(ks_memindex *mi, const uint8_t *toks, size_t n, ks_err *err) {
  int rc = KS_OK;
  /* Two lookahead cursors prefetch the hash slot 16 records ahead and the
   * term record 8 ahead: the table is far larger than the caches. */
  const uint8_t *end = toks + n, *far = toks, *near = toks;
  uint32_t h;
  for (int k = 0; k < 16 && far < end; k++, far += REC_HEAD + far[0]) {
    memcpy(&h, far + 5, 4);
    ks_memindex_prefetch(mi, h);
  }
  for (int k = 0; k < 8 && near < end; k++, near += REC_HEAD + near[0]) {
    memcpy(&h, near + 5, 4);
    ks_memindex_prefetch_term(mi, h);
  }
  for (const uint8_t *p = toks; p < end && !rc; p += REC_HEAD + p[0]) {
    if (far < end) {
      memcpy(&h, far + 5, 4);
      ks_memindex_prefetch(mi, h);
      far += REC_HEAD + far[0];
    }
    if (near < end) {
      memcpy(&h, near + 5, 4);
      ks_memindex_prefetch_term(mi, h);
      near += REC_HEAD + near[0];
    }
    uint32_t pos;
    memcpy(&pos, p + 1, 4);
    memcpy(&h, p + 5, 4);
    rc = ks_memindex_add_hashed(mi, (const char *)p + REC_HEAD, p[0], h, pos, err);
  }
  return rc;
}

/* ---- batches ------------------------------------------------------------------ */

typedef struct batch_doc {
  size_t id, id_len, title, title_len, text, text_len, json, json_len; /* in arena */
  int has_title, has_json;
  size_t tok, tok_len;                   /* in toks */
  uint32_t doclen[KS_NFIELDS];
} batch_doc;

typedef struct batch {
  ks_buf arena;        /* copies of the documents' bytes */
  batch_doc *docs;
  size_t ndocs, cap;
  ks_buf toks;         /* token records of all documents */
} batch;

struct ks_analysis {
  ks_worker *worker;            /* runs analyze_job */
  ks_tok *tok;                  /* the worker's analyzer */
  ks_analysis_index_fn index;   /* the caller's indexer */
  void *ctx;
  batch batches[2];
  batch *filling;               /* being filled by ks_analysis_add */
  batch *in_flight;             /* submitted, not indexed yet (or NULL) */
  batch *spare;                 /* free (or NULL) */
  uint64_t queued;              /* documents in the filling batch */
};

static void batch_reset(batch *b) {
  ks_buf_reset(&b->arena);
  ks_buf_reset(&b->toks);
  b->ndocs = 0;
}

static void batch_free(batch *b) {
  ks_buf_free(&b->arena);
  ks_buf_free(&b->toks);
  ks_free(b->docs);
  memset(b, 0, sizeof *b);
}

static ks_doc batch_get(const batch *b, const batch_doc *e) {
  const char *a = (const char *)b->arena.data;
  ks_doc d;
  d.id = a + e->id;
  d.id_len = e->id_len;
  d.title = e->has_title ? a + e->title : NULL;
  d.title_len = e->title_len;
  d.text = a + e->text;
  d.text_len = e->text_len;
  d.json = e->has_json ? a + e->json : NULL;
  d.json_len = e->json_len;
  return d;
}

static int batch_add(batch *b, const ks_doc *d) {
  if (b->ndocs == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    batch_doc *p = ks_realloc(b->docs, cap * sizeof *p);
    if (!p) return KS_ENOMEM;
    b->docs = p;
    b->cap = cap;
  }
  batch_doc *e = &b->docs[b->ndocs];
  memset(e, 0, sizeof *e);
  e->id = b->arena.len;
  e->id_len = d->id_len;
  if (ks_buf_append(&b->arena, d->id, d->id_len)) return KS_ENOMEM;
  e->has_title = d->title != NULL;
  e->title = b->arena.len;
  e->title_len = d->title ? d->title_len : 0;
  if (d->title && ks_buf_append(&b->arena, d->title, d->title_len)) return KS_ENOMEM;
  e->text = b->arena.len;
  e->text_len = d->text_len;
  if (ks_buf_append(&b->arena, d->text, d->text_len)) return KS_ENOMEM;
  e->has_json = d->json && d->json_len;
  e->json = b->arena.len;
  e->json_len = e->has_json ? d->json_len : 0;
  if (e->has_json && ks_buf_append(&b->arena, d->json, d->json_len)) return KS_ENOMEM;
  b->ndocs++;
  return KS_OK;
}

/* The worker's job (ks_worker_fn): analyze every document of a batch with
 * the worker's analyzer; the first error stops it. */
static int analyze_job(void *ctx, void *job, ks_err *err) {
  ks_analysis *a = ctx;
  batch *b = job;
  int rc = KS_OK;
  ks_buf_reset(&b->toks);
  for (size_t i = 0; i < b->ndocs && !rc; i++) {
    batch_doc *e = &b->docs[i];
    ks_doc d = batch_get(b, e);
    e->tok = b->toks.len;
    rc = ks_analysis_doc(a->tok, &d, &b->toks, e->doclen, err);
    e->tok_len = b->toks.len - e->tok;
  }
  return rc;
}

/* Index the analyzed documents of b in order (caller's thread). */
static int batch_index(ks_analysis *a, batch *b, ks_err *err) {
  int rc = KS_OK;
  for (size_t i = 0; i < b->ndocs && !rc; i++) {
    const batch_doc *e = &b->docs[i];
    ks_doc d = batch_get(b, e);
    rc = a->index(a->ctx, &d, b->toks.data + e->tok, e->tok_len, e->doclen, err);
  }
  batch_reset(b);
  return rc;
}

/* ---- the analysis thread ------------------------------------------------------- */

/* Contract: writer_int.h. */
int ks_analysis_new(ks_analysis **out, const ks_tok_config *cfg,
                    ks_analysis_index_fn index, void *ctx, ks_err *err) {
  *out = NULL;
  ks_analysis *a = ks_calloc(1, sizeof *a);
  if (!a) return oom(err);
  a->index = index;
  a->ctx = ctx;
  a->filling = &a->batches[0];
  a->spare = &a->batches[1];
  int rc = ks_tok_new(cfg, &a->tok, err);
  if (!rc && ks_worker_start(&a->worker, analyze_job, a, 1))
    rc = ks_err_set(err, KS_ENOMEM, "[idx][open] cannot start the analysis thread");
  if (rc) {
    ks_analysis_free(a);
    return rc;
  }
  *out = a;
  return KS_OK;
}

/* Wait for the batch in flight (if any) and index it. */
static int drain_in_flight(ks_analysis *a, ks_err *err) {
  if (!a->in_flight) return KS_OK;
  int rc = ks_worker_drain(a->worker, err);
  batch *b = a->in_flight;
  a->in_flight = NULL;
  a->spare = b;
  if (rc) {
    batch_reset(b);
    return rc;
  }
  return batch_index(a, b, err);
}

/* Hand the filling batch to the worker, then index the previous one while
 * it is being analyzed. */
static int dispatch(ks_analysis *a, ks_err *err) {
  batch *b = a->filling;
  if (!b || b->ndocs == 0) return KS_OK;
  batch *prev = a->in_flight;
  int rc = prev ? ks_worker_drain(a->worker, err) : KS_OK; /* prev analyzed */
  if (!rc) rc = ks_worker_submit(a->worker, b, err);
  if (rc) return rc;
  a->in_flight = b;
  a->filling = a->spare;
  a->spare = NULL;
  rc = prev ? batch_index(a, prev, err) : KS_OK;
  if (!a->filling) a->filling = prev;
  else if (prev) a->spare = prev;
  return rc;
}

/* Contract: writer_int.h. */
int ks_analysis_add(ks_analysis *a, const ks_doc *d, ks_err *err) {
  if (batch_add(a->filling, d)) return oom(err);
  a->queued++;
  if (a->filling->arena.len >= BATCH_BYTES || a->filling->ndocs >= BATCH_DOCS) {
    a->queued = 0;
    return dispatch(a, err);
  }
  return KS_OK;
}

/* Contract: writer_int.h. */
uint64_t ks_analysis_queued(const ks_analysis *a) { return a->queued; }

/* Contract: writer_int.h. */
int ks_analysis_drain(ks_analysis *a, ks_err *err) {
  int rc = drain_in_flight(a, err);
  if (!rc && a->filling && a->filling->ndocs > 0) {
    rc = dispatch(a, err);
    if (!rc) rc = drain_in_flight(a, err);
  }
  return rc;
}

/* Contract: writer_int.h. */
void ks_analysis_free(ks_analysis *a) {
  if (!a) return;
  ks_worker_stop(a->worker, 1);
  batch_free(&a->batches[0]);
  batch_free(&a->batches[1]);
  ks_tok_free(a->tok);
  ks_free(a);
}
