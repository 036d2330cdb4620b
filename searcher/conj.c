/*
 * conj.c - top-k for queries with required clauses (query_int.h, section
 * conj.c): the conjunctive part is evaluated by intersection with skipping,
 * optional clauses only add score, excluded clauses are checked by seeking.
 *
 * Per segment:
 *   - the required clauses are ordered by an estimate of how many
 *     documents they hold (a word clause: the sum of its terms' document
 *     frequencies in the segment, an upper bound of its union; a phrase:
 *     its rarest base term). A required clause with no term in the segment
 *     (a word) or a missing base term (a phrase) means no match there;
 *   - candidates: the lead (rarest) clause gives the first document >= the
 *     target that it may hold (a word clause: the smallest document of its
 *     terms' cursors, all moved there with ks_postings_seek, i.e. the skip
 *     table; a phrase: its base terms leapfrogged to a common document);
 *     every other clause is asked for the same document; one that answers
 *     a later document becomes the new target and the lead moves there
 *     (Lucene's ConjunctionDISI scheme). A document all required clauses
 *     agree on holds a term of every required word clause and every base
 *     term of every required phrase; the positions are not read yet;
 *   - once the heap is full (theta > -inf), two bounds, both exact (every
 *     bound is >= the contribution it covers, compared after
 *     KS_PRUNE_SLACK as in bmw.c / maxscore.c):
 *       1. before intersecting, the block bounds of all driving cursors at
 *          the target (shallow moves over the skip table, nothing
 *          decoded): if their sum cannot beat theta, no document in
 *          [target, nd) can, nd = the smallest end of those blocks: the
 *          target jumps to nd. A candidate d found at or beyond nd becomes
 *          the target and is bounded again; one before nd lies in every
 *          cursor's shallow block, so the same bounds hold for it;
 *       2. est = the block bounds of the required clauses' terms on d
 *          (the others contribute nothing to d) plus those of the
 *          optional-only terms: dropped if it cannot beat theta; then est
 *          = the contributions (coef * g, a bound of the exact one) of the
 *          required clauses' terms on d; the optional-only cursors from
 *          the largest list bound down: if est + the block bounds of those
 *          not visited yet cannot beat theta the candidate is dropped, else
 *          the cursor seeks to d and its contribution is added to est;
 *   - a surviving live candidate is scored by ks_prune_score: required
 *     phrases' positions, excluded clauses (their cursors seek to d),
 *     optional clauses, the sum in exhaustive.c's order (bit-identical).
 * Targets never decrease within a segment, so the forward-only seeks of
 * shared cursors (a term in two clauses has one cursor) stay correct: a
 * cursor is always on the first document >= the last target it was given.
 * Every driving cursor holding the scored document is on it: all terms of
 * the required clauses were moved to >= d by the intersection (every clause
 * was asked for d last), the optional-only ones by step 2.
 * A document is skipped only when it could not enter the heap (theta only
 * grows; documents come in increasing order, topk.c's tie rule), so the
 * hits are the exhaustive ones. Memory: three small arrays per query.
 */
#include "query_int.h"

#include <math.h>
#include <string.h>

#include "deletions_int.h"
#include "ks_alloc.h"

typedef struct conj_state {
  uint8_t *in_req;  /* per term: 1 if referenced by a required clause */
  uint32_t *req;    /* required clause numbers, rarest first (m of them) */
  uint64_t *cost;   /* their estimates */
  double *suf;      /* per candidate: suf[i] = sum of the block bounds of
                       the cursors order[i .. n) (n + 1 entries) */
  ks_pcur **eo;     /* the driving cursors by list bound, ascending */
  double *ecum;     /* ecum[i] = sum of the list bounds of eo[0 .. i] */
  uint32_t m;
} conj_state;

/* Contract: query_int.h. */
int ks_conj_supported(const ks_query *q, uint32_t k) {
  return k > 0 && q->nterms > 0 && q->nrequired > 0;
}

/* First document >= target that clause cl may hold (see the header), or
 * UINT32_MAX when there is none in the segment. */
/* ks_prune_seek, the no-move case inline. */
static inline int seek(ks_prune *p, ks_pcur *c, uint32_t target) {
  if (!c->live || c->cur.doc >= target) return KS_OK;
  return ks_prune_seek(p, c, target);
}

static int clause_next(ks_prune *p, const ks_qclause *cl, uint32_t target,
                       uint32_t *out) {
  const ks_qref *refs = &p->q->refs[cl->ref0];
  int rc;
  *out = UINT32_MAX;
  if (!cl->phrase) {
    uint32_t best = UINT32_MAX;
    for (uint32_t r = 0; r < cl->nrefs; r++) {
      ks_pcur *c = p->by_term[refs[r].term];
      if (!c) continue;
      rc = seek(p, c, target);
      if (rc != KS_OK) return rc;
      if (c->live && c->cur.doc < best) best = c->cur.doc;
    }
    *out = best;
    return KS_OK;
  }
  uint32_t d = target;
  for (;;) {
    int agree = 1;
    for (uint32_t r = 0; r < cl->nrefs; r++) {
      ks_pcur *c = p->by_term[refs[r].term];
      if (!c) return KS_OK; /* a base term absent: never */
      rc = seek(p, c, d);
      if (rc != KS_OK) return rc;
      if (!c->live) return KS_OK;
      if (c->cur.doc > d) {
        d = c->cur.doc;
        agree = 0;
      }
    }
    if (agree) {
      *out = d;
      return KS_OK;
    }
  }
}

/* First document >= target holding a term of the cursors ess[0 .. ne),
 * all moved to >= target (UINT32_MAX: none). */
static int union_next(ks_prune *p, ks_pcur **ess, uint32_t ne,
                      uint32_t target, uint32_t *out) {
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < ne; i++) {
    int rc = seek(p, ess[i], target);
    if (rc != KS_OK) return rc;
    if (ess[i]->live && ess[i]->cur.doc < best) best = ess[i]->cur.doc;
  }
  *out = best;
  return KS_OK;
}

/* First document >= target held by every required clause and, when ne >
 * 0, containing a term of ess[0 .. ne) (the essential cursors: a document
 * with none of them cannot beat theta). Leapfrog: the sources (the
 * essential union first, then the clauses rarest first) are asked in turn
 * until all of them agree on one document. UINT32_MAX: none left in the
 * segment. */
static int intersect(ks_prune *p, const conj_state *st, ks_pcur **ess,
                     uint32_t ne, uint32_t target, uint32_t *out) {
  const ks_qclause *cl = p->q->clauses;
  uint32_t nsrc = st->m + (ne > 0), agree = 0, i = 0, d = target, x;
  *out = UINT32_MAX;
  while (agree < nsrc) {
    int rc;
    if (ne > 0 && i == 0) rc = union_next(p, ess, ne, d, &x);
    else rc = clause_next(p, &cl[st->req[i - (ne > 0)]], d, &x);
    if (rc != KS_OK || x == UINT32_MAX) return rc;
    if (x == d) {
      agree++;
    } else {
      d = x;
      agree = 1;
    }
    if (++i == nsrc) i = 0;
  }
  *out = d;
  return KS_OK;
}

/* Order the required clauses for this segment; 0 if one of them cannot
 * match here. */
static int plan_segment(ks_prune *p, conj_state *st) {
  const ks_query *q = p->q;
  st->m = 0;
  for (uint32_t i = 0; i < q->nclauses; i++) {
    const ks_qclause *cl = &q->clauses[i];
    if (cl->op != KS_OP_REQUIRED) continue;
    uint64_t cost = cl->phrase ? UINT64_MAX : 0;
    for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++) {
      const ks_pcur *c = p->by_term[q->refs[r].term];
      if (!c) {
        if (cl->phrase) return 0;
        continue;
      }
      uint64_t df = c->cur.info.df;
      if (cl->phrase) cost = df < cost ? df : cost;
      else cost += df;
    }
    if (cost == 0) return 0; /* a word clause without any term here */
    uint32_t j = st->m++;
    while (j > 0 && st->cost[j - 1] > cost) { /* insertion sort */
      st->req[j] = st->req[j - 1];
      st->cost[j] = st->cost[j - 1];
      j--;
    }
    st->req[j] = i;
    st->cost[j] = cost;
  }
  return st->m > 0;
}

static int run_segment(ks_prune *p, conj_state *st, ks_topk *top,
                       uint64_t *matches) {
  ks_pcur **o = p->order;
  double *bb = p->cum; /* block bound of o[i] at the candidate */
  double *suf = st->suf;
  uint32_t n = p->n, nr = 0;
  /* o[0 .. nr): terms of required clauses; o[nr .. n): the others, by
   * list bound, largest first */
  for (uint32_t i = 0; i < n; i++)
    if (st->in_req[p->pc[i].term]) o[nr++] = &p->pc[i];
  uint32_t k = nr;
  for (uint32_t i = 0; i < n; i++) {
    ks_pcur *c = &p->pc[i];
    if (st->in_req[c->term]) continue;
    uint32_t j = k++;
    while (j > nr && o[j - 1]->ub < c->ub) {
      o[j] = o[j - 1];
      j--;
    }
    o[j] = c;
  }
  ks_pcur **eo = st->eo;
  double *ecum = st->ecum;
  for (uint32_t i = 0; i < n; i++) {
    ks_pcur *c = &p->pc[i];
    uint32_t j = i;
    while (j > 0 && eo[j - 1]->ub > c->ub) {
      eo[j] = eo[j - 1];
      j--;
    }
    eo[j] = c;
  }
  double acc = 0.0;
  for (uint32_t i = 0; i < n; i++) ecum[i] = acc += eo[i]->ub;
  uint32_t ne0 = 0; /* eo[0 .. ne0) are not essential */
  uint32_t ndocs = ks_segment_ndocs(p->seg);
  uint32_t target = 0;
  int rc = KS_OK;
  /* bb[] and sum bound the documents [target, bend) (computed at an
   * earlier target: any target before bend has the same shallow blocks);
   * bend = 0: not computed yet */
  uint64_t bend = 0;
  double sum = 0.0;
  while (target < ndocs) {
    double theta = ks_prune_theta(top);
    uint64_t nd = KS_MAX_DOCS; /* candidates from nd on are bounded anew */
    if (theta > -INFINITY) {
      /* 0. the essential cursors (MaxScore): the longest prefix of eo
       * whose list bounds sum to <= theta cannot lift a document alone */
      while (ne0 < n && ecum[ne0] * KS_PRUNE_SLACK <= theta) ne0++;
      if (ne0 == n) break; /* no document of the segment can beat theta */
      /* 1. block bounds at the target (shallow moves, nothing decoded):
       * skip [target, nd) at once */
      if (target >= bend) {
        sum = 0.0;
        bend = KS_MAX_DOCS;
        for (uint32_t i = 0; i < n; i++) {
          bb[i] = ks_prune_block_bound_fast(p, o[i], target);
          sum += bb[i];
          if (o[i]->slast != KS_MAX_DOCS && (uint64_t)o[i]->slast + 1 < bend)
            bend = (uint64_t)o[i]->slast + 1;
        }
        suf[n] = 0.0;
        for (uint32_t i = n; i-- > nr;) suf[i] = suf[i + 1] + bb[i];
      }
      nd = bend;
      if (sum * KS_PRUNE_SLACK <= theta) {
        target = (uint32_t)nd; /* > target: live shallow blocks end there
                                  or later */
        continue;
      }
    }
    uint32_t d;
    rc = intersect(p, st, eo + ne0, ne0 ? n - ne0 : 0, target, &d);
    if (rc != KS_OK || d >= ndocs) break;
    if (d >= nd) { /* beyond the blocks bounded above: bound again at d */
      target = d;
      continue;
    }
    target = d + 1;
    if (ks_segment_is_deleted(p->seg, d)) continue;
    if (theta > -INFINITY) {
      /* 2. the required terms' contributions, then the optional ones
       * (bb[] bounds d too: d is in every cursor's shallow block) */
      double est = 0.0;
      for (uint32_t i = 0; i < nr; i++) /* first by block bounds */
        if (o[i]->live && o[i]->cur.doc == d) est += bb[i];
      if ((est + suf[nr]) * KS_PRUNE_SLACK <= theta) continue;
      est = 0.0;
      for (uint32_t i = 0; i < nr; i++)
        if (o[i]->live && o[i]->cur.doc == d) est += ks_prune_term_score(p, o[i]);
      uint32_t i = nr;
      for (; i < n; i++) {
        if ((est + suf[i]) * KS_PRUNE_SLACK <= theta) break;
        if (bb[i] == 0.0 && o[i]->slast == KS_MAX_DOCS) continue;
        rc = seek(p, o[i], d);
        if (rc != KS_OK) return rc;
        if (o[i]->live && o[i]->cur.doc == d) est += ks_prune_term_score(p, o[i]);
      }
      if (i < n || est * KS_PRUNE_SLACK <= theta) continue;
    } else {
      for (uint32_t i = nr; i < n; i++) {
        rc = seek(p, o[i], d);
        if (rc != KS_OK) return rc;
      }
    }
    int matched;
    double s;
    rc = ks_prune_score(p, d, &matched, &s);
    if (rc != KS_OK) return rc;
    if (matched) {
      (*matches)++;
      ks_topk_push(top, p->base + d, s);
    }
  }
  return rc;
}

/* The per-segment part (ks_prune_segment_fn, ctx: the conj_state). */
static int conj_segment(ks_prune *p, void *ctx, ks_topk *top, uint64_t *matches) {
  conj_state *st = ctx;
  return plan_segment(p, st) ? run_segment(p, st, top, matches) : KS_OK;
}

/* Contract: query_int.h. */
int ks_conj_run(const ks_index *ix, const ks_query *q,
                const ks_term_info *infos, const ks_bm25 *bm, ks_topk *top,
                uint64_t *matches, ks_err *err) {
  *matches = 0;
  conj_state st;
  memset(&st, 0, sizeof st);
  int rc = KS_OK;
  st.in_req = ks_calloc(q->nterms ? q->nterms : 1, 1);
  st.req = ks_calloc(q->nclauses ? q->nclauses : 1, sizeof *st.req);
  st.cost = ks_calloc(q->nclauses ? q->nclauses : 1, sizeof *st.cost);
  st.suf = ks_calloc((size_t)q->nterms + 1, sizeof *st.suf);
  st.eo = ks_calloc(q->nterms ? q->nterms : 1, sizeof *st.eo);
  st.ecum = ks_calloc(q->nterms ? q->nterms : 1, sizeof *st.ecum);
  if (!st.in_req || !st.req || !st.cost || !st.suf || !st.eo || !st.ecum)
    rc = ks_err_set(err, KS_ENOMEM, "[srch][conj] out of memory");
  for (uint32_t c = 0; rc == KS_OK && c < q->nclauses; c++) {
    const ks_qclause *cl = &q->clauses[c];
    if (cl->op != KS_OP_REQUIRED) continue;
    for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++)
      st.in_req[q->refs[r].term] = 1;
  }
  if (rc == KS_OK)
    rc = ks_prune_run(ix, q, infos, bm, conj_segment, &st, top, matches, err);
  ks_free(st.in_req);
  ks_free(st.req);
  ks_free(st.cost);
  ks_free(st.suf);
  ks_free(st.eo);
  ks_free(st.ecum);
  return rc;
}
