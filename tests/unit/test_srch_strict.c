/*
 * test_srch_strict.c - required and excluded word clauses act on the word
 * (docs/query.md, "What matches"; issue 13 defect 6): `+word` / `-word`
 * are satisfied by the word's own terms (surface, stem) or by all of its
 * bigrams at consecutive positions (a compound part: 산업 in 첨단산업),
 * never by a document that merely shares one bigram; optional words keep
 * their bigram recall. Every top-k algorithm must give the same answer.
 * (The brute-force oracle in test_bm25_oracle / test_live_oracle checks
 * the same rule on random queries; test_xap_engine checks the Xapian
 * backend on these documents.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "index.h"
#include "index_writer.h"
#include "ks_test_util.h"

static const char *docs[][2] = {
    {"A", "마스터 사과"},      /* shares the bigram 스터 with 클러스터 */
    {"B", "클러스터 사과"},
    {"C", "사과 나무"},
    {"D", "스터디 모임"},      /* shares only 스터 */
    {"E", "바이오클러스터가 좋다"}, /* 클러스터 as a compound part */
    {"F", "첨단산업 육성"},
};

static ks_index *ix;

static int setup(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_strict");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  if (ks_index_writer_open(dir, &wo, &w, NULL) != KS_OK) return -1;
  for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
    ks_doc d = {.id = docs[i][0], .id_len = strlen(docs[i][0]),
                .text = docs[i][1], .text_len = strlen(docs[i][1])};
    if (ks_index_writer_add(w, &d, NULL) != KS_OK) return -1;
  }
  if (ks_index_writer_commit(w, NULL) != KS_OK) return -1;
  ks_index_writer_close(w);
  return ks_index_open(dir, &ix, NULL) == KS_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  ks_index_close(ix);
  return 0;
}

/* The ids of every hit of q with algorithm algo, sorted ("A,C"). */
static void hit_set(const char *q, int algo, char *out, size_t cap) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 100;
  o.algorithm = algo;
  ks_index_results *r = NULL;
  ks_err e;
  assert_int_equal(ks_index_search(ix, q, SIZE_MAX, &o, &r, &e), KS_OK);
  char ids[16] = {0};
  size_t n = ks_index_results_count(r);
  assert_true(n < sizeof ids);
  for (size_t i = 0; i < n; i++) {
    ks_index_hit h;
    const char *id;
    size_t len;
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    assert_int_equal(ks_index_doc_id(ix, h.doc, &id, &len, NULL), KS_OK);
    assert_int_equal(len, 1);
    ids[i] = id[0];
  }
  ks_index_results_free(r);
  /* sort the one-letter ids */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
      char t = ids[j];
      ids[j] = ids[j - 1];
      ids[j - 1] = t;
    }
  size_t len = 0;
  out[0] = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%c", i ? "," : "", ids[i]);
}

static void expect(const char *q, const char *want) {
  const int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  for (size_t a = 0; a < 3; a++) {
    char got[64];
    hit_set(q, algos[a], got, sizeof got);
    if (strcmp(got, want) != 0)
      fail_msg("query [%s] algorithm %d: got {%s}, want {%s}", q, algos[a],
               got, want);
  }
}

static void test_excluded_word(void **state) {
  (void)state;
  /* A (마스터) shares only the bigram 스터: not excluded; B has the word,
   * E the whole word as a compound part: both excluded */
  expect("사과 -클러스터", "A,C");
  expect("-클러스터 사과", "A,C");
  /* a particle does not change the word (the stem is 클러스터) */
  expect("사과 -클러스터를", "A,C");
  /* the phrase reading needs the base term itself: not E's compound */
  expect("+\"클러스터\"", "B");
}

static void test_required_word(void **state) {
  (void)state;
  expect("+클러스터", "B,E");
  expect("+클러스터를", "B,E");
  expect("+클러스터 사과", "B,E");
  expect("+클러스터 +사과", "B");
  /* a compound part through its bigram chain (one bigram here) */
  expect("+산업", "F");
  /* a two-syllable word is its one bigram: every 스터 document */
  expect("+스터", "A,B,D,E");
  expect("+스터 -\"마스터\"", "B,D,E");
}

static void test_optional_word_keeps_bigram_recall(void **state) {
  (void)state;
  /* ranked OR: any term, bigrams included */
  expect("클러스터", "A,B,D,E");
  expect("산업", "F");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_excluded_word),
      cmocka_unit_test(test_required_word),
      cmocka_unit_test(test_optional_word_keeps_bigram_recall),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
