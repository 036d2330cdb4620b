/*
 * topk.c - k-bounded min-heap of hits (query_int.h, section topk.c).
 *
 * Order: hit a is BETTER than b when a.score > b.score, or the scores are
 * equal and a.doc < b.doc (ties go to the lower internal document number).
 * The heap root is the WORST kept hit, so a new hit enters a full heap only
 * if it is better than the root. Because the evaluator visits documents in
 * increasing number, a later document with a score equal to the root's
 * never displaces it, which is exactly the tie rule.
 */
#include "query_int.h"

#include <stdlib.h>

#include "ks_alloc.h"

static inline int better(const ks_index_hit *a, const ks_index_hit *b) {
  return a->score > b->score || (a->score == b->score && a->doc < b->doc);
}

/* Contract: query_int.h. */
int ks_topk_init(ks_topk *t, uint32_t cap, ks_err *err) {
  t->n = 0;
  t->cap = cap;
  t->heap = NULL;
  if (cap == 0) return KS_OK;
  t->heap = ks_malloc((size_t)cap * sizeof *t->heap);
  if (!t->heap) {
    t->cap = 0;
    return ks_err_set(err, KS_ENOMEM, "[srch][topk] out of memory (k = %u)",
                      cap);
  }
  return KS_OK;
}

/* Contract: query_int.h. */
void ks_topk_free(ks_topk *t) {
  ks_free(t->heap);
  t->heap = NULL;
  t->n = t->cap = 0;
}

static void sift_down(ks_index_hit *h, uint32_t n, uint32_t i) {
  ks_index_hit x = h[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && better(&h[c], &h[c + 1])) c++; /* the worse child */
    if (!better(&x, &h[c])) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

/* Contract: query_int.h. */
void ks_topk_push(ks_topk *t, uint64_t doc, double score) {
  ks_index_hit x = {doc, score};
  if (t->n < t->cap) {
    uint32_t i = t->n++;
    while (i > 0) { /* sift up: parent must be worse than x */
      uint32_t p = (i - 1) / 2;
      if (!better(&t->heap[p], &x)) break;
      t->heap[i] = t->heap[p];
      i = p;
    }
    t->heap[i] = x;
    return;
  }
  if (t->cap == 0 || !better(&x, &t->heap[0])) return;
  t->heap[0] = x;
  sift_down(t->heap, t->n, 0);
}

static int cmp_best_first(const void *pa, const void *pb) {
  const ks_index_hit *a = pa, *b = pb;
  if (better(a, b)) return -1;
  if (better(b, a)) return 1;
  return 0;
}

/* Contract: query_int.h. */
void ks_topk_sort(ks_topk *t) {
  if (t->n > 1) qsort(t->heap, t->n, sizeof *t->heap, cmp_best_first);
}
