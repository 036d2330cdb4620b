/*
 * analyzer.c - implements kosearch/tok.h: the Korean analyzer pipeline.
 *
 *   UTF-8 --validate--> UTF-16 --NFC--> UBRK_WORD --keep status >= 100-->
 *   NFKC_Casefold per token --> SURFACE (+ STEM, korean.c) (+ BIGRAMs)
 *
 * Rules and rationale: docs/analyzer.md. Data tables: korean_data.c.
 *
 * Invariants:
 *   - Nothing is emitted for invalid UTF-8 (validated before anything else).
 *   - Byte spans (ks_token.start/end) are offsets into the caller's input.
 *     When the input is already NFC (checked with
 *     unorm2_spanQuickCheckYes; the common case) the NFC text is the UTF-16
 *     conversion itself and offsets are recovered by a forward-only cursor
 *     that adds up UTF-8 lengths. Otherwise the text is normalised piece by
 *     piece (quick-check-YES runs are copied, the rest is normalised between
 *     normalisation boundaries) and every normalised UTF-16 unit records
 *     the input byte range of the piece it came from.
 *   - No allocation per token: every scratch buffer lives in the ks_tok
 *     and only grows (buffers above KS_TOK_KEEP_BYTES are released at the
 *     end of a run so one huge document does not pin memory).
 *   - Terms passed to the callback are at most KS_TOK_MAX_TERM bytes, cut
 *     at a UTF-8 character boundary.
 *
 * Fast paths (docs/analyzer.md, "Speed"): tokens made only of ASCII and
 * precomposed Hangul syllables skip NFKC_Casefold (for them it is ASCII
 * lowercasing and the identity); one break iterator is reused through
 * ubrk_setText; the orphan-particle context is only computed for tokens
 * that are particles.
 */
#include <stdint.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "korean_int.h"
#include "ks_alloc.h"
#include "kosearch/error.h"
#include "kosearch/tok.h"

/* Largest input accepted by one ks_tok_run (ICU lengths are int32_t). */
#define KS_TOK_MAX_INPUT ((size_t)INT32_MAX - 1)
/* Scratch buffers larger than this are freed after each run. */
#define KS_TOK_KEEP_BYTES ((size_t)8 << 20)

struct ks_tok {
  ks_tok_config cfg;           /* validated options */
  UBreakIterator *brk;         /* UBRK_WORD iterator, reused via setText */
  const UNormalizer2 *nfc;     /* shared ICU singleton, not owned */
  const UNormalizer2 *nfkc_cf; /* shared ICU singleton, not owned */
  UChar *u16;                  /* the input as UTF-16 */
  size_t u16_cap;              /* units allocated in u16 */
  UChar *norm;                 /* NFC text when the input is not NFC */
  size_t norm_cap;             /* units allocated in norm */
  uint32_t *map_start;         /* per norm unit: input byte where it starts */
  uint32_t *map_end;           /* per norm unit: input byte where it ends */
  size_t map_cap;              /* entries allocated in map_start/map_end */
  UChar *fold;                 /* NFKC_Casefold of the current token */
  size_t fold_cap;             /* units allocated in fold */
  char *term;                  /* UTF-8 of the current (folded) token */
  size_t term_cap;             /* bytes allocated in term */
  uint32_t *off;               /* byte offset in term of each folded unit */
  size_t off_cap;              /* entries allocated in off */
  char num[24];                /* UTF-8 of the last number token ... */
  size_t num_len;              /* ... and its length (0: too long to join) */
};

/* Context of the text directly before a word token (orphan rule). */
enum { PREV_START, PREV_SPACE_OR_PUNCT, PREV_HANGUL, PREV_NUMBER, PREV_OTHER };

/* ---- small helpers ------------------------------------------------------ */

/* Grow *p (elements of `elem` bytes) to hold at least `need` elements. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return KS_OK;
  size_t n = *cap ? *cap : 64;
  while (n < need) n *= 2;
  if (n > SIZE_MAX / elem) return KS_ENOMEM;
  void *q = ks_realloc(*p, n * elem);
  if (!q) return KS_ENOMEM;
  *p = q;
  *cap = n;
  return KS_OK;
}

static void release_if_big(void **p, size_t *cap, size_t elem) {
  if (*cap * elem > KS_TOK_KEEP_BYTES) {
    ks_free(*p);
    *p = NULL;
    *cap = 0;
  }
}

/* UTF-8 length of the code point starting at u[i] (u has n units); sets
 * *units to 1 or 2. Input UTF-16 comes from validated UTF-8, so surrogates
 * are always paired. */
static inline uint32_t utf8_len_at(const UChar *u, int32_t i, int32_t n,
                                   int32_t *units) {
  UChar c = u[i];
  *units = 1;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (U16_IS_LEAD(c) && i + 1 < n && U16_IS_TRAIL(u[i + 1])) {
    *units = 2;
    return 4;
  }
  return 3;
}

/* Longest prefix of term[0..len) that is <= max bytes and ends on a
 * character boundary. */
static size_t utf8_trunc(const char *term, size_t len, size_t max) {
  if (len <= max) return len;
  size_t k = max;
  while (k > 0 && ((unsigned char)term[k] & 0xC0) == 0x80) k--;
  return k;
}

/* Encode w[0..n) as UTF-8 into term, lowercasing ASCII A-Z (a no-op after
 * NFKC_Casefold, the fold itself on the fast path); off[i] = byte offset of
 * unit i, off[n] = total length. term must have room for 3*n bytes. */
static size_t encode_utf8(const UChar *w, size_t n, char *term, uint32_t *off) {
  size_t b = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = w[i];
    off[i] = (uint32_t)b;
    if (c < 0x80) {
      if (c - 'A' < 26u) c += 32;
      term[b++] = (char)c;
    } else if (c < 0x800) {
      term[b++] = (char)(0xC0 | (c >> 6));
      term[b++] = (char)(0x80 | (c & 0x3F));
    } else if (U16_IS_LEAD(c) && i + 1 < n && U16_IS_TRAIL(w[i + 1])) {
      uint32_t cp = U16_GET_SUPPLEMENTARY(c, w[i + 1]);
      term[b++] = (char)(0xF0 | (cp >> 18));
      term[b++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      term[b++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      term[b++] = (char)(0x80 | (cp & 0x3F));
      off[++i] = (uint32_t)b; /* the trail unit: never a cut point */
    } else {
      term[b++] = (char)(0xE0 | (c >> 12));
      term[b++] = (char)(0x80 | ((c >> 6) & 0x3F));
      term[b++] = (char)(0x80 | (c & 0x3F));
    }
  }
  off[n] = (uint32_t)b;
  return b;
}

/* Validate and convert UTF-8 s[0..len) to UTF-16 in one pass (the same
 * rules as ks_utf8_valid: no overlongs, surrogates, > U+10FFFF or truncated
 * sequences). out must hold len units. Returns the number of units, or -1
 * with *bad = byte offset of the first invalid sequence. */
static int64_t utf8_to_utf16(const uint8_t *s, size_t len, UChar *out,
                             size_t *bad) {
  size_t i = 0;
  int64_t o = 0;
  while (i < len) {
    uint32_t c = s[i];
    if (c < 0x80) {
      /* ASCII run: 8 bytes at a time while they are all ASCII */
      while (len - i >= 8) {
        uint64_t w8;
        memcpy(&w8, s + i, 8);
        if (w8 & UINT64_C(0x8080808080808080)) break;
        for (int k = 0; k < 8; k++) out[o + k] = s[i + k];
        o += 8;
        i += 8;
      }
      if (i < len && s[i] < 0x80) out[o++] = s[i++];
      continue;
    }
    if (c >= 0xE1 && c <= 0xEC && len - i >= 3) { /* Hangul and most BMP */
      uint32_t c1 = s[i + 1], c2 = s[i + 2];
      if ((c1 & 0xC0) == 0x80 && (c2 & 0xC0) == 0x80) {
        out[o++] = (UChar)(((c & 0x0F) << 12) | ((c1 & 0x3F) << 6) | (c2 & 0x3F));
        i += 3;
        continue;
      }
      goto fail;
    }
    size_t need;
    uint32_t lo = 0x80, hi = 0xBF, cp;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      cp = c & 0x0F;
      if (c == 0xE0) lo = 0xA0;
      else if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      cp = c & 0x07;
      if (c == 0xF0) lo = 0x90;
      else if (c == 0xF4) hi = 0x8F;
    } else {
      goto fail;
    }
    if (len - i <= need || s[i + 1] < lo || s[i + 1] > hi) goto fail;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) goto fail;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp >= 0x10000) {
      out[o++] = U16_LEAD(cp);
      out[o++] = U16_TRAIL(cp);
    } else {
      out[o++] = (UChar)cp;
    }
    i += need + 1;
  }
  return o;
fail:
  *bad = i;
  return -1;
}

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Number tokens: drop thousands separators so that "1,500" and "1500" are
 * the same term. Only the exact pattern d{1,3}(,ddd)+ optionally followed
 * by .d+ is rewritten; anything else ("1,2,3", "12,34") is left as ICU
 * gave it. Returns the new length. */
static size_t strip_digit_groups(char *t, size_t len) {
  size_t i = 0;
  while (i < len && is_digit(t[i])) i++;
  if (i == 0 || i > 3 || i == len || t[i] != ',') return len;
  while (i < len && t[i] == ',') {
    if (len - i < 4 || !is_digit(t[i + 1]) || !is_digit(t[i + 2]) ||
        !is_digit(t[i + 3]))
      return len;
    i += 4;
    if (i < len && is_digit(t[i])) return len; /* group of 4+ digits */
  }
  if (i < len) {
    if (t[i] != '.' || i + 1 == len) return len;
    for (size_t j = i + 1; j < len; j++)
      if (!is_digit(t[j])) return len;
  }
  size_t o = 0;
  for (size_t j = 0; j < len; j++)
    if (t[j] != ',') t[o++] = t[j];
  return o;
}

/* 1 if code point c, directly before a particle token, glues the particle
 * to a preceding expression: closing brackets/quotes, a closing ASCII
 * quote (one that follows a non-space), '.' after a Latin letter ("U.S.를"),
 * and unit/suffix symbols (50%를, C++를, 왜?라고). Opening punctuation,
 * middle dots, commas, slashes and dashes separate list items and words
 * (금·은·동, 가,나), so they do not. `before` is the code point before c,
 * or -1 at the start of the text. */
static int glues_particle(UChar32 c, UChar32 before) {
  int8_t type = u_charType(c);
  if (type == U_END_PUNCTUATION || type == U_FINAL_PUNCTUATION) return 1;
  switch (c) {
    case '"': case '\'': case 0xFF02: case 0xFF07:
      if (before < 0 || u_isUWhiteSpace(before)) return 0;
      type = u_charType(before);
      return type != U_START_PUNCTUATION && type != U_INITIAL_PUNCTUATION;
    case '.':
      return before >= 0 && before < 0x80 && u_isalpha(before);
    case '%': case 0xFF05: case 0x2030: case 0x00B0: case 0x2103:
    case 0x2109: case '+': case 0xFF0B: case '#': case '?': case '!':
    case 0xFF1F: case 0xFF01:
      return 1;
    default:
      return 0;
  }
}

/* ---- NFC with an offset map ------------------------------------------- */

/* Make room for `need` entries in both offset maps (same capacity). */
static int grow_maps(ks_tok *t, size_t need) {
  if (need <= t->map_cap) return KS_OK;
  size_t n = t->map_cap ? t->map_cap : 64;
  while (n < need) n *= 2;
  if (n > SIZE_MAX / sizeof(uint32_t)) return KS_ENOMEM;
  uint32_t *a = ks_realloc(t->map_start, n * sizeof(uint32_t));
  if (!a) return KS_ENOMEM;
  t->map_start = a;
  uint32_t *b = ks_realloc(t->map_end, n * sizeof(uint32_t));
  if (!b) return KS_ENOMEM; /* map_start is larger than map_cap: harmless */
  t->map_end = b;
  t->map_cap = n;
  return KS_OK;
}

/* Normalise u[0..n) (not NFC) into t->norm, filling map_start/map_end with
 * the input byte range each normalised unit came from: quick-check-YES runs
 * are copied unit by unit (exact ranges); each remaining piece, from one
 * normalisation boundary to the next, is normalised on its own and all its
 * output units get the whole piece's range. *out_n = normalised length. */
static int build_nfc(ks_tok *t, const UChar *u, int32_t n, int32_t *out_n,
                     ks_err *err) {
  UErrorCode e = U_ZERO_ERROR;
  size_t nn = 0;      /* units written to norm */
  int32_t pos = 0;    /* position in u, always at a normalisation boundary */
  uint32_t byte = 0;  /* input byte offset of u[pos] */
  while (pos < n) {
    int32_t span = unorm2_spanQuickCheckYes(t->nfc, u + pos, n - pos, &e);
    if (U_FAILURE(e)) goto icu_fail;
    if (grow((void **)&t->norm, &t->norm_cap, nn + (size_t)span, sizeof(UChar)) ||
        grow_maps(t, nn + (size_t)span))
      goto nomem;
    int32_t stop = pos + span;
    while (pos < stop) {
      int32_t units;
      uint32_t bl = utf8_len_at(u, pos, n, &units);
      for (int32_t k = 0; k < units; k++) {
        t->norm[nn] = u[pos + k];
        t->map_start[nn] = byte;
        t->map_end[nn] = byte + bl;
        nn++;
      }
      pos += units;
      byte += bl;
    }
    if (pos >= n) break;
    /* The piece [pos, q) ends before the next character that has a
     * normalisation boundary before it. */
    uint32_t piece_start = byte;
    int32_t q = pos, units;
    byte += utf8_len_at(u, q, n, &units);
    q += units;
    while (q < n) {
      UChar32 c;
      int32_t q2 = q;
      U16_NEXT(u, q2, n, c);
      if (unorm2_hasBoundaryBefore(t->nfc, c)) break;
      byte += utf8_len_at(u, q, n, &units);
      q = q2;
    }
    int32_t got;
    /* norm must not be NULL here even when nothing was copied yet (a text
     * that starts with a combining mark): NULL + 0 is undefined. */
    if (grow((void **)&t->norm, &t->norm_cap, nn + 1, sizeof(UChar))) goto nomem;
    for (;;) {
      size_t room = t->norm_cap - nn;
      if (room > INT32_MAX) room = INT32_MAX;
      e = U_ZERO_ERROR;
      got = unorm2_normalize(t->nfc, u + pos, q - pos, t->norm + nn,
                             (int32_t)room, &e);
      if (e != U_BUFFER_OVERFLOW_ERROR) break;
      if (grow((void **)&t->norm, &t->norm_cap, nn + (size_t)got, sizeof(UChar)))
        goto nomem;
    }
    if (U_FAILURE(e)) goto icu_fail;
    if (grow_maps(t, nn + (size_t)got)) goto nomem;
    for (int32_t k = 0; k < got; k++) {
      t->map_start[nn + (size_t)k] = piece_start;
      t->map_end[nn + (size_t)k] = byte;
    }
    nn += (size_t)got;
    pos = q;
    if (nn > INT32_MAX - 1)
      return ks_err_set(err, KS_ELIMIT, "[tok][run] text too long after NFC");
  }
  *out_n = (int32_t)nn;
  return KS_OK;
nomem:
  return ks_err_set(err, KS_ENOMEM, "[tok][run] out of memory (NFC buffer)");
icu_fail:
  return ks_err_set(err, KS_EICU, "[tok][run] NFC normalization failed: %s",
                    u_errorName(e));
}

/* ---- public API -------------------------------------------------------- */

/* ks_tok_config_default: see kosearch/tok.h. */
void ks_tok_config_default(ks_tok_config *cfg) {
  if (!cfg) return;
  cfg->stems = 1;
  cfg->bigrams = 1;
  cfg->min_stem = 1;
}

/* ks_tok_new: see kosearch/tok.h. Options: stems and bigrams must be 0 or 1,
 * min_stem 1..64, else KS_EINVAL. */
int ks_tok_new(const ks_tok_config *cfg, ks_tok **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[tok][new] out is NULL");
  *out = NULL;
  ks_tok_config c;
  ks_tok_config_default(&c);
  if (cfg) c = *cfg;
  if ((c.stems != 0 && c.stems != 1) || (c.bigrams != 0 && c.bigrams != 1) ||
      c.min_stem < 1 || c.min_stem > 64)
    return ks_err_set(err, KS_EINVAL,
                      "[tok][new] invalid options (stems=%d bigrams=%d "
                      "min_stem=%d; want 0/1, 0/1, 1..64)",
                      c.stems, c.bigrams, c.min_stem);
  ks_tok *t = ks_calloc(1, sizeof *t);
  if (!t) return ks_err_set(err, KS_ENOMEM, "[tok][new] out of memory");
  t->cfg = c;
  UErrorCode e = U_ZERO_ERROR;
  t->nfc = unorm2_getNFCInstance(&e);
  if (U_SUCCESS(e)) t->nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
  if (U_SUCCESS(e)) t->brk = ubrk_open(UBRK_WORD, "ko", NULL, 0, &e);
  if (U_FAILURE(e)) {
    ks_tok_free(t);
    return ks_err_set(err, e == U_MEMORY_ALLOCATION_ERROR ? KS_ENOMEM : KS_EICU,
                      "[tok][new] ICU initialisation failed: %s", u_errorName(e));
  }
  *out = t;
  return KS_OK;
}

/* ks_tok_free: see kosearch/tok.h. */
void ks_tok_free(ks_tok *t) {
  if (!t) return;
  if (t->brk) ubrk_close(t->brk);
  ks_free(t->u16);
  ks_free(t->norm);
  ks_free(t->map_start);
  ks_free(t->map_end);
  ks_free(t->fold);
  ks_free(t->term);
  ks_free(t->off);
  ks_free(t);
}

/* Per-run state. */
typedef struct run {
  ks_tok *t;
  const UChar *src;   /* NFC text */
  int32_t n;          /* units in src */
  int direct;         /* 1: src is the input's own UTF-16 (input was NFC) */
  int32_t cur_u;      /* direct mode cursor: unit index ... */
  uint32_t cur_b;     /* ... and the input byte offset of that unit */
  ks_tok_cb cb;
  void *ctx;
  int stopped;        /* 1: the callback returned non-zero */
  int query;          /* 1: KS_TOK_QUERY (question words are dropped) */
} run;

/* Input byte span of src units [s, e). */
static void span_of(run *r, int32_t s, int32_t e, size_t *bs, size_t *be) {
  if (!r->direct) {
    *bs = r->t->map_start[s];
    *be = r->t->map_end[e - 1];
    return;
  }
  const UChar *u = r->src;
  int32_t cu = r->cur_u;
  uint32_t cb = r->cur_b;
  for (int pass = 0; pass < 2; pass++) {
    int32_t target = pass ? e : s;
    while (cu < target) {
      UChar c = u[cu];
      if (c < 0x80) { cb += 1; cu += 1; }
      else if (c < 0x800) { cb += 2; cu += 1; }
      else if (U16_IS_LEAD(c) && cu + 1 < r->n && U16_IS_TRAIL(u[cu + 1])) {
        cb += 4; cu += 2;
      } else { cb += 3; cu += 1; }
    }
    if (pass) *be = cb;
    else *bs = cb;
  }
  r->cur_u = cu;
  r->cur_b = cb;
}

/* Analyse one kept word token src[s..e) (rule status `status`).
 * *pos / *bpos are the word and bigram position counters; *prev is the
 * orphan context before the token, updated for the next one. Returns 0, a
 * KS_E* code (err filled), or the callback's value (r->stopped set). */
static int word_token(run *r, int32_t s, int32_t e, int32_t status,
                      uint32_t *pos, uint32_t *bpos, int *prev, ks_err *err) {
  ks_tok *t = r->t;
  const UChar *tok = r->src + s;
  size_t tn = (size_t)(e - s);
  int simple = 1, has_syl = 0, all_syl = 1;
  for (size_t i = 0; i < tn; i++) {
    UChar c = tok[i];
    if (ks_ko_is_syllable(c)) {
      has_syl = 1;
    } else {
      all_syl = 0;
      if (c >= 0x80) simple = 0;
    }
  }
  int prev_ctx = *prev;
  *prev = has_syl ? PREV_HANGUL
                  : (status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT)
                        ? PREV_NUMBER
                        : PREV_OTHER;

  /* NFKC_Casefold (identity/ASCII-lowercase on the fast path). */
  const UChar *w = tok;
  size_t n = tn;
  if (!simple) {
    UErrorCode ue = U_ZERO_ERROR;
    if (grow((void **)&t->fold, &t->fold_cap, tn + 16, sizeof(UChar)))
      return ks_err_set(err, KS_ENOMEM, "[tok][run] out of memory");
    for (;;) {
      size_t room = t->fold_cap > INT32_MAX ? INT32_MAX : t->fold_cap;
      ue = U_ZERO_ERROR;
      int32_t got = unorm2_normalize(t->nfkc_cf, tok, (int32_t)tn, t->fold,
                                     (int32_t)room, &ue);
      if (ue == U_BUFFER_OVERFLOW_ERROR) {
        if (grow((void **)&t->fold, &t->fold_cap, (size_t)got, sizeof(UChar)))
          return ks_err_set(err, KS_ENOMEM, "[tok][run] out of memory");
        continue;
      }
      if (U_FAILURE(ue))
        return ks_err_set(err, KS_EICU, "[tok][run] NFKC_Casefold failed: %s",
                          u_errorName(ue));
      n = (size_t)got;
      break;
    }
    w = t->fold;
    if (n == 0) return KS_OK; /* e.g. only default-ignorable characters */
    all_syl = 1;
    for (size_t i = 0; i < n; i++)
      if (!ks_ko_is_syllable(w[i])) { all_syl = 0; break; }
  }

  /* Orphaned particle: "(MOU)를", "”이라고", "AI를" -> not indexed. The
   * context test comes first: it is cheap and almost always false. */
  if (all_syl && n <= KS_KO_SUFFIX_MAX && prev_ctx != PREV_START &&
      prev_ctx != PREV_HANGUL && prev_ctx != PREV_NUMBER) {
    int glued = prev_ctx == PREV_OTHER;
    if (!glued) { /* after a space or punctuation segment */
      int32_t i = s;
      UChar32 c, before = -1;
      U16_PREV(r->src, 0, i, c);
      if (i > 0) U16_PREV(r->src, 0, i, before);
      glued = !u_isUWhiteSpace(c) && glues_particle(c, before);
    }
    if (glued && ks_ko_is_orphan_particle(w, n)) return KS_OK;
  }

  size_t stem = n; /* units of the stem; n = no stem */
  if (all_syl && n >= 2) stem = ks_ko_stem(w, n, t->cfg.min_stem);
  /* A query's question words (무엇, 어디에서, 몇년도 ...) ask, they do not
   * describe the answer: no term at all. */
  if (r->query && all_syl &&
      (ks_ko_is_question_word(w, stem) || ks_ko_is_question_word(w, n)))
    return KS_OK;

  /* UTF-8 of the folded token, with per-unit byte offsets. */
  if (grow((void **)&t->term, &t->term_cap, 3 * n + 1, 1) ||
      grow((void **)&t->off, &t->off_cap, n + 1, sizeof(uint32_t)))
    return ks_err_set(err, KS_ENOMEM, "[tok][run] out of memory");
  size_t blen = encode_utf8(w, n, t->term, t->off);
  if (status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT)
    blen = strip_digit_groups(t->term, blen);

  ks_token k;
  k.field = KS_FIELD_WORD;
  k.kind = KS_KIND_SURFACE;
  k.pos = (*pos)++;
  k.word = k.pos;
  span_of(r, s, e, &k.start, &k.end);
  k.term = t->term;
  k.len = utf8_trunc(t->term, blen, KS_TOK_MAX_TERM);
  int rc = r->cb(r->ctx, &k);
  if (rc) goto stop;
  if (*prev == PREV_NUMBER) { /* remembered for a counter glued to it */
    t->num_len = blen <= sizeof t->num ? blen : 0;
    memcpy(t->num, t->term, t->num_len);
  }

  if (stem < n && t->cfg.stems) {
    size_t slen = utf8_trunc(t->term, t->off[stem], KS_TOK_MAX_TERM);
    if (slen != k.len) { /* same prefix: differs iff the length differs */
      k.kind = KS_KIND_STEM;
      k.len = slen;
      rc = r->cb(r->ctx, &k);
      if (rc) goto stop;
    }
  }

  /* A counter written against a number (1989년에, 6월, 1,500만): the
   * number and the counter's stem as one more term, "1989년". */
  if (prev_ctx == PREV_NUMBER && all_syl && t->num_len && t->cfg.stems) {
    char joined[sizeof t->num + KS_TOK_MAX_TERM];
    size_t sl = t->off[stem] > KS_TOK_MAX_TERM ? KS_TOK_MAX_TERM : t->off[stem];
    memcpy(joined, t->num, t->num_len);
    memcpy(joined + t->num_len, t->term, sl);
    k.kind = KS_KIND_COUNTER;
    k.term = joined;
    k.len = utf8_trunc(joined, t->num_len + sl, KS_TOK_MAX_TERM);
    rc = r->cb(r->ctx, &k);
    if (rc) goto stop;
  }

  if (t->cfg.bigrams && has_syl && stem >= 2) {
    k.field = KS_FIELD_BIGRAM;
    k.kind = KS_KIND_BIGRAM;
    for (size_t i = 0; i + 1 < stem; i++) {
      if (!ks_ko_is_syllable(w[i]) || !ks_ko_is_syllable(w[i + 1])) continue;
      k.term = t->term + t->off[i];
      k.len = t->off[i + 2] - t->off[i];
      k.pos = (*bpos)++;
      rc = r->cb(r->ctx, &k);
      if (rc) goto stop;
    }
  }
  return KS_OK;
stop:
  r->stopped = 1;
  return rc;
}

/* ks_tok_run: see kosearch/tok.h. Additional limits: len must be < 2^31 - 1
 * (else KS_ELIMIT); reason must be KS_TOK_DOCUMENT or KS_TOK_QUERY and
 * tok/cb non-NULL (else KS_EINVAL). Not re-entrant for the same ks_tok. */
int ks_tok_run(ks_tok *tok, int reason, const char *text, size_t len,
               ks_tok_cb cb, void *ctx, ks_err *err) {
  if (!tok || !cb || (!text && len))
    return ks_err_set(err, KS_EINVAL, "[tok][run] NULL analyzer, callback or text");
  if (reason != KS_TOK_DOCUMENT && reason != KS_TOK_QUERY)
    return ks_err_set(err, KS_EINVAL, "[tok][run] unknown reason %d", reason);
  if (len > KS_TOK_MAX_INPUT)
    return ks_err_set(err, KS_ELIMIT, "[tok][run] text of %zu bytes is too long "
                      "(limit %zu)", len, KS_TOK_MAX_INPUT);
  if (len == 0) return KS_OK;

  int rc = KS_OK;
  UErrorCode e = U_ZERO_ERROR;
  run r;
  memset(&r, 0, sizeof r);
  r.t = tok;
  r.cb = cb;
  r.ctx = ctx;
  r.query = reason == KS_TOK_QUERY;

  /* UTF-8 -> UTF-16 with validation: never more units than bytes. Nothing
   * is emitted before the whole text has been validated. */
  if (grow((void **)&tok->u16, &tok->u16_cap, len, sizeof(UChar))) {
    rc = ks_err_set(err, KS_ENOMEM, "[tok][run] out of memory (%zu bytes of text)", len);
    goto done;
  }
  size_t bad = 0;
  int64_t conv = utf8_to_utf16((const uint8_t *)text, len, tok->u16, &bad);
  if (conv < 0) {
    rc = ks_err_set(err, KS_EUTF8, "[tok][run] invalid UTF-8 at byte offset %zu", bad);
    goto done;
  }
  int32_t n16 = (int32_t)conv;

  /* NFC: the common case is text that already is. */
  int32_t yes = unorm2_spanQuickCheckYes(tok->nfc, tok->u16, n16, &e);
  if (U_FAILURE(e)) {
    rc = ks_err_set(err, KS_EICU, "[tok][run] NFC check failed: %s", u_errorName(e));
    goto done;
  }
  if (yes == n16) {
    r.direct = 1;
    r.src = tok->u16;
    r.n = n16;
  } else {
    int32_t nn = 0;
    rc = build_nfc(tok, tok->u16, n16, &nn, err);
    if (rc) goto done;
    r.direct = 0;
    r.src = tok->norm;
    r.n = nn;
  }

  ubrk_setText(tok->brk, r.src, r.n, &e);
  if (U_FAILURE(e)) {
    rc = ks_err_set(err, KS_EICU, "[tok][run] ubrk_setText failed: %s", u_errorName(e));
    goto done;
  }
  uint32_t pos = 0, bpos = 0;
  int prev = PREV_START;
  int32_t s = ubrk_first(tok->brk), t;
  while ((t = ubrk_next(tok->brk)) != UBRK_DONE) {
    int32_t status = ubrk_getRuleStatus(tok->brk);
    if (status < UBRK_WORD_NONE_LIMIT) {
      prev = PREV_SPACE_OR_PUNCT;
    } else {
      rc = word_token(&r, s, t, status, &pos, &bpos, &prev, err);
      if (rc) {
        /* Keep the callback's own message when it filled the same ks_err. */
        if (r.stopped && (!err || err->rc != rc))
          ks_err_set(err, rc, "[tok][run] stopped by the callback (rc=%d)", rc);
        goto done;
      }
    }
    s = t;
  }

done:
  /* The iterator must not keep pointing into a buffer we may free. */
  {
    UErrorCode e2 = U_ZERO_ERROR;
    static const UChar empty[1] = {0};
    ubrk_setText(tok->brk, empty, 0, &e2);
  }
  release_if_big((void **)&tok->u16, &tok->u16_cap, sizeof(UChar));
  release_if_big((void **)&tok->norm, &tok->norm_cap, sizeof(UChar));
  if (tok->map_cap * sizeof(uint32_t) > KS_TOK_KEEP_BYTES) {
    ks_free(tok->map_start);
    ks_free(tok->map_end);
    tok->map_start = tok->map_end = NULL;
    tok->map_cap = 0;
  }
  return rc;
}
