/*
 * directory.c - implements section directory.c of writer_int.h: the index
 * directory as the writer sees it: creating it, refusing a directory that
 * is not an index, the single-writer lock, and garbage collection. Which
 * names belong to an index is common/dir_int.h (docs/format/README.md,
 * section 1).
 *
 * Invariants: nothing is created in a directory before it is known to be
 * empty or an index (so a user's files are never touched); garbage
 * collection runs only with the lock held and deletes only names
 * ks_dir_own_name accepts, never the LOCK or the MANIFEST, and never a
 * segment the kept MANIFEST names. A crash anywhere before a MANIFEST
 * rename leaves files that the next writer's collection removes.
 */
#include "writer_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir_int.h"
#include "ks_alloc.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

/* 1 if dir contains something that is not ours. */
static int has_foreign_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int foreign = 0;
  while ((e = readdir(d))) {
    uint32_t segno;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (!ks_dir_own_name(e->d_name, &segno)) foreign = 1;
  }
  closedir(d);
  return foreign;
}

/* Contract: writer_int.h. */
int ks_directory_lock(const char *dir, int *fd, ks_err *err) {
  int rc = KS_OK;
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    rc = ks_err_set(err, KS_EIO, "[idx][open] cannot create %s: %s", dir, strerror(errno));
  if (!rc) {
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
      rc = ks_err_set(err, KS_EINVAL, "[idx][open] %s is not a directory", dir);
  }
  /* Refuse a foreign directory before creating anything in it. */
  char *mp = rc ? NULL : ks_dir_file(dir, "MANIFEST");
  if (!rc && !mp) rc = oom(err);
  if (!rc && access(mp, F_OK) != 0 && has_foreign_files(dir))
    rc = ks_err_set(err, KS_EINVAL, "[idx][open] %s is not empty and is not a "
                    "kosearch index; refusing to write into it", dir);
  ks_free(mp);
  if (!rc) {
    char *lp = ks_dir_file(dir, "LOCK");
    if (!lp) rc = oom(err);
    else if ((*fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
      rc = ks_err_set(err, KS_EIO, "[idx][open] %s: %s", lp, strerror(errno));
    else if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
      rc = ks_err_set(err, KS_ELOCKED, "[idx][open] %s is locked by another writer", dir);
    ks_free(lp);
  }
  return rc;
}

/* Contract: writer_int.h. */
void ks_directory_collect_garbage(const char *dir, const ks_manifest *keep) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    uint32_t segno;
    if (!ks_dir_own_name(e->d_name, &segno)) continue;
    int drop = !strcmp(e->d_name, "MANIFEST.tmp");
    if (segno != UINT32_MAX) {
      drop = 1;
      for (uint32_t i = 0; keep && i < keep->nsegs; i++)
        if (keep->segs[i].segno == segno) drop = 0;
    }
    if (drop) {
      char *p = ks_dir_file(dir, e->d_name);
      if (p) unlink(p);
      ks_free(p);
    }
  }
  closedir(d);
}
