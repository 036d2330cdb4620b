/*
 * test_bm25_oracle.c - the engine's ranked results must agree with an
 * independent brute-force BM25 scorer (docs/ranking.md, docs/query.md).
 *
 * Each round generates a random small corpus (seeded PRNG: Hangul nouns
 * with and without particles, Latin words, numbers, mixed tokens, repeated
 * words, empty-of-terms and long documents, titles, duplicate ids), builds
 * an index through the native writer API (index_writer.h) in one of four
 * configurations (tiny memory budget without merge, so replaced documents
 * stay on disk, where their .del's deleted-term table keeps them out of
 * df; tiny budget merged; defaults; several
 * writers' segments spliced into one MANIFEST, so there are many segments
 * whatever the writer's flush policy), and runs random queries (1-4
 * clauses: words, phrases, +required, -excluded; random k1, b and
 * bigram_weight in a third of them).
 *
 * The oracle (tests/support/ks_oracle.c, shared with the live-index
 * tests) uses only the analyzer (ks_tok_run) to turn strings into terms.
 * Everything else - tf, df, field lengths, N, avgdl, idf, clause
 * matching, phrase positions, BM25 - is recomputed from plain arrays,
 * without any searcher internals. Per query and k in {1, 5, 10, 1000} it
 * checks: the number of matching documents; every returned score (1e-6
 * relative) against the oracle's sorted scores; every returned id is an
 * oracle match with the same score; every oracle document scoring clearly
 * above the last returned score is returned; engine order is by score, then
 * internal document number.
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
#include "ks_oracle.h"
#include "ks_test_util.h"
#include "kosearch/tok.h"
#include "manifest_int.h" /* ks_manifest_*: test-only splicing */

#define ROUNDS 20
#define QUERIES_PER_ROUND 30
#define REL_TOL 1e-6
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static ks_rng rng;
static int rnd_below(int n) { return ks_rng_below(&rng, n); }

static ks_orc orc;

/* The oracle's documents, and per document the sub-index (piece) it was
 * written to (see build_spliced). */
typedef ks_orc_doc odoc;
static int *piece_of;

/* ---- the test -------------------------------------------------------------- */

static uint64_t seed;
static char context[4096];

static void failf(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  print_message("FAILED with KS_TEST_SEED=%llu\n%s\n%s\n",
                (unsigned long long)seed, context, msg);
  fail_msg("%s", msg);
}

static int close_enough(double a, double b) { return ks_orc_close(a, b, REL_TOL); }

static int find_doc(const odoc *docs, int ndocs, const char *id, size_t len) {
  for (int i = 0; i < ndocs; i++)
    if (docs[i].live && strlen(docs[i].id) == len &&
        memcmp(docs[i].id, id, len) == 0)
      return i;
  return -1;
}

static void compare(ks_index *ix, const char *query, const odoc *docs,
                    int ndocs, const ks_orc_scored *want, int nwant, uint32_t k,
                    const ks_orc_params *p) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = k;
  o.k1 = p->k1;
  o.b = p->b;
  o.bigram_weight = p->bw;
  ks_index_results *r = NULL;
  ks_err e;
  int rc = ks_index_search(ix, query, SIZE_MAX, &o, &r, &e);
  if (rc != KS_OK) failf("ks_search rc=%d: %s", rc, e.msg);
  /* the default algorithm prunes: its count is exact only when it says so,
   * else a lower bound */
  if (ks_index_results_matches_exact(r) ? ks_index_results_matches(r) != (uint64_t)nwant
                                  : ks_index_results_matches(r) > (uint64_t)nwant)
    failf("k=%u: engine matches %llu (%s), oracle %d", k,
          (unsigned long long)ks_index_results_matches(r),
          ks_index_results_matches_exact(r) ? "exact" : "lower bound", nwant);
  size_t n = ks_index_results_count(r);
  size_t expect_n = (size_t)nwant < k ? (size_t)nwant : k;
  if (n != expect_n) failf("k=%u: engine returned %zu hits, expected %zu", k, n, expect_n);
  int *seen = calloc(ndocs ? ndocs : 1, sizeof *seen);
  assert_non_null(seen);
  ks_index_hit prev = {0, 0};
  for (size_t i = 0; i < n; i++) {
    ks_index_hit h;
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    const char *id;
    size_t idlen;
    rc = ks_index_doc_id(ix, h.doc, &id, &idlen, &e);
    if (rc != KS_OK) failf("doc_id(%llu) rc=%d", (unsigned long long)h.doc, rc);
    int d = find_doc(docs, ndocs, id, idlen);
    if (d < 0) failf("k=%u hit %zu: id %.*s is not a live document", k, i, (int)idlen, id);
    if (seen[d]++) failf("k=%u: document %s returned twice", k, docs[d].id);
    if (!close_enough(h.score, want[i].score))
      failf("k=%u rank %zu: engine score %.17g, oracle's %zu-th best %.17g", k,
            i, h.score, i, want[i].score);
    int j = 0;
    while (j < nwant && want[j].doc != d) j++;
    if (j == nwant) failf("k=%u: engine returned %s, which the oracle does not match", k, docs[d].id);
    if (!close_enough(h.score, want[j].score))
      failf("k=%u: %s engine score %.17g, oracle %.17g", k, docs[d].id,
            h.score, want[j].score);
    if (i > 0 && (h.score > prev.score ||
                  (h.score == prev.score && h.doc < prev.doc)))
      failf("k=%u: hits %zu and %zu out of order", k, i - 1, i);
    prev = h;
  }
  if (n > 0 && n == k) {
    double last = prev.score;
    for (int j = 0; j < nwant; j++) {
      if (want[j].score > last && !close_enough(want[j].score, last) &&
          !seen[want[j].doc])
        failf("k=%u: oracle document %s (score %.17g) missing; last engine "
              "score %.17g", k, docs[want[j].doc].id, want[j].score, last);
    }
  }
  free(seen);
  ks_index_results_free(r);
}

/* Documents [first[p], first[p + 1]) go to piece p; duplicate ids are only
 * drawn within a piece (pieces are separate writers). */
static void make_corpus(odoc *docs, int ndocs, const int *first, int npieces) {
  int p = 0;
  for (int i = 0; i < ndocs; i++) {
    odoc *d = &docs[i];
    memset(d, 0, sizeof *d);
    while (p + 1 < npieces && i >= first[p + 1]) p++;
    piece_of[i] = p;
    if (i > first[p] && rnd_below(10) == 0)
      memcpy(d->id, docs[first[p] + rnd_below(i - first[p])].id,
             sizeof d->id); /* duplicate */
    else
      snprintf(d->id, sizeof d->id, "doc%d", i);
    ks_orc_random_doc(&rng, d);
  }
  /* the later document with an id replaces the earlier ones */
  for (int i = 0; i < ndocs; i++) {
    docs[i].live = 1;
    for (int j = i + 1; j < ndocs; j++)
      if (strcmp(docs[i].id, docs[j].id) == 0) docs[i].live = 0;
  }
}

static void free_corpus(odoc *docs, int ndocs) {
  for (int i = 0; i < ndocs; i++) ks_orc_doc_free(&docs[i]);
}

/* Write docs[from, to) with one writer into `dir`; returns the number of
 * replaced documents still on disk (the piece's deleted count). */
static uint32_t write_piece(const char *dir, odoc *docs, int from, int to,
                            const ks_writer_opts *wo) {
  ks_index_writer *w = NULL;
  ks_err e;
  if (ks_index_writer_open(dir, wo, &w, &e) != KS_OK) failf("writer_open: %s", e.msg);
  for (int i = from; i < to; i++) {
    odoc *d = &docs[i];
    ks_doc kd;
    memset(&kd, 0, sizeof kd);
    kd.id = d->id;
    kd.id_len = strlen(d->id);
    kd.title = d->title;
    kd.title_len = d->title ? strlen(d->title) : 0;
    kd.text = d->text;
    kd.text_len = strlen(d->text);
    int rc = ks_index_writer_add(w, &kd, &e);
    if (rc != KS_OK) failf("writer_add(%s): rc=%d %s", d->id, rc, e.msg);
    ks_orc_analyze_doc(&orc, d);
  }
  if (ks_index_writer_commit(w, &e) != KS_OK) failf("commit: %s", e.msg);
  ks_index_writer_close(w);
  ks_manifest m;
  if (ks_manifest_read(dir, &m, &e) != KS_OK) failf("manifest: %s", e.msg);
  uint32_t ndel = 0;
  for (uint32_t s = 0; s < m.nsegs; s++) ndel += m.segs[s].ndeleted;
  ks_manifest_free(&m);
  return ndel;
}

/* Multi-segment index without relying on the writer's flush policy: write
 * each piece with its own writer, then move every piece's segment files
 * into `dir` under fresh numbers and publish one MANIFEST listing them in
 * piece order (test-only use of the manifest API; file names follow
 * docs/format). Returns the pieces' deleted counts in del[]. */
static void build_spliced(const char *dir, odoc *docs, const int *first,
                          int npieces, uint32_t *del) {
  ks_manifest all;
  memset(&all, 0, sizeof all);
  all.segs = calloc(64 * (size_t)npieces, sizeof *all.segs);
  assert_non_null(all.segs);
  char piece_dir[4200];
  for (int p = 0; p < npieces; p++) {
    snprintf(piece_dir, sizeof piece_dir, "%s/piece%d", dir, p);
    ks_writer_opts wo;
    ks_writer_opts_default(&wo);
    wo.fsync = 0;
    wo.merge = rnd_below(2);
    del[p] = write_piece(piece_dir, docs, first[p], first[p + 1], &wo);
    ks_manifest m;
    ks_err e;
    if (ks_manifest_read(piece_dir, &m, &e) != KS_OK) failf("manifest: %s", e.msg);
    if (p == 0) {
      all.tok_version = m.tok_version;
      all.tok = m.tok;
    }
    for (uint32_t s = 0; s < m.nsegs; s++) {
      uint32_t to = 1000 + all.nsegs;
      static const char *ext[] = {"tid", "doc", "pos", "len", "sto"};
      for (int x = 0; x < 6; x++) {
        char from[4300], dest[4300];
        if (x < 5) {
          snprintf(from, sizeof from, "%s/%06u.%s", piece_dir, m.segs[s].segno, ext[x]);
          snprintf(dest, sizeof dest, "%s/%06u.%s", dir, to, ext[x]);
        } else if (m.segs[s].del_gen) { /* NNNNNN_G.del */
          snprintf(from, sizeof from, "%s/%06u_%llu.del", piece_dir, m.segs[s].segno,
                   (unsigned long long)m.segs[s].del_gen);
          snprintf(dest, sizeof dest, "%s/%06u_%llu.del", dir, to,
                   (unsigned long long)m.segs[s].del_gen);
        } else {
          continue;
        }
        if (rename(from, dest) != 0) failf("cannot move %s", from);
      }
      all.segs[all.nsegs] = m.segs[s];
      all.segs[all.nsegs].segno = to;
      all.nsegs++;
    }
    ks_manifest_free(&m);
    ks_test_system("rm -rf '%s'", piece_dir);
  }
  all.generation = 1;
  all.index_id = 1;
  all.next_segno = 1000 + all.nsegs;
  ks_err e;
  if (ks_manifest_write(dir, &all, 0, &e) != KS_OK) failf("manifest_write: %s", e.msg);
  free(all.segs);
}

static void one_round(int round, uint64_t *total_matches,
                      uint64_t *phrase_matches) {
  int ndocs = 5 + rnd_below(296);
  odoc *docs = calloc(ndocs, sizeof *docs);
  piece_of = calloc(ndocs, sizeof *piece_of);
  assert_non_null(docs);
  assert_non_null(piece_of);
  /* configurations: 0 tiny budget, merge off (replaced docs stay on disk);
   * 1 tiny budget, merge on; 2 defaults; 3 spliced pieces (many segments
   * whatever the writer's flush policy) */
  int config = round % 4;
  int first[65], npieces = 1;
  first[0] = 0;
  if (config == 3) {
    npieces = 2 + rnd_below(ndocs < 63 ? ndocs - 1 : 62);
    for (int p = 1; p < npieces; p++) first[p] = (int)((long)ndocs * p / npieces);
  }
  first[npieces] = ndocs;
  make_corpus(docs, ndocs, first, npieces);

  const char *dir = ks_test_tmpdir("bm25_oracle");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  if (config < 2) wo.mem_budget = 4096; /* the writer may raise it */
  wo.merge = config != 0;
  snprintf(context, sizeof context,
           "round %d: %d documents, config %d (mem_budget %zu, merge %d, %d "
           "pieces)", round, ndocs, config, wo.mem_budget, wo.merge, npieces);
  uint32_t del[64];
  if (config == 3) build_spliced(dir, docs, first, npieces, del);
  else del[0] = write_piece(dir, docs, 0, ndocs, &wo);
  /* the later document with an id replaces the earlier ones of its piece;
   * a piece keeps its replaced documents on disk (and in df, see
   * docs/ranking.md) unless its commit merged them away: all or none */
  int replaced = 0;
  for (int p = 0; p < npieces; p++) {
    int rp = 0;
    for (int i = first[p]; i < first[p + 1]; i++) rp += !docs[i].live;
    if (del[p] != 0 && del[p] != (uint32_t)rp)
      failf("piece %d: %u deleted documents on disk, %d replaced", p, del[p], rp);
    for (int i = first[p]; i < first[p + 1]; i++)
    replaced += rp;
  }
  ks_err e;

  ks_index *ix = NULL;
  if (ks_index_open(dir, &ix, &e) != KS_OK) failf("index_open: %s", e.msg);
  ks_index_stats st;
  assert_int_equal(ks_index_get_stats(ix, &st, &e), KS_OK);
  int nlive = 0;
  uint64_t total[KS_NFIELDS] = {0, 0};
  for (int i = 0; i < ndocs; i++) {
    if (!docs[i].live) continue;
    nlive++;
    for (int f = 0; f < KS_NFIELDS; f++) total[f] += docs[i].dl[f];
  }
  if (st.docs != (uint64_t)nlive) failf("stats.docs %llu, expected %d", (unsigned long long)st.docs, nlive);
  for (int f = 0; f < KS_NFIELDS; f++)
    if (st.field_total[f] != total[f])
      failf("field %d total %llu, oracle %llu (field length = terms emitted in "
            "title + text)", f, (unsigned long long)st.field_total[f],
            (unsigned long long)total[f]);
  uint64_t ndel = 0;
  for (int p = 0; p < npieces; p++) ndel += del[p];
  if (st.deleted != ndel)
    failf("stats.deleted %llu, pieces say %llu", (unsigned long long)st.deleted,
          (unsigned long long)ndel);
  if (getenv("KS_TEST_VERBOSE"))
    print_message("round %d: config %d, %d documents (%d live, %d replaced), "
                  "%u segments, %llu deleted on disk\n", round, config, ndocs,
                  nlive, replaced, st.segments, (unsigned long long)st.deleted);

  ks_orc_scored *want = calloc(ndocs, sizeof *want);
  assert_non_null(want);
  static const uint32_t ks[] = {1, 5, 10, 1000};
  for (int qn = 0; qn < QUERIES_PER_ROUND; qn++) {
    ks_orc_clause cl[4];
    char q[1200];
    int ncl = ks_orc_make_query(&rng, docs, ndocs, cl, q, sizeof q);
    ks_orc_params p = {1.2, 0.75, 0.3};
    if (rnd_below(3) == 0) {
      static const double k1s[] = {0.0, 0.5, 2.0}, bs[] = {0.0, 0.3, 1.0},
                          bws[] = {0.0, 1.0, 0.5};
      p.k1 = k1s[rnd_below(3)];
      p.b = bs[rnd_below(3)];
      p.bw = bws[rnd_below(3)];
    }
    for (int c = 0; c < ncl; c++) ks_orc_analyze_clause(&orc, &cl[c]);
    int nwant = ks_orc_run(&orc, docs, ndocs, NULL, cl, ncl, &p, want);
    snprintf(context, sizeof context,
             "round %d: config %d, %d documents (%d live), %u segments; "
             "query %d: [%s] k1=%g b=%g bigram_weight=%g",
             round, config, ndocs, nlive, st.segments, qn, q, p.k1, p.b, p.bw);
    *total_matches += (uint64_t)nwant;
    for (int c = 0; c < ncl; c++)
      if (cl[c].phrase && cl[c].op != KS_ORC_EXC && cl[c].nbase > 1 && nwant > 0)
        (*phrase_matches)++;
    for (size_t ki = 0; ki < NELEM(ks); ki++)
      compare(ix, q, docs, ndocs, want, nwant, ks[ki], &p);
  }
  free(want);
  ks_index_close(ix);
  free_corpus(docs, ndocs);
  free(docs);
  free(piece_of);
  piece_of = NULL;
  ks_orc_reset_terms(&orc);
}

static void test_random_corpora(void **state) {
  (void)state;
  const char *env = getenv("KS_TEST_SEED");
  seed = env && *env ? strtoull(env, NULL, 10) : 20240428ull;
  print_message("bm25 oracle: seed %llu (set KS_TEST_SEED to change)\n",
                (unsigned long long)seed);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  ks_orc_init(&orc, &wo.tok);
  uint64_t total_matches = 0, phrase_matches = 0;
  for (int round = 0; round < ROUNDS; round++) {
    ks_rng_seed(&rng, seed, (uint64_t)round);
    one_round(round, &total_matches, &phrase_matches);
  }
  ks_orc_free(&orc);
  print_message("bm25 oracle: %d rounds, %llu matching documents compared, "
                "%llu queries with a matching phrase clause\n",
                ROUNDS, (unsigned long long)total_matches,
                (unsigned long long)phrase_matches);
  /* the comparison must not be vacuous */
  assert_true(total_matches > 1000);
  assert_true(phrase_matches > 10);
}

/* Identical documents tie: the lower internal number ranks first. */
static void test_ties_by_doc_number(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("bm25_ties");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, NULL), KS_OK);
  for (int i = 0; i < 40; i++) {
    char id[16];
    snprintf(id, sizeof id, "t%02d", i);
    const char *text = "대통령은 보스턴에서 연설했다";
    ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
    assert_int_equal(ks_index_writer_add(w, &d, NULL), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
  ks_index_writer_close(w);
  ks_index *ix = NULL;
  assert_int_equal(ks_index_open(dir, &ix, NULL), KS_OK);
  ks_search_opts o;
  ks_search_opts_default(&o);
  for (uint32_t k = 1; k <= 40; k += 13) {
    o.k = k;
    ks_index_results *r = NULL;
    assert_int_equal(ks_index_search(ix, "대통령", SIZE_MAX, &o, &r, NULL), KS_OK);
    assert_int_equal(ks_index_results_count(r), k);
    assert_int_equal(ks_index_results_matches(r), 40);
    for (size_t i = 0; i < ks_index_results_count(r); i++) {
      ks_index_hit h;
      assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
      assert_int_equal(h.doc, i); /* all scores equal: docs 0, 1, 2, ... */
    }
    ks_index_results_free(r);
  }
  ks_index_close(ix);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_corpora),
      cmocka_unit_test(test_ties_by_doc_number),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
