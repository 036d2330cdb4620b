/*
 * lookup.c - per-segment term lookup and collection document frequencies
 * (query_int.h, section lookup.c).
 *
 * df(t) is the sum of the segments' dictionary dfs. Those count documents
 * that were deleted (replaced by a later document with the same id) but are
 * still stored in an unmerged segment, so df can exceed the number of live
 * documents N; it is clamped to N so that idf stays >= ln(1 + 0.5/(N+0.5))
 * > 0 (docs/ranking.md).
 */
#include "query_int.h"

#include "ks_alloc.h"

/* Contract: query_int.h. */
int ks_query_lookup(const ks_index *ix, ks_query *q, ks_term_info **infos,
                    ks_err *err) {
  *infos = NULL;
  if (q->nterms == 0 || ix->nsegs == 0) return KS_OK;
  ks_term_info *inf = ks_calloc((size_t)ix->nsegs * q->nterms, sizeof *inf);
  if (!inf) return ks_err_set(err, KS_ENOMEM, "[srch][lookup] out of memory");
  char key[KS_TOK_MAX_TERM + 2];
  for (uint32_t t = 0; t < q->nterms; t++) {
    ks_qterm *qt = &q->terms[t];
    size_t keylen = ks_term_key(key, qt->field,
                                (const char *)q->strings.data + qt->off,
                                qt->len);
    uint64_t df = 0;
    for (uint32_t s = 0; s < ix->nsegs; s++) {
      ks_term_info *ti = &inf[(size_t)s * q->nterms + t];
      int rc = ks_segment_lookup(ix->segs[s], key, keylen, ti, err);
      if (rc == KS_NOTFOUND) {
        ti->df = 0;
        continue;
      }
      if (rc != KS_OK) {
        ks_free(inf);
        return rc;
      }
      df += ti->df;
    }
    qt->df = df < ix->nlive ? df : ix->nlive;
  }
  *infos = inf;
  return KS_OK;
}
