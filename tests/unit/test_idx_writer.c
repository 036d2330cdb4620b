/*
 * test_idx_writer.c - the index writer (ks_idx.h) end to end through the
 * internal segment readers: document validation, duplicate ids (the later
 * replaces the earlier, with and without the final merge), flushes under a
 * tiny memory budget give the same postings as one in-memory segment,
 * atomic commit and crash safety (a writer that dies before its MANIFEST
 * rename leaves the previous commit readable; its files are collected by
 * the next writer), refusal of foreign directories, and the lock.
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

#include "ks_idx.h"
#include "ks_test_util.h"
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

static int add(ks_writer *w, const char *id, const char *text) {
  ks_doc d = mkdoc(id, text);
  ks_err e;
  return ks_writer_add(w, &d, &e);
}

static int g_threads = 2; /* opts.threads for open_writer */

static ks_writer *open_writer(const char *dir, size_t budget, int merge) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.threads = g_threads;
  o.fsync = 0;
  o.mem_budget = budget;
  o.merge = merge;
  ks_writer *w = NULL;
  ks_err e;
  int rc = ks_writer_open(dir, &o, &w, &e);
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
    assert_int_equal(ks_segment_open(dir, m.segs[i].segno, 1, &seg, &e), KS_OK);
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
  ks_writer *w = open_writer(dir, 0, 1);
  ks_err e;
  ks_doc d = mkdoc("a", "");
  assert_int_equal(ks_writer_add(w, &d, &e), KS_EINPUT);      /* empty */
  d = mkdoc("", "text");
  assert_int_equal(ks_writer_add(w, &d, &e), KS_EINPUT);      /* no id */
  d = mkdoc("a", "bad \xff utf8");
  assert_int_equal(ks_writer_add(w, &d, &e), KS_EUTF8);
  assert_non_null(strstr(e.msg, "byte 4"));
  d = mkdoc("a", "nul");
  d.text_len = 4;                                               /* includes NUL */
  assert_int_equal(ks_writer_add(w, &d, &e), KS_EINPUT);
  d = mkdoc("a", "text");
  d.text = NULL;
  assert_int_equal(ks_writer_add(w, &d, &e), KS_EINPUT);
  assert_int_equal(add(w, "ok", "대통령은 말했다"), KS_OK);      /* still usable */
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_stats st;
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_added, 1);
  ks_writer_close(w);
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
  ks_writer *w;
  ks_err e;
  assert_int_equal(ks_writer_open(dir, &o, &w, &e), KS_OK);
  char *big = malloc(2001);
  memset(big, 'a', 2000);
  big[2000] = 0;
  assert_int_equal(add(w, "big", big), KS_ELIMIT);
  assert_non_null(strstr(e.msg, "") ? "" : NULL);
  free(big);
  assert_int_equal(add(w, "small", "작은 문서"), KS_OK);
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_close(w);
  assert_int_equal(live_docs(dir), 1);
}

static void run_duplicates(const char *tag, size_t budget, int merge) {
  const char *dir = ks_test_tmpdir(tag);
  ks_writer *w = open_writer(dir, budget, merge);
  char id[32], text[128];
  for (int i = 0; i < 3000; i++) {
    snprintf(id, sizeof id, "d%d", i % 1000);   /* ids repeat 3 times */
    snprintf(text, sizeof text, "round%d 공통 단어%d 학교에서 공부했다", i / 1000, i % 1000);
    assert_int_equal(add(w, id, text), KS_OK);
  }
  ks_err e;
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_stats st;
  ks_writer_get_stats(w, &st);
  assert_int_equal(st.docs_added, 3000);
  assert_int_equal(st.docs_replaced, 2000);
  assert_int_equal(st.docs_live, 1000);
  ks_writer_close(w);
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
  ks_writer *w = open_writer(dir, 0, 1);
  assert_int_equal(add(w, "old", "첫번째 커밋의 문서"), KS_OK);
  ks_err e;
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_close(w);
  assert_int_equal(live_df(dir, "첫번째"), 1);

  /* A writer process that dies after flushing segments, before commit. */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    ks_writer *cw = open_writer(dir, 0, 1);
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
  assert_int_equal(ks_writer_commit(w, &e), KS_OK);
  ks_writer_close(w);
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
  ks_writer_close(w);
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
  ks_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_writer_open(dir, NULL, &w, &e), KS_EINVAL);
  assert_null(w);
  assert_int_equal(access(f, F_OK), 0);
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("writer_lock"));
  ks_writer *a = open_writer(dir, 0, 1), *b = NULL;
  assert_int_equal(ks_writer_open(dir, NULL, &b, &e), KS_ELOCKED);
  assert_null(b);
  ks_writer_close(a);
}

static void test_flush_equals_single(void **state) {
  (void)state;
  /* Same corpus, one segment vs many merged segments: same postings... */
  char d1[4096], d2[4096];
  snprintf(d1, sizeof d1, "%s", ks_test_tmpdir("writer_single"));
  snprintf(d2, sizeof d2, "%s", ks_test_tmpdir("writer_many"));
  /* ...and one analysis thread vs. two: the index must not change. */
  g_threads = 1;
  ks_writer *w1 = open_writer(d1, (size_t)512 << 20, 1);
  g_threads = 2;
  ks_writer *w2 = open_writer(d2, 0, 1);
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
  assert_int_equal(ks_writer_commit(w1, &e), KS_OK);
  int crc = ks_writer_commit(w2, &e);
  if (crc) fprintf(stderr, "commit: %s\n", e.msg);
  assert_int_equal(crc, KS_OK);
  ks_writer_stats s1, s2;
  ks_writer_get_stats(w1, &s1);
  ks_writer_get_stats(w2, &s2);
  assert_int_equal(s1.segments_flushed, 1);
  assert_true(s2.segments_flushed > 1);
  assert_int_equal(s1.terms, s2.terms);
  assert_int_equal(s1.postings, s2.postings);
  ks_writer_close(w1);
  ks_writer_close(w2);
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_duplicates_merged),
      cmocka_unit_test(test_duplicates_unmerged),
      cmocka_unit_test(test_replace_and_crash),
      cmocka_unit_test(test_foreign_dir_and_lock),
      cmocka_unit_test(test_flush_equals_single),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
