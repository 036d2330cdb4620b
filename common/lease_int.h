/*
 * lease_int.h - reader leases on a commit (internal API shared by
 * searcher/, which takes them, and indexer/, whose garbage collection
 * respects them). Protocol: docs/live.md, "Readers and garbage
 * collection"; file names: docs/format/README.md section 1. Implemented by
 * common/lease.c.
 *
 * A reader that uses commit G holds flock(LOCK_SH) on DIR/LEASE.G for as
 * long as it has the snapshot open. The writer keeps the files of every
 * commit G whose LEASE.G is locked by anyone (in any process), and removes
 * an old commit's files only when it can take LOCK_EX on its lease file
 * (then nobody holds it). Locks die with their process, so a killed reader
 * never pins a commit forever.
 */
#ifndef KS_LEASE_INT_H
#define KS_LEASE_INT_H

#include <stdint.h>

#include "kosearch/error.h"
#include "manifest_int.h"

typedef struct ks_lease {
  int fd;         /* DIR/LEASE.G, LOCK_SH held; -1: no lease */
  uint64_t gen;
} ks_lease;

/* Take a shared lease on commit `gen` of `dir`. The caller must then
 * check that the commit is still the current one (re-read the MANIFEST)
 * before trusting its files: a lease only protects a commit from the
 * moment it is held. KS_OK (l->fd >= 0), or KS_OK with l->fd = -1 when the
 * directory cannot hold a lease file (read-only directory or file
 * system: the reader then works without one, see docs/live.md); KS_EIO
 * on other errors. */
int ks_lease_acquire(const char *dir, uint64_t gen, ks_lease *l, ks_err *err);

/* Attempts of ks_lease_current while commits keep landing. */
#define KS_LEASE_RETRIES 16

/* Read DIR/MANIFEST into *m (ks_manifest_read) and lease its commit,
 * starting over while commits land between the two (a lease is a
 * guarantee only for a commit still current once it is held). On KS_OK
 * *m is that commit and *l its lease (fd -1 in a read-only directory);
 * free and release both. Errors: those of ks_manifest_read and
 * ks_lease_acquire; KS_EIO when the index changed KS_LEASE_RETRIES times
 * in a row. Nothing is held on failure. */
int ks_lease_current(const char *dir, ks_manifest *m, ks_lease *l, ks_err *err);

/* Drop the lease (closing the descriptor releases the lock). The lease
 * file stays until the writer's next garbage collection. Safe on a
 * released or failed lease. */
void ks_lease_release(ks_lease *l);

/* Writer side: 1 if some reader holds a lease on commit `gen` of `dir`;
 * else 0, and the lease file (if any) is removed while locked
 * exclusively, so that a reader that opened it meanwhile sees it unlinked
 * and retries. */
int ks_lease_held(const char *dir, uint64_t gen);

#endif /* KS_LEASE_INT_H */
