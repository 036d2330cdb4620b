/*
 * dir.c - implements dir_int.h: names and paths of the files of an index
 * directory (docs/format/README.md, section 1).
 *
 * Invariant: ks_dir_own_name accepts exactly the names the writers create
 * (MANIFEST, MANIFEST.tmp, LOCK, "%06u.ext" for the six kinds, wider once
 * segment numbers pass 999999), so garbage collection, which deletes only
 * such names, never touches a file kosearch did not write.
 */
#include "dir_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_int.h"
#include "ks_alloc.h"

const char *const ks_segment_exts[KS_SEGMENT_NKINDS] = {".tid", ".doc", ".pos",
                                                        ".len", ".sto", ".del"};

/* Contract: dir_int.h. */
char *ks_dir_file(const char *dir, const char *name) {
  return ks_path("%s/%s", dir, name);
}

/* Contract: dir_int.h. */
char *ks_dir_segment_file(const char *dir, uint32_t segno, const char *ext) {
  return ks_path("%s/%06u%s", dir, segno, ext);
}

/* Contract: dir_int.h. */
void ks_dir_remove_segment_files(const char *dir, uint32_t segno,
                                 const char *const *exts, size_t n) {
  if (!exts) {
    exts = ks_segment_exts;
    n = KS_SEGMENT_NKINDS;
  }
  for (size_t i = 0; i < n; i++) {
    char *p = ks_dir_segment_file(dir, segno, exts[i]);
    if (p) unlink(p);
    ks_free(p);
  }
}

/* Contract: dir_int.h. */
int ks_dir_own_name(const char *name, uint32_t *segno) {
  *segno = UINT32_MAX;
  if (!strcmp(name, "MANIFEST") || !strcmp(name, "MANIFEST.tmp") || !strcmp(name, "LOCK"))
    return 1;
  size_t digits = 0;
  while (isdigit((unsigned char)name[digits])) digits++;
  /* "%06u": six digits, more once segment numbers pass 999999 */
  if (digits < 6 || digits > 10 || name[digits] != '.' || strlen(name) != digits + 4) return 0;
  const char *ext = name + digits;
  int known = 0;
  for (int k = 0; k < KS_SEGMENT_NKINDS; k++) known |= !strcmp(ext, ks_segment_exts[k]);
  if (!known) return 0;
  *segno = (uint32_t)strtoul(name, NULL, 10);
  return 1;
}

/* Contract: dir_int.h. */
uint64_t ks_dir_commit_bytes(const char *dir, const ks_manifest *m) {
  uint64_t total = 0;
  struct stat sb;
  char *p = ks_dir_file(dir, "MANIFEST");
  if (p && stat(p, &sb) == 0) total += (uint64_t)sb.st_size;
  ks_free(p);
  for (uint32_t i = 0; i < m->nsegs; i++)
    for (int k = 0; k < KS_SEGMENT_NKINDS; k++) {
      p = ks_dir_segment_file(dir, m->segs[i].segno, ks_segment_exts[k]);
      if (p && stat(p, &sb) == 0) total += (uint64_t)sb.st_size;
      ks_free(p);
    }
  return total;
}

/* Contract: dir_int.h. */
int ks_dir_fsync(const char *dir, ks_err *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ks_err_set(err, KS_EIO, "[file][fsync] %s: %s", dir, strerror(errno));
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0)
    return ks_err_set(err, KS_EIO, "[file][fsync] %s: %s", dir, strerror(e));
  return KS_OK;
}
