/*
 * ks_test_util.h - small helpers shared by the C tests.
 */
#ifndef KS_TEST_UTIL_H
#define KS_TEST_UTIL_H

#include <stddef.h>

/* Environment variable or fallback. */
const char *ks_test_env(const char *name, const char *fallback);

/* Create a fresh empty scratch directory under $KS_TMP named after `tag`
 * (removing an old one). Returns a static buffer path. */
const char *ks_test_tmpdir(const char *tag);

/* Read a whole file; returns malloc'ed buffer (NUL-terminated) or NULL. */
char *ks_test_read_file(const char *path, size_t *len);

/* Write a whole file; returns 0 on success. */
int ks_test_write_file(const char *path, const void *data, size_t len);

/* Recompute every checksum of a version-2 file with page checksums (page
 * table, table-page table, tail CRC, whole-file CRC) after a test edited
 * its body: simulates a writer bug (bad data, valid checksums) rather than
 * damage. Returns 0 on success. */
int ks_test_reseal(const char *path);

/* Run a shell command, return its exit status (or -1). */
int ks_test_system(const char *fmt, ...);

#endif
