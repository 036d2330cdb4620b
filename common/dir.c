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
#include "ks_io.h"

const char *const ks_segment_exts[KS_SEGMENT_NKINDS] = {".tid", ".doc", ".pos",
                                                        ".len", ".sto"};

/* Contract: dir_int.h. */
char *ks_dir_file(const char *dir, const char *name) {
  return ks_path("%s/%s", dir, name);
}

/* Contract: dir_int.h. */
char *ks_dir_segment_file(const char *dir, uint32_t segno, const char *ext) {
  return ks_path("%s/%06u%s", dir, segno, ext);
}

/* Contract: dir_int.h. */
char *ks_dir_del_file(const char *dir, uint32_t segno, uint64_t gen) {
  return ks_path("%s/%06u_%llu.del", dir, segno, (unsigned long long)gen);
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
/* "PREFIX" followed by 1 to 20 decimal digits and nothing else: the
 * number in *gen (0 if it does not fit in 64 bits). */
static int gen_name(const char *name, const char *prefix, uint64_t *gen) {
  size_t n = strlen(prefix), d = 0;
  if (strncmp(name, prefix, n) != 0) return 0;
  while (isdigit((unsigned char)name[n + d])) d++;
  if (d == 0 || d > 20 || name[n + d] != '\0' || (name[n] == '0')) return 0;
  errno = 0;
  unsigned long long v = strtoull(name + n, NULL, 10);
  *gen = errno ? 0 : (uint64_t)v;
  return 1;
}

/* Contract: dir_int.h. */
int ks_dir_name_kind(const char *name, uint32_t *segno, uint64_t *gen) {
  *segno = UINT32_MAX;
  *gen = 0;
  if (!strcmp(name, "MANIFEST")) return KS_NAME_MANIFEST;
  if (!strcmp(name, "MANIFEST.tmp")) return KS_NAME_TMP;
  if (!strcmp(name, "LOCK")) return KS_NAME_LOCK;
  if (gen_name(name, "MANIFEST.", gen)) return KS_NAME_KEPT_MANIFEST;
  if (gen_name(name, "LEASE.", gen)) return KS_NAME_LEASE;
  size_t digits = 0;
  while (isdigit((unsigned char)name[digits])) digits++;
  /* "%06u": six digits, more once segment numbers pass 999999 */
  if (digits < 6 || digits > 10) return 0;
  const char *ext = name + digits;
  if (ext[0] == '_') { /* NNNNNN_G.del */
    size_t g = 1;
    while (isdigit((unsigned char)ext[g])) g++;
    if (g == 1 || g > 21 || ext[1] == '0' || strcmp(ext + g, ".del") != 0) return 0;
    *segno = (uint32_t)strtoul(name, NULL, 10);
    *gen = (uint64_t)strtoull(ext + 1, NULL, 10);
    return KS_NAME_DEL;
  }
  if (strlen(ext) != 4) return 0;
  int known = 0;
  for (int k = 0; k < KS_SEGMENT_NKINDS; k++) known |= !strcmp(ext, ks_segment_exts[k]);
  if (!known) return 0;
  *segno = (uint32_t)strtoul(name, NULL, 10);
  return KS_NAME_SEGMENT;
}

/* Contract: dir_int.h. */
int ks_dir_own_name(const char *name, uint32_t *segno) {
  uint64_t gen;
  return ks_dir_name_kind(name, segno, &gen) != 0;
}

/* Contract: dir_int.h. */
uint64_t ks_dir_commit_bytes(const char *dir, const ks_manifest *m) {
  uint64_t total = 0;
  struct stat sb;
  char *p = ks_dir_file(dir, "MANIFEST");
  if (p && stat(p, &sb) == 0) total += (uint64_t)sb.st_size;
  ks_free(p);
  for (uint32_t i = 0; i < m->nsegs; i++) {
    for (int k = 0; k < KS_SEGMENT_NKINDS; k++) {
      p = ks_dir_segment_file(dir, m->segs[i].segno, ks_segment_exts[k]);
      if (p && stat(p, &sb) == 0) total += (uint64_t)sb.st_size;
      ks_free(p);
    }
    if (m->segs[i].del_gen) {
      p = ks_dir_del_file(dir, m->segs[i].segno, m->segs[i].del_gen);
      if (p && stat(p, &sb) == 0) total += (uint64_t)sb.st_size;
      ks_free(p);
    }
  }
  return total;
}

/* Contract: dir_int.h. */
int ks_dir_fsync(const char *dir, ks_err *err) {
  int fd = ks_io_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return ks_err_set(err, KS_EIO, "[file][fsync] %s: %s", dir, strerror(errno));
  int rc = ks_io_dir_fsync(fd);
  int e = errno;
  close(fd);
  if (rc != 0)
    return ks_err_set(err, KS_EIO, "[file][fsync] %s: %s", dir, strerror(e));
  return KS_OK;
}
