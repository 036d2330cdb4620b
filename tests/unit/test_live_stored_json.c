/*
 * test_live_stored_json.c - stored JSON that disagrees with the indexed
 * title/text (regression test). The writer now accepts a re-analysis only
 * when it reproduces the document's recorded lengths and otherwise counts
 * the document from the postings (indexer/delstats.c). The bug was:
 *
 * Stored JSON that disagrees with the indexed title/text. A deleted
 * document's term statistics (its .del's deleted-term table, so that df
 * counts live documents only) are re-derived by analyzing the "title" and
 * "text" of its STORED JSON (indexer/delstats.c), but ks_writer_add never
 * checks that a caller's ks_doc.json holds the title and text it indexes
 * (kosearch/writer.h only asks for "id" and "text"). When they differ -
 * here the JSON has no "title" while ks_doc.title is set - deleting or
 * upserting the document leaves df too high for its title terms: scores
 * then differ from those of a fresh index of the same live documents, and
 * `kosearch check` calls the healthy index corrupt ("N deleted documents
 * contain a term, the deleted-term table says M").
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

static void build(const char *dir, int with_deleted) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.fsync = 0;
  o.threads = 1;
  o.merge = 0;
  ks_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_writer_open(dir, &o, &w, &e), KS_OK);
  static const char *json_a = "{\"id\":\"a\",\"text\":\"보스턴 회의\"}";
  ks_doc a = {.id = "a", .id_len = 1, .title = "대통령", .title_len = strlen("대통령"),
              .text = "보스턴 회의", .text_len = strlen("보스턴 회의"), .json = json_a,
              .json_len = strlen(json_a)};
  ks_doc b = {.id = "b", .id_len = 1, .title = "대통령 연설",
              .title_len = strlen("대통령 연설"), .text = "서울 회의",
              .text_len = strlen("서울 회의")};
  ks_doc c = {.id = "c", .id_len = 1, .text = "경제 협력", .text_len = strlen("경제 협력")};
  if (with_deleted) assert_int_equal(ks_writer_add(w, &a, &e), KS_OK);
  assert_int_equal(ks_writer_add(w, &b, &e), KS_OK);
  assert_int_equal(ks_writer_add(w, &c, &e), KS_OK);
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  if (with_deleted) {
    assert_int_equal(ks_writer_delete(w, "a", 1, &e), KS_OK);
    assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  }
  ks_writer_close(w);
}

static double score_of_b(const char *dir) {
  ks_db *db = NULL;
  ks_err e;
  assert_int_equal(ks_db_open(dir, &db, &e), KS_OK);
  ks_results *r = NULL;
  assert_int_equal(ks_db_search(db, "대통령", SIZE_MAX, NULL, &r, &e), KS_OK);
  assert_int_equal(ks_results_count(r), 1);
  ks_hit h;
  ks_results_hit(r, 0, &h);
  double s = h.score;
  ks_results_free(r);
  ks_db_close(db);
  return s;
}

static void test_json_without_title(void **state) {
  (void)state;
  const char *d1 = ks_test_tmpdir("known_bug_json_deleted");
  char live[4200];
  snprintf(live, sizeof live, "%s", d1);
  build(live, 1);
  const char *d2 = ks_test_tmpdir("known_bug_json_fresh");
  char fresh[4200];
  snprintf(fresh, sizeof fresh, "%s", d2);
  build(fresh, 0);
  ks_err e;
  int rc = ks_db_check(live, NULL, NULL, &e);
  print_message("check of the updated index: rc %d %s\n", rc, rc ? e.msg : "");
  double s1 = score_of_b(live), s2 = score_of_b(fresh);
  print_message("score of b for 대통령: %.17g after the deletion, %.17g in a fresh index\n", s1,
                s2);
  assert_int_equal(rc, KS_OK);
  assert_true(s1 == s2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_without_title),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
