/*
 * test_srch_pruning.c - every top-k algorithm returns exactly the
 * exhaustive top k (docs/ranking.md, "Query evaluation").
 *
 * Each round generates a random corpus (seeded PRNG; Zipf-distributed
 * Hangul nouns with and without particles plus a few Latin words, document
 * lengths from 1 to ~80 words, some duplicated texts so that equal scores
 * are common, some replaced ids so that deleted documents stay in the
 * postings), big enough that frequent terms span many 128-document blocks,
 * and indexes it with a tiny memory budget (several segments) or merged.
 * Random queries: ranked OR of 1-8 words, some with optional "phrases"
 * (bmw.c / maxscore.c, positions checked), and mixed queries whose clauses
 * are optional, +required or -excluded words or "phrases" (phrases taken
 * from documents of the corpus, so that they do match): with a required
 * clause both options run conj.c, with only excluded ones bmw.c /
 * maxscore.c reject by seeking. For
 * k in {1, 10, 100, 1000}, both ranking schemes and sometimes random k1,
 * b, bigram_weight (including 0), BMW and MaxScore must return the same
 * number of hits, the same internal document numbers in the same order and
 * bit-identical scores as exhaustive.
 * A larger corpus (10,000 documents) exercises maxscore.c's window cap.
 * Every pruned result's match count must be exact when it says so.
 * It also checks that pruning happens (fewer documents scored than
 * matched, summed over the run), so a silent fallback would fail, for the
 * ranked-OR queries and for those with required clauses separately.
 *
 * Reproduce a failure with KS_TEST_SEED=<seed printed on failure>.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index_writer.h"
#include "index.h"
#include "ks_test_util.h"

#define ROUNDS 6
#define QUERIES_PER_ROUND 60

/* Texts of some documents of the current corpus: phrases come from them. */
#define NSAMPLES 64
static char samples[NSAMPLES][2048];
static int nsamples;

static uint64_t rng_state, seed;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static int rnd_below(int n) { return (int)(rnd() % (uint64_t)n); }
static double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static const char *nouns[] = {"대통령", "보스턴", "클러스터", "산업", "첨단산업",
                              "바이오", "한국",   "미국",     "경제", "협력",
                              "기술",   "연구소", "대학",     "서울", "회의",
                              "전략",   "수출",   "인재",     "혁신", "스타트업",
                              "통령",   "산학",   "반도체",   "정부", "시장"};
static const char *particles[] = {"", "", "", "은", "는", "이", "를", "의", "에서", "과"};
static const char *latin[] = {"MIT", "the", "square", "2023", "mile"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void append_word(char *buf, size_t cap, size_t *len) {
  char w[64];
  if (rnd_below(10) == 0) {
    snprintf(w, sizeof w, "%s", latin[rnd_below(NELEM(latin))]);
  } else {
    int n = (int)NELEM(nouns);
    int i = (int)(pow(rnd_unit(), 2.5) * n); /* Zipf-like */
    if (i >= n) i = n - 1;
    snprintf(w, sizeof w, "%s%s", nouns[i], particles[rnd_below(NELEM(particles))]);
  }
  int m = snprintf(buf + *len, cap - *len, "%s%s", *len ? " " : "", w);
  if (m > 0 && (size_t)m < cap - *len) *len += (size_t)m;
}

static void failf(const char *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  print_error("FAIL (KS_TEST_SEED=%llu) %s\n  %s\n", (unsigned long long)seed,
              ctx, msg);
  fail();
}

static void build_corpus(const char *dir, int ndocs, int merged) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.merge = merged;
  if (!merged) wo.mem_budget = 4096; /* the writer raises it to its minimum */
  ks_index_writer *w = NULL;
  ks_err e;
  if (ks_index_writer_open(dir, &wo, &w, &e) != KS_OK) failf("", "writer_open: %s", e.msg);
  char text[2048], prev[2048] = "", id[32];
  for (int i = 0; i < ndocs; i++) {
    size_t len = 0;
    if (i > 0 && rnd_below(12) == 0) { /* duplicate text: equal scores */
      memcpy(text, prev, sizeof text);
      len = strlen(text);
    } else {
      int nw = 1 + (rnd_below(4) == 0 ? rnd_below(80) : rnd_below(15));
      text[0] = '\0';
      for (int k = 0; k < nw; k++) append_word(text, sizeof text, &len);
      memcpy(prev, text, sizeof prev);
    }
    if (nsamples < NSAMPLES && rnd_below(8) == 0)
      memcpy(samples[nsamples++], text, sizeof text);
    /* 1 in 20 reuses an earlier id: the earlier document is replaced */
    int idn = (i > 10 && rnd_below(20) == 0) ? rnd_below(i) : i;
    snprintf(id, sizeof id, "d%d", idn);
    ks_doc kd;
    memset(&kd, 0, sizeof kd);
    kd.id = id;
    kd.id_len = strlen(id);
    kd.text = text;
    kd.text_len = len;
    if (ks_index_writer_add(w, &kd, &e) != KS_OK) failf("", "writer_add: %s", e.msg);
  }
  if (ks_index_writer_commit(w, &e) != KS_OK) failf("", "commit: %s", e.msg);
  ks_index_writer_close(w);
}

/* 2-3 consecutive words of a sampled document (or random words when
 * there is no sample), appended to w. */
static void phrase_words(char *w, size_t cap, size_t *wl) {
  int want = 2 + rnd_below(2);
  if (nsamples == 0) {
    for (int i = 0; i < want; i++) append_word(w, cap, wl);
    return;
  }
  const char *t = samples[rnd_below(nsamples)];
  int nw = 1;
  for (const char *c = t; *c; c++) nw += *c == ' ';
  int start = nw > want ? rnd_below(nw - want + 1) : 0;
  int word = 0;
  for (const char *c = t; *c; c++) {
    if (*c == ' ') {
      word++;
      continue;
    }
    if (word >= start && word < start + want && *wl + 2 < cap) {
      if (word > start && c[-1] == ' ') w[(*wl)++] = ' ';
      w[(*wl)++] = *c;
    }
  }
  w[*wl] = '\0';
}

/* *kind: 0 ranked OR (maybe optional phrases), 1 with excluded clauses
 * only, 2 with a required clause. */
static void make_query(char *q, size_t cap, int *kind) {
  size_t len = 0;
  q[0] = '\0';
  int nclauses = 1 + rnd_below(rnd_below(3) == 0 ? 8 : 4);
  int mixed = rnd_below(5) < 3; /* +, -, phrases of every kind */
  *kind = 0;
  for (int c = 0; c < nclauses; c++) {
    char w[1024];
    size_t wl = 0;
    w[0] = '\0';
    int phrase = rnd_below(mixed ? 4 : 8) == 0;
    if (phrase) phrase_words(w, sizeof w, &wl);
    else append_word(w, sizeof w, &wl);
    const char *op = "";
    if (mixed) {
      int r = rnd_below(20);
      if (r < 5) op = "+";
      else if (r < 8) op = "-";
    }
    if (*op == '+') *kind = 2;
    if (*op == '-' && *kind == 0) *kind = 1;
    int m = snprintf(q + len, cap - len, "%s%s%s%s%s", len ? " " : "", op,
                     phrase ? "\"" : "", w, phrase ? "\"" : "");
    if (m > 0 && (size_t)m < cap - len) len += (size_t)m;
  }
}

typedef struct run_stats {
  uint64_t pruned_queries;  /* queries where an algorithm scored < matches */
  uint64_t compared;
} run_stats;

/* Statistics of the random queries by kind (make_query). */
static run_stats kind_stats[3];

static void compare(ks_index *ix, const char *q, const ks_search_opts *base,
                    const char *ctx, run_stats *st) {
  ks_err e;
  ks_index_results *ref = NULL;
  ks_search_opts o = *base;
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  if (ks_index_search(ix, q, SIZE_MAX, &o, &ref, &e) != KS_OK)
    failf(ctx, "exhaustive search failed: %s", e.msg);
  if (!ks_index_results_matches_exact(ref))
    failf(ctx, "exhaustive count not flagged exact (query '%s')", q);
  const int algos[] = {KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  const char *names[] = {"bmw", "maxscore"};
  for (int a = 0; a < 2; a++) {
    o.algorithm = algos[a];
    ks_index_results *r = NULL;
    if (ks_index_search(ix, q, SIZE_MAX, &o, &r, &e) != KS_OK)
      failf(ctx, "%s search failed: %s", names[a], e.msg);
    size_t n = ks_index_results_count(r), nref = ks_index_results_count(ref);
    if (n != nref)
      failf(ctx, "%s: %zu hits, exhaustive %zu (query '%s', k %u)", names[a], n,
            nref, q, o.k);
    for (size_t i = 0; i < n; i++) {
      ks_index_hit h, hr;
      ks_index_results_hit(r, i, &h);
      ks_index_results_hit(ref, i, &hr);
      if (h.doc != hr.doc || memcmp(&h.score, &hr.score, sizeof h.score) != 0)
        failf(ctx, "%s: hit %zu is doc %llu score %.17g, exhaustive doc %llu "
              "score %.17g (query '%s', k %u, ranking %d)",
              names[a], i, (unsigned long long)h.doc, h.score,
              (unsigned long long)hr.doc, hr.score, q, o.k, o.ranking);
    }
    if (ks_index_results_matches(r) > ks_index_results_matches(ref))
      failf(ctx, "%s scored %llu documents, more than the %llu matches",
            names[a], (unsigned long long)ks_index_results_matches(r),
            (unsigned long long)ks_index_results_matches(ref));
    if (ks_index_results_matches(r) < ks_index_results_matches(ref)) st->pruned_queries++;
    /* honesty of the count: "exact" must mean exact */
    if (ks_index_results_matches_exact(r) &&
        ks_index_results_matches(r) != ks_index_results_matches(ref))
      failf(ctx, "%s says %llu matches exactly, exhaustive counted %llu",
            names[a], (unsigned long long)ks_index_results_matches(r),
            (unsigned long long)ks_index_results_matches(ref));
    st->compared++;
    ks_index_results_free(r);
  }
  ks_index_results_free(ref);
}

static void one_round(int round, run_stats *st) {
  int ndocs = 300 + rnd_below(2700);
  int merged = round % 2;
  nsamples = 0;
  const char *dir = ks_test_tmpdir("srch_pruning");
  build_corpus(dir, ndocs, merged);
  ks_index *ix = NULL;
  ks_err e;
  if (ks_index_open(dir, &ix, &e) != KS_OK) failf("", "open: %s", e.msg);
  char q[2048], ctx[2600];
  for (int i = 0; i < QUERIES_PER_ROUND; i++) {
    int kind;
    make_query(q, sizeof q, &kind);
    ks_search_opts o;
    ks_search_opts_default(&o);
    if (rnd_below(3) == 0) {
      const double k1s[] = {0.0, 0.5, 1.2, 2.0}, bs[] = {0.0, 0.3, 0.75, 1.0},
                   bws[] = {0.0, 0.3, 1.0, 2.5};
      o.k1 = k1s[rnd_below(4)];
      o.b = bs[rnd_below(4)];
      o.bigram_weight = bws[rnd_below(4)];
    }
    const uint32_t ks[] = {1, 10, 100, 1000};
    for (int ranking = 0; ranking < 2; ranking++) {
      o.ranking = ranking ? KS_RANK_BM25_XAPIAN : KS_RANK_BM25;
      for (int k = 0; k < 4; k++) {
        o.k = ks[k];
        snprintf(ctx, sizeof ctx,
                 "round %d (%d docs, merged %d), query %d '%s', k1 %g b %g "
                 "bigram_weight %g", round, ndocs, merged, i, q, o.k1, o.b,
                 o.bigram_weight);
        run_stats one = {0, 0};
        compare(ix, q, &o, ctx, &one);
        st->compared += one.compared;
        st->pruned_queries += one.pruned_queries;
        kind_stats[kind].compared += one.compared;
        kind_stats[kind].pruned_queries += one.pruned_queries;
      }
    }
  }
  ks_index_close(ix);
}

static void test_random_corpora(void **state) {
  (void)state;
  const char *s = ks_test_env("KS_TEST_SEED", NULL);
  seed = s ? strtoull(s, NULL, 10) : 0x5eed0004ull;
  rng_state = seed ? seed : 1;
  run_stats st = {0, 0};
  for (int round = 0; round < ROUNDS; round++) one_round(round, &st);
  print_message("compared %llu result lists; pruning skipped documents in "
                "%llu\n", (unsigned long long)st.compared,
                (unsigned long long)st.pruned_queries);
  const char *kinds[] = {"ranked OR", "with -excluded", "with +required"};
  for (int k = 0; k < 3; k++)
    print_message("  %s: %llu compared, %llu pruned\n", kinds[k],
                  (unsigned long long)kind_stats[k].compared,
                  (unsigned long long)kind_stats[k].pruned_queries);
  /* honest check that the pruning code ran (no silent fallback), also for
   * excluded and required clauses */
  assert_true(st.pruned_queries > st.compared / 4);
  for (int k = 0; k < 3; k++) {
    assert_true(kind_stats[k].compared > 100);
    assert_true(kind_stats[k].pruned_queries > kind_stats[k].compared / 8);
  }
}

/* Many documents with one identical score: the tie rule (lower internal
 * number first) must survive pruning at every k. */
static void test_ties(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_pruning_ties");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, &e), KS_OK);
  for (int i = 0; i < 700; i++) {
    char id[16];
    snprintf(id, sizeof id, "t%d", i);
    const char *text = i % 3 ? "대통령 협력 회의" : "대통령 경제";
    ks_doc kd;
    memset(&kd, 0, sizeof kd);
    kd.id = id;
    kd.id_len = strlen(id);
    kd.text = text;
    kd.text_len = strlen(text);
    assert_int_equal(ks_index_writer_add(w, &kd, &e), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_OK);
  run_stats st = {0, 0};
  const char *qs[] = {"대통령", "대통령 경제", "협력 경제 회의", "경제 MIT"};
  for (size_t i = 0; i < NELEM(qs); i++) {
    for (uint32_t k = 1; k <= 1000; k *= 10) {
      ks_search_opts o;
      ks_search_opts_default(&o);
      o.k = k;
      compare(ix, qs[i], &o, "ties", &st);
      o.ranking = KS_RANK_BM25_XAPIAN;
      compare(ix, qs[i], &o, "ties (bm25-xapian)", &st);
    }
  }
  ks_index_close(ix);
}

/* ---- helpers of the fixed-corpus tests below ---- */

static ks_index_writer *open_writer(const char *dir) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, &e), KS_OK);
  return w;
}

static void add_doc(ks_index_writer *w, const char *id, const char *text, size_t len) {
  ks_doc kd;
  ks_err e;
  memset(&kd, 0, sizeof kd);
  kd.id = id;
  kd.id_len = strlen(id);
  kd.text = text;
  kd.text_len = len;
  assert_int_equal(ks_index_writer_add(w, &kd, &e), KS_OK);
}

static ks_index *commit_and_open(ks_index_writer *w, const char *dir) {
  ks_err e;
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_OK);
  return ix;
}

/* Append s to text (capacity cap, length *len) when it fits. */
static void append_str(char *text, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + n < cap) memcpy(text + *len, s, n + 1), *len += n;
}

/* Every algorithm against exhaustive for each query, k = 1, 10, 100, 1000,
 * both rankings. */
static void compare_queries(ks_index *ix, const char *const *qs, size_t nq,
                            const char *ctx, run_stats *st) {
  char ctx_x[128];
  snprintf(ctx_x, sizeof ctx_x, "%s (bm25-xapian)", ctx);
  for (size_t i = 0; i < nq; i++) {
    for (uint32_t k = 1; k <= 1000; k *= 10) {
      ks_search_opts o;
      ks_search_opts_default(&o);
      o.k = k;
      compare(ix, qs[i], &o, ctx, st);
      o.ranking = KS_RANK_BM25_XAPIAN;
      compare(ix, qs[i], &o, ctx_x, st);
    }
  }
}

/* More documents than maxscore.c's window (KS_PRUNE_WINDOW = 4096): rare
 * terms whose single block spans the whole segment next to frequent ones,
 * so windows are cut at the cap and skipped windows occur. */
static void test_large_sparse(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_pruning_large");
  ks_index_writer *w = open_writer(dir);
  rng_state = 0x1a46eull;
  for (int i = 0; i < 10000; i++) {
    char id[16], text[256];
    size_t len = 0;
    text[0] = '\0';
    snprintf(id, sizeof id, "L%d", i);
    int nw = 1 + rnd_below(6);
    for (int k = 0; k < nw; k++) append_word(text, sizeof text, &len);
    if (rnd_below(700) == 0) /* rare words */
      append_str(text, sizeof text, &len, rnd_below(2) ? " 희귀어 드문말" : " 희귀어");
    add_doc(w, id, text, len);
  }
  ks_index *ix = commit_and_open(w, dir);
  run_stats st = {0, 0};
  const char *qs[] = {"희귀어", "희귀어 드문말", "희귀어 대통령", "드문말 보스턴 산업",
                      "희귀어 드문말 대통령 보스턴 클러스터"};
  compare_queries(ix, qs, NELEM(qs), "large", &st);
  ks_index_close(ix);
}

/* Matches placed at the block boundaries (128 postings) of a term that is
 * in every document: documents 128j-1, 128j and 128j+1 hold the rarer
 * words; document 128j of every third block is short with a high tf, so
 * the top k is made of first documents of blocks. A pruned path that
 * lands one document off after skipping a block (or reads the wrong
 * block's bound) misses or misweighs exactly these. */
static void test_block_boundaries(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_pruning_blocks");
  ks_index_writer *w = open_writer(dir);
  rng_state = 0xb10c5ull;
  for (int i = 0; i < 3000; i++) {
    char id[16], text[512];
    size_t len = 0;
    text[0] = '\0';
    snprintf(id, sizeof id, "B%d", i);
    /* strong: the first document of every third block; the blocks in
     * between have low bounds, so the pruned paths skip them and land
     * exactly on a strong document */
    int r = i % 128, at_edge = r == 0 || r == 1 || r == 127;
    int strong = r == 0 && (i / 128) % 3 == 2;
    int common = strong ? 5 + rnd_below(3) : 1 + rnd_below(2);
    for (int k = 0; k < common; k++) append_str(text, sizeof text, &len, len ? " 공통" : "공통");
    if (at_edge) {
      append_str(text, sizeof text, &len, " 경계");
      if (r == 127) append_str(text, sizeof text, &len, " 표시");
      if (rnd_below(2)) append_str(text, sizeof text, &len, " 경계");
    }
    int filler = strong ? 0 : 2 + rnd_below(20);
    for (int k = 0; k < filler; k++) append_word(text, sizeof text, &len);
    add_doc(w, id, text, len);
  }
  ks_index *ix = commit_and_open(w, dir);
  run_stats st = {0, 0};
  const char *qs[] = {"공통", "공통 경계", "경계 표시 공통", "+경계 공통", "+공통 경계",
                      "+공통 +경계 표시", "공통 -표시", "\"경계 표시\" 공통",
                      "+\"경계 표시\" 공통", "공통 대통령 -경계"};
  compare_queries(ix, qs, NELEM(qs), "block boundaries", &st);
  /* the cuts must have been taken somewhere, or this tests nothing */
  assert_true(st.pruned_queries > 0);
  ks_index_close(ix);
}

static void test_bad_algorithm(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_pruning_bad");
  build_corpus(dir, 20, 1);
  ks_index *ix = NULL;
  ks_err e;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_OK);
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.algorithm = 3;
  ks_index_results *r = NULL;
  assert_int_equal(ks_index_search(ix, "대통령", SIZE_MAX, &o, &r, &e), KS_EINVAL);
  assert_null(r);
  ks_index_close(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_corpora),
      cmocka_unit_test(test_ties),
      cmocka_unit_test(test_large_sparse),
      cmocka_unit_test(test_block_boundaries),
      cmocka_unit_test(test_bad_algorithm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
