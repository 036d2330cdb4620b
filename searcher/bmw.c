/*
 * bmw.c - block-max WAND top-k for ranked-OR queries (query_int.h, section
 * bmw.c / maxscore.c; -excluded clauses are checked when a document is
 * scored). Broder et al., "Efficient query evaluation using a
 * two-level retrieval process" (CIKM 2003) for WAND; Ding & Suel, "Faster
 * top-k document retrieval using block-max indexes" (SIGIR 2011) for the
 * block-max refinement.
 *
 * Per segment the live cursors are kept sorted by current document. Each
 * step:
 *   1. pivot: the first position p where the list bounds of cursors
 *      0..p, summed, times SLACK exceed theta; no pivot = done. Every
 *      document before pd = doc(p) can only hold terms of cursors 0..p-1,
 *      whose bounds sum to <= theta: skipped. p is then extended over the
 *      cursors also on pd, so cursors after p are all beyond pd.
 *   2. block bound: the bounds of the blocks of cursors 0..p that may hold
 *      pd (shallow moves over the skip table, nothing decoded). If their
 *      sum * SLACK <= theta, no document in [pd, nd) can enter, where nd is
 *      the smallest of those blocks' last_doc + 1 and the next cursor's
 *      document: the cursor with the largest bound among 0..p seeks to nd.
 *   3. otherwise, if cursor 0 is on pd, every cursor holding pd is on it:
 *      pd is scored exactly (ks_prune_score) and offered to the heap, and
 *      those cursors advance; else the largest-bound cursor before pd
 *      seeks to pd.
 * A document scoring <= theta never enters the heap (topk.c: documents
 * come in increasing number), so every skipped document is one the
 * exhaustive evaluator would not have kept either.
 */
#include "query_int.h"

#include <math.h>

#include "deletions_int.h"

/* Re-sort a[] by document after the cursor at `i` moved forward (dead
 * cursors go last and are dropped by the caller via *n). */
static void resort(ks_pcur **a, uint32_t *n, uint32_t i) {
  ks_pcur *x = a[i];
  if (!x->live) {
    for (uint32_t j = i + 1; j < *n; j++) a[j - 1] = a[j];
    (*n)--;
    return;
  }
  uint32_t j = i;
  while (j + 1 < *n && a[j + 1]->cur.doc < x->cur.doc) {
    a[j] = a[j + 1];
    j++;
  }
  a[j] = x;
}

static void sort_by_doc(ks_pcur **a, uint32_t *n) {
  uint32_t m = 0;
  for (uint32_t i = 0; i < *n; i++)
    if (a[i]->live) a[m++] = a[i];
  *n = m;
  for (uint32_t i = 1; i < m; i++) {
    ks_pcur *x = a[i];
    uint32_t j = i;
    while (j > 0 && a[j - 1]->cur.doc > x->cur.doc) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = x;
  }
}

/* The per-segment part (ks_prune_segment_fn; no state of its own). */
static int run_segment(ks_prune *p, void *ctx, ks_topk *top, uint64_t *matches) {
  (void)ctx;
  ks_pcur **a = p->order;
  uint32_t n = p->n;
  for (uint32_t i = 0; i < n; i++) a[i] = &p->pc[i];
  sort_by_doc(a, &n);
  int rc = KS_OK;
  for (;;) {
    double theta = ks_prune_theta(top);
    double acc = 0.0;
    uint32_t pv = n;
    for (uint32_t i = 0; i < n; i++) {
      acc += a[i]->ub;
      if (acc * KS_PRUNE_SLACK > theta) {
        pv = i;
        break;
      }
    }
    if (pv == n) break;
    uint32_t pd = a[pv]->cur.doc;
    while (pv + 1 < n && a[pv + 1]->cur.doc == pd) pv++;
    double bsum = 0.0;
    for (uint32_t i = 0; i <= pv; i++) bsum += ks_prune_block_bound(p, a[i], pd);
    if (bsum * KS_PRUNE_SLACK > theta) {
      if (a[0]->cur.doc == pd) {
        if (!ks_segment_is_deleted(p->seg, pd)) {
          double s;
          int matched;
          rc = ks_prune_score(p, pd, &matched, &s);
          if (rc != KS_OK) return rc;
          if (matched) { /* a phrase or an excluded clause may refuse it */
            (*matches)++;
            ks_topk_push(top, p->base + pd, s);
          }
        }
        for (uint32_t i = 0; i <= pv; i++) {
          rc = ks_prune_next(p, a[i]);
          if (rc != KS_OK) return rc;
        }
        sort_by_doc(a, &n);
      } else {
        uint32_t best = 0;
        for (uint32_t i = 1; i < pv && a[i]->cur.doc < pd; i++)
          if (a[i]->ub > a[best]->ub) best = i;
        rc = ks_prune_seek(p, a[best], pd);
        if (rc != KS_OK) return rc;
        resort(a, &n, best);
      }
    } else {
      uint64_t nd = KS_MAX_DOCS;
      for (uint32_t i = 0; i <= pv; i++)
        if ((uint64_t)a[i]->slast + 1 < nd) nd = (uint64_t)a[i]->slast + 1;
      if (pv + 1 < n && a[pv + 1]->cur.doc < nd) nd = a[pv + 1]->cur.doc;
      uint32_t best = 0;
      for (uint32_t i = 1; i <= pv; i++)
        if (a[i]->ub > a[best]->ub) best = i;
      rc = ks_prune_seek(p, a[best], (uint32_t)nd);
      if (rc != KS_OK) return rc;
      resort(a, &n, best);
    }
  }
  return rc;
}

/* Contract: query_int.h. */
int ks_bmw_run(const ks_index *ix, const ks_query *q, const ks_term_info *infos,
               const ks_bm25 *bm, ks_topk *top, uint64_t *matches,
               ks_err *err) {
  return ks_prune_run(ix, q, infos, bm, run_segment, NULL, top, matches, err);
}
