/*
 * test_srch_threads.c - one opened ks_index serves concurrent queries
 * (index.h, "Threading"): THREADS threads hammer the same handle with
 * random queries, every algorithm, both rankings and several k, and every
 * result must equal the one computed single-threaded beforehand: same hit
 * count, same internal document numbers in the same order, bit-identical
 * scores, same match count and exactness flag, same document ids.
 *
 * The corpus is random (seeded PRNG, Zipf-like Hangul nouns with
 * particles, multi-block terms), written without merging so the index has
 * several segments. Queries are mostly ranked OR (pruned) with some
 * +required, -excluded and "phrases". Threads record mismatches in an
 * atomic counter (cmocka's assertions are not thread-safe) and the main
 * thread checks it. Run it under -DKS_SANITIZE=ON (ASan+UBSan) and, for
 * data races, built with -fsanitize=thread.
 *
 * Reproduce a failure with KS_TEST_SEED=<seed printed on failure>.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index_writer.h"
#include "index.h"
#include "ks_test_util.h"

#define THREADS 4
#define NQUERIES 48
#define JOBS_PER_THREAD 400
#define NDOCS 2500

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t seed;

static uint64_t rnd(uint64_t *s) { /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Dull;
}
static int rnd_below(uint64_t *s, int n) { return (int)(rnd(s) % (uint64_t)n); }

static const char *nouns[] = {"대통령", "보스턴", "클러스터", "산업", "첨단산업",
                              "바이오", "한국",   "미국",     "경제", "협력",
                              "기술",   "연구소", "대학",     "서울", "회의",
                              "전략",   "수출",   "인재",     "혁신", "스타트업"};
static const char *particles[] = {"", "", "", "은", "는", "이", "를", "의", "에서"};

static void append_word(uint64_t *s, char *buf, size_t cap, size_t *len) {
  int n = (int)NELEM(nouns);
  int a = rnd_below(s, n), b = rnd_below(s, n);
  int i = a < b ? a : b; /* skewed towards the first nouns */
  int m = snprintf(buf + *len, cap - *len, "%s%s%s", *len ? " " : "", nouns[i],
                   particles[rnd_below(s, NELEM(particles))]);
  if (m > 0 && (size_t)m < cap - *len) *len += (size_t)m;
}

/* One search configuration and its single-threaded result. */
typedef struct job {
  int query;                 /* index into queries[] */
  ks_search_opts o;
  size_t n;                  /* reference hits */
  ks_index_hit *hits;              /* reference hits (malloc'ed) */
  uint64_t matches;
  int exact;
} job;

static char queries[NQUERIES][512];
static job *jobs;
static size_t njobs;
static ks_index *shared_ix;
static atomic_int mismatches, failures;
static char first_problem[512];
static atomic_flag problem_taken = ATOMIC_FLAG_INIT;

static void problem(const char *fmt, ...) {
  if (atomic_flag_test_and_set(&problem_taken)) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(first_problem, sizeof first_problem, fmt, ap);
  va_end(ap);
}

static void build_corpus(const char *dir, uint64_t *s) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.merge = 0;
  wo.mem_budget = 4096; /* the writer raises it to its minimum: segments */
  ks_index_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, &e), KS_OK);
  for (int i = 0; i < NDOCS; i++) {
    char text[1024], id[32];
    size_t len = 0;
    text[0] = '\0';
    int nw = 1 + (rnd_below(s, 4) == 0 ? rnd_below(s, 60) : rnd_below(s, 12));
    for (int k = 0; k < nw; k++) append_word(s, text, sizeof text, &len);
    int idn = (i > 10 && rnd_below(s, 25) == 0) ? rnd_below(s, i) : i;
    snprintf(id, sizeof id, "d%d", idn);
    ks_doc kd;
    memset(&kd, 0, sizeof kd);
    kd.id = id;
    kd.id_len = strlen(id);
    kd.text = text;
    kd.text_len = len;
    assert_int_equal(ks_index_writer_add(w, &kd, &e), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
}

static void make_queries(uint64_t *s) {
  for (int q = 0; q < NQUERIES; q++) {
    size_t len = 0;
    char *buf = queries[q];
    buf[0] = '\0';
    int nclauses = 1 + rnd_below(s, 6);
    int special = rnd_below(s, 5) == 0;
    for (int c = 0; c < nclauses; c++) {
      char w[128];
      size_t wl = 0;
      w[0] = '\0';
      append_word(s, w, sizeof w, &wl);
      const char *pre = "", *post = "";
      if (special && rnd_below(s, 3) == 0) {
        int op = rnd_below(s, 3);
        if (op == 0) pre = "+";
        if (op == 1) pre = "-";
        if (op == 2) {
          append_word(s, w, sizeof w, &wl);
          pre = post = "\"";
        }
      }
      int m = snprintf(buf + len, sizeof queries[q] - len, "%s%s%s%s",
                       len ? " " : "", pre, w, post);
      if (m > 0 && (size_t)m < sizeof queries[q] - len) len += (size_t)m;
    }
  }
}

/* Compare one fresh search with the reference; returns 0 if equal. */
static int check_job(const job *j) {
  ks_err e;
  ks_index_results *r = NULL;
  if (ks_index_search(shared_ix, queries[j->query], SIZE_MAX, &j->o, &r, &e) != KS_OK) {
    problem("search failed: %s (query '%s')", e.msg, queries[j->query]);
    return -1;
  }
  int bad = ks_index_results_count(r) != j->n || ks_index_results_matches(r) != j->matches ||
            ks_index_results_matches_exact(r) != j->exact;
  for (size_t i = 0; !bad && i < j->n; i++) {
    ks_index_hit h;
    ks_index_results_hit(r, i, &h);
    bad = h.doc != j->hits[i].doc ||
          memcmp(&h.score, &j->hits[i].score, sizeof h.score) != 0;
    const char *id;
    size_t idlen;
    if (!bad && ks_index_doc_id(shared_ix, h.doc, &id, &idlen, &e) != KS_OK) bad = 1;
  }
  if (bad)
    problem("query '%s' (algorithm %d, ranking %d, k %u) differs from the "
            "single-threaded result", queries[j->query], j->o.algorithm,
            j->o.ranking, j->o.k);
  ks_index_results_free(r);
  return bad;
}

static void *hammer(void *arg) {
  uint64_t s = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(uintptr_t)arg);
  if (!s) s = 1;
  for (int i = 0; i < JOBS_PER_THREAD; i++) {
    const job *j = &jobs[rnd(&s) % njobs];
    int rc = check_job(j);
    if (rc < 0) atomic_fetch_add(&failures, 1);
    else if (rc > 0) atomic_fetch_add(&mismatches, 1);
  }
  return NULL;
}

static void test_threads_hammer_one_index(void **state) {
  (void)state;
  const char *env = ks_test_env("KS_TEST_SEED", NULL);
  seed = env ? strtoull(env, NULL, 10) : 0x7ead5ull;
  uint64_t s = seed ? seed : 1;
  const char *dir = ks_test_tmpdir("srch_threads");
  build_corpus(dir, &s);
  make_queries(&s);
  ks_err e;
  assert_int_equal(ks_index_open(dir, &shared_ix, &e), KS_OK);

  /* reference results, single-threaded */
  const int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  const uint32_t ks[] = {1, 10, 100};
  njobs = (size_t)NQUERIES * NELEM(algos) * NELEM(ks) * 2;
  jobs = calloc(njobs, sizeof *jobs);
  assert_non_null(jobs);
  size_t nj = 0;
  for (int q = 0; q < NQUERIES; q++)
    for (size_t a = 0; a < NELEM(algos); a++)
      for (size_t k = 0; k < NELEM(ks); k++)
        for (int ranking = 0; ranking < 2; ranking++) {
          job *j = &jobs[nj++];
          j->query = q;
          ks_search_opts_default(&j->o);
          j->o.algorithm = algos[a];
          j->o.k = ks[k];
          j->o.ranking = ranking ? KS_RANK_BM25_XAPIAN : KS_RANK_BM25;
          ks_index_results *r = NULL;
          if (ks_index_search(shared_ix, queries[q], SIZE_MAX, &j->o, &r, &e) != KS_OK)
            fail_msg("KS_TEST_SEED=%llu: search '%s' failed: %s",
                     (unsigned long long)seed, queries[q], e.msg);
          j->n = ks_index_results_count(r);
          j->hits = calloc(j->n ? j->n : 1, sizeof *j->hits);
          assert_non_null(j->hits);
          for (size_t i = 0; i < j->n; i++) ks_index_results_hit(r, i, &j->hits[i]);
          j->matches = ks_index_results_matches(r);
          j->exact = ks_index_results_matches_exact(r);
          ks_index_results_free(r);
        }

  pthread_t th[THREADS];
  for (uintptr_t t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, hammer, (void *)(t + 1)), 0);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  if (atomic_load(&failures) || atomic_load(&mismatches))
    fail_msg("KS_TEST_SEED=%llu: %d failures, %d mismatches; first: %s",
             (unsigned long long)seed, atomic_load(&failures),
             atomic_load(&mismatches), first_problem);

  for (size_t i = 0; i < njobs; i++) free(jobs[i].hits);
  free(jobs);
  ks_index_close(shared_ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads_hammer_one_index),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
