/*
 * maxscore.c - block-max MaxScore top-k for pure-OR queries (query_int.h,
 * section bmw.c / maxscore.c). Turtle & Flood, "Query evaluation:
 * strategies and optimizations" (1995), with the block-max refinement of
 * Chakrabarti et al. (2011) and Mallia et al., "An experimental study of
 * index compression and DAAT query processing methods" (ECIR 2019).
 *
 * Per segment, the cursors are sorted by list bound ub ascending and
 * cum[i] = ub[0] + ... + ub[i]. The first `ess` cursors are NON-ESSENTIAL:
 * cum[ess - 1] * SLACK <= theta, so a document containing only their terms
 * cannot enter the top k (it would need a score > theta). Candidates are
 * therefore the documents of the essential cursors, taken in increasing
 * order. For a candidate d:
 *   1. bound = sum of the block bounds of the essential cursors on d +
 *      cum[ess - 1]; if bound * SLACK <= theta, d is skipped;
 *   2. est = the essential terms' contributions; then the non-essential
 *      cursors from the largest bound down: if (est + bounds of the
 *      non-essential cursors not yet visited, the current one by its block
 *      bound on d) * SLACK <= theta, d is skipped; else the cursor is moved
 *      to d and its contribution added to est;
 *   3. a surviving live d is scored exactly (ks_prune_score, the
 *      exhaustive order) and offered to the heap.
 * theta only grows, so `ess` only grows. Documents are visited in
 * increasing number and a document with score <= theta never enters the
 * heap (topk.c tie rule), so skipping it never changes the result.
 */
#include "query_int.h"

#include <math.h>

/* Insertion sort of a[0..n) by window bound, ascending (the order of the
 * previous window is usually almost right). */
static void sort_by_wub(ks_pcur **a, uint32_t n) {
  for (uint32_t i = 1; i < n; i++) {
    ks_pcur *x = a[i];
    uint32_t j = i;
    while (j > 0 && a[j - 1]->wub > x->wub) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = x;
  }
}

static inline uint32_t doc_of(const ks_pcur *c) {
  return c->live ? c->cur.doc : UINT32_MAX;
}

/* End (exclusive) of the window starting at lo: the first shallow block
 * end of the cursors o[from..n) (those essential in the previous window),
 * and at most KS_PRUNE_WINDOW documents. */
static uint32_t window_end(ks_prune *p, ks_pcur **o, uint32_t from, uint32_t n,
                           uint32_t lo) {
  uint64_t hi = (uint64_t)lo + KS_PRUNE_WINDOW;
  for (uint32_t i = from; i < n; i++) {
    ks_prune_block_bound_fast(p, o[i], lo);
    if ((uint64_t)o[i]->slast + 1 < hi) hi = (uint64_t)o[i]->slast + 1;
  }
  if (hi > KS_MAX_DOCS) hi = KS_MAX_DOCS;
  return (uint32_t)hi;
}

/* Phase 2 for candidate d (est: the essential terms' contributions): the
 * non-essential cursors o[0..ess), then the exact score. */
static int candidate(ks_prune *p, ks_topk *top, uint64_t *matches,
                     uint32_t ess, uint32_t n, uint32_t d, double est,
                     double *theta) {
  ks_pcur **o = p->order;
  const double *cum = p->cum;
  uint32_t *docs = p->docs;
  int rc;
  for (uint32_t j = ess; j-- > 0;) {
    double rest = j ? cum[j - 1] : 0.0;
    if ((est + rest + o[j]->wub) * KS_PRUNE_SLACK <= *theta) return KS_OK;
    if (docs[j] > d) continue; /* already beyond d: no posting at d */
    double bb = ks_prune_block_bound_fast(p, o[j], d);
    if ((est + rest + bb) * KS_PRUNE_SLACK <= *theta) return KS_OK;
    if (o[j]->slast == KS_MAX_DOCS) continue; /* no document >= d */
    rc = ks_prune_seek(p, o[j], d);
    docs[j] = doc_of(o[j]);
    if (rc != KS_OK) return rc;
    if (docs[j] == d) est += ks_prune_term_score(p, o[j]);
  }
  /* the essential cursors to d: within their decoded blocks (d < hi) */
  for (uint32_t i = ess; i < n; i++) {
    if (docs[i] >= d) continue;
    rc = ks_prune_seek(p, o[i], d);
    docs[i] = doc_of(o[i]);
    if (rc != KS_OK) return rc;
  }
  /* every cursor holding d is on it: the essential ones just moved, the
   * non-essential ones by the loop above (those not moved have no posting
   * at d) */
  double s = ks_prune_score(p, d);
  (*matches)++;
  ks_topk_push(top, p->base + d, s);
  *theta = ks_prune_theta(top);
  return KS_OK;
}

static int run_segment(ks_prune *p, ks_topk *top, uint64_t *matches) {
  uint32_t n = p->n;
  ks_pcur **o = p->order;
  double *cum = p->cum;
  uint32_t *docs = p->docs; /* docs[i] = doc_of(o[i]) */
  double *wsum = p->wsum;
  uint64_t *wbits = p->wbits;
  for (uint32_t i = 0; i < n; i++) {
    o[i] = &p->pc[i];
    o[i]->wub = o[i]->ub;
  }
  sort_by_wub(o, n);
  uint32_t lo = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    docs[i] = doc_of(o[i]);
    if (docs[i] < lo) lo = docs[i];
  }
  double theta = ks_prune_theta(top);
  uint32_t ess = 0; /* essential cursors of the previous window: o[ess..n) */
  int rc = KS_OK;
  uint32_t ndocs = ks_segment_ndocs(p->seg);
  while (lo < ndocs) {
    /* window [lo, hi): bounds, order, essential set */
    uint32_t hi = window_end(p, o, ess < n ? ess : 0, n, lo);
    double acc = 0.0;
    for (uint32_t i = 0; i < n; i++) {
      o[i]->wub = ks_prune_window_bound(p, o[i], lo, hi);
      acc += o[i]->wub;
    }
    if (acc * KS_PRUNE_SLACK > theta) {
      sort_by_wub(o, n);
      acc = 0.0;
      for (uint32_t i = 0; i < n; i++) {
        cum[i] = acc += o[i]->wub;
        docs[i] = doc_of(o[i]);
      }
      ess = 0;
      while (ess < n && cum[ess] * KS_PRUNE_SLACK <= theta) ess++;
      /* the essential cursors to lo; the window shrinks to end inside
       * each one's decoded block (bounds over a larger window still hold) */
      for (uint32_t i = ess; i < n; i++) {
        if (docs[i] < lo) {
          rc = ks_prune_seek(p, o[i], lo);
          docs[i] = doc_of(o[i]);
          if (rc != KS_OK) return rc;
        }
        if (docs[i] < hi && o[i]->cur.last_doc < hi) hi = o[i]->cur.last_doc + 1;
      }
      /* phase 1: the essential terms' contributions, term at a time */
      for (uint32_t i = ess; i < n; i++)
        if (docs[i] < hi) ks_prune_accumulate(p, o[i], lo, hi);
      /* phase 2: candidates in increasing order */
      double ne = ess ? cum[ess - 1] : 0.0;
      uint32_t words = (hi - lo + 63) / 64;
      for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = wbits[w];
        wbits[w] = 0;
        while (bits) {
          uint32_t off = w * 64 + (uint32_t)__builtin_ctzll(bits);
          bits &= bits - 1;
          double est = wsum[off];
          wsum[off] = 0.0;
          if (rc != KS_OK) continue; /* only clearing the window */
          uint32_t d = lo + off;
          if ((est + ne) * KS_PRUNE_SLACK <= theta) continue;
          if (ks_segment_is_deleted(p->seg, d)) continue;
          rc = candidate(p, top, matches, ess, n, d, est, &theta);
        }
      }
      if (rc != KS_OK) return rc;
      while (ess < n && cum[ess] * KS_PRUNE_SLACK <= theta) ess++;
    }
    lo = hi;
  }
  return rc;
}

/* Contract: query_int.h. */
int ks_maxscore_run(const ks_index *ix, const ks_query *q,
                    const ks_term_info *infos, const ks_bm25 *bm, ks_topk *top,
                    uint64_t *matches, ks_err *err) {
  *matches = 0;
  ks_prune p;
  int rc = ks_prune_init(&p, q, bm, err);
  for (uint32_t s = 0; rc == KS_OK && s < ix->nsegs; s++) {
    if (ks_segment_nlive(ix->segs[s]) == 0) continue;
    rc = ks_prune_open_segment(&p, ix->segs[s], ix->base[s],
                               infos + (size_t)s * q->nterms);
    if (rc != KS_OK) break;
    rc = run_segment(&p, top, matches);
    ks_prune_close_segment(&p);
  }
  ks_prune_free(&p);
  return rc;
}
