/*
 * test_deletions_corrupt.c - a damaged deletion file (NNNNNN_G.del,
 * docs/format/deletions.md) is refused when the index is opened, like the
 * other file kinds (test_segment_roundtrip.c covers .tid/.doc/.pos/.len/
 * .sto). The subtle case first: moving a deleted bit to another document
 * of the same lengths keeps the count and the deleted lengths, so only the
 * CRC can tell; a reader that skipped it would silently resurrect one
 * document and hide another. Then flipped bytes anywhere and truncations.
 */
#include <dirent.h>
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
#include "ks_test_util.h"

static char dir[4096];
static char delpath[4400];
static char *orig;
static size_t orig_len;

/* 16 documents of identical lengths (three words, two bigrams), then a
 * second commit deleting d0: one segment with 000001_2.del. */
static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("deletions_corrupt"));
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  if (ks_index_writer_open(dir, &wo, &w, NULL) != KS_OK) return -1;
  for (int i = 0; i < 16; i++) {
    char id[8], text[64];
    snprintf(id, sizeof id, "d%d", i);
    snprintf(text, sizeof text, "사과 나무 %c", 'a' + i);
    ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
    if (ks_index_writer_add(w, &d, NULL) != KS_OK) return -1;
  }
  if (ks_index_writer_commit(w, NULL) != KS_OK) return -1;
  if (ks_index_writer_delete(w, "d0", 2, NULL) != KS_OK) return -1;
  if (ks_index_writer_commit(w, NULL) != KS_OK) return -1;
  ks_index_writer_close(w);
  DIR *dh = opendir(dir);
  if (!dh) return -1;
  struct dirent *de;
  delpath[0] = 0;
  while ((de = readdir(dh)))
    if (strlen(de->d_name) > 4 && !strcmp(de->d_name + strlen(de->d_name) - 4, ".del"))
      snprintf(delpath, sizeof delpath, "%s/%s", dir, de->d_name);
  closedir(dh);
  if (!delpath[0]) return -1;
  orig = ks_test_read_file(delpath, &orig_len);
  return orig ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  free(orig);
  return 0;
}

/* Open the index; return its rc and leave the message in *e. */
static int open_rc(ks_err *e) {
  ks_index *ix = NULL;
  int rc = ks_index_open(dir, &ix, e);
  if (rc == KS_OK) ks_index_close(ix);
  return rc;
}

static void restore(void) {
  assert_int_equal(ks_test_write_file(delpath, orig, orig_len), 0);
  ks_err e;
  assert_int_equal(open_rc(&e), KS_OK);
}

static void test_intact(void **state) {
  (void)state;
  restore();
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, NULL), KS_OK);
  ks_index_stats st;
  assert_int_equal(ks_index_get_stats(ix, &st, NULL), KS_OK);
  assert_int_equal(st.docs, 15);
  ks_index_close(ix);
}

static void test_moved_bit(void **state) {
  (void)state;
  restore();
  /* bitmap at offset 40 (header 16 + ndocs, ndeleted, dellen[2]): d0 is
   * bit 0 of byte 40; move it to d1 (same lengths) */
  char *data = malloc(orig_len);
  assert_non_null(data);
  memcpy(data, orig, orig_len);
  assert_int_equal((unsigned char)data[40] & 3, 1);
  data[40] = (char)(((unsigned char)data[40] & ~1u) | 2u);
  assert_int_equal(ks_test_write_file(delpath, data, orig_len), 0);
  ks_err e;
  assert_int_equal(open_rc(&e), KS_ECORRUPT);
  assert_non_null(strstr(e.msg, ".del"));
  free(data);
}

static void test_flips_and_truncations(void **state) {
  (void)state;
  srand(7);
  for (int trial = 0; trial < 40; trial++) {
    restore();
    char *data = malloc(orig_len);
    assert_non_null(data);
    memcpy(data, orig, orig_len);
    size_t at = trial == 0 ? 9 : trial == 1 ? orig_len - 1 : (size_t)rand() % orig_len;
    data[at] ^= (char)(1 + rand() % 255);
    assert_int_equal(ks_test_write_file(delpath, data, orig_len), 0);
    ks_err e;
    int rc = open_rc(&e);
    if (rc != KS_ECORRUPT && rc != KS_EVERSION)
      fail_msg("byte %zu flipped: open gave %d, want KS_ECORRUPT/KS_EVERSION", at, rc);
    assert_non_null(strstr(e.msg, ".del"));
    size_t cut = (size_t)rand() % orig_len;
    assert_int_equal(ks_test_write_file(delpath, orig, cut), 0);
    rc = open_rc(&e);
    if (rc != KS_ECORRUPT && rc != KS_EVERSION)
      fail_msg("truncated to %zu bytes: open gave %d", cut, rc);
    free(data);
  }
  restore();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_intact),
      cmocka_unit_test(test_moved_bit),
      cmocka_unit_test(test_flips_and_truncations),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
