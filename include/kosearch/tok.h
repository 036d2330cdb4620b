/*
 * kosearch/tok.h - the Korean analyzer, ks_tok_* (public, stable API).
 *
 * One analyzer serves documents and queries, so both sides produce the same
 * terms. Pipeline (see docs/analyzer.md):
 *   UTF-8 -> NFC -> ICU word break (UBRK_WORD; keeps word/number/letter/
 *   ideographic tokens) -> NFKC_Casefold per token -> Korean analysis:
 *     - SURFACE term: the casefolded token itself, field KS_FIELD_WORD;
 *     - STEM term: the token with a trailing particle/ending stripped
 *       (longest match, batchim rule, minimum stem length, exception list),
 *       emitted at the SAME position as the surface, only when it differs;
 *     - BIGRAM terms: overlapping Hangul syllable bigrams of the stem (or of
 *       the surface when there is no stem), field KS_FIELD_BIGRAM, with their
 *       own position counter.
 *     - COUNTER terms: a Hangul word glued to a number (1989년, 6월,
 *       1,500만) also yields number + its stem as one term ("1989년").
 *   A token that is only a particle and is glued to punctuation
 *   (e.g. "를" in "(MOU)를") is not indexed.
 *
 * Threading: a ks_tok holds ICU iterators and scratch buffers, so one
 * ks_tok must be used by one thread at a time. Create one per thread
 * (creation is cheap: a few microseconds).
 */
#ifndef KOSEARCH_TOK_H
#define KOSEARCH_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever the analyzer's output for some input changes. Stored in
 * the index manifest; the searcher refuses to mix versions. */
#define KS_TOK_VERSION 2

/* Fields. Stored as the first byte of every dictionary key. */
enum { KS_FIELD_WORD = 0, KS_FIELD_BIGRAM = 1, KS_NFIELDS = 2 };

/* Token kinds. */
enum {
  KS_KIND_SURFACE = 0,
  KS_KIND_STEM = 1,
  KS_KIND_BIGRAM = 2,
  KS_KIND_COUNTER = 3 /* a number and the Hangul counter written against it,
                         joined (1989년에 -> "1989년"), field KS_FIELD_WORD,
                         at the counter's position, after its surface and
                         stem; only when stems are on */
};

/* Why the text is analyzed. KS_TOK_QUERY is for the free-text (ranked OR)
 * words of a query: it produces the same terms as KS_TOK_DOCUMENT except
 * that question words (무엇, 누구, 어디에서, 몇년도 ...: see
 * docs/analyzer.md) produce none. The searcher analyzes phrases, +required
 * and -excluded clauses as documents, so nothing a user asks for
 * explicitly is dropped. */
enum { KS_TOK_DOCUMENT = 0, KS_TOK_QUERY = 1 };

/* One emitted term. Everything is borrowed: valid only during the callback. */
typedef struct ks_token {
  const char *term;  /* UTF-8, casefolded, NOT NUL-terminated */
  size_t len;        /* bytes in term (1..KS_TOK_MAX_TERM) */
  uint8_t field;     /* KS_FIELD_WORD or KS_FIELD_BIGRAM */
  uint8_t kind;      /* KS_KIND_* */
  uint32_t pos;      /* position in its field (0-based; stem = surface pos) */
  uint32_t word;     /* word-field position of the originating word token */
  size_t start, end; /* byte span of the originating word in the input */
} ks_token;

/* Longest term emitted, in bytes; longer tokens are truncated at a UTF-8
 * character boundary. */
#define KS_TOK_MAX_TERM 120

/* Callback: return 0 to continue; any other value stops analysis and is
 * returned by ks_tok_run. */
typedef int (*ks_tok_cb)(void *ctx, const ks_token *tok);

typedef struct ks_tok ks_tok;

/* Analyzer options; zero-initialise then ks_tok_config_default(). */
typedef struct ks_tok_config {
  int stems;       /* 1: emit STEM terms (default 1) */
  int bigrams;     /* 1: emit BIGRAM terms (default 1) */
  int min_stem;    /* minimum stem length in syllables (default 1) */
} ks_tok_config;

KS_API void ks_tok_config_default(ks_tok_config *cfg);

/* Create an analyzer. cfg may be NULL (defaults).
 * Returns KS_OK, KS_ENOMEM or KS_EICU; on failure *out = NULL.
 * Free with ks_tok_free. */
KS_API int ks_tok_new(const ks_tok_config *cfg, ks_tok **out, ks_err *err);

/* Free; NULL is allowed. */
KS_API void ks_tok_free(ks_tok *tok);

/* Analyze `len` bytes of UTF-8 `text` (need not be NUL-terminated) and call
 * cb for each term in text order (surface before its stem before its
 * bigrams). reason is KS_TOK_DOCUMENT or KS_TOK_QUERY.
 * Returns KS_OK, KS_EUTF8 (text is not valid UTF-8; nothing emitted),
 * KS_ENOMEM, KS_EICU, or the callback's non-zero value. */
KS_API int ks_tok_run(ks_tok *tok, int reason, const char *text, size_t len,
               ks_tok_cb cb, void *ctx, ks_err *err);

/* Check that text is valid UTF-8 (no overlongs, surrogates or > U+10FFFF).
 * Returns 1 if valid; else 0 and, if bad_offset is non-NULL, sets it to the
 * byte offset of the first invalid sequence. */
KS_API int ks_utf8_valid(const char *text, size_t len, size_t *bad_offset);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_TOK_H */
