/*
 * ks_fault.c - an LD_PRELOAD library that injects file-system faults and
 * delays into a test process, from outside the library: for whole
 * programs (kosearch under test_commit_durability.sh) and for the timing
 * faults of test_live_faults.c. Faults inside the library's file
 * operations go through its own file layer (common/ks_io.h,
 * test_io_faults.c). Loaded only by tests that ask for it; every fault is
 * off unless its variable is set.
 *
 *   KS_FAULT_OPEN_DELAY_US=N   open(2) for reading, called from any thread
 *                              but the main one (the merge and flush
 *                              threads), sleeps N microseconds first
 *   KS_FAULT_FSYNC_DIR_FAIL=N  the N-th fsync(2) of a directory (1-based)
 *                              fails with EIO
 *   KS_FAULT_FSYNC_FILE_FAIL=N the N-th fsync(2) of a regular file fails
 *                              with EIO
 *   KS_FAULT_RENAME_FAIL=N     the N-th rename(2) fails with EIO
 *   KS_FAULT_TRACE=FILE        append one line per fsync(2) and rename(2)
 *                              to FILE, in call order: "fsync file PATH",
 *                              "fsync dir PATH", "rename FROM TO" (paths
 *                              as /proc/self/fd shows them), for tests of
 *                              the durability order of a commit
 *   KS_FAULT_ARM=1             faults count only while armed: the test
 *                              arms them with ks_fault_arm() (found with
 *                              dlsym), so setup steps do not count
 * Counters are process-wide. Calls through fopen (the writers' files) are
 * not delayed: glibc opens those internally.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_long dir_fsyncs, file_fsyncs, renames;
static atomic_int armed = 1;

static long env_long(const char *name) {
  const char *v = getenv(name);
  return v && *v ? atol(v) : 0;
}

/* Called by the test (dlsym) to start or stop counting. */
void ks_fault_arm(int on) {
  if (on) {
    atomic_store(&dir_fsyncs, 0);
    atomic_store(&file_fsyncs, 0);
    atomic_store(&renames, 0);
  }
  atomic_store(&armed, on);
}

/* Append a line to KS_FAULT_TRACE (one write(2) with O_APPEND: lines from
 * several threads never interleave). */
static void trace(const char *fmt, ...) {
  const char *path = getenv("KS_FAULT_TRACE");
  if (!path || !*path) return;
  char line[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = write(fd, line, (size_t)n);
  (void)w;
  close(fd);
}

/* The path of fd (readlink of /proc/self/fd/N) into buf. */
static const char *fd_path(int fd, char *buf, size_t cap) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, cap - 1);
  if (n < 0) n = 0;
  buf[n] = 0;
  return buf;
}

__attribute__((constructor)) static void init(void) {
  if (env_long("KS_FAULT_ARM")) atomic_store(&armed, 0);
}

static void maybe_delay(int flags) {
  long us = env_long("KS_FAULT_OPEN_DELAY_US");
  if (us > 0 && (flags & O_ACCMODE) == O_RDONLY && !(flags & O_DIRECTORY) &&
      syscall(SYS_gettid) != getpid())
    usleep((useconds_t)us);
}

typedef int (*open_fn)(const char *, int, ...);

static int call_open(const char *name, const char *path, int flags, va_list ap) {
  static open_fn real_open, real_open64;
  open_fn *slot = name[4] ? &real_open64 : &real_open;
  if (!*slot) *slot = (open_fn)dlsym(RTLD_NEXT, name);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  maybe_delay(flags);
  return (*slot)(path, flags, mode);
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = call_open("open", path, flags, ap);
  va_end(ap);
  return fd;
}

int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int fd = call_open("open64", path, flags, ap);
  va_end(ap);
  return fd;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  struct stat sb;
  if (getenv("KS_FAULT_TRACE") && fstat(fd, &sb) == 0) {
    char p[4096];
    trace("fsync %s %s", S_ISDIR(sb.st_mode) ? "dir" : "file", fd_path(fd, p, sizeof p));
  }
  if (atomic_load(&armed) && fstat(fd, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      long n = atomic_fetch_add(&dir_fsyncs, 1) + 1;
      if (n == env_long("KS_FAULT_FSYNC_DIR_FAIL")) {
        errno = EIO;
        return -1;
      }
    } else {
      long n = atomic_fetch_add(&file_fsyncs, 1) + 1;
      if (n == env_long("KS_FAULT_FSYNC_FILE_FAIL")) {
        errno = EIO;
        return -1;
      }
    }
  }
  return real(fd);
}

int rename(const char *from, const char *to) {
  static int (*real)(const char *, const char *);
  if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
  trace("rename %s %s", from, to);
  if (atomic_load(&armed)) {
    long n = atomic_fetch_add(&renames, 1) + 1;
    if (n == env_long("KS_FAULT_RENAME_FAIL")) {
      errno = EIO;
      return -1;
    }
  }
  return real(from, to);
}
