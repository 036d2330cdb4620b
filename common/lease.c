/*
 * lease.c - implements lease_int.h: reader leases on commits, with
 * flock(2) on DIR/LEASE.G.
 *
 * flock locks belong to an open file description, so two readers in one
 * process (two descriptors) each hold their own lock, and a writer in the
 * same process conflicts with them exactly as one in another process does
 * (fcntl locks, owned by the process, would not). The race between a
 * reader opening LEASE.G and the writer removing it is closed by the
 * reader: after locking it compares the inode of its descriptor with the
 * inode the name now refers to, and starts over if they differ (the file
 * it locked was unlinked).
 */
#include "lease_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_int.h"
#include "ks_alloc.h"

/* Attempts to lock a lease file that the writer keeps removing. */
#define LEASE_TRIES 100

/* Contract: lease_int.h. */
int ks_lease_acquire(const char *dir, uint64_t gen, ks_lease *l, ks_err *err) {
  l->fd = -1;
  l->gen = gen;
  char *path = ks_path("%s/LEASE.%llu", dir, (unsigned long long)gen);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[lease] out of memory");
  int rc = KS_OK;
  for (int t = 0; t < LEASE_TRIES; t++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
      fd = open(path, O_RDONLY | O_CLOEXEC); /* a read-only directory */
    if (fd < 0) {
      if (errno == EACCES || errno == EROFS || errno == EPERM || errno == ENOENT) break;
      rc = ks_err_set(err, KS_EIO, "[lease] %s: %s", path, strerror(errno));
      break;
    }
    int r;
    do r = flock(fd, LOCK_SH);
    while (r != 0 && errno == EINTR);
    struct stat a, b;
    if (r == 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev) {
      l->fd = fd;
      break;
    }
    int e = errno;
    close(fd);
    if (r != 0) {
      rc = ks_err_set(err, KS_EIO, "[lease] lock %s: %s", path, strerror(e));
      break;
    }
    /* unlinked by the writer's garbage collection meanwhile: again */
  }
  ks_free(path);
  return rc;
}

/* Contract: lease_int.h. */
int ks_lease_current(const char *dir, ks_manifest *m, ks_lease *l, ks_err *err) {
  l->fd = -1;
  for (int attempt = 0; attempt < KS_LEASE_RETRIES; attempt++) {
    int rc = ks_manifest_read(dir, m, err);
    if (rc != KS_OK) return rc;
    if ((rc = ks_lease_acquire(dir, m->generation, l, err)) != KS_OK) {
      ks_manifest_free(m);
      return rc;
    }
    if (ks_manifest_generation(dir) == m->generation) return KS_OK;
    ks_lease_release(l);
    ks_manifest_free(m);
  }
  return ks_err_set(err, KS_EIO, "[lease] %s: the index changed %d times while it was "
                    "being opened", dir, KS_LEASE_RETRIES);
}

/* Contract: lease_int.h. */
void ks_lease_release(ks_lease *l) {
  if (l->fd >= 0) close(l->fd);
  l->fd = -1;
}

/* Contract: lease_int.h. */
int ks_lease_held(const char *dir, uint64_t gen) {
  char *path = ks_path("%s/LEASE.%llu", dir, (unsigned long long)gen);
  if (!path) return 1; /* cannot tell: keep the commit */
  int held = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) unlink(path);
    else held = 1; /* EWOULDBLOCK, or an error: keep the commit */
    close(fd);
  } else if (errno != ENOENT) {
    held = 1;
  }
  ks_free(path);
  return held;
}
