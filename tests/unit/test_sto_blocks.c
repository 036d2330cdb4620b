/*
 * test_sto_blocks.c - the .sto writer's compressed blocks (common/docstore.c,
 * docs/format/sto.md "Compressed block"): whatever library compresses
 * them, every block must be a zlib stream (RFC 1950) that zlib's own
 * uncompress inflates to exactly raw_len bytes, and the segment reader
 * must return every document byte for byte. Covered: small compressible
 * documents, incompressible random bytes (DEFLATE stored blocks), a single
 * document several times the block target, and a long run of one byte;
 * the asynchronous compressor thread must write the identical file.
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

#include "ks_test_util.h"
#include "docstore_int.h"
#include "kosearch/tok.h"
#include "segment_int.h"
#include "segwriter_int.h"

#define NDOCS 300

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static char *docs[NDOCS];
static size_t doclen[NDOCS];

/* "{" + body + "}"; the body's kind depends on d. */
static void make_docs(void) {
  for (uint32_t d = 0; d < NDOCS; d++) {
    size_t n = 40 + rnd() % 3000;
    if (d == 100) n = 100u << 10;  /* random, > 6 block targets */
    if (d == 200) n = 40u << 10;   /* one repeated byte */
    char *s = malloc(n + 2);
    s[0] = '{';
    for (size_t i = 0; i < n; i++) {
      if (d == 200) s[1 + i] = 'x';
      else if (d % 3 == 0) s[1 + i] = (char)(rnd() & 0xff);          /* incompressible */
      else s[1 + i] = "abc def \"ghi\" jklmn "[rnd() % 20];         /* compressible */
    }
    s[n + 1] = '}';
    docs[d] = s;
    doclen[d] = n + 2;
  }
}

static void write_segment(const char *dir, int async) {
  static uint32_t lens[NDOCS * KS_NFIELDS];
  for (uint32_t d = 0; d < NDOCS; d++) lens[d * KS_NFIELDS] = 1;
  ks_segw *w;
  ks_err e;
  assert_int_equal(ks_segw_open(&w, dir, 1, NDOCS, lens, 0, &e), KS_OK);
  assert_int_equal(ks_segw_begin_term(w, "\x00t", 2, &e), KS_OK);
  uint32_t pos = 0;
  for (uint32_t d = 0; d < NDOCS; d++) assert_int_equal(ks_segw_add(w, d, 1, &pos, &e), KS_OK);
  assert_int_equal(ks_segw_end_term(w, &e), KS_OK);
  assert_int_equal(ks_segw_finish(w, &e), KS_OK);
  ks_stow *s;
  assert_int_equal(ks_stow_open(&s, dir, 1, 0, &e), KS_OK);
  if (async) assert_int_equal(ks_stow_set_async(s, &e), KS_OK);
  for (uint32_t d = 0; d < NDOCS; d++) {
    char id[32];
    int il = snprintf(id, sizeof id, "d%u", d);
    assert_int_equal(ks_stow_add(s, id, (size_t)il, docs[d], doclen[d], &e), KS_OK);
  }
  assert_int_equal(ks_stow_finish(s, &e), KS_OK);
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Walk the block index of the raw file: each block is a zlib stream that
 * zlib inflates to raw_len bytes; returns the number of blocks. */
static uint32_t check_blocks_with_zlib(const uint8_t *f, size_t len) {
  uint64_t comp_total = 0;
  assert_true(len > 16 + 40 + 20);
  /* Format version 2: the body ends at the u64 of the page tail, 20 bytes
   * before the end (docs/format/README.md section 2); the .sto trailer is
   * the body's last 40 bytes. */
  const uint8_t *tr = f + le64(f + len - 20) - 40;
  assert_int_equal(le32(tr), NDOCS);
  uint32_t nblocks = le32(tr + 4);
  uint64_t index_off = le64(tr + 8);
  size_t raw_total = 0;
  uint8_t *out = malloc(1u << 20);
  for (uint32_t b = 0; b < nblocks; b++) {
    const uint8_t *ent = f + index_off + 20u * b;
    uint32_t raw_len = le32(ent + 4), comp_len = le32(ent + 16);
    uint64_t off = le64(ent + 8);
    assert_true(off + comp_len <= index_off);
    assert_true(raw_len <= (1u << 20));
    /* RFC 1950 header: CM 8 / CINFO <= 7, header checksum */
    assert_int_equal(f[off] & 0x0f, 8);
    assert_true((f[off] >> 4) <= 7);
    assert_int_equal(((unsigned)f[off] << 8 | f[off + 1]) % 31, 0);
    uLongf got = 1u << 20;
    assert_int_equal(uncompress(out, &got, f + off, comp_len), Z_OK);
    assert_int_equal(got, raw_len);
    raw_total += got;
    comp_total += comp_len;
  }
  free(out);
  size_t want = 0;
  for (uint32_t d = 0; d < NDOCS; d++) want += doclen[d] + (doclen[d] < 128 ? 1 : doclen[d] < 16384 ? 2 : 3);
  assert_int_equal(raw_total, want); /* varint length + JSON per document */
  assert_true(comp_total < raw_total); /* it did compress (a third is random) */
  return nblocks;
}

static void test_blocks_are_zlib_streams(void **state) {
  (void)state;
  make_docs();
  char dir[2][4096];
  uint8_t *file[2];
  size_t flen[2];
  for (int async = 0; async < 2; async++) {
    snprintf(dir[async], sizeof dir[async], "%s", ks_test_tmpdir(async ? "sto_blocks_async" : "sto_blocks"));
    write_segment(dir[async], async);
    char p[4200];
    snprintf(p, sizeof p, "%s/000001.sto", dir[async]);
    file[async] = (uint8_t *)ks_test_read_file(p, &flen[async]);
    assert_non_null(file[async]);
    uint32_t nblocks = check_blocks_with_zlib(file[async], flen[async]);
    assert_true(nblocks > 20);
    /* the reader returns every document unchanged */
    ks_segment *seg;
    ks_err e;
    assert_int_equal(ks_segment_open(dir[async], 1, 1, &seg, &e), KS_OK);
    assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
    ks_buf b = KS_BUF_INIT;
    for (uint32_t d = 0; d < NDOCS; d++) {
      ks_buf_reset(&b);
      assert_int_equal(ks_segment_doc_json(seg, d, &b, &e), KS_OK);
      assert_int_equal(b.len, doclen[d]);
      assert_memory_equal(b.data, docs[d], doclen[d]);
    }
    ks_buf_free(&b);
    ks_segment_close(seg);
  }
  /* same blocks, same compressor, same order: identical files */
  assert_int_equal(flen[0], flen[1]);
  assert_memory_equal(file[0], file[1], flen[0]);
  for (int i = 0; i < 2; i++) free(file[i]);
  for (uint32_t d = 0; d < NDOCS; d++) free(docs[d]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocks_are_zlib_streams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
