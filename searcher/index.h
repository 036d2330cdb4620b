/*
 * index.h - the native backend's reader, ks_index_* (internal; the public
 * API is kosearch/db.h and kosearch/results.h, which dispatch here for
 * native indexes): opening an index and running ranked queries.
 * Implemented by searcher/index.c (open, documents), index_check.c (stats,
 * check), search.c (ks_index_search, results) and snippet.c. The analyzed
 * query for other backends, ks_query_plan_*, is query_plan.h.
 *
 *   ks_index *ix; ks_err e;
 *   if (ks_index_open("my.idx", &ix, &e)) { puts(e.msg); ... }
 *   ks_search_opts o; ks_search_opts_default(&o); o.k = 10;
 *   ks_index_results *r;
 *   if (ks_index_search(ix, "대통령 +\"첨단 산업\" -보스턴", SIZE_MAX, &o, &r, &e)) ...
 *   for (size_t i = 0; i < ks_index_results_count(r); i++) {
 *     ks_index_hit h; ks_index_results_hit(r, i, &h);
 *     const char *id; size_t idlen; ks_index_doc_id(ix, h.doc, &id, &idlen, &e);
 *   }
 *   ks_index_results_free(r); ks_index_close(ix);
 *
 * Query language (docs/query.md): whitespace-separated clauses;
 *   word         optional: ranked OR
 *   "a b c"      phrase: the words' base terms at consecutive positions
 *   +word +"a b" required      -word -"a b" excluded
 * A document matches when it satisfies every required clause, no excluded
 * clause and, if there is no required clause, at least one optional one.
 * An unclosed quote is read leniently as if closed at the end of the query.
 * Ranking: BM25 over the word field plus a down-weighted bigram field
 * (docs/ranking.md). Ties are broken by internal document number.
 *
 * Threading: an opened ks_index is read-only and may be shared by threads;
 * each ks_search call uses its own state.
 */
#ifndef KS_INDEX_H
#define KS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"
#include "kosearch/search.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_index ks_index;

/* Open the index in `dir` at its current commit (a consistent snapshot:
 * later commits are not seen by this handle). Checks magic, versions,
 * sizes, trailers and the CRCs of MANIFEST and .del, reading O(1) bytes of
 * the big files; their pages are verified against their checksums when a
 * search or a get first reads them (KS_ECORRUPT then). Returns KS_OK, KS_NOTFOUND (not an
 * index), KS_EIO, KS_ECORRUPT, KS_EVERSION, KS_ENOMEM, KS_EICU. */
int ks_index_open(const char *dir, ks_index **out, ks_err *err);
void ks_index_close(ks_index *ix);  /* NULL allowed */

/* A new snapshot of ix's index at its latest commit in *out, sharing the
 * segments that did not change (they are reference-counted); *out = NULL
 * when ix is at the latest commit already. ix stays open and valid.
 * Returns KS_OK or ks_index_open's errors. */
int ks_index_reopen(ks_index *ix, ks_index **out, ks_err *err);

typedef struct ks_index_stats {
  uint64_t docs;             /* live documents */
  uint64_t deleted;          /* deleted (replaced) documents still on disk */
  uint64_t terms;            /* distinct terms (summed over segments) */
  uint64_t postings;         /* (term, document) pairs */
  uint64_t field_total[2];   /* total length of word / bigram fields */
  uint32_t segments;
  uint64_t generation;       /* commit number */
  /* bytes per file kind */
  uint64_t bytes_tid, bytes_doc, bytes_pos, bytes_len, bytes_sto,
      bytes_del, bytes_manifest, bytes_total;
} ks_index_stats;

/* Fill *st. Walks the dictionaries (cheap for postings counts: no postings
 * are decoded). KS_OK or KS_ECORRUPT. */
int ks_index_get_stats(ks_index *ix, ks_index_stats *st, ks_err *err);

/* Verify a whole index: every file's CRC and page checksums, every
 * dictionary entry, every postings list (decoded, ordered, within bounds,
 * df/cf and skip data consistent), positions, lengths vs. field totals,
 * stored documents, the id hash tables.
 * `report` (may be NULL) is called with progress/problem lines.
 * Returns KS_OK if the index is sound, else the first error (err says
 * which file and what). */
int ks_index_check(const char *dir, void (*report)(void *ctx, const char *line),
                   void *ctx, ks_err *err);

/* ks_search_opts, KS_ALGO_*, KS_RANK_*: kosearch/search.h. */

typedef struct ks_index_hit {
  uint64_t doc;    /* internal document number (index-wide) */
  double score;
} ks_index_hit;

typedef struct ks_index_results ks_index_results;

/* Parse, analyze and run `query` (UTF-8, `len` bytes or SIZE_MAX for
 * NUL-terminated). Returns KS_OK (possibly zero hits), KS_EQUERY
 * (malformed: e.g. invalid UTF-8, empty clause "+"), KS_EINVAL (bad opts),
 * KS_ECORRUPT, KS_ENOMEM. Free *out with ks_index_results_free. */
int ks_index_search(ks_index *ix, const char *query, size_t len,
              const ks_search_opts *opts, ks_index_results **out, ks_err *err);

size_t ks_index_results_count(const ks_index_results *r);
/* Number of documents that matched the query. Exact when
 * ks_index_results_matches_exact(r) is 1; otherwise (a pruning algorithm skipped
 * documents it proved could not reach the top k) the number of documents
 * it fully scored, a LOWER BOUND of the real count: show it as "at least
 * N". For the exact count run the query with KS_ALGO_EXHAUSTIVE (slower). */
uint64_t ks_index_results_matches(const ks_index_results *r);
/* 1 if ks_index_results_matches(r) is the exact number of matching documents:
 * always with KS_ALGO_EXHAUSTIVE and with k = 0, when fewer than k
 * documents matched (nothing can be skipped then) and when every live
 * document matched; 0 when the count is a lower bound. 1 for r == NULL
 * (0 matches, exactly). */
int ks_index_results_matches_exact(const ks_index_results *r);
/* i-th hit, best first. KS_OK or KS_EINVAL (i out of range). */
int ks_index_results_hit(const ks_index_results *r, size_t i, ks_index_hit *hit);
void ks_index_results_free(ks_index_results *r);  /* NULL allowed */

/* The document's own "id" (borrowed: valid while ix is open; not
 * NUL-terminated). KS_OK, KS_EINVAL (no such doc), KS_ECORRUPT. */
int ks_index_doc_id(ks_index *ix, uint64_t doc, const char **id, size_t *len,
                    ks_err *err);

/* The number of the live document whose id is `id` (`len` bytes) in *doc.
 * KS_OK, KS_NOTFOUND (none; err untouched), KS_ECORRUPT. */
int ks_index_find_id(ks_index *ix, const char *id, size_t len, uint64_t *doc,
                     ks_err *err);

/* The stored JSON object of a document, NUL-terminated, in *json; free it
 * with ks_mem_free. KS_OK, KS_EINVAL, KS_ECORRUPT, KS_ENOMEM. */
int ks_index_doc_json(ks_index *ix, uint64_t doc, char **json, size_t *len,
                      ks_err *err);

/* A snippet of the hit's text (at most ~max_chars characters around the
 * densest cluster of matched query words), each matched word wrapped in
 * mark_open/mark_close; the title is not included. *out is NUL-terminated,
 * free with ks_mem_free. KS_OK, KS_EINVAL, KS_ECORRUPT, KS_ENOMEM. */
int ks_index_results_snippet(ks_index *ix, const ks_index_results *r, size_t i,
                       size_t max_chars, const char *mark_open,
                       const char *mark_close, char **out, ks_err *err);

#ifdef __cplusplus
}
#endif
#endif /* KS_INDEX_H */
