/*
 * test_srch_corpus.c - search over the seed corpus (the .txt files in corpus/, indexed
 * through ks_input + ks_index_writer exactly as `kosearch index corpus/` does):
 * "대통령" finds both seed articles although most occurrences carry a
 * particle (대통령은, 대통령이); stored documents, snippets, stats and the
 * integrity check work on a real index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "index_writer.h"
#include "kosearch/input.h"
#include "index.h"
#include "ks_test_util.h"

static ks_index *ix;
static char dir[4096];

static int setup(void **state) {
  (void)state;
  char corpus[4096];
  snprintf(corpus, sizeof corpus, "%s/corpus", ks_test_env("KS_SOURCE_DIR", "."));
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("srch_corpus"));
  ks_err e;
  ks_input *in = NULL;
  if (ks_input_open(corpus, &in, &e) != KS_OK) {
    print_message("input: %s\n", e.msg);
    return -1;
  }
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  if (ks_index_writer_open(dir, &wo, &w, &e) != KS_OK) return -1;
  ks_doc d;
  int rc, n = 0;
  while ((rc = ks_input_next(in, &d, &e)) == KS_OK) {
    if (ks_index_writer_add(w, &d, &e) != KS_OK) {
      print_message("add: %s\n", e.msg);
      return -1;
    }
    n++;
  }
  ks_input_close(in);
  if (rc != KS_DONE || n != 2 || ks_index_writer_commit(w, &e) != KS_OK) {
    print_message("indexing corpus/: rc %d, %d docs: %s\n", rc, n, e.msg);
    return -1;
  }
  ks_index_writer_close(w);
  if (ks_index_open(dir, &ix, &e) != KS_OK) {
    print_message("open: %s\n", e.msg);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ks_index_close(ix);
  return 0;
}

static ks_index_results *search(const char *q, uint32_t k) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = k;
  ks_index_results *r = NULL;
  ks_err e;
  if (ks_index_search(ix, q, SIZE_MAX, &o, &r, &e) != KS_OK) fail_msg("%s: %s", q, e.msg);
  return r;
}

static void test_president_finds_both_seeds(void **state) {
  (void)state;
  ks_index_results *r = search("대통령", 10);
  assert_int_equal(ks_index_results_count(r), 2);
  assert_int_equal(ks_index_results_matches(r), 2);
  int seen[2] = {0, 0};
  for (size_t i = 0; i < 2; i++) {
    ks_index_hit h;
    const char *id;
    size_t n;
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    assert_true(h.score > 0);
    assert_int_equal(ks_index_doc_id(ix, h.doc, &id, &n, NULL), KS_OK);
    if (n >= 3 && !memcmp(id, "000", 3)) seen[0]++;
    if (n >= 3 && !memcmp(id, "003", 3)) seen[1]++;
    char *snip = NULL;
    assert_int_equal(ks_index_results_snippet(ix, r, i, 120, "[", "]", &snip, NULL), KS_OK);
    assert_non_null(strstr(snip, "[대통령"));  /* 대통령은 / 대통령이 marked */
    assert_null(strchr(snip, '\n'));
    ks_mem_free(snip);
  }
  assert_int_equal(seen[0], 1);
  assert_int_equal(seen[1], 1);
  ks_index_results_free(r);
}

static void test_only_inflected_forms(void **state) {
  (void)state;
  /* the first seed writes 대통령이 / 대통령은; both analyze to the stem */
  ks_index_results *a = search("대통령이", 10), *b = search("\"윤석열 대통령은\"", 10);
  assert_int_equal(ks_index_results_count(a), 2);
  assert_int_equal(ks_index_results_count(b), 2);
  ks_index_results_free(a);
  ks_index_results_free(b);
}

static void test_compound_and_exclusion(void **state) {
  (void)state;
  ks_index_results *r = search("산업", 10);
  assert_true(ks_index_results_count(r) >= 1);
  ks_index_results_free(r);
  r = search("대통령 -보스턴", 10);
  /* both articles mention 보스턴 */
  assert_int_equal(ks_index_results_count(r), 0);
  ks_index_results_free(r);
  r = search("+보스턴 +\"제조생산기술 역량이\"", 10);
  assert_int_equal(ks_index_results_count(r), 1);
  ks_index_results_free(r);
}

static void test_doc_json_and_bounds(void **state) {
  (void)state;
  char *json = NULL;
  size_t len = 0;
  assert_int_equal(ks_index_doc_json(ix, 0, &json, &len, NULL), KS_OK);
  assert_int_equal(strlen(json), len);
  assert_non_null(strstr(json, "\"text\""));
  ks_mem_free(json);
  ks_err e;
  assert_int_equal(ks_index_doc_json(ix, 2, &json, &len, &e), KS_EINVAL);
  assert_null(json);
  const char *id;
  size_t n;
  assert_int_equal(ks_index_doc_id(ix, 99, &id, &n, &e), KS_EINVAL);
  assert_non_null(strstr(e.msg, "[srch][doc_id]"));
}

static void test_stats_and_check(void **state) {
  (void)state;
  ks_index_stats st;
  assert_int_equal(ks_index_get_stats(ix, &st, NULL), KS_OK);
  assert_int_equal(st.docs, 2);
  assert_int_equal(st.deleted, 0);
  assert_true(st.terms > 100);
  assert_true(st.postings >= st.terms);
  assert_true(st.field_total[0] > 0 && st.field_total[1] > 0);
  assert_true(st.bytes_manifest > 0 && st.bytes_tid > 0 && st.bytes_sto > 0);
  assert_int_equal(st.bytes_total, st.bytes_tid + st.bytes_doc + st.bytes_pos +
                                       st.bytes_len + st.bytes_sto +
                                       st.bytes_del + st.bytes_manifest);
  ks_err e;
  int rc = ks_index_check(dir, NULL, NULL, &e);
  if (rc != KS_OK) fail_msg("check: %s", e.msg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_president_finds_both_seeds),
      cmocka_unit_test(test_only_inflected_forms),
      cmocka_unit_test(test_compound_and_exclusion),
      cmocka_unit_test(test_doc_json_and_bounds),
      cmocka_unit_test(test_stats_and_check),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
