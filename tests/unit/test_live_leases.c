/*
 * test_live_leases.c - reader leases across processes (issue 11,
 * docs/live.md "Readers and garbage collection"; common/lease.c,
 * indexer/directory.c).
 *
 * test_reader_process_keeps_commit: a child process opens the index
 * (ks_db_open) at commit G and answers searches on request through a
 * pipe, while this process commits several times, upserts and deletes
 * every document of G and merges everything into one segment. Every file
 * G's kept MANIFEST.G names (segment files, .del generations) must stay
 * on disk, and the child's answers must not change. When the child is
 * gone - closed normally, or killed with SIGKILL - the next commit's
 * garbage collection removes G's files, MANIFEST.G and LEASE.G.
 *
 * test_check_while_committing: a child process adds, upserts, deletes,
 * merges and commits in a loop; this process runs ks_db_check (what
 * `kosearch check` runs) and opens and searches the index meanwhile. No
 * check of the healthy index may fail (it used to, with missing .pos
 * files, before check leased its snapshot).
 *
 * The children are forked while this process holds no writer and no
 * reader, so that they inherit no lock.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kosearch.h"
#include "ks_oracle.h"
#include "ks_test_util.h"
#include "manifest_int.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ks_writer *writer_open(const char *dir, int threads) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.fsync = 0;
  o.mem_budget = 1 << 20;
  o.threads = threads;
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, &o, &w, &e) != KS_OK) fail_msg("writer open: %s", e.msg);
  return w;
}

/* Add document "<prefix><i>" (random text with the word 대통령). */
static void add(ks_writer *w, ks_rng *r, const char *prefix, int i) {
  ks_orc_doc d;
  memset(&d, 0, sizeof d);
  snprintf(d.id, sizeof d.id, "%s%d", prefix, i);
  ks_orc_random_doc(r, &d);
  char text[8192];
  snprintf(text, sizeof text, "대통령 %.8000s", d.text);
  ks_doc kd = {.id = d.id, .id_len = strlen(d.id), .title = d.title,
               .title_len = d.title ? strlen(d.title) : 0, .text = text,
               .text_len = strlen(text)};
  ks_err e;
  if (ks_writer_add(w, &kd, &e) != KS_OK) fail_msg("add: %s", e.msg);
  ks_orc_doc_free(&d);
}

static void commit(ks_writer *w) {
  ks_err e;
  if (ks_writer_commit(w, &e) != KS_OK) fail_msg("commit: %s", e.msg);
}

/* The files commit gen's kept MANIFEST names, as paths. */
typedef struct file_list {
  char path[256][512];
  int n;
} file_list;

static void commit_files(const char *dir, uint64_t gen, file_list *fl) {
  ks_manifest m;
  ks_err e;
  if (ks_manifest_read_gen(dir, gen, &m, &e) != KS_OK) fail_msg("MANIFEST.%llu: %s",
                                                                (unsigned long long)gen, e.msg);
  fl->n = 0;
  static const char *ext[] = {"tid", "doc", "pos", "len", "sto"};
  for (uint32_t s = 0; s < m.nsegs; s++) {
    for (int x = 0; x < 5; x++)
      snprintf(fl->path[fl->n++], sizeof fl->path[0], "%s/%06u.%s", dir, m.segs[s].segno,
               ext[x]);
    if (m.segs[s].del_gen)
      snprintf(fl->path[fl->n++], sizeof fl->path[0], "%s/%06u_%llu.del", dir,
               m.segs[s].segno, (unsigned long long)m.segs[s].del_gen);
    assert_true(fl->n + 6 < 256);
  }
  snprintf(fl->path[fl->n++], sizeof fl->path[0], "%s/MANIFEST.%llu", dir,
           (unsigned long long)gen);
  ks_manifest_free(&m);
}

static int exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

/* Files of fl that the current MANIFEST does not name. */
static int unique_to(const char *dir, const file_list *fl, file_list *out) {
  ks_manifest m;
  ks_err e;
  if (ks_manifest_read(dir, &m, &e) != KS_OK) fail_msg("MANIFEST: %s", e.msg);
  file_list cur;
  commit_files(dir, m.generation, &cur);
  out->n = 0;
  for (int i = 0; i < fl->n; i++) {
    int named = 0;
    for (int j = 0; j < cur.n && !named; j++) named = !strcmp(fl->path[i], cur.path[j]);
    if (!named) snprintf(out->path[out->n++], sizeof out->path[0], "%s", fl->path[i]);
  }
  ks_manifest_free(&m);
  return out->n;
}

/* ---- the reader child ----------------------------------------------------- */

/* A digest of the answer to a few searches and gets. */
static uint64_t answer(ks_db *db) {
  static const char *qs[] = {"대통령", "산업 협력", "\"첨단 산업\"", "+한국 -미국", "MIT"};
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
    ks_search_opts o;
    ks_search_opts_default(&o);
    o.k = 1000;
    o.algorithm = (int)(i % 3);
    ks_results *r = NULL;
    ks_err e;
    if (ks_db_search(db, qs[i], SIZE_MAX, &o, &r, &e) != KS_OK) return 0;
    for (size_t k = 0; k < ks_results_count(r); k++) {
      ks_hit hit;
      ks_results_hit(r, k, &hit);
      for (size_t c = 0; c < hit.id_len; c++) h = (h ^ (uint8_t)hit.id[c]) * 1099511628211ull;
      uint64_t bits;
      memcpy(&bits, &hit.score, 8);
      h = (h ^ bits) * 1099511628211ull;
    }
    ks_results_free(r);
  }
  for (int i = 0; i < 40; i++) {
    char id[16], *js = NULL;
    snprintf(id, sizeof id, "a%d", i);
    ks_err e;
    int rc = ks_db_get(db, id, strlen(id), &js, NULL, &e);
    h = (h ^ (uint64_t)(rc + 1000)) * 1099511628211ull;
    if (js) {
      for (char *c = js; *c; c++) h = (h ^ (uint8_t)*c) * 1099511628211ull;
      ks_mem_free(js);
    }
  }
  return h ? h : 1;
}

/* Child: open, tell the generation, answer 's' with a digest, quit on 'q'
 * or EOF. */
static void reader_child(const char *dir, int in, int out) {
  ks_db *db = NULL;
  ks_err e;
  uint64_t msg[2] = {0, 0};
  if (ks_db_open(dir, &db, &e) == KS_OK) {
    ks_db_stats st;
    ks_db_get_stats(db, &st, &e);
    msg[0] = st.generation;
    msg[1] = answer(db);
  }
  if (write(out, msg, sizeof msg) != sizeof msg) _exit(3);
  char c;
  while (read(in, &c, 1) == 1 && c == 's') {
    uint64_t h = db ? answer(db) : 0;
    if (write(out, &h, sizeof h) != sizeof h) _exit(3);
  }
  ks_db_close(db);
  _exit(0);
}

typedef struct child {
  pid_t pid;
  int to, from;
} child;

static void start_reader(const char *dir, child *c, uint64_t *gen, uint64_t *digest) {
  int a[2], b[2];
  assert_int_equal(pipe(a), 0);
  assert_int_equal(pipe(b), 0);
  fflush(NULL);
  c->pid = fork();
  assert_true(c->pid >= 0);
  if (c->pid == 0) {
    close(a[1]);
    close(b[0]);
    reader_child(dir, a[0], b[1]);
  }
  close(a[0]);
  close(b[1]);
  c->to = a[1];
  c->from = b[0];
  uint64_t msg[2];
  assert_int_equal(read(c->from, msg, sizeof msg), (ssize_t)sizeof msg);
  if (msg[0] == 0) fail_msg("the reader process could not open the index");
  *gen = msg[0];
  *digest = msg[1];
}

static uint64_t ask(child *c) {
  assert_int_equal(write(c->to, "s", 1), 1);
  uint64_t h = 0;
  assert_int_equal(read(c->from, &h, sizeof h), (ssize_t)sizeof h);
  return h;
}

static void stop_reader(child *c, int kill9) {
  if (kill9) {
    kill(c->pid, SIGKILL);
  } else {
    assert_int_equal(write(c->to, "q", 1), 1);
  }
  int st;
  assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
  if (!kill9) assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(c->to);
  close(c->from);
}

static void reader_round(int kill9, int threads) {
  const char *dir = ks_test_tmpdir(kill9 ? "live_leases_kill" : "live_leases_exit");
  ks_rng r;
  ks_rng_seed(&r, 42, (uint64_t)kill9);
  /* commits 1 and 2: two segments, one with a .del */
  ks_writer *w = writer_open(dir, threads);
  for (int i = 0; i < 30; i++) add(w, &r, "a", i);
  commit(w);
  for (int i = 20; i < 40; i++) add(w, &r, "a", i); /* 20..29 upserted */
  ks_err e;
  assert_int_equal(ks_writer_delete(w, "a3", 2, &e), KS_OK);
  commit(w);
  ks_writer_close(w);

  child c;
  uint64_t gen, digest;
  start_reader(dir, &c, &gen, &digest);
  file_list g;
  commit_files(dir, gen, &g);
  print_message("reader process at generation %llu: %d files\n", (unsigned long long)gen, g.n);

  /* many commits: every document of G replaced or deleted, merged away */
  w = writer_open(dir, threads);
  for (int round = 0; round < 6; round++) {
    for (int i = 0; i < 40; i += 1 + round) add(w, &r, "a", i);
    char id[16];
    snprintf(id, sizeof id, "a%d", 5 + round);
    ks_writer_delete(w, id, strlen(id), &e); /* KS_OK or KS_NOTFOUND */
    if (round == 4) assert_int_equal(ks_writer_merge(w, 1, &e), KS_OK);
    commit(w);
    for (int i = 0; i < g.n; i++)
      if (!exists(g.path[i]))
        fail_msg("commit %d after the reader's: %s of its commit %llu was removed while "
                 "the reader process is alive", round, g.path[i], (unsigned long long)gen);
    if (ask(&c) != digest)
      fail_msg("the reader process's answers changed after commit %d", round);
  }
  file_list gone;
  int n = unique_to(dir, &g, &gone);
  if (n < 5) fail_msg("the test is vacuous: only %d files of commit %llu are not in the "
                      "current one", n, (unsigned long long)gen);
  stop_reader(&c, kill9);
  commit(w); /* garbage collection */
  for (int i = 0; i < gone.n; i++)
    if (exists(gone.path[i]))
      fail_msg("%s of commit %llu survived the commit after its reader %s", gone.path[i],
               (unsigned long long)gen, kill9 ? "was killed" : "closed");
  char lease[4300];
  snprintf(lease, sizeof lease, "%s/LEASE.%llu", dir, (unsigned long long)gen);
  if (exists(lease)) fail_msg("%s survived", lease);
  ks_writer_close(w);
  if (ks_db_check(dir, NULL, NULL, &e) != KS_OK) fail_msg("check: %s", e.msg);
  print_message("%s reader: %d files of its commit kept while it lived, removed after\n",
                kill9 ? "killed" : "closed", gone.n);
}

static void test_reader_process_keeps_commit(void **state) {
  (void)state;
  reader_round(0, 1);
  reader_round(1, 2);
}

/* ---- check while commits land --------------------------------------------- */

static void writer_child(const char *dir, double seconds) {
  ks_rng r;
  ks_rng_seed(&r, 7, 7);
  ks_writer *w = writer_open(dir, 2);
  double end = now_s() + seconds;
  int commits = 0;
  while (now_s() < end) {
    int n = 1 + ks_rng_below(&r, 30);
    for (int i = 0; i < n; i++) add(w, &r, "a", ks_rng_below(&r, 300));
    for (int i = 0; i < 3; i++) {
      char id[16];
      snprintf(id, sizeof id, "a%d", ks_rng_below(&r, 300));
      ks_err e;
      int rc = ks_writer_delete(w, id, strlen(id), &e);
      if (rc != KS_OK && rc != KS_NOTFOUND) _exit(2);
    }
    ks_err e;
    if (ks_rng_below(&r, 8) == 0 && ks_writer_merge(w, 1 + ks_rng_below(&r, 3), &e)) _exit(2);
    if (ks_writer_commit(w, &e) != KS_OK) _exit(2);
    commits++;
  }
  ks_writer_close(w);
  _exit(commits > 10 ? 0 : 3);
}

static void test_check_while_committing(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("live_check_loop");
  ks_rng r;
  ks_rng_seed(&r, 3, 3);
  ks_writer *w = writer_open(dir, 1);
  for (int i = 0; i < 200; i++) add(w, &r, "a", i);
  commit(w);
  ks_writer_close(w);
  double seconds = atof(ks_test_env("KS_LIVE_CHECK_SECONDS", "4"));
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) writer_child(dir, seconds);
  int checks = 0, failed = 0, opens = 0, open_failed = 0;
  char first[1200] = "";
  int st;
  while (waitpid(pid, &st, WNOHANG) == 0) {
    ks_err e;
    int rc = ks_db_check(dir, NULL, NULL, &e);
    checks++;
    if (rc != KS_OK) {
      failed++;
      if (!first[0]) snprintf(first, sizeof first, "check rc=%d: %s", rc, e.msg);
    }
    ks_db *db = NULL;
    rc = ks_db_open(dir, &db, &e);
    opens++;
    if (rc == KS_OK) {
      ks_search_opts o;
      ks_search_opts_default(&o);
      ks_results *res = NULL;
      rc = ks_db_search(db, "대통령", SIZE_MAX, &o, &res, &e);
      ks_results_free(res);
      ks_db_close(db);
    }
    if (rc != KS_OK) {
      open_failed++;
      if (!first[0]) snprintf(first, sizeof first, "open/search rc=%d: %s", rc, e.msg);
    }
  }
  assert_true(WIFEXITED(st));
  if (WEXITSTATUS(st) != 0) fail_msg("the writer process failed (exit %d)", WEXITSTATUS(st));
  print_message("%d checks and %d opens+searches while commits landed: %d and %d failed%s%s\n",
                checks, opens, failed, open_failed, first[0] ? "; first: " : "", first);
  assert_int_equal(failed, 0);
  assert_int_equal(open_failed, 0);
  assert_true(checks >= 5);
  ks_err e;
  if (ks_db_check(dir, NULL, NULL, &e) != KS_OK) fail_msg("final check: %s", e.msg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_process_keeps_commit),
      cmocka_unit_test(test_check_while_committing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
