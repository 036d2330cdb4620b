/*
 * korean.c - Korean word analysis (korean_int.h): stem by stripping one
 * trailing particle/ending, and recognise lone particles.
 *
 * Input words are casefolded UTF-16 whose every unit is a precomposed Hangul
 * syllable, so one unit is one syllable and the batchim (final consonant)
 * of a syllable is arithmetic on its code point.
 *
 * Lookup: ks_ko_suffixes is sorted by reversed text, so the entries that end
 * in a given syllable form one contiguous run. A direct index from each of
 * the 11,172 syllables to its run (built once, on first use, under
 * pthread_once) finds it in O(1); the run (at most ~16 entries) is scanned
 * for the entries that match the end of the word. Exceptions are looked up
 * in an open-addressing hash table over the sorted array (built in the same
 * one-time initialisation), only when something was stripped. Nothing here
 * allocates; all functions are thread-safe.
 */
#include "korean_int.h"

#include <pthread.h>
#include <string.h>

#define NSYL (KS_KO_SYL_LAST - KS_KO_SYL_FIRST + 1)

static uint16_t run_first[NSYL]; /* first entry ending in the syllable */
static uint8_t run_count[NSYL];  /* number of such entries (0: none) */
static pthread_once_t run_once = PTHREAD_ONCE_INIT;

#define EXC_SLOTS 2048u           /* power of two, > 4x the exception count */
static uint16_t exc_slot[EXC_SLOTS]; /* 0: empty, else exception index + 1 */

static inline uint32_t word_hash(const uint16_t *w, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a over code units */
  for (size_t i = 0; i < n; i++) h = (h ^ w[i]) * 16777619u;
  return h ^ (h >> 15);
}

static void build_run_index(void) {
  for (size_t i = 0; i < ks_ko_nexceptions && i < EXC_SLOTS / 2; i++) {
    const ks_ko_word *e = &ks_ko_exceptions[i];
    uint16_t buf[64];
    if (e->len > 64) continue; /* rejected by ks_ko_check_tables */
    for (size_t k = 0; k < e->len; k++) buf[k] = (uint16_t)e->text[k];
    uint32_t h = word_hash(buf, e->len);
    while (exc_slot[h & (EXC_SLOTS - 1)]) h++;
    exc_slot[h & (EXC_SLOTS - 1)] = (uint16_t)(i + 1);
  }
  for (size_t i = 0; i < ks_ko_nsuffixes; i++) {
    uint32_t c = (uint32_t)ks_ko_suffixes[i].text[ks_ko_suffixes[i].len - 1];
    if (!ks_ko_is_syllable(c) || i > UINT16_MAX) continue; /* check_tables */
    c -= KS_KO_SYL_FIRST;
    if (run_count[c] == 0) run_first[c] = (uint16_t)i;
    if (run_count[c] < UINT8_MAX) run_count[c]++;
  }
}

/* The run of suffix entries whose last syllable is c: [*first, *end). */
static inline void suffix_run(uint16_t c, size_t *first, size_t *end) {
  pthread_once(&run_once, build_run_index);
  if (!ks_ko_is_syllable(c)) {
    *first = *end = 0;
    return;
  }
  *first = run_first[c - KS_KO_SYL_FIRST];
  *end = *first + run_count[c - KS_KO_SYL_FIRST];
}

/* 1 if entry s is exactly the end of w[0..n). */
static int suffix_matches(const ks_ko_suffix *s, const uint16_t *w, size_t n) {
  if (s->len > n) return 0;
  const uint16_t *tail = w + (n - s->len);
  for (size_t i = 0; i < s->len; i++)
    if (tail[i] != (uint16_t)s->text[i]) return 0;
  return 1;
}

/* Batchim condition `cond` holds for the syllable before the suffix. */
static int cond_holds(unsigned cond, uint16_t prev) {
  unsigned f = ks_ko_final(prev);
  switch (cond) {
    case KS_KO_AFTER_FINAL: return f != 0;
    case KS_KO_AFTER_OPEN: return f == 0;
    case KS_KO_AFTER_OPEN_L: return f == 0 || f == KS_KO_FINAL_RIEUL;
    case KS_KO_AFTER_FINAL_NL: return f != 0 && f != KS_KO_FINAL_RIEUL;
    default: return 1;
  }
}

/* Compare w[0..n) with exception e in code unit order. */
static int word_cmp(const uint16_t *w, size_t n, const ks_ko_word *e) {
  size_t m = n < e->len ? n : e->len;
  for (size_t i = 0; i < m; i++) {
    uint16_t c = (uint16_t)e->text[i];
    if (w[i] != c) return w[i] < c ? -1 : 1;
  }
  return n < e->len ? -1 : (n > e->len ? 1 : 0);
}

/* 1 if w[0..n) is an exception word (hash table; initialised by the
 * suffix_run() call that always precedes it). */
static int is_exception(const uint16_t *w, size_t n) {
  for (uint32_t h = word_hash(w, n);; h++) {
    uint16_t slot = exc_slot[h & (EXC_SLOTS - 1)];
    if (slot == 0) return 0;
    if (word_cmp(w, n, &ks_ko_exceptions[slot - 1]) == 0) return 1;
  }
}

/* ks_ko_stem: see korean_int.h. */
size_t ks_ko_stem(const uint16_t *w, size_t n, int min_stem) {
  if (n < 2) return n;
  size_t min = min_stem < 1 ? 1 : (size_t)min_stem;
  uint16_t last = w[n - 1];
  size_t best = 0;      /* length of the longest valid strip */
  size_t block = 0;     /* length of the longest matching BLOCK entry */
  unsigned valid = 0;   /* bit L set: a valid strip of length L exists */
  size_t i, end;
  for (suffix_run(last, &i, &end); i < end; i++) {
    const ks_ko_suffix *s = &ks_ko_suffixes[i];
    if (!suffix_matches(s, w, n)) continue;
    if (s->len == n) return n; /* the word is itself a particle/ending */
    if (s->flags & KS_KO_BLOCK) {
      if (s->len > block) block = s->len;
      continue;
    }
    if (!(s->flags & KS_KO_STRIP)) continue;
    size_t k = n - s->len;
    size_t need = s->min_stem > min ? s->min_stem : min;
    if (k < need || !cond_holds(s->cond, w[k - 1])) continue;
    valid |= 1u << s->len;
    if (s->len > best) best = s->len;
  }
  if (best == 0 || block > best) return n;
  /* A longer prefix that is an exception word wins, if what follows it is
   * nothing or a valid strip (회의 -> 회의; 정도로: 로 -> 정도, fine). */
  for (size_t j = n; j > n - best; j--) {
    size_t rest = n - j;
    if (rest != 0 && !(valid & (1u << rest))) continue;
    if (is_exception(w, j)) return j;
  }
  return n - best;
}

/* ks_ko_is_orphan_particle: see korean_int.h. */
int ks_ko_is_orphan_particle(const uint16_t *w, size_t n) {
  if (n == 0 || n > KS_KO_SUFFIX_MAX) return 0;
  uint16_t last = w[n - 1];
  size_t i, end;
  for (suffix_run(last, &i, &end); i < end; i++) {
    const ks_ko_suffix *s = &ks_ko_suffixes[i];
    if (s->len == n && (s->flags & KS_KO_ORPHAN) && suffix_matches(s, w, n))
      return 1;
  }
  return 0;
}

/* Reversed-string comparison of two suffix entries. */
static int suffix_cmp_rev(const ks_ko_suffix *a, const ks_ko_suffix *b) {
  size_t m = a->len < b->len ? a->len : b->len;
  for (size_t i = 1; i <= m; i++) {
    uint16_t x = (uint16_t)a->text[a->len - i], y = (uint16_t)b->text[b->len - i];
    if (x != y) return x < y ? -1 : 1;
  }
  return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

/* ks_ko_is_question_word: see korean_int.h. */
int ks_ko_is_question_word(const uint16_t *w, size_t n) {
  static const uint16_t myeot = 0xBA87; /* 몇 */
  if (n == 0) return 0;
  if (w[0] == myeot && n >= 2) return !(n == 2 && w[1] == myeot);
  size_t lo = 0, hi = ks_ko_nquestion_words;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = word_cmp(w, n, &ks_ko_question_words[mid]);
    if (c == 0) return 1;
    if (c < 0) hi = mid;
    else lo = mid + 1;
  }
  return 0;
}

static int all_syllables(const char16_t *t, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++)
    if (!ks_ko_is_syllable((uint32_t)t[i])) return 0;
  return t[len] == 0;
}

/* 0 if the word table t[0..n) is Hangul only and strictly sorted, else
 * the 1-based index of the first bad entry. */
static size_t check_words(const ks_ko_word *t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const ks_ko_word *e = &t[i];
    if (e->len > 64 || !all_syllables(e->text, e->len)) return i + 1;
    if (i > 0) {
      const ks_ko_word *p = &t[i - 1];
      uint16_t buf[64];
      if (p->len > 64) return i + 1;
      for (size_t k = 0; k < p->len; k++) buf[k] = (uint16_t)p->text[k];
      if (word_cmp(buf, p->len, e) >= 0) return i + 1;
    }
  }
  return 0;
}

/* ks_ko_check_tables: see korean_int.h. */
size_t ks_ko_check_tables(void) {
  if (ks_ko_nsuffixes > UINT16_MAX) return ks_ko_nsuffixes;
  if (ks_ko_nexceptions >= EXC_SLOTS / 2) return ks_ko_nsuffixes + ks_ko_nexceptions;
  for (size_t i = 0; i < ks_ko_nsuffixes; i++) {
    const ks_ko_suffix *s = &ks_ko_suffixes[i];
    if (s->len > KS_KO_SUFFIX_MAX || !all_syllables(s->text, s->len) ||
        s->cond > KS_KO_AFTER_FINAL_NL || s->min_stem < 1 ||
        (s->flags & ~(unsigned)(KS_KO_STRIP | KS_KO_ORPHAN | KS_KO_BLOCK)) ||
        !s->flags || ((s->flags & KS_KO_BLOCK) && s->flags != KS_KO_BLOCK))
      return i + 1;
    if (i > 0 && suffix_cmp_rev(&ks_ko_suffixes[i - 1], s) >= 0) return i + 1;
  }
  size_t bad = check_words(ks_ko_exceptions, ks_ko_nexceptions);
  if (bad) return ks_ko_nsuffixes + bad;
  bad = check_words(ks_ko_question_words, ks_ko_nquestion_words);
  if (bad) return ks_ko_nsuffixes + ks_ko_nexceptions + bad;
  return 0;
}
