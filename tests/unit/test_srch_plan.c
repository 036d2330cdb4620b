/*
 * test_srch_plan.c - the "analyzed queries for other backends" API of
 * query_plan.h (ks_query_plan_*) and the bm25-xapian options:
 *   - a plan exposes exactly the native parser's clauses: operators, word
 *     clauses with their distinct terms and counts, phrases with base terms
 *     in order and their offsets; dropped clauses; KS_EQUERY;
 *   - ks_query_plan_snippet gives the same snippet as ks_index_results_snippet
 *     for the same document and query (one code path);
 *   - KS_RANK_BM25_XAPIAN and min_normlen are validated, and the native
 *     scheme follows Xapian's formula on a hand-computed one-term case.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index_writer.h"
#include "index.h"
#include "ks_test_util.h"
#include "query_plan.h"
#include "kosearch/tok.h"

static ks_index *ix;

static void add(ks_index_writer *w, const char *id, const char *text) {
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  ks_err e;
  if (ks_index_writer_add(w, &d, &e) != KS_OK) fail_msg("add %s: %s", id, e.msg);
}

static int setup(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_plan");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  ks_err e;
  if (ks_index_writer_open(dir, &wo, &w, &e) != KS_OK) return -1;
  add(w, "a", "대통령은 보스턴에서 첨단산업 클러스터를 방문했다");
  add(w, "b", "서울 시장");
  add(w, "c", "대통령 대통령 서울");
  if (ks_index_writer_commit(w, &e) != KS_OK) return -1;
  ks_index_writer_close(w);
  return ks_index_open(dir, &ix, &e) == KS_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  ks_index_close(ix);
  return 0;
}

static int term_is(const ks_query_term *t, int field, const char *s) {
  return t->field == field && t->len == strlen(s) && memcmp(t->term, s, t->len) == 0;
}

static void test_plan_clauses(void **state) {
  (void)state;
  ks_query_plan *p = NULL;
  ks_err e;
  const char *q = "대통령은 +\"첨단 산업 첨단\" -보스턴 !!! 하하하";
  assert_int_equal(ks_query_plan_new(q, SIZE_MAX, NULL, &p, &e), KS_OK);
  assert_int_equal(ks_query_plan_count(p), 4); /* "!!!" is dropped */
  ks_query_clause c;
  /* word clause: surface, stem, bigrams, each once */
  assert_int_equal(ks_query_plan_clause(p, 0, &c), KS_OK);
  assert_int_equal(c.op, 0);
  assert_int_equal(c.phrase, 0);
  assert_null(c.offsets);
  int surface = 0, stem = 0, bigram = 0;
  for (size_t i = 0; i < c.nterms; i++) {
    assert_int_equal(c.terms[i].count, 1);
    surface |= term_is(&c.terms[i], KS_FIELD_WORD, "대통령은");
    stem |= term_is(&c.terms[i], KS_FIELD_WORD, "대통령");
    bigram |= term_is(&c.terms[i], KS_FIELD_BIGRAM, "통령");
  }
  assert_true(surface && stem && bigram);
  /* required phrase: base terms in order, repeated word repeated */
  assert_int_equal(ks_query_plan_clause(p, 1, &c), KS_OK);
  assert_int_equal(c.op, 1);
  assert_int_equal(c.phrase, 1);
  assert_int_equal(c.nterms, 3);
  assert_true(term_is(&c.terms[0], KS_FIELD_WORD, "첨단"));
  assert_true(term_is(&c.terms[1], KS_FIELD_WORD, "산업"));
  assert_true(term_is(&c.terms[2], KS_FIELD_WORD, "첨단"));
  assert_non_null(c.offsets);
  assert_int_equal(c.offsets[0], 0);
  assert_int_equal(c.offsets[1], 1);
  assert_int_equal(c.offsets[2], 2);
  assert_int_equal(ks_query_plan_clause(p, 2, &c), KS_OK);
  assert_int_equal(c.op, 2);
  /* repeated bigram in one word clause: count 2 */
  assert_int_equal(ks_query_plan_clause(p, 3, &c), KS_OK);
  int twice = 0;
  for (size_t i = 0; i < c.nterms; i++)
    if (term_is(&c.terms[i], KS_FIELD_BIGRAM, "하하")) twice = c.terms[i].count == 2;
  assert_true(twice);
  assert_int_equal(ks_query_plan_clause(p, 4, &c), KS_EINVAL);
  ks_query_plan_free(p);

  assert_int_equal(ks_query_plan_new("a + b", SIZE_MAX, NULL, &p, &e), KS_EQUERY);
  assert_null(p);
  assert_int_equal(ks_query_plan_new("", 0, NULL, &p, &e), KS_OK);
  assert_int_equal(ks_query_plan_count(p), 0);
  ks_query_plan_free(p);
  ks_query_plan_free(NULL);
}

static void test_plan_snippet_same_as_native(void **state) {
  (void)state;
  const char *q = "대통령 클러스터 -서울";
  ks_search_opts o;
  ks_search_opts_default(&o);
  ks_index_results *r = NULL;
  ks_err e;
  assert_int_equal(ks_index_search(ix, q, SIZE_MAX, &o, &r, &e), KS_OK);
  assert_true(ks_index_results_count(r) >= 1);
  ks_query_plan *p = NULL;
  assert_int_equal(ks_query_plan_new(q, SIZE_MAX, NULL, &p, &e), KS_OK);
  for (size_t i = 0; i < ks_index_results_count(r); i++) {
    ks_index_hit h;
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    char *json = NULL, *s1 = NULL, *s2 = NULL;
    size_t len = 0;
    assert_int_equal(ks_index_doc_json(ix, h.doc, &json, &len, &e), KS_OK);
    assert_int_equal(ks_index_results_snippet(ix, r, i, 20, "[", "]", &s1, &e), KS_OK);
    assert_int_equal(ks_query_plan_snippet(p, json, len, 20, "[", "]", &s2, &e), KS_OK);
    assert_string_equal(s1, s2);
    assert_non_null(strstr(s2, "[대통령"));
    ks_mem_free(json);
    ks_mem_free(s1);
    ks_mem_free(s2);
  }
  char *s = NULL;
  assert_int_equal(ks_query_plan_snippet(p, "[1]", 3, 20, "[", "]", &s, &e), KS_ECORRUPT);
  assert_null(s);
  ks_query_plan_free(p);
  ks_index_results_free(r);
}

static void test_bm25_xapian_options_and_formula(void **state) {
  (void)state;
  ks_search_opts o;
  ks_search_opts_default(&o);
  assert_true(o.min_normlen == 0.5);
  ks_index_results *r = NULL;
  ks_err e;
  o.ranking = KS_RANK_BM25_XAPIAN;
  double bad[] = {-0.1, NAN, INFINITY};
  for (size_t i = 0; i < 3; i++) {
    o.min_normlen = bad[i];
    assert_int_equal(ks_index_search(ix, "서울", SIZE_MAX, &o, &r, &e), KS_EINVAL);
    assert_null(r);
  }
  o.min_normlen = 0.5;
  o.k1 = 1.2; /* the values the hand computation below uses */
  o.b = 0.75;
  o.bigram_weight = 0.3;
  /* "시장": one word term (no stem) and one bigram, both only in doc b.
   * N = 3, n = 1: R = 2.5/1.5 < 2, so Xapian's clamp gives R/2 + 1; doc b
   * is short: L/avgL = 4/10.67 < min_normlen = 0.5, so K = 0.5. */
  assert_int_equal(ks_index_search(ix, "시장", SIZE_MAX, &o, &r, &e), KS_OK);
  assert_int_equal(ks_index_results_count(r), 1);
  ks_index_hit h;
  assert_int_equal(ks_index_results_hit(r, 0, &h), KS_OK);
  ks_index_stats st;
  assert_int_equal(ks_index_get_stats(ix, &st, &e), KS_OK);
  double avg = (double)(st.field_total[0] + st.field_total[1]) / 3.0;
  double len = 4.0; /* 서울, 시장 + bigrams 서울, 시장 */
  double k = len / avg < 0.5 ? 0.5 : len / avg;
  double w = log(2.5 / 1.5 * 0.5 + 1) * 2.2 * (1.0 / (1.2 * (k * 0.75 + 0.25) + 1.0));
  double want = w + 0.3 * w;
  if (!(fabs(h.score - want) <= 1e-12 * want))
    fail_msg("score %.17g, want %.17g (avg %g)", h.score, want, avg);
  ks_index_results_free(r);
  /* "서울" is in 2 of 3 documents: plain BM25's idf would be negative
   * (R = 1.5/2.5 < 1); the clamp keeps it positive */
  assert_int_equal(ks_index_search(ix, "서울", SIZE_MAX, &o, &r, &e), KS_OK);
  assert_int_equal(ks_index_results_count(r), 2);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    assert_true(h.score > 0);
  }
  ks_index_results_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_clauses),
      cmocka_unit_test(test_plan_snippet_same_as_native),
      cmocka_unit_test(test_bm25_xapian_options_and_formula),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
