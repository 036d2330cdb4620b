/*
 * ks_alloc.h - allocation hooks (internal to the library and its tests).
 *
 * All library allocation goes through ks_malloc/ks_calloc/ks_realloc/ks_free
 * so that tests can inject out-of-memory failures (ks_alloc_fail_after) and
 * so that the indexer can account its memory.  ks_free(NULL) is a no-op.
 */
#ifndef KS_ALLOC_H
#define KS_ALLOC_H

#include <stddef.h>

void *ks_malloc(size_t n);
void *ks_calloc(size_t count, size_t size);  /* overflow-checked */
void *ks_realloc(void *p, size_t n);
void ks_free(void *p);
char *ks_strndup(const char *s, size_t n);   /* NUL-terminated copy */

/* Test hook: after `n` more successful allocations, every allocation fails
 * (returns NULL) until the next call. n < 0 disables the fault injection
 * (the default). The countdown is atomic: allocations on any thread count,
 * so a run with helper threads fails at a well-defined point too (which
 * thread makes the n-th allocation may vary from run to run). */
void ks_alloc_fail_after(long n);

#endif /* KS_ALLOC_H */
