/*
 * kosearch/results.h - the ranked hits of one search, ks_results_*
 * (public, stable API).
 *
 * A ks_results comes from ks_db_search (kosearch/db.h) and belongs to the
 * ks_db that made it: free it with ks_results_free before closing the
 * ks_db, and use it from the thread that uses the ks_db.
 */
#ifndef KOSEARCH_RESULTS_H
#define KOSEARCH_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_results ks_results;

/* One hit. */
typedef struct ks_hit {
  const char *id;   /* the document's "id", UTF-8, NOT NUL-terminated;
                       borrowed: valid until ks_results_free */
  size_t id_len;
  double score;     /* BM25 score; higher is better */
  uint64_t rank;    /* 1-based rank in the whole ranking (offset + i + 1) */
} ks_hit;

/* Number of hits held (at most opts.k; fewer at the end of the ranking). */
KS_API size_t ks_results_count(const ks_results *r);

/* The offset the search was run with (hit 0 has rank offset + 1). */
KS_API uint64_t ks_results_offset(const ks_results *r);

/* Number of documents that matched the query. Exact when
 * ks_results_matches_exact(r) is 1; otherwise (a pruning algorithm skipped
 * documents it proved could not reach the top k) a LOWER BOUND: show it as
 * "at least N". For the exact count search with KS_ALGO_EXHAUSTIVE. */
KS_API uint64_t ks_results_matches(const ks_results *r);

/* 1 if ks_results_matches(r) is exact, 0 if it is a lower bound. */
KS_API int ks_results_matches_exact(const ks_results *r);

/* The i-th hit (0-based, best first) into *hit (out). KS_OK or KS_EINVAL
 * (i out of range; *hit untouched). */
KS_API int ks_results_hit(const ks_results *r, size_t i, ks_hit *hit);

/* The stored JSON object of hit i (an object with at least "id" and
 * "text", plus the input's other fields verbatim), NUL-terminated in *json
 * (out; length in *len if non-NULL); free with ks_mem_free. Returns KS_OK,
 * KS_EINVAL (i out of range), KS_ECORRUPT, KS_ENOMEM, KS_EXAPIAN. */
KS_API int ks_results_json(ks_results *r, size_t i, char **json, size_t *len,
                           ks_err *err);

/* A snippet of hit i's text: at most about max_chars characters around the
 * densest cluster of matched query words, each matched word wrapped in
 * mark_open / mark_close (in; e.g. "<b>", "</b>"); the title is not
 * included. *out (out) is NUL-terminated; free with ks_mem_free. The same
 * text for both backends. Returns KS_OK, KS_EINVAL, KS_ECORRUPT,
 * KS_ENOMEM, KS_EICU, KS_EXAPIAN. */
KS_API int ks_results_snippet(ks_results *r, size_t i, size_t max_chars,
                              const char *mark_open, const char *mark_close,
                              char **out, ks_err *err);

/* Free the results (NULL allowed). */
KS_API void ks_results_free(ks_results *r);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_RESULTS_H */
