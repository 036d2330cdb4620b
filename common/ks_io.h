/*
 * ks_io.h - the file layer (internal to the library and its tests): every
 * operation of the library on index files goes through these functions -
 * creating and writing files, flushing, fsync of files and directories,
 * rename, link, opening and mapping for reading - so that tests can make
 * any one of them fail (STYLE.md: SQLite's test VFS is the model).
 *
 * Each function behaves exactly like the system call or stdio function it
 * names (same return values, errno set on failure) unless a fault is armed
 * with ks_io_fault_arm: then the n-th call of the selected kinds fails
 * once, as the system would fail it:
 *   KS_IO_OPEN    fopen/open return NULL/-1
 *   KS_IO_WRITE   fwrite writes half of the bytes and returns that (a short
 *                 write); fflush returns EOF
 *   KS_IO_FSYNC   fsync of a regular file returns -1
 *   KS_IO_DIRSYNC fsync of a directory returns -1
 *   KS_IO_RENAME  rename returns -1 (nothing renamed)
 *   KS_IO_LINK    link returns -1 (nothing linked)
 *   KS_IO_MMAP    mmap returns MAP_FAILED
 *   KS_IO_CLOSE   fclose closes the file and returns EOF (as after a
 *                 failed final write-back)
 * with errno = the armed error (EIO, ENOSPC, ...). Unlinking and the
 * writer's LOCK and lease files are not part of the layer: their failures
 * are harmless or reported where they happen.
 *
 * The counters are atomic: calls on any thread count.
 */
#ifndef KS_IO_H
#define KS_IO_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum {
  KS_IO_OPEN = 1u << 0,
  KS_IO_WRITE = 1u << 1,
  KS_IO_FSYNC = 1u << 2,
  KS_IO_DIRSYNC = 1u << 3,
  KS_IO_RENAME = 1u << 4,
  KS_IO_LINK = 1u << 5,
  KS_IO_MMAP = 1u << 6,
  KS_IO_CLOSE = 1u << 7,
  KS_IO_ALL = (1u << 8) - 1
};

FILE *ks_io_fopen(const char *path, const char *mode);
size_t ks_io_fwrite(const void *p, size_t n, FILE *fp);
int ks_io_fflush(FILE *fp);
int ks_io_fclose(FILE *fp);
int ks_io_open(const char *path, int flags, mode_t mode);
int ks_io_fsync(int fd);      /* a regular file */
int ks_io_dir_fsync(int fd);  /* a directory */
int ks_io_rename(const char *from, const char *to);
int ks_io_link(const char *from, const char *to);
void *ks_io_mmap(size_t len, int fd); /* PROT_READ, MAP_SHARED, offset 0 */

/* Test hook: from now on, count the calls whose kind is in `kinds` (a mask
 * of KS_IO_*), and make the one numbered n (0-based) fail with `errnum`;
 * n < 0 disarms (the default). */
void ks_io_fault_arm(long n, unsigned kinds, int errnum);
/* Calls of the armed kinds counted since ks_io_fault_arm. */
long ks_io_fault_calls(void);
/* 1 if the armed fault has fired. */
int ks_io_fault_fired(void);

#endif /* KS_IO_H */
