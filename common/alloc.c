/*
 * alloc.c - implements ks_alloc.h: allocation wrappers with an optional
 * fault-injection countdown used by out-of-memory tests.
 */
#include "ks_alloc.h"
#include "kosearch/error.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* <0: never fail; else allocations left before every allocation fails.
 * Atomic, so that the countdown is exact when the writer's helper threads
 * (analysis, flush, merge) allocate too. */
static atomic_long fail_after = -1;

static int should_fail(void) {
  long v = atomic_load_explicit(&fail_after, memory_order_relaxed);
  while (v > 0)
    if (atomic_compare_exchange_weak_explicit(&fail_after, &v, v - 1,
                                              memory_order_relaxed,
                                              memory_order_relaxed))
      return 0;
  return v == 0;
}

void ks_alloc_fail_after(long n) { atomic_store(&fail_after, n); }

void *ks_malloc(size_t n) {
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *ks_calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  if (should_fail()) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *ks_realloc(void *p, size_t n) {
  if (should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

void ks_free(void *p) { free(p); }

char *ks_strndup(const char *s, size_t n) {
  char *d = ks_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/* Contract: kosearch/error.h. */
void ks_mem_free(void *p) { ks_free(p); }
