/*
 * ks_xap.h - the Xapian backend: a thin C API over libxapian 1.4 (public,
 * stable API). Implemented in xapian/xapian.cc, the only C++ in the tree;
 * the mapping of terms, queries and ranking is specified in docs/xapian.md.
 *
 *   ks_xap_writer *w; ks_err e;
 *   if (ks_xap_writer_open("my.xap", NULL, &w, &e)) { puts(e.msg); ... }
 *   ks_xap_term t[] = {{KS_FIELD_WORD, "대통령", 9, 0}, ...};   // from ks_tok
 *   rc = ks_xap_writer_add(w, "a1", 2, json, json_len, t, n, &e);
 *   rc = ks_xap_writer_commit(w, &e);
 *   ks_xap_writer_close(w);
 *
 *   ks_xap_db *db; ks_xap_open("my.xap", &db, &e);       // or _open_shards
 *   ks_xap_qterm w1[] = {{KS_FIELD_WORD, "대통령", 9, 1}, ...};
 *   ks_xap_clause c[] = {{KS_OP_OPTIONAL, 0, w1, 3, NULL}};
 *   ks_xap_search_opts o; ks_xap_search_opts_default(&o);
 *   ks_xap_results *r; ks_xap_search(db, c, 1, &o, &r, &e);
 *   for (size_t i = 0; i < ks_xap_results_count(r); i++) {
 *     ks_xap_hit h; ks_xap_results_hit(r, i, &h);   // h.id, h.score
 *   }
 *   ks_xap_results_free(r); ks_xap_close(db);
 *
 * The wrapper only stores and searches: analysis stays ours. A document is
 * indexed from exactly the (field, term, position) triples the analyzer
 * (ks_tok.h) emits; its stored JSON goes into the Xapian document data.
 *
 * Terms in the Xapian database (docs/xapian.md, "Term mapping"):
 *   KS_FIELD_WORD   "W" + term      (surfaces and stems; with positions)
 *   KS_FIELD_BIGRAM "B" + term      (Hangul bigrams; with positions)
 *   document id     "Q" + id        (boolean: wdf 0, no positions)
 * Positions are stored as analyzer position + 1 (Xapian 1.4 glass loses
 * position 0 in some position lists, e.g. {0, 1} reads back as {1}).
 * Following Xapian's convention, a ':' is inserted after the prefix when
 * the term (or id) starts with an ASCII capital or ':', so the mapping is
 * injective. An id longer than 240 bytes uses "XQH" + 16 hex digits of a
 * 64-bit hash + its first 200 bytes (a hash collision is detected and
 * reported). The id is also stored in value slot 0. Database metadata
 * "kosearch:backend" = "xapian" and "kosearch:tok_version" =
 * KS_TOK_VERSION mark a kosearch database; readers refuse other versions.
 *
 * Errors: every C++ exception is caught inside the wrapper and becomes an
 * rc plus a ks_err message "[xap][operation] <path or spec>: <Xapian's
 * description>". Mapping: Xapian::DatabaseNotFoundError -> KS_NOTFOUND,
 * DatabaseLockError -> KS_ELOCKED, DatabaseCorruptError -> KS_ECORRUPT,
 * DatabaseVersionError -> KS_EVERSION, std::bad_alloc -> KS_ENOMEM, any
 * other Xapian::Error, std::exception or unknown exception -> KS_EXAPIAN
 * (DatabaseModifiedError, a reader whose snapshot a writer has recycled,
 * says so and asks for a reopen).
 * Argument checks done by the wrapper itself give KS_EINVAL.
 *
 * Threading: a handle is used by one thread at a time (Xapian objects are
 * not thread-safe). Different handles may be used by different threads.
 */
#ifndef KS_XAP_H
#define KS_XAP_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/search.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest accepted term, in bytes (Xapian's own limit is 245 including
 * the prefix). The analyzer never exceeds KS_TOK_MAX_TERM (120). */
#define KS_XAP_MAX_TERM 240
/* Longest accepted document id, in bytes (same as the native writer). */
#define KS_XAP_MAX_ID 1024

/* ---- writing ------------------------------------------------------------- */

typedef struct ks_xap_writer ks_xap_writer;

/* One analyzed term of a document, exactly as ks_tok emits it. */
typedef struct ks_xap_term {
  uint8_t field;      /* KS_FIELD_WORD or KS_FIELD_BIGRAM (ks_tok.h) */
  const char *term;   /* UTF-8 bytes, not NUL-terminated (borrowed) */
  size_t len;         /* 1..KS_XAP_MAX_TERM */
  uint32_t pos;       /* position in its field (stem = surface position) */
} ks_xap_term;

/* ks_xap_writer_opts.open */
#define KS_XAP_OVERWRITE      0  /* create, or empty an existing database
                                    (Xapian::DB_CREATE_OR_OVERWRITE) */
#define KS_XAP_OPEN           1  /* open an existing kosearch database
                                    (Xapian::DB_OPEN) */
#define KS_XAP_CREATE_OR_OPEN 2  /* open it, or create it when missing
                                    (Xapian::DB_CREATE_OR_OPEN) */

typedef struct ks_xap_writer_opts {
  uint32_t flush_docs; /* commit every this many added documents (0: let
                          Xapian auto-commit, every 10000 by default);
                          bounds memory: Xapian buffers whole documents.
                          Ignored when atomic */
  int fsync;           /* 1: fsync at each commit (default); 0 opens with
                          Xapian::DB_NO_SYNC (throwaway test databases) */
  int open;            /* KS_XAP_OVERWRITE (default), KS_XAP_OPEN or
                          KS_XAP_CREATE_OR_OPEN */
  int atomic;          /* 0 (default): Xapian semantics, changes may be
                          committed early (auto-commit, close).
                          1: every change between two ks_xap_writer_commit
                          calls is one Xapian transaction: invisible to
                          readers until the commit, all or nothing after a
                          crash, discarded by ks_xap_writer_close. Memory
                          stays bounded: Xapian still flushes its buffers
                          to the tables every 10000 changes, but publishes
                          nothing before commit_transaction */
} ks_xap_writer_opts;

void ks_xap_writer_opts_default(ks_xap_writer_opts *o);

/* Start a writer on the Xapian database in directory `path`, opened as
 * opts->open says. KS_XAP_OVERWRITE: an existing Xapian database at `path`
 * is emptied NOW, not at commit; the directory is created if missing (its
 * parent must exist). KS_XAP_OPEN / KS_XAP_CREATE_OR_OPEN continue from
 * the database's last commit; an existing database must be a kosearch
 * database of this analyzer version (KS_EINVAL / KS_EVERSION otherwise).
 * A new database gets the kosearch metadata, committed at once when
 * opts->atomic (so that readers can open it). Refuses a non-empty
 * directory that is not a Xapian database (KS_EINVAL), so a native index
 * or other files are never overwritten. opts may be NULL (defaults).
 * Returns KS_OK, KS_EINVAL, KS_NOTFOUND (KS_XAP_OPEN: no database),
 * KS_ELOCKED (another writer has it open: Xapian::DatabaseLockError),
 * KS_EVERSION, KS_ECORRUPT, KS_ENOMEM, KS_EXAPIAN (e.g. parent directory
 * missing, permission denied). On failure *out = NULL.
 * Close with ks_xap_writer_close. */
int ks_xap_writer_open(const char *path, const ks_xap_writer_opts *opts,
                       ks_xap_writer **out, ks_err *err);

/* Add one document: `id` (id_len 1..KS_XAP_MAX_ID bytes), its stored JSON
 * (copied verbatim into the document data; may be NULL with json_len 0)
 * and its analyzed terms: each term gets one posting at t.pos (the wdf of a
 * term is the number of times it is given). A document with the same id
 * already in the database (or added earlier by this writer) is REPLACED,
 * like the native writer. All pointers are borrowed for the call only.
 * Returns KS_OK; KS_EINVAL for a rejected document (bad id length, bad
 * field, empty or too long term; nothing changes, the writer stays usable);
 * KS_ELIMIT (hash collision of two ids longer than 240 bytes; rejected,
 * writer usable); KS_ENOMEM / KS_EXAPIAN (the writer is then failed: every
 * later call except ks_xap_writer_close returns KS_EINVAL). */
int ks_xap_writer_add(ks_xap_writer *w, const char *id, size_t id_len,
                      const char *json, size_t json_len,
                      const ks_xap_term *terms, size_t nterms, ks_err *err);

/* Delete the document whose id is `id` (id_len 1..KS_XAP_MAX_ID bytes):
 * Xapian::WritableDatabase::delete_document(id term). The writer sees its
 * own uncommitted changes, so an id added since the last commit can be
 * deleted, and an id deleted since is not found again. Returns KS_OK,
 * KS_NOTFOUND (no document has this id; nothing changes, err untouched),
 * KS_EINVAL (bad id length, writer failed earlier), KS_ENOMEM /
 * KS_EXAPIAN (the writer is then failed). */
int ks_xap_writer_delete(ks_xap_writer *w, const char *id, size_t id_len,
                         ks_err *err);

/* Commit everything changed so far (Xapian::WritableDatabase::commit, or
 * commit_transaction when opts.atomic; a new transaction then starts). The
 * commit also stores its commit number, one more than the previous one
 * (metadata "kosearch:commit"; see ks_xap_writer_set_commit_number). The
 * writer stays usable for more changes.
 * Atomicity: without opts.atomic, Xapian also commits on its own every
 * flush_docs documents (and at close), so an interrupted build leaves a
 * partial database; build into a temporary directory and rename it for
 * all-or-nothing, or use opts.atomic.
 * Returns KS_OK, KS_EINVAL (writer failed earlier), KS_ENOMEM, KS_EXAPIAN
 * (e.g. disk full; nothing of this commit is published and the writer is
 * then failed). */
int ks_xap_writer_commit(ks_xap_writer *w, ks_err *err);

/* Make the next ks_xap_writer_commit store commit number n + 1 (the
 * shards of one index keep equal numbers this way). Never fails. */
void ks_xap_writer_set_commit_number(ks_xap_writer *w, uint64_t n);

typedef struct ks_xap_writer_stats {
  uint64_t docs_added;    /* documents accepted by ks_xap_writer_add */
  uint64_t docs_replaced; /* accepted documents that replaced a live one
                             (committed, or added by this writer) */
  uint64_t docs_deleted;  /* documents deleted by ks_xap_writer_delete */
  uint64_t docs_live;     /* documents in the database now, uncommitted
                             changes included */
  uint64_t postings;      /* (term, document) pairs added, boolean id
                             terms excluded; replaced documents included */
  uint64_t positions;     /* term occurrences added (= sum of wdf) */
  uint64_t commit_number; /* of the last commit (0: none yet) */
  uint64_t revision;      /* Xapian revision of the last commit */
} ks_xap_writer_stats;

/* Fill *st (never fails; docs_live and revision are 0 if Xapian cannot
 * tell). */
void ks_xap_writer_get_stats(ks_xap_writer *w, ks_xap_writer_stats *st);

/* Close the writer; NULL is allowed. Without opts.atomic, Xapian commits
 * pending changes when a writable database is closed, so documents added
 * after the last ks_xap_writer_commit are NOT discarded (unlike the native
 * writer); with opts.atomic they are. */
void ks_xap_writer_close(ks_xap_writer *w);

/* Which of `nshards` shards a document id belongs to: FNV-1a 64-bit hash of
 * the id bytes modulo nshards (stable across runs and machines). Routing
 * every document by it keeps all versions of one id in one shard, so
 * replacement by id works across a sharded corpus. nshards 0 returns 0. */
uint32_t ks_xap_shard_of(const char *id, size_t id_len, uint32_t nshards);

/* 1 if `path` is a directory holding a Xapian database (glass or chert
 * marker file), else 0. Does not open it. */
int ks_xap_is_database(const char *path);

/* ---- reading ------------------------------------------------------------- */

typedef struct ks_xap_db ks_xap_db;

/* Open the kosearch Xapian database in directory `path` read-only, at its
 * latest commit. Returns KS_OK, KS_NOTFOUND (no database there), KS_EINVAL
 * (a Xapian database not written by kosearch), KS_EVERSION (other analyzer
 * version or Xapian format), KS_ECORRUPT, KS_ENOMEM, KS_EXAPIAN.
 * On failure *out = NULL. Close with ks_xap_close. */
int ks_xap_open(const char *path, ks_xap_db **out, ks_err *err);

/* Open several shards as one database. Each spec is a local database path
 * or "tcp://HOST:PORT" of a xapian-tcpsrv serving one shard (HOST may be a
 * name, an IPv4 address or a bracketed IPv6 address "[::1]"). Xapian
 * combines the statistics of all shards, so scores equal those of one
 * database holding every document. timeout_ms bounds each remote operation
 * and the connection (0: 10000 ms). Every shard must be a kosearch
 * database with this analyzer version. Returns the codes of ks_xap_open
 * plus KS_EINVAL (n == 0, malformed spec or port); a network failure
 * (refused, timeout) is KS_EXAPIAN. The message names the failing spec.
 * On failure *out = NULL and every shard opened so far is closed. */
int ks_xap_open_shards(const char *const *specs, size_t n,
                       unsigned timeout_ms, ks_xap_db **out, ks_err *err);

/* Close; NULL is allowed. Free every ks_xap_results of this db first. */
void ks_xap_close(ks_xap_db *db);

typedef struct ks_xap_stats {
  uint64_t docs;          /* documents (N) over all shards */
  uint64_t total_length;  /* sum of document lengths (sum of all wdf) */
  double avg_length;      /* total_length / docs (0 when empty) */
  uint32_t shards;        /* sub-databases */
} ks_xap_stats;

/* Fill *st. Returns KS_OK, KS_EXAPIAN (e.g. a remote shard went away). */
int ks_xap_get_stats(ks_xap_db *db, ks_xap_stats *st, ks_err *err);

/* Collection statistics of one of our terms (field + analyzer bytes):
 * *df = documents containing it, *cf = total occurrences (either pointer
 * may be NULL). Both 0 when absent. Returns KS_OK, KS_EINVAL, KS_EXAPIAN. */
int ks_xap_term_stats(ks_xap_db *db, int field, const char *term,
                      size_t len, uint64_t *df, uint64_t *cf, ks_err *err);

/* What identifies the commit a sub-database of an open handle shows. */
typedef struct ks_xap_sub_info {
  int remote;             /* 1: a tcp:// shard */
  char uuid[48];          /* Xapian's UUID of the database ("" if the
                             backend has none); a rebuilt database has a
                             new one */
  uint64_t revision;      /* Xapian revision (local databases; 0 remote) */
  uint64_t commit_number; /* kosearch:commit metadata (0: absent) */
} ks_xap_sub_info;

/* Fill *info for sub-database i (0..shards-1) of `db`, as of the snapshot
 * `db` shows. Returns KS_OK, KS_EINVAL (no such sub-database),
 * KS_EXAPIAN (e.g. a remote shard went away). */
int ks_xap_sub_info_get(ks_xap_db *db, size_t i, ks_xap_sub_info *info,
                        ks_err *err);

/* Count the distinct terms of each field (walks Xapian's term list: cost
 * grows with the vocabulary; slow over remote shards). Either pointer may
 * be NULL. Returns KS_OK, KS_EINVAL, KS_ENOMEM, KS_EXAPIAN. */
int ks_xap_count_terms(ks_xap_db *db, uint64_t *words, uint64_t *bigrams,
                       ks_err *err);

/* ---- searching ----------------------------------------------------------- */

/* Clause operators (same values as the native query model). */
/* Clause operators KS_OP_*: kosearch/search.h. */

/* One query term: one Xapian leaf query with within-query frequency wqf.
 * BM25Weight scales a leaf by (k3 + 1) * wqf / (k3 + wqf) = 2 wqf/(1 + wqf)
 * with k3 = 1; pass a term twice with wqf 1 to count it linearly. */
typedef struct ks_xap_qterm {
  uint8_t field;      /* KS_FIELD_WORD or KS_FIELD_BIGRAM */
  const char *term;   /* analyzer bytes (borrowed for the call) */
  size_t len;         /* 1..KS_XAP_MAX_TERM */
  uint32_t wqf;       /* within-query frequency; 0 is read as 1 */
} ks_xap_qterm;

/* A clause (docs/xapian.md, "Query mapping").
 *  phrase = 0: matches a document containing ANY of its terms (OP_OR);
 *              e.g. a word's surface, stem and bigrams.
 *  phrase = 1: its terms in phrase order (OP_PHRASE); offsets[i] is the
 *              position of terms[i] relative to terms[0] (offsets[0] = 0,
 *              strictly increasing); offsets NULL means 0, 1, 2, ... With
 *              consecutive offsets the match is exact; with gaps Xapian can
 *              only check order within a window of last offset + 1
 *              positions (a superset; see docs/xapian.md). Phrase
 *              terms must be KS_FIELD_WORD (KS_EINVAL otherwise).
 *  phrase = 0, nalts >= 1 (a strict +/- word clause): scored by all its
 *              terms, but matches only where one of its alternatives
 *              does: terms[idx[0]], terms[idx[1]], ... at the relative
 *              positions offsets[] (one term, or a word's bigrams at
 *              consecutive positions: OP_PHRASE, exact).
 * Bigram-field terms are weighted by opts.bigram_weight (OP_SCALE_WEIGHT). */
typedef struct ks_xap_alt {
  const size_t *idx;           /* nterms indexes into the clause's terms */
  size_t nterms;               /* >= 1 */
  const uint32_t *offsets;     /* nterms offsets: 0 first, increasing */
} ks_xap_alt;

typedef struct ks_xap_clause {
  int op;                      /* KS_XAP_* */
  int phrase;                  /* 0: any term; 1: phrase */
  const ks_xap_qterm *terms;   /* nterms >= 1 (borrowed) */
  size_t nterms;
  const uint32_t *offsets;     /* phrase only; may be NULL */
  const ks_xap_alt *alts;      /* strict word clause only (borrowed) */
  size_t nalts;                /* 0: not strict */
} ks_xap_clause;

/* The native defaults (KS_DEFAULT_* in searcher/ks_srch.h), repeated here
 * because this header stands alone; tests/unit/test_xap_wrapper.c checks
 * that they agree. */
#define KS_XAP_DEFAULT_K1 0.6
#define KS_XAP_DEFAULT_B 0.25
#define KS_XAP_DEFAULT_BIGRAM_WEIGHT 1.0

typedef struct ks_xap_search_opts {
  uint32_t k;             /* hits to return (default 10; 0 = count only) */
  double k1;              /* BM25 k1 >= 0 (default KS_XAP_DEFAULT_K1) */
  double b;               /* BM25 b in [0, 1] (default KS_XAP_DEFAULT_B) */
  double min_normlen;     /* BM25Weight min_normlen >= 0 (default 0.5) */
  double bigram_weight;   /* factor of bigram terms >= 0 (default
                             KS_XAP_DEFAULT_BIGRAM_WEIGHT) */
  int exhaustive;         /* 1 (default): evaluate every matching document
                             (Xapian check_at_least = N): exact top-k and
                             exact match count. 0: Xapian's pruned matcher:
                             faster, estimated count, and with Xapian 1.4.22
                             top-k hits can be missed or misweighted
                             (docs/xapian.md); for benchmarks only */
} ks_xap_search_opts;

void ks_xap_search_opts_default(ks_xap_search_opts *o);

typedef struct ks_xap_results ks_xap_results;

/* Document matching: every REQUIRED clause, no EXCLUDED clause and, when
 * there is no required clause, at least one OPTIONAL clause. Score: sum
 * over the non-excluded clauses the document satisfies of Xapian's
 * BM25Weight(k1, 0, 1, b, min_normlen) leaf weights (docs/xapian.md gives
 * the formula and the exact Xapian query built).
 * Hits are sorted by score, then Xapian docid ascending. No clause, or only
 * excluded ones, gives zero hits. Returns KS_OK, KS_EINVAL (bad clause or
 * option; err says which), KS_ENOMEM, KS_EXAPIAN. Free *out with
 * ks_xap_results_free. On failure *out = NULL. */
int ks_xap_search(ks_xap_db *db, const ks_xap_clause *clauses,
                  size_t nclauses, const ks_xap_search_opts *opts,
                  ks_xap_results **out, ks_err *err);

typedef struct ks_xap_hit {
  uint64_t docid;   /* Xapian docid in the (combined) database */
  double score;     /* BM25Weight score */
  const char *id;   /* the document's own id (borrowed: valid until
                       ks_xap_results_free; not NUL-terminated) */
  size_t id_len;
} ks_xap_hit;

size_t ks_xap_results_count(const ks_xap_results *r);
/* Matching documents: exact when opts.exhaustive (lower == estimated ==
 * upper), else Xapian's bounds and estimate. Any pointer may be NULL. */
void ks_xap_results_matches(const ks_xap_results *r, uint64_t *lower,
                            uint64_t *estimated, uint64_t *upper);
/* i-th hit, best first. KS_OK or KS_EINVAL (i out of range). */
int ks_xap_results_hit(const ks_xap_results *r, size_t i, ks_xap_hit *hit);
/* The stored JSON of the i-th hit, NUL-terminated, in *json (length in
 * *len, may be NULL); free with ks_mem_free (ks_srch.h). Fetched on demand
 * (a round trip for a remote shard, unless already prefetched).
 * Returns KS_OK, KS_EINVAL, KS_ENOMEM, KS_EXAPIAN. */
int ks_xap_results_json(ks_xap_results *r, size_t i, char **json,
                        size_t *len, ks_err *err);
void ks_xap_results_free(ks_xap_results *r);  /* NULL allowed */

/* ---- by id, check ------------------------------------------------------- */

/* The stored JSON of the document whose id is `id`, NUL-terminated, in
 * *json (allocated with ks_mem_alloc: free with ks_mem_free; length in
 * *len, may be NULL). Returns KS_OK, KS_NOTFOUND (no such document),
 * KS_EINVAL, KS_ENOMEM, KS_EXAPIAN. */
int ks_xap_get(ks_xap_db *db, const char *id, size_t id_len, char **json,
               size_t *len, ks_err *err);

/* Run Xapian's own consistency check (Xapian::Database::check) on the
 * database in directory `path`; its report lines go to `report` (may be
 * NULL). Returns KS_OK, KS_ECORRUPT (errors found), KS_NOTFOUND, KS_EIO,
 * KS_EXAPIAN. */
int ks_xap_check(const char *path, void (*report)(void *ctx, const char *line),
                 void *ctx, ks_err *err);

#ifdef __cplusplus
}
#endif
#endif /* KS_XAP_H */
