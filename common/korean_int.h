/*
 * korean_int.h - Korean word analysis used by the analyzer (internal).
 *
 * The analyzer (common/analyzer.c) hands this module one casefolded word
 * token at a time as UTF-16 code units. Everything here works on precomposed
 * Hangul syllables (U+AC00..U+D7A3), where one code unit is one syllable, so
 * "length" below always means syllables. See docs/analyzer.md for the rules
 * and their rationale.
 *
 * Sections:
 *   korean.c       stemming (particle/ending stripping), orphan particles
 *   korean_data.c  the data tables (suffix list, exception list)
 */
#ifndef KS_KOREAN_INT_H
#define KS_KOREAN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uchar.h>

/* ---- Hangul syllable helpers ------------------------------------------ */

#define KS_KO_SYL_FIRST 0xAC00u /* 가 */
#define KS_KO_SYL_LAST 0xD7A3u  /* 힣 */
#define KS_KO_FINAL_RIEUL 8u    /* index of final ㄹ in the 28 finals */

/* 1 if c is a precomposed Hangul syllable. */
static inline int ks_ko_is_syllable(uint32_t c) {
  return c >= KS_KO_SYL_FIRST && c <= KS_KO_SYL_LAST;
}

/* Final consonant (batchim) index of syllable c: 0 = none, 1..27 = the
 * jongseong in Unicode order (8 = ㄹ). c must be a syllable. */
static inline unsigned ks_ko_final(uint32_t c) {
  return (unsigned)((c - KS_KO_SYL_FIRST) % 28u);
}

/* ---- korean_data.c: tables -------------------------------------------- */

/* Batchim condition on the last syllable of the stem. */
enum {
  KS_KO_AFTER_ANY = 0,      /* any syllable (의, 에, 도, 까지 ...) */
  KS_KO_AFTER_FINAL = 1,    /* has a final consonant (은, 이, 을, 과 ...) */
  KS_KO_AFTER_OPEN = 2,     /* no final consonant (는, 가, 를, 와 ...) */
  KS_KO_AFTER_OPEN_L = 3,   /* no final, or final ㄹ (로, 로서 ...) */
  KS_KO_AFTER_FINAL_NL = 4  /* final other than ㄹ (으로, 으로서 ...) */
};

/* Entry flags. */
enum {
  KS_KO_STRIP = 1,  /* stripped from the end of a word to form its stem */
  KS_KO_ORPHAN = 2, /* a lone token equal to it, glued to closing punctuation
                       or to a non-Hangul word, is not indexed */
  KS_KO_BLOCK = 4   /* an ending that merely ends like a particle (있지만):
                       when it is the longest match, nothing is stripped */
};

/* One particle or ending. */
typedef struct ks_ko_suffix {
  const char16_t *text; /* Hangul syllables (NUL-terminated literal) */
  uint8_t len;          /* syllables in text (1..KS_KO_SUFFIX_MAX) */
  uint8_t cond;         /* KS_KO_AFTER_* */
  uint8_t flags;        /* KS_KO_STRIP | KS_KO_ORPHAN | KS_KO_BLOCK */
  uint8_t min_stem;     /* this entry's own minimum stem length */
} ks_ko_suffix;

/* One exception: a word that merely ends like a particle/ending. */
typedef struct ks_ko_word {
  const char16_t *text; /* Hangul syllables (NUL-terminated literal) */
  uint8_t len;          /* syllables */
} ks_ko_word;

#define KS_KO_SUFFIX_MAX 4 /* longest entry in ks_ko_suffixes */

/* Sorted by the REVERSED text (code unit order), so that all entries that
 * end in the same syllable are adjacent. */
extern const ks_ko_suffix ks_ko_suffixes[];
extern const size_t ks_ko_nsuffixes;

/* Sorted by text (code unit order). */
extern const ks_ko_word ks_ko_exceptions[];
extern const size_t ks_ko_nexceptions;

/* Question words (see korean_data.c), sorted by text (code unit order). */
extern const ks_ko_word ks_ko_question_words[];
extern const size_t ks_ko_nquestion_words;

/* ---- korean.c: analysis ----------------------------------------------- */

/* Stem of the all-Hangul word w[0..n) (every unit a syllable, n >= 1):
 * returns the stem length k (1 <= k <= n); k == n means "no stem" (nothing
 * stripped). Rules, in order:
 *   - a word that is itself a list entry keeps no stem;
 *   - the longest KS_KO_STRIP entry that ends w, satisfies its batchim
 *     condition and leaves at least max(min_stem, entry.min_stem)
 *     syllables is stripped, unless a longer KS_KO_BLOCK entry ends w;
 *   - unless a longer prefix w[0..j) (j > k) is an exception word and
 *     w[j..n) is empty or itself a valid strip: then the stem is w[0..j).
 * min_stem < 1 is treated as 1. Pure function, thread-safe. */
size_t ks_ko_stem(const uint16_t *w, size_t n, int min_stem);

/* 1 if the all-Hangul word w[0..n) equals a KS_KO_ORPHAN entry (a particle
 * that is dropped when glued to punctuation), else 0. */
int ks_ko_is_orphan_particle(const uint16_t *w, size_t n);

/* 1 if the all-Hangul stem w[0..n) is a question word that a query drops:
 * a ks_ko_question_words entry, or 몇 followed by one or more syllables
 * other than 몇몇 (몇년도, 몇개). Pure function, thread-safe. */
int ks_ko_is_question_word(const uint16_t *w, size_t n);

/* Self-check of the tables (order, lengths, Hangul only). Returns 0 when
 * they are well-formed, else the 1-based index of the first bad entry
 * (suffixes first, then exceptions offset by ks_ko_nsuffixes, then question
 * words offset by both). Used by the
 * unit tests. */
size_t ks_ko_check_tables(void);

#endif /* KS_KOREAN_INT_H */
