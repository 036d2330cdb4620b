/*
 * test_segment_find_id.c - the id hash table of .sto (format version 2)
 * and ks_segment_find_id (docstore_int.h), ks_index_find_id (index.h):
 * many ids, ids that are prefixes of one another or share long prefixes,
 * UTF-8 ids, absent ids (err untouched), a segment where ids repeat (the
 * entries that share a hash, as a 64-bit collision would, are each
 * compared with the id; the deletion bitmap excludes documents), an empty
 * segment, replaced documents across segments of an index; the hash's
 * reference values (docs/format/sto.md); and `check` finding a table that
 * is out of order, has a wrong hash or lists a document twice although
 * its checksums are valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docstore_int.h"
#include "index.h"
#include "index_writer.h"
#include "ks_buf.h"
#include "ks_test_util.h"
#include "segment_int.h"
#include "segwriter_int.h"

/* A segment of n documents without terms whose ids are ids[d]. */
static void write_ids(const char *dir, uint32_t segno, uint32_t n, char **ids) {
  uint32_t *lens = calloc((size_t)n * KS_NFIELDS + 1, sizeof *lens);
  ks_segw *w;
  ks_err e;
  assert_int_equal(ks_segw_open(&w, dir, segno, n, lens, 0, &e), KS_OK);
  assert_int_equal(ks_segw_finish(w, &e), KS_OK);
  ks_stow *s;
  assert_int_equal(ks_stow_open(&s, dir, segno, 0, &e), KS_OK);
  for (uint32_t d = 0; d < n; d++)
    assert_int_equal(ks_stow_add(s, ids[d], strlen(ids[d]), "{}", 2, &e), KS_OK);
  assert_int_equal(ks_stow_finish(s, &e), KS_OK);
  free(lens);
}

static ks_segment *open_seg(const char *dir, uint32_t segno) {
  ks_segment *seg;
  ks_err e;
  if (ks_segment_open(dir, segno, 1, &seg, &e) != KS_OK) fail_msg("%s", e.msg);
  return seg;
}

static void expect_absent(const ks_segment *seg, const char *id, size_t len) {
  ks_err e;
  e.rc = 12345;
  uint32_t local = 777;
  assert_int_equal(ks_segment_find_id(seg, id, len, NULL, &local, &e), KS_NOTFOUND);
  assert_int_equal(e.rc, 12345); /* err untouched */
  assert_int_equal(local, 777);
}

#define NMANY 3000

static void test_many_ids(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("find_id_many");
  char **ids = calloc(NMANY, sizeof *ids);
  for (uint32_t d = 0; d < NMANY; d++) {
    char b[300];
    if (d < 1000) {
      snprintf(b, sizeof b, "doc-%u", d);
    } else if (d < 1200) { /* "a", "aa", ...: each a prefix of the next */
      memset(b, 'a', d - 999);
      b[d - 999] = 0;
    } else if (d < 2000) { /* a long shared prefix, different endings */
      snprintf(b, sizeof b, "https://ko.wikipedia.org/wiki?curid=%u", d * 7919u);
    } else {
      snprintf(b, sizeof b, "문서-%u-끝", d);
    }
    ids[d] = strdup(b);
  }
  write_ids(dir, 1, NMANY, ids);
  ks_segment *seg = open_seg(dir, 1);
  ks_err e;
  for (uint32_t d = 0; d < NMANY; d++) {
    uint32_t local = UINT32_MAX;
    assert_int_equal(ks_segment_find_id(seg, ids[d], strlen(ids[d]), NULL, &local, &e), KS_OK);
    assert_int_equal(local, d);
  }
  const char *absent[] = {"doc-3000", "doc-", "doc", "doc-1x", "doc-01", "b",
                          "https://ko.wikipedia.org/wiki?curid=", "문서-", "문서-2000-",
                          "Doc-1"};
  for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
    expect_absent(seg, absent[i], strlen(absent[i]));
  expect_absent(seg, "", 0);
  expect_absent(seg, "doc-1", 6); /* with the NUL byte */
  char longer[300];
  memset(longer, 'a', 201);
  expect_absent(seg, longer, 201); /* one more 'a' than the longest */
  assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
  ks_segment_close(seg);
  for (uint32_t d = 0; d < NMANY; d++) free(ids[d]);
  free(ids);
}

static void test_duplicates_and_deletions(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("find_id_dups");
  enum { N = 50, K = 7 };
  char *ids[N];
  for (uint32_t d = 0; d < N; d++) {
    char b[16];
    snprintf(b, sizeof b, "k%u", d % K); /* each id 7 or 8 times */
    ids[d] = strdup(b);
  }
  write_ids(dir, 3, N, ids);
  ks_segment *seg = open_seg(dir, 3);
  ks_err e;
  uint8_t del[(N + 7) / 8];
  for (uint32_t k = 0; k < K; k++) {
    char id[16];
    snprintf(id, sizeof id, "k%u", k);
    uint32_t local;
    /* No exclusion: any of the documents with this id. */
    assert_int_equal(ks_segment_find_id(seg, id, strlen(id), NULL, &local, &e), KS_OK);
    assert_true(local < N && local % K == k);
    /* All but the last deleted: that one. */
    uint32_t last = k + K * ((N - 1 - k) / K);
    memset(del, 0, sizeof del);
    for (uint32_t d = k; d < last; d += K) del[d >> 3] |= (uint8_t)(1u << (d & 7));
    assert_int_equal(ks_segment_find_id(seg, id, strlen(id), del, &local, &e), KS_OK);
    assert_int_equal(local, last);
    /* All but the first deleted. */
    memset(del, 0, sizeof del);
    for (uint32_t d = k + K; d < N; d += K) del[d >> 3] |= (uint8_t)(1u << (d & 7));
    assert_int_equal(ks_segment_find_id(seg, id, strlen(id), del, &local, &e), KS_OK);
    assert_int_equal(local, k);
    /* All deleted: none. */
    del[k >> 3] |= (uint8_t)(1u << (k & 7));
    e.rc = 999;
    assert_int_equal(ks_segment_find_id(seg, id, strlen(id), del, &local, &e), KS_NOTFOUND);
    assert_int_equal(e.rc, 999);
  }
  expect_absent(seg, "k7", 2);
  expect_absent(seg, "k", 1);
  assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
  ks_segment_close(seg);
  for (uint32_t d = 0; d < N; d++) free(ids[d]);
}

static void test_empty_segment(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("find_id_empty");
  write_ids(dir, 1, 0, NULL);
  ks_segment *seg = open_seg(dir, 1);
  expect_absent(seg, "x", 1);
  ks_err e;
  assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
  ks_segment_close(seg);
}

/* Reference values of ks_id_hash, also given in docs/format/sto.md and
 * computed there by an independent Python transcription. */
static void test_hash_reference_values(void **state) {
  (void)state;
  assert_true(ks_id_hash("", 0) == 0xefd01f60ba992926ull);
  assert_true(ks_id_hash("d0", 2) == 0xfa23dc72dbeb8218ull);
  assert_true(ks_id_hash("kowiki-2342", 11) == 0xebf516b3ccf18c21ull);
  assert_true(ks_id_hash("대통령", strlen("대통령")) == 0x790c104b74eb55e5ull);
}

/* The offset of the id hash table and ndocs, from the raw .sto file. */
static uint64_t le(const char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | (unsigned char)p[i];
  return v;
}

static void expect_check_error(const char *dir, const char *what) {
  ks_segment *seg = open_seg(dir, 1); /* checksums valid: it opens */
  ks_err e;
  assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_ECORRUPT);
  if (!strstr(e.msg, what)) fail_msg("expected \"%s\" in: %s", what, e.msg);
  ks_segment_close(seg);
}

static void test_check_finds_bad_tables(void **state) {
  (void)state;
  const char *dir0 = ks_test_tmpdir("find_id_check");
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", dir0);
  snprintf(path, sizeof path, "%s/000001.sto", dir);
  enum { N = 40 };
  char *ids[N];
  for (uint32_t d = 0; d < N; d++) {
    char b[16];
    snprintf(b, sizeof b, "id%u", d);
    ids[d] = strdup(b);
  }
  for (int kind = 0; kind < 3; kind++) {
    write_ids(dir, 1, N, ids);
    size_t len;
    char *f = ks_test_read_file(path, &len);
    assert_non_null(f);
    uint64_t body = le(f + len - 20, 8);
    uint64_t hash_off = le(f + body - 8, 8);
    char *t = f + hash_off;
    char tmp[12];
    if (kind == 0) { /* swap entries 3 and 4 */
      memcpy(tmp, t + 36, 12);
      memcpy(t + 36, t + 48, 12);
      memcpy(t + 48, tmp, 12);
    } else if (kind == 1) { /* entry 5 names another document (same hash) */
      t[60 + 8] ^= 1;
    } else { /* entry 6 repeats entry 5 */
      memcpy(t + 72, t + 60, 12);
    }
    assert_int_equal(ks_test_write_file(path, f, len), 0);
    assert_int_equal(ks_test_reseal(path), 0);
    free(f);
    expect_check_error(dir, kind == 0 ? "out of order"
                            : kind == 1 ? "does not match"
                                        : "listed twice");
  }
  for (uint32_t d = 0; d < N; d++) free(ids[d]);
}

/* Index level: replaced documents (deleted in their older segment) and
 * documents of several segments; the newest live copy is found. */
static void test_index_find_id(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("find_id_index");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.merge = 0;
  wo.mem_budget = 1; /* the smallest budget (1 MiB): several segments */
  ks_index_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, &e), KS_OK);
  enum { N = 300 };
  for (int round = 0; round < 2; round++)
    for (uint32_t i = 0; i < N; i++) {
      if (round == 1 && i % 3) continue; /* replace every third document */
      char id[32], text[4096];
      snprintf(id, sizeof id, "doc%u", i);
      int n = snprintf(text, sizeof text, "round%d word%u 대통령%u", round, i, i % 11);
      for (int j = 0; j < 150; j++) /* unique terms fill the memory budget */
        n += snprintf(text + n, sizeof text - (size_t)n, " u%dx%ux%d", round, i, j);
      ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
      assert_int_equal(ks_index_writer_add(w, &d, &e), KS_OK);
    }
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  ks_index *ix;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_OK);
  ks_index_stats st;
  assert_int_equal(ks_index_get_stats(ix, &st, &e), KS_OK);
  assert_true(st.segments > 1);
  assert_int_equal(st.docs, N);
  assert_int_equal(st.deleted, N / 3);
  for (uint32_t i = 0; i < N; i++) {
    char id[32];
    snprintf(id, sizeof id, "doc%u", i);
    uint64_t doc;
    assert_int_equal(ks_index_find_id(ix, id, strlen(id), &doc, &e), KS_OK);
    const char *got;
    size_t gl;
    assert_int_equal(ks_index_doc_id(ix, doc, &got, &gl, &e), KS_OK);
    assert_int_equal(gl, strlen(id));
    assert_memory_equal(got, id, gl);
    char *json;
    assert_int_equal(ks_index_doc_json(ix, doc, &json, NULL, &e), KS_OK);
    char want[16];
    snprintf(want, sizeof want, "round%d", i % 3 ? 0 : 1);
    assert_non_null(strstr(json, want));
    ks_mem_free(json);
  }
  uint64_t doc = 42;
  e.rc = 4242;
  assert_int_equal(ks_index_find_id(ix, "doc300", 6, &doc, &e), KS_NOTFOUND);
  assert_int_equal(e.rc, 4242);
  assert_int_equal(doc, 42);
  ks_index_close(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_ids),
      cmocka_unit_test(test_duplicates_and_deletions),
      cmocka_unit_test(test_empty_segment),
      cmocka_unit_test(test_hash_reference_values),
      cmocka_unit_test(test_check_finds_bad_tables),
      cmocka_unit_test(test_index_find_id),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
