/*
 * test_idx_live.c - the live index through the public API (kosearch.h) on
 * native indexes: scenarios with known answers. An UPDATE writer continues
 * from the last commit; an added document replaces the live one with its
 * id; ks_writer_delete removes one (KS_NOTFOUND when none is live); every
 * commit is atomic and readers keep their snapshot until ks_db_reopen;
 * ks_writer_merge(1) leaves one segment without deleted documents whose
 * scores equal those of a fresh build of the same live documents (df and
 * lengths count live documents only, docs/ranking.md). The random
 * operation oracle is test_live_oracle.c.
 */
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

static ks_writer *open_w(const char *dir, int mode, int threads) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.mode = mode;
  wo.threads = threads;
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, &wo, &w, &e) != KS_OK) fail_msg("writer_open: %s", e.msg);
  return w;
}

static void add(ks_writer *w, const char *id, const char *text) {
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  ks_err e;
  if (ks_writer_add(w, &d, &e) != KS_OK) fail_msg("add %s: %s", id, e.msg);
}

static void commit(ks_writer *w) {
  ks_err e;
  if (ks_writer_commit(w, &e) != KS_OK) fail_msg("commit: %s", e.msg);
}

static ks_db *open_db(const char *dir) {
  ks_db *db = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("db_open: %s", e.msg);
  return db;
}

/* The ids of the hits of `q` (k = 100), space-separated, sorted by rank. */
static void hits(ks_db *db, const char *q, char *out, size_t cap, double *scores) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 100;
  ks_results *r = NULL;
  ks_err e;
  if (ks_db_search(db, q, SIZE_MAX, &o, &r, &e) != KS_OK) fail_msg("search %s: %s", q, e.msg);
  out[0] = 0;
  for (size_t i = 0; i < ks_results_count(r); i++) {
    ks_hit h;
    assert_int_equal(ks_results_hit(r, i, &h), KS_OK);
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%.*s", i ? " " : "", (int)h.id_len, h.id);
    if (scores) scores[i] = h.score;
  }
  ks_results_free(r);
}

/* The stored "text" of document id, or "" when it is not live. */
static int has_doc(ks_db *db, const char *id) {
  char *json = NULL;
  ks_err e;
  int rc = ks_db_get(db, id, strlen(id), &json, NULL, &e);
  ks_mem_free(json);
  if (rc != KS_OK && rc != KS_NOTFOUND) fail_msg("get %s: %s", id, e.msg);
  return rc == KS_OK;
}

static void scenario(int threads) {
  char tag[32];
  snprintf(tag, sizeof tag, "live_scn%d", threads);
  const char *dir = ks_test_tmpdir(tag);
  ks_writer *w = open_w(dir, KS_WRITER_UPDATE, threads);
  add(w, "a", "사과 나무 아래에서");
  add(w, "b", "바나나 우유를 마셨다");
  add(w, "c", "체리 사과 파이");
  commit(w);
  ks_writer_stats st;
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_live, 3);
  assert_int_equal(st.generation, 1);
  ks_writer_close(w);

  ks_db *db1 = open_db(dir);
  char buf[512];
  hits(db1, "사과", buf, sizeof buf, NULL);
  assert_true(!strcmp(buf, "a c") || !strcmp(buf, "c a"));

  w = open_w(dir, KS_WRITER_UPDATE, threads);
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_live, 3);
  add(w, "b", "사과 주스와 바나나"); /* upsert */
  ks_err e;
  assert_int_equal(ks_writer_delete(w, "c", 1, &e), KS_OK);
  assert_int_equal(ks_writer_delete(w, "c", 1, &e), KS_NOTFOUND);
  assert_int_equal(ks_writer_delete(w, "zz", 2, &e), KS_NOTFOUND);
  assert_int_equal(ks_writer_delete(w, "", 0, &e), KS_EINPUT);
  add(w, "d", "새 문서 사과");
  assert_int_equal(ks_writer_delete(w, "d", 1, &e), KS_OK); /* added, then deleted */
  add(w, "d", "다시 추가된 사과");
  /* uncommitted: invisible */
  ks_db *none = NULL;
  assert_int_equal(ks_db_reopen(db1, &none, &e), KS_OK);
  assert_null(none);
  commit(w);
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_replaced, 1);
  assert_int_equal(st.docs_deleted, 2);
  assert_int_equal(st.docs_live, 3);
  assert_int_equal(st.generation, 2);

  /* the old snapshot is unchanged; a reopened one sees the commit */
  hits(db1, "사과", buf, sizeof buf, NULL);
  assert_true(!strcmp(buf, "a c") || !strcmp(buf, "c a"));
  assert_true(has_doc(db1, "c"));
  ks_db *db2 = NULL;
  assert_int_equal(ks_db_reopen(db1, &db2, &e), KS_OK);
  assert_non_null(db2);
  hits(db2, "사과", buf, sizeof buf, NULL);
  assert_non_null(strstr(buf, "a"));
  assert_non_null(strstr(buf, "b"));
  assert_non_null(strstr(buf, "d"));
  assert_null(strstr(buf, "c"));
  assert_false(has_doc(db2, "c"));
  assert_true(has_doc(db2, "b"));
  hits(db2, "우유", buf, sizeof buf, NULL);
  assert_string_equal(buf, ""); /* only in the replaced b */
  ks_db_stats ds;
  assert_int_equal(ks_db_get_stats(db2, &ds, &e), KS_OK);
  assert_int_equal(ds.docs, 3);

  /* merge to one segment: no deleted document left, same results */
  double before[16], after[16];
  char b1[512], b2[512];
  hits(db2, "사과 나무", b1, sizeof b1, before);
  assert_int_equal(ks_writer_merge(w, 1, &e), KS_OK);
  commit(w);
  ks_writer_close(w);
  ks_db *db3 = open_db(dir);
  assert_int_equal(ks_db_get_stats(db3, &ds, &e), KS_OK);
  assert_int_equal(ds.segments, 1);
  assert_int_equal(ds.deleted, 0);
  assert_int_equal(ds.docs, 3);
  hits(db3, "사과 나무", b2, sizeof b2, after);
  assert_string_equal(b1, b2);
  for (size_t i = 0; i < 3; i++) assert_true(before[i] == after[i]);

  /* a fresh build of the live documents in the same order scores alike */
  char fresh[64];
  snprintf(fresh, sizeof fresh, "live_fresh%d", threads);
  const char *fdir = ks_test_tmpdir(fresh);
  ks_writer *f = open_w(fdir, KS_WRITER_REPLACE, threads);
  add(f, "a", "사과 나무 아래에서");
  add(f, "b", "사과 주스와 바나나");
  add(f, "d", "다시 추가된 사과");
  commit(f);
  ks_writer_close(f);
  ks_db *dbf = open_db(fdir);
  double fs[16];
  hits(dbf, "사과 나무", buf, sizeof buf, fs);
  assert_string_equal(buf, b2);
  for (size_t i = 0; i < 3; i++) assert_true(fs[i] == before[i]);
  ks_db_close(dbf);

  assert_int_equal(ks_db_check(dir, NULL, NULL, &e), KS_OK);
  ks_db_close(db3);
  ks_db_close(db2);
  ks_db_close(db1);
}

static void test_scenario_threads1(void **state) {
  (void)state;
  scenario(1);
}

static void test_scenario_threads2(void **state) {
  (void)state;
  scenario(2);
}

/* Search results of q as "id:score" lines sorted by id (ties make the
 * rank order depend on document order, the scores do not). */
static void scored(ks_db *db, const char *q, char *out, size_t cap) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 1000;
  ks_results *r = NULL;
  ks_err e;
  if (ks_db_search(db, q, SIZE_MAX, &o, &r, &e) != KS_OK) fail_msg("search %s: %s", q, e.msg);
  size_t n = ks_results_count(r);
  char (*lines)[64] = calloc(n + 1, sizeof *lines);
  assert_non_null(lines);
  for (size_t i = 0; i < n; i++) {
    ks_hit h;
    assert_int_equal(ks_results_hit(r, i, &h), KS_OK);
    snprintf(lines[i], sizeof lines[i], "%.*s:%.12g", (int)h.id_len, h.id, h.score);
  }
  qsort(lines, n, sizeof *lines, (int (*)(const void *, const void *))strcmp);
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(out);
    snprintf(out + l, cap - l, "%s\n", lines[i]);
  }
  free(lines);
  ks_results_free(r);
}

/* Scores before any merge (replaced and deleted documents still on disk
 * in many segments) equal those after merging everything into one
 * segment, where the dictionary's df is exact: the deleted-term tables
 * keep df exact (docs/ranking.md). */
static void test_scores_without_merge(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("live_nomerge");
  char id[32], text[128];
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.merge = 0;
  ks_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_writer_open(dir, &wo, &w, &e), KS_OK);
  for (int round = 0; round < 5; round++) {
    for (int i = 0; i < 60; i++) {
      if ((i + round) % 3 == 0 && round > 0) continue;
      snprintf(id, sizeof id, "doc%d", i);
      snprintf(text, sizeof text, "공통 단어 라운드%d 문서%d %s", round, i % 7,
               i % 2 ? "사과 나무" : "바나나 나무 나무");
      add(w, id, text);
    }
    for (int i = round; i < 60; i += 11) {
      snprintf(id, sizeof id, "doc%d", i);
      int rc = ks_writer_delete(w, id, strlen(id), &e);
      assert_true(rc == KS_OK || rc == KS_NOTFOUND);
    }
    commit(w);
  }
  ks_db *db = open_db(dir);
  ks_db_stats ds;
  assert_int_equal(ks_db_get_stats(db, &ds, &e), KS_OK);
  if (ds.segments < 2) fail_msg("%u segments", ds.segments);
  assert_true(ds.deleted > 0);
  static const char *const qs[] = {"공통", "사과", "나무 바나나", "라운드0 라운드4", "문서3 단어"};
  static char before[5][8192], after[5][8192];
  for (int q = 0; q < 5; q++) scored(db, qs[q], before[q], sizeof before[q]);
  assert_int_equal(ks_db_check(dir, NULL, NULL, &e), KS_OK);
  assert_int_equal(ks_writer_merge(w, 1, &e), KS_OK);
  commit(w);
  ks_writer_close(w);
  ks_db *db2 = NULL;
  assert_int_equal(ks_db_reopen(db, &db2, &e), KS_OK);
  assert_non_null(db2);
  assert_int_equal(ks_db_get_stats(db2, &ds, &e), KS_OK);
  assert_int_equal(ds.segments, 1);
  assert_int_equal(ds.deleted, 0);
  for (int q = 0; q < 5; q++) {
    scored(db2, qs[q], after[q], sizeof after[q]);
    assert_string_equal(before[q], after[q]);
  }
  assert_int_equal(ks_db_check(dir, NULL, NULL, &e), KS_OK);
  ks_db_close(db2);
  ks_db_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scenario_threads1),
      cmocka_unit_test(test_scenario_threads2),
      cmocka_unit_test(test_scores_without_merge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
