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
 * All arithmetic is in double.
 */
#include "query_int.h"

#include <math.h>

/* Contract: query_int.h. */
void ks_bm25_init(ks_bm25 *bm, double k1, double b, double bigram_weight,
                  uint64_t nlive, const uint64_t field_total[KS_NFIELDS]) {
  bm->k1 = k1;
  bm->b = b;
  bm->n = nlive;
  bm->field_weight[KS_FIELD_WORD] = 1.0;
  bm->field_weight[KS_FIELD_BIGRAM] = bigram_weight;
  for (int f = 0; f < KS_NFIELDS; f++) {
    double avgdl = nlive ? (double)field_total[f] / (double)nlive : 0.0;
    bm->c0[f] = k1 * (1.0 - b);
    /* avgdl = 0 means no live document has a term in this field, so no
     * live posting can reach the formula; keep it finite anyway. */
    bm->c1[f] = avgdl > 0.0 ? k1 * b / avgdl : 0.0;
  }
}

/* Contract: query_int.h. */
double ks_bm25_idf(uint64_t n, uint64_t df) {
  return log(1.0 + ((double)n - (double)df + 0.5) / ((double)df + 0.5));
}

/* Contract: query_int.h. */
void ks_bm25_weigh(const ks_bm25 *bm, ks_query *q) {
  for (uint32_t t = 0; t < q->nterms; t++) {
    ks_qterm *qt = &q->terms[t];
    qt->weight = ks_bm25_idf(bm->n, qt->df) * (bm->k1 + 1.0) *
                 bm->field_weight[qt->field];
  }
}
