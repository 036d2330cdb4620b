/*
 * ks_test_util.c - implements ks_test_util.h.
 */
#include "ks_test_util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zlib.h>

const char *ks_test_env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return (v && *v) ? v : fallback;
}

const char *ks_test_tmpdir(const char *tag) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", ks_test_env("KS_TMP", "/tmp"), tag);
  ks_test_system("rm -rf '%s' && mkdir -p '%s'", path, path);
  return path;
}

char *ks_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n < 2) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; }
      else buf = nb;
    }
  }
  fclose(f);
  if (!buf) return NULL;
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

int ks_test_write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

int ks_test_system(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  if (st == -1) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

int ks_test_reseal(const char *path) {
  size_t n;
  unsigned char *f = (unsigned char *)ks_test_read_file(path, &n);
  if (!f || n < 40 || !(rd32(f + 12) & 1)) { free(f); return -1; }
  uint64_t body = rd32(f + n - 20) | (uint64_t)rd32(f + n - 16) << 32;
  uint32_t page = rd32(f + n - 12);
  uint64_t n1 = (body + page - 1) / page, n2 = (4 * n1 + page - 1) / page;
  if (page == 0 || body + 4 * n1 + 4 * n2 + 20 != n) { free(f); return -1; }
  unsigned char le[8];
  for (uint64_t i = 0; i < n1; i++) {
    uint64_t len = body - i * page < page ? body - i * page : page;
    for (int k = 0; k < 8; k++) le[k] = (unsigned char)(i >> (8 * k));
    uLong c = crc32(0, f + i * page, (uInt)len);
    wr32(f + body + 4 * i, (uint32_t)crc32(c, le, 8));
  }
  unsigned char *t1 = f + body, *t2 = t1 + 4 * n1;
  for (uint64_t j = 0; j < n2; j++) {
    uint64_t len = 4 * n1 - j * page < page ? 4 * n1 - j * page : page;
    for (int k = 0; k < 8; k++) le[k] = (unsigned char)(j >> (8 * k));
    uLong c = crc32(0, t1 + j * page, (uInt)len);
    wr32(t2 + 4 * j, (uint32_t)crc32(c, le, 8));
  }
  wr32(f + n - 8, (uint32_t)crc32(0, t2, (uInt)(4 * n2 + 12)));
  wr32(f + n - 4, (uint32_t)crc32(0, f, (uInt)(n - 4)));
  int rc = ks_test_write_file(path, f, n);
  free(f);
  return rc;
}
