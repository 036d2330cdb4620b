/*
 * test_codec.c - round trips of the postings integer codec (codec_int.h)
 * and of the varint helpers (ks_buf.h) on edge cases and random data, and
 * truncated/corrupt input that must be refused without reading past the
 * end (run under ASan to make the last part meaningful).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_int.h"
#include "ks_buf.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

/* Encode n values into a buffer of exactly the encoded size (heap, so ASan
 * sees any overread), decode, compare. */
static void roundtrip(const uint32_t *in, uint32_t n) {
  uint8_t *enc = malloc(ks_codec_max_bytes(n) + 1);
  size_t len = ks_codec_encode(in, n, enc);
  if (n == 0) { assert_int_equal(len, 0); free(enc); return; }
  uint8_t *exact = malloc(len + KS_CODEC_PAD);
  memcpy(exact, enc, len);
  memset(exact + len, 0, KS_CODEC_PAD);
  uint32_t *out = calloc(n, sizeof *out);
  assert_int_equal(ks_codec_encoded_size(exact, exact + len, n), len);
  assert_int_equal(ks_codec_decode(exact, exact + len, out, n), len);
  assert_memory_equal(in, out, n * sizeof *in);
  /* Every truncation is refused. */
  for (size_t cut = 0; cut < len; cut += (len > 64 ? len / 16 : 1))
    assert_int_equal(ks_codec_decode(exact, exact + cut, out, n), 0);
  free(out); free(exact); free(enc);
}

static void test_edge_sizes(void **state) {
  (void)state;
  uint32_t sizes[] = {0, 1, 2, 3, 4, 5, 127, 128, 129, 255, 256, 1000};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    uint32_t n = sizes[s];
    uint32_t *v = malloc((n + 1) * sizeof *v);
    for (int pattern = 0; pattern < 4; pattern++) {
      for (uint32_t i = 0; i < n; i++)
        v[i] = pattern == 0 ? 0 : pattern == 1 ? UINT32_MAX
             : pattern == 2 ? 1u << (i % 32) : ((i & 1) ? UINT32_MAX : 0);
      roundtrip(v, n);
    }
    free(v);
  }
}

static void test_random(void **state) {
  (void)state;
  for (int round = 0; round < 500; round++) {
    uint32_t n = rnd() % 300;
    uint32_t *v = malloc((n + 1) * sizeof *v);
    int width = rnd() % 33;
    for (uint32_t i = 0; i < n; i++) v[i] = width == 32 ? rnd() * 65537u : rnd() & ((1u << width) - 1);
    roundtrip(v, n);
    free(v);
  }
}

static void test_garbage_control_bytes(void **state) {
  (void)state;
  /* Control bytes claiming 4-byte values with too little data. */
  uint8_t buf[40];
  memset(buf, 0xff, sizeof buf);
  uint32_t out[128];
  assert_int_equal(ks_codec_decode(buf, buf + sizeof buf, out, 128), 0);
  assert_int_equal(ks_codec_encoded_size(buf, buf + 10, 128), 0);
  assert_int_equal(ks_codec_decode(buf, buf, out, 1), 0);
}

static void test_varint(void **state) {
  (void)state;
  uint64_t vals[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
  ks_buf b = KS_BUF_INIT;
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) assert_int_equal(ks_buf_put_varint(&b, vals[i]), 0);
  const uint8_t *p = b.data, *end = b.data + b.len;
  for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
    uint64_t v;
    assert_int_equal(ks_get_varint(&p, end, &v), 0);
    assert_true(v == vals[i]);
  }
  assert_ptr_equal(p, end);
  uint64_t v;
  assert_int_equal(ks_get_varint(&p, end, &v), -1); /* at end */
  /* Truncated: a continuation byte with nothing after it. */
  uint8_t t[2] = {0x80, 0x80};
  p = t;
  assert_int_equal(ks_get_varint(&p, t + 2, &v), -1);
  /* Over-long: 11 continuation bytes. */
  uint8_t l[11];
  memset(l, 0xff, sizeof l);
  p = l;
  assert_int_equal(ks_get_varint(&p, l + sizeof l, &v), -1);
  uint32_t v32;
  uint8_t big[5] = {0xff, 0xff, 0xff, 0xff, 0x1f}; /* 2^35 - 1 */
  p = big;
  assert_int_equal(ks_get_varint32(&p, big + 5, &v32), -1);
  ks_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_edge_sizes),
      cmocka_unit_test(test_random),
      cmocka_unit_test(test_garbage_control_bytes),
      cmocka_unit_test(test_varint),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
