/*
 * io.c - implements ks_io.h: the file layer, a thin pass-through to the
 * system with one injectable fault (see ks_io.h for what each kind of
 * fault does). The fast path when nothing is armed is one relaxed atomic
 * load per call.
 */
#include "ks_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

static atomic_uint armed_kinds;    /* 0: disarmed */
static atomic_long fail_at = -1;   /* the failing call's number */
static atomic_long calls;          /* calls of the armed kinds so far */
static atomic_int fired;
static int fail_errno = EIO;

/* 1 if this call (of kind `kind`) is the one to fail; errno is set. */
static int inject(unsigned kind) {
  unsigned k = atomic_load_explicit(&armed_kinds, memory_order_relaxed);
  if (!(k & kind)) return 0;
  long n = atomic_fetch_add(&calls, 1);
  if (n != atomic_load(&fail_at)) return 0;
  atomic_store(&fired, 1);
  errno = fail_errno;
  return 1;
}

/* Contract: ks_io.h. */
void ks_io_fault_arm(long n, unsigned kinds, int errnum) {
  atomic_store(&armed_kinds, 0u);
  atomic_store(&calls, 0);
  atomic_store(&fired, 0);
  atomic_store(&fail_at, n);
  fail_errno = errnum ? errnum : EIO;
  if (n >= 0) atomic_store(&armed_kinds, kinds);
}

/* Contract: ks_io.h. */
long ks_io_fault_calls(void) { return atomic_load(&calls); }

/* Contract: ks_io.h. */
int ks_io_fault_fired(void) { return atomic_load(&fired); }

/* Contract: ks_io.h. */
FILE *ks_io_fopen(const char *path, const char *mode) {
  if (inject(KS_IO_OPEN)) return NULL;
  return fopen(path, mode);
}

/* Contract: ks_io.h. */
size_t ks_io_fwrite(const void *p, size_t n, FILE *fp) {
  if (n > 0 && inject(KS_IO_WRITE)) {
    int e = errno;
    size_t half = fwrite(p, 1, n / 2, fp);
    errno = e;
    return half;
  }
  return fwrite(p, 1, n, fp);
}

/* Contract: ks_io.h. */
int ks_io_fflush(FILE *fp) {
  if (inject(KS_IO_WRITE)) return EOF;
  return fflush(fp);
}

/* Contract: ks_io.h. */
int ks_io_fclose(FILE *fp) {
  if (inject(KS_IO_CLOSE)) {
    int e = errno;
    fclose(fp);
    errno = e;
    return EOF;
  }
  return fclose(fp);
}

/* Contract: ks_io.h. */
int ks_io_open(const char *path, int flags, mode_t mode) {
  if (inject(KS_IO_OPEN)) return -1;
  return open(path, flags, mode);
}

/* Contract: ks_io.h. */
int ks_io_fsync(int fd) {
  if (inject(KS_IO_FSYNC)) return -1;
  return fsync(fd);
}

/* Contract: ks_io.h. */
int ks_io_dir_fsync(int fd) {
  if (inject(KS_IO_DIRSYNC)) return -1;
  return fsync(fd);
}

/* Contract: ks_io.h. */
int ks_io_rename(const char *from, const char *to) {
  if (inject(KS_IO_RENAME)) return -1;
  return rename(from, to);
}

/* Contract: ks_io.h. */
int ks_io_link(const char *from, const char *to) {
  if (inject(KS_IO_LINK)) return -1;
  return link(from, to);
}

/* Contract: ks_io.h. */
void *ks_io_mmap(size_t len, int fd) {
  if (inject(KS_IO_MMAP)) return MAP_FAILED;
  return mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
}
