/*
 * kosearch/search.h - search options: ks_search_opts, top-k algorithms,
 * ranking schemes and query clause operators (public, stable API).
 *
 * Used with ks_db_search (kosearch/db.h). Query language (docs/query.md):
 * whitespace-separated clauses
 *   word         optional: ranked OR
 *   "a b c"      phrase: the words' base terms at consecutive positions
 *   +word +"a b" required      -word -"a b" excluded
 * A document matches when it satisfies every required clause, no excluded
 * clause and, if there is no required clause, at least one optional one.
 * An unclosed quote is read leniently as if closed at the end of the query.
 * Ranking: BM25 over the word field plus a weighted bigram field
 * (docs/ranking.md). Ties are broken by internal document order.
 */
#ifndef KOSEARCH_SEARCH_H
#define KOSEARCH_SEARCH_H

#include <stdint.h>

#include "kosearch/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Clause operators of the query language, as the parser produces them and
 * as backends receive them (kosearch/backend.h). */
enum { KS_OP_OPTIONAL = 0, KS_OP_REQUIRED = 1, KS_OP_EXCLUDED = 2 };

/* Top-k algorithms of the native backend (docs/ranking.md, "Query
 * evaluation"). All return the same hits (ids, scores, order). BMW and
 * MaxScore prune ranked-OR queries each their own way; for queries with
 * +required clauses both run the same conjunctive evaluation; k = 0 is
 * always evaluated exhaustively. A pruning algorithm does not see every
 * matching document, so its match count may be a lower bound only
 * (ks_results_matches_exact). The Xapian backend ignores this field (see
 * xapian_pruning). */
enum {
  KS_ALGO_EXHAUSTIVE = 0, /* every matching document is scored */
  KS_ALGO_BMW = 1,        /* block-max WAND */
  KS_ALGO_MAXSCORE = 2    /* block-max MaxScore (the default) */
};

/* Ranking schemes (docs/ranking.md):
 *  KS_RANK_DEFAULT       the backend's own: KS_RANK_BM25 on native indexes,
 *                        KS_RANK_BM25_XAPIAN on Xapian ones (the default)
 *  KS_RANK_BM25          per-field BM25, fields combined with bigram_weight
 *                        (native backend only: KS_EINVAL on Xapian)
 *  KS_RANK_BM25_XAPIAN   Xapian 1.4's BM25Weight(k1, 0, 1, b, min_normlen)
 *                        computed exactly as Xapian does, so that a native
 *                        index and a Xapian database of the same documents
 *                        rank alike (the only scheme of the Xapian
 *                        backend). */
enum { KS_RANK_DEFAULT = -1, KS_RANK_BM25 = 0, KS_RANK_BM25_XAPIAN = 1 };

/* Default ranking parameters, tuned for Korean on the KorQuAD paragraph and
 * Korean Wikipedia question sets (docs/ranking.md, "Defaults"). */
#define KS_DEFAULT_K1 0.6
#define KS_DEFAULT_B 0.25
#define KS_DEFAULT_BIGRAM_WEIGHT 1.0

/* Largest k + offset a search accepts (KS_EINVAL beyond). */
#define KS_MAX_HITS 1000000u

typedef struct ks_search_opts {
  uint32_t k;             /* hits to return (default 10; 0 = count only) */
  uint32_t offset;        /* skip this many best hits first (paging: page
                             p of size k is offset = p * k; default 0);
                             k + offset <= KS_MAX_HITS */
  double k1;              /* BM25 k1 (default KS_DEFAULT_K1) */
  double b;               /* BM25 b (default KS_DEFAULT_B) */
  double bigram_weight;   /* weight of the bigram field (default
                             KS_DEFAULT_BIGRAM_WEIGHT) */
  int algorithm;          /* KS_ALGO_* (default KS_ALGO_MAXSCORE) */
  int ranking;            /* KS_RANK_* (default KS_RANK_DEFAULT) */
  double min_normlen;     /* KS_RANK_BM25_XAPIAN only: Xapian's min_normlen,
                             finite >= 0 (default 0.5, Xapian's default) */
  int xapian_pruning;     /* Xapian backend only: 0 (default) matches
                             exhaustively (exact top k and count); 1 uses
                             Xapian's own pruning matcher, its normal mode,
                             which Xapian 1.4.22 gets wrong for some
                             queries (docs/xapian.md): for benchmarks */
} ks_search_opts;

/* Fill *o with the defaults above. */
KS_API void ks_search_opts_default(ks_search_opts *o);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_SEARCH_H */
