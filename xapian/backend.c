/*
 * backend.c - the Xapian backend's operations table (kosearch/backend.h)
 * and ks_xapian_register (kosearch/xapian.h): the engine API mapped onto
 * the C wrapper of xapian.cc (ks_xap.h).
 *
 * The engine checks and analyzes documents and parses queries for this
 * backend (writer_add, search), so the Xapian library needs nothing from
 * libkosearch but errors and ks_mem_alloc. What is here:
 *   - layout: an index is one Xapian database, or a directory of shards
 *     DIR/shard-0 ... DIR/shard-(N-1) with a one-line marker file
 *     DIR/KOSEARCH-SHARDS "kosearch xapian shards N" (docs/xapian.md); a
 *     document goes to shard ks_xap_shard_of(id), so all versions of an id
 *     meet in one shard and replacement by id works;
 *   - live index (docs/xapian.md, "Live index"): a writer holds flock on
 *     "<dir>"; an UPDATE writer opens every database of the index inside
 *     a Xapian transaction per commit (upserts by id term, deletes);
 *     a build (REPLACE, or no index yet) writes below "<dir>.tmp", which
 *     its first commit swaps with "<dir>" (renameat2 RENAME_EXCHANGE) and
 *     then continues as an UPDATE writer. Only directories that are
 *     missing, empty, kosearch Xapian databases or shard layouts are ever
 *     removed or replaced;
 *   - the shards of a layout store one commit number per commit; readers
 *     of a layout wait until the numbers agree (a commit in progress) and
 *     ks_db_reopen compares UUIDs, revisions and commit numbers;
 *   - queries: the engine's clauses map one to one onto ks_xap_clause (a
 *     word clause's terms become leaves with wqf = their count in the
 *     clause; a phrase's base terms become phrase leaves with the native
 *     offsets), ranked by Xapian's BM25Weight, which the native
 *     KS_RANK_BM25_XAPIAN scheme reproduces (docs/ranking.md).
 */
#define _GNU_SOURCE /* renameat2, flock */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef KS_BACKEND_UNSTABLE_API
#define KS_BACKEND_UNSTABLE_API
#endif
#include "kosearch/backend.h"
#include "kosearch/xapian.h"
#include "ks_xap.h"

#define SHARDS_MARKER "KOSEARCH-SHARDS"
#define MAX_SHARDS 1024
#define PATH_BYTES 4096

/* ---- file-system helpers ------------------------------------------------- */

static __thread uint64_t du_total; /* nftw has no context pointer */
static int du_cb(const char *p, const struct stat *sb, int type, struct FTW *f) {
  (void)p, (void)f;
  if (type == FTW_F) du_total += (uint64_t)sb->st_size;
  return 0;
}

/* Total size of the regular files below `path` (0 if none). */
static uint64_t dir_bytes(const char *path) {
  du_total = 0;
  nftw(path, du_cb, 16, FTW_PHYS);
  return du_total;
}

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *f) {
  (void)sb, (void)type, (void)f;
  return remove(p) == 0 ? 0 : -1;
}

static int rm_tree(const char *path) { return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int dir_empty(const char *p) {
  int n = 0;
  DIR *d = opendir(p);
  if (!d) return 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
  closedir(d);
  return n == 0;
}

static int is_layout(const char *p) {
  char m[PATH_BYTES];
  snprintf(m, sizeof m, "%s/%s", p, SHARDS_MARKER);
  return access(m, F_OK) == 0;
}

static int xb_detect(const char *path) { return ks_xap_is_database(path) || is_layout(path); }

/* May `p` be removed or replaced by a build? (missing, empty, ours) */
static int replaceable(const char *p) {
  struct stat st;
  if (lstat(p, &st) != 0) return 1;
  if (!S_ISDIR(st.st_mode)) return 0;
  return dir_empty(p) || xb_detect(p);
}

/* Number of shards of a layout (0: not a valid marker). */
static uint32_t layout_shards(const char *p) {
  char m[PATH_BYTES];
  snprintf(m, sizeof m, "%s/%s", p, SHARDS_MARKER);
  FILE *f = fopen(m, "r");
  if (!f) return 0;
  unsigned n = 0;
  if (fscanf(f, "kosearch xapian shards %u", &n) != 1) n = 0;
  fclose(f);
  return n <= MAX_SHARDS ? n : 0;
}

static char *path_join(const char *a, const char *suffix) {
  size_t n = strlen(a) + strlen(suffix) + 1;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s%s", a, suffix);
  return p;
}

/* ---- reading ---------------------------------------------------------------- */

/* How long xb_open waits for a consistent view of a shard layout (a
 * commit in progress, or a REPLACE swapping the directory): retries with
 * sleeps of 1, 2, 4 ... 64 ms, about 2 s in all. After that the shards are
 * opened as they are (the state a crash between two shard commits leaves;
 * docs/xapian.md, "Live index"). */
#define OPEN_RETRIES 36

typedef struct xb_db {
  ks_xap_db *db;
  char **specs;           /* what was asked for (for dup and reopen) */
  size_t nspecs;
  char **paths;           /* what was opened: layouts expanded to shards */
  size_t npaths;
  int local;              /* every spec is a local path (dir_bytes works) */
} xb_db;

static void free_strings(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static void xb_close(void *h) {
  xb_db *d = h;
  if (!d) return;
  ks_xap_close(d->db);
  free_strings(d->specs, d->nspecs);
  free_strings(d->paths, d->npaths);
  free(d);
}

static int is_tcp(const char *s) { return strncmp(s, "tcp://", 6) == 0; }

/* Device and inode of a local path (0, 0 if it cannot be stat'ed). */
static void path_id(const char *p, dev_t *dev, ino_t *ino) {
  struct stat st;
  *dev = 0, *ino = 0;
  if (stat(p, &st) == 0) *dev = st.st_dev, *ino = st.st_ino;
}

/* One attempt of xb_open. *stable = 0 when the view may be torn and is
 * worth another attempt: a local spec changed its inode while it was
 * opened (a REPLACE commit swapped the directory), or the shards of one
 * layout show different commit numbers (a commit in progress). */
static int open_once(xb_db *d, int *stable, ks_err *err) {
  *stable = 1;
  size_t n = d->nspecs;
  uint32_t *nl = calloc(n ? n : 1, sizeof *nl);
  dev_t *dev = calloc(n ? n : 1, sizeof *dev);
  ino_t *ino = calloc(n ? n : 1, sizeof *ino);
  int rc = nl && dev && ino ? KS_OK : ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  size_t cap = 0;
  for (size_t i = 0; rc == KS_OK && i < n; i++) {
    const char *s = d->specs[i];
    if (!is_tcp(s)) path_id(s, &dev[i], &ino[i]);
    nl[i] = is_tcp(s) ? 0 : layout_shards(s);
    cap += nl[i] ? nl[i] : 1;
  }
  if (rc == KS_OK && !(d->paths = calloc(cap ? cap : 1, sizeof *d->paths)))
    rc = ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  for (size_t i = 0; rc == KS_OK && i < n; i++) {
    const char *s = d->specs[i];
    int tcp = is_tcp(s);
    if (!tcp && !nl[i] && is_layout(s))
      rc = ks_err_set(err, KS_ECORRUPT, "[xap][open] %s/%s: not a valid shard marker", s,
                      SHARDS_MARKER);
    else if (!tcp && !nl[i] && !ks_xap_is_database(s) && is_dir(s))
      rc = ks_err_set(err, KS_NOTFOUND,
                      "[xap][open] %s: not a kosearch Xapian database or shard directory", s);
    for (uint32_t j = 0; rc == KS_OK && j < nl[i]; j++) {
      char sfx[32];
      snprintf(sfx, sizeof sfx, "/shard-%u", j);
      if (!(d->paths[d->npaths++] = path_join(s, sfx)))
        rc = ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
    }
    if (rc == KS_OK && !nl[i] && !(d->paths[d->npaths++] = path_join(s, "")))
      rc = ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  }
  if (rc == KS_OK)
    rc = ks_xap_open_shards((const char *const *)d->paths, d->npaths, 0, &d->db, err);
  /* the shards of one layout must show the same commit */
  for (size_t i = 0, sub = 0; rc == KS_OK && *stable && i < n; sub += nl[i] ? nl[i] : 1, i++) {
    ks_xap_sub_info first, si;
    for (uint32_t j = 0; rc == KS_OK && j < nl[i]; j++) {
      rc = ks_xap_sub_info_get(d->db, sub + j, j ? &si : &first, err);
      if (rc == KS_OK && j && si.commit_number != first.commit_number) *stable = 0;
    }
  }
  for (size_t i = 0; nl && dev && ino && i < n; i++) {
    dev_t dv;
    ino_t in;
    if (is_tcp(d->specs[i])) continue;
    path_id(d->specs[i], &dv, &in);
    if (dv != dev[i] || in != ino[i]) *stable = 0;
  }
  free(nl);
  free(dev);
  free(ino);
  return rc;
}

/* Expand the specs (a layout directory becomes its shard paths) and open
 * them as one database, retrying while the view is torn (open_once). */
static int xb_open(const char *const *specs, size_t n, void **out, ks_err *err) {
  *out = NULL;
  xb_db *d = calloc(1, sizeof *d);
  if (!d || !(d->specs = calloc(n ? n : 1, sizeof *d->specs))) {
    free(d);
    return ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  }
  d->local = 1;
  for (size_t i = 0; i < n; i++) {
    if (!(d->specs[d->nspecs++] = path_join(specs[i], ""))) {
      xb_close(d);
      return ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
    }
    if (is_tcp(specs[i])) d->local = 0;
  }
  int rc, stable;
  for (int attempt = 0;; attempt++) {
    rc = open_once(d, &stable, err);
    if (stable || attempt == OPEN_RETRIES) break;
    ks_xap_close(d->db);
    d->db = NULL;
    free_strings(d->paths, d->npaths);
    d->paths = NULL, d->npaths = 0;
    struct timespec ts = {0, (long)(1000000L << (attempt < 6 ? attempt : 6))};
    nanosleep(&ts, NULL);
  }
  if (rc != KS_OK) {
    xb_close(d);
    return rc;
  }
  *out = d;
  return KS_OK;
}

/* Xapian opens the latest commit: a duplicate of an older handle shows the
 * latest commit, not the older one (docs/xapian.md, "Live index"). */
static int xb_dup(void *h, void **out, ks_err *err) {
  xb_db *d = h;
  return xb_open((const char *const *)d->specs, d->nspecs, out, err);
}

/* Do two handles show the same commit? Every sub-database must be the
 * same database (UUID) at the same revision (local) or commit number
 * (remote; a remote database without one counts as changed). */
static int same_commit(xb_db *a, xb_db *b, int *same, ks_err *err) {
  *same = a->npaths == b->npaths;
  for (size_t i = 0; *same && i < a->npaths; i++) {
    if (strcmp(a->paths[i], b->paths[i]) != 0) *same = 0;
    ks_xap_sub_info x, y;
    int rc = ks_xap_sub_info_get(a->db, i, &x, err);
    if (rc == KS_OK) rc = ks_xap_sub_info_get(b->db, i, &y, err);
    if (rc != KS_OK) return rc;
    if (strcmp(x.uuid, y.uuid) != 0 || x.revision != y.revision ||
        x.commit_number != y.commit_number || (x.remote && x.commit_number == 0))
      *same = 0;
  }
  return KS_OK;
}

/* ks_db_reopen: open the specs again and keep the new handle only if it
 * shows another commit. */
static int xb_reopen(void *h, void **out, ks_err *err) {
  xb_db *d = h, *n = NULL;
  *out = NULL;
  int rc = xb_open((const char *const *)d->specs, d->nspecs, (void **)&n, err);
  int same = 0;
  if (rc == KS_OK) rc = same_commit(d, n, &same, err);
  if (rc != KS_OK || same) {
    xb_close(n);
    return rc;
  }
  *out = n;
  return KS_OK;
}

static int xb_search(void *h, const ks_query_clause *c, size_t nc, const ks_search_opts *so,
                     uint32_t nhits, void **res, ks_err *err) {
  xb_db *d = h;
  *res = NULL;
  size_t nt = 0, na = 0;
  for (size_t i = 0; i < nc; i++) {
    nt += c[i].nterms;
    na += c[i].nalts;
  }
  ks_xap_clause *cl = calloc(nc ? nc : 1, sizeof *cl);
  ks_xap_qterm *qt = calloc(nt ? nt : 1, sizeof *qt);
  ks_xap_alt *xa = calloc(na ? na : 1, sizeof *xa);
  int rc = cl && qt && xa ? KS_OK
                          : ks_err_set(err, KS_ENOMEM, "[xap][search] out of memory");
  size_t k = 0, ka = 0;
  for (size_t i = 0; rc == KS_OK && i < nc; i++) {
    cl[i].op = c[i].op;
    cl[i].phrase = c[i].phrase;
    cl[i].terms = &qt[k];
    cl[i].nterms = c[i].nterms;
    cl[i].offsets = c[i].offsets;
    cl[i].alts = c[i].nalts ? &xa[ka] : NULL;
    cl[i].nalts = c[i].nalts;
    for (size_t a = 0; a < c[i].nalts; a++, ka++) {
      xa[ka].idx = c[i].alts[a].idx;
      xa[ka].nterms = c[i].alts[a].nterms;
      xa[ka].offsets = c[i].alts[a].offsets;
    }
    for (size_t j = 0; j < c[i].nterms; j++, k++) {
      qt[k].field = c[i].terms[j].field;
      qt[k].term = c[i].terms[j].term;
      qt[k].len = c[i].terms[j].len;
      qt[k].wqf = c[i].terms[j].count;
    }
  }
  if (rc == KS_OK) {
    ks_xap_search_opts xo;
    ks_xap_search_opts_default(&xo);
    xo.k = nhits;
    xo.k1 = so->k1;
    xo.b = so->b;
    xo.bigram_weight = so->bigram_weight;
    xo.min_normlen = so->min_normlen;
    xo.exhaustive = !so->xapian_pruning;
    ks_xap_results *r = NULL;
    rc = ks_xap_search(d->db, cl, nc, &xo, &r, err);
    *res = r;
  }
  free(xa);
  free(cl);
  free(qt);
  return rc;
}

static size_t xb_results_count(void *res) { return ks_xap_results_count(res); }

static int xb_results_hit(void *res, size_t i, const char **id, size_t *id_len, double *score,
                          ks_err *err) {
  ks_xap_hit h;
  if (ks_xap_results_hit(res, i, &h) != KS_OK)
    return ks_err_set(err, KS_EINVAL, "[xap][hit] no hit %zu", i);
  *id = h.id, *id_len = h.id_len, *score = h.score;
  return KS_OK;
}

/* Exhaustive matching counts exactly; Xapian's pruning gives a lower bound
 * (and an estimate, not used here). */
static uint64_t xb_results_matches(void *res, int *exact) {
  uint64_t lower = 0, est = 0, upper = 0;
  ks_xap_results_matches(res, &lower, &est, &upper);
  *exact = lower == upper;
  return lower;
}

static int xb_results_json(void *res, size_t i, char **json, size_t *len, ks_err *err) {
  return ks_xap_results_json(res, i, json, len, err);
}

static void xb_results_free(void *res) { ks_xap_results_free(res); }

static int xb_get(void *h, const char *id, size_t id_len, char **json, size_t *len,
                  ks_err *err) {
  xb_db *d = h;
  if (id_len == 0 || id_len > KS_XAP_MAX_ID)
    return ks_err_set(err, KS_NOTFOUND, "[xap][get] no document with an id of %zu bytes",
                      id_len);
  return ks_xap_get(d->db, id, id_len, json, len, err);
}

static int xb_stats(void *h, ks_db_stats *st, ks_err *err) {
  xb_db *d = h;
  ks_xap_stats xs;
  int rc = ks_xap_get_stats(d->db, &xs, err);
  if (rc == KS_OK) rc = ks_xap_count_terms(d->db, &st->terms_word, &st->terms_bigram, err);
  if (rc != KS_OK) return rc;
  st->docs = xs.docs;
  st->terms = st->terms_word + st->terms_bigram;
  st->total_length = xs.total_length;
  st->avg_length = xs.avg_length;
  st->shards = xs.shards;
  ks_xap_sub_info si;
  rc = ks_xap_sub_info_get(d->db, 0, &si, err);
  if (rc != KS_OK) return rc;
  st->generation = si.remote ? si.commit_number : si.revision;
  if (d->local)
    for (size_t i = 0; i < d->npaths; i++) st->bytes_total += dir_bytes(d->paths[i]);
  return KS_OK;
}

static int xb_check(const char *path, void (*report)(void *ctx, const char *line), void *ctx,
                    ks_err *err) {
  uint32_t nl = layout_shards(path);
  if (!nl) return ks_xap_check(path, report, ctx, err);
  int rc = KS_OK;
  for (uint32_t i = 0; i < nl; i++) {
    char p[PATH_BYTES];
    snprintf(p, sizeof p, "%s/shard-%u", path, i);
    if (report) {
      char line[PATH_BYTES + 32];
      snprintf(line, sizeof line, "shard %u: %s", i, p);
      report(ctx, line);
    }
    int r = ks_xap_check(p, report, ctx, err);
    if (r != KS_OK && rc == KS_OK) rc = r;
  }
  return rc;
}

/* ---- writing ---------------------------------------------------------------- */

/* A writer (docs/xapian.md, "Live index"):
 *   - it holds flock(LOCK_EX) on the index directory <dir> (created empty
 *     if missing), so a second writer gets KS_ELOCKED; Xapian's own lock
 *     on each database is held too;
 *   - "building" (KS_WRITER_REPLACE, or no index yet): it writes a new
 *     database or layout below <dir>.tmp, which its first commit swaps
 *     with <dir> in one renameat2(RENAME_EXCHANGE); it then continues on
 *     <dir> like an UPDATE writer;
 *   - updating: one Xapian writer per database (DB_OPEN), each inside a
 *     transaction that ks_writer_commit commits and restarts, so nothing
 *     is visible before the commit and ks_writer_close drops it;
 *   - an id goes to shard ks_xap_shard_of(id) (FNV-1a of the id modulo N,
 *     fixed for the layout's life), so every version of an id, and its
 *     deletion, meet in one shard. */
typedef struct xb_writer {
  char *out, *tmp, *old;  /* <dir>, <dir>.tmp, <dir>.old */
  uint32_t nshards;       /* 0: single database */
  ks_xap_writer **w;      /* max(nshards, 1) writers */
  ks_xap_writer_opts wo;
  int building;           /* writing below tmp until the first commit */
  int lock_fd;            /* flock'ed directory of out (-1: none) */
  int tmp_fd;             /* flock'ed tmp while building (-1: none) */
  int created;            /* this writer created the empty out directory */
  int committed;          /* a commit succeeded */
  int failed;             /* rc that made the writer unusable (0: none) */
  uint64_t commit;        /* commit number of the last commit */
  ks_writer_stats st;
} xb_writer;

static uint32_t nwriters(const xb_writer *b) { return b->nshards ? b->nshards : 1; }

static void close_writers(xb_writer *b) {
  for (uint32_t i = 0; b->w && i < nwriters(b); i++) {
    ks_xap_writer_close(b->w[i]); /* cancels uncommitted changes */
    b->w[i] = NULL;
  }
}

static void xb_writer_close(void *h) {
  xb_writer *b = h;
  if (!b) return;
  close_writers(b);
  if (b->building && b->tmp && is_dir(b->tmp)) rm_tree(b->tmp);
  if (b->created && !b->committed && b->out) rmdir(b->out); /* only if still empty */
  if (b->tmp_fd >= 0) close(b->tmp_fd);
  if (b->lock_fd >= 0) close(b->lock_fd); /* releases the flock */
  free(b->out);
  free(b->tmp);
  free(b->old);
  free(b->w);
  free(b);
}

/* Open directory `path` (creating it if missing when `create`) and take
 * flock(LOCK_EX | LOCK_NB) on it. Retries if the path was replaced by
 * another directory between open and flock (a REPLACE commit swaps it),
 * so the lock is always on what `path` names. */
static int lock_dir(const char *path, int create, int *fd, int *created, ks_err *err) {
  *fd = -1;
  if (created) *created = 0;
  for (int tries = 0; tries < 100; tries++) {
    int made = 0;
    if (create) {
      if (mkdir(path, 0777) == 0) made = 1;
      else if (errno != EEXIST)
        return ks_err_set(err, KS_EIO, "[xap][writer] %s: cannot create: %s", path,
                          strerror(errno));
    }
    int f = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f < 0 && errno == ENOENT && create) continue;
    if (f < 0)
      return ks_err_set(err, errno == ENOTDIR ? KS_EINVAL : KS_EIO,
                        "[xap][writer] %s: cannot open the directory: %s", path,
                        strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close(f);
      if (e == EWOULDBLOCK)
        return ks_err_set(err, KS_ELOCKED,
                          "[xap][writer] %s: locked: another writer has this index open", path);
      return ks_err_set(err, KS_EIO, "[xap][writer] %s: cannot lock: %s", path, strerror(e));
    }
    struct stat a, p;
    if (fstat(f, &a) == 0 && stat(path, &p) == 0 && a.st_dev == p.st_dev &&
        a.st_ino == p.st_ino) {
      *fd = f;
      if (created) *created = made;
      return KS_OK;
    }
    close(f); /* replaced meanwhile: lock what the path names now */
  }
  return ks_err_set(err, KS_ELOCKED, "[xap][writer] %s: keeps changing; cannot lock it", path);
}

/* fsync a directory (after renames in it). */
static int sync_dir(const char *path, ks_err *err) {
  int f = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (f < 0 || fsync(f) != 0) {
    int e = errno;
    if (f >= 0) close(f);
    return ks_err_set(err, KS_EIO, "[xap][commit] %s: cannot sync: %s", path, strerror(e));
  }
  close(f);
  return KS_OK;
}

/* The parent directory of `p` in buf ("." if none). */
static void parent_dir(const char *p, char *buf, size_t cap) {
  snprintf(buf, cap, "%s", p);
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
  char *s = strrchr(buf, '/');
  if (!s) snprintf(buf, cap, ".");
  else if (s == buf) buf[1] = '\0';
  else *s = '\0';
}

/* Open the writers of the database or layout at `base` with mode `open`. */
static int open_writers(xb_writer *b, const char *base, int open, ks_err *err) {
  b->wo.open = open;
  if (!b->w && !(b->w = calloc(nwriters(b), sizeof *b->w)))
    return ks_err_set(err, KS_ENOMEM, "[xap][writer] out of memory");
  int rc = KS_OK;
  if (b->nshards == 0) return ks_xap_writer_open(base, &b->wo, &b->w[0], err);
  for (uint32_t i = 0; rc == KS_OK && i < b->nshards; i++) {
    char p[PATH_BYTES];
    snprintf(p, sizeof p, "%s/shard-%u", base, i);
    rc = ks_xap_writer_open(p, &b->wo, &b->w[i], err);
  }
  return rc;
}

/* Start writing an existing index: the shards' commit numbers become the
 * writer's; if a crash left them unequal (between two shard commits),
 * commit the lagging shards at once so that readers see one number. */
static int start_update(xb_writer *b, ks_err *err) {
  uint64_t max = 0;
  ks_xap_writer_stats ws;
  for (uint32_t i = 0; i < nwriters(b); i++) {
    ks_xap_writer_get_stats(b->w[i], &ws);
    if (ws.commit_number > max) max = ws.commit_number;
    b->st.docs_live += ws.docs_live;
  }
  for (uint32_t i = 0; i < nwriters(b); i++) {
    ks_xap_writer_get_stats(b->w[i], &ws);
    if (ws.commit_number == max) continue;
    ks_xap_writer_set_commit_number(b->w[i], max - 1);
    int rc = ks_xap_writer_commit(b->w[i], err);
    if (rc != KS_OK) return rc;
  }
  b->commit = max;
  ks_xap_writer_get_stats(b->w[0], &ws);
  b->st.generation = ws.revision;
  return KS_OK;
}

/* Start a new database or layout below tmp (REPLACE, or no index yet). */
static int start_build(xb_writer *b, ks_err *err) {
  if (!replaceable(b->tmp) || !replaceable(b->old))
    return ks_err_set(err, KS_EINVAL,
                      "[xap][writer] %s or %s: exists and is not a kosearch Xapian database; "
                      "remove it first",
                      b->tmp, b->old);
  /* leftovers of an interrupted writer: none is running, we hold the lock */
  rm_tree(b->tmp);
  rm_tree(b->old);
  b->building = 1;
  int rc = lock_dir(b->tmp, 1, &b->tmp_fd, NULL, err);
  if (rc == KS_OK) rc = open_writers(b, b->tmp, KS_XAP_OVERWRITE, err);
  return rc;
}

static int xb_writer_open(const char *dir, const ks_writer_opts *o, void **out, ks_err *err) {
  *out = NULL;
  if (o->shards > MAX_SHARDS)
    return ks_err_set(err, KS_EINVAL, "[xap][writer] shards must be at most %d", MAX_SHARDS);
  if (o->mode != KS_WRITER_UPDATE && o->mode != KS_WRITER_REPLACE)
    return ks_err_set(err, KS_EINVAL, "[xap][writer] bad mode %d", o->mode);
  if (!replaceable(dir))
    return ks_err_set(err, KS_EINVAL,
                      "[xap][writer] %s: exists and is neither empty nor a kosearch Xapian "
                      "database; refusing to overwrite it",
                      dir);
  xb_writer *b = calloc(1, sizeof *b);
  if (!b) return ks_err_set(err, KS_ENOMEM, "[xap][writer] out of memory");
  b->lock_fd = b->tmp_fd = -1;
  b->out = path_join(dir, "");
  b->tmp = path_join(dir, ".tmp");
  b->old = path_join(dir, ".old");
  int rc = b->out && b->tmp && b->old
               ? KS_OK
               : ks_err_set(err, KS_ENOMEM, "[xap][writer] out of memory");
  if (rc == KS_OK) rc = lock_dir(b->out, 1, &b->lock_fd, &b->created, err);
  ks_xap_writer_opts_default(&b->wo);
  b->wo.fsync = o->fsync;
  b->wo.atomic = 1;
  uint32_t nl = rc == KS_OK ? layout_shards(b->out) : 0;
  int single = rc == KS_OK && ks_xap_is_database(b->out);
  if (rc == KS_OK && ((!nl && is_layout(b->out)) || (nl && single)))
    rc = ks_err_set(err, KS_ECORRUPT, "[xap][writer] %s/%s: not a valid shard marker", b->out,
                    SHARDS_MARKER);
  else if (rc == KS_OK && !replaceable(b->out)) /* changed before we locked it */
    rc = ks_err_set(err, KS_EINVAL, "[xap][writer] %s: not a kosearch Xapian database", b->out);
  if (rc == KS_OK && o->mode == KS_WRITER_UPDATE && (nl || single)) {
    if (o->shards && o->shards != nl)
      rc = ks_err_set(err, KS_EINVAL,
                      "[xap][writer] %s: the index has %u shards (0: one database), not %u; "
                      "change the layout with KS_WRITER_REPLACE",
                      b->out, nl, o->shards);
    b->nshards = nl;
    if (rc == KS_OK) rc = open_writers(b, b->out, KS_XAP_OPEN, err);
    if (rc == KS_OK) rc = start_update(b, err);
  } else if (rc == KS_OK) {
    b->nshards = o->shards;
    rc = start_build(b, err);
  }
  if (rc != KS_OK) {
    xb_writer_close(b);
    return rc;
  }
  *out = b;
  return KS_OK;
}

static int failed_earlier(const xb_writer *b, const char *op, ks_err *err) {
  return ks_err_set(err, KS_EINVAL, "[xap][%s] %s: the writer failed earlier (%s); close it", op,
                    b->out, ks_strerror(b->failed));
}

static int xb_writer_add(void *h, const char *id, size_t id_len, const char *json,
                         size_t json_len, const ks_doc_term *terms, size_t nterms,
                         ks_err *err) {
  xb_writer *b = h;
  if (b->failed) return failed_earlier(b, "add", err);
  uint32_t shard = b->nshards ? ks_xap_shard_of(id, id_len, b->nshards) : 0;
  ks_xap_writer *w = b->w[shard];
  ks_xap_writer_stats before, after;
  ks_xap_writer_get_stats(w, &before);
  /* ks_doc_term and ks_xap_term have the same members in the same order */
  int rc = ks_xap_writer_add(w, id, id_len, json, json_len, (const ks_xap_term *)terms, nterms,
                             err);
  if (rc == KS_EINVAL) rc = KS_EINPUT; /* the document was rejected */
  if (rc != KS_OK && rc != KS_EINPUT && rc != KS_ELIMIT) b->failed = rc;
  if (rc != KS_OK) return rc;
  ks_xap_writer_get_stats(w, &after);
  b->st.docs_added++;
  b->st.docs_replaced += after.docs_replaced - before.docs_replaced;
  b->st.postings += after.postings - before.postings;
  return KS_OK;
}

static int xb_writer_delete(void *h, const char *id, size_t id_len, ks_err *err) {
  xb_writer *b = h;
  if (b->failed) return failed_earlier(b, "delete", err);
  uint32_t shard = b->nshards ? ks_xap_shard_of(id, id_len, b->nshards) : 0;
  int rc = ks_xap_writer_delete(b->w[shard], id, id_len, err);
  if (rc == KS_OK) b->st.docs_deleted++;
  else if (rc != KS_NOTFOUND) b->failed = rc;
  return rc;
}

static int write_marker(const xb_writer *b, ks_err *err) {
  char m[PATH_BYTES];
  snprintf(m, sizeof m, "%s/%s", b->tmp, SHARDS_MARKER);
  FILE *f = fopen(m, "w");
  if (!f || fprintf(f, "kosearch xapian shards %u\n", b->nshards) < 0 || fflush(f) ||
      fsync(fileno(f))) {
    int e = errno;
    if (f) fclose(f);
    return ks_err_set(err, KS_EIO, "[xap][commit] %s: cannot write: %s", m, strerror(e));
  }
  if (fclose(f)) return ks_err_set(err, KS_EIO, "[xap][commit] %s: cannot write: %s", m,
                                   strerror(errno));
  return KS_OK;
}

/* The first commit of a build: tmp (committed, writers closed) takes out's
 * place in one renameat2(RENAME_EXCHANGE), so a reader finds either index
 * at out, never none; the previous index, now at tmp, is removed. Where
 * the file system cannot exchange, two renames (out -> out.old, tmp ->
 * out) leave a moment without out. The lock moves with the directory:
 * tmp_fd is the new out's. */
static int publish_build(xb_writer *b, ks_err *err) {
  int rc = b->nshards ? write_marker(b, err) : KS_OK;
  if (rc == KS_OK && b->wo.fsync) rc = sync_dir(b->tmp, err);
  if (rc != KS_OK) return rc;
  int swapped = 0;
#ifdef RENAME_EXCHANGE
  if (renameat2(AT_FDCWD, b->tmp, AT_FDCWD, b->out, RENAME_EXCHANGE) == 0) swapped = 1;
  else if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return ks_err_set(err, KS_EIO, "[xap][commit] cannot exchange %s and %s: %s", b->tmp,
                      b->out, strerror(errno));
#endif
  if (swapped) {
    rm_tree(b->tmp); /* the previous index */
  } else {
    if (rename(b->out, b->old) != 0)
      return ks_err_set(err, KS_EIO, "[xap][commit] cannot rename %s to %s: %s", b->out, b->old,
                        strerror(errno));
    if (rename(b->tmp, b->out) != 0) {
      int e = errno;
      rename(b->old, b->out);
      return ks_err_set(err, KS_EIO, "[xap][commit] cannot rename %s to %s: %s", b->tmp, b->out,
                        strerror(e));
    }
    rm_tree(b->old);
  }
  close(b->lock_fd);
  b->lock_fd = b->tmp_fd;
  b->tmp_fd = -1;
  b->building = 0;
  if (b->wo.fsync) {
    char parent[PATH_BYTES];
    parent_dir(b->out, parent, sizeof parent);
    return sync_dir(parent, err);
  }
  return KS_OK;
}

/* Publish every change since the previous commit: each database commits
 * its transaction with the next commit number (shard 0 first). A build's
 * first commit then publishes the new index (publish_build) and reopens
 * its writers on it. */
static int xb_writer_commit(void *h, ks_err *err) {
  xb_writer *b = h;
  if (b->failed) return failed_earlier(b, "commit", err);
  int rc = KS_OK;
  for (uint32_t i = 0; rc == KS_OK && i < nwriters(b); i++) {
    ks_xap_writer_set_commit_number(b->w[i], b->commit);
    rc = ks_xap_writer_commit(b->w[i], err);
  }
  ks_xap_writer_stats ws;
  uint64_t live = 0;
  for (uint32_t i = 0; rc == KS_OK && i < nwriters(b); i++) {
    ks_xap_writer_get_stats(b->w[i], &ws);
    live += ws.docs_live;
  }
  int was_building = b->building;
  if (rc == KS_OK && b->building) {
    close_writers(b);
    rc = publish_build(b, err);
    if (rc == KS_OK) rc = open_writers(b, b->out, KS_XAP_OPEN, err);
  }
  if (rc != KS_OK) {
    b->failed = rc;
    return rc;
  }
  b->commit++;
  b->committed = 1;
  b->st.docs_live = live;
  ks_xap_writer_get_stats(b->w[0], &ws);
  b->st.generation = ws.revision;
  b->st.index_bytes = dir_bytes(b->out);
  b->st.segments = nwriters(b);
  if (was_building) {
    /* distinct terms: walking the vocabulary costs as much as it is
     * large, so only a build's first commit counts them */
    xb_db *d = NULL;
    ks_err e2;
    const char *spec = b->out;
    if (xb_open(&spec, 1, (void **)&d, &e2) == KS_OK) {
      uint64_t words = 0, bigrams = 0;
      if (ks_xap_count_terms(d->db, &words, &bigrams, &e2) == KS_OK)
        b->st.terms = words + bigrams;
      xb_close(d);
    }
  } else {
    b->st.terms = 0;
  }
  return KS_OK;
}

static void xb_writer_stats(void *h, ks_writer_stats *st) {
  xb_writer *b = h;
  *st = b->st;
}

static const ks_backend_ops xapian_backend = {
    .abi = KS_BACKEND_ABI,
    .name = "xapian",
    .detect = xb_detect,
    .open = xb_open,
    .dup = xb_dup,
    .close = xb_close,
    .reopen = xb_reopen,
    .search = xb_search,
    .results_count = xb_results_count,
    .results_hit = xb_results_hit,
    .results_matches = xb_results_matches,
    .results_json = xb_results_json,
    .results_free = xb_results_free,
    .get = xb_get,
    .stats = xb_stats,
    .check = xb_check,
    .writer_open = xb_writer_open,
    .writer_add = xb_writer_add,
    .writer_delete = xb_writer_delete,
    .writer_commit = xb_writer_commit,
    .writer_stats = xb_writer_stats,
    .writer_close = xb_writer_close,
};

/* Contract: kosearch/xapian.h. */
int ks_xapian_register(ks_err *err) {
  if (strcmp(ks_version(), KS_VERSION_STRING) != 0)
    return ks_err_set(err, KS_EVERSION,
                      "[xap][register] libkosearch-xapian %s needs libkosearch %s, not %s",
                      KS_VERSION_STRING, KS_VERSION_STRING, ks_version());
  return ks_backend_register(&xapian_backend, err);
}
