/*
 * test_alloc_faults.c - every failed allocation is survived (issue 13,
 * "Fault injection"): for n = 0, 1, 2, ... the n-th allocation and every
 * later one fail (ks_alloc_fail_after, common/ks_alloc.h) during
 *   1. writer open + adds (one replacing a committed document) + commit,
 *   2. writer open + deletes + commit,
 *   3. writer open + forced merge + commit,
 *   4. index open + a search with every algorithm + snippets + get,
 *   5. reopen of an open index on a newer commit,
 * until the operation succeeds. Each failing run must return KS_ENOMEM
 * (nothing else), release everything (ASan's leak check in the sanitizer
 * build), and leave the index at its previous commit or the new one: it
 * opens, `check` passes, and it holds exactly the documents of one of the
 * two (by id). The writer runs with threads = 1 (the failure point is
 * then deterministic) and once more with threads = 2 for a sample of n
 * (the countdown is atomic; the failing allocation may then be on a helper
 * thread; every 4th n there).
 *
 * Every n is tried up to KS_ALLOC_DENSE (today every operation succeeds
 * before: 34 to 659 allocations); beyond it, every STRIDE-th n (the
 * long tail of a commit's allocations is more of the same buffers), unless
 * KS_ALLOC_FULL=1 is set: then every n (the figures in docs/testing.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index.h"
#include "index_writer.h"
#include "ks_alloc.h"
#include "ks_fault_index.h"
#include "ks_test_util.h"
#include "kosearch/db.h"

#define KS_ALLOC_DENSE 1000
#define STRIDE 37

static int op_add(int threads, ks_err *e) { return ks_fi_add_commit(threads, e); }
static int op_delete(int threads, ks_err *e) { return ks_fi_delete_commit(threads, e); }
static int op_merge(int threads, ks_err *e) { return ks_fi_merge_commit(threads, e); }
typedef int (*op_fn)(int threads, ks_err *e);

static int op_search(int threads, ks_err *e) {
  (void)threads;
  ks_index *ix = NULL;
  int rc = ks_index_open(ks_fi_dir(), &ix, e);
  const int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  const char *qs[] = {"보스턴 \"첨단 산업\" -서울", "+클러스터 바이오"};
  for (int q = 0; rc == KS_OK && q < 2; q++)
    for (int a = 0; rc == KS_OK && a < 3; a++) {
      ks_search_opts o;
      ks_search_opts_default(&o);
      o.algorithm = algos[a];
      ks_index_results *r = NULL;
      rc = ks_index_search(ix, qs[q], SIZE_MAX, &o, &r, e);
      for (size_t i = 0; rc == KS_OK && i < ks_index_results_count(r); i++) {
        char *snip = NULL;
        rc = ks_index_results_snippet(ix, r, i, 40, "<", ">", &snip, e);
        ks_mem_free(snip);
        ks_index_hit h;
        char *json = NULL;
        size_t len;
        if (rc == KS_OK) rc = ks_index_results_hit(r, i, &h);
        if (rc == KS_OK) rc = ks_index_doc_json(ix, h.doc, &json, &len, e);
        ks_mem_free(json);
      }
      if (rc == KS_OK && ks_index_results_count(r) == 0) rc = KS_EINVAL; /* must find */
      ks_index_results_free(r);
    }
  ks_index_close(ix);
  return rc;
}

static ks_index *old_ix;

static int op_reopen(int threads, ks_err *e) {
  (void)threads;
  ks_index *nx = NULL;
  int rc = ks_index_reopen(old_ix, &nx, e);
  if (rc == KS_OK && !nx) rc = KS_EINVAL; /* a newer commit exists */
  ks_index_close(nx);
  return rc;
}

/* The loop: returns the number of failing runs before success. */
static long loop(const char *name, op_fn op, int threads, uint64_t before,
                 uint64_t after, void (*prepare)(void), void (*finish)(void)) {
  int full = getenv("KS_ALLOC_FULL") && atoi(getenv("KS_ALLOC_FULL"));
  long failures = 0;
  for (long n = 0;; n += full ? 1 : n >= KS_ALLOC_DENSE ? STRIDE : threads > 1 ? 4 : 1) {
    ks_fi_fresh_copy();
    if (prepare) prepare();
    ks_err e;
    memset(&e, 0, sizeof e);
    ks_alloc_fail_after(n);
    int rc = op(threads, &e);
    ks_alloc_fail_after(-1);
    if (finish) finish();
    if (rc != KS_OK && rc != KS_ENOMEM)
      fail_msg("%s (threads %d), allocation %ld fails: rc %d (%s), want KS_ENOMEM", name,
               threads, n, rc, e.msg);
    uint64_t ids = ks_fi_live_ids();
    if (ids != before && ids != after)
      fail_msg("%s (threads %d), allocation %ld fails (rc %d): the index holds neither the "
               "previous commit nor the new one (ids %llx, want %llx or %llx)",
               name, threads, n, rc, (unsigned long long)ids, (unsigned long long)before,
               (unsigned long long)after);
    if (rc == KS_OK) {
      if (ids != after) fail_msg("%s: succeeded but the index is not the new commit", name);
      print_message("%s (threads %d): %ld failing runs, then success at n = %ld\n", name,
                    threads, failures, n);
      return failures;
    }
    failures++;
  }
}

static void test_writer_add_commit(void **state) {
  (void)state;
  ks_fi_build_base("alloc_faults");
  assert_true(loop("add+commit", op_add, 1, ks_fi_before(), ks_fi_after_add(), NULL, NULL) > 50);
  loop("add+commit", op_add, 2, ks_fi_before(), ks_fi_after_add(), NULL, NULL);
}

static void test_writer_delete_commit(void **state) {
  (void)state;
  uint64_t after = ks_fi_after_delete();
  assert_true(loop("delete+commit", op_delete, 1, ks_fi_before(), after, NULL, NULL) > 20);
  loop("delete+commit", op_delete, 2, ks_fi_before(), after, NULL, NULL);
}

static void test_merge(void **state) {
  (void)state;
  assert_true(loop("merge+commit", op_merge, 1, ks_fi_before(), ks_fi_before(), NULL, NULL) > 50);
  loop("merge+commit", op_merge, 2, ks_fi_before(), ks_fi_before(), NULL, NULL);
}

static void test_open_search_snippets(void **state) {
  (void)state;
  assert_true(loop("open+search+snippets", op_search, 1, ks_fi_before(), ks_fi_before(), NULL,
                   NULL) > 20);
}

/* reopen: old_ix on the base commit, then one more commit (d30) */
static void prepare_reopen(void) {
  assert_int_equal(ks_index_open(ks_fi_dir(), &old_ix, NULL), KS_OK);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  assert_int_equal(ks_index_writer_open(ks_fi_dir(), &wo, &w, NULL), KS_OK);
  ks_doc d = {.id = "d30", .id_len = 3, .text = "새 문서 하나", .text_len = strlen("새 문서 하나")};
  assert_int_equal(ks_index_writer_add(w, &d, NULL), KS_OK);
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
}
static void finish_reopen(void) {
  ks_index_close(old_ix);
  old_ix = NULL;
}

static void test_reopen(void **state) {
  (void)state;
  assert_true(loop("reopen", op_reopen, 1, ks_fi_range(0, 31), ks_fi_range(0, 31), prepare_reopen,
                   finish_reopen) > 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_writer_add_commit),
      cmocka_unit_test(test_writer_delete_commit),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_open_search_snippets),
      cmocka_unit_test(test_reopen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
