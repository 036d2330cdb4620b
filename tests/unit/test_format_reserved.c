/*
 * test_format_reserved.c - reserved fields and padding are zero or the file
 * is refused (docs/format/README.md, "Reserved means zero"; issue 13
 * defect 2): the `.tid` trailer's reserved word, the `.doc` and `.pos`
 * padding, the MANIFEST entry's reserved word. Each file is changed and
 * its checksums recomputed (page table, table-page table, tail CRC, file
 * CRC: docs/format/README.md section 2.1), so only the structural check
 * can refuse it - as a faulty writer's file would look - and both opening
 * and `check` must.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "index.h"
#include "index_writer.h"
#include "ks_test_util.h"

static char dir[4096];

static uint32_t ld32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64(const unsigned char *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static void st32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* sum(bytes, i): CRC32 of the bytes followed by i as a u64 (README 2.1). */
static uint32_t page_sum(const unsigned char *b, size_t n, uint64_t i) {
  unsigned char le[8];
  for (int k = 0; k < 8; k++) le[k] = (unsigned char)(i >> (8 * k));
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, b, (uInt)n);
  return (uint32_t)crc32(c, le, 8);
}

/* Recompute every checksum of a file (paged when `paged`). */
static void restamp(unsigned char *d, size_t n, int paged) {
  if (paged) {
    uint64_t body = ld64(d + n - 20);
    uint64_t n1 = (body + 4095) / 4096, t = body + 4 * n1;
    for (uint64_t i = 0; i < n1; i++) {
      uint64_t a = 4096 * i, b = a + 4096 < body ? a + 4096 : body;
      st32(d + body + 4 * i, page_sum(d + a, (size_t)(b - a), i));
    }
    uint64_t n2 = (4 * n1 + 4095) / 4096;
    for (uint64_t j = 0; j < n2; j++) {
      uint64_t a = body + 4096 * j, b = a + 4096 < t ? a + 4096 : t;
      st32(d + t + 4 * j, page_sum(d + a, (size_t)(b - a), j));
    }
    st32(d + n - 8, (uint32_t)crc32(crc32(0L, Z_NULL, 0), d + t, (uInt)(n - 8 - t)));
  }
  st32(d + n - 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), d, (uInt)(n - 4)));
}

static void build(void) {
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("format_reserved"));
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.mode = KS_WRITER_REPLACE;
  ks_index_writer *w = NULL;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, NULL), KS_OK);
  const char *texts[] = {"사과 나무", "배 나무", "감 열매"};
  for (int i = 0; i < 3; i++) {
    char id[8];
    snprintf(id, sizeof id, "d%d", i);
    ks_doc d = {.id = id, .id_len = strlen(id), .text = texts[i], .text_len = strlen(texts[i])};
    assert_int_equal(ks_index_writer_add(w, &d, NULL), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
}

/* Set byte `at` (from the end of the body when at < 0) of the file to
 * `value`, restamp, and expect open and check to refuse it with `what` in
 * the message; then rebuild. */
static void expect_refused(const char *name, int paged, long at_from_body_end,
                           unsigned char value, const char *what) {
  build();
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t n;
  unsigned char *d = (unsigned char *)ks_test_read_file(path, &n);
  assert_non_null(d);
  size_t body = paged ? (size_t)ld64(d + n - 20) : n - 4;
  size_t at = (size_t)((long)body + at_from_body_end);
  assert_int_equal(d[at], 0); /* written as zero */
  d[at] = value;
  restamp(d, n, paged);
  assert_int_equal(ks_test_write_file(path, d, n), 0);
  free(d);
  ks_index *ix = NULL;
  ks_err e;
  int rc = ks_index_open(dir, &ix, &e);
  if (rc == KS_OK) ks_index_close(ix);
  if (rc != KS_ECORRUPT) fail_msg("%s: open gave %d, want KS_ECORRUPT", name, rc);
  if (!strstr(e.msg, what)) fail_msg("%s: message [%s] lacks [%s]", name, e.msg, what);
  rc = ks_index_check(dir, NULL, NULL, &e);
  if (rc != KS_ECORRUPT) fail_msg("%s: check gave %d, want KS_ECORRUPT", name, rc);
}

static void test_intact_after_restamp(void **state) {
  (void)state;
  build();
  /* restamping an unchanged file changes nothing: the helper is right */
  const char *names[] = {"000001.tid", "000001.doc", "000001.pos", "MANIFEST"};
  for (int i = 0; i < 4; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    size_t n;
    unsigned char *d = (unsigned char *)ks_test_read_file(path, &n);
    assert_non_null(d);
    unsigned char *c = malloc(n);
    memcpy(c, d, n);
    restamp(c, n, i < 3);
    assert_memory_equal(c, d, n);
    free(c);
    free(d);
  }
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, NULL), KS_OK);
  ks_index_close(ix);
}

static void test_tid_reserved(void **state) {
  (void)state;
  /* trailer at B - 40, reserved word at +36 */
  expect_refused("000001.tid", 1, -40 + 36, 1, "bad trailer");
  expect_refused("000001.tid", 1, -40 + 39, 0x80, "bad trailer");
}

static void test_postings_padding(void **state) {
  (void)state;
  /* data-end trailer (8 bytes) at B - 8; the padding is the 16 bytes
   * before it */
  expect_refused("000001.doc", 1, -8 - 16, 1, "nonzero padding");
  expect_refused("000001.doc", 1, -8 - 1, 0xff, "nonzero padding");
  expect_refused("000001.pos", 1, -8 - 7, 2, "nonzero padding");
}

static void test_manifest_reserved(void **state) {
  (void)state;
  /* one 24-byte entry after the 40-byte fields at 16: reserved at +12 */
  expect_refused("MANIFEST", 0, -24 + 12, 1, "bad segment entry");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_intact_after_restamp),
      cmocka_unit_test(test_tid_reserved),
      cmocka_unit_test(test_postings_padding),
      cmocka_unit_test(test_manifest_reserved),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
