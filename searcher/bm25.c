/*
 * bm25.c - BM25 constants and term weights (query_int.h, section bm25.c).
 * The formula, its defaults and a worked example are in docs/ranking.md:
 *
 *   idf(t)   = ln(1 + (N - n_t + 0.5) / (n_t + 0.5))
 *   w(t)     = qtf * idf(t)
 *   s(t, d)  = w(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl_f(d) / avgdl_f))
 *   score(d) = sum over word-field terms + bigram_weight * sum over
 *              bigram-field terms, over the clauses d satisfies.
 *
 * Everything per query is folded into constants so the per-posting work is
 * one multiply-add, one division and one multiplication:
 *   weight(t) = idf(t) * (k1 + 1) * fw_f   (fw_word = 1, fw_bigram = bigram_weight)
 *   c0_f = k1 * (1 - b),  c1_f = k1 * b / avgdl_f,  avgdl_f = total_f / N
 *   s    = qtf * weight * tf / (tf + c0_f + c1_f * dl)
 * All arithmetic is in double. The length part K = c0_f + c1_f * dl is
 * computed first (ks_bm25_k), once per document and field, and shared by
 * every term of that field scored on the document (docs/ranking.md,
 * "Length normalisation").
 *
 * Second scheme, KS_RANK_BM25_XAPIAN (docs/ranking.md, "bm25-xapian"):
 * Xapian 1.4's BM25Weight(k1, k2 = 0, k3 = 1, b, min_normlen) as the
 * Xapian backend evaluates our clauses (docs/xapian.md, "Query mapping").
 * Every query term reference is one or more Xapian leaves:
 *   R    = (N - df + 0.5) / (df + 0.5);  R' = R < 2 ? R / 2 + 1 : R
 *   tw   = ln(R') * fw_f * ((k3 + 1) wqf / (k3 + wqf)) * (k1 + 1)
 *          (evaluated in this order, as Xapian's BM25Weight::init does;
 *           wqf = qtf for a word-clause ref, one leaf; a phrase ref is qtf
 *           leaves of wqf 1)
 *   K    = max(L / avgL, min_normlen), L = all terms of the document
 *          (word + bigram field lengths), avgL = their total / N
 *   s    = tw * (tf / (k1 * (K * b + (1 - b)) + tf))
 * len_factor = 1 / avgL is 0 when avgL is 0 or when k1 or b is 0 (Xapian
 * skips the length then). Phrase refs score qtf * s (Xapian adds qtf equal
 * leaves; equal up to the last bit).
 */
#include "query_int.h"

#include <math.h>
#include <string.h>

/* Contract: query_int.h. */
void ks_bm25_init(ks_bm25 *bm, const ks_search_opts *opts, uint64_t nlive,
                  const uint64_t field_total[KS_NFIELDS]) {
  double k1 = opts->k1, b = opts->b;
  memset(bm, 0, sizeof *bm);
  bm->scheme = opts->ranking;
  bm->k1 = k1;
  bm->b = b;
  bm->min_normlen = opts->min_normlen;
  bm->n = nlive;
  bm->field_weight[KS_FIELD_WORD] = 1.0;
  bm->field_weight[KS_FIELD_BIGRAM] = opts->bigram_weight;
  for (int f = 0; f < KS_NFIELDS; f++) {
    double avgdl = nlive ? (double)field_total[f] / (double)nlive : 0.0;
    bm->c0[f] = k1 * (1.0 - b);
    /* avgdl = 0 means no live document has a term in this field, so no
     * live posting can reach the formula; keep it finite anyway. */
    bm->c1[f] = avgdl > 0.0 ? k1 * b / avgdl : 0.0;
  }
  /* Xapian: average length over all terms; its inverse, 0 when unused */
  uint64_t total = field_total[KS_FIELD_WORD] + field_total[KS_FIELD_BIGRAM];
  double avg = nlive ? (double)total / (double)nlive : 0.0;
  bm->len_factor = (b == 0.0 || k1 == 0.0 || avg == 0.0) ? 0.0 : 1.0 / avg;
}

/* Contract: query_int.h. */
double ks_bm25_idf(uint64_t n, uint64_t df) {
  return log(1.0 + ((double)n - (double)df + 0.5) / ((double)df + 0.5));
}

/* Contract: query_int.h. */
double ks_bm25_xapian_idf(uint64_t n, uint64_t df) {
  double r = ((double)n - (double)df + 0.5) / ((double)df + 0.5);
  if (r < 2) r = r * 0.5 + 1;
  return log(r);
}

/* Contract: query_int.h. */
void ks_bm25_weigh(const ks_bm25 *bm, ks_query *q) {
  if (bm->scheme != KS_RANK_BM25_XAPIAN) {
    for (uint32_t t = 0; t < q->nterms; t++) {
      ks_qterm *qt = &q->terms[t];
      qt->weight = ks_bm25_idf(bm->n, qt->df) * (bm->k1 + 1.0) *
                   bm->field_weight[qt->field];
    }
    return;
  }
  for (uint32_t c = 0; c < q->nclauses; c++) {
    const ks_qclause *cl = &q->clauses[c];
    for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++) {
      ks_qref *ref = &q->refs[r];
      const ks_qterm *qt = &q->terms[ref->term];
      double tw = ks_bm25_xapian_idf(bm->n, qt->df) * bm->field_weight[qt->field];
      double wqf = cl->phrase ? 1.0 : (double)ref->qtf; /* k3 = 1 */
      tw *= (1.0 + 1) * wqf / (1.0 + wqf);
      tw *= (bm->k1 + 1);
      ref->xweight = tw;
    }
  }
}
