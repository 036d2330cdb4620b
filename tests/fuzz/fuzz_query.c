/*
 * fuzz_query.c - libFuzzer target: the query parser, planning and search
 * (kosearch/db.h) on a small fixed index built once in a scratch directory
 * (LLVMFuzzerInitialize: 60 short Korean and Latin documents in three
 * segments, some deleted). Input: byte 0 picks k and the ranking, byte 1
 * the offset, the rest is the query. The query runs with every top-k
 * algorithm; all must return the same code, and on success the same hits
 * (ids, order, scores within 1e-9 relative); then the hits' stored JSON
 * and snippets are fetched.
 */
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "kosearch/db.h"
#include "kosearch/results.h"

static ks_db *db;

static const char *const words[] = {
    "대통령은", "대통령이", "경제",   "산업",    "첨단산업은", "마스터", "클러스터",
    "스터디",   "사과를",   "나무",   "모임에서", "서울",      "한국어", "검색",
    "엔진을",   "데이터",   "색인",   "kosearch", "Search",    "engine", "2024년",
    "3개",      "학교에",   "갔다",   "사과",     "나무는"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  enum { N = 60 };
  static char ids[N][8], texts[N][300];
  fz_doc docs[N];
  uint32_t x = 777;
  size_t nw = sizeof words / sizeof *words;
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "q%02d", i);
    size_t len = 0;
    int n = 3 + i % 11;
    for (int k = 0; k < n; k++) {
      x = x * 1103515245u + 12345u;
      len += (size_t)snprintf(texts[i] + len, sizeof texts[i] - len, "%s%s", k ? " " : "",
                              words[(x >> 16) % nw]);
    }
    docs[i].id = ids[i];
    docs[i].title = i % 4 == 0 ? "검색 엔진" : NULL;
    docs[i].json = NULL;
    docs[i].text = texts[i];
  }
  size_t cuts[] = {20, 40};
  const char *del[] = {"q03", "q25", "q41"};
  char *dir = fz_tmpdir("query");
  if (fz_build(dir, docs, N, cuts, 2, del, 3, 1) != KS_OK) fz_fail("cannot build the index");
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fz_fail("ks_db_open: %s", e.msg);
  return 0;
}

static int same_score(double a, double b) {
  return a == b || fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  static const uint32_t ks[] = {0, 1, 2, 3, 5, 10, 20, 100};
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = ks[data[0] & 7];
  o.ranking = (data[0] >> 3) & 1 ? KS_RANK_BM25_XAPIAN : KS_RANK_BM25;
  if ((data[0] >> 4) & 1) o.bigram_weight = 0.5;
  o.offset = data[1] & 15;
  const char *q = (const char *)data + 2;
  size_t qlen = size - 2;
  static const int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  ks_results *r[3] = {NULL, NULL, NULL};
  int rc[3];
  for (int a = 0; a < 3; a++) {
    ks_err e;
    o.algorithm = algos[a];
    rc[a] = ks_db_search(db, q, qlen, &o, &r[a], &e);
    if (rc[a] != KS_OK && rc[a] != KS_EQUERY)
      fz_fail("algorithm %d: ks_db_search returned %d (%s)", algos[a], rc[a], e.msg);
    if (rc[a] != rc[0]) fz_fail("algorithm %d returned %d, exhaustive %d", algos[a], rc[a], rc[0]);
  }
  if (rc[0] == KS_OK) {
    size_t n = ks_results_count(r[0]);
    if (n > o.k) fz_fail("%zu hits for k = %u", n, o.k);
    for (int a = 1; a < 3; a++) {
      if (ks_results_count(r[a]) != n)
        fz_fail("algorithm %d: %zu hits, exhaustive %zu", algos[a], ks_results_count(r[a]), n);
      if (ks_results_matches(r[a]) > ks_results_matches(r[0]) ||
          (ks_results_matches_exact(r[a]) && ks_results_matches(r[a]) != ks_results_matches(r[0])))
        fz_fail("algorithm %d: %llu matches (exact %d), exhaustive %llu", algos[a],
                (unsigned long long)ks_results_matches(r[a]), ks_results_matches_exact(r[a]),
                (unsigned long long)ks_results_matches(r[0]));
      for (size_t i = 0; i < n; i++) {
        ks_hit h, h0;
        if (ks_results_hit(r[a], i, &h) || ks_results_hit(r[0], i, &h0)) fz_fail("hit %zu", i);
        if (h.id_len != h0.id_len || memcmp(h.id, h0.id, h.id_len) != 0 ||
            !same_score(h.score, h0.score) || h.rank != o.offset + i + 1)
          fz_fail("algorithm %d: hit %zu is %.*s %.17g, exhaustive %.*s %.17g", algos[a], i,
                  (int)h.id_len, h.id, h.score, (int)h0.id_len, h0.id, h0.score);
      }
    }
    for (size_t i = 0; i < n && i < 3; i++) {
      ks_err e;
      char *out = NULL;
      if (ks_results_json(r[0], i, &out, NULL, &e) != KS_OK) fz_fail("json: %s", e.msg);
      ks_mem_free(out);
      out = NULL;
      if (ks_results_snippet(r[0], i, 60, "[", "]", &out, &e) != KS_OK)
        fz_fail("snippet: %s", e.msg);
      ks_mem_free(out);
    }
  }
  for (int a = 0; a < 3; a++) ks_results_free(r[a]);
  return 0;
}
