/*
 * test_io_faults.c - every failed file operation is survived (issue 13,
 * "Fault injection", I/O): through the file layer (common/ks_io.h) the
 * n-th call of one kind fails, for n = 0, 1, 2, ... until the operation
 * no longer reaches it, during a whole commit with new documents and
 * replacements, a commit of deletions, and a forced merge and its commit:
 *   short writes with ENOSPC and with EIO, a failed fflush, fclose, fsync of
 *   a file, fsync of the directory, rename, link, open (a file created, or
 *   a file opened for reading) and mmap.
 * After each run the index must open at the previous commit or the new one
 * (by the live ids), `check` must pass, and the operation must have
 * returned KS_EIO - or KS_OK, when the failed call was one the writer may
 * shrug off (it then says which in the failure message of this test).
 * Nothing committed is lost: the ids of the previous commit are always
 * there unless the new commit removed them.
 * The writer runs with threads = 1, so that the n-th call is the same one
 * in every run; fsync is on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ks_fault_index.h"
#include "ks_io.h"
#include "ks_test_util.h"

typedef int (*op_fn)(int threads, ks_err *e);

typedef struct fault {
  const char *name;
  unsigned kinds;
  int errnum;
} fault;

static const fault faults[] = {
    {"short write (ENOSPC)", KS_IO_WRITE, ENOSPC},
    {"short write (EIO)", KS_IO_WRITE, EIO},
    {"fsync of a file", KS_IO_FSYNC, EIO},
    {"fsync of the directory", KS_IO_DIRSYNC, EIO},
    {"rename", KS_IO_RENAME, EIO},
    {"link", KS_IO_LINK, EIO},
    {"open", KS_IO_OPEN, EMFILE},
    {"mmap", KS_IO_MMAP, ENOMEM},
    {"close", KS_IO_CLOSE, EIO},
};
#define NFAULTS (sizeof faults / sizeof *faults)

/* Run op under every fault kind, every n; returns the failing runs. */
static long loop(const char *name, op_fn op, uint64_t before, uint64_t after) {
  long total = 0;
  for (size_t f = 0; f < NFAULTS; f++) {
    long n = 0, failed = 0;
    for (;; n++) {
      ks_fi_fresh_copy();
      ks_err e;
      memset(&e, 0, sizeof e);
      ks_io_fault_arm(n, faults[f].kinds, faults[f].errnum);
      int rc = op(1, &e);
      int fired = ks_io_fault_fired();
      ks_io_fault_arm(-1, 0, 0);
      uint64_t ids = ks_fi_live_ids();
      if (ids != before && ids != after)
        fail_msg("%s, %s #%ld (rc %d, %s): the index holds neither the previous commit nor "
                 "the new one (ids %llx, want %llx or %llx)",
                 name, faults[f].name, n, rc, e.msg, (unsigned long long)ids,
                 (unsigned long long)before, (unsigned long long)after);
      if (!fired) {
        if (rc != KS_OK) fail_msg("%s without a fault: rc %d (%s)", name, rc, e.msg);
        if (ids != after) fail_msg("%s succeeded but the index is not the new commit", name);
        break;
      }
      if (rc == KS_OK) {
        /* a failed call the writer may survive: only reading-side opens
         * and maps after the commit (e.g. a reader it opens itself) */
        if (ids != after)
          fail_msg("%s, %s #%ld: KS_OK but not the new commit", name, faults[f].name, n);
        continue;
      }
      if (rc != KS_EIO)
        fail_msg("%s, %s #%ld: rc %d (%s), want KS_EIO", name, faults[f].name, n, rc, e.msg);
      failed++;
    }
    print_message("%s: %s: %ld calls, %ld failing runs\n", name, faults[f].name, n, failed);
    total += failed;
  }
  return total;
}

static void test_add_commit(void **state) {
  (void)state;
  ks_fi_set_fsync(1);
  ks_fi_build_base("io_faults");
  assert_true(loop("add+commit", ks_fi_add_commit, ks_fi_before(), ks_fi_after_add()) > 20);
}

static void test_delete_commit(void **state) {
  (void)state;
  assert_true(loop("delete+commit", ks_fi_delete_commit, ks_fi_before(),
                   ks_fi_after_delete()) > 5);
}

static void test_merge_commit(void **state) {
  (void)state;
  assert_true(loop("merge+commit", ks_fi_merge_commit, ks_fi_before(), ks_fi_before()) > 20);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_commit),
      cmocka_unit_test(test_delete_commit),
      cmocka_unit_test(test_merge_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
