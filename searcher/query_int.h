/*
 * query_int.h - the analyzed query and the machinery that evaluates it
 * (searcher-internal): parser, term statistics, BM25 constants, top-k heap,
 * exhaustive evaluator and the results object.
 *
 * Query model (docs/query.md). A query is a list of clauses; each clause
 * has an operator (optional / required / excluded) and is either a WORD
 * clause or a PHRASE clause:
 *   - a word clause references every term the analyzer emits for its text
 *     (surfaces, stems, bigrams), each with its count in the clause (qtf);
 *     an OPTIONAL word clause matches a document containing ANY of them;
 *     a REQUIRED or EXCLUDED one ("strict") matches a document containing
 *     the word itself: one of its word-field terms (surface, stem,
 *     counter), or all the bigrams of one of its words at consecutive
 *     bigram positions (the compound-part case: 산업 in 첨단산업), never a
 *     document that merely shares one bigram (docs/query.md). These are
 *     its ALTERNATIVES (ks_qalt), each a little phrase over q->positions;
 *     the clause still scores with all its refs, bigrams included;
 *   - a phrase clause is a sequence of BASE terms (per word position: the
 *     stem if the analyzer gave one, else the surface) with their offsets
 *     relative to the first; it matches when the base terms occur at those
 *     relative positions; its refs are its distinct base terms with counts.
 * Terms are distinct over the whole query (field + bytes) so each has one
 * postings cursor per segment and one idf.
 *
 * Invariants of a parsed ks_query:
 *   - every clause has nrefs >= 1 (clauses without terms are dropped);
 *   - refs[ref0 .. ref0+nrefs) name distinct terms of that clause;
 *   - a phrase clause has npos >= 1 and positions[pos0].offset == 0;
 *   - a strict word clause has nalts >= 1; every other clause nalts == 0;
 *     each alternative has npos >= 1, offset 0 first, increasing offsets,
 *     and its terms are refs of its clause;
 *   - terms[t].drives == 1 iff t is referenced by a non-excluded clause.
 *
 * Sections: query_parse.c, lookup.c, bm25.c, topk.c, exhaustive.c, prune.c,
 * bmw.c / maxscore.c, conj.c, search.c.
 */
#ifndef KS_SEARCHER_QUERY_INT_H
#define KS_SEARCHER_QUERY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dict_int.h"
#include "index.h"
#include "index_int.h"
#include "ks_buf.h"
#include "kosearch/tok.h"
#include "postings_int.h"
#include "query_plan.h"
#include "segment_int.h"

/* ---- query_parse.c ------------------------------------------------------- */

/* Clause operators KS_OP_*: kosearch/search.h. */

/* Limits that turn absurd queries into KS_EQUERY instead of huge tables. */
#define KS_QUERY_MAX_TERMS 1024     /* distinct (field, term) pairs */
#define KS_QUERY_MAX_ENTRIES 65536  /* clause refs + phrase positions */

/* One clause as written, before analysis. */
typedef struct ks_qspan {
  int op;            /* KS_Q_* */
  int phrase;        /* 1: "quoted" */
  size_t at;         /* byte offset of the clause (its operator, if any) */
  size_t start, end; /* body bytes [start, end) in the query */
} ks_qspan;

/* Split a query into clauses (syntax only, docs/query.md). `q` must be
 * valid UTF-8 (checked by ks_query_parse). Writes at most `cap` spans to
 * `spans` (may be NULL when cap is 0) and the total number of clauses to
 * *n. Returns KS_OK or KS_EQUERY (an operator not followed by a word or a
 * phrase; err names the byte offset). */
int ks_query_scan(const char *q, size_t len, ks_qspan *spans, size_t cap,
                  size_t *n, ks_err *err);

typedef struct ks_qterm {
  uint8_t field;     /* KS_FIELD_WORD or KS_FIELD_BIGRAM */
  uint8_t drives;    /* 1: used by a non-excluded clause */
  uint32_t off, len; /* term bytes in ks_query.strings */
  uint64_t df;       /* documents containing it, over all segments (lookup.c) */
  double weight;     /* idf * (k1 + 1) * field weight (bm25.c) */
} ks_qterm;

typedef struct ks_qref {
  uint32_t term;     /* index into ks_query.terms */
  uint32_t qtf;      /* occurrences of the term in the clause */
  double xweight;    /* KS_RANK_BM25_XAPIAN: the termweight of ONE Xapian
                        leaf for this ref (bm25.c); a phrase ref stands for
                        qtf leaves, a word-clause ref for one leaf with
                        wqf = qtf */
} ks_qref;

typedef struct ks_qpos {
  uint32_t term;     /* base term at this phrase position */
  uint32_t offset;   /* word position relative to the phrase's first word */
} ks_qpos;

/* One way a strict word clause is satisfied: its terms at these relative
 * positions (one word-field term, or a word's bigram chain). */
typedef struct ks_qalt {
  uint32_t pos0, npos;  /* slice of ks_query.positions */
} ks_qalt;

typedef struct ks_qclause {
  uint8_t op;        /* KS_Q_* */
  uint8_t phrase;    /* 1: phrase clause */
  uint32_t ref0, nrefs; /* slice of ks_query.refs */
  uint32_t pos0, npos;  /* slice of ks_query.positions (phrases only) */
  uint32_t alt0, nalts; /* slice of ks_query.alts (strict word clauses
                           only; 0 alternatives: not strict) */
} ks_qclause;

typedef struct ks_query {
  ks_qclause *clauses; uint32_t nclauses, clauses_cap;
  ks_qterm *terms;     uint32_t nterms, terms_cap;
  ks_qref *refs;       uint32_t nrefs, refs_cap;
  ks_qpos *positions;  uint32_t npositions, positions_cap;
  ks_qalt *alts;       uint32_t nalts, alts_cap;
  ks_buf strings;      /* term bytes */
  uint32_t nrequired, noptional, nexcluded; /* clauses by operator */
  uint32_t max_phrase; /* largest npos of any clause or alternative
                          (scratch size) */
} ks_query;

/* Parse and analyze `len` bytes of `q` with `tok` (KS_TOK_QUERY) into *out
 * (zeroed first; free with ks_query_free even on error).
 * Returns KS_OK (possibly with no clauses: nothing indexable), KS_EQUERY
 * (invalid UTF-8, NUL byte, dangling operator, too many terms), KS_ENOMEM,
 * KS_EICU. */
int ks_query_parse(ks_tok *tok, const char *q, size_t len, ks_query *out,
                   ks_err *err);
void ks_query_free(ks_query *q);

/* ---- lookup.c ------------------------------------------------------------- */

/* Look every term up in every segment: infos[s * nterms + t] (df = 0 when
 * absent) and terms[t].df = sum over segments, clamped to ix->nlive.
 * *infos is ks_malloc'ed (NULL when there is nothing to look up); free with
 * ks_free. Returns KS_OK, KS_ECORRUPT, KS_ENOMEM. */
int ks_query_lookup(const ks_index *ix, ks_query *q, ks_term_info **infos,
                    ks_err *err);

/* ---- bm25.c --------------------------------------------------------------- */

/* Per-query BM25 constants (docs/ranking.md). For a term of field f with
 * weight w = idf * (k1 + 1) * fw_f, frequency tf and field length dl:
 *     s = w * tf / (tf + c0[f] + c1[f] * dl)
 * with c0 = k1 * (1 - b), c1 = k1 * b / avgdl_f, computed as
 *     s = w * tf / (tf + K),  K = c0[f] + c1[f] * dl
 * (K first: it is per document and may come from a table). */
typedef struct ks_bm25 {
  int scheme;                      /* KS_RANK_BM25 or KS_RANK_BM25_XAPIAN */
  double k1, b;
  double min_normlen;              /* bm25-xapian: Xapian's min_normlen */
  double len_factor;               /* bm25-xapian: 1 / avg length over both
                                      fields (0: lengths do not matter) */
  double field_weight[KS_NFIELDS]; /* word 1, bigram bigram_weight */
  double c0[KS_NFIELDS], c1[KS_NFIELDS];
  uint64_t n;                      /* N: live documents */
} ks_bm25;

/* Per-query constants for the scheme opts->ranking (k1, b, bigram_weight,
 * min_normlen from opts; validated by the caller). */
void ks_bm25_init(ks_bm25 *bm, const ks_search_opts *opts, uint64_t nlive,
                  const uint64_t field_total[KS_NFIELDS]);
/* idf = ln(1 + (N - df + 0.5) / (df + 0.5)). */
double ks_bm25_idf(uint64_t n, uint64_t df);
/* Xapian's clamped idf: ln(R'), R = (N - df + 0.5) / (df + 0.5),
 * R' = R if R >= 2 else R / 2 + 1. */
double ks_bm25_xapian_idf(uint64_t n, uint64_t df);
/* Fill the term weights from the dfs (after ks_query_lookup): KS_RANK_BM25
 * sets q->terms[t].weight, KS_RANK_BM25_XAPIAN q->refs[r].xweight. */
void ks_bm25_weigh(const ks_bm25 *bm, ks_query *q);

/* Length part of the bm25 denominator for field length dl:
 *     K = c0[f] + c1[f] * dl      (= k1 * (1 - b + b * dl / avgdl_f))
 * the one definition every path uses: evaluators compute it once per
 * document and field and pass it to ks_bm25_term_k for each term. */
static inline double ks_bm25_k(const ks_bm25 *bm, int field, uint32_t dl) {
  return bm->c0[field] + bm->c1[field] * (double)dl;
}

/* bm25 contribution of a term with weight `weight`, frequency tf and
 * length part K (ks_bm25_k): weight * tf / (tf + K). */
static inline double ks_bm25_term_k(double weight, uint32_t tf, double k) {
  double t = (double)tf;
  return weight * t / (t + k);
}

static inline double ks_bm25_term(const ks_bm25 *bm, double weight, int field,
                                  uint32_t tf, uint32_t dl) {
  return ks_bm25_term_k(weight, tf, ks_bm25_k(bm, field, dl));
}

/* Xapian's BM25Weight::get_sumpart for one leaf of termweight tw, wdf tf
 * and document length len (sum over both fields), in Xapian's order. */
static inline double ks_bm25_xapian_term(const ks_bm25 *bm, double tw,
                                         uint32_t tf, uint64_t len) {
  double normlen = (double)len * bm->len_factor;
  if (normlen < bm->min_normlen) normlen = bm->min_normlen;
  double wdf = (double)tf;
  double denom = bm->k1 * (normlen * bm->b + (1 - bm->b)) + wdf;
  return tw * (wdf / denom);
}

/* ---- topk.c --------------------------------------------------------------- */

/* k-bounded min-heap of hits: the root is the worst kept hit (lowest score;
 * among equal scores the highest doc number). */
typedef struct ks_topk {
  ks_index_hit *heap;      /* cap entries (ks_malloc'ed) */
  uint32_t n, cap;   /* kept hits, capacity = min(k, documents) */
} ks_topk;

/* Returns KS_OK or KS_ENOMEM. cap 0 keeps nothing (count only). */
int ks_topk_init(ks_topk *t, uint32_t cap, ks_err *err);
void ks_topk_free(ks_topk *t);
/* Offer a hit; kept if the heap is not full or it beats the root. */
void ks_topk_push(ks_topk *t, uint64_t doc, double score);
/* Sort the kept hits best first (score desc, doc asc) in place; after this
 * the heap property is gone: only read t->heap[0 .. n). */
void ks_topk_sort(ks_topk *t);

/* ---- exhaustive.c --------------------------------------------------------- */

/* Evaluate q over every live document of every segment (document at a
 * time), offering each match to `top` and counting matches in *matches.
 * `infos` comes from ks_query_lookup, weights from ks_bm25_weigh.
 * Returns KS_OK, KS_ECORRUPT, KS_ENOMEM. */
int ks_exhaustive_run(const ks_index *ix, const ks_query *q,
                      const ks_term_info *infos, const ks_bm25 *bm,
                      ks_topk *top, uint64_t *matches, ks_err *err);

/* Phrase test on position lists (shared by every algorithm): 1 if some
 * position p of plist[0] has p + ps[i].offset in plist[i] for every i < n.
 * plist[i] (plen[i] entries, increasing) are the positions of the phrase's
 * i-th base term in one document; pidx is n entries of scratch. */
int ks_phrase_positions_match(const ks_qpos *ps, uint32_t n,
                              const uint32_t *const *plist,
                              const uint32_t *plen, uint32_t *pidx);

/* ---- prune.c --------------------------------------------------------------- */

/* Shared machinery of the dynamic-pruning algorithms (bmw.c, maxscore.c,
 * conj.c). bmw.c and maxscore.c evaluate ranked-OR queries: optional words
 * or phrases, possibly with excluded clauses (ks_prune_supported); conj.c
 * queries with required clauses (ks_conj_supported); anything else (k = 0)
 * runs exhaustively.
 *
 * Bounds (docs/ranking.md, "Query evaluation"): a term's contribution to a
 * document is coef * g(tf, dl) with g non-decreasing in tf and
 * non-increasing in the length, so g(max_tf, min_len) bounds it over a
 * block or a whole postings list. Bounds are compared with the threshold
 * theta after multiplying by KS_PRUNE_SLACK, which covers every rounding
 * difference between a bound and the exact score (a sum of at most
 * KS_QUERY_MAX_TERMS rounded non-negative terms, relative error < 1e-12). */
#define KS_PRUNE_SLACK (1.0 + 1e-9)

/* Largest window of documents maxscore.c accumulates at a time (a multiple
 * of 64). */
#define KS_PRUNE_WINDOW 4096

typedef struct ks_pcur {
  ks_postings cur;   /* the cursor (valid while live) */
  uint32_t term;     /* query term */
  int live;          /* 1: positioned on a document (not exhausted) */
  double coef;       /* bm25: sum of the refs' qtf (times ks_bm25_term);
                        bm25-xapian: sum of the refs' xweight */
  double ub;         /* bound of the whole list in this segment */
  uint32_t sblock;   /* shallow block: first with last_doc >= last target */
  uint32_t slast;    /* its last_doc (KS_MAX_DOCS past the end) */
  double sub;        /* its bound (0 past the end) */
  double wub;        /* maxscore.c: bound over the current window */
} ks_pcur;

typedef struct ks_prune {
  const ks_query *q;
  const ks_bm25 *bm;
  const ks_segment *seg;
  uint64_t base;      /* global number of the segment's document 0 */
  ks_pcur *pc;        /* q->nterms slots; the first n + nchk are open */
  uint32_t n;         /* open driving cursors (terms of non-excluded
                         clauses): pc[0 .. n), the algorithms' set */
  uint32_t nchk;      /* open checking cursors (terms only of excluded
                         clauses): pc[n .. n + nchk), moved by
                         ks_prune_score only */
  ks_pcur **by_term;  /* term -> its open cursor, or NULL */
  ks_pcur **order;    /* scratch for the algorithm (n pointers) */
  double *cum;        /* scratch for the algorithm (n doubles) */
  uint32_t *docs;     /* scratch: current document per order[] slot, kept
                         compact for the candidate scans (UINT32_MAX: dead) */
  double *coef;       /* per term: see ks_pcur.coef */
  double *g;          /* per term: its exact ks_bm25_term / xapian leaf
                         factor on document gdoc[t] (cache shared by
                         ks_prune_term_score and ks_prune_score) */
  uint32_t *gdoc;     /* per term: document of g[t], or UINT32_MAX */
  double *wsum;       /* maxscore.c: KS_PRUNE_WINDOW partial scores, all 0
                         between windows */
  uint64_t *wbits;    /* maxscore.c: KS_PRUNE_WINDOW / 64 words, documents
                         of the window with a posting (0 between windows) */
  const uint32_t **plist; /* phrase scratch (q->max_phrase entries): */
  uint32_t *plen, *pidx;  /* positions, their counts, match indexes */
  uint32_t len_doc;   /* document whose lengths are cached, or UINT32_MAX */
  uint32_t dl[KS_NFIELDS]; /* field lengths of len_doc */
  double kn[KS_NFIELDS]; /* bm25 length part K of len_doc per field */
  ks_err *err;
} ks_prune;

/* 1 if q can be evaluated by bmw.c / maxscore.c with k > 0 hits: some
 * optional clause, no required one (excluded ones are allowed). */
int ks_prune_supported(const ks_query *q, uint32_t k);
/* Allocate the per-query state. KS_OK or KS_ENOMEM. Free with
 * ks_prune_free (also after a failure). */
int ks_prune_init(ks_prune *p, const ks_query *q, const ks_bm25 *bm,
                  ks_err *err);
void ks_prune_free(ks_prune *p);
/* Open a cursor for every term found in segment `seg` (infos: this
 * segment's slice from ks_query_lookup), driving terms first, and compute
 * the list bounds.
 * KS_OK or KS_ECORRUPT (cursors opened so far are closed again). */
int ks_prune_open_segment(ks_prune *p, const ks_segment *seg, uint64_t base,
                          const ks_term_info *infos);
void ks_prune_close_segment(ks_prune *p);
/* Bound of the block of c that may hold `target` (shallow move: reads
 * skip entries only, never decodes; targets must not decrease). Sets
 * c->slast to that block's last_doc, or KS_MAX_DOCS (and returns 0) when
 * the list has no document >= target. */
double ks_prune_block_bound(ks_prune *p, ks_pcur *c, uint32_t target);
/* The usual case of ks_prune_block_bound, inline: target still in the
 * shallow block. */
static inline double ks_prune_block_bound_fast(ks_prune *p, ks_pcur *c,
                                               uint32_t target) {
  if (c->live && c->sblock >= c->cur.block && c->slast != KS_MAX_DOCS &&
      c->slast >= target)
    return c->sub;
  return ks_prune_block_bound(p, c, target);
}
/* Largest block bound of c over the documents [lo, hi) (lo < hi): a shallow
 * move to lo (as ks_prune_block_bound; lo must not decrease between calls)
 * and then a read of the skip entries of the following blocks that start
 * before hi. 0 when the list has no document >= lo. */
double ks_prune_window_bound(ks_prune *p, ks_pcur *c, uint32_t lo,
                             uint32_t hi);
/* Add coef * g of every posting of c from its current one up to (not
 * including) document hi, all in c's decoded block and >= lo, with
 * hi - lo <= KS_PRUNE_WINDOW, to p->wsum[doc - lo], and set the documents'
 * bits in p->wbits. The cursor does not move. Not bit-exact: for bounds. */
void ks_prune_accumulate(ks_prune *p, const ks_pcur *c, uint32_t lo,
                         uint32_t hi);
/* Contribution of c's current posting to its document (not bit-exact:
 * for bounds only). */
double ks_prune_term_score(ks_prune *p, const ks_pcur *c);
/* Whether `doc` matches (*matched: every required clause matches, no
 * excluded clause does and, without required clauses, some optional one
 * does; phrase positions checked) and its exact score (*score, summed
 * exactly as exhaustive.c sums it). Documents must come in increasing
 * order within a segment; every driving cursor holding doc must be on it
 * (checking cursors are moved here). KS_OK, or KS_ECORRUPT / KS_ENOMEM
 * from the positions or a seek. */
int ks_prune_score(ks_prune *p, uint32_t doc, int *matched, double *score);
/* Move c to the first document >= target (or c->live = 0). KS_OK or an
 * error rc. */
int ks_prune_seek(ks_prune *p, ks_pcur *c, uint32_t target);
int ks_prune_next(ks_prune *p, ks_pcur *c);
/* Current top-k threshold: a new (higher-numbered) document enters the heap
 * only with a score > theta; -INFINITY while the heap is not full. */
double ks_prune_theta(const ks_topk *top);

/* The per-segment part of a pruning algorithm: evaluate the query on p's
 * open segment (p->seg, p->base; cursors open, bounds set), offering hits
 * to top (global numbers) and adding the documents it fully scores to
 * *matches. ctx is the algorithm's own state. KS_OK or an error rc (p->err
 * filled). */
typedef int (*ks_prune_segment_fn)(ks_prune *p, void *ctx, ks_topk *top,
                                   uint64_t *matches);
/* The segment loop every pruning algorithm shares: *matches = 0,
 * ks_prune_init, then for each segment with live documents, in index
 * order (so global document numbers increase, as topk.c's tie rule
 * needs): ks_prune_open_segment with the segment's slice of infos,
 * run(p, ctx, top, matches), ks_prune_close_segment; ks_prune_free.
 * KS_OK, or the first error (KS_ECORRUPT, KS_ENOMEM, or run's). */
int ks_prune_run(const ks_index *ix, const ks_query *q,
                 const ks_term_info *infos, const ks_bm25 *bm,
                 ks_prune_segment_fn run, void *ctx, ks_topk *top,
                 uint64_t *matches, ks_err *err);

/* ---- bmw.c / maxscore.c ------------------------------------------------------ */

/* Block-max WAND / block-max MaxScore over every segment: the same hits
 * (ids, scores, tie order) as ks_exhaustive_run for a query that
 * ks_prune_supported accepts. *matches counts the documents fully scored
 * (a lower bound of the real number of matches). Returns KS_OK,
 * KS_ECORRUPT, KS_ENOMEM. */
int ks_bmw_run(const ks_index *ix, const ks_query *q, const ks_term_info *infos,
               const ks_bm25 *bm, ks_topk *top, uint64_t *matches, ks_err *err);
int ks_maxscore_run(const ks_index *ix, const ks_query *q,
                    const ks_term_info *infos, const ks_bm25 *bm, ks_topk *top,
                    uint64_t *matches, ks_err *err);

/* ---- conj.c ------------------------------------------------------------------ */

/* 1 if q can be evaluated by ks_conj_run with k > 0 hits: some required
 * clause. */
int ks_conj_supported(const ks_query *q, uint32_t k);
/* Queries with required clauses: candidates from the intersection of the
 * required clauses (rarest first, skip-table seeks), block-max bounds
 * against theta, then ks_prune_score. The same hits as ks_exhaustive_run;
 * *matches counts the documents fully scored (exact as long as the heap
 * never filled, see search.c). Returns KS_OK, KS_ECORRUPT, KS_ENOMEM. */
int ks_conj_run(const ks_index *ix, const ks_query *q,
                const ks_term_info *infos, const ks_bm25 *bm, ks_topk *top,
                uint64_t *matches, ks_err *err);

/* ---- search.c ------------------------------------------------------------- */

/* A query term kept by the results for snippets. */
typedef struct ks_rterm {
  uint8_t field;     /* KS_FIELD_WORD / KS_FIELD_BIGRAM */
  uint32_t off, len; /* bytes in ks_index_results.strings */
} ks_rterm;

struct ks_index_results {
  ks_index_hit *hits;          /* best first */
  size_t n;              /* hits */
  uint64_t matches;      /* matching documents (a lower bound unless
                            matches_exact) */
  int matches_exact;     /* 1: matches is exact */
  ks_rterm *terms;       /* terms of non-excluded clauses */
  uint32_t nterms;
  char *strings;         /* their bytes */
};

/* ---- snippet.c ------------------------------------------------------------ */

/* Snippet of the "text" of the stored JSON document json[0, json_len)
 * (docs/query.md, "Snippets"), marking words that match one of the
 * `nterms` terms (bytes in `strings` at terms[i].off) with `tok`. `where`
 * names the document in error messages. *out: NUL-terminated, ks_malloc'ed.
 * Returns KS_OK, KS_ECORRUPT (not an object with a "text" string, invalid
 * UTF-8), KS_ENOMEM, KS_EICU. */
int ks_snippet_make(ks_tok *tok, const ks_rterm *terms, uint32_t nterms,
                    const char *strings, const char *json, size_t json_len,
                    size_t max_chars, const char *mark_open,
                    const char *mark_close, const char *where, char **out,
                    ks_err *err);

/* ---- query_plan.c ----------------------------------------------------------- */

struct ks_query_plan {
  ks_tok *tok;             /* the analyzer (parsing, then snippets) */
  ks_query q;              /* the parsed query (ks_query_parse) */
  ks_query_clause *clauses; /* q.nclauses public views */
  ks_query_term *terms;     /* their terms, clause after clause */
  uint32_t *offsets;       /* phrase offsets, parallel to terms */
  ks_rterm *snip;          /* terms of non-excluded clauses (snippets) */
  uint32_t nsnip;
  ks_query_alt *alts;      /* q.nalts views of the alternatives */
  size_t *alt_idx;         /* their term indexes and offsets, parallel to */
  uint32_t *alt_offsets;   /* q.positions (entries of alternatives only) */
};

#endif /* KS_SEARCHER_QUERY_INT_H */
