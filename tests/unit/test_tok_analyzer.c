/*
 * test_tok_analyzer.c - targeted tests of the Korean analyzer (ks_tok.h,
 * common/analyzer.c, common/korean.c, common/korean_data.c, common/utf8.c).
 *
 * The golden files (tests/golden/analyzer/) show whole sentences; this file
 * pins down individual rules: stems and the batchim rule, minimum stem
 * length, exceptions, orphaned particles, UTF-8 validation, limits, spans
 * and positions, the callback contract, options and out-of-memory paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "korean_int.h"
#include "ks_alloc.h"
#include "kosearch/tok.h"

/* ---- capture helpers ---------------------------------------------------- */

typedef struct cap_tok {
  char term[KS_TOK_MAX_TERM + 1];
  size_t len;
  int field, kind;
  uint32_t pos, word;
  size_t start, end;
} cap_tok;

typedef struct cap {
  cap_tok *v;
  size_t n, cap;
  size_t stop_at; /* return stop_rc when the (stop_at)th token arrives */
  int stop_rc;
} cap;

static int on_tok(void *ctx, const ks_token *t) {
  cap *c = ctx;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 64;
    c->v = realloc(c->v, c->cap * sizeof *c->v);
    assert_non_null(c->v);
  }
  cap_tok *x = &c->v[c->n++];
  assert_true(t->len >= 1 && t->len <= KS_TOK_MAX_TERM);
  memcpy(x->term, t->term, t->len);
  x->term[t->len] = 0;
  x->len = t->len;
  x->field = t->field;
  x->kind = t->kind;
  x->pos = t->pos;
  x->word = t->word;
  x->start = t->start;
  x->end = t->end;
  if (c->stop_at && c->n == c->stop_at) return c->stop_rc;
  return 0;
}

static void cap_free(cap *c) {
  free(c->v);
  memset(c, 0, sizeof *c);
}

/* Analyze text with cfg (NULL: defaults); returns rc, tokens in *c. */
static int run_cfg(const ks_tok_config *cfg, const char *text, size_t len, cap *c) {
  ks_tok *tok = NULL;
  ks_err err;
  assert_int_equal(ks_tok_new(cfg, &tok, &err), KS_OK);
  int rc = ks_tok_run(tok, KS_TOK_DOCUMENT, text, len, on_tok, c, &err);
  ks_tok_free(tok);
  return rc;
}

static int run(const char *text, cap *c) { return run_cfg(NULL, text, strlen(text), c); }

/* The stem emitted for a one-word text, or "" when there is none. */
static const char *stem_of(const ks_tok_config *cfg, const char *word, char *buf) {
  cap c = {0};
  assert_int_equal(run_cfg(cfg, word, strlen(word), &c), KS_OK);
  buf[0] = 0;
  int surfaces = 0;
  for (size_t i = 0; i < c.n; i++) {
    if (c.v[i].kind == KS_KIND_SURFACE) surfaces++;
    if (c.v[i].kind == KS_KIND_STEM) strcpy(buf, c.v[i].term);
  }
  assert_int_equal(surfaces, 1);
  cap_free(&c);
  return buf;
}

/* Space-separated surface terms of the WORD field, e.g. "mou 체결". */
static const char *surfaces(const char *text, char *buf, size_t n) {
  cap c = {0};
  assert_int_equal(run(text, &c), KS_OK);
  buf[0] = 0;
  for (size_t i = 0; i < c.n; i++) {
    if (c.v[i].kind != KS_KIND_SURFACE) continue;
    if (buf[0]) strncat(buf, " ", n - strlen(buf) - 1);
    strncat(buf, c.v[i].term, n - strlen(buf) - 1);
  }
  cap_free(&c);
  return buf;
}

#define ASSERT_STEM(word, want)                               \
  do {                                                        \
    char b_[256];                                             \
    const char *got_ = stem_of(NULL, word, b_);               \
    if (strcmp(got_, want) != 0)                              \
      fail_msg("stem of %s: got \"%s\", want \"%s\"", word, got_, want); \
  } while (0)

/* ---- tests -------------------------------------------------------------- */

static void test_tables_well_formed(void **state) {
  (void)state;
  assert_int_equal(ks_ko_check_tables(), 0);
  assert_true(ks_ko_nsuffixes > 50);
  assert_true(ks_ko_nexceptions > 100);
}

static void test_common_particles(void **state) {
  (void)state;
  ASSERT_STEM("대통령은", "대통령");
  ASSERT_STEM("대통령이", "대통령");
  ASSERT_STEM("보스턴의", "보스턴");
  ASSERT_STEM("호텔에서", "호텔");
  ASSERT_STEM("서울에서는", "서울");  /* stacked, longest match */
  ASSERT_STEM("미국으로부터", "미국");
  ASSERT_STEM("클러스터로", "클러스터");
  ASSERT_STEM("대통령까지", "대통령");
  ASSERT_STEM("대통령도", "대통령");
  ASSERT_STEM("대통령만", "대통령");
  ASSERT_STEM("개최했다", "개최");
  ASSERT_STEM("개최하였다", "개최");
  ASSERT_STEM("관련된", "관련");
  ASSERT_STEM("대통령", "");          /* nothing to strip */
  ASSERT_STEM("에서", "");            /* a particle alone keeps no stem */
  ASSERT_STEM("이라고", "");
}

static void test_batchim_rule(void **state) {
  (void)state;
  /* 은/는 */
  ASSERT_STEM("책은", "책");
  ASSERT_STEM("나무는", "나무");
  ASSERT_STEM("책는", "");
  ASSERT_STEM("나무은", "");
  /* 이/가 */
  ASSERT_STEM("책이", "책");
  ASSERT_STEM("나무가", "나무");
  ASSERT_STEM("국가", "");    /* 가 after a final consonant: not a particle */
  ASSERT_STEM("나무이", "");
  /* 을/를 */
  ASSERT_STEM("책을", "책");
  ASSERT_STEM("나무를", "나무");
  ASSERT_STEM("마을", "");    /* 을 after a vowel */
  ASSERT_STEM("책를", "");
  /* 과/와 */
  ASSERT_STEM("책과", "책");
  ASSERT_STEM("나무와", "나무");
  ASSERT_STEM("효과", "");    /* 과 after a vowel */
  ASSERT_STEM("책와", "");
  /* 으로/로, and 로 after ㄹ */
  ASSERT_STEM("집으로", "집");
  ASSERT_STEM("학교로", "학교");
  ASSERT_STEM("서울로", "서울");
  ASSERT_STEM("경로", "");    /* 로 after ㅇ final */
  /* 이다 forms */
  ASSERT_STEM("학생이다", "학생");
  ASSERT_STEM("도시이다", "도시");  /* formal: 이다 kept after a vowel */
  ASSERT_STEM("학교였다", "학교");
  ASSERT_STEM("학생였다", "");      /* 였다 only after a vowel */
  ASSERT_STEM("학생이었다", "학생");
  ASSERT_STEM("학생이라고", "학생");
  ASSERT_STEM("학교라고", "학교");
}

static void test_min_stem(void **state) {
  (void)state;
  char b[256];
  ks_tok_config cfg = {0};
  ks_tok_config_default(&cfg);
  assert_int_equal(cfg.min_stem, 1);
  assert_string_equal(stem_of(&cfg, "책은", b), "책");
  cfg.min_stem = 2;
  assert_string_equal(stem_of(&cfg, "책은", b), "");
  assert_string_equal(stem_of(&cfg, "나무는", b), "나무");
  cfg.min_stem = 3;
  assert_string_equal(stem_of(&cfg, "나무는", b), "");
  assert_string_equal(stem_of(&cfg, "대통령은", b), "대통령");
  /* per-entry minimum: 나/만 and 하다/되다 endings need 2 syllables */
  ASSERT_STEM("누나", "");
  ASSERT_STEM("사과나", "사과");
  ASSERT_STEM("비만", "");
  ASSERT_STEM("말했다", "");
  ASSERT_STEM("불만을", "불만");
}

static void test_exceptions(void **state) {
  (void)state;
  ASSERT_STEM("회의", "");
  ASSERT_STEM("회의에서", "회의");
  ASSERT_STEM("회의의", "회의");
  ASSERT_STEM("고양이", "");
  ASSERT_STEM("고양이가", "고양이");
  ASSERT_STEM("결과", "");
  ASSERT_STEM("결과를", "결과");
  ASSERT_STEM("정도로", "정도");
  ASSERT_STEM("경기도", "");
  ASSERT_STEM("경기도의", "경기도");
  ASSERT_STEM("하나", "");
  ASSERT_STEM("하나의", "하나");
  ASSERT_STEM("그러나", "");
  /* BLOCK endings */
  ASSERT_STEM("있지만", "");
  ASSERT_STEM("했으나", "");
  /* a non-Hangul token is never stemmed */
  ASSERT_STEM("MOU", "");
}

static void test_orphan_particles(void **state) {
  (void)state;
  char b[512];
  assert_string_equal(surfaces("양해각서(MOU)를 체결", b, sizeof b), "양해각서 mou 체결");
  assert_string_equal(surfaces("“대박”이라고 했다", b, sizeof b), "대박 했다");
  assert_string_equal(surfaces("AI를 쓴다", b, sizeof b), "ai 쓴다");
  assert_string_equal(surfaces("數學은", b, sizeof b), "數學");
  assert_string_equal(surfaces("있다”고 했다", b, sizeof b), "있다 했다");
  assert_string_equal(surfaces("50%를", b, sizeof b), "50");
  /* not orphaned: after whitespace, an opening bracket or quote, a middle
   * dot, a comma, or a number */
  assert_string_equal(surfaces("MOU 를", b, sizeof b), "mou 를");
  assert_string_equal(surfaces("(가)", b, sizeof b), "가");
  assert_string_equal(surfaces("“이 사람”", b, sizeof b), "이 사람");
  assert_string_equal(surfaces("금·은·동", b, sizeof b), "금 은 동");
  assert_string_equal(surfaces("가,나", b, sizeof b), "가 나");
  assert_string_equal(surfaces("1500만", b, sizeof b), "1500 만");
  /* only particles are dropped */
  assert_string_equal(surfaces("(MOU)체결", b, sizeof b), "mou 체결");
  /* a dropped particle takes no position */
  cap c = {0};
  assert_int_equal(run("(MOU)를 체결", &c), KS_OK);
  assert_int_equal(c.n, 3); /* mou, 체결 + its bigram */
  assert_string_equal(c.v[1].term, "체결");
  assert_int_equal(c.v[1].pos, 1);
  cap_free(&c);
}

/* Reference UTF-8 check, written independently from utf8.c. */
static int ref_utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80) { i++; continue; }
    else if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (i + k >= n) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += k + 1;
  }
  return 1;
}

static void test_invalid_utf8(void **state) {
  (void)state;
  static const struct { const char *s; size_t bad; } cases[] = {
      {"대통령은 \xC0\x80", 13},      /* overlong NUL */
      {"대통령은 \xED\xA0\x80", 13},  /* surrogate U+D800 */
      {"대통령은 \xE3\x81", 13},      /* truncated at the end */
      {"대통령은 \xE3\x81 보스턴", 13}, /* truncated inside */
      {"\x80 대통령", 0},             /* stray continuation */
      {"abc \xF5\x80\x80\x80", 4},     /* > U+10FFFF lead byte */
      {"abc \xF4\x90\x80\x80", 4},     /* U+110000 */
      {"abc \xE0\x9F\xBF", 4},         /* overlong 3-byte */
      {"abc \xF0\x8F\xBF\xBF", 4},     /* overlong 4-byte */
      {"abc \xFF", 4},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t bad = 999;
    size_t n = strlen(cases[i].s);
    assert_int_equal(ks_utf8_valid(cases[i].s, n, &bad), 0);
    assert_int_equal(bad, cases[i].bad);
    cap c = {0};
    ks_tok *tok = NULL;
    ks_err err;
    assert_int_equal(ks_tok_new(NULL, &tok, &err), KS_OK);
    assert_int_equal(ks_tok_run(tok, KS_TOK_DOCUMENT, cases[i].s, n, on_tok, &c, &err),
                     KS_EUTF8);
    assert_int_equal(c.n, 0); /* nothing emitted, not even the valid prefix */
    assert_int_equal(err.rc, KS_EUTF8);
    assert_non_null(strstr(err.msg, "[tok][run]"));
    char where[64];
    snprintf(where, sizeof where, "offset %zu", cases[i].bad);
    assert_non_null(strstr(err.msg, where));
    ks_tok_free(tok);
    cap_free(&c);
  }
  /* valid edge cases */
  const char *ok = "\xF4\x8F\xBF\xBF \xEF\xBF\xBF \xF0\x90\x80\x80 \xC2\x80 a";
  assert_int_equal(ks_utf8_valid(ok, strlen(ok), NULL), 1);
  /* random bytes: ks_utf8_valid, the analyzer and the reference agree */
  ks_tok *tok = NULL;
  ks_err err;
  assert_int_equal(ks_tok_new(NULL, &tok, &err), KS_OK);
  srand(12345);
  unsigned char buf[24];
  for (int iter = 0; iter < 20000; iter++) {
    size_t n = (size_t)(rand() % 24);
    for (size_t j = 0; j < n; j++) {
      int r = rand() % 8;
      buf[j] = r < 3 ? (unsigned char)(0x20 + rand() % 0x5F)
               : r < 5 ? (unsigned char)(0x80 + rand() % 0x40)
                       : (unsigned char)(0xC0 + rand() % 0x40);
    }
    int ref = ref_utf8_valid(buf, n);
    assert_int_equal(ks_utf8_valid((const char *)buf, n, NULL), ref);
    cap c = {0};
    int rc = ks_tok_run(tok, KS_TOK_DOCUMENT, (const char *)buf, n, on_tok, &c, &err);
    assert_int_equal(rc == KS_EUTF8, !ref);
    if (!ref) assert_int_equal(c.n, 0);
    cap_free(&c);
  }
  ks_tok_free(tok);
}

static void test_empty_input(void **state) {
  (void)state;
  cap c = {0};
  assert_int_equal(run_cfg(NULL, "", 0, &c), KS_OK);
  assert_int_equal(c.n, 0);
  assert_int_equal(run_cfg(NULL, NULL, 0, &c), KS_OK);
  assert_int_equal(c.n, 0);
  assert_int_equal(run(" \n\t ... “” ", &c), KS_OK);
  assert_int_equal(c.n, 0);
}

static void test_one_megabyte(void **state) {
  (void)state;
  const char *sent = "미국을 국빈 방문 중인 윤석열 대통령이 28일(현지시간) 보스턴의 한 "
                     "호텔에서 열린 한미 클러스터 라운드테이블에서 (MOU)를 체결했다.\n";
  size_t sl = strlen(sent), reps = (1u << 20) / sl + 1;
  char *text = malloc(sl * reps + 1);
  assert_non_null(text);
  for (size_t i = 0; i < reps; i++) memcpy(text + i * sl, sent, sl);
  size_t len = sl * reps;
  assert_true(len >= (1u << 20));
  /* words per sentence: the single-sentence run tells */
  cap one = {0};
  assert_int_equal(run_cfg(NULL, sent, sl, &one), KS_OK);
  size_t words1 = 0, terms1 = one.n;
  for (size_t i = 0; i < one.n; i++) words1 += one.v[i].kind == KS_KIND_SURFACE;
  cap_free(&one);
  cap c = {0};
  assert_int_equal(run_cfg(NULL, text, len, &c), KS_OK);
  assert_int_equal(c.n, terms1 * reps);
  size_t words = 0, last_end = 0;
  uint32_t next_pos = 0;
  for (size_t i = 0; i < c.n; i++) {
    if (c.v[i].kind != KS_KIND_SURFACE) continue;
    words++;
    assert_int_equal(c.v[i].pos, next_pos++);
    assert_true(c.v[i].start >= last_end && c.v[i].end > c.v[i].start && c.v[i].end <= len);
    last_end = c.v[i].end;
    /* Hangul surfaces are byte-identical to their span */
    if ((unsigned char)c.v[i].term[0] >= 0xEA) {
      assert_int_equal(c.v[i].end - c.v[i].start, c.v[i].len);
      assert_memory_equal(text + c.v[i].start, c.v[i].term, c.v[i].len);
    }
  }
  assert_int_equal(words, words1 * reps);
  cap_free(&c);
  free(text);
}

static void test_callback_abort(void **state) {
  (void)state;
  static const int codes[] = {42, -7, 1};
  for (size_t k = 0; k < 3; k++) {
    cap c = {0};
    c.stop_at = 3;
    c.stop_rc = codes[k];
    ks_tok *tok = NULL;
    ks_err err;
    assert_int_equal(ks_tok_new(NULL, &tok, &err), KS_OK);
    const char *t = "대통령은 보스턴의 호텔에서 열린 회의";
    assert_int_equal(ks_tok_run(tok, KS_TOK_QUERY, t, strlen(t), on_tok, &c, &err), codes[k]);
    assert_int_equal(c.n, 3); /* not called again after the stop */
    assert_int_equal(err.rc, codes[k]);
    /* the analyzer is reusable after an abort */
    cap d = {0};
    assert_int_equal(ks_tok_run(tok, KS_TOK_QUERY, t, strlen(t), on_tok, &d, &err), KS_OK);
    assert_true(d.n > 3);
    cap_free(&d);
    ks_tok_free(tok);
    cap_free(&c);
  }
}

static void test_long_tokens_truncated(void **state) {
  (void)state;
  char text[1024];
  /* 50 Hangul syllables = 150 bytes -> 40 syllables = 120 bytes */
  text[0] = 0;
  for (int i = 0; i < 50; i++) strcat(text, "뭉"); /* not a suffix */
  cap c = {0};
  assert_int_equal(run(text, &c), KS_OK);
  assert_int_equal(c.v[0].kind, KS_KIND_SURFACE);
  assert_int_equal(c.v[0].len, 120);
  assert_int_equal(c.v[0].start, 0);
  assert_int_equal(c.v[0].end, 150); /* the span is the whole word */
  size_t bigrams = 0;
  for (size_t i = 0; i < c.n; i++) bigrams += c.v[i].kind == KS_KIND_BIGRAM;
  assert_int_equal(bigrams, 49);
  cap_free(&c);
  /* "ab" + 60 syllables: ICU splits the Latin from the Hangul; the Hangul
   * word (180 bytes) is cut after 40 syllables */
  strcpy(text, "ab");
  for (int i = 0; i < 60; i++) strcat(text, "가");
  assert_int_equal(run(text, &c), KS_OK);
  /* ICU splits Latin from Hangul: "ab" then the Hangul word */
  assert_int_equal(c.v[0].len, 2);
  assert_int_equal(c.v[1].len, 120);
  cap_free(&c);
  memset(text, 'x', 300);
  text[0] = 'A';
  text[300] = 0;
  assert_int_equal(run(text, &c), KS_OK);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.v[0].len, 120);
  assert_int_equal(c.v[0].term[0], 'a');
  cap_free(&c);
  /* a 2-byte-character word: é is 2 bytes, 120 is a boundary; with a
   * leading ASCII letter the cut backs up to 119 */
  strcpy(text, "z");
  for (int i = 0; i < 100; i++) strcat(text, "é");
  assert_int_equal(run(text, &c), KS_OK);
  assert_int_equal(c.v[0].len, 119);
  cap_free(&c);
  /* a long word with a particle: stem emitted only if it still differs */
  text[0] = 0;
  for (int i = 0; i < 45; i++) strcat(text, "가");
  strcat(text, "에서");
  assert_int_equal(run(text, &c), KS_OK);
  assert_int_equal(c.v[0].kind, KS_KIND_SURFACE);
  assert_int_equal(c.v[1].kind, KS_KIND_BIGRAM); /* stem == surface after cut */
  cap_free(&c);
}

static void test_positions_and_spans(void **state) {
  (void)state;
  /* bytes:  대통령은=0-12 ' ' 28=13-15 일=15-18 (=18 현지시간=19-31 )=31
   *         ' ' 보스턴의=33-45 */
  const char *t = "대통령은 28일(현지시간) 보스턴의";
  cap c = {0};
  assert_int_equal(run(t, &c), KS_OK);
  static const struct {
    const char *term;
    int field, kind;
    uint32_t pos, word;
    size_t start, end;
  } want[] = {
      {"대통령은", KS_FIELD_WORD, KS_KIND_SURFACE, 0, 0, 0, 12},
      {"대통령", KS_FIELD_WORD, KS_KIND_STEM, 0, 0, 0, 12},
      {"대통", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 0, 0, 0, 12},
      {"통령", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 1, 0, 0, 12},
      {"28", KS_FIELD_WORD, KS_KIND_SURFACE, 1, 1, 13, 15},
      {"일", KS_FIELD_WORD, KS_KIND_SURFACE, 2, 2, 15, 18},
      {"28일", KS_FIELD_WORD, KS_KIND_COUNTER, 2, 2, 15, 18},
      {"현지시간", KS_FIELD_WORD, KS_KIND_SURFACE, 3, 3, 19, 31},
      {"현지", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 2, 3, 19, 31},
      {"지시", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 3, 3, 19, 31},
      {"시간", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 4, 3, 19, 31},
      {"보스턴의", KS_FIELD_WORD, KS_KIND_SURFACE, 4, 4, 33, 45},
      {"보스턴", KS_FIELD_WORD, KS_KIND_STEM, 4, 4, 33, 45},
      {"보스", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 5, 4, 33, 45},
      {"스턴", KS_FIELD_BIGRAM, KS_KIND_BIGRAM, 6, 4, 33, 45},
  };
  assert_int_equal(c.n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < c.n; i++) {
    assert_string_equal(c.v[i].term, want[i].term);
    assert_int_equal(c.v[i].field, want[i].field);
    assert_int_equal(c.v[i].kind, want[i].kind);
    assert_int_equal(c.v[i].pos, want[i].pos);
    assert_int_equal(c.v[i].word, want[i].word);
    assert_int_equal(c.v[i].start, want[i].start);
    assert_int_equal(c.v[i].end, want[i].end);
  }
  cap_free(&c);
}

static void test_normalization(void **state) {
  (void)state;
  char b[512];
  /* fullwidth and case */
  assert_string_equal(surfaces("ＭＯＵ MIT Straße ﬁle Ⅻ", b, sizeof b), "mou mit strasse file xii");
  /* thousands separators */
  assert_string_equal(surfaces("1,500 12,34 1,234,567.89 1,5000", b, sizeof b),
                      "1500 12,34 1234567.89 1,5000");
  /* conjoining jamo compose; spans point into the decomposed input.
   * 한 = U+1112 U+1161 U+11AB, 국 = U+1100 U+116E U+11A8, 을 = U+110B U+1173 U+11AF */
  const char *nfd = "x \xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB\xE1\x84\x80\xE1\x85\xAE\xE1\x86\xA8"
                    "\xE1\x84\x8B\xE1\x85\xB3\xE1\x86\xAF y";
  cap c = {0};
  assert_int_equal(run(nfd, &c), KS_OK);
  assert_string_equal(c.v[0].term, "x");
  assert_string_equal(c.v[1].term, "한국을");
  assert_int_equal(c.v[1].start, 2);
  assert_int_equal(c.v[1].end, 2 + 27);
  assert_string_equal(c.v[2].term, "한국");
  const cap_tok *last = &c.v[c.n - 1];
  assert_string_equal(last->term, "y");
  assert_int_equal(last->start, 30);
  assert_int_equal(last->end, 31);
  cap_free(&c);
  /* NFC and NFD spellings give the same terms */
  char b2[512];
  assert_string_equal(surfaces("e\xCC\x81t\xC3\xA9", b, sizeof b), surfaces("\xC3\xA9t\xC3\xA9", b2, sizeof b2));
  /* whitespace variants separate words */
  assert_string_equal(surfaces("대통령\xC2\xA0보스턴\xE3\x80\x80서울\t부산\r\n광주", b, sizeof b),
                      "대통령 보스턴 서울 부산 광주");
}

static void test_options(void **state) {
  (void)state;
  ks_tok_config cfg;
  ks_tok_config_default(&cfg);
  cfg.stems = 0;
  cap c = {0};
  assert_int_equal(run_cfg(&cfg, "대통령은", strlen("대통령은"), &c), KS_OK);
  /* no stem, bigrams still come from the stem */
  assert_int_equal(c.n, 3);
  assert_string_equal(c.v[1].term, "대통");
  assert_string_equal(c.v[2].term, "통령");
  cap_free(&c);
  ks_tok_config_default(&cfg);
  cfg.bigrams = 0;
  assert_int_equal(run_cfg(&cfg, "대통령은", strlen("대통령은"), &c), KS_OK);
  assert_int_equal(c.n, 2);
  cap_free(&c);
  /* invalid options / arguments */
  ks_tok *tok = (ks_tok *)&c; /* must be reset to NULL on failure */
  ks_err err;
  cfg.min_stem = 0;
  assert_int_equal(ks_tok_new(&cfg, &tok, &err), KS_EINVAL);
  assert_null(tok);
  ks_tok_config_default(&cfg);
  cfg.stems = 2;
  assert_int_equal(ks_tok_new(&cfg, &tok, &err), KS_EINVAL);
  assert_int_equal(ks_tok_new(NULL, &tok, &err), KS_OK);
  assert_int_equal(ks_tok_run(tok, 7, "a", 1, on_tok, &c, &err), KS_EINVAL);
  assert_int_equal(ks_tok_run(tok, KS_TOK_DOCUMENT, "a", 1, NULL, &c, &err), KS_EINVAL);
  assert_int_equal(ks_tok_run(tok, KS_TOK_DOCUMENT, NULL, 1, on_tok, &c, &err), KS_EINVAL);
  /* query and document give the same terms */
  const char *t = "대통령은 (MOU)를 체결했다";
  cap d = {0}, q = {0};
  assert_int_equal(ks_tok_run(tok, KS_TOK_DOCUMENT, t, strlen(t), on_tok, &d, &err), KS_OK);
  assert_int_equal(ks_tok_run(tok, KS_TOK_QUERY, t, strlen(t), on_tok, &q, &err), KS_OK);
  assert_int_equal(d.n, q.n);
  for (size_t i = 0; i < d.n; i++) assert_string_equal(d.v[i].term, q.v[i].term);
  cap_free(&d);
  cap_free(&q);
  ks_tok_free(tok);
  ks_tok_free(NULL);
  ks_tok_config_default(NULL);
}

static void test_out_of_memory(void **state) {
  (void)state;
  const char *t = "대통령은 ＭＯＵ를 Café e\xCC\x81 보스턴의 호텔에서";
  int saw_ok = 0;
  for (long n = 0; n < 40 && !saw_ok; n++) {
    ks_tok *tok = NULL;
    ks_err err;
    ks_alloc_fail_after(n);
    int rc = ks_tok_new(NULL, &tok, &err);
    if (rc == KS_OK) {
      cap c = {0};
      rc = ks_tok_run(tok, KS_TOK_DOCUMENT, t, strlen(t), on_tok, &c, &err);
      assert_true(rc == KS_OK || rc == KS_ENOMEM);
      if (rc == KS_OK) saw_ok = 1;
      cap_free(&c);
    } else {
      assert_int_equal(rc, KS_ENOMEM);
      assert_null(tok);
    }
    ks_alloc_fail_after(-1);
    ks_tok_free(tok);
  }
  assert_true(saw_ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tables_well_formed),
      cmocka_unit_test(test_common_particles),
      cmocka_unit_test(test_batchim_rule),
      cmocka_unit_test(test_min_stem),
      cmocka_unit_test(test_exceptions),
      cmocka_unit_test(test_orphan_particles),
      cmocka_unit_test(test_invalid_utf8),
      cmocka_unit_test(test_empty_input),
      cmocka_unit_test(test_one_megabyte),
      cmocka_unit_test(test_callback_abort),
      cmocka_unit_test(test_long_tokens_truncated),
      cmocka_unit_test(test_positions_and_spans),
      cmocka_unit_test(test_normalization),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
