/*
 * test_idx_writer.c - the index writer (index_writer.h) end to end through the
 * internal segment readers: document validation, duplicate ids (the later
 * replaces the earlier, with and without the final merge), flushes under a
 * tiny memory budget give the same postings as one in-memory segment,
 * atomic commit and crash safety (a writer that dies before its MANIFEST
 * rename leaves the previous commit readable; its files are collected by
 * the next writer), refusal of foreign directories, and the lock; one
 * thread vs. the threaded pipeline (same index, memory budget kept,
 * abandoned writers leave nothing behind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "index_writer.h"
#include "ks_test_util.h"
#include "deletions_int.h"
#include "dict_int.h"
#include "docstore_int.h"
#include "manifest_int.h"
#include "postings_int.h"
#include "segment_int.h"

static ks_doc mkdoc(const char *id, const char *text) {
  ks_doc d;
  memset(&d, 0, sizeof d);
  d.id = id;
  d.id_len = strlen(id);
  d.text = text;
  d.text_len = strlen(text);
  return d;
}

static int add(ks_index_writer *w, const char *id, const char *text) {
  ks_doc d = mkdoc(id, text);
  ks_err e;
  return ks_index_writer_add(w, &d, &e);
}

static int g_threads = 2; /* opts.threads for open_writer */

static ks_index_writer *open_writer(const char *dir, size_t budget, int merge) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.threads = g_threads;
  o.fsync = 0;
  o.mem_budget = budget;
  o.merge = merge;
  o.mode = KS_WRITER_REPLACE; /* these tests build whole indexes */
  ks_index_writer *w = NULL;
  ks_err e;
  int rc = ks_index_writer_open(dir, &o, &w, &e);
  if (rc) fprintf(stderr, "%s\n", e.msg);
  assert_int_equal(rc, KS_OK);
  return w;
}

/* Number of live documents containing word-field term `t`, over all
 * segments of the committed index; -1 if not an index. */
static long live_df(const char *dir, const char *t) {
  ks_manifest m;
  ks_err e;
  if (ks_manifest_read(dir, &m, &e)) return -1;
  long n = 0;
  for (uint32_t i = 0; i < m.nsegs; i++) {
    ks_segment *seg;
    assert_int_equal(ks_segment_open_gen(dir, m.segs[i].segno, m.segs[i].del_gen, 1, &seg, &e), KS_OK);
    assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
    char key[256];
    size_t kl = ks_term_key(key, KS_FIELD_WORD, t, strlen(t));
    ks_term_info info;
    if (ks_segment_lookup(seg, key, kl, &info, &e) == KS_OK) {
      ks_postings c;
      assert_int_equal(ks_postings_open(&c, seg, &info, &e), KS_OK);
      do {
        if (!ks_segment_is_deleted(seg, c.doc)) n++;
      } while (ks_postings_next(&c, &e) == KS_OK);
      ks_postings_close(&c);
    }
    ks_segment_close(seg);
  }
  ks_manifest_free(&m);
  return n;
}

static uint64_t live_docs(const char *dir) {
  ks_manifest m;
  ks_err e;
  assert_int_equal(ks_manifest_read(dir, &m, &e), KS_OK);
  uint64_t n = 0;
  for (uint32_t i = 0; i < m.nsegs; i++) n += m.segs[i].ndocs - m.segs[i].ndeleted;
  ks_manifest_free(&m);
  return n;
}

static void test_validation(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("writer_validation");
  ks_index_writer *w = open_writer(dir, 0, 1);
  ks_err e;
  ks_doc d = mkdoc("a", "");
  assert_int_equal(ks_index_writer_add(w, &d, &e), KS_EINPUT);      /* empty */
  d = mkdoc("", "text");
  assert_int_equal(ks_index_writer_add(w, &d, &e), KS_EINPUT);      /* no id */
  d = mkdoc("a", "bad \xff utf8");
  assert_int_equal(ks_index_writer_add(w, &d, &e), KS_EUTF8);
  assert_non_null(strstr(e.msg, "byte 4"));
  d = mkdoc("a", "nul");
  d.text_len = 4;                                               /* includes NUL */
  assert_int_equal(ks_index_writer_add(w, &d, &e), KS_EINPUT);
  d = mkdoc("a", "text");
  d.text = NULL;
  assert_int_equal(ks_index_writer_add(w, &d, &e), KS_EINPUT);
  assert_int_equal(add(w, "ok", "대통령은 말했다"), KS_OK);      /* still usable */
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_writer_stats st;
  ks_index_writer_get_stats(w, &st);
  assert_int_equal(st.docs_added, 1);
  ks_index_writer_close(w);
  assert_int_equal(live_docs(dir), 1);
  assert_int_equal(live_df(dir, "대통령"), 1);
}

static void test_size_limit(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("writer_limit");
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.fsync = 0;
  o.max_doc_bytes = 1000;
  ks_index_writer *w;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, &o, &w, &e), KS_OK);
  char *big = malloc(2001);
  memset(big, 'a', 2000);
  big[2000] = 0;
  assert_int_equal(add(w, "big", big), KS_ELIMIT);
  assert_non_null(strstr(e.msg, "") ? "" : NULL);
  free(big);
  assert_int_equal(add(w, "small", "작은 문서"), KS_OK);
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  assert_int_equal(live_docs(dir), 1);
}

static void run_duplicates(const char *tag, size_t budget, int merge) {
  const char *dir = ks_test_tmpdir(tag);
  ks_index_writer *w = open_writer(dir, budget, merge);
  char id[32], text[128];
  for (int i = 0; i < 3000; i++) {
    snprintf(id, sizeof id, "d%d", i % 1000);   /* ids repeat 3 times */
    snprintf(text, sizeof text, "round%d 공통 단어%d 학교에서 공부했다", i / 1000, i % 1000);
    assert_int_equal(add(w, id, text), KS_OK);
  }
  ks_err e;
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_writer_stats st;
  ks_index_writer_get_stats(w, &st);
  assert_int_equal(st.docs_added, 3000);
  assert_int_equal(st.docs_replaced, 2000);
  assert_int_equal(st.docs_live, 1000);
  ks_index_writer_close(w);
  assert_int_equal(live_docs(dir), 1000);
  assert_int_equal(live_df(dir, "round0"), 0);
  assert_int_equal(live_df(dir, "round1"), 0);
  assert_int_equal(live_df(dir, "round2"), 1000);
  assert_int_equal(live_df(dir, "공통"), 1000);
  assert_int_equal(live_df(dir, "학교"), 1000);   /* stem of 학교에서 */
}

static void test_duplicates_merged(void **state) {
  (void)state;
  run_duplicates("writer_dup_merged", 0, 1);      /* budget raised to 1 MiB */
}

static void test_duplicates_unmerged(void **state) {
  (void)state;
  run_duplicates("writer_dup_unmerged", 0, 0);
}

static void test_replace_and_crash(void **state) {
  (void)state;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("writer_crash"));
  ks_index_writer *w = open_writer(dir, 0, 1);
  assert_int_equal(add(w, "old", "첫번째 커밋의 문서"), KS_OK);
  ks_err e;
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  assert_int_equal(live_df(dir, "첫번째"), 1);

  /* A writer process that dies after flushing segments, before commit. */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    ks_index_writer *cw = open_writer(dir, 0, 1);
    char text[4096];
    for (int i = 0; i < 20000; i++) {
      snprintf(text, sizeof text, "두번째 문서 %d 가나다%d", i, i * 7);
      char id[32];
      snprintf(id, sizeof id, "n%d", i);
      if (add(cw, id, text) != KS_OK) _exit(3);
    }
    _exit(0); /* crash: no commit, no close */
  }
  int st;
  waitpid(pid, &st, 0);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* Debris: flushed segment files exist; a stray MANIFEST.tmp too. */
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s/MANIFEST.tmp", dir);
  assert_int_equal(ks_test_write_file(tmp, "garbage", 7), 0);
  assert_int_equal(live_docs(dir), 1);
  assert_int_equal(live_df(dir, "첫번째"), 1);
  assert_int_equal(live_df(dir, "두번째"), 0);

  /* The next writer collects the debris and replaces the contents. */
  w = open_writer(dir, 0, 1);
  assert_int_not_equal(access(tmp, F_OK), 0);
  assert_int_equal(add(w, "new", "세번째 커밋"), KS_OK);
  /* Until commit, readers still see the old commit. */
  assert_int_equal(live_df(dir, "첫번째"), 1);
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  assert_int_equal(live_docs(dir), 1);
  assert_int_equal(live_df(dir, "첫번째"), 0);
  assert_int_equal(live_df(dir, "세번째"), 1);
  ks_manifest m;
  assert_int_equal(ks_manifest_read(dir, &m, &e), KS_OK);
  assert_int_equal(m.generation, 2);
  ks_manifest_free(&m);
  /* Closing a writer without commit discards its work. */
  w = open_writer(dir, 0, 1);
  assert_int_equal(add(w, "x", "버려질 문서"), KS_OK);
  ks_index_writer_close(w);
  assert_int_equal(live_df(dir, "세번째"), 1);
  assert_int_equal(live_df(dir, "버려질"), 0);
}

static void test_foreign_dir_and_lock(void **state) {
  (void)state;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("writer_foreign"));
  char f[4200];
  snprintf(f, sizeof f, "%s/important.txt", dir);
  assert_int_equal(ks_test_write_file(f, "keep me", 7), 0);
  ks_index_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, NULL, &w, &e), KS_EINVAL);
  assert_null(w);
  assert_int_equal(access(f, F_OK), 0);
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("writer_lock"));
  ks_index_writer *a = open_writer(dir, 0, 1), *b = NULL;
  assert_int_equal(ks_index_writer_open(dir, NULL, &b, &e), KS_ELOCKED);
  assert_null(b);
  ks_index_writer_close(a);
}

static void test_flush_equals_single(void **state) {
  (void)state;
  /* Same corpus, one segment vs many merged segments: same postings... */
  char d1[4096], d2[4096];
  snprintf(d1, sizeof d1, "%s", ks_test_tmpdir("writer_single"));
  snprintf(d2, sizeof d2, "%s", ks_test_tmpdir("writer_many"));
  /* ...and one analysis thread vs. two: the index must not change. */
  g_threads = 1;
  ks_index_writer *w1 = open_writer(d1, (size_t)512 << 20, 1);
  g_threads = 2;
  ks_index_writer *w2 = open_writer(d2, 0, 1);
  char text[512], id[32];
  uint64_t x = 1;
  for (int i = 0; i < 30000; i++) {
    int n = snprintf(text, sizeof text, "문서%d ", i % 97);
    for (int k = 0; k < 12; k++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      n += snprintf(text + n, sizeof text - (size_t)n, "단어%u이 ", (unsigned)(x >> 59) + (unsigned)(i % 50));
    }
    snprintf(id, sizeof id, "%d", i);
    assert_int_equal(add(w1, id, text), KS_OK);
    assert_int_equal(add(w2, id, text), KS_OK);
  }
  ks_err e;
  assert_int_equal(ks_index_writer_commit(w1, &e), KS_OK);
  int crc = ks_index_writer_commit(w2, &e);
  if (crc) fprintf(stderr, "commit: %s\n", e.msg);
  assert_int_equal(crc, KS_OK);
  ks_writer_stats s1, s2;
  ks_index_writer_get_stats(w1, &s1);
  ks_index_writer_get_stats(w2, &s2);
  assert_int_equal(s1.segments_flushed, 1);
  assert_true(s2.segments_flushed > 1);
  assert_int_equal(s1.terms, s2.terms);
  assert_int_equal(s1.postings, s2.postings);
  ks_index_writer_close(w1);
  ks_index_writer_close(w2);
  /* Byte-identical term files: merge reproduces the single-segment layout.
   * (.sto is compared document by document below: the merge copies
   * compressed blocks as they are, so block boundaries differ.) */
  const char *exts[] = {"tid", "doc", "pos", "len"};
  ks_manifest m1, m2;
  assert_int_equal(ks_manifest_read(d1, &m1, &e), KS_OK);
  assert_int_equal(ks_manifest_read(d2, &m2, &e), KS_OK);
  for (int k = 0; k < 4; k++) {
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/%06u.%s", d1, m1.segs[0].segno, exts[k]);
    snprintf(p2, sizeof p2, "%s/%06u.%s", d2, m2.segs[0].segno, exts[k]);
    size_t l1, l2;
    char *a = ks_test_read_file(p1, &l1), *b = ks_test_read_file(p2, &l2);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(l1, l2);
    assert_memory_equal(a, b, l1);
    free(a);
    free(b);
  }
  ks_segment *g1, *g2;
  assert_int_equal(ks_segment_open(d1, m1.segs[0].segno, 1, &g1, &e), KS_OK);
  assert_int_equal(ks_segment_open(d2, m2.segs[0].segno, 1, &g2, &e), KS_OK);
  assert_int_equal(ks_segment_check(g2, NULL, NULL, &e), KS_OK);
  ks_sto_iter i1, i2;
  ks_sto_iter_init(&i1, g1);
  ks_sto_iter_init(&i2, g2);
  uint32_t n = 0;
  for (;; n++) {
    const char *j1, *j2, *id1, *id2;
    size_t l1, l2, il1, il2;
    int r1 = ks_sto_iter_next(&i1, &j1, &l1, &e), r2 = ks_sto_iter_next(&i2, &j2, &l2, &e);
    assert_int_equal(r1, r2);
    if (r1 == KS_DONE) break;
    assert_int_equal(r1, KS_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(j1, j2, l1);
    assert_int_equal(ks_segment_doc_id(g1, n, &id1, &il1, &e), KS_OK);
    assert_int_equal(ks_segment_doc_id(g2, n, &id2, &il2, &e), KS_OK);
    assert_int_equal(il1, il2);
    assert_memory_equal(id1, id2, il1);
  }
  assert_int_equal(n, 30000);
  ks_sto_iter_free(&i1);
  ks_sto_iter_free(&i2);
  ks_segment_close(g1);
  ks_segment_close(g2);
  ks_manifest_free(&m1);
  ks_manifest_free(&m2);
}


/* Deterministic documents for the thread tests: Korean words drawn from a
 * few thousand, every 40th document repeating an earlier id. */
static void fill(ks_index_writer *w, int ndocs, size_t *max_mem) {
  char text[768], id[32];
  uint64_t x = 7;
  for (int i = 0; i < ndocs; i++) {
    int n = snprintf(text, sizeof text, "제목%d ", i % 113);
    for (int k = 0; k < 20; k++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      n += snprintf(text + n, sizeof text - (size_t)n, "낱말%u%s ", (unsigned)(x >> 52) % 5000,
                    (x >> 40) & 1 ? "을" : "에서");
    }
    if (i % 40 == 39) snprintf(id, sizeof id, "%d", (int)((x >> 33) % (uint64_t)i));
    else snprintf(id, sizeof id, "%d", i);
    assert_int_equal(add(w, id, text), KS_OK);
    ks_writer_stats st;
    ks_index_writer_get_stats(w, &st);
    if (st.mem_used > *max_mem) *max_mem = st.mem_used;
  }
}

static char *seg_file(const char *dir, uint32_t segno, const char *ext, size_t *len) {
  char p[4200];
  snprintf(p, sizeof p, "%s/%06u.%s", dir, segno, ext);
  return ks_test_read_file(p, len);
}

static void test_threads_same_index(void **state) {
  (void)state;
  /* One thread vs. the threaded pipeline (analysis worker, flusher,
   * asynchronous .sto compression and postings encoding) under the same
   * small budget: same stats, byte-identical term files, the same stored
   * documents and ids, and the budget holds for both. */
  const size_t budget = (size_t)6 << 20;
  const int ndocs = 40000;
  char d[2][4096];
  ks_writer_stats st[2];
  size_t max_mem[2] = {0, 0};
  for (int t = 0; t < 2; t++) {
    snprintf(d[t], sizeof d[t], "%s", ks_test_tmpdir(t ? "writer_thr2" : "writer_thr1"));
    g_threads = t + 1;
    ks_index_writer *w = open_writer(d[t], budget, 1);
    fill(w, ndocs, &max_mem[t]);
    ks_err e;
    int rc = ks_index_writer_commit(w, &e);
    if (rc) fprintf(stderr, "commit: %s\n", e.msg);
    assert_int_equal(rc, KS_OK);
    ks_index_writer_get_stats(w, &st[t]);
    ks_index_writer_close(w);
  }
  g_threads = 2;
  /* Both flushed several segments, so the flusher ran (and overlapped). */
  assert_true(st[0].segments_flushed >= 3);
  assert_true(st[1].segments_flushed > st[0].segments_flushed);
  assert_int_equal(st[0].docs_added, st[1].docs_added);
  assert_int_equal(st[0].docs_replaced, st[1].docs_replaced);
  assert_true(st[0].docs_replaced > 0);
  assert_int_equal(st[0].terms, st[1].terms);
  assert_int_equal(st[0].postings, st[1].postings);
  assert_int_equal(st[0].segments, 1);
  assert_int_equal(st[1].segments, 1);
  /* The in-flight segment counts against the budget: with the flusher the
   * buffered total stays within it (plus the id table, 2 MiB here, and
   * one document's table growth), as without; holding a full-budget
   * segment in flight would reach about twice the budget. */
  fprintf(stderr, "max mem_used: 1 thread %zu, 2 threads %zu (budget %zu)\n",
          max_mem[0], max_mem[1], budget);
  assert_true(max_mem[0] <= budget + ((size_t)5 << 19));
  assert_true(max_mem[1] <= budget + ((size_t)5 << 19));
  ks_manifest m[2];
  ks_err e;
  for (int t = 0; t < 2; t++) assert_int_equal(ks_manifest_read(d[t], &m[t], &e), KS_OK);
  const char *exts[] = {"tid", "doc", "pos", "len"};
  for (int k = 0; k < 4; k++) {
    size_t l0, l1;
    char *a = seg_file(d[0], m[0].segs[0].segno, exts[k], &l0);
    char *b = seg_file(d[1], m[1].segs[0].segno, exts[k], &l1);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(l0, l1);
    assert_memory_equal(a, b, l0);
    free(a);
    free(b);
  }
  ks_segment *g[2];
  for (int t = 0; t < 2; t++) {
    assert_int_equal(ks_segment_open(d[t], m[t].segs[0].segno, 1, &g[t], &e), KS_OK);
    assert_int_equal(ks_segment_check(g[t], NULL, NULL, &e), KS_OK);
  }
  ks_sto_iter it[2];
  ks_sto_iter_init(&it[0], g[0]);
  ks_sto_iter_init(&it[1], g[1]);
  uint32_t n = 0;
  for (;; n++) {
    const char *j[2], *id[2];
    size_t jl[2], il[2];
    int r0 = ks_sto_iter_next(&it[0], &j[0], &jl[0], &e);
    int r1 = ks_sto_iter_next(&it[1], &j[1], &jl[1], &e);
    assert_int_equal(r0, r1);
    if (r0 == KS_DONE) break;
    assert_int_equal(r0, KS_OK);
    assert_int_equal(jl[0], jl[1]);
    assert_memory_equal(j[0], j[1], jl[0]);
    for (int t = 0; t < 2; t++) assert_int_equal(ks_segment_doc_id(g[t], n, &id[t], &il[t], &e), KS_OK);
    assert_int_equal(il[0], il[1]);
    assert_memory_equal(id[0], id[1], il[0]);
  }
  assert_int_equal(n, st[0].docs_live);
  for (int t = 0; t < 2; t++) {
    ks_sto_iter_free(&it[t]);
    ks_segment_close(g[t]);
    ks_manifest_free(&m[t]);
  }
}

static void test_threads_unmerged_and_abandoned(void **state) {
  (void)state;
  /* Without the final merge the threaded writer keeps its (smaller)
   * segments, with deletions, and finds the same live documents. */
  char d1[4096], d2[4096];
  snprintf(d1, sizeof d1, "%s", ks_test_tmpdir("writer_thr_nomerge1"));
  snprintf(d2, sizeof d2, "%s", ks_test_tmpdir("writer_thr_nomerge2"));
  size_t mx = 0;
  g_threads = 1;
  ks_index_writer *w1 = open_writer(d1, (size_t)4 << 20, 0);
  fill(w1, 20000, &mx);
  g_threads = 2;
  ks_index_writer *w2 = open_writer(d2, (size_t)4 << 20, 0);
  fill(w2, 20000, &mx);
  ks_err e;
  assert_int_equal(ks_index_writer_commit(w1, &e), KS_OK);
  assert_int_equal(ks_index_writer_commit(w2, &e), KS_OK);
  ks_writer_stats s2;
  ks_index_writer_get_stats(w2, &s2);
  assert_true(s2.segments > 2);
  ks_index_writer_close(w1);
  ks_index_writer_close(w2);
  const char *words[] = {"제목", "낱말", "12을", "4999에서", "없는말"};
  for (size_t k = 0; k < sizeof words / sizeof *words; k++)
    assert_int_equal(live_df(d1, words[k]), live_df(d2, words[k]));
  assert_true(live_df(d1, "12을") > 0);
  /* A threaded writer closed without commit while segments are being
   * written leaves the previous commit alone and no files behind. */
  w2 = open_writer(d2, (size_t)1 << 20, 1);
  fill(w2, 6000, &mx);
  ks_index_writer_close(w2);
  long before = live_df(d1, "12을");
  assert_int_equal(live_df(d2, "12을"), before);
  ks_manifest m;
  assert_int_equal(ks_manifest_read(d2, &m, &e), KS_OK);
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "test $(ls '%s' | grep -c '\\.tid$') -eq %u", d2, m.nsegs);
  assert_int_equal(system(cmd), 0);
  ks_manifest_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_duplicates_merged),
      cmocka_unit_test(test_duplicates_unmerged),
      cmocka_unit_test(test_replace_and_crash),
      cmocka_unit_test(test_foreign_dir_and_lock),
      cmocka_unit_test(test_flush_equals_single),
      cmocka_unit_test(test_threads_same_index),
      cmocka_unit_test(test_threads_unmerged_and_abandoned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
