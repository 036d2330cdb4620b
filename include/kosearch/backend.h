/*
 * kosearch/backend.h - the interface between the engine API and a storage
 * backend, ks_backend_* (public, UNSTABLE API).
 *
 *   #define KS_BACKEND_UNSTABLE_API
 *   #include <kosearch/backend.h>
 *
 * Everything here may change in any release, without a soname bump: it is
 * for backends built together with libkosearch (libkosearch-xapian is
 * one), not for applications, which use kosearch/db.h and
 * kosearch/writer.h. A program must define KS_BACKEND_UNSTABLE_API to
 * include it, as a promise that it knows this (zstd's
 * ZSTD_STATIC_LINKING_ONLY is the model).
 *
 * Design (docs/api.md, "Backends"): ks_db and ks_writer dispatch every call
 * through a table of operations (ks_backend_ops), one table per backend:
 * the native backend is built into libkosearch; others register their
 * table with ks_backend_register, called explicitly by the program (for
 * Xapian: ks_xapian_register, kosearch/xapian.h). There are no
 * constructors (static libraries drop them) and no dlopen.
 *
 * A backend either takes documents and queries as they come (the native
 * one: writer_add_doc, search_text) or lets the engine do the work, which
 * keeps every backend on one analyzer and one query language:
 *   - documents: the engine checks each document (the native writer's
 *     rules), builds its stored JSON when none is given and analyzes
 *     title and text; writer_add gets the id, the JSON and every
 *     (field, term, position) triple;
 *   - queries: the engine parses and analyzes the query; search gets the
 *     clauses (ks_query_clause) and ranks with BM25 as docs/ranking.md
 *     says for KS_RANK_BM25_XAPIAN; snippets are made by the engine from
 *     the stored JSON (results_json) and the clauses.
 * So a backend needs nothing from libkosearch but errors (ks_err_set,
 * kosearch/error.h) and memory for returned JSON (ks_mem_alloc below).
 */
#ifndef KOSEARCH_BACKEND_H
#define KOSEARCH_BACKEND_H

#ifndef KS_BACKEND_UNSTABLE_API
#error "kosearch/backend.h is an unstable API: define KS_BACKEND_UNSTABLE_API before including it"
#endif

#include <stddef.h>
#include <stdint.h>

#include "kosearch/db.h"
#include "kosearch/error.h"
#include "kosearch/search.h"
#include "kosearch/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of ks_backend_ops: ks_backend_register refuses another.
 * 3: ks_query_clause gained alts/nalts (strict +/- word clauses). */
#define KS_BACKEND_ABI 3

/* Most backends registered at once (the native one included). */
#define KS_BACKEND_MAX 8

/* One analyzed term of a document, as the analyzer emits it. */
typedef struct ks_doc_term {
  uint8_t field;      /* KS_FIELD_WORD or KS_FIELD_BIGRAM (kosearch/tok.h) */
  const char *term;   /* UTF-8 bytes, not NUL-terminated (borrowed) */
  size_t len;         /* 1..KS_TOK_MAX_TERM bytes */
  uint32_t pos;       /* position in its field; the text's positions
                         continue after the title's with a gap of one */
} ks_doc_term;

/* One analyzed query term. */
typedef struct ks_query_term {
  uint8_t field;      /* KS_FIELD_WORD or KS_FIELD_BIGRAM */
  const char *term;   /* UTF-8 bytes, not NUL-terminated (borrowed) */
  size_t len;
  uint32_t count;     /* word clause: occurrences of the term in the clause
                         (the query term frequency); phrase clause: 1 */
} ks_query_term;

/* One way a strict word clause is satisfied: the clause's terms
 * terms[idx[0]], terms[idx[1]], ... at relative positions offsets[0] = 0,
 * offsets[1], ... (increasing; all of one field). A single word-field term,
 * or the bigrams of one word at consecutive bigram positions. */
typedef struct ks_query_alt {
  const size_t *idx;           /* nterms indexes into the clause's terms */
  size_t nterms;               /* >= 1 */
  const uint32_t *offsets;     /* nterms offsets */
} ks_query_alt;

/* One clause of an analyzed query (docs/query.md, "What matches"). A word
 * clause lists its distinct terms (surfaces, stems, bigrams); it is scored
 * by all of them. An optional word clause (nalts = 0) matches a document
 * containing any of them; a required or excluded one ("strict", nalts >=
 * 1) matches a document where one of its alternatives matches. A phrase
 * clause lists one base term per word position in order (a term repeats
 * when the phrase repeats a word); offsets[i] is the position of terms[i]
 * relative to terms[0] (offsets[0] = 0, increasing). */
typedef struct ks_query_clause {
  int op;                      /* KS_OP_* (kosearch/search.h) */
  int phrase;                  /* 0 word clause, 1 phrase */
  const ks_query_term *terms;  /* nterms >= 1 (borrowed) */
  size_t nterms;
  const uint32_t *offsets;     /* phrase: nterms offsets; word: NULL */
  const ks_query_alt *alts;    /* strict word clause: its alternatives */
  size_t nalts;                /* 0 for every other clause */
} ks_query_clause;

/* The operations of one backend. `db`, `res` and `w` are the backend's own
 * handles. Every function returning int returns KS_OK or a ks_error code
 * with *err filled (ks_err_set). Optional entries may be NULL as said. */
typedef struct ks_backend_ops {
  int abi;              /* KS_BACKEND_ABI */
  const char *name;     /* "xapian": what ks_writer_opts.backend names and
                           ks_db_backend returns (static string) */

  /* 1 if `path` holds an index of this backend, else 0. Cheap (a stat or
   * two); must not fail. */
  int (*detect)(const char *path);

  /* ---- reading ---- */
  /* Open one index (n = 1, a path ks_db_open was given) or several shards
   * searched as one (ks_db_open_shards; specs as documented there). */
  int (*open)(const char *const *specs, size_t n, void **db, ks_err *err);
  /* A second handle on the same snapshot for another thread. */
  int (*dup)(void *db, void **out, ks_err *err);
  void (*close)(void *db);                        /* NULL allowed */
  /* A new handle on the latest commit in *out, or *out = NULL when `db`
   * is at the latest commit already (ks_db_reopen). */
  int (*reopen)(void *db, void **out, ks_err *err);

  /* Either search_text (the backend parses the query itself) or search
   * (the engine gives the analyzed clauses); `nhits` = offset + k best hits
   * are wanted. *res is freed with results_free. */
  int (*search_text)(void *db, const char *query, size_t len,
                     const ks_search_opts *opts, uint32_t nhits, void **res,
                     ks_err *err);
  int (*search)(void *db, const ks_query_clause *clauses, size_t nclauses,
                const ks_search_opts *opts, uint32_t nhits, void **res,
                ks_err *err);
  size_t (*results_count)(void *res);
  /* Hit i: its id (borrowed until results_free) and score. */
  int (*results_hit)(void *res, size_t i, const char **id, size_t *id_len,
                     double *score, ks_err *err);
  /* Number of matching documents; *exact = 0 when a lower bound. */
  uint64_t (*results_matches)(void *res, int *exact);
  /* Stored JSON of hit i, allocated with ks_mem_alloc, NUL-terminated. */
  int (*results_json)(void *res, size_t i, char **json, size_t *len,
                      ks_err *err);
  /* Optional (NULL: the engine makes the snippet from results_json and the
   * query's clauses). For backends with search_text. */
  int (*results_snippet)(void *res, size_t i, size_t max_chars,
                         const char *mark_open, const char *mark_close,
                         char **out, ks_err *err);
  void (*results_free)(void *res);                /* NULL allowed */

  /* Stored JSON (ks_mem_alloc) of the live document `id`; KS_NOTFOUND if
   * there is none. */
  int (*get)(void *db, const char *id, size_t id_len, char **json,
             size_t *len, ks_err *err);
  /* Fill the fields of *st this backend knows (the engine zeroes it and
   * sets st->backend first). */
  int (*stats)(void *db, ks_db_stats *st, ks_err *err);
  /* Optional (NULL: KS_EUNSUPPORTED): verify the index at `path`. */
  int (*check)(const char *path, void (*report)(void *ctx, const char *line),
               void *ctx, ks_err *err);

  /* ---- writing ---- */
  int (*writer_open)(const char *dir, const ks_writer_opts *opts, void **w,
                     ks_err *err);
  /* Either writer_add_doc (the backend checks and analyzes documents
   * itself) or writer_add (the engine did: `json` is the stored JSON,
   * `terms` every analyzed term). A rejected document returns KS_EINPUT,
   * KS_EUTF8, KS_ELIMIT or KS_EINVAL and changes nothing; any other error
   * leaves the writer failed. */
  int (*writer_add_doc)(void *w, const ks_doc *doc, ks_err *err);
  int (*writer_add)(void *w, const char *id, size_t id_len, const char *json,
                    size_t json_len, const ks_doc_term *terms, size_t nterms,
                    ks_err *err);
  /* Delete the live document `id` (already checked by the engine):
   * KS_OK, KS_NOTFOUND (none; nothing changes), or an error that leaves
   * the writer failed (ks_writer_delete). */
  int (*writer_delete)(void *w, const char *id, size_t id_len, ks_err *err);
  /* Optional (NULL: a no-op): ks_writer_merge. */
  int (*writer_merge)(void *w, uint32_t max_segments, ks_err *err);
  /* Publish every change since the previous commit; the writer stays
   * usable (ks_writer_commit). */
  int (*writer_commit)(void *w, ks_err *err);
  /* Fill the fields of *st this backend knows (the engine zeroes it and
   * fills docs_added, docs_replaced... only if the backend leaves them). */
  void (*writer_stats)(void *w, ks_writer_stats *st);
  void (*writer_close)(void *w);                  /* NULL allowed */
} ks_backend_ops;

/* Register a backend (in: the table must stay valid while the process runs,
 * typically a static const). Registering the same table again, or another
 * table with a name already registered, is a no-op returning KS_OK.
 * Thread-safe. Returns KS_OK; KS_EVERSION (ops->abi is not
 * KS_BACKEND_ABI); KS_EINVAL (missing name or required operation);
 * KS_ELIMIT (KS_BACKEND_MAX backends registered). */
KS_API int ks_backend_register(const ks_backend_ops *ops, ks_err *err);

/* Allocate n bytes that the caller of the API frees with ks_mem_free (for
 * results_json and get). NULL when out of memory. */
KS_API void *ks_mem_alloc(size_t n);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_BACKEND_H */
