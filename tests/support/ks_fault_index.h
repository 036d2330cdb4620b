/*
 * ks_fault_index.h - the small index and the operations that the fault
 * loops (test_alloc_faults.c, test_io_faults.c) run again and again: a
 * base index of 30 documents d0..d29 in three segments, a fresh copy of it
 * per run, the operations (add+commit with two replacements, delete+commit,
 * forced merge+commit), and the state check afterwards: the index opens,
 * `check` passes, and its live ids are those of the previous commit or the
 * new one.
 */
#ifndef KS_FAULT_INDEX_H
#define KS_FAULT_INDEX_H

#include <stdint.h>

#include "kosearch/error.h"

/* Build the base index under the test's scratch directory `tag`. */
void ks_fi_build_base(const char *tag);
/* Replace the working copy by a fresh copy of the base; its path. */
const char *ks_fi_fresh_copy(void);
/* Whether the operations fsync (default 0; the I/O loops turn it on, the
 * fsyncs being part of what they fail). */
void ks_fi_set_fsync(int on);
/* The working copy's path. */
const char *ks_fi_dir(void);

/* The operations, on the working copy, with `threads` writer threads.
 * Each returns the first error rc (err filled) or KS_OK. */
int ks_fi_add_commit(int threads, ks_err *err);    /* d28..d34: 2 replaced, 5 new */
int ks_fi_delete_commit(int threads, ks_err *err); /* d3, d14, d15, d27 */
int ks_fi_merge_commit(int threads, ks_err *err);  /* merge to one segment */

/* The live ids of the working copy as a set (bit i: di), failing the test
 * if it does not open or `check` fails. */
uint64_t ks_fi_live_ids(void);
/* Ids d[lo, hi) as a set. */
uint64_t ks_fi_range(int lo, int hi);
/* The expected sets before and after each operation. */
uint64_t ks_fi_before(void);
uint64_t ks_fi_after_add(void);
uint64_t ks_fi_after_delete(void);

#endif /* KS_FAULT_INDEX_H */
