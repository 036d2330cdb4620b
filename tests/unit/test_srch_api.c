/*
 * test_srch_api.c - index.h contracts outside ranking itself: option
 * validation, opening bad directories, analyzer version mismatch, a
 * missing segment file, replaced (deleted) documents, k = 0 and huge k,
 * accessor bounds, concurrent searches on one handle, and out-of-memory
 * injection (every failure is a clean KS_ENOMEM, never a crash or leak).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ks_alloc.h"
#include "index_writer.h"
#include "index.h"
#include "ks_test_util.h"
#include "manifest_int.h"

static const char *texts[] = {
    "대통령은 보스턴에서 첨단 산업 클러스터를 논의했다",
    "K-바이오 기업들이 보스턴 클러스터에 진출했다",
    "서울 바이오 허브에서 회의가 열렸다",
    "첨단산업 육성 전략과 대통령의 발언",
    "보스턴 보스턴 보스턴 마라톤",
};
#define NTEXTS (sizeof texts / sizeof *texts)

/* Build an index in a fresh directory; `dups` adds replaced documents. */
static const char *build(const char *tag, int merge, int dups) {
  const char *dir = ks_test_tmpdir(tag);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.merge = merge;
  if (!merge) wo.mem_budget = 4096;
  ks_index_writer *w = NULL;
  ks_err e;
  if (ks_index_writer_open(dir, &wo, &w, &e) != KS_OK) fail_msg("%s", e.msg);
  for (int round = 0; round < (dups ? 2 : 1); round++) {
    for (size_t i = 0; i < NTEXTS; i++) {
      char id[16];
      snprintf(id, sizeof id, "doc%zu", i);
      /* round 1 replaces doc0, doc2, doc4 with texts[1], [3], [1] */
      if (round == 1 && i % 2) continue;
      const char *t = round == 1 ? texts[i == 4 ? 1 : i + 1] : texts[i];
      ks_doc d = {.id = id, .id_len = strlen(id), .text = t, .text_len = strlen(t)};
      if (ks_index_writer_add(w, &d, &e) != KS_OK) fail_msg("%s", e.msg);
    }
  }
  if (ks_index_writer_commit(w, &e) != KS_OK) fail_msg("%s", e.msg);
  ks_index_writer_close(w);
  return dir;
}

static ks_index *open_ok(const char *dir) {
  ks_index *ix = NULL;
  ks_err e;
  if (ks_index_open(dir, &ix, &e) != KS_OK) fail_msg("open %s: %s", dir, e.msg);
  return ix;
}

static void test_opts_validation(void **state) {
  (void)state;
  ks_index *ix = open_ok(build("srch_api_opts", 1, 0));
  ks_search_opts o;
  ks_search_opts_default(&o);
  assert_int_equal(o.k, 10);
  assert_true(o.k1 == 0.6 && o.b == 0.25 && o.bigram_weight == 1.0);
  assert_int_equal(o.algorithm, KS_ALGO_MAXSCORE);
  assert_int_equal(o.ranking, KS_RANK_DEFAULT); /* the backend's own: BM25 here */
  ks_index_results *r = (ks_index_results *)1;
  ks_err e;
  struct { double k1, b, bw; int algo, rank; } bad[] = {
      {-0.1, 0.75, 0.3, 0, 0}, {NAN, 0.75, 0.3, 0, 0},  {INFINITY, 0.75, 0.3, 0, 0},
      {1.2, -0.01, 0.3, 0, 0}, {1.2, 1.01, 0.3, 0, 0},  {1.2, NAN, 0.3, 0, 0},
      {1.2, 0.75, -1, 0, 0},   {1.2, 0.75, NAN, 0, 0},  {1.2, 0.75, 0.3, 7, 0},
      {1.2, 0.75, 0.3, 0, 3}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    o.k1 = bad[i].k1;
    o.b = bad[i].b;
    o.bigram_weight = bad[i].bw;
    o.algorithm = bad[i].algo;
    o.ranking = bad[i].rank;
    assert_int_equal(ks_index_search(ix, "대통령", SIZE_MAX, &o, &r, &e), KS_EINVAL);
    assert_null(r);
    assert_non_null(strstr(e.msg, "[srch][search]"));
  }
  ks_search_opts_default(&o);
  assert_int_equal(ks_index_search(ix, NULL, 0, &o, &r, &e), KS_EINVAL);
  assert_int_equal(ks_index_search(ix, "a", 1, NULL, &r, &e), KS_EINVAL);
  /* edge values are accepted */
  o.k1 = 0;
  o.b = 1;
  o.bigram_weight = 0;
  assert_int_equal(ks_index_search(ix, "대통령", SIZE_MAX, &o, &r, &e), KS_OK);
  assert_true(ks_index_results_count(r) > 0);
  ks_index_results_free(r);
  ks_index_close(ix);
}

static void test_open_errors(void **state) {
  (void)state;
  ks_index *ix = (ks_index *)1;
  ks_err e;
  const char *empty = ks_test_tmpdir("srch_api_empty");
  assert_int_equal(ks_index_open(empty, &ix, &e), KS_NOTFOUND);
  assert_null(ix);
  assert_true(strlen(e.msg) > 0);
  char missing[4200];
  snprintf(missing, sizeof missing, "%s/does-not-exist", empty);
  assert_true(ks_index_open(missing, &ix, &e) < 0 ||
              ks_index_open(missing, &ix, &e) == KS_NOTFOUND);
  assert_null(ix);
  assert_int_equal(ks_index_open(NULL, &ix, &e), KS_EINVAL);
  ks_index_close(NULL);
}

static void test_analyzer_version_mismatch(void **state) {
  (void)state;
  const char *dir = build("srch_api_version", 1, 0);
  ks_manifest m;
  ks_err e;
  assert_int_equal(ks_manifest_read(dir, &m, &e), KS_OK);
  m.tok_version = KS_TOK_VERSION + 1;
  assert_int_equal(ks_manifest_write(dir, &m, 0, &e), KS_OK);
  ks_manifest_free(&m);
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_EVERSION);
  assert_null(ix);
  assert_non_null(strstr(e.msg, "analyzer version"));
  assert_int_equal(ks_index_check(dir, NULL, NULL, &e), KS_EVERSION);
}

static void test_missing_segment_file(void **state) {
  (void)state;
  const char *dir = build("srch_api_missing", 1, 0);
  assert_int_equal(ks_test_system("rm -f '%s'/*.doc", dir), 0);
  ks_index *ix = NULL;
  ks_err e;
  int rc = ks_index_open(dir, &ix, &e);
  assert_true(rc < 0);
  assert_null(ix);
  assert_true(strlen(e.msg) > 0);
  rc = ks_index_check(dir, NULL, NULL, &e);
  assert_true(rc < 0);
}

static void report(void *ctx, const char *line) {
  (void)line;
  ++*(int *)ctx;
}

static void test_replaced_documents(void **state) {
  (void)state;
  for (int merge = 0; merge <= 1; merge++) {
    const char *dir = build(merge ? "srch_api_dups_m" : "srch_api_dups", merge, 1);
    ks_index *ix = open_ok(dir);
    ks_index_stats st;
    assert_int_equal(ks_index_get_stats(ix, &st, NULL), KS_OK);
    assert_int_equal(st.docs, NTEXTS);
    assert_int_equal(st.deleted, merge ? 0 : 3);
    ks_search_opts o;
    ks_search_opts_default(&o);
    o.k = 100;
    ks_index_results *r = NULL;
    /* every live text contains one of these words; each id once */
    assert_int_equal(ks_index_search(ix, "보스턴 바이오 대통령 첨단산업 회의", SIZE_MAX, &o, &r, NULL), KS_OK);
    assert_int_equal(ks_index_results_count(r), NTEXTS);
    int seen[NTEXTS] = {0};
    for (size_t i = 0; i < ks_index_results_count(r); i++) {
      ks_index_hit h;
      const char *id;
      size_t n;
      assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
      assert_int_equal(ks_index_doc_id(ix, h.doc, &id, &n, NULL), KS_OK);
      assert_true(n == 4 && id[3] >= '0' && id[3] < '0' + (int)NTEXTS);
      seen[id[3] - '0']++;
    }
    for (size_t i = 0; i < NTEXTS; i++) assert_int_equal(seen[i], 1);
    ks_index_results_free(r);
    /* doc0 now holds texts[1]: the replaced texts[0] (the only one with
     * the words 첨단 산업) is gone */
    assert_int_equal(ks_index_search(ix, "\"첨단 산업\"", SIZE_MAX, &o, &r, NULL), KS_OK);
    assert_int_equal(ks_index_results_count(r), 0);
    ks_index_results_free(r);
    int lines = 0;
    ks_err e;
    int rc = ks_index_check(dir, report, &lines, &e);
    if (rc != KS_OK) fail_msg("check: %s", e.msg);
    assert_true(lines >= 2);
    ks_index_close(ix);
  }
}

static void test_k_zero_huge_and_accessors(void **state) {
  (void)state;
  ks_index *ix = open_ok(build("srch_api_k", 1, 0));
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 0;
  ks_index_results *r = NULL;
  assert_int_equal(ks_index_search(ix, "보스턴", SIZE_MAX, &o, &r, NULL), KS_OK);
  assert_int_equal(ks_index_results_count(r), 0);
  assert_int_equal(ks_index_results_matches(r), 3);
  ks_index_hit h;
  assert_int_equal(ks_index_results_hit(r, 0, &h), KS_EINVAL);
  char *s = NULL;
  assert_int_equal(ks_index_results_snippet(ix, r, 0, 50, "<", ">", &s, NULL), KS_EINVAL);
  assert_null(s);
  ks_index_results_free(r);
  o.k = UINT32_MAX;
  assert_int_equal(ks_index_search(ix, "보스턴", 6, &o, &r, NULL), KS_OK); /* len 6 = "보스" */
  assert_int_equal(ks_index_results_count(r), 3);
  assert_int_equal(ks_index_results_hit(r, 3, &h), KS_EINVAL);
  /* the 3-fold 보스턴 document ranks first */
  assert_int_equal(ks_index_results_hit(r, 0, &h), KS_OK);
  assert_int_equal(h.doc, 4);
  ks_index_results_free(r);
  assert_int_equal(ks_index_results_count(NULL), 0);
  assert_int_equal(ks_index_results_matches(NULL), 0);
  ks_index_results_free(NULL);
  ks_mem_free(NULL);
  ks_index_close(ix);
}

/* An open handle is a snapshot: a later commit (which removes the old
 * segment files) changes nothing for it; a new open sees the new commit. */
static void test_snapshot_survives_new_commit(void **state) {
  (void)state;
  const char *dir = build("srch_api_snapshot", 1, 0);
  ks_index *old = open_ok(dir);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.mode = KS_WRITER_REPLACE;
  ks_index_writer *w = NULL;
  ks_err e;
  if (ks_index_writer_open(dir, &wo, &w, &e) != KS_OK) fail_msg("%s", e.msg);
  const char *t = "완전히 다른 문서";
  ks_doc d = {.id = "new", .id_len = 3, .text = t, .text_len = strlen(t)};
  assert_int_equal(ks_index_writer_add(w, &d, NULL), KS_OK);
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
  ks_search_opts o;
  ks_search_opts_default(&o);
  ks_index_results *r = NULL;
  assert_int_equal(ks_index_search(old, "보스턴", SIZE_MAX, &o, &r, NULL), KS_OK);
  assert_int_equal(ks_index_results_count(r), 3);
  char *snip = NULL;
  assert_int_equal(ks_index_results_snippet(old, r, 0, 40, "<", ">", &snip, NULL), KS_OK);
  assert_non_null(strstr(snip, "<보스턴>"));
  ks_mem_free(snip);
  ks_index_results_free(r);
  ks_index *cur = open_ok(dir);
  assert_int_equal(ks_index_search(cur, "보스턴", SIZE_MAX, &o, &r, NULL), KS_OK);
  assert_int_equal(ks_index_results_count(r), 0);
  ks_index_results_free(r);
  assert_int_equal(ks_index_search(cur, "문서", SIZE_MAX, &o, &r, NULL), KS_OK);
  assert_int_equal(ks_index_results_count(r), 1);
  ks_index_results_free(r);
  ks_index_close(cur);
  ks_index_close(old);
}

/* Readers opening while a writer keeps committing always get a consistent
 * snapshot: when a segment of the MANIFEST they read has just been removed,
 * ks_index_open re-reads the MANIFEST and retries. */
typedef struct committer {
  const char *dir;
  atomic_int done;
  int commits;
} committer;

static void *commit_loop(void *p) {
  committer *c = p;
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  for (int i = 0; i < 100; i++) {
    ks_index_writer *w = NULL;
    if (ks_index_writer_open(c->dir, &wo, &w, NULL) != KS_OK) break;
    for (int j = 0; j < 2; j++) {
      char id[16];
      snprintf(id, sizeof id, "g%dd%d", i, j);
      const char *t = texts[(size_t)(i + j) % NTEXTS];
      ks_doc d = {.id = id, .id_len = strlen(id), .text = t, .text_len = strlen(t)};
      ks_index_writer_add(w, &d, NULL);
    }
    if (ks_index_writer_commit(w, NULL) == KS_OK) c->commits++;
    ks_index_writer_close(w);
  }
  atomic_store(&c->done, 1);
  return NULL;
}

static void test_open_during_commits(void **state) {
  (void)state;
  committer c = {build("srch_api_race", 1, 0), 0, 0};
  atomic_init(&c.done, 0);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, commit_loop, &c), 0);
  int opens = 0, failures = 0;
  char msg[1100] = "";
  while (!atomic_load(&c.done)) {
    ks_index *ix = NULL;
    ks_err e;
    if (ks_index_open(c.dir, &ix, &e) != KS_OK) {
      failures++;
      snprintf(msg, sizeof msg, "%s", e.msg);
      continue;
    }
    opens++;
    if (opens % 8) { /* mostly open/close: maximise the race window */
      ks_index_close(ix);
      continue;
    }
    ks_search_opts o;
    ks_search_opts_default(&o);
    ks_index_results *r = NULL;
    /* every text has one of these words */
    if (ks_index_search(ix, "보스턴 바이오 대통령", SIZE_MAX, &o, &r, &e) != KS_OK ||
        ks_index_results_count(r) == 0) {
      failures++;
      snprintf(msg, sizeof msg, "search: %s", e.msg);
    }
    ks_index_results_free(r);
    ks_index_close(ix);
  }
  pthread_join(th, NULL);
  print_message("%d opens during %d commits, %d failures %s\n", opens,
                c.commits, failures, msg);
  assert_int_equal(c.commits, 100);
  assert_true(opens > 0);
  assert_int_equal(failures, 0);
}

/* ---- threads ----------------------------------------------------------------- */

typedef struct thread_arg {
  ks_index *ix;
  int failures;
  double want[3];
} thread_arg;

static const char *tqueries[] = {"보스턴", "\"첨단 산업\" 대통령", "+바이오 -서울"};

static void *thread_main(void *p) {
  thread_arg *a = p;
  ks_search_opts o;
  ks_search_opts_default(&o);
  for (int it = 0; it < 200; it++) {
    int qi = it % 3;
    ks_index_results *r = NULL;
    ks_index_hit h;
    if (ks_index_search(a->ix, tqueries[qi], SIZE_MAX, &o, &r, NULL) != KS_OK ||
        ks_index_results_hit(r, 0, &h) != KS_OK || h.score != a->want[qi])
      a->failures++;
    char *s = NULL;
    if (ks_index_results_snippet(a->ix, r, 0, 30, "<", ">", &s, NULL) != KS_OK)
      a->failures++;
    ks_mem_free(s);
    ks_index_results_free(r);
  }
  return NULL;
}

static void test_concurrent_searches(void **state) {
  (void)state;
  ks_index *ix = open_ok(build("srch_api_threads", 1, 0));
  thread_arg args[4];
  ks_search_opts o;
  ks_search_opts_default(&o);
  double want[3];
  for (int q = 0; q < 3; q++) {
    ks_index_results *r = NULL;
    ks_index_hit h;
    assert_int_equal(ks_index_search(ix, tqueries[q], SIZE_MAX, &o, &r, NULL), KS_OK);
    assert_int_equal(ks_index_results_hit(r, 0, &h), KS_OK);
    want[q] = h.score;
    ks_index_results_free(r);
  }
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    args[i].ix = ix;
    args[i].failures = 0;
    memcpy(args[i].want, want, sizeof want);
    assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].failures, 0);
  }
  ks_index_close(ix);
}

/* ---- out of memory ------------------------------------------------------------ */

static void test_out_of_memory(void **state) {
  (void)state;
  const char *dir = build("srch_api_oom", 0, 1);
  int done = 0;
  for (long n = 0; n < 100000 && !done; n++) {
    ks_index *ix = NULL;
    ks_index_results *r = NULL;
    char *snip = NULL;
    ks_search_opts o;
    ks_search_opts_default(&o);
    ks_err e;
    ks_alloc_fail_after(n);
    int rc = ks_index_open(dir, &ix, &e);
    if (rc == KS_OK) rc = ks_index_search(ix, "보스턴 \"첨단 산업\" -서울", SIZE_MAX, &o, &r, &e);
    if (rc == KS_OK) rc = ks_index_results_snippet(ix, r, 0, 40, "<", ">", &snip, &e);
    ks_alloc_fail_after(-1);
    if (rc == KS_OK) {
      assert_true(ks_index_results_count(r) > 0);
      assert_non_null(strstr(snip, "<"));
      done = 1;
      print_message("out of memory: succeeded after %ld failing runs\n", n);
    } else if (rc != KS_ENOMEM && rc != KS_EICU) {
      fail_msg("after %ld allocations: rc %d (%s)", n, rc, e.msg);
    }
    ks_mem_free(snip);
    ks_index_results_free(r);
    ks_index_close(ix);
  }
  assert_true(done);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_opts_validation),
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_analyzer_version_mismatch),
      cmocka_unit_test(test_missing_segment_file),
      cmocka_unit_test(test_replaced_documents),
      cmocka_unit_test(test_k_zero_huge_and_accessors),
      cmocka_unit_test(test_snapshot_survives_new_commit),
      cmocka_unit_test(test_open_during_commits),
      cmocka_unit_test(test_concurrent_searches),
      cmocka_unit_test(test_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
