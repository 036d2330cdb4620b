/*
 * lookup.c - per-segment term lookup and collection document frequencies
 * (query_int.h, section lookup.c).
 *
 * df(t) is the number of LIVE documents containing t: the sum over the
 * segments of the dictionary's df (which counts every document the
 * segment holds) minus the deleted documents containing t (their .del's
 * deleted-term table). It therefore depends only on the live documents,
 * never on whether a merge has dropped the deleted ones yet
 * (docs/ranking.md). The clamp to N only guards a damaged index.
 */
#include "query_int.h"

#include "deletions_int.h"
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
      uint32_t gone = ks_deletions_df(ix->segs[s], key, keylen);
      df += ti->df > gone ? ti->df - gone : 0;
    }
    qt->df = df < ix->nlive ? df : ix->nlive;
  }
  *infos = inf;
  return KS_OK;
}
