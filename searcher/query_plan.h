/*
 * query_plan.h - analyzed queries for other backends, ks_query_plan_*
 * (internal): the Xapian backend (xapian/ks_xap.h) and the engine's
 * dispatch (engine/db.c) search with exactly the clauses the native
 * searcher evaluates: a ks_query_plan is the query after ks_index_search's
 * own parser and analyzer (docs/query.md), exposed clause by clause, plus
 * the snippet maker working from a stored JSON document. Implemented by
 * searcher/query_plan.c.
 */
#ifndef KS_QUERY_PLAN_H
#define KS_QUERY_PLAN_H

#include <stddef.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"
#ifndef KS_BACKEND_UNSTABLE_API
#define KS_BACKEND_UNSTABLE_API
#endif
#include "kosearch/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_query_plan ks_query_plan;

/* Clauses are ks_query_clause / ks_query_term (kosearch/backend.h). */

/* Parse and analyze `query` (`len` bytes, or SIZE_MAX if NUL-terminated)
 * with a new analyzer configured by `tok` (NULL: defaults, as
 * `kosearch index` uses), exactly as ks_index_search does. Clauses without an
 * indexable term are dropped. Returns KS_OK (possibly with 0 clauses),
 * KS_EQUERY, KS_ENOMEM, KS_EICU. On failure *out = NULL. Free with
 * ks_query_plan_free. The plan keeps its analyzer (for snippets), so use
 * one plan from one thread at a time. */
int ks_query_plan_new(const char *query, size_t len, const ks_tok_config *tok,
                      ks_query_plan **out, ks_err *err);
void ks_query_plan_free(ks_query_plan *p);  /* NULL allowed */

size_t ks_query_plan_count(const ks_query_plan *p);
/* The i-th clause; pointers in *c stay valid until ks_query_plan_free.
 * KS_OK or KS_EINVAL (i out of range). */
int ks_query_plan_clause(const ks_query_plan *p, size_t i, ks_query_clause *c);

/* The snippet ks_index_results_snippet would make, from a stored JSON document
 * (`json`, `json_len` bytes: an object with a "text" string, as stored by
 * both backends) and the plan's non-excluded terms. *out is NUL-terminated,
 * free with ks_mem_free. KS_OK, KS_EINVAL, KS_ECORRUPT (not such an
 * object, or invalid UTF-8), KS_ENOMEM, KS_EICU. */
int ks_query_plan_snippet(ks_query_plan *p, const char *json, size_t json_len,
                          size_t max_chars, const char *mark_open,
                          const char *mark_close, char **out, ks_err *err);

#ifdef __cplusplus
}
#endif
#endif /* KS_QUERY_PLAN_H */
