/*
 * test_live_faults.c - I/O failures and unlucky timing in the incremental
 * writer (issue 11): whatever fails, a commit fails cleanly or succeeds,
 * the index on disk is always a complete commit (ks_db_check passes), and
 * its live documents are those of the last commit that was published.
 *
 * Faults come from tests/support/ks_fault.c, loaded with LD_PRELOAD: main()
 * re-executes this program with it (KS_FAULT_LIB names it; without it the
 * fault tests are skipped). A full disk is a small tmpfs mounted here
 * (needs root; skipped with a message otherwise).
 *
 *   test_merge_input_fully_deleted: a background merge whose window holds a
 *     segment whose every document was deleted in the same session; the
 *     merge thread opens its inputs slowly (KS_FAULT_OPEN_DELAY_US).
 *   test_rename_fails, test_file_fsync_fails: the commit fails, the
 *     previous commit stays, a new writer carries on.
 *   test_dir_fsync_fails_after_rename: the MANIFEST rename happened, the
 *     directory fsync after it fails: the new commit is what readers see,
 *     so nothing it names may be removed when the writer closes.
 *   test_enospc_commit, test_enospc_merge: a tmpfs fills up during adds and
 *     commits, and during a forced merge.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "kosearch.h"
#include "ks_oracle.h"
#include "ks_test_util.h"

#define POOL 4000

static int faults_loaded(void) { return getenv("KS_FAULT_LOADED") != NULL; }

static void arm(int on) {
  void (*f)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "ks_fault_arm");
  assert_non_null(f);
  f(on);
}

/* The committed state the test expects: version per id "f<i>" (-1: not
 * live). */
typedef struct state {
  long long v[POOL];
} state;

static uint64_t next_version = 1;

static ks_writer *wopen(const char *dir, int threads, int do_fsync, ks_err *e) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.fsync = do_fsync;
  o.mem_budget = 1 << 20;
  o.threads = threads;
  ks_writer *w = NULL;
  int rc = ks_writer_open(dir, &o, &w, e);
  if (rc != KS_OK) return NULL;
  return w;
}

/* Add "f<ix>" with a new version into pending; returns the writer's rc. */
static int add(ks_writer *w, ks_rng *r, state *pending, int ix, int words) {
  ks_orc_doc d;
  memset(&d, 0, sizeof d);
  snprintf(d.id, sizeof d.id, "f%d", ix % POOL);
  ks_orc_random_doc(r, &d);
  char *text = malloc(strlen(d.text) + (size_t)words * 12 + 64);
  assert_non_null(text);
  strcpy(text, d.text);
  for (int i = 0; i < words; i++) /* filler: distinct terms, big postings */
    sprintf(text + strlen(text), " w%d", ks_rng_below(r, 1000000));
  /* the version goes into the title, and the stored JSON is the writer's
   * own (title and text as indexed: deletions re-analyze them) */
  char title[32];
  long long v = (long long)next_version++;
  snprintf(title, sizeof title, "v%lld", v);
  ks_doc kd = {.id = d.id, .id_len = strlen(d.id), .title = title,
               .title_len = strlen(title), .text = text, .text_len = strlen(text)};
  ks_err e;
  int rc = ks_writer_add(w, &kd, &e);
  if (rc == KS_OK) pending->v[ix] = v;
  free(text);
  ks_orc_doc_free(&d);
  return rc;
}

/* The index's live state must be `want`, and ks_db_check must pass. */
static void expect_state(const char *dir, const state *want, const char *when) {
  ks_err e;
  int rc = ks_db_check(dir, NULL, NULL, &e);
  if (rc != KS_OK) fail_msg("%s: ks_db_check rc=%d: %s", when, rc, e.msg);
  ks_db *db = NULL;
  if ((rc = ks_db_open(dir, &db, &e)) != KS_OK) fail_msg("%s: open rc=%d: %s", when, rc, e.msg);
  ks_db_stats st;
  assert_int_equal(ks_db_get_stats(db, &st, &e), KS_OK);
  uint64_t nlive = 0;
  for (int i = 0; i < POOL; i++) {
    char id[16], *js = NULL;
    size_t jl;
    snprintf(id, sizeof id, "f%d", i);
    rc = ks_db_get(db, id, strlen(id), &js, &jl, &e);
    if (want->v[i] < 0 && rc != KS_NOTFOUND)
      fail_msg("%s: %s is live (rc %d), the last commit deleted it or never had it", when, id,
               rc);
    if (want->v[i] >= 0) {
      if (rc != KS_OK) fail_msg("%s: %s lost (rc %d)", when, id, rc);
      char tag[32];
      snprintf(tag, sizeof tag, "\"title\":\"v%lld\"", want->v[i]);
      if (!strstr(js, tag)) fail_msg("%s: %s is %s, expected version %lld", when, id, js,
                                     want->v[i]);
      nlive++;
    }
    ks_mem_free(js);
  }
  if (st.docs != nlive)
    fail_msg("%s: %llu live documents, expected %llu", when, (unsigned long long)st.docs,
             (unsigned long long)nlive);
  ks_db_close(db);
}

static void state_none(state *s) {
  for (int i = 0; i < POOL; i++) s->v[i] = -1;
}

/* ---- timing: a merge input deleted entirely -------------------------------------- */

static void test_merge_input_fully_deleted(void **st) {
  (void)st;
  if (!faults_loaded()) skip();
  const char *dir = ks_test_tmpdir("live_fault_merge_input");
  ks_rng r;
  ks_rng_seed(&r, 5, 5);
  state want;
  state_none(&want);
  ks_err e;
  /* nine commits of one document: nine level-0 segments, no merge yet */
  for (int i = 0; i < 9; i++) {
    ks_writer *w = wopen(dir, 1, 0, &e);
    assert_non_null(w);
    assert_int_equal(add(w, &r, &want, i, 0), KS_OK);
    assert_int_equal(ks_writer_commit(w, &e), KS_OK);
    ks_writer_close(w);
  }
  /* the tenth segment comes with the deletion of the ninth's only
   * document: the policy merges the ten (the ninth included) on the merge
   * thread, while the commit drops the ninth from the MANIFEST */
  setenv("KS_FAULT_OPEN_DELAY_US", "20000", 1);
  ks_writer *w = wopen(dir, 2, 0, &e);
  assert_non_null(w);
  assert_int_equal(ks_writer_delete(w, "f8", 2, &e), KS_OK);
  want.v[8] = -1;
  assert_int_equal(add(w, &r, &want, 9, 0), KS_OK);
  int rc = ks_writer_commit(w, &e);
  if (rc != KS_OK) fail_msg("commit: %s", e.msg);
  /* wait for the merge (and install it) */
  rc = ks_writer_merge(w, 64, &e);
  unsetenv("KS_FAULT_OPEN_DELAY_US");
  if (rc == KS_OK) {
    assert_int_equal(add(w, &r, &want, 10, 0), KS_OK);
    rc = ks_writer_commit(w, &e);
  }
  if (rc != KS_OK)
    fail_msg("the commit after a background merge failed: %s (the merge thread could not "
             "read an input segment that the previous commit's garbage collection removed)",
             e.msg);
  ks_writer_stats ws;
  ks_writer_get_stats(w, &ws);
  ks_writer_close(w);
  expect_state(dir, &want, "after the merge");
  if (ws.merges != 1 || ws.segments != 2)
    fail_msg("the test is vacuous: %u merges, %u segments (expected the policy to merge the "
             "ten first segments)", ws.merges, ws.segments);
}

/* ---- injected failures ------------------------------------------------------------ */

/* Commit 1 (docs 0..29), then a session whose commit meets the armed
 * fault; returns that commit's rc. *want is the state of commit 1,
 * *pending the session's. */
static int faulty_session(const char *dir, int threads, state *want, state *pending,
                          ks_writer **wout) {
  ks_rng r;
  ks_rng_seed(&r, 9, (uint64_t)threads);
  state_none(want);
  ks_err e;
  ks_writer *w = wopen(dir, threads, 1, &e);
  assert_non_null(w);
  for (int i = 0; i < 30; i++) assert_int_equal(add(w, &r, want, i, 20), KS_OK);
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  *pending = *want;
  for (int i = 20; i < 50; i++) assert_int_equal(add(w, &r, pending, i, 20), KS_OK);
  for (int i = 0; i < 5; i++) {
    char id[16];
    snprintf(id, sizeof id, "f%d", i);
    assert_int_equal(ks_writer_delete(w, id, strlen(id), &e), KS_OK);
    pending->v[i] = -1;
  }
  arm(1);
  int rc = ks_writer_commit(w, &e);
  arm(0);
  *wout = w;
  return rc;
}

/* After a failed commit: the previous commit is intact, a new writer works. */
static void after_failure(const char *dir, ks_writer *w, const state *want) {
  ks_err e;
  ks_writer_close(w);
  expect_state(dir, want, "after the failed commit");
  state s = *want;
  ks_rng r;
  ks_rng_seed(&r, 10, 10);
  w = wopen(dir, 2, 1, &e);
  assert_non_null(w);
  assert_int_equal(add(w, &r, &s, 60, 5), KS_OK);
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_close(w);
  expect_state(dir, &s, "after the next writer's commit");
}

static void test_rename_fails(void **st) {
  (void)st;
  if (!faults_loaded()) skip();
  for (int threads = 1; threads <= 2; threads++) {
    const char *dir = ks_test_tmpdir("live_fault_rename");
    setenv("KS_FAULT_RENAME_FAIL", "1", 1);
    state want, pending;
    ks_writer *w;
    int rc = faulty_session(dir, threads, &want, &pending, &w);
    unsetenv("KS_FAULT_RENAME_FAIL");
    if (rc == KS_OK) fail_msg("the commit succeeded although its rename failed");
    after_failure(dir, w, &want);
  }
}

static void test_file_fsync_fails(void **st) {
  (void)st;
  if (!faults_loaded()) skip();
  for (int n = 1; n <= 12; n++) {
    char tag[64];
    snprintf(tag, sizeof tag, "live_fault_fsync_%d", n);
    const char *dir = ks_test_tmpdir(tag);
    char nb[16];
    snprintf(nb, sizeof nb, "%d", n);
    setenv("KS_FAULT_FSYNC_FILE_FAIL", nb, 1);
    state want, pending;
    ks_writer *w;
    int rc = faulty_session(dir, 1 + n % 2, &want, &pending, &w);
    unsetenv("KS_FAULT_FSYNC_FILE_FAIL");
    if (rc == KS_OK) { /* fewer fsyncs than n: nothing failed */
      ks_writer_close(w);
      expect_state(dir, &pending, "after a commit without a fault");
      continue;
    }
    after_failure(dir, w, &want);
  }
}

static void test_dir_fsync_fails_after_rename(void **st) {
  (void)st;
  if (!faults_loaded()) skip();
  for (int threads = 1; threads <= 2; threads++) {
    const char *dir = ks_test_tmpdir("live_fault_dirsync");
    /* commit: directory fsync before the MANIFEST (1), after its rename (2) */
    setenv("KS_FAULT_FSYNC_DIR_FAIL", "2", 1);
    state want, pending;
    ks_writer *w;
    int rc = faulty_session(dir, threads, &want, &pending, &w);
    unsetenv("KS_FAULT_FSYNC_DIR_FAIL");
    ks_writer_close(w);
    /* the rename happened: readers see the new commit, which must be
     * complete (whatever rc said) */
    if (rc == KS_OK) {
      expect_state(dir, &pending, "after the commit");
      continue;
    }
    ks_err e;
    int crc = ks_db_check(dir, NULL, NULL, &e);
    if (crc != KS_OK)
      fail_msg("threads %d: the commit failed in its directory fsync after the MANIFEST "
               "rename; closing the writer then left an index that fails its check: %s",
               threads, e.msg);
    expect_state(dir, &pending, "after the commit whose directory fsync failed");
  }
}

/* ---- a full disk -------------------------------------------------------------------- */

static char mnt[4096];

static int mount_tmpfs(const char *tag, const char *size) {
  snprintf(mnt, sizeof mnt, "%s/%s", ks_test_env("KS_TMP", "/tmp"), tag);
  umount2(mnt, MNT_DETACH);
  ks_test_system("rm -rf '%s' && mkdir -p '%s'", mnt, mnt);
  char opts[64];
  snprintf(opts, sizeof opts, "size=%s", size);
  if (mount("tmpfs", mnt, "tmpfs", 0, opts) != 0) {
    print_message("cannot mount a tmpfs on %s (%s): full-disk tests skipped (they need "
                  "root)\n", mnt, strerror(errno));
    return -1;
  }
  return 0;
}

static void unmount_tmpfs(void) {
  if (umount2(mnt, MNT_DETACH) != 0) print_message("umount %s: %s\n", mnt, strerror(errno));
  rmdir(mnt);
}

static double used_fraction(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) != 0) return 1;
  return 1.0 - (double)sv.f_bavail / (double)sv.f_blocks;
}

static void test_enospc_commit(void **st) {
  (void)st;
  for (int threads = 1; threads <= 2; threads++) {
    if (mount_tmpfs("live_enospc", "1500k")) skip();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/idx", mnt);
    ks_rng r;
    ks_rng_seed(&r, 21, (uint64_t)threads);
    state want, pending;
    state_none(&want);
    pending = want;
    ks_err e;
    ks_writer *w = wopen(dir, threads, 1, &e);
    assert_non_null(w);
    int commits = 0, failed_in = 0; /* 1 add, 2 delete, 3 commit */
    int next_ix = 0;
    for (int round = 0; round < 2000 && !failed_in; round++) {
      for (int i = 0; i < 20 && !failed_in; i++) {
        int ix = ks_rng_below(&r, 4) == 0 ? ks_rng_below(&r, POOL) : next_ix++ % POOL;
        int rc = add(w, &r, &pending, ix, 200);
        if (rc != KS_OK) failed_in = 1;
      }
      for (int i = 0; i < 3 && !failed_in; i++) {
        int ix = ks_rng_below(&r, POOL);
        char id[16];
        snprintf(id, sizeof id, "f%d", ix);
        int rc = ks_writer_delete(w, id, strlen(id), &e);
        if (rc == KS_OK) pending.v[ix] = -1;
        else if (rc != KS_NOTFOUND) failed_in = 2;
      }
      if (failed_in) break;
      int rc = ks_writer_commit(w, &e);
      if (rc != KS_OK) {
        failed_in = 3;
        break;
      }
      want = pending;
      commits++;
    }
    if (!failed_in) fail_msg("the disk never filled up");
    print_message("threads %d: %d commits, then the disk was full (in %s): %s\n", threads,
                  commits, failed_in == 1 ? "an add" : failed_in == 2 ? "a delete" : "a commit",
                  e.msg);
    ks_writer_close(w);
    expect_state(dir, &want, "after ENOSPC");
    /* a new writer on the full disk opens (its garbage collection frees
     * the failed session's files) and can commit a deletion */
    w = wopen(dir, threads, 1, &e);
    if (!w) fail_msg("writer open after ENOSPC: %s", e.msg);
    int ix = 0;
    while (ix < POOL && want.v[ix] < 0) ix++;
    if (ix < POOL) {
      char id[16];
      snprintf(id, sizeof id, "f%d", ix);
      assert_int_equal(ks_writer_delete(w, id, strlen(id), &e), KS_OK);
      int rc = ks_writer_commit(w, &e);
      if (rc == KS_OK) want.v[ix] = -1;
      else print_message("the deletion could not be committed either: %s\n", e.msg);
    }
    ks_writer_close(w);
    expect_state(dir, &want, "after a deletion on the full disk");
    unmount_tmpfs();
  }
}

static void test_enospc_merge(void **st) {
  (void)st;
  for (int threads = 1; threads <= 2; threads++) {
    if (mount_tmpfs("live_enospc_merge", "4m")) skip();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/idx", mnt);
    ks_rng r;
    ks_rng_seed(&r, 22, (uint64_t)threads);
    state want;
    state_none(&want);
    ks_err e;
    ks_writer_opts o;
    ks_writer_opts_default(&o);
    o.mem_budget = 1 << 20;
    o.threads = threads;
    o.merge = 0; /* many segments, no merge until asked */
    ks_writer *w = NULL;
    assert_int_equal(ks_writer_open(dir, &o, &w, &e), KS_OK);
    int commits = 0;
    while (used_fraction(mnt) < 0.62) { /* a few big segments: a merge needs as much again */
      state pending = want;
      for (int i = 0; i < 100; i++)
        assert_int_equal(add(w, &r, &pending, (commits * 100 + i) % POOL, 100), KS_OK);
      if (ks_writer_commit(w, &e) != KS_OK) fail_msg("commit %d: %s", commits, e.msg);
      want = pending;
      commits++;
    }
    if (getenv("KS_TEST_VERBOSE")) ks_test_system("ls -la '%s' >&2; df '%s' >&2", dir, mnt);
    int rc = ks_writer_merge(w, 1, &e);
    print_message("threads %d: %d commits filled %.0f%%; ks_writer_merge(1): rc %d %s\n",
                  threads, commits, 100 * used_fraction(mnt), rc, rc ? e.msg : "");
    if (rc == KS_OK) {
      rc = ks_writer_commit(w, &e);
      print_message("commit after the merge: rc %d %s\n", rc, rc ? e.msg : "");
    }
    ks_writer_close(w);
    expect_state(dir, &want, "after a merge on a full disk");
    unmount_tmpfs();
  }
}

int main(int argc, char **argv) {
  (void)argc;
  const char *lib = getenv("KS_FAULT_LIB");
  if (!faults_loaded() && lib && *lib && access(lib, R_OK) == 0) {
    setenv("KS_FAULT_LOADED", "1", 1);
    setenv("KS_FAULT_ARM", "1", 1);
    setenv("LD_PRELOAD", lib, 1);
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    execv("/proc/self/exe", argv);
    fprintf(stderr, "cannot re-execute with %s: %s (fault tests skipped)\n", lib,
            strerror(errno));
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_merge_input_fully_deleted),
      cmocka_unit_test(test_rename_fails),
      cmocka_unit_test(test_file_fsync_fails),
      cmocka_unit_test(test_dir_fsync_fails_after_rename),
      cmocka_unit_test(test_enospc_commit),
      cmocka_unit_test(test_enospc_merge),
  };
  const char *filter = getenv("KS_TEST_FILTER");
  if (filter && *filter) cmocka_set_test_filter(filter);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
