/*
 * test_live_rebuild.c - ks_db_reopen after the index directory was
 * removed and built again while the reader was open (regression test).
 *
 * A new index numbers its commits and segments from 1 again, so a commit
 * known by its generation only and a segment by (number, .del generation)
 * only would make ks_db_reopen return NULL ("nothing changed") for a
 * different index, and later share the removed index's segment 000001
 * (still mapped by the old handle): finding "apple", which the index no
 * longer has, and missing "banana". The MANIFEST's random index id, chosen
 * when an index is created, tells the two apart (searcher/index.c,
 * ks_index_reopen and shared_segment).
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

static void commit_doc(const char *dir, const char *id, const char *text) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.fsync = 0;
  o.threads = 1;
  ks_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_writer_open(dir, &o, &w, &e), KS_OK);
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  assert_int_equal(ks_writer_add(w, &d, &e), KS_OK);
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_close(w);
}

static int hits(ks_db *db, const char *q) {
  ks_results *r = NULL;
  ks_err e;
  assert_int_equal(ks_db_search(db, q, SIZE_MAX, NULL, &r, &e), KS_OK);
  int n = (int)ks_results_count(r);
  ks_results_free(r);
  return n;
}

static void test_reopen_after_rebuild(void **state) {
  (void)state;
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("known_bug_rebuild"));
  commit_doc(dir, "a", "apple");
  ks_db *db = NULL;
  ks_err e;
  assert_int_equal(ks_db_open(dir, &db, &e), KS_OK);
  ks_test_system("rm -rf '%s'", dir);
  commit_doc(dir, "b", "banana");
  ks_db *n1 = NULL;
  assert_int_equal(ks_db_reopen(db, &n1, &e), KS_OK);
  print_message("after the rebuild: ks_db_reopen returned %s\n", n1 ? "a handle" : "NULL");
  commit_doc(dir, "c", "cherry");
  ks_db *n2 = NULL;
  assert_int_equal(ks_db_reopen(n1 ? n1 : db, &n2, &e), KS_OK);
  assert_non_null(n2);
  int apple = hits(n2, "apple"), banana = hits(n2, "banana"), cherry = hits(n2, "cherry");
  print_message("after one more commit: apple %d, banana %d, cherry %d (want 0 1 1)\n", apple,
                banana, cherry);
  ks_db_close(n2);
  ks_db_close(n1);
  ks_db_close(db);
  assert_non_null(n1);
  assert_int_equal(apple, 0);
  assert_int_equal(banana, 1);
  assert_int_equal(cherry, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reopen_after_rebuild),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
