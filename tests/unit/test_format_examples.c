/*
 * test_format_examples.c - the worked examples of docs/format/ (tid.md,
 * postings.md, lengths.md, sto.md, manifest.md, deletions.md) are real
 * writer output: this test
 * writes the three example segments with the real writers (ks_segw,
 * ks_stow), runs the integrity check on each, and compares every file's
 * size and whole-file CRC32 with the values the specs print. When a writer
 * changes the bytes, it fails: regenerate the examples (set
 * KS_EXAMPLES_OUT=DIR to keep the files, e.g. for xxd) and update the
 * specs and the constants below together.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deletions_int.h"
#include "dict_int.h"
#include "docstore_int.h"
#include "ks_test_util.h"
#include "manifest_int.h"
#include "segment_int.h"
#include "segwriter_int.h"

typedef struct ex_post { uint32_t doc, tf; const uint32_t *pos; } ex_post;

static void add_term(ks_segw *w, int field, const char *term, const ex_post *p, uint32_t n) {
  char key[64];
  size_t kl = ks_term_key(key, field, term, strlen(term));
  ks_err e;
  assert_int_equal(ks_segw_begin_term(w, key, kl, &e), KS_OK);
  for (uint32_t i = 0; i < n; i++)
    assert_int_equal(ks_segw_add(w, p[i].doc, p[i].tf, p[i].pos, &e), KS_OK);
  assert_int_equal(ks_segw_end_term(w, &e), KS_OK);
}

static void write_sto(const char *dir, uint32_t ndocs, const char *const *json) {
  ks_stow *s;
  ks_err e;
  assert_int_equal(ks_stow_open(&s, dir, 1, 0, &e), KS_OK);
  for (uint32_t d = 0; d < ndocs; d++) {
    char id[16], buf[64];
    snprintf(id, sizeof id, "d%u", d);
    const char *j = json ? json[d] : buf;
    if (!json) snprintf(buf, sizeof buf, "{\"id\":\"d%u\"}", d);
    assert_int_equal(ks_stow_add(s, id, strlen(id), j, strlen(j), &e), KS_OK);
  }
  assert_int_equal(ks_stow_finish(s, &e), KS_OK);
}

/* Check the segment, compare sizes and CRCs (0: not printed by the specs,
 * e.g. .sto files whose compressed bytes depend on libdeflate's version),
 * keep the files if asked. */
static void finish(const char *dir, const char *tag, const size_t *size,
                   const uint32_t *crc) {
  ks_segment *seg;
  ks_err e;
  assert_int_equal(ks_segment_open(dir, 1, 1, &seg, &e), KS_OK);
  assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
  ks_segment_close(seg);
  const char *exts[] = {".tid", ".doc", ".pos", ".len", ".sto"};
  const char *out = getenv("KS_EXAMPLES_OUT");
  for (int i = 0; i < 5; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/000001%s", dir, exts[i]);
    size_t len;
    unsigned char *f = (unsigned char *)ks_test_read_file(path, &len);
    assert_non_null(f);
    uint32_t c = (uint32_t)f[len - 4] | (uint32_t)f[len - 3] << 8 |
                 (uint32_t)f[len - 2] << 16 | (uint32_t)f[len - 1] << 24;
    if (out) {
      printf("%s%s: %zu bytes, CRC32 0x%08x\n", tag, exts[i], len, c);
      ks_test_system("mkdir -p '%s/%s' && cp '%s' '%s/%s/'", out, tag, path, out, tag);
    } else if (size[i]) {
      if (len != size[i] || c != crc[i])
        fail_msg("%s%s: %zu bytes, CRC32 0x%08x; the spec says %zu bytes, 0x%08x",
                 tag, exts[i], len, c, size[i], crc[i]);
    }
    free(f);
  }
}

/* tid.md, lengths.md, sto.md, postings.md 9.3: three documents. */
static void test_three_documents(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("format_ex3");
  const uint32_t lens[] = {2, 0, 2, 0, 2, 2};
  static const uint32_t p0[] = {0}, p1[] = {1}, p01[] = {0, 1};
  ks_segw *w;
  ks_err e;
  assert_int_equal(ks_segw_open(&w, dir, 1, 3, lens, 0, &e), KS_OK);
  add_term(w, 0, "cat", (ex_post[]){{0, 1, p0}}, 1);
  add_term(w, 0, "dog", (ex_post[]){{0, 1, p1}, {1, 2, p01}}, 2);
  add_term(w, 0, "대통령", (ex_post[]){{2, 1, p0}}, 1);
  add_term(w, 0, "대통령은", (ex_post[]){{2, 1, p0}}, 1);
  add_term(w, 1, "대통", (ex_post[]){{2, 1, p0}}, 1);
  add_term(w, 1, "통령", (ex_post[]){{2, 1, p1}}, 1);
  assert_int_equal(ks_segw_finish(w, &e), KS_OK);
  const char *json[] = {"{\"id\":\"d0\",\"text\":\"cat dog\"}",
                        "{\"id\":\"d1\",\"text\":\"dog dog\"}",
                        "{\"id\":\"d2\",\"text\":\"대통령은\"}"};
  write_sto(dir, 3, json);
  const size_t size[] = {200, 94, 82, 92, 230};
  const uint32_t crc[] = {0x1c2e53f1, 0x7e1b779c, 0xde39f0b3, 0x3c210363, 0xbbf7c26f};
  finish(dir, "three", size, crc);
}

/* postings.md 9.1: one term, one block, multi-byte values. */
static void test_one_block(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("format_ex301");
  static uint32_t lens[301 * 2];
  lens[3 * 2] = 1;
  lens[7 * 2] = 2;
  lens[300 * 2] = 1;
  static const uint32_t a[] = {4}, b[] = {0, 9}, c[] = {1000};
  ks_segw *w;
  ks_err e;
  assert_int_equal(ks_segw_open(&w, dir, 1, 301, lens, 0, &e), KS_OK);
  add_term(w, 0, "ab", (ex_post[]){{3, 1, a}, {7, 2, b}, {300, 1, c}}, 3);
  assert_int_equal(ks_segw_finish(w, &e), KS_OK);
  write_sto(dir, 301, NULL);
  const size_t size[] = {130, 77, 74, 2476, 0};
  const uint32_t crc[] = {0xde91fc06, 0x442f234c, 0xa3dfe17a, 0xe269161c, 0};
  finish(dir, "onebl", size, crc);
}

/* postings.md 9.2: two blocks and the skip table. */
static void test_two_blocks(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("format_ex130");
  static uint32_t lens[130 * 2];
  static ex_post p[130];
  static const uint32_t pos[] = {0, 1, 2};
  for (uint32_t d = 0; d < 130; d++) {
    p[d] = (ex_post){d, 1 + d % 3, pos};
    lens[d * 2] = 1 + d % 3;
  }
  ks_segw *w;
  ks_err e;
  assert_int_equal(ks_segw_open(&w, dir, 1, 130, lens, 0, &e), KS_OK);
  add_term(w, 0, "x", p, 130);
  assert_int_equal(ks_segw_finish(w, &e), KS_OK);
  write_sto(dir, 130, NULL);
  const size_t size[] = {132, 434, 392, 1108, 0};
  const uint32_t crc[] = {0x78f633b9, 0xf26a7fb3, 0x5c34f71b, 0xb9734649, 0};
  finish(dir, "twobl", size, crc);
}

/* The whole file `name` of dir against the spec's size and CRC32. */
static void pin(const char *dir, const char *name, size_t size, uint32_t crc) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t len;
  unsigned char *f = (unsigned char *)ks_test_read_file(path, &len);
  assert_non_null(f);
  uint32_t c = (uint32_t)f[len - 4] | (uint32_t)f[len - 3] << 8 |
               (uint32_t)f[len - 2] << 16 | (uint32_t)f[len - 1] << 24;
  if (len != size || c != crc)
    fail_msg("%s: %zu bytes, CRC32 0x%08x; the spec says %zu bytes, 0x%08x", name, len, c,
             size, crc);
  free(f);
}

/* manifest.md and deletions.md: generation 2 of an index whose segment 1
 * has 3 documents, document 0 ("사과 나무") deleted. */
static void test_manifest_and_deletions(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("fmt_ex_man");
  ks_manifest m;
  memset(&m, 0, sizeof m);
  ks_manifest_seg segs[2] = {{4, 130, 0, 0}, {1, 3, 1, 2}};
  m.generation = 2;
  m.index_id = 0x5f3c9a1e7b2d4086ull;
  m.next_segno = 5;
  m.tok_version = 1;
  m.tok.stems = m.tok.bigrams = m.tok.min_stem = 1;
  m.nsegs = 2;
  m.segs = segs;
  ks_err e;
  assert_int_equal(ks_manifest_write(dir, &m, 0, &e), KS_OK);
  pin(dir, "MANIFEST", 108, 0xe79d6293);
  pin(dir, "MANIFEST.2", 108, 0xe79d6293);
  uint8_t bm[1] = {1};
  uint64_t dellen[2] = {2, 2};
  char k[4][64];
  size_t kl[4];
  kl[0] = ks_term_key(k[0], KS_FIELD_WORD, "나무", strlen("나무"));
  kl[1] = ks_term_key(k[1], KS_FIELD_WORD, "사과", strlen("사과"));
  kl[2] = ks_term_key(k[2], KS_FIELD_BIGRAM, "나무", strlen("나무"));
  kl[3] = ks_term_key(k[3], KS_FIELD_BIGRAM, "사과", strlen("사과"));
  ks_deleted_term t[4];
  for (int i = 0; i < 4; i++) t[i] = (ks_deleted_term){(const uint8_t *)k[i], (uint32_t)kl[i], 1};
  assert_int_equal(ks_deletions_write(dir, 1, 2, 3, bm, 1, dellen, t, 4, 0, &e), KS_OK);
  pin(dir, "000001_2.del", 113, 0x8ac67dc2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_manifest_and_deletions),
      cmocka_unit_test(test_three_documents),
      cmocka_unit_test(test_one_block),
      cmocka_unit_test(test_two_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
