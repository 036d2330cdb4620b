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

static void sort_by_ub(ks_pcur **a, uint32_t n) {
  for (uint32_t i = 1; i < n; i++) {
    ks_pcur *x = a[i];
    uint32_t j = i;
    while (j > 0 && a[j - 1]->ub > x->ub) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = x;
  }
}

static inline uint32_t doc_of(const ks_pcur *c) {
  return c->live ? c->cur.doc : UINT32_MAX;
}

static int run_segment(ks_prune *p, ks_topk *top, uint64_t *matches) {
  uint32_t n = p->n;
  ks_pcur **o = p->order;
  double *cum = p->cum;
  uint32_t *docs = p->docs; /* docs[i] = doc_of(o[i]) */
  for (uint32_t i = 0; i < n; i++) o[i] = &p->pc[i];
  sort_by_ub(o, n);
  double acc = 0.0;
  for (uint32_t i = 0; i < n; i++) {
    cum[i] = acc += o[i]->ub;
    docs[i] = doc_of(o[i]);
  }
  double theta = ks_prune_theta(top);
  uint32_t ess = 0;
  while (ess < n && cum[ess] * KS_PRUNE_SLACK <= theta) ess++;
  uint32_t d = UINT32_MAX;
  for (uint32_t i = ess; i < n; i++)
    if (docs[i] < d) d = docs[i];
  int rc = KS_OK;
  while (ess < n && d != UINT32_MAX) {
    double ne = ess ? cum[ess - 1] : 0.0;
    double bound = ne;
    for (uint32_t i = ess; i < n; i++)
      if (docs[i] == d) bound += ks_prune_block_bound(p, o[i], d);
    int keep = bound * KS_PRUNE_SLACK > theta && !ks_segment_is_deleted(p->seg, d);
    if (keep) {
      double est = 0.0;
      for (uint32_t i = ess; i < n; i++)
        if (docs[i] == d) est += ks_prune_term_score(p, o[i]);
      for (uint32_t j = ess; j-- > 0;) {
        double rest = j ? cum[j - 1] : 0.0;
        if ((est + rest + o[j]->ub) * KS_PRUNE_SLACK <= theta) {
          keep = 0;
          break;
        }
        if (docs[j] > d) continue; /* already beyond d: no posting at d */
        double bb = ks_prune_block_bound(p, o[j], d);
        if ((est + rest + bb) * KS_PRUNE_SLACK <= theta) {
          keep = 0;
          break;
        }
        if (o[j]->slast == KS_MAX_DOCS) continue; /* no document >= d */
        rc = ks_prune_seek(p, o[j], d);
        docs[j] = doc_of(o[j]);
        if (rc != KS_OK) return rc;
        if (docs[j] == d) est += ks_prune_term_score(p, o[j]);
      }
    }
    if (keep) {
      /* every cursor that can hold d is now at a document >= d: the
       * essential ones by the choice of d, the non-essential ones by the
       * loop above (those skipped have no posting at d) */
      double s = ks_prune_score(p, d);
      (*matches)++;
      ks_topk_push(top, p->base + d, s);
      double t2 = ks_prune_theta(top);
      if (t2 > theta) {
        theta = t2;
        while (ess < n && cum[ess] * KS_PRUNE_SLACK <= theta) ess++;
      }
    }
    /* advance the essential cursors on d (non-essential ones move lazily,
     * by seeks) and find the next candidate */
    uint32_t next = UINT32_MAX;
    for (uint32_t i = ess; i < n; i++) {
      if (docs[i] == d) {
        rc = ks_prune_next(p, o[i]);
        docs[i] = doc_of(o[i]);
        if (rc != KS_OK) return rc;
      }
      if (docs[i] < next) next = docs[i];
    }
    d = next;
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
