/*
 * search.c - implements the searching half of index.h: options,
 * ks_search and the ks_index_results accessors. Thin orchestration:
 *
 *   validate options -> parse + analyze (query_parse.c, with an analyzer
 *   borrowed from the index pool) -> per-segment lookup and df (lookup.c)
 *   -> BM25 constants and term weights (bm25.c) -> evaluation into a
 *   k-bounded heap (topk.c) by the chosen algorithm: exhaustive.c, or for
 *   ranked-OR queries (optional words and phrases, maybe excluded
 *   clauses) bmw.c / maxscore.c, for queries with required clauses conj.c
 *   -> results, best first.
 *
 * Each call owns all its state, so concurrent ks_search calls on one
 * ks_index are safe (the analyzer pool is mutex-protected).
 * The results keep the terms of the non-excluded clauses for snippets.
 */
#include "query_int.h"

#include <math.h>
#include <string.h>

#include "ks_alloc.h"

/* Contract: kosearch/search.h. */
void ks_search_opts_default(ks_search_opts *o) {
  memset(o, 0, sizeof *o);
  o->k = 10;
  o->k1 = KS_DEFAULT_K1;
  o->b = KS_DEFAULT_B;
  o->bigram_weight = KS_DEFAULT_BIGRAM_WEIGHT;
  o->algorithm = KS_ALGO_MAXSCORE;
  o->ranking = KS_RANK_DEFAULT;
  o->min_normlen = 0.5;
}

static int check_opts(const ks_search_opts *o, ks_err *err) {
  if (!(o->k1 >= 0.0) || !isfinite(o->k1))
    return ks_err_set(err, KS_EINVAL,
                      "[srch][search] k1 must be a finite number >= 0 (got %g)",
                      o->k1);
  if (!(o->b >= 0.0 && o->b <= 1.0))
    return ks_err_set(err, KS_EINVAL,
                      "[srch][search] b must be between 0 and 1 (got %g)",
                      o->b);
  if (!(o->bigram_weight >= 0.0) || !isfinite(o->bigram_weight))
    return ks_err_set(err, KS_EINVAL,
                      "[srch][search] bigram_weight must be a finite number "
                      ">= 0 (got %g)",
                      o->bigram_weight);
  if (o->algorithm != KS_ALGO_EXHAUSTIVE && o->algorithm != KS_ALGO_BMW &&
      o->algorithm != KS_ALGO_MAXSCORE)
    return ks_err_set(err, KS_EINVAL, "[srch][search] unknown algorithm %d",
                      o->algorithm);
  if (!(o->min_normlen >= 0.0) || !isfinite(o->min_normlen))
    return ks_err_set(err, KS_EINVAL,
                      "[srch][search] min_normlen must be a finite number "
                      ">= 0 (got %g)",
                      o->min_normlen);
  if (o->ranking != KS_RANK_BM25 && o->ranking != KS_RANK_BM25_XAPIAN)
    return ks_err_set(err, KS_EINVAL, "[srch][search] unknown ranking %d",
                      o->ranking);
  return KS_OK;
}

/* Copy the terms of non-excluded clauses into the results (snippets). */
static int keep_terms(ks_index_results *r, const ks_query *q) {
  uint32_t n = 0;
  size_t bytes = 0;
  for (uint32_t t = 0; t < q->nterms; t++) {
    if (!q->terms[t].drives) continue;
    n++;
    bytes += q->terms[t].len;
  }
  if (n == 0) return KS_OK;
  r->terms = ks_calloc(n, sizeof *r->terms);
  r->strings = ks_malloc(bytes ? bytes : 1);
  if (!r->terms || !r->strings) return KS_ENOMEM;
  size_t off = 0;
  for (uint32_t t = 0; t < q->nterms; t++) {
    const ks_qterm *qt = &q->terms[t];
    if (!qt->drives) continue;
    ks_rterm *rt = &r->terms[r->nterms++];
    rt->field = qt->field;
    rt->off = (uint32_t)off;
    rt->len = qt->len;
    memcpy(r->strings + off, q->strings.data + qt->off, qt->len);
    off += qt->len;
  }
  return KS_OK;
}

/* Contract: index.h. */
int ks_index_search(ks_index *ix, const char *query, size_t len,
              const ks_search_opts *opts, ks_index_results **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[srch][search] out is NULL");
  *out = NULL;
  if (!ix || !query || !opts)
    return ks_err_set(err, KS_EINVAL, "[srch][search] NULL argument");
  ks_search_opts native = *opts; /* the native backend's own ranking */
  if (native.ranking == KS_RANK_DEFAULT) native.ranking = KS_RANK_BM25;
  opts = &native;
  int rc = check_opts(opts, err);
  if (rc != KS_OK) return rc;
  if (len == SIZE_MAX) len = strlen(query);

  ks_index_results *r = ks_calloc(1, sizeof *r);
  if (!r) return ks_err_set(err, KS_ENOMEM, "[srch][search] out of memory");
  r->matches_exact = 1;
  ks_query q;
  memset(&q, 0, sizeof q);
  ks_term_info *infos = NULL;
  ks_topk top = {NULL, 0, 0};
  ks_tok *tok = NULL;

  rc = ks_index_tok_acquire(ix, &tok, err);
  if (rc == KS_OK) rc = ks_query_parse(tok, query, len, &q, err);
  ks_index_tok_release(ix, tok);
  if (rc == KS_OK && keep_terms(r, &q) != KS_OK)
    rc = ks_err_set(err, KS_ENOMEM, "[srch][search] out of memory");
  if (rc == KS_OK && ix->nlive > 0 && (q.nrequired || q.noptional)) {
    rc = ks_query_lookup(ix, &q, &infos, err);
    ks_bm25 bm;
    memset(&bm, 0, sizeof bm);
    if (rc == KS_OK) {
      ks_bm25_init(&bm, opts, ix->nlive, ix->field_total);
      ks_bm25_weigh(&bm, &q);
      uint64_t cap = opts->k < ix->nlive ? opts->k : ix->nlive;
      rc = ks_topk_init(&top, (uint32_t)cap, err);
    }
    if (rc == KS_OK) {
      /* ranked OR (optional clauses, maybe excluded ones): bmw.c or
       * maxscore.c; with required clauses: conj.c (for both options);
       * k = 0 (count only) and --algorithm exhaustive: exhaustive.c */
      int pruned = opts->algorithm != KS_ALGO_EXHAUSTIVE;
      int conj = pruned && ks_conj_supported(&q, top.cap);
      int prune = pruned && !conj && ks_prune_supported(&q, top.cap);
      if (prune && opts->algorithm == KS_ALGO_BMW)
        rc = ks_bmw_run(ix, &q, infos, &bm, &top, &r->matches, err);
      else if (prune && opts->algorithm == KS_ALGO_MAXSCORE)
        rc = ks_maxscore_run(ix, &q, infos, &bm, &top, &r->matches, err);
      else if (conj)
        rc = ks_conj_run(ix, &q, infos, &bm, &top, &r->matches, err);
      else
        rc = ks_exhaustive_run(ix, &q, infos, &bm, &top, &r->matches, err);
      prune = prune || conj;
      /* a pruned run skips documents only once the heap holds k hits
       * (theta is -infinity before): with fewer hits, every match was
       * scored and counted; and a count of every live document is exact */
      if (prune && top.n == top.cap && r->matches < ix->nlive)
        r->matches_exact = 0;
    }
    if (rc == KS_OK) {
      ks_topk_sort(&top);
      r->hits = top.heap; /* the results take the heap's storage */
      r->n = top.n;
      top.heap = NULL;
    }
  }
  ks_topk_free(&top);
  ks_free(infos);
  ks_query_free(&q);
  if (rc != KS_OK) {
    ks_index_results_free(r);
    return rc;
  }
  *out = r;
  return KS_OK;
}

/* Contract: index.h. */
size_t ks_index_results_count(const ks_index_results *r) { return r ? r->n : 0; }

/* Contract: index.h. */
uint64_t ks_index_results_matches(const ks_index_results *r) { return r ? r->matches : 0; }

/* Contract: index.h. */
int ks_index_results_matches_exact(const ks_index_results *r) {
  return r ? r->matches_exact : 1;
}

/* Contract: index.h. */
int ks_index_results_hit(const ks_index_results *r, size_t i, ks_index_hit *hit) {
  if (!r || !hit || i >= r->n) return KS_EINVAL;
  *hit = r->hits[i];
  return KS_OK;
}

/* Contract: index.h. */
void ks_index_results_free(ks_index_results *r) {
  if (!r) return;
  ks_free(r->hits);
  ks_free(r->terms);
  ks_free(r->strings);
  ks_free(r);
}
