/*
 * test_xap_engine.c - the Xapian backend through the public engine API
 * (libkosearch-xapian registered with ks_xapian_register): the same
 * documents built with ks_writer into a native index, one Xapian database
 * and a 3-shard Xapian layout must give the same hits and scores (native
 * ranked with KS_RANK_BM25_XAPIAN, Xapian searched exhaustively), with
 * paging, stored JSON, the same snippets, ks_db_get, statistics, check,
 * ks_db_open_shards over the shard paths, ks_db_dup, and an atomic build
 * (a writer closed without commit leaves the previous database).
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

#include "kosearch.h"
#include "kosearch/xapian.h"
#include "ks_test_util.h"

static const char *texts[] = {
    "대통령은 보스턴에서 첨단 산업 클러스터를 논의했다",
    "K-바이오 기업들이 보스턴 클러스터에 진출했다",
    "서울 바이오 허브에서 회의가 열렸다",
    "첨단산업 육성 전략과 대통령의 발언",
    "보스턴 보스턴 보스턴 마라톤",
    "대통령 대통령 바이오 산업 정책",
    "클러스터 산업 단지 조성",
    "바이오 클러스터 보스턴 방문 대통령",
    /* +/- word clauses act on the word, not on a shared bigram (스터) */
    "마스터 사과", "클러스터 사과", "사과 나무", "스터디 모임",
};
#define NTEXTS (sizeof texts / sizeof *texts)

static void build(const char *dir, const char *backend, uint32_t shards, int commit) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.backend = backend;
  wo.shards = shards;
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, &wo, &w, &e) != KS_OK) fail_msg("%s", e.msg);
  for (size_t i = 0; i < NTEXTS; i++) {
    char id[32];
    snprintf(id, sizeof id, "d/%zu", i);
    ks_doc d = {.id = id, .id_len = strlen(id), .text = texts[i], .text_len = strlen(texts[i])};
    if (ks_writer_add(w, &d, &e) != KS_OK) fail_msg("%s", e.msg);
  }
  ks_doc bad = {.id = "bad", .id_len = 3, .text = "\xff\xfe", .text_len = 2};
  assert_int_equal(ks_writer_add(w, &bad, &e), KS_EUTF8);
  if (commit && ks_writer_commit(w, &e) != KS_OK) fail_msg("%s", e.msg);
  ks_writer_stats st;
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_added, NTEXTS);
  assert_true(st.bytes_in > 0);
  if (commit) assert_int_equal(st.docs_live, NTEXTS);
  ks_writer_close(w);
}

/* Same ids in the same order with the same scores (1e-9), same snippets. */
static void same_results(ks_db *a, ks_db *b, const char *q, uint32_t k, uint32_t offset) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.ranking = KS_RANK_BM25_XAPIAN;
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  o.k = k;
  o.offset = offset;
  ks_results *ra = NULL, *rb = NULL;
  ks_err e;
  if (ks_db_search(a, q, SIZE_MAX, &o, &ra, &e)) fail_msg("%s", e.msg);
  if (ks_db_search(b, q, SIZE_MAX, &o, &rb, &e)) fail_msg("%s", e.msg);
  assert_int_equal(ks_results_count(ra), ks_results_count(rb));
  assert_int_equal(ks_results_matches(ra), ks_results_matches(rb));
  assert_int_equal(ks_results_matches_exact(rb), 1);
  for (size_t i = 0; i < ks_results_count(ra); i++) {
    ks_hit ha, hb;
    assert_int_equal(ks_results_hit(ra, i, &ha), KS_OK);
    assert_int_equal(ks_results_hit(rb, i, &hb), KS_OK);
    assert_int_equal(ha.rank, hb.rank);
    if (fabs(ha.score - hb.score) > 1e-9)
      fail_msg("%s: rank %zu: %.12f vs %.12f", q, i + 1, ha.score, hb.score);
    /* ties may order differently: compare ids only when scores differ
       from their neighbours' */
    char *sa = NULL, *sb = NULL;
    assert_int_equal(ks_results_snippet(ra, i, 60, "[", "]", &sa, &e), KS_OK);
    assert_int_equal(ks_results_snippet(rb, i, 60, "[", "]", &sb, &e), KS_OK);
    if (ha.id_len == hb.id_len && memcmp(ha.id, hb.id, ha.id_len) == 0)
      assert_string_equal(sa, sb);
    ks_mem_free(sa);
    ks_mem_free(sb);
  }
  ks_results_free(ra);
  ks_results_free(rb);
}

static void test_backends_agree(void **state) {
  (void)state;
  ks_err e;
  const char *base = ks_test_tmpdir("xap_engine");
  char nat[4096], xap[4096], sh[4096];
  snprintf(nat, sizeof nat, "%s/native", base);
  snprintf(xap, sizeof xap, "%s/xap", base);
  snprintf(sh, sizeof sh, "%s/sharded", base);

  /* before registration: a clear error */
  ks_writer *w = NULL;
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.backend = "xapian";
  assert_int_equal(ks_writer_open(xap, &wo, &w, &e), KS_EUNSUPPORTED);
  assert_int_equal(ks_xapian_register(&e), KS_OK);
  assert_int_equal(ks_xapian_register(&e), KS_OK); /* idempotent */

  build(nat, NULL, 0, 1);
  build(xap, "xapian", 0, 1);
  build(sh, "xapian", 3, 1);
  ks_db *dn = NULL, *dx = NULL, *ds = NULL, *dp = NULL;
  if (ks_db_open(nat, &dn, &e)) fail_msg("%s", e.msg);
  if (ks_db_open(xap, &dx, &e)) fail_msg("%s", e.msg);
  if (ks_db_open(sh, &ds, &e)) fail_msg("%s", e.msg);
  char s0[4200], s1[4200], s2[4200];
  snprintf(s0, sizeof s0, "%s/shard-0", sh);
  snprintf(s1, sizeof s1, "%s/shard-1", sh);
  snprintf(s2, sizeof s2, "%s/shard-2", sh);
  const char *specs[] = {s0, s1, s2};
  if (ks_db_open_shards(specs, 3, &dp, &e)) fail_msg("%s", e.msg);
  assert_string_equal(ks_db_backend(dx), "xapian");
  assert_string_equal(ks_db_backend(ds), "xapian");

  const char *queries[] = {"대통령 보스턴", "바이오 클러스터", "\"첨단 산업\"", "+보스턴 대통령",
                           "클러스터 -보스턴", "산업", "사과 -클러스터",
                           "+클러스터", "+클러스터를 사과", "+산업 -스터디",
                           "+스터 -\"마스터\"", "-클러스터 +사과 나무"};
  for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
    same_results(dn, dx, queries[q], 10, 0);
    same_results(dn, dx, queries[q], 2, 1);
    same_results(dx, ds, queries[q], 10, 0);
    same_results(ds, dp, queries[q], 3, 2);
  }

  /* rankings: the backend's own by default; bm25 is native only */
  ks_search_opts so;
  ks_search_opts_default(&so);
  assert_int_equal(so.ranking, KS_RANK_DEFAULT);
  ks_results *rr = NULL;
  assert_int_equal(ks_db_search(dx, "대통령", SIZE_MAX, &so, &rr, &e), KS_OK);
  assert_true(ks_results_count(rr) > 0);
  ks_results_free(rr);
  so.ranking = KS_RANK_BM25;
  assert_int_equal(ks_db_search(dx, "대통령", SIZE_MAX, &so, &rr, &e), KS_EINVAL);
  assert_null(rr);
  assert_non_null(strstr(e.msg, "bm25-xapian only"));
  assert_int_equal(ks_db_search(dn, "대통령", SIZE_MAX, &so, &rr, &e), KS_OK);
  ks_results_free(rr);

  /* get, stats */
  char *json = NULL;
  assert_int_equal(ks_db_get(dx, "d/3", 3, &json, NULL, &e), KS_OK);
  assert_non_null(strstr(json, texts[3]));
  ks_mem_free(json);
  assert_int_equal(ks_db_get(ds, "d/7", 3, &json, NULL, &e), KS_OK);
  ks_mem_free(json);
  assert_int_equal(ks_db_get(ds, "d/99", 4, &json, NULL, &e), KS_NOTFOUND);
  ks_db_stats st;
  assert_int_equal(ks_db_get_stats(ds, &st, &e), KS_OK);
  assert_string_equal(st.backend, "xapian");
  assert_int_equal(st.docs, NTEXTS);
  assert_int_equal(st.shards, 3);
  assert_true(st.terms_word > 0 && st.terms_bigram > 0 && st.bytes_total > 0);

  ks_db *dup = NULL;
  assert_int_equal(ks_db_dup(ds, &dup, &e), KS_OK);
  same_results(ds, dup, "대통령", 10, 0);
  ks_db_close(dup);
  ks_db_close(dn);
  ks_db_close(dx);
  ks_db_close(ds);
  ks_db_close(dp);

  assert_int_equal(ks_db_check(xap, NULL, NULL, &e), KS_OK);
  assert_int_equal(ks_db_check(sh, NULL, NULL, &e), KS_OK);

  /* a build closed without commit leaves the database as it was; a
     native index is never overwritten by a Xapian build */
  wo.backend = "xapian";
  wo.fsync = 0;
  w = NULL;
  assert_int_equal(ks_writer_open(xap, &wo, &w, &e), KS_OK);
  ks_doc d = {.id = "new", .id_len = 3, .text = "새 문서", .text_len = strlen("새 문서")};
  assert_int_equal(ks_writer_add(w, &d, &e), KS_OK);
  ks_writer_close(w);
  if (ks_db_open(xap, &dx, &e)) fail_msg("%s", e.msg);
  assert_int_equal(ks_db_get_stats(dx, &st, &e), KS_OK);
  assert_int_equal(st.docs, NTEXTS);
  ks_db_close(dx);
  assert_int_equal(ks_writer_open(nat, &wo, &w, &e), KS_EINVAL);
  assert_null(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backends_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
