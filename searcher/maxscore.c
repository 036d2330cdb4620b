/*
 * maxscore.c - block-max MaxScore top-k for ranked-OR queries (query_int.h,
 * section bmw.c / maxscore.c; -excluded clauses are checked when a
 * document is scored). Turtle & Flood, "Query evaluation:
 * strategies and optimizations" (1995), with the block-max refinement of
 * Chakrabarti et al. (2011) and Mallia et al., "An experimental study of
 * index compression and DAAT query processing methods" (ECIR 2019).
 *
 * Per segment, documents are processed in windows [lo, hi) (after Lucene's
 * MaxScoreBulkScorer idea of windows with block-level bounds; the code is
 * ours):
 *   - hi = the first shallow block end (skip table only) among the cursors
 *     essential in the previous window, at most lo + KS_PRUNE_WINDOW;
 *   - each cursor's window bound wub = the largest block bound over the
 *     blocks meeting [lo, hi) (ks_prune_window_bound), never below any of
 *     its contributions in the window; if they sum to <= theta (times
 *     SLACK) the window is skipped;
 *   - cursors are sorted by wub, cum[i] = wub[0] + ... + wub[i]; the first
 *     `ess` with cum[ess - 1] * SLACK <= theta are NON-ESSENTIAL: a document
 *     of the window with only their terms cannot enter the top k;
 *   - the essential cursors move to lo and hi drops so that the window ends
 *     inside each one's decoded block;
 *   1. term at a time, every essential posting in the window adds its
 *      contribution to wsum[doc - lo] and sets the document's bit in wbits
 *      (ks_prune_accumulate): no per-candidate loop over the cursors;
 *   2. the documents of wbits, in increasing order: est = wsum; if
 *      (est + cum[ess - 1]) * SLACK <= theta the document is skipped; then
 *      the non-essential cursors from the largest bound down: if (est +
 *      bounds of those not yet visited, the current one by its window and
 *      then its block bound) * SLACK <= theta, skipped; else the cursor
 *      seeks to the document and its contribution is added to est;
 *   3. a surviving live document is scored exactly: the essential cursors
 *      move to it inside their blocks and ks_prune_score sums in the
 *      exhaustive order; est is a sum in another order, used only in
 *      bounds (the slack covers the rounding).
 * theta only grows. Documents are visited in increasing number and a
 * document with score <= theta never enters the heap (topk.c tie rule), so
 * skipping it never changes the result. Memory: the window arrays are
 * allocated once per query (ks_prune_init); nothing per term or posting.
 */
#include "query_int.h"

#include <math.h>

#include "deletions_int.h"

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
  double s;
  int matched;
  rc = ks_prune_score(p, d, &matched, &s);
  if (rc != KS_OK || !matched) return rc; /* a phrase or an excluded
                                             clause may refuse it */
  (*matches)++;
  ks_topk_push(top, p->base + d, s);
  *theta = ks_prune_theta(top);
  return KS_OK;
}

/* The per-segment part (ks_prune_segment_fn; no state of its own). */
static int run_segment(ks_prune *p, void *ctx, ks_topk *top, uint64_t *matches) {
  (void)ctx;
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
  return ks_prune_run(ix, q, infos, bm, run_segment, NULL, top, matches, err);
}
