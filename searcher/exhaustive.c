/*
 * exhaustive.c - exact document-at-a-time evaluation (query_int.h, section
 * exhaustive.c). This is the reference algorithm: every faster top-k
 * algorithm added later must return the same hits.
 *
 * Per segment, one postings cursor per query term found there. "Driving"
 * cursors (terms of non-excluded clauses) are advanced with _next and
 * their minimum document is the next candidate; terms used only by excluded
 * clauses are "checking" cursors, moved with _seek to the candidate when an
 * excluded clause is tested. A candidate d is a match when it is live, every
 * required clause matches, no excluded clause matches and, without required
 * clauses, at least one optional clause matches:
 *   - an optional word clause matches when any of its terms is at d; a
 *     strict (+/-) one when one of its alternatives is (its terms at d,
 *     positions lined up as for a phrase);
 *   - a phrase clause matches when all its base terms are at d and some
 *     position p of the first has p + offset_i in the list of the i-th.
 * Score = sum over matching non-excluded clauses of their terms' BM25
 * (bm25.c), in the scheme of bm->scheme (bm25: the length part K computed
 * once per candidate and field, bm25.c). Candidates come in increasing
 * local number, segments in manifest order, so global numbers increase
 * (the top-k tie rule relies on it).
 *
 * The phrase position test (ks_phrase_positions_match) lives here and is
 * shared by the pruned paths (prune.c).
 *
 * Memory: one array of cursors and the phrase scratch per query; nothing is
 * allocated per posting (cursor position buffers belong to postings.c).
 */
#include "query_int.h"

#include <string.h>

#include "deletions_int.h"
#include "ks_alloc.h"
#include "lengths_int.h"

typedef struct eval_ctx {
  const ks_query *q;
  const ks_bm25 *bm;
  const ks_segment *seg;
  ks_postings *cur;         /* nterms cursors */
  uint8_t *active;          /* 1: cursor open and not exhausted */
  const uint32_t **plist;   /* phrase scratch: positions per phrase word */
  uint32_t *plen, *pidx;
  uint32_t doc;             /* candidate */
  uint32_t dl[KS_NFIELDS];  /* field lengths of doc, or UINT32_MAX */
  double kn[KS_NFIELDS];    /* bm25 length part K of doc per field ... */
  uint8_t khave[KS_NFIELDS];/* ... valid when 1 */
  ks_err *err;
} eval_ctx;

/* 1 if term t's cursor is on the candidate (seeking a checking cursor). */
static int at_doc(eval_ctx *e, uint32_t t, int *rc) {
  if (!e->active[t]) return 0;
  ks_postings *c = &e->cur[t];
  if (c->doc < e->doc) { /* only checking cursors lag behind */
    int r = ks_postings_seek(c, e->doc, e->err);
    if (r == KS_DONE) {
      e->active[t] = 0;
      return 0;
    }
    if (r != KS_OK) {
      *rc = r;
      return 0;
    }
  }
  return c->doc == e->doc;
}

/* Position check on a document where every term of ps[0 .. n) is present
 * (a phrase's base terms, or a strict clause's alternative). */
static int positions_at(eval_ctx *e, const ks_qpos *ps, uint32_t n, int *rc) {
  for (uint32_t i = 0; i < n; i++) {
    int r = ks_postings_positions(&e->cur[ps[i].term], &e->plist[i],
                                  &e->plen[i], e->err);
    if (r != KS_OK) {
      *rc = r;
      return 0;
    }
  }
  return ks_phrase_positions_match(ps, n, e->plist, e->plen, e->pidx);
}

/* Contract: query_int.h. */
int ks_phrase_positions_match(const ks_qpos *ps, uint32_t n,
                              const uint32_t *const *plist,
                              const uint32_t *plen, uint32_t *pidx) {
  for (uint32_t i = 0; i < n; i++) pidx[i] = 0;
  for (uint32_t j = 0; j < plen[0]; j++) {
    uint64_t p = plist[0][j];
    uint32_t i = 1;
    for (; i < n; i++) {
      uint64_t want = p + ps[i].offset;
      const uint32_t *l = plist[i];
      uint32_t k = pidx[i];
      while (k < plen[i] && l[k] < want) k++;
      pidx[i] = k;
      if (k == plen[i]) return 0; /* no later start can succeed */
      if (l[k] != want) break;
    }
    if (i == n) return 1;
  }
  return 0;
}

/* Alternative a of a strict word clause on the candidate (query_int.h). */
static int alt_at(eval_ctx *e, const ks_qalt *a, int *rc) {
  const ks_qpos *ps = &e->q->positions[a->pos0];
  for (uint32_t i = 0; i < a->npos; i++)
    if (!at_doc(e, ps[i].term, rc)) return 0;
  return a->npos == 1 || positions_at(e, ps, a->npos, rc);
}

static int clause_matches(eval_ctx *e, const ks_qclause *cl, int *rc) {
  const ks_qref *refs = &e->q->refs[cl->ref0];
  if (cl->nalts) {
    for (uint32_t a = cl->alt0; a < cl->alt0 + cl->nalts; a++) {
      if (alt_at(e, &e->q->alts[a], rc)) return 1;
      if (*rc) return 0;
    }
    return 0;
  }
  if (!cl->phrase) {
    for (uint32_t r = 0; r < cl->nrefs; r++) {
      if (at_doc(e, refs[r].term, rc)) return 1;
      if (*rc) return 0;
    }
    return 0;
  }
  for (uint32_t r = 0; r < cl->nrefs; r++) {
    if (!at_doc(e, refs[r].term, rc)) return 0;
  }
  if (cl->npos == 1) return 1;
  return positions_at(e, &e->q->positions[cl->pos0], cl->npos, rc);
}

/* KS_RANK_BM25_XAPIAN (bm25.c): one Xapian leaf per word-clause ref, qtf
 * leaves per phrase ref; the length is that of both fields together. */
static double clause_score_xapian(eval_ctx *e, const ks_qclause *cl) {
  const ks_qref *refs = &e->q->refs[cl->ref0];
  double s = 0.0;
  for (uint32_t r = 0; r < cl->nrefs; r++) {
    uint32_t t = refs[r].term;
    if (!e->active[t] || e->cur[t].doc != e->doc) continue;
    for (int f = 0; f < KS_NFIELDS; f++)
      if (e->dl[f] == UINT32_MAX) e->dl[f] = ks_segment_doclen(e->seg, e->doc, f);
    uint64_t len = (uint64_t)e->dl[0] + e->dl[1];
    double x = ks_bm25_xapian_term(e->bm, refs[r].xweight, e->cur[t].tf, len);
    s += cl->phrase ? (double)refs[r].qtf * x : x;
  }
  return s;
}

static double clause_score(eval_ctx *e, const ks_qclause *cl) {
  if (e->bm->scheme == KS_RANK_BM25_XAPIAN) return clause_score_xapian(e, cl);
  const ks_qref *refs = &e->q->refs[cl->ref0];
  double s = 0.0;
  for (uint32_t r = 0; r < cl->nrefs; r++) {
    uint32_t t = refs[r].term;
    if (!e->active[t] || e->cur[t].doc != e->doc) continue;
    const ks_qterm *qt = &e->q->terms[t];
    int f = qt->field;
    if (!e->khave[f]) {
      e->kn[f] = ks_bm25_k(e->bm, f, ks_segment_doclen(e->seg, e->doc, f));
      e->khave[f] = 1;
    }
    s += (double)refs[r].qtf * ks_bm25_term_k(qt->weight, e->cur[t].tf, e->kn[f]);
  }
  return s;
}

/* Evaluate the candidate: *is_match and *score. Returns KS_OK or an rc. */
static int evaluate(eval_ctx *e, int *is_match, double *score) {
  const ks_query *q = e->q;
  int rc = KS_OK, any_optional = 0;
  *is_match = 0;
  /* required first, then excluded: both can reject cheaply */
  for (uint32_t i = 0; i < q->nclauses && q->nrequired; i++) {
    const ks_qclause *cl = &q->clauses[i];
    if (cl->op != KS_OP_REQUIRED) continue;
    int m = clause_matches(e, cl, &rc);
    if (rc) return rc;
    if (!m) return KS_OK;
  }
  for (uint32_t i = 0; i < q->nclauses && q->nexcluded; i++) {
    const ks_qclause *cl = &q->clauses[i];
    if (cl->op != KS_OP_EXCLUDED) continue;
    int m = clause_matches(e, cl, &rc);
    if (rc) return rc;
    if (m) return KS_OK;
  }
  double s = 0.0;
  e->dl[0] = e->dl[1] = UINT32_MAX;
  e->khave[0] = e->khave[1] = 0;
  for (uint32_t i = 0; i < q->nclauses; i++) {
    const ks_qclause *cl = &q->clauses[i];
    if (cl->op == KS_OP_EXCLUDED) continue;
    if (cl->op == KS_OP_OPTIONAL) {
      int m = clause_matches(e, cl, &rc);
      if (rc) return rc;
      if (!m) continue;
      any_optional = 1;
    }
    s += clause_score(e, cl);
  }
  if (q->nrequired == 0 && !any_optional) return KS_OK;
  *is_match = 1;
  *score = s;
  return KS_OK;
}

/* Run the query over one segment. */
static int run_segment(eval_ctx *e, uint64_t base, const ks_term_info *infos,
                       ks_topk *top, uint64_t *matches) {
  const ks_query *q = e->q;
  int rc = KS_OK;
  uint32_t nopen = 0;
  for (uint32_t t = 0; t < q->nterms; t++) {
    e->active[t] = 0;
    if (infos[t].df == 0) continue;
    rc = ks_postings_open(&e->cur[t], e->seg, &infos[t], e->err);
    if (rc != KS_OK) break;
    e->active[t] = 1;
    nopen = t + 1;
  }
  /* candidate = smallest document among the driving cursors */
  uint32_t next = UINT32_MAX;
  int have = 0;
  for (uint32_t t = 0; rc == KS_OK && t < q->nterms; t++) {
    if (e->active[t] && q->terms[t].drives && e->cur[t].doc <= next) {
      next = e->cur[t].doc;
      have = 1;
    }
  }
  while (rc == KS_OK && have) {
    e->doc = next;
    if (!ks_segment_is_deleted(e->seg, e->doc)) {
      int m;
      double s = 0.0;
      rc = evaluate(e, &m, &s);
      if (rc != KS_OK) break;
      if (m) {
        (*matches)++;
        ks_topk_push(top, base + e->doc, s);
      }
    }
    /* advance the driving cursors on the candidate; find the next one */
    have = 0;
    next = UINT32_MAX;
    for (uint32_t t = 0; t < q->nterms; t++) {
      if (!e->active[t] || !q->terms[t].drives) continue;
      ks_postings *c = &e->cur[t];
      if (c->doc == e->doc) {
        int r = ks_postings_next(c, e->err);
        if (r == KS_DONE) {
          e->active[t] = 0;
          continue;
        }
        if (r != KS_OK) {
          rc = r;
          break;
        }
      }
      if (c->doc <= next) {
        next = c->doc;
        have = 1;
      }
    }
  }
  for (uint32_t t = 0; t < nopen; t++)
    if (infos[t].df != 0) ks_postings_close(&e->cur[t]);
  return rc;
}

/* Contract: query_int.h. */
int ks_exhaustive_run(const ks_index *ix, const ks_query *q,
                      const ks_term_info *infos, const ks_bm25 *bm,
                      ks_topk *top, uint64_t *matches, ks_err *err) {
  *matches = 0;
  if (q->nterms == 0 || (q->nrequired == 0 && q->noptional == 0)) return KS_OK;
  eval_ctx e;
  memset(&e, 0, sizeof e);
  e.q = q;
  e.bm = bm;
  e.err = err;
  uint32_t np = q->max_phrase ? q->max_phrase : 1;
  e.cur = ks_calloc(q->nterms, sizeof *e.cur);
  e.active = ks_calloc(q->nterms, 1);
  e.plist = ks_calloc(np, sizeof *e.plist);
  e.plen = ks_calloc(np, sizeof *e.plen);
  e.pidx = ks_calloc(np, sizeof *e.pidx);
  int rc = KS_OK;
  if (!e.cur || !e.active || !e.plist || !e.plen || !e.pidx)
    rc = ks_err_set(err, KS_ENOMEM, "[srch][search] out of memory");
  for (uint32_t s = 0; rc == KS_OK && s < ix->nsegs; s++) {
    e.seg = ix->segs[s];
    if (ks_segment_nlive(e.seg) == 0) continue;
    rc = run_segment(&e, ix->base[s], infos + (size_t)s * q->nterms, top,
                     matches);
  }
  ks_free(e.cur);
  ks_free(e.active);
  ks_free(e.plist);
  ks_free(e.plen);
  ks_free(e.pidx);
  return rc;
}
