/*
 * xap_backend.h - the `kosearch` program's glue to the Xapian backend
 * (xapian/ks_xap.h): building a Xapian database (one, or N shards) from
 * ks_doc records with our analyzer, opening one for search (a database, a
 * local sharded layout, or --shard specs), and running a query through the
 * native parser (ks_query_plan, ks_srch.h) mapped onto ks_xap_clause.
 *
 * Layout of a sharded build (`kosearch index --backend xapian --shards N
 * -o DIR`): DIR/shard-0 ... DIR/shard-(N-1) are Xapian databases and
 * DIR/KOSEARCH-SHARDS is a one-line text marker "kosearch xapian shards N".
 * A document goes to shard ks_xap_shard_of(id).
 */
#ifndef KS_CLI_XAP_BACKEND_H
#define KS_CLI_XAP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch.h"
#include "index.h"
#include "index_writer.h"
#include "ks_xap.h"

#define CLI_XAP_SHARDS_MARKER "KOSEARCH-SHARDS"
#define CLI_XAP_MAX_SHARDS 1024

/* ---- building ------------------------------------------------------------ */

typedef struct cli_xap_build cli_xap_build;

typedef struct cli_xap_build_stats {
  uint64_t docs_added, docs_replaced, docs_live;
  uint64_t bytes_in;      /* title + text bytes of accepted documents */
  uint64_t postings;      /* (term, document) pairs added */
  uint64_t words, bigrams;/* distinct terms (after commit) */
  uint64_t index_bytes;   /* bytes under the output directory (after commit) */
} cli_xap_build_stats;

/* Start a build of `out` (nshards 0: one database at `out`; N >= 1: the
 * sharded layout above). Everything is written into "<out>.tmp" and only
 * renamed onto `out` by cli_xap_build_commit, so a failed or interrupted
 * run leaves `out` as it was. `out` may be missing, empty, a kosearch
 * Xapian database or a sharded layout; anything else is refused
 * (KS_EINVAL). max_doc_bytes: larger title + text is rejected (KS_ELIMIT).
 * Returns KS_OK or an rc with *e filled; on failure *out_b = NULL. */
int cli_xap_build_open(const char *out, uint32_t nshards, size_t max_doc_bytes,
                       cli_xap_build **out_b, ks_err *e);

/* Validate, analyze (title then text, exactly as the native writer does:
 * text positions continue 2 after the title's last one) and add one
 * document. Returns KS_OK; KS_EINPUT, KS_EUTF8, KS_ELIMIT for a rejected
 * document (the build goes on); any other rc is fatal. */
int cli_xap_build_add(cli_xap_build *b, const ks_doc *doc, ks_err *e);

/* Commit every shard, close them, and move the result onto `out`
 * (replacing what it held). Returns KS_OK or an rc. */
int cli_xap_build_commit(cli_xap_build *b, ks_err *e);

void cli_xap_build_get_stats(const cli_xap_build *b, cli_xap_build_stats *st);

/* Close; without a successful commit the temporary directory is removed
 * and `out` is untouched. NULL allowed. */
void cli_xap_build_close(cli_xap_build *b);

/* ---- searching ----------------------------------------------------------- */

/* 1 if `path` is a kosearch Xapian database or a sharded layout. */
int cli_xap_detect(const char *path);

/* Open for search: `index` (a database or a sharded layout; may be NULL)
 * plus `nspecs` --shard specs. Returns KS_OK or an rc. */
int cli_xap_open(const char *index, const char *const *specs, size_t nspecs,
                 ks_xap_db **db, ks_err *e);

/* Parse `query` with the native parser into *plan, map it onto clauses and
 * search db with so->k, k1, b, bigram_weight, min_normlen; `pruned` = 0:
 * exhaustive matching (exact top k and count, ks_xap_search_opts), 1:
 * Xapian's own pruning matcher (its normal mode; `kosearch bench`). *plan
 * (for snippets) and *res are set on success; free them with
 * ks_query_plan_free and ks_xap_results_free. Returns KS_OK, KS_EQUERY, or
 * another rc. */
int cli_xap_search(ks_xap_db *db, const char *query, const ks_search_opts *so,
                   int pruned, ks_query_plan **plan, ks_xap_results **res,
                   ks_err *e);

/* Total size in bytes of the regular files below `path` (0 if none). */
uint64_t cli_dir_bytes(const char *path);

#endif /* KS_CLI_XAP_BACKEND_H */
