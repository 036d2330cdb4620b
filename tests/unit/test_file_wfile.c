/*
 * test_file_wfile.c - the checksummed file writer (file_int.h): bytes come
 * out in the order they were written whatever the mix of small (gathered)
 * and large (direct) writes, the CRC footer matches, and the reader's
 * header check accepts the file. Regression: a large write used to
 * overtake gathered bytes still pending (the header ended up after it).
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

#include "file_int.h"
#include "ks_buf.h"
#include "ks_test_util.h"

static void test_mixed_sizes(void **state) {
  (void)state;
  char path[4200];
  snprintf(path, sizeof path, "%s/wfile.bin", ks_test_tmpdir("wfile"));
  size_t sizes[] = {1, 7, 40000, 3, 70000, 32768, 32767, 5, 65536, 1, 100000, 2};
  size_t total = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += sizes[i];
  uint8_t *expect = malloc(total), *p = expect;
  ks_wfile w;
  ks_err e;
  assert_int_equal(ks_wfile_open(&w, path, "KSTEST00", &e), KS_OK);
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    for (size_t j = 0; j < sizes[i]; j++) {
      x = x * 1103515245u + 12345u;
      p[j] = (uint8_t)(x >> 16);
    }
    ks_wfile_write(&w, p, sizes[i]);
    p += sizes[i];
    assert_int_equal(w.offset, KS_FILE_HEADER + (size_t)(p - expect));
  }
  assert_int_equal(ks_wfile_finish(&w, 0, &e), KS_OK);
  size_t len;
  char *got = ks_test_read_file(path, &len);
  assert_non_null(got);
  assert_int_equal(len, KS_FILE_HEADER + total + KS_FILE_FOOTER);
  assert_memory_equal(got, "KSTEST00", 8);
  assert_memory_equal(got + KS_FILE_HEADER, expect, total);
  uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)got, (uInt)(len - 4));
  assert_int_equal(crc, ks_load_u32((const uint8_t *)got + len - 4));
  ks_map m;
  assert_int_equal(ks_map_open(&m, path, &e), KS_OK);
  assert_int_equal(ks_map_check(&m, "KSTEST00", 0, 1, &e), KS_OK);
  assert_int_equal(ks_map_check(&m, "KSTEST01", 0, 1, &e), KS_ECORRUPT);
  ks_map_close(&m);
  free(got);
  free(expect);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_mixed_sizes)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
