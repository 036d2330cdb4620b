/*
 * ks_oracle.h - a brute-force BM25 oracle shared by the C tests
 * (test_bm25_oracle.c, test_live_oracle.c, test_live_fresh.c): random
 * Korean-ish documents and queries, and an independent scorer.
 *
 * The oracle uses only the analyzer (ks_tok_run) to turn strings into
 * terms. Everything else - tf, df, field lengths, N, avgdl, idf, clause
 * matching, phrase positions, BM25 (KS_RANK_BM25, docs/ranking.md) - is
 * recomputed here from plain arrays, without any searcher internals.
 *
 * Failures inside the oracle itself (out of memory, analyzer errors) abort
 * the process with a message: the oracle is test code, not the subject.
 */
#ifndef KS_ORACLE_H
#define KS_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/tok.h"

/* ---- PRNG (xorshift64*) ------------------------------------------------- */

typedef struct ks_rng {
  uint64_t s;             /* never 0 */
} ks_rng;

/* Seed r from (seed, stream): distinct streams give unrelated sequences. */
void ks_rng_seed(ks_rng *r, uint64_t seed, uint64_t stream);
uint64_t ks_rng_next(ks_rng *r);
/* Uniform in [0, n), n >= 1. */
int ks_rng_below(ks_rng *r, int n);
/* Uniform in [0, 1). */
double ks_rng_unit(ks_rng *r);

/* ---- terms and documents ----------------------------------------------- */

/* Interned terms: field byte + term bytes. */
typedef struct ks_orc {
  char **key;
  size_t *len;
  int n, cap;
  ks_tok *tok;            /* the analyzer (owned) */
} ks_orc;

/* One analyzed occurrence. */
typedef struct ks_orc_tok {
  int term;
  int field;
  int part;               /* 0 title, 1 text */
  uint32_t pos;
} ks_orc_tok;

/* term -> tf, sorted by term (for binary search). */
typedef struct ks_orc_tf {
  int term;
  uint32_t tf;
} ks_orc_tf;

typedef struct ks_orc_doc {
  char id[64];
  char *title;            /* may be NULL (malloc'ed) */
  char *text;             /* malloc'ed */
  char **words;           /* the text's words, for phrase queries */
  int nwords;
  int live;               /* used by ks_orc_run when no live[] is given */
  ks_orc_tok *toks;
  int ntoks, toks_cap;
  ks_orc_tf *tfs;         /* distinct terms with their tf */
  int ntfs;
  uint32_t dl[KS_NFIELDS];
} ks_orc_doc;

/* Create the oracle with the analyzer configured by cfg (NULL: defaults). */
void ks_orc_init(ks_orc *o, const ks_tok_config *cfg);
/* Free the term table and the analyzer. */
void ks_orc_free(ks_orc *o);
/* Forget every interned term (documents analyzed before become invalid). */
void ks_orc_reset_terms(ks_orc *o);
/* The field of an interned term (KS_FIELD_*). */
int ks_orc_term_field(const ks_orc *o, int term);

/* A random word: a Zipf-like noun with a random particle, or now and then
 * a Latin, numeric or mixed token; cap >= 128. */
void ks_orc_random_word(ks_rng *r, char *out, size_t cap);
/* Fill d's title/text/words with a random document (the id is the
 * caller's): one in twenty long, one in twenty without any indexable term,
 * a title one time in three. Frees nothing: d must be zeroed or freed. */
void ks_orc_random_doc(ks_rng *r, ks_orc_doc *d);
/* Analyze d's title (part 0) and text (part 1) into toks, tfs and dl,
 * as the writer does (ks_doc_analyze: title first, text after a gap). */
void ks_orc_analyze_doc(ks_orc *o, ks_orc_doc *d);
/* Free d's strings and analysis and zero it (the id is kept). */
void ks_orc_doc_free(ks_orc_doc *d);
/* Deep copy of src into dst (dst is overwritten). */
void ks_orc_doc_copy(ks_orc_doc *dst, const ks_orc_doc *src);
/* tf of `term` in d. */
uint32_t ks_orc_tf_of(const ks_orc_doc *d, int term);

/* ---- queries ------------------------------------------------------------ */

enum { KS_ORC_OPT = 0, KS_ORC_REQ = 1, KS_ORC_EXC = 2 };

typedef struct ks_orc_clause {
  int op, phrase;
  char body[256];
  /* word clause: distinct terms with counts; phrase: base terms in order */
  int terms[256];
  int qtf[256];
  double idf[256];        /* filled by ks_orc_run */
  int nterms;
  int base[64];
  uint32_t offset[64];
  int nbase;
  /* +/- word clause (docs/query.md): its word-field terms, and its
   * bigrams with their word and bigram position */
  int wterm[256];
  int nwterm;
  int bterm[256];
  uint32_t bword[256], bpos[256];
  int nbterm;
} ks_orc_clause;

typedef struct ks_orc_params {
  double k1, b, bw;       /* bw: bigram_weight */
} ks_orc_params;

typedef struct ks_orc_scored {
  int doc;                /* index into the documents */
  double score;
} ks_orc_scored;

/* A random query of 1-4 clauses (words, phrases - often taken from a
 * document's text -, +required, -excluded, now and then a clause without
 * an indexable term) into cl[] (room for 4) and its text into q. Returns
 * the number of clauses. Phrases are drawn from docs[] (ndocs >= 1, or 0:
 * random words only). */
int ks_orc_make_query(ks_rng *r, const ks_orc_doc *docs, int ndocs,
                      ks_orc_clause *cl, char *q, size_t qcap);
/* Analyze a clause's body as the searcher does (docs/query.md). */
void ks_orc_analyze_clause(ks_orc *o, ks_orc_clause *c);
/* 1 if the clause matches d. */
int ks_orc_clause_matches(const ks_orc_clause *c, const ks_orc_doc *d);

/* Brute force: every matching live document with its score, sorted by
 * score (descending), then document index, in out[] (room for ndocs).
 * Live documents: those with live[i] != 0, or docs[i].live when live is
 * NULL. Returns the number of matches. Fills the clauses' idf. */
int ks_orc_run(const ks_orc *o, const ks_orc_doc *docs, int ndocs,
               const unsigned char *live, ks_orc_clause *cl, int ncl,
               const ks_orc_params *p, ks_orc_scored *out);

/* |a - b| <= rel * max(|a|, |b|) + 1e-12. */
int ks_orc_close(double a, double b, double rel);

/* Append s to out as a JSON string (quotes and escapes included); out has
 * room for cap bytes. Returns the new length, or cap when it does not fit. */
size_t ks_orc_json_string(char *out, size_t len, size_t cap, const char *s);

#endif /* KS_ORACLE_H */
