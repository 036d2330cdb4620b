/*
 * test_engine_api.c - the public engine API (kosearch/db.h, results.h,
 * writer.h) on native indexes, through the public headers only: build with
 * ks_writer, open with ks_db_open (detection), search, paging with offset
 * against the unpaged ranking, stored JSON and snippets of hits, ks_db_get
 * by id, statistics, check, ks_db_dup on threads, and the errors: missing
 * path ("no such directory"), a file, an empty directory, a Xapian index
 * or backend when the Xapian backend is not registered ("built without
 * Xapian"), bad options.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kosearch.h"
#include "ks_test_util.h"

static const char *texts[] = {
    "대통령은 보스턴에서 첨단 산업 클러스터를 논의했다",
    "K-바이오 기업들이 보스턴 클러스터에 진출했다",
    "서울 바이오 허브에서 회의가 열렸다",
    "첨단산업 육성 전략과 대통령의 발언",
    "보스턴 보스턴 보스턴 마라톤",
    "대통령 대통령 바이오 산업 정책",
    "클러스터 산업 단지 조성",
};
#define NTEXTS (sizeof texts / sizeof *texts)

static const char *build_native(const char *tag) {
  const char *dir = ks_test_tmpdir(tag);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, &wo, &w, &e) != KS_OK) fail_msg("%s", e.msg);
  for (size_t i = 0; i < NTEXTS; i++) {
    char id[32], title[32];
    snprintf(id, sizeof id, i == 3 ? "dir/doc%zu" : "doc%zu", i);
    snprintf(title, sizeof title, "제목 %zu", i);
    ks_doc d = {.id = id, .id_len = strlen(id), .title = title, .title_len = strlen(title),
                .text = texts[i], .text_len = strlen(texts[i])};
    if (ks_writer_add(w, &d, &e) != KS_OK) fail_msg("%s", e.msg);
  }
  ks_doc bad = {.id = "x", .id_len = 1, .text = "", .text_len = 0};
  assert_int_equal(ks_writer_add(w, &bad, &e), KS_EINPUT);
  if (ks_writer_commit(w, &e) != KS_OK) fail_msg("%s", e.msg);
  ks_writer_stats st;
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_added, NTEXTS);
  assert_int_equal(st.docs_live, NTEXTS);
  ks_writer_close(w);
  return dir;
}

static void test_search_and_accessors(void **state) {
  (void)state;
  const char *dir = build_native("engine_api");
  ks_db *db = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("%s", e.msg);
  assert_string_equal(ks_db_backend(db), "native");
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  ks_results *r = NULL;
  assert_int_equal(ks_db_search(db, "대통령 보스턴", SIZE_MAX, &o, &r, &e), KS_OK);
  size_t n = ks_results_count(r);
  assert_true(n >= 4);
  assert_int_equal(ks_results_matches(r), n);
  assert_int_equal(ks_results_matches_exact(r), 1);
  ks_hit prev = {0};
  for (size_t i = 0; i < n; i++) {
    ks_hit h;
    assert_int_equal(ks_results_hit(r, i, &h), KS_OK);
    assert_int_equal(h.rank, i + 1);
    if (i) assert_true(h.score <= prev.score);
    prev = h;
    char *json = NULL, *snip = NULL;
    size_t jl = 0;
    assert_int_equal(ks_results_json(r, i, &json, &jl, &e), KS_OK);
    assert_int_equal(strlen(json), jl);
    /* the stored document is the hit's own, found again by its id */
    char *byid = NULL;
    size_t bl = 0;
    assert_int_equal(ks_db_get(db, h.id, h.id_len, &byid, &bl, &e), KS_OK);
    assert_string_equal(json, byid);
    assert_int_equal(ks_results_snippet(r, i, 80, "<", ">", &snip, &e), KS_OK);
    assert_non_null(strchr(snip, '<'));
    ks_mem_free(json);
    ks_mem_free(byid);
    ks_mem_free(snip);
  }
  ks_hit h;
  assert_int_equal(ks_results_hit(r, n, &h), KS_EINVAL);
  char *x = NULL;
  assert_int_equal(ks_results_json(r, n, &x, NULL, &e), KS_EINVAL);
  assert_null(x);
  ks_results_free(r);

  /* get: ids with '/', missing ids */
  char *json = NULL;
  assert_int_equal(ks_db_get(db, "dir/doc3", 8, &json, NULL, &e), KS_OK);
  assert_non_null(strstr(json, "\"dir/doc3\""));
  ks_mem_free(json);
  assert_int_equal(ks_db_get(db, "nope", 4, &json, NULL, &e), KS_NOTFOUND);
  assert_null(json);

  ks_db_stats st;
  assert_int_equal(ks_db_get_stats(db, &st, &e), KS_OK);
  assert_string_equal(st.backend, "native");
  assert_int_equal(st.docs, NTEXTS);
  assert_true(st.bytes_total > 0 && st.terms > 0 && st.segments >= 1);
  ks_db_close(db);
  assert_int_equal(ks_db_check(dir, NULL, NULL, &e), KS_OK);
}

/* Page p of size k equals ranks p*k+1 .. p*k+k of one big search, for
 * every algorithm. */
static void test_offset_paging(void **state) {
  (void)state;
  const char *dir = build_native("engine_paging");
  ks_db *db = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("%s", e.msg);
  const char *queries[] = {"대통령 보스턴 산업", "바이오", "클러스터 -보스턴", "+산업 대통령"};
  int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  for (size_t q = 0; q < sizeof queries / sizeof *queries; q++)
    for (size_t a = 0; a < 3; a++) {
      ks_search_opts o;
      ks_search_opts_default(&o);
      o.algorithm = algos[a];
      o.k = 100;
      ks_results *all = NULL;
      assert_int_equal(ks_db_search(db, queries[q], SIZE_MAX, &o, &all, &e), KS_OK);
      size_t total = ks_results_count(all);
      for (uint32_t k = 1; k <= 3; k++)
        for (uint32_t off = 0; off <= total + 1; off++) {
          o.k = k;
          o.offset = off;
          ks_results *p = NULL;
          assert_int_equal(ks_db_search(db, queries[q], SIZE_MAX, &o, &p, &e), KS_OK);
          size_t want = off >= total ? 0 : (total - off < k ? total - off : k);
          assert_int_equal(ks_results_count(p), want);
          assert_int_equal(ks_results_offset(p), off);
          for (size_t i = 0; i < want; i++) {
            ks_hit hp, ha;
            assert_int_equal(ks_results_hit(p, i, &hp), KS_OK);
            assert_int_equal(ks_results_hit(all, off + i, &ha), KS_OK);
            assert_int_equal(hp.rank, off + i + 1);
            assert_int_equal(hp.id_len, ha.id_len);
            assert_memory_equal(hp.id, ha.id, ha.id_len);
            assert_true(hp.score == ha.score);
          }
          ks_results_free(p);
        }
      ks_results_free(all);
    }
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = KS_MAX_HITS;
  o.offset = 1;
  ks_results *r = (ks_results *)&o; /* must be reset to NULL */
  assert_int_equal(ks_db_search(db, "바이오", SIZE_MAX, &o, &r, &e), KS_EINVAL);
  assert_null(r);
  ks_search_opts_default(&o);
  o.b = 2;
  assert_int_equal(ks_db_search(db, "바이오", SIZE_MAX, &o, &r, &e), KS_EINVAL);
  assert_int_equal(ks_db_search(db, "+", SIZE_MAX, NULL, &r, &e), KS_EQUERY);
  assert_int_equal(ks_db_search(db, "\xff", SIZE_MAX, NULL, &r, &e), KS_EQUERY);
  ks_db_close(db);
}

typedef struct th_arg {
  ks_db *db;
  int ok;
} th_arg;

static void *th_run(void *p) {
  th_arg *a = p;
  ks_err e;
  a->ok = 1;
  for (int i = 0; i < 50 && a->ok; i++) {
    ks_results *r = NULL;
    if (ks_db_search(a->db, "대통령 보스턴", SIZE_MAX, NULL, &r, &e) != KS_OK ||
        ks_results_count(r) < 4)
      a->ok = 0;
    ks_results_free(r);
  }
  return NULL;
}

static void test_dup_threads(void **state) {
  (void)state;
  const char *dir = build_native("engine_dup");
  ks_db *db = NULL, *d2 = NULL, *d3 = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("%s", e.msg);
  assert_int_equal(ks_db_dup(db, &d2, &e), KS_OK);
  assert_int_equal(ks_db_dup(d2, &d3, &e), KS_OK);
  ks_db_close(db); /* duplicates outlive the original */
  th_arg a2 = {d2, 0}, a3 = {d3, 0};
  pthread_t t2, t3;
  pthread_create(&t2, NULL, th_run, &a2);
  pthread_create(&t3, NULL, th_run, &a3);
  pthread_join(t2, NULL);
  pthread_join(t3, NULL);
  assert_true(a2.ok && a3.ok);
  ks_db_close(d3);
  ks_db_close(d2);
}

static void test_open_errors(void **state) {
  (void)state;
  ks_db *db = (ks_db *)state;
  ks_err e;
  const char *base = ks_test_tmpdir("engine_errors");
  char p[4096];
  snprintf(p, sizeof p, "%s/missing", base);
  assert_int_equal(ks_db_open(p, &db, &e), KS_NOTFOUND);
  assert_null(db);
  assert_non_null(strstr(e.msg, "no such directory"));
  snprintf(p, sizeof p, "%s/file", base);
  assert_int_equal(ks_test_write_file(p, "x", 1), 0);
  assert_int_equal(ks_db_open(p, &db, &e), KS_NOTFOUND);
  assert_non_null(strstr(e.msg, "not a directory"));
  snprintf(p, sizeof p, "%s/empty", base);
  assert_int_equal(ks_test_system("mkdir -p '%s'", p), 0);
  assert_int_not_equal(ks_db_open(p, &db, &e), KS_OK);
  assert_null(db);
  /* a Xapian database (its marker file) without the Xapian backend */
  snprintf(p, sizeof p, "%s/xap", base);
  assert_int_equal(ks_test_system("mkdir -p '%s' && touch '%s/iamglass'", p, p), 0);
  assert_int_equal(ks_db_open(p, &db, &e), KS_EUNSUPPORTED);
  assert_non_null(strstr(e.msg, "built without Xapian"));
  assert_int_equal(ks_db_check(p, NULL, NULL, &e), KS_EUNSUPPORTED);
  const char *specs[] = {p};
  assert_int_equal(ks_db_open_shards(specs, 1, &db, &e), KS_EUNSUPPORTED);
  assert_int_equal(ks_db_open_shards(specs, 0, &db, &e), KS_EINVAL);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.backend = "xapian";
  ks_writer *w = (ks_writer *)&wo;
  snprintf(p, sizeof p, "%s/newxap", base);
  assert_int_equal(ks_writer_open(p, &wo, &w, &e), KS_EUNSUPPORTED);
  assert_null(w);
  assert_non_null(strstr(e.msg, "built without Xapian"));
  wo.backend = "nosuch";
  assert_int_equal(ks_writer_open(p, &wo, &w, &e), KS_EUNSUPPORTED);
  wo.backend = NULL;
  wo.shards = 2; /* native indexes have no shards */
  assert_int_equal(ks_writer_open(p, &wo, &w, &e), KS_EINVAL);
  assert_null(w);
  assert_string_equal(ks_version(), KS_VERSION_STRING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_search_and_accessors),
      cmocka_unit_test(test_offset_paging),
      cmocka_unit_test(test_dup_threads),
      cmocka_unit_test(test_open_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
