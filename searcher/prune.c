/*
 * prune.c - shared machinery of the dynamic-pruning top-k algorithms
 * (query_int.h, section prune.c): the segment loop they share
 * (ks_prune_run, with the algorithm's per-segment part as a callback),
 * which queries bmw.c / maxscore.c accept, one cursor per query term per
 * segment with its score bounds, shallow block moves over the skip table,
 * and the exact evaluation of a document.
 *
 * Invariants:
 *   - cursors of driving terms (terms of non-excluded clauses) come first,
 *     pc[0 .. n); only they are moved by the algorithms and carry bounds.
 *     Terms used only by excluded clauses get checking cursors pc[n ..
 *     n + nchk), moved forward by ks_prune_score alone;
 *   - a document's score is the sum over the non-excluded clauses it
 *     satisfies of the contributions of the clause's terms present in it
 *     (exhaustive.c), so the per-term bounds (coef * g(max_tf, min_len),
 *     coef summed over the non-excluded clauses) bound it whatever the
 *     required, excluded and phrase conditions decide; those are checked
 *     (positions read) by ks_prune_score only for the documents that
 *     survive the bounds;
 *   - ks_prune_score adds the contributions in exactly exhaustive.c's order
 *     (clause by clause, ref by ref, each clause summed from 0.0, the bm25
 *     length part K from the same expression, ks_bm25_k), so the scores are
 *     bit-identical to the exhaustive evaluator's;
 *   - bounds (ub, sub) are never below the true contribution of any posting
 *     they cover, up to KS_PRUNE_SLACK (docs/ranking.md, "Query
 *     evaluation").
 */
#include "query_int.h"

#include <math.h>
#include <string.h>

#include "ks_alloc.h"
#include "lengths_int.h"

/* Contract: query_int.h. */
int ks_prune_run(const ks_index *ix, const ks_query *q,
                 const ks_term_info *infos, const ks_bm25 *bm,
                 ks_prune_segment_fn run, void *ctx, ks_topk *top,
                 uint64_t *matches, ks_err *err) {
  *matches = 0;
  ks_prune p;
  int rc = ks_prune_init(&p, q, bm, err);
  for (uint32_t s = 0; rc == KS_OK && s < ix->nsegs; s++) {
    if (ks_segment_nlive(ix->segs[s]) == 0) continue;
    rc = ks_prune_open_segment(&p, ix->segs[s], ix->base[s],
                               infos + (size_t)s * q->nterms);
    if (rc != KS_OK) break;
    rc = run(&p, ctx, top, matches);
    ks_prune_close_segment(&p);
  }
  ks_prune_free(&p);
  return rc;
}

/* Contract: query_int.h. */
int ks_prune_supported(const ks_query *q, uint32_t k) {
  if (k == 0 || q->nterms == 0 || q->noptional == 0) return 0;
  return q->nrequired == 0;
}

/* Contract: query_int.h. */
int ks_prune_init(ks_prune *p, const ks_query *q, const ks_bm25 *bm,
                  ks_err *err) {
  memset(p, 0, sizeof *p);
  p->q = q;
  p->bm = bm;
  p->err = err;
  p->len_doc = UINT32_MAX;
  uint32_t n = q->nterms ? q->nterms : 1;
  p->pc = ks_calloc(n, sizeof *p->pc);
  p->by_term = ks_calloc(n, sizeof *p->by_term);
  p->order = ks_calloc(n, sizeof *p->order);
  p->cum = ks_calloc(n, sizeof *p->cum);
  p->docs = ks_calloc(n, sizeof *p->docs);
  p->coef = ks_calloc(n, sizeof *p->coef);
  p->g = ks_calloc(n, sizeof *p->g);
  p->gdoc = ks_calloc(n, sizeof *p->gdoc);
  p->wsum = ks_calloc(KS_PRUNE_WINDOW, sizeof *p->wsum);
  p->wbits = ks_calloc(KS_PRUNE_WINDOW / 64, sizeof *p->wbits);
  uint32_t np = q->max_phrase ? q->max_phrase : 1;
  p->plist = ks_calloc(np, sizeof *p->plist);
  p->plen = ks_calloc(np, sizeof *p->plen);
  p->pidx = ks_calloc(np, sizeof *p->pidx);
  if (!p->pc || !p->by_term || !p->order || !p->cum || !p->docs || !p->coef ||
      !p->g || !p->gdoc || !p->wsum || !p->wbits || !p->plist || !p->plen ||
      !p->pidx)
    return ks_err_set(err, KS_ENOMEM, "[srch][prune] out of memory");
  /* per-term multiplier of g(tf, dl): a term may be referenced by several
   * clauses (e.g. a stem shared by two words) */
  for (uint32_t c = 0; c < q->nclauses; c++) {
    const ks_qclause *cl = &q->clauses[c];
    if (cl->op == KS_OP_EXCLUDED) continue; /* never scored */
    for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++) {
      const ks_qref *ref = &q->refs[r];
      /* bm25: qtf * g for word and phrase refs; bm25-xapian: a phrase ref
       * is qtf leaves (exhaustive.c) */
      p->coef[ref->term] += bm->scheme == KS_RANK_BM25_XAPIAN
                                ? (cl->phrase ? (double)ref->qtf : 1.0) * ref->xweight
                                : (double)ref->qtf;
    }
  }
  return KS_OK;
}

/* Contract: query_int.h. */
void ks_prune_free(ks_prune *p) {
  ks_free(p->pc);
  ks_free(p->by_term);
  ks_free(p->order);
  ks_free(p->cum);
  ks_free(p->docs);
  ks_free(p->coef);
  ks_free(p->g);
  ks_free(p->gdoc);
  ks_free(p->wsum);
  ks_free(p->wbits);
  ks_free(p->plist);
  ks_free(p->plen);
  ks_free(p->pidx);
  memset(p, 0, sizeof *p);
}

/* coef * g(tf, len): the contribution of a term with multiplier coef. For
 * bm25 len is the length in the term's field; for bm25-xapian the length
 * of both fields (a bound may pass the term field's length alone, which is
 * never larger, so the bound only grows). */
static inline double contribution(const ks_prune *p, const ks_pcur *c,
                                  uint32_t tf, uint64_t len) {
  const ks_bm25 *bm = p->bm;
  if (bm->scheme == KS_RANK_BM25_XAPIAN)
    return ks_bm25_xapian_term(bm, c->coef, tf, len);
  const ks_qterm *qt = &p->q->terms[c->term];
  return c->coef * ks_bm25_term(bm, qt->weight, qt->field, tf,
                                len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
}

/* Contract: query_int.h. */
int ks_prune_open_segment(ks_prune *p, const ks_segment *seg, uint64_t base,
                          const ks_term_info *infos) {
  const ks_query *q = p->q;
  p->seg = seg;
  p->base = base;
  p->n = 0;
  p->nchk = 0;
  p->len_doc = UINT32_MAX;
  for (uint32_t t = 0; t < q->nterms; t++) {
    p->by_term[t] = NULL;
    p->gdoc[t] = UINT32_MAX; /* local numbers restart in every segment */
  }
  /* driving terms first (pc[0 .. n)), then the checking ones */
  for (uint32_t i = 0; i < 2 * q->nterms; i++) {
    uint32_t t = i % q->nterms;
    int pass = i >= q->nterms;
    if (infos[t].df == 0 || q->terms[t].drives != (pass == 0)) continue;
    ks_pcur *c = &p->pc[p->n + p->nchk];
    int rc = ks_postings_open(&c->cur, seg, &infos[t], p->err);
    if (rc != KS_OK) {
      ks_postings_close(&c->cur);
      ks_prune_close_segment(p);
      return rc;
    }
    if (pass == 0) p->n++;
    else p->nchk++;
    c->term = t;
    c->live = 1;
    c->coef = p->coef[t];
    c->ub = contribution(p, c, infos[t].max_tf, infos[t].min_len);
    c->sblock = 0;
    c->slast = c->cur.last_doc;
    ks_skip_entry e;
    ks_postings_skip(&c->cur, 0, &e);
    c->sub = contribution(p, c, e.max_tf, e.min_len);
    p->by_term[t] = c;
  }
  return KS_OK;
}

/* Contract: query_int.h. */
void ks_prune_close_segment(ks_prune *p) {
  for (uint32_t i = 0; i < p->n + p->nchk; i++) ks_postings_close(&p->pc[i].cur);
  for (uint32_t t = 0; t < p->q->nterms; t++) p->by_term[t] = NULL;
  p->n = p->nchk = 0;
}

/* Contract: query_int.h. */
double ks_prune_block_bound(ks_prune *p, ks_pcur *c, uint32_t target) {
  if (!c->live) {
    c->slast = KS_MAX_DOCS;
    return 0.0;
  }
  if (c->sblock < c->cur.block || c->slast == KS_MAX_DOCS) {
    /* the cursor moved past the shallow block: restart from its block */
    ks_skip_entry e;
    ks_postings_skip(&c->cur, c->cur.block, &e);
    c->sblock = c->cur.block;
    c->slast = c->cur.last_doc;
    c->sub = contribution(p, c, e.max_tf, e.min_len);
  }
  if (c->slast >= target) return c->sub;
  ks_skip_entry e;
  uint32_t b = c->sblock;
  do {
    if (++b >= c->cur.nblocks) {
      c->sblock = c->cur.nblocks;
      c->slast = KS_MAX_DOCS;
      c->sub = 0.0;
      return 0.0;
    }
    ks_postings_skip(&c->cur, b, &e);
  } while (e.last_doc < target);
  c->sblock = b;
  c->slast = e.last_doc;
  c->sub = contribution(p, c, e.max_tf, e.min_len);
  return c->sub;
}

/* Contract: query_int.h. */
double ks_prune_window_bound(ks_prune *p, ks_pcur *c, uint32_t lo,
                             uint32_t hi) {
  double m = ks_prune_block_bound_fast(p, c, lo);
  if (c->slast == KS_MAX_DOCS || c->slast + 1 >= hi) return m;
  ks_skip_entry e;
  uint32_t b = c->sblock;
  uint32_t last = c->slast;
  while (last + 1 < hi && ++b < c->cur.nblocks) {
    ks_postings_skip(&c->cur, b, &e);
    double x = contribution(p, c, e.max_tf, e.min_len);
    if (x > m) m = x;
    last = e.last_doc;
  }
  return m;
}

/* Contract: query_int.h. */
void ks_prune_accumulate(ks_prune *p, const ks_pcur *c, uint32_t lo,
                         uint32_t hi) {
  if (!c->live) return;
  const ks_postings *cur = &c->cur;
  const ks_bm25 *bm = p->bm;
  const ks_segment *seg = p->seg;
  double *wsum = p->wsum;
  uint64_t *wbits = p->wbits;
  uint32_t i = cur->i, n = cur->block_n;
  if (bm->scheme == KS_RANK_BM25_XAPIAN) {
    for (; i < n && cur->docs[i] < hi; i++) {
      uint32_t d = cur->docs[i], off = d - lo;
      uint64_t len = (uint64_t)ks_segment_doclen(seg, d, 0) +
                     ks_segment_doclen(seg, d, 1);
      wsum[off] += ks_bm25_xapian_term(bm, c->coef, cur->tfs[i], len);
      wbits[off >> 6] |= (uint64_t)1 << (off & 63);
    }
    return;
  }
  const ks_qterm *qt = &p->q->terms[c->term];
  int f = qt->field;
  double w = qt->weight, coef = c->coef;
  for (; i < n && cur->docs[i] < hi; i++) {
    uint32_t d = cur->docs[i], off = d - lo;
    wsum[off] += coef * ks_bm25_term(bm, w, f, cur->tfs[i],
                                     ks_segment_doclen(seg, d, f));
    wbits[off >> 6] |= (uint64_t)1 << (off & 63);
  }
}

static void lengths(ks_prune *p, uint32_t doc) {
  if (p->len_doc == doc) return;
  p->len_doc = doc;
  for (int f = 0; f < KS_NFIELDS; f++) {
    p->dl[f] = ks_segment_doclen(p->seg, doc, f);
    p->kn[f] = ks_bm25_k(p->bm, f, p->dl[f]);
  }
}

/* Contract: query_int.h. */
double ks_prune_term_score(ks_prune *p, const ks_pcur *c) {
  uint32_t doc = c->cur.doc;
  lengths(p, doc);
  if (p->bm->scheme == KS_RANK_BM25_XAPIAN)
    return contribution(p, c, c->cur.tf, (uint64_t)p->dl[0] + p->dl[1]);
  uint32_t t = c->term;
  if (p->gdoc[t] != doc) {
    /* exactly the factor ks_prune_score (and exhaustive.c) multiplies by
     * each ref's qtf */
    const ks_qterm *qt = &p->q->terms[t];
    p->g[t] = ks_bm25_term_k(qt->weight, c->cur.tf, p->kn[qt->field]);
    p->gdoc[t] = doc;
  }
  return c->coef * p->g[t];
}

/* 1 if c is on doc. */
static inline int on_doc(const ks_pcur *c, uint32_t doc) {
  return c && c->live && c->cur.doc == doc;
}

/* Position check on doc where every term of ps[0 .. n) has its cursor
 * on doc (a phrase's base terms, or a strict clause's alternative): 1 if
 * some position p of the first term has p + offset_i in the i-th term's
 * positions (ks_phrase_positions_match). *rc on error. */
static int positions_at(ks_prune *p, const ks_qpos *ps, uint32_t n, int *rc) {
  for (uint32_t i = 0; i < n; i++) {
    ks_pcur *c = p->by_term[ps[i].term];
    int r = ks_postings_positions(&c->cur, &p->plist[i], &p->plen[i], p->err);
    if (r != KS_OK) {
      *rc = r;
      return 0;
    }
  }
  return ks_phrase_positions_match(ps, n, p->plist, p->plen, p->pidx);
}

static int phrase_at(ks_prune *p, const ks_qclause *cl, int *rc) {
  return positions_at(p, &p->q->positions[cl->pos0], cl->npos, rc);
}

/* Alternative a of a strict word clause on doc, every cursor of its
 * terms having been moved to doc if it lagged (query_int.h). */
static int alt_on(ks_prune *p, const ks_qalt *a, uint32_t doc, int *rc) {
  const ks_qpos *ps = &p->q->positions[a->pos0];
  for (uint32_t i = 0; i < a->npos; i++)
    if (!on_doc(p->by_term[ps[i].term], doc)) return 0;
  return a->npos == 1 || positions_at(p, ps, a->npos, rc);
}

/* 1 if clause cl matches doc: an optional word clause when one of its
 * terms is on doc, a strict one when one of its alternatives is, a phrase
 * when all its base terms are and the positions line up. Checking cursors
 * (terms only of excluded clauses) that lag behind doc are moved to it
 * first; driving cursors are where the caller put them. */
static int clause_on(ks_prune *p, const ks_qclause *cl, uint32_t doc, int *rc) {
  const ks_qref *refs = &p->q->refs[cl->ref0];
  if (cl->nalts) {
    for (uint32_t r = 0; r < cl->nrefs; r++) {
      uint32_t t = refs[r].term;
      ks_pcur *c = p->by_term[t];
      if (c && c->live && c->cur.doc < doc && !p->q->terms[t].drives) {
        *rc = ks_prune_seek(p, c, doc);
        if (*rc != KS_OK) return 0;
      }
    }
    for (uint32_t a = cl->alt0; a < cl->alt0 + cl->nalts; a++) {
      if (alt_on(p, &p->q->alts[a], doc, rc)) return 1;
      if (*rc) return 0;
    }
    return 0;
  }
  for (uint32_t r = 0; r < cl->nrefs; r++) {
    uint32_t t = refs[r].term;
    ks_pcur *c = p->by_term[t];
    if (c && c->live && c->cur.doc < doc && !p->q->terms[t].drives) {
      *rc = ks_prune_seek(p, c, doc);
      if (*rc != KS_OK) return 0;
    }
    int on = on_doc(c, doc);
    if (!cl->phrase && on) return 1;
    if (cl->phrase && !on) return 0;
  }
  if (!cl->phrase) return 0;
  if (cl->npos == 1) return 1;
  return phrase_at(p, cl, rc);
}

/* Contract: query_int.h. Mirrors exhaustive.c's evaluate, clause_score and
 * clause_score_xapian: required clauses must match, excluded ones must not,
 * then the non-excluded clauses that match are summed in clause order. */
int ks_prune_score(ks_prune *p, uint32_t doc, int *matched, double *score) {
  const ks_query *q = p->q;
  const ks_bm25 *bm = p->bm;
  int rc = KS_OK;
  *matched = 0;
  *score = 0.0;
  for (uint32_t i = 0; i < q->nclauses && q->nrequired; i++) {
    const ks_qclause *cl = &q->clauses[i];
    if (cl->op == KS_OP_REQUIRED && !clause_on(p, cl, doc, &rc)) return rc;
  }
  for (uint32_t i = 0; i < q->nclauses && q->nexcluded; i++) {
    const ks_qclause *cl = &q->clauses[i];
    if (cl->op != KS_OP_EXCLUDED) continue;
    if (clause_on(p, cl, doc, &rc)) return KS_OK;
    if (rc != KS_OK) return rc;
  }
  lengths(p, doc);
  int xapian = bm->scheme == KS_RANK_BM25_XAPIAN;
  uint64_t len = (uint64_t)p->dl[0] + p->dl[1];
  double s = 0.0;
  int any_clause = 0;
  for (uint32_t i = 0; i < q->nclauses; i++) {
    const ks_qclause *cl = &q->clauses[i];
    const ks_qref *refs = &q->refs[cl->ref0];
    if (cl->op == KS_OP_EXCLUDED) continue;
    if (cl->phrase && cl->op == KS_OP_OPTIONAL) {
      /* every base term here, then the positions (required phrases were
       * checked above) */
      uint32_t r = 0;
      while (r < cl->nrefs && on_doc(p->by_term[refs[r].term], doc)) r++;
      if (r < cl->nrefs) continue;
      if (cl->npos > 1 && !phrase_at(p, cl, &rc)) {
        if (rc != KS_OK) return rc;
        continue;
      }
    }
    double cs = 0.0;
    int any = 0;
    for (uint32_t r = 0; r < cl->nrefs; r++) {
      const ks_pcur *c = p->by_term[refs[r].term];
      if (!on_doc(c, doc)) continue;
      any = 1;
      if (xapian) {
        double x = ks_bm25_xapian_term(bm, refs[r].xweight, c->cur.tf, len);
        cs += cl->phrase ? (double)refs[r].qtf * x : x;
      } else {
        uint32_t t = refs[r].term;
        if (p->gdoc[t] != doc) {
          const ks_qterm *qt = &q->terms[t];
          p->g[t] = ks_bm25_term_k(qt->weight, c->cur.tf, p->kn[qt->field]);
          p->gdoc[t] = doc;
        }
        cs += (double)refs[r].qtf * p->g[t];
      }
    }
    if (any) { /* exhaustive.c skips clauses that do not match; a required
                  clause matches here, so it has a term on doc */
      s += cs;
      any_clause = 1;
    }
  }
  *matched = q->nrequired ? 1 : any_clause;
  *score = s;
  return KS_OK;
}

/* Contract: query_int.h. */
int ks_prune_seek(ks_prune *p, ks_pcur *c, uint32_t target) {
  if (!c->live || c->cur.doc >= target) return KS_OK;
  int r = ks_postings_seek(&c->cur, target, p->err);
  if (r == KS_DONE) {
    c->live = 0;
    return KS_OK;
  }
  if (r != KS_OK) c->live = 0;
  return r;
}

/* Contract: query_int.h. */
int ks_prune_next(ks_prune *p, ks_pcur *c) {
  if (!c->live) return KS_OK;
  int r = ks_postings_next(&c->cur, p->err);
  if (r == KS_DONE) {
    c->live = 0;
    return KS_OK;
  }
  if (r != KS_OK) c->live = 0;
  return r;
}

/* Contract: query_int.h. */
double ks_prune_theta(const ks_topk *top) {
  if (top->cap == 0 || top->n < top->cap) return -INFINITY;
  return top->heap[0].score;
}
