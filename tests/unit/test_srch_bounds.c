/*
 * test_srch_bounds.c - the score bounds that dynamic pruning trusts
 * (searcher/prune.c; docs/ranking.md, "Query evaluation") are never below
 * the contribution of a posting they cover:
 *   - a list bound (ub) covers every posting of the list in the segment;
 *   - ks_prune_block_bound(target) covers every posting from target to
 *     the end of the block holding it (slast);
 *   - ks_prune_window_bound(lo, hi) covers every posting in [lo, hi),
 *     including those of the later blocks the window reaches;
 * up to KS_PRUNE_SLACK, on random postings (random term frequencies and
 * document lengths, lists from one block to many, deleted documents),
 * both ranking schemes, random k1/b/bigram_weight, with and without the
 * cursor moved to the window first (as maxscore.c does). A bound that is
 * too low makes pruning drop a hit that belongs in the top k, and the
 * oracle comparisons (test_srch_pruning) only notice when a drop changes
 * the top k; here every bound is checked against every posting.
 * Then an oracle case with near-ties: many documents whose scores differ
 * by less than 1%, spread over many blocks and several windows, where
 * every algorithm must equal exhaustive.
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

#include "deletions_int.h"
#include "index_writer.h"
#include "ks_alloc.h"
#include "ks_test_util.h"
#include "query_int.h"

static uint64_t rng_state, seed;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}
static int rnd_below(int n) { return (int)(rnd() % (uint64_t)n); }

static const char *words[] = {"사과", "나무", "바다", "하늘", "구름", "바람",
                              "산업", "도시", "가을", "겨울"};
#define NWORDS (sizeof words / sizeof *words)

/* A random corpus: word w appears in a document with probability p[w]
 * and a random frequency (1..8); filler words make lengths vary. Some ids
 * are added twice (the first copy becomes a deleted document). */
static void build(const char *dir, int ndocs) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.mem_budget = (size_t)(1 + rnd_below(3)) << 20;
  ks_index_writer *w = NULL;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, NULL), KS_OK);
  double p[NWORDS];
  for (size_t i = 0; i < NWORDS; i++) p[i] = 0.01 + 0.9 * (double)(rnd() % 1000) / 1000.0;
  static char text[16384];
  for (int d = 0; d < ndocs; d++) {
    size_t len = 0;
    text[0] = 0;
    for (size_t i = 0; i < NWORDS; i++) {
      if ((double)(rnd() % 1000) / 1000.0 >= p[i]) continue;
      int tf = 1 + (rnd_below(4) == 0 ? rnd_below(8) : 0);
      for (int k = 0; k < tf; k++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s ", words[i]);
    }
    int filler = rnd_below(4) == 0 ? rnd_below(200) : rnd_below(10);
    for (int k = 0; k < filler; k++)
      len += (size_t)snprintf(text + len, sizeof text - len, "x%d ", rnd_below(50));
    len += (size_t)snprintf(text + len, sizeof text - len, "끝");
    char id[32];
    int dup = d > 0 && rnd_below(20) == 0;
    snprintf(id, sizeof id, "d%d", dup ? rnd_below(d) : d);
    ks_doc doc = {.id = id, .id_len = strlen(id), .text = text, .text_len = len};
    assert_int_equal(ks_index_writer_add(w, &doc, NULL), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
}

typedef struct posting {
  uint32_t doc;
  double s; /* exact contribution */
} posting;

static void failf(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fail_msg("seed %llu: %s", (unsigned long long)seed, msg);
}

/* Check every bound of cursor slot i (term t) of p on segment s. */
static void check_cursor(ks_prune *p, const ks_segment *seg, uint64_t base,
                         const ks_term_info *infos, uint32_t t) {
  /* 1. the exact contribution of every live posting */
  assert_int_equal(ks_prune_open_segment(p, seg, base, infos), KS_OK);
  ks_pcur *c = p->by_term[t];
  assert_non_null(c);
  size_t n = 0, cap = 1024;
  posting *ps = malloc(cap * sizeof *ps);
  assert_non_null(ps);
  double ub = c->ub;
  while (c->live) {
    if (!ks_segment_is_deleted(seg, c->cur.doc)) {
      if (n == cap) {
        cap *= 2;
        ps = realloc(ps, cap * sizeof *ps);
        assert_non_null(ps);
      }
      ps[n].doc = c->cur.doc;
      ps[n].s = ks_prune_term_score(p, c);
      if (ps[n].s > ub * KS_PRUNE_SLACK)
        failf("term %u doc %u: %.17g above its list bound %.17g", t, c->cur.doc, ps[n].s, ub);
      n++;
    }
    assert_int_equal(ks_prune_next(p, c), KS_OK);
  }
  ks_prune_close_segment(p);

  /* 2. block bounds, targets increasing */
  assert_int_equal(ks_prune_open_segment(p, seg, base, infos), KS_OK);
  c = p->by_term[t];
  size_t j = 0;
  for (uint32_t target = 0; j < n;) {
    double b = ks_prune_block_bound(p, c, target);
    uint32_t last = c->slast;
    for (size_t k = j; k < n && ps[k].doc <= last; k++)
      if (ps[k].doc >= target && ps[k].s > b * KS_PRUNE_SLACK)
        failf("term %u doc %u: %.17g above the bound %.17g of the block for "
              "target %u (last %u)", t, ps[k].doc, ps[k].s, b, target, last);
    while (j < n && ps[j].doc < target) j++;
    target += 1 + (uint32_t)rnd_below(rnd_below(2) ? 300 : 20);
    while (j < n && ps[j].doc < target) j++;
  }
  ks_prune_close_segment(p);

  /* 3. window bounds, lo increasing; sometimes the cursor is moved to lo
   * first, as maxscore.c moves it */
  assert_int_equal(ks_prune_open_segment(p, seg, base, infos), KS_OK);
  c = p->by_term[t];
  j = 0;
  for (uint32_t lo = (uint32_t)rnd_below(50); j < n;) {
    uint32_t width = 1 + (uint32_t)rnd_below(KS_PRUNE_WINDOW);
    uint32_t hi = lo + width;
    if (rnd_below(2)) assert_int_equal(ks_prune_seek(p, c, lo), KS_OK);
    double m = ks_prune_window_bound(p, c, lo, hi);
    while (j < n && ps[j].doc < lo) j++;
    for (size_t k = j; k < n && ps[k].doc < hi; k++)
      if (ps[k].s > m * KS_PRUNE_SLACK)
        failf("term %u doc %u: %.17g above the window bound %.17g of [%u, %u)", t,
              ps[k].doc, ps[k].s, m, lo, hi);
    lo += 1 + (uint32_t)rnd_below((int)width);
  }
  ks_prune_close_segment(p);
  free(ps);
}

static void one_round(int round) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/r%d", ks_test_tmpdir("srch_bounds"), round);
  int ndocs = rnd_below(3) == 0 ? 200 + rnd_below(800) : 3000 + rnd_below(9000);
  build(dir, ndocs);
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, NULL), KS_OK);
  /* a query of every word (each term gets a cursor) */
  char qtext[512];
  size_t ql = 0;
  for (size_t i = 0; i < NWORDS; i++)
    ql += (size_t)snprintf(qtext + ql, sizeof qtext - ql, "%s ", words[i]);
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.ranking = rnd_below(2) ? KS_RANK_BM25 : KS_RANK_BM25_XAPIAN;
  if (rnd_below(2)) {
    o.k1 = (double)rnd_below(300) / 100.0;
    o.b = (double)rnd_below(101) / 100.0;
    o.bigram_weight = (double)rnd_below(200) / 100.0;
  }
  ks_tok *tok = NULL;
  assert_int_equal(ks_index_tok_acquire(ix, &tok, NULL), KS_OK);
  ks_query q;
  assert_int_equal(ks_query_parse(tok, qtext, ql, &q, NULL), KS_OK);
  ks_index_tok_release(ix, tok);
  ks_term_info *infos = NULL;
  assert_int_equal(ks_query_lookup(ix, &q, &infos, NULL), KS_OK);
  ks_bm25 bm;
  ks_bm25_init(&bm, &o, ix->nlive, ix->field_total);
  ks_bm25_weigh(&bm, &q);
  ks_prune p;
  ks_err e;
  assert_int_equal(ks_prune_init(&p, &q, &bm, &e), KS_OK);
  for (uint32_t s = 0; s < ix->nsegs; s++) {
    const ks_term_info *si = infos + (size_t)s * q.nterms;
    for (uint32_t t = 0; t < q.nterms; t++)
      if (si[t].df > 0) check_cursor(&p, ix->segs[s], ix->base[s], si, t);
  }
  ks_prune_free(&p);
  ks_free(infos);
  ks_query_free(&q);
  ks_index_close(ix);
}

static void test_bounds_cover_postings(void **state) {
  (void)state;
  const char *env = getenv("KS_TEST_SEED");
  seed = env && *env ? strtoull(env, NULL, 10) : 20261208;
  rng_state = seed ? seed : 1;
  int rounds = env && *env ? 1 : 6;
  for (int r = 0; r < rounds; r++) one_round(r);
}

/* Near-ties: 12,000 documents holding "사과" once and "나무" 1-3 times
 * with lengths that differ by one word here and there, so that thousands
 * of scores lie within 1% of each other across many blocks and windows. */
static void test_near_ties_oracle(void **state) {
  (void)state;
  rng_state = 99;
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/ties", ks_test_tmpdir("srch_bounds"));
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, NULL), KS_OK);
  static char text[4096];
  for (int d = 0; d < 12000; d++) {
    size_t len = (size_t)snprintf(text, sizeof text, "사과 ");
    int tf = 1 + rnd_below(3);
    for (int k = 0; k < tf; k++) len += (size_t)snprintf(text + len, sizeof text - len, "나무 ");
    if (rnd_below(7) == 0) len += (size_t)snprintf(text + len, sizeof text - len, "바다 ");
    int filler = 20 + rnd_below(3);
    for (int k = 0; k < filler; k++) len += (size_t)snprintf(text + len, sizeof text - len, "x ");
    char id[16];
    snprintf(id, sizeof id, "t%d", d);
    ks_doc doc = {.id = id, .id_len = strlen(id), .text = text, .text_len = len};
    assert_int_equal(ks_index_writer_add(w, &doc, NULL), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, NULL), KS_OK);
  const char *qs[] = {"사과 나무", "나무 바다", "사과 나무 바다", "바다 나무 x"};
  const uint32_t ks[] = {1, 10, 100, 1000};
  for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++)
    for (size_t ki = 0; ki < 4; ki++)
      for (int scheme = 0; scheme < 2; scheme++) {
        ks_search_opts o;
        ks_search_opts_default(&o);
        o.k = ks[ki];
        o.ranking = scheme ? KS_RANK_BM25_XAPIAN : KS_RANK_BM25;
        ks_index_results *ref = NULL;
        o.algorithm = KS_ALGO_EXHAUSTIVE;
        assert_int_equal(ks_index_search(ix, qs[qi], SIZE_MAX, &o, &ref, NULL), KS_OK);
        for (int a = KS_ALGO_BMW; a <= KS_ALGO_MAXSCORE; a++) {
          ks_index_results *r = NULL;
          o.algorithm = a;
          assert_int_equal(ks_index_search(ix, qs[qi], SIZE_MAX, &o, &r, NULL), KS_OK);
          assert_int_equal(ks_index_results_count(r), ks_index_results_count(ref));
          for (size_t i = 0; i < ks_index_results_count(r); i++) {
            ks_index_hit h1, h2;
            assert_int_equal(ks_index_results_hit(ref, i, &h1), KS_OK);
            assert_int_equal(ks_index_results_hit(r, i, &h2), KS_OK);
            if (h1.doc != h2.doc || h1.score != h2.score)
              fail_msg("[%s] k=%u scheme %d algorithm %d hit %zu: doc %llu %.17g, "
                       "exhaustive doc %llu %.17g", qs[qi], ks[ki], scheme, a, i,
                       (unsigned long long)h2.doc, h2.score,
                       (unsigned long long)h1.doc, h1.score);
          }
          ks_index_results_free(r);
        }
        ks_index_results_free(ref);
      }
  ks_index_close(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bounds_cover_postings),
      cmocka_unit_test(test_near_ties_oracle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
