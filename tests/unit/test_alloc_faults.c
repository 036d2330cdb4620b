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
 * thread).
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
#include "ks_test_util.h"
#include "kosearch/db.h"

#define KS_ALLOC_DENSE 1000
#define STRIDE 37

static char base[4096], dir[4096];

static const char *texts[] = {
    "대통령은 보스턴에서 첨단 산업 클러스터를 논의했다",
    "K-바이오 기업들이 보스턴 클러스터에 진출했다",
    "서울 바이오 허브에서 회의가 열렸다",
    "첨단산업 육성 전략과 대통령의 발언",
    "보스턴 마라톤 대회가 열렸다",
};

static ks_writer_opts wopts(int threads, int merge) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.threads = threads;
  wo.merge = merge;
  wo.mem_budget = 1u << 20;
  return wo;
}

static void add(ks_index_writer *w, int i, const char *suffix) {
  char id[32], text[256];
  snprintf(id, sizeof id, "d%d", i);
  snprintf(text, sizeof text, "%s %d%s", texts[i % 5], i, suffix);
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  assert_int_equal(ks_index_writer_add(w, &d, NULL), KS_OK);
}

/* The base index: 30 documents d0..d29 in three segments (merge off). */
static void build_base(void) {
  snprintf(base, sizeof base, "%s/base", ks_test_tmpdir("alloc_faults"));
  snprintf(dir, sizeof dir, "%s/work", ks_test_tmpdir("alloc_faults"));
  char cmd[9000];
  snprintf(cmd, sizeof cmd, "rm -rf '%.4000s'", base);
  assert_int_equal(system(cmd), 0);
  ks_writer_opts wo = wopts(1, 0);
  for (int s = 0; s < 3; s++) {
    ks_index_writer *w = NULL;
    assert_int_equal(ks_index_writer_open(base, &wo, &w, NULL), KS_OK);
    for (int i = 10 * s; i < 10 * s + 10; i++) add(w, i, "");
    assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
    ks_index_writer_close(w);
  }
}

static void fresh_copy(void) {
  char cmd[9000];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dir, base, dir);
  assert_int_equal(system(cmd), 0);
}

/* The live ids of the index at dir as a 64-bit set (ids d0..d63). */
static uint64_t live_ids(void) {
  ks_index *ix = NULL;
  ks_err e;
  if (ks_index_open(dir, &ix, &e) != KS_OK) fail_msg("index does not open: %s", e.msg);
  uint64_t set = 0;
  for (int i = 0; i < 64; i++) {
    char id[16];
    snprintf(id, sizeof id, "d%d", i);
    uint64_t doc;
    if (ks_index_find_id(ix, id, strlen(id), &doc, NULL) == KS_OK) set |= (uint64_t)1 << i;
  }
  ks_index_close(ix);
  if (ks_index_check(dir, NULL, NULL, &e) != KS_OK) fail_msg("check fails: %s", e.msg);
  return set;
}

typedef int (*op_fn)(int threads, ks_err *e);

static int op_add(int threads, ks_err *e) {
  ks_writer_opts wo = wopts(threads, 0);
  ks_index_writer *w = NULL;
  int rc = ks_index_writer_open(dir, &wo, &w, e);
  for (int i = 28; rc == KS_OK && i < 35; i++) { /* d28, d29 replaced */
    char id[32], text[256];
    snprintf(id, sizeof id, "d%d", i);
    snprintf(text, sizeof text, "%s %d 새 문서", texts[i % 5], i);
    ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
    rc = ks_index_writer_add(w, &d, e);
  }
  if (rc == KS_OK) rc = ks_index_writer_commit(w, e);
  ks_index_writer_close(w);
  return rc;
}

static int op_delete(int threads, ks_err *e) {
  ks_writer_opts wo = wopts(threads, 0);
  ks_index_writer *w = NULL;
  int rc = ks_index_writer_open(dir, &wo, &w, e);
  const char *ids[] = {"d3", "d14", "d15", "d27"};
  for (int i = 0; rc == KS_OK && i < 4; i++) rc = ks_index_writer_delete(w, ids[i], strlen(ids[i]), e);
  if (rc == KS_OK) rc = ks_index_writer_commit(w, e);
  ks_index_writer_close(w);
  return rc;
}

static int op_merge(int threads, ks_err *e) {
  ks_writer_opts wo = wopts(threads, 1);
  ks_index_writer *w = NULL;
  int rc = ks_index_writer_open(dir, &wo, &w, e);
  if (rc == KS_OK) rc = ks_index_writer_merge(w, 1, e);
  if (rc == KS_OK) rc = ks_index_writer_commit(w, e);
  ks_index_writer_close(w);
  return rc;
}

static int op_search(int threads, ks_err *e) {
  (void)threads;
  ks_index *ix = NULL;
  int rc = ks_index_open(dir, &ix, e);
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
  for (long n = 0;; n += (full || n < KS_ALLOC_DENSE) ? 1 : STRIDE) {
    fresh_copy();
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
    uint64_t ids = live_ids();
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

static uint64_t range(int lo, int hi) { /* ids d[lo, hi) */
  uint64_t s = 0;
  for (int i = lo; i < hi; i++) s |= (uint64_t)1 << i;
  return s;
}

static void test_writer_add_commit(void **state) {
  (void)state;
  build_base();
  assert_true(loop("add+commit", op_add, 1, range(0, 30), range(0, 35), NULL, NULL) > 50);
  loop("add+commit", op_add, 2, range(0, 30), range(0, 35), NULL, NULL);
}

static void test_writer_delete_commit(void **state) {
  (void)state;
  uint64_t after = range(0, 30) & ~(((uint64_t)1 << 3) | ((uint64_t)1 << 14) |
                                    ((uint64_t)1 << 15) | ((uint64_t)1 << 27));
  assert_true(loop("delete+commit", op_delete, 1, range(0, 30), after, NULL, NULL) > 20);
  loop("delete+commit", op_delete, 2, range(0, 30), after, NULL, NULL);
}

static void test_merge(void **state) {
  (void)state;
  assert_true(loop("merge+commit", op_merge, 1, range(0, 30), range(0, 30), NULL, NULL) > 50);
  loop("merge+commit", op_merge, 2, range(0, 30), range(0, 30), NULL, NULL);
}

static void test_open_search_snippets(void **state) {
  (void)state;
  assert_true(loop("open+search+snippets", op_search, 1, range(0, 30), range(0, 30), NULL,
                   NULL) > 20);
}

/* reopen: old_ix on the base commit, then one more commit (d30) */
static void prepare_reopen(void) {
  assert_int_equal(ks_index_open(dir, &old_ix, NULL), KS_OK);
  ks_writer_opts wo = wopts(1, 0);
  ks_index_writer *w = NULL;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, NULL), KS_OK);
  add(w, 30, "");
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
}
static void finish_reopen(void) {
  ks_index_close(old_ix);
  old_ix = NULL;
}

static void test_reopen(void **state) {
  (void)state;
  assert_true(loop("reopen", op_reopen, 1, range(0, 31), range(0, 31), prepare_reopen,
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
