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
#define _GNU_SOURCE /* program_invocation_short_name */
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
#include "lease_int.h"

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

/* Who holds the lock: "PROGRAM PID" in the LOCK file, written by the
 * holder (informative only: the flock is the lock). */
static void say_owner(int fd) {
  char buf[96];
  int n = snprintf(buf, sizeof buf, "%s %ld\n", program_invocation_short_name, (long)getpid());
  if (ftruncate(fd, 0) == 0 && n > 0) (void)!pwrite(fd, buf, (size_t)n, 0);
}

static int locked(const char *dir, int fd, ks_err *err) {
  char buf[96] = {0};
  long pid = 0;
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  /* PROGRAM may hold spaces ("kosearch serve"): the pid is the last word */
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
  char *sp = n > 0 ? strrchr(buf, ' ') : NULL;
  if (sp && sp > buf && sscanf(sp + 1, "%ld", &pid) == 1 && pid > 0) {
    *sp = '\0';
    for (char *c = buf; *c; c++)
      if ((unsigned char)*c < 0x20) *c = '?';
    return ks_err_set(err, KS_ELOCKED, "[idx][open] %s is locked by another writer (%s, pid %ld)",
                      dir, buf, pid);
  }
  return ks_err_set(err, KS_ELOCKED, "[idx][open] %s is locked by another writer", dir);
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
      rc = locked(dir, *fd, err);
    else
      say_owner(*fd);
    ks_free(lp);
  }
  return rc;
}

/* The segments (segno, del_gen) files must be kept for. */
typedef struct keep_set {
  ks_manifest_seg *e;
  size_t n, cap;
} keep_set;

static void keep_add(keep_set *k, const ks_manifest *m, int *failed) {
  for (uint32_t i = 0; i < m->nsegs; i++) {
    if (k->n == k->cap) {
      size_t cap = k->cap ? 2 * k->cap : 64;
      ks_manifest_seg *p = ks_realloc(k->e, cap * sizeof *p);
      if (!p) {
        *failed = 1;
        return;
      }
      k->e = p;
      k->cap = cap;
    }
    k->e[k->n++] = m->segs[i];
  }
}

static int keeps_segment(const keep_set *k, uint32_t segno) {
  for (size_t i = 0; i < k->n; i++)
    if (k->e[i].segno == segno) return 1;
  return 0;
}

static int keeps_del(const keep_set *k, uint32_t segno, uint64_t gen) {
  for (size_t i = 0; i < k->n; i++)
    if (k->e[i].segno == segno && k->e[i].del_gen == gen) return 1;
  return 0;
}

static void remove_name(const char *dir, const char *name) {
  char *p = ks_dir_file(dir, name);
  if (p) unlink(p);
  ks_free(p);
}

/* Contract: writer_int.h.
 *
 * Pass 1 decides which commits stay: `keep`, the commit DIR/MANIFEST names
 * now (the same one unless a commit failed after its rename), and every
 * older commit whose lease some reader holds (its kept MANIFEST.G names its
 * files). A commit nobody leases loses its lease file (ks_lease_held) and
 * its kept MANIFEST. Pass 2 removes the segment files and .del generations
 * that no staying commit names. A reader can only lease the commit that is
 * current when it checks (lease_int.h), so nothing it can still lease is
 * ever removed. When anything cannot be decided (out of memory, a kept
 * MANIFEST that cannot be read while leased), nothing is removed. */
void ks_directory_collect_garbage(const char *dir, const ks_manifest *keep,
                                  uint32_t reserved) {
  DIR *d = opendir(dir);
  if (!d) return;
  keep_set k = {NULL, 0, 0};
  int failed = 0;
  if (keep) keep_add(&k, keep, &failed);
  uint64_t cur = keep ? keep->generation : 0;
  /* The MANIFEST on disk is what readers open, whatever the caller
   * believes: after a commit that failed once its rename was done (the
   * directory fsync after it), `keep` is the commit before, and the new
   * one's files must stay all the same. */
  ks_manifest disk;
  ks_err derr;
  uint64_t disk_gen = cur; /* its kept MANIFEST and lease stay too */
  int r = ks_manifest_read(dir, &disk, &derr);
  if (r == KS_OK) {
    keep_add(&k, &disk, &failed);
    disk_gen = disk.generation;
    ks_manifest_free(&disk);
  } else if (r != KS_NOTFOUND) {
    failed = 1; /* cannot tell what the index names: remove nothing */
  }
  struct dirent *e;
  /* pass 1: commits */
  while ((e = readdir(d)) && !failed) {
    uint32_t segno;
    uint64_t gen;
    int kind = ks_dir_name_kind(e->d_name, &segno, &gen);
    if (kind == KS_NAME_TMP) {
      remove_name(dir, e->d_name);
    } else if (kind == KS_NAME_KEPT_MANIFEST && gen != cur && gen != disk_gen) {
      if (gen != 0 && ks_lease_held(dir, gen)) {
        ks_manifest m;
        ks_err err;
        if (ks_manifest_read_gen(dir, gen, &m, &err) == KS_OK) {
          keep_add(&k, &m, &failed);
          ks_manifest_free(&m);
        } else {
          failed = 1;
        }
      } else {
        remove_name(dir, e->d_name);
      }
    } else if (kind == KS_NAME_LEASE && gen != cur && gen != disk_gen) {
      (void)ks_lease_held(dir, gen); /* removes it unless held */
    }
  }
  /* pass 2: segment files */
  rewinddir(d);
  while ((e = readdir(d)) && !failed) {
    uint32_t segno;
    uint64_t gen;
    int kind = ks_dir_name_kind(e->d_name, &segno, &gen);
    int drop = 0;
    if (kind == KS_NAME_SEGMENT) drop = segno != reserved && !keeps_segment(&k, segno);
    else if (kind == KS_NAME_DEL) drop = !keeps_del(&k, segno, gen);
    if (drop) remove_name(dir, e->d_name);
  }
  closedir(d);
  ks_free(k.e);
}
