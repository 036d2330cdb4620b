/*
 * ks_live_driver.c - a program that drives a live index for the crash and
 * concurrency trials (scripts/crash_trials.sh, scripts/concurrency_trial.sh,
 * tests/integration/test_live_crash.sh, test_live_concurrency.sh). Public
 * API only (kosearch.h), so it exercises what users run.
 *
 *   ks_live_driver crash DIR LOG SEED [OPS]
 *       Continue the index in DIR from its last commit with a deterministic
 *       (SEED) sequence of adds, upserts, deletes, commits, forced merges
 *       and writer restarts, logging every commit to LOG (see below), until
 *       OPS operations are done or the process is killed.
 *   ks_live_driver verify DIR LOG
 *       Compare the live documents of DIR (every id of the pool, with the
 *       version in its JSON) with the commits LOG knows. Prints one line:
 *       "ok ..." (exit 0), "MISMATCH lost=L resurrected=R stale=S ..."
 *       (exit 1), "UNOPENABLE ..." (exit 2); "NOLOG" (exit 3) when LOG has
 *       no baseline (the driver was killed before writing it).
 *   ks_live_driver writer DIR SECONDS SEED
 *       For the concurrency trial: add, upsert, delete and merge
 *       continuously; every commit K adds the marker document "gen-K"
 *       (text "zzmarker", JSON field "live": the number of live documents
 *       the commit leaves) and deletes "gen-(K-1)".
 *   ks_live_driver reader DIR SECONDS SEED
 *       Search in a loop, moving to the latest commit (ks_db_reopen) on
 *       every iteration: every search must succeed, and once a commit
 *       exists exactly one marker is visible, its "live" equals the
 *       snapshot's document count, and markers never go backwards. Prints
 *       a summary line; exit 1 on any failure.
 *
 * The crash log: one line per event, each written with one write(2) and
 * fsync'ed before the driver goes on, ending in " $" (a line without it was
 * torn by the kill and is ignored):
 *   B <pool> <n> id:v ... $   the committed state the run started from
 *   P <k> <n> id:v ... $      commit k is about to be made: its live set
 *   C <k> $                   commit k returned KS_OK
 * After a kill the index must hold the set of the last C (or of B), or,
 * if the last line is a P without its C, possibly that P's set (the kill
 * came after the MANIFEST rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kosearch.h"
#include "ks_oracle.h"

#define CRASH_POOL 300

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ks_live_driver: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(4);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- documents --------------------------------------------------------------------- */

/* A random document with id `id` whose JSON carries "v": version (and
 * "live": live when live >= 0). Returns the malloc'ed JSON; the caller
 * frees it and the document (ks_orc_doc_free). */
static char *make_doc(ks_rng *r, ks_orc_doc *d, const char *id, uint64_t version,
                      long long live, const char *extra_text) {
  memset(d, 0, sizeof d[0]);
  snprintf(d->id, sizeof d->id, "%s", id);
  ks_orc_random_doc(r, d);
  if (extra_text) {
    size_t n = strlen(d->text) + strlen(extra_text) + 2;
    char *t = malloc(n);
    if (!t) die("out of memory");
    snprintf(t, n, "%s %s", extra_text, d->text);
    free(d->text);
    d->text = t;
  }
  size_t cap = strlen(d->text) * 2 + (d->title ? strlen(d->title) * 2 : 0) + 256;
  char *js = malloc(cap);
  if (!js) die("out of memory");
  size_t len = (size_t)snprintf(js, cap, "{\"id\":\"%s\",", id);
  if (d->title) {
    len += (size_t)snprintf(js + len, cap - len, "\"title\":");
    len = ks_orc_json_string(js, len, cap, d->title);
    js[len++] = ',';
  }
  len += (size_t)snprintf(js + len, cap - len, "\"text\":");
  len = ks_orc_json_string(js, len, cap, d->text);
  len += (size_t)snprintf(js + len, cap - len, ",\"v\":%llu", (unsigned long long)version);
  if (live >= 0) len += (size_t)snprintf(js + len, cap - len, ",\"live\":%lld", live);
  snprintf(js + len, cap - len, "}");
  return js;
}

static void add_doc(ks_writer *w, const ks_orc_doc *d, const char *js) {
  ks_doc kd = {.id = d->id, .id_len = strlen(d->id), .title = d->title,
               .title_len = d->title ? strlen(d->title) : 0, .text = d->text,
               .text_len = strlen(d->text), .json = js, .json_len = strlen(js)};
  ks_err e;
  int rc = ks_writer_add(w, &kd, &e);
  if (rc != KS_OK) die("add(%s) rc=%d: %s", d->id, rc, e.msg);
}

/* A number field of a JSON object, or -1. */
static long long json_number(const char *js, size_t len, const char *field) {
  cJSON *o = cJSON_ParseWithLength(js, len);
  if (!o) return -1;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, field);
  long long x = cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
  cJSON_Delete(o);
  return x;
}

/* ---- crash mode ------------------------------------------------------------------------ */

/* The live versions of ids "c0".."c<pool-1>" in DIR: vers[i] = version or
 * -1. Returns the number of live ids, or -1 with msg when the index cannot
 * be opened (0 and every -1 when there is no index yet: no MANIFEST). */
static long long list_live(const char *dir, int pool, long long *vers, char *msg, size_t cap,
                           uint64_t *ndocs) {
  for (int i = 0; i < pool; i++) vers[i] = -1;
  *ndocs = 0;
  char mp[4200];
  snprintf(mp, sizeof mp, "%s/MANIFEST", dir);
  struct stat sb;
  if (stat(mp, &sb) != 0) return 0;
  ks_db *db = NULL;
  ks_err e;
  int rc = ks_db_open(dir, &db, &e);
  if (rc != KS_OK) {
    snprintf(msg, cap, "open rc=%d: %.800s", rc, e.msg);
    return -1;
  }
  ks_db_stats st;
  if ((rc = ks_db_get_stats(db, &st, &e)) != KS_OK) {
    snprintf(msg, cap, "stats rc=%d: %.800s", rc, e.msg);
    ks_db_close(db);
    return -1;
  }
  *ndocs = st.docs;
  long long n = 0;
  for (int i = 0; i < pool; i++) {
    char id[32];
    snprintf(id, sizeof id, "c%d", i);
    char *js = NULL;
    size_t jl = 0;
    rc = ks_db_get(db, id, strlen(id), &js, &jl, &e);
    if (rc == KS_NOTFOUND) continue;
    if (rc != KS_OK) {
      snprintf(msg, cap, "get(%s) rc=%d: %.800s", id, rc, e.msg);
      ks_db_close(db);
      return -1;
    }
    vers[i] = json_number(js, jl, "v");
    ks_mem_free(js);
    if (vers[i] < 0) {
      snprintf(msg, cap, "get(%s): JSON without a version", id);
      ks_db_close(db);
      return -1;
    }
    n++;
  }
  ks_db_close(db);
  return n;
}

typedef struct crash_log {
  int fd;
  char *buf;
  size_t cap;
} crash_log;

/* One line "<head> <n> id:v ... $\n" (ids of vers >= 0), written at once
 * and fsync'ed. */
static void log_line(crash_log *l, const char *head, const long long *vers, int pool) {
  size_t need = strlen(head) + 64 + (vers ? (size_t)pool * 32 : 0);
  if (need > l->cap) {
    l->buf = realloc(l->buf, need);
    if (!l->buf) die("out of memory");
    l->cap = need;
  }
  size_t len = (size_t)snprintf(l->buf, l->cap, "%s", head);
  if (vers) {
    int n = 0;
    for (int i = 0; i < pool; i++) n += vers[i] >= 0;
    len += (size_t)snprintf(l->buf + len, l->cap - len, " %d", n);
    for (int i = 0; i < pool; i++)
      if (vers[i] >= 0)
        len += (size_t)snprintf(l->buf + len, l->cap - len, " c%d:%lld", i, vers[i]);
  }
  len += (size_t)snprintf(l->buf + len, l->cap - len, " $\n");
  if (write(l->fd, l->buf, len) != (ssize_t)len) die("log write: %s", strerror(errno));
  if (fsync(l->fd) != 0) die("log fsync: %s", strerror(errno));
}

static ks_writer *crash_open_writer(const char *dir, ks_rng *r) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.mem_budget = 1 << 20;
  o.threads = 1 + ks_rng_below(r, 2);
  /* kill -9 loses nothing fsync protects (the page cache survives), and
   * fsync makes the commit take most of the time: on in a third of the
   * sessions, so that kills also land in adds and merges */
  o.fsync = ks_rng_below(r, 3) == 0;
  if (getenv("KS_DRIVER_FSYNC")) o.fsync = atoi(getenv("KS_DRIVER_FSYNC"));
  ks_writer *w = NULL;
  ks_err e;
  int rc = ks_writer_open(dir, &o, &w, &e);
  if (rc != KS_OK) die("writer open rc=%d: %s", rc, e.msg);
  return w;
}

/* What the driver is doing, in one byte of LOG.phase (shared mapping: the
 * page cache keeps it when the process is killed), for the harness to
 * tell where kills landed: s start, a add, d delete, l log write, c
 * ks_writer_commit, m ks_writer_merge, r writer restart, e end. */
static volatile char *phase;

static void phase_open(const char *logpath) {
  char p[4200];
  snprintf(p, sizeof p, "%s.phase", logpath);
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ftruncate(fd, 1) != 0) die("%s: %s", p, strerror(errno));
  void *m = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) die("mmap %s: %s", p, strerror(errno));
  close(fd);
  phase = m;
  *phase = 's';
}

static int crash_mode(const char *dir, const char *logpath, uint64_t seed, long ops) {
  const int pool = CRASH_POOL;
  long long *committed = malloc(pool * sizeof *committed);
  long long *pending = malloc(pool * sizeof *pending);
  if (!committed || !pending) die("out of memory");
  char msg[1024];
  uint64_t ndocs;
  if (list_live(dir, pool, committed, msg, sizeof msg, &ndocs) < 0)
    die("cannot read the index: %s", msg);
  memcpy(pending, committed, pool * sizeof *pending);
  phase_open(logpath);
  crash_log l = {-1, NULL, 0};
  l.fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (l.fd < 0) die("%s: %s", logpath, strerror(errno));
  char head[64];
  snprintf(head, sizeof head, "B %d", pool);
  log_line(&l, head, committed, pool);
  ks_rng r;
  ks_rng_seed(&r, seed, 7);
  ks_writer *w = crash_open_writer(dir, &r);
  uint64_t version = seed * 1000000ull; /* unique over the trials */
  int commits = 0;
  /* per mille: commits (varies by seed: from long runs of adds, flushed
   * at the memory budget, to a commit every ~25 changes), deletes, forced
   * merges, writer restarts; adds and upserts the rest */
  int p_commit = 5 + ks_rng_below(&r, 36), p_delete = 150, p_merge = 10, p_restart = 5;
  int t_add = 1000 - p_commit - p_delete - p_merge - p_restart;
  double spent[5] = {0}; /* add, delete, commit (with its log lines), merge, restart */
  double engine_commit = 0; /* ks_writer_commit alone */
  for (long op = 0; op < ops; op++) {
    int k = ks_rng_below(&r, 1000);
    ks_err e;
    double t0 = now_s();
    int kind = k < t_add ? 0 : k < t_add + p_delete ? 1 : k < t_add + p_delete + p_commit ? 2
               : k < t_add + p_delete + p_commit + p_merge ? 3 : 4;
    *phase = "adcmr"[kind];
    if (k < t_add) {
      int ix = ks_rng_below(&r, pool);
      char id[32];
      snprintf(id, sizeof id, "c%d", ix);
      ks_orc_doc d;
      char *js = make_doc(&r, &d, id, ++version, -1, NULL);
      add_doc(w, &d, js);
      pending[ix] = (long long)version;
      free(js);
      ks_orc_doc_free(&d);
    } else if (k < t_add + p_delete) {
      int ix = ks_rng_below(&r, pool);
      char id[32];
      snprintf(id, sizeof id, "c%d", ix);
      int rc = ks_writer_delete(w, id, strlen(id), &e);
      int want = pending[ix] >= 0 ? KS_OK : KS_NOTFOUND;
      if (rc != want) die("delete(%s) rc=%d, expected %d: %s", id, rc, want, e.msg);
      pending[ix] = -1;
    } else if (k < t_add + p_delete + p_commit) {
      commits++;
      snprintf(head, sizeof head, "P %d", commits);
      *phase = 'l';
      log_line(&l, head, pending, pool);
      *phase = 'c';
      double t1 = now_s();
      int rc = ks_writer_commit(w, &e);
      if (rc != KS_OK) die("commit rc=%d: %s", rc, e.msg);
      engine_commit += now_s() - t1;
      snprintf(head, sizeof head, "C %d", commits);
      *phase = 'l';
      log_line(&l, head, NULL, pool);
      memcpy(committed, pending, pool * sizeof *pending);
    } else if (k < t_add + p_delete + p_commit + p_merge) {
      uint32_t max = 1 + (uint32_t)ks_rng_below(&r, 4);
      int rc = ks_writer_merge(w, max, &e);
      if (rc != KS_OK) die("merge(%u) rc=%d: %s", max, rc, e.msg);
    } else { /* restart the writer: abandon what is uncommitted */
      ks_writer_close(w);
      memcpy(pending, committed, pool * sizeof *pending);
      w = crash_open_writer(dir, &r);
    }
    spent[kind] += now_s() - t0;
  }
  fprintf(stderr, "crash: %ld operations, %d commits; seconds in add %.2f, delete %.2f, "
          "commit %.2f (ks_writer_commit %.2f, the rest logging), merge %.2f, restart %.2f\n",
          ops, commits, spent[0], spent[1], spent[2], engine_commit, spent[3], spent[4]);
  *phase = 'r';
  ks_writer_close(w);
  *phase = 'e';
  close(l.fd);
  free(l.buf);
  free(committed);
  free(pending);
  return 0;
}

/* Parse "id:v" pairs of one log line into vers (-1 elsewhere). */
static int parse_set(char *p, int pool, long long *vers) {
  for (int i = 0; i < pool; i++) vers[i] = -1;
  char *save = NULL;
  for (char *t = strtok_r(p, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    if (!strcmp(t, "$")) return 0;
    int ix;
    long long v;
    if (sscanf(t, "c%d:%lld", &ix, &v) != 2 || ix < 0 || ix >= pool) return -1;
    vers[ix] = v;
  }
  return -1;
}

static int verify_mode(const char *dir, const char *logpath) {
  FILE *f = fopen(logpath, "r");
  if (!f) {
    printf("NOLOG %s\n", logpath);
    return 3;
  }
  int pool = 0;
  long long *base = NULL, *last_p = NULL, *cand_c = NULL;
  int have_p = 0, p_no = -1, c_no = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (n < 3 || strcmp(line + n - 3, " $\n") != 0) break; /* torn by the kill */
    line[n - 1] = 0;
    if (line[0] == 'B') {
      char *p = line + 2;
      pool = (int)strtol(p, &p, 10);
      if (pool <= 0) break;
      base = malloc(pool * sizeof *base);
      last_p = malloc(pool * sizeof *last_p);
      cand_c = malloc(pool * sizeof *cand_c);
      if (!base || !last_p || !cand_c) die("out of memory");
      strtol(p, &p, 10); /* count */
      if (parse_set(p, pool, base)) die("bad B line");
      memcpy(cand_c, base, pool * sizeof *base);
    } else if (line[0] == 'P' && base) {
      char *p = line + 2;
      p_no = (int)strtol(p, &p, 10);
      strtol(p, &p, 10);
      if (parse_set(p, pool, last_p)) die("bad P line");
      have_p = 1;
    } else if (line[0] == 'C' && base) {
      int k = atoi(line + 2);
      if (!have_p || k != p_no) die("C %d without its P", k);
      memcpy(cand_c, last_p, pool * sizeof *base);
      have_p = 0;
      c_no = k;
    }
  }
  free(line);
  fclose(f);
  if (!base) {
    printf("NOLOG no baseline in %s\n", logpath);
    return 3;
  }
  long long *got = malloc(pool * sizeof *got);
  if (!got) die("out of memory");
  char msg[1024] = "";
  uint64_t ndocs = 0;
  long long nlive = list_live(dir, pool, got, msg, sizeof msg, &ndocs);
  int rc = 0;
  if (nlive < 0) {
    printf("UNOPENABLE %s\n", msg);
    rc = 2;
  } else {
    int eq_c = 1, eq_p = have_p;
    for (int i = 0; i < pool; i++) {
      eq_c &= got[i] == cand_c[i];
      if (have_p) eq_p &= got[i] == last_p[i];
    }
    if ((uint64_t)nlive != ndocs) {
      printf("MISMATCH lost=0 resurrected=%llu stale=0 (%llu live documents but %lld "
             "distinct live ids: duplicates)\n", (unsigned long long)(ndocs - (uint64_t)nlive),
             (unsigned long long)ndocs, nlive);
      rc = 1;
    } else if (eq_c) {
      printf("ok commit %d (%lld live)%s\n", c_no, nlive,
             have_p ? ", killed during commit " : "");
    } else if (eq_p) {
      printf("ok commit %d, published before the kill (%lld live), killed during commit\n",
             p_no, nlive);
    } else {
      /* against the last commit the driver knows completed */
      int lost = 0, res = 0, stale = 0;
      for (int i = 0; i < pool; i++) {
        if (cand_c[i] >= 0 && got[i] < 0) lost++;
        else if (cand_c[i] < 0 && got[i] >= 0) res++;
        else if (cand_c[i] != got[i]) stale++;
      }
      printf("MISMATCH lost=%d resurrected=%d stale=%d (against commit %d%s)\n", lost, res,
             stale, c_no, have_p ? ", and not the pending one either" : "");
      rc = 1;
    }
  }
  free(got);
  free(base);
  free(last_p);
  free(cand_c);
  return rc;
}

/* ---- concurrency: writer and readers -------------------------------------------------- */

#define CONC_POOL 500

static int writer_mode(const char *dir, double seconds, uint64_t seed) {
  ks_rng r;
  ks_rng_seed(&r, seed, 11);
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.mem_budget = 1 << 20;
  o.fsync = 0;
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, &o, &w, &e) != KS_OK) die("writer open: %s", e.msg);
  static unsigned char live[CONC_POOL];
  long long nlive = 0; /* pool documents live (plus one marker after a commit) */
  uint64_t version = 0;
  long commits = 0, merges = 0, adds = 0, deletes = 0;
  double end = now_s() + seconds;
  while (now_s() < end) {
    int batch = 1 + ks_rng_below(&r, 60);
    for (int i = 0; i < batch; i++) {
      int ix = ks_rng_below(&r, CONC_POOL);
      char id[32];
      snprintf(id, sizeof id, "p%d", ix);
      if (live[ix] && ks_rng_below(&r, 4) == 0) {
        if (ks_writer_delete(w, id, strlen(id), &e) != KS_OK) die("delete: %s", e.msg);
        live[ix] = 0;
        nlive--;
        deletes++;
      } else {
        ks_orc_doc d;
        char *js = make_doc(&r, &d, id, ++version, -1, NULL);
        add_doc(w, &d, js);
        free(js);
        ks_orc_doc_free(&d);
        if (!live[ix]) nlive++;
        live[ix] = 1;
        adds++;
      }
    }
    /* the marker of this commit replaces the previous one */
    char id[32];
    if (commits > 0) {
      snprintf(id, sizeof id, "gen-%ld", commits);
      if (ks_writer_delete(w, id, strlen(id), &e) != KS_OK) die("delete marker: %s", e.msg);
    }
    commits++;
    snprintf(id, sizeof id, "gen-%ld", commits);
    ks_orc_doc d;
    char *js = make_doc(&r, &d, id, ++version, nlive + 1, "zzmarker");
    add_doc(w, &d, js);
    free(js);
    ks_orc_doc_free(&d);
    if (ks_rng_below(&r, 10) == 0) {
      if (ks_writer_merge(w, 1 + (uint32_t)ks_rng_below(&r, 3), &e) != KS_OK)
        die("merge: %s", e.msg);
      merges++;
    }
    if (ks_writer_commit(w, &e) != KS_OK) die("commit: %s", e.msg);
  }
  ks_writer_stats st;
  ks_writer_get_stats(w, &st);
  ks_writer_close(w);
  printf("writer: %ld commits, %ld adds, %ld deletes, %ld forced merges, %u merges, %u "
         "segments, %llu live\n", commits, adds, deletes, merges, st.merges, st.segments,
         (unsigned long long)st.docs_live);
  return 0;
}

static int reader_mode(const char *dir, double seconds, uint64_t seed) {
  ks_rng r;
  ks_rng_seed(&r, seed, 13);
  ks_db *db = NULL;
  ks_err e;
  long iters = 0, searches = 0, failed = 0, bad = 0, reopens = 0, waits = 0;
  long long last_marker = 0;
  double end = now_s() + seconds;
  char first_problem[1200] = "";
#define PROBLEM(...)                                                          \
  do {                                                                        \
    if (!first_problem[0]) snprintf(first_problem, sizeof first_problem, __VA_ARGS__); \
  } while (0)
  while (now_s() < end) {
    iters++;
    if (!db) {
      int rc = ks_db_open(dir, &db, &e);
      if (rc == KS_NOTFOUND) { /* no commit yet */
        waits++;
        usleep(1000);
        continue;
      }
      if (rc != KS_OK) {
        failed++;
        PROBLEM("open rc=%d: %s", rc, e.msg);
        usleep(1000);
        continue;
      }
    } else {
      ks_db *nd = NULL;
      int rc = ks_db_reopen(db, &nd, &e);
      if (rc != KS_OK) {
        failed++;
        PROBLEM("reopen rc=%d: %s", rc, e.msg);
        continue;
      }
      if (nd) {
        ks_db_close(db);
        db = nd;
        reopens++;
      }
    }
    /* the marker */
    ks_search_opts o;
    ks_search_opts_default(&o);
    o.k = 10;
    o.algorithm = ks_rng_below(&r, 3);
    ks_results *res = NULL;
    searches++;
    int rc = ks_db_search(db, "zzmarker", SIZE_MAX, &o, &res, &e);
    if (rc != KS_OK) {
      failed++;
      PROBLEM("search zzmarker rc=%d: %s", rc, e.msg);
      continue;
    }
    ks_db_stats st;
    if (ks_db_get_stats(db, &st, &e) != KS_OK) {
      failed++;
      PROBLEM("stats: %s", e.msg);
    } else if (ks_results_count(res) != 1) {
      bad++;
      PROBLEM("generation %llu: %zu markers visible", (unsigned long long)st.generation,
              ks_results_count(res));
    } else {
      ks_hit h;
      ks_results_hit(res, 0, &h);
      char idbuf[64];
      snprintf(idbuf, sizeof idbuf, "%.*s", (int)(h.id_len < 60 ? h.id_len : 60), h.id);
      long long k = strncmp(idbuf, "gen-", 4) == 0 ? atoll(idbuf + 4) : -1;
      if (k < 0) {
        bad++;
        PROBLEM("generation %llu: the marker search returned %s", (unsigned long long)st.generation,
                idbuf);
      }
      char *js = NULL;
      size_t jl = 0;
      if (ks_results_json(res, 0, &js, &jl, &e) != KS_OK) {
        failed++;
        PROBLEM("json: %s", e.msg);
      } else {
        long long want = json_number(js, jl, "live");
        if (want != (long long)st.docs) {
          bad++;
          PROBLEM("generation %llu: marker %.*s says %lld live documents, the snapshot has "
                  "%llu", (unsigned long long)st.generation, (int)h.id_len, h.id, want,
                  (unsigned long long)st.docs);
        }
        ks_mem_free(js);
      }
      if (k < last_marker) {
        bad++;
        PROBLEM("marker went back from gen-%lld to gen-%lld", last_marker, k);
      }
      last_marker = k;
    }
    ks_results_free(res);
    /* a random query, any algorithm: it must work */
    ks_orc_clause cl[4];
    char q[1200];
    ks_orc_make_query(&r, NULL, 0, cl, q, sizeof q);
    o.k = 1 + (uint32_t)ks_rng_below(&r, 20);
    o.algorithm = ks_rng_below(&r, 3);
    searches++;
    rc = ks_db_search(db, q, SIZE_MAX, &o, &res, &e);
    if (rc != KS_OK) {
      failed++;
      PROBLEM("search [%.300s] rc=%d: %.600s", q, rc, e.msg);
    } else {
      for (size_t i = 0; i < ks_results_count(res) && i < 3; i++) {
        char *js = NULL;
        if (ks_results_json(res, i, &js, NULL, &e) != KS_OK) {
          failed++;
          PROBLEM("json of hit %zu: %s", i, e.msg);
        }
        ks_mem_free(js);
      }
      ks_results_free(res);
    }
  }
  ks_db_close(db);
  printf("reader: %ld iterations, %ld searches, %ld reopens, %ld failed, %ld bad states, "
         "last marker gen-%lld%s%s\n", iters, searches, reopens, failed, bad, last_marker,
         first_problem[0] ? "; first problem: " : "", first_problem);
  return failed || bad ? 1 : 0;
#undef PROBLEM
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 5 && !strcmp(argv[1], "crash"))
    return crash_mode(argv[2], argv[3], strtoull(argv[4], NULL, 10),
                      argc >= 6 ? atol(argv[5]) : 1000000);
  if (argc == 4 && !strcmp(argv[1], "verify")) return verify_mode(argv[2], argv[3]);
  if (argc == 5 && !strcmp(argv[1], "writer"))
    return writer_mode(argv[2], atof(argv[3]), strtoull(argv[4], NULL, 10));
  if (argc == 5 && !strcmp(argv[1], "reader"))
    return reader_mode(argv[2], atof(argv[3]), strtoull(argv[4], NULL, 10));
  fprintf(stderr, "usage: ks_live_driver crash DIR LOG SEED [OPS] | verify DIR LOG | "
                  "writer DIR SECONDS SEED | reader DIR SECONDS SEED\n");
  return 4;
}
