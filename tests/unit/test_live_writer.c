/*
 * test_live_writer.c - deterministic regression tests of the live writer
 * (indexer/commit.c, live.c, policy.c) for bugs the random operation
 * oracle (test_live_oracle.c) found: each reproduces one minimal sequence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kosearch.h"
#include "ks_test_util.h"

static ks_writer *wopen(const char *dir, int mode, int threads) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.fsync = 0;
  o.mode = mode;
  o.threads = threads;
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, &o, &w, &e) != KS_OK) fail_msg("open: %s", e.msg);
  return w;
}

static void add(ks_writer *w, const char *id, const char *text) {
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  ks_err e;
  if (ks_writer_add(w, &d, &e) != KS_OK) fail_msg("add(%s): %s", id, e.msg);
}

static uint64_t live_docs(const char *dir) {
  ks_db *db = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("open: %s", e.msg);
  ks_db_stats st;
  assert_int_equal(ks_db_get_stats(db, &st, &e), KS_OK);
  ks_db_close(db);
  return st.docs;
}

static int count_hits(const char *dir, const char *q) {
  ks_db *db = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("open: %s", e.msg);
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 100;
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  ks_results *r = NULL;
  assert_int_equal(ks_db_search(db, q, SIZE_MAX, &o, &r, &e), KS_OK);
  int n = (int)ks_results_count(r);
  ks_results_free(r);
  ks_db_close(db);
  return n;
}

/* A KS_WRITER_REPLACE writer whose documents were settled by
 * ks_writer_merge before its first commit: a later document with the
 * same id must still replace the earlier one (it was kept as a second
 * live copy: ks_index_writer_replace_live skipped the live segments while
 * the REPLACE was pending, although they then hold only this writer's
 * documents). */
static void test_replace_upsert_after_merge(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    const char *dir = ks_test_tmpdir("live_replace_upsert");
    ks_writer *w = wopen(dir, KS_WRITER_UPDATE, threads);
    add(w, "old", "예전 문서");
    ks_err e;
    assert_int_equal(ks_writer_commit(w, &e), KS_OK);
    ks_writer_close(w);

    w = wopen(dir, KS_WRITER_REPLACE, threads);
    add(w, "a", "첫번째 사과");
    add(w, "b", "두번째 사과");
    assert_int_equal(ks_writer_merge(w, 1, &e), KS_OK);
    add(w, "a", "세번째 사과"); /* replaces the first "a" */
    assert_int_equal(ks_writer_commit(w, &e), KS_OK);
    ks_writer_stats st;
    ks_writer_get_stats(w, &st);
    ks_writer_close(w);
    uint64_t n = live_docs(dir);
    int hits = count_hits(dir, "사과");
    if (n != 2 || hits != 2 || st.docs_live != 2)
      fail_msg("threads %d: after REPLACE, merge and an upsert: %llu live documents, %d "
               "matching 사과, the writer says %llu (want 2: \"a\" replaced, \"b\")",
               threads, (unsigned long long)n, hits, (unsigned long long)st.docs_live);
    assert_int_equal(count_hits(dir, "예전"), 0);
    assert_int_equal(ks_db_check(dir, NULL, NULL, &e), KS_OK);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replace_upsert_after_merge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
