/*
 * fuzz_differential.c - libFuzzer target: a random small corpus and query
 * from the input; every top-k algorithm must return what exhaustive
 * evaluation returns.
 *
 * Input layout (every byte is used modulo what it selects, so any input
 * is a valid test case):
 *   byte 0        ndocs = 1 + b % 12; bit 4: cut the corpus into two
 *                 segments; bits 5-6: delete 0..3 documents; bit 7: a
 *                 large corpus (below)
 *   per document  one byte: 1 + b % 10 words; then one byte per word, an
 *                 index into a 24-word Korean + Latin vocabulary whose
 *                 words share stems and syllable bigrams (마스터 / 클러스터
 *                 / 스터디, 사과 / 사과나무 ...)
 *   large corpus  one byte: 140 + 2 b documents in all; document j past
 *                 the ndocs above repeats document j % ndocs plus 0..2
 *                 vocabulary words drawn from a generator seeded by that
 *                 byte, so that postings lists span several 128-document
 *                 blocks and the block and window bounds of BMW and
 *                 MaxScore come into play
 *   deletions     one byte each: the document to delete
 *   the rest      the query: per byte a vocabulary word (b % 24) and an
 *                 operator (b / 24 % 5: plain, +, -, "phrase of this word
 *                 and the next", plain); at most 8 words
 * The corpus is indexed in a tmpfs directory (native writer, fsync off,
 * KS_WRITER_REPLACE over the previous input's index) and searched with
 * both rankings, k in {1, 2, 3, 10} and offset in {0, 2}: BMW and
 * MaxScore must give the exhaustive hits (documents and order; scores
 * within 1e-9 relative) and honest match counts, or the target aborts.
 */
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "index.h"

static const char *const vocab[] = {
    "마스터", "클러스터", "스터디",  "사과",     "사과를",   "사과나무", "나무",   "모임",
    "대통령", "대통령은", "대통령이", "경제",     "산업",     "첨단산업", "첨단",   "학교에",
    "apple",  "Apple",    "search", "engines",  "2024년",   "3개",      "서울",   "데이터를"};
#define NVOCAB (sizeof vocab / sizeof *vocab)

static char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  dir = fz_tmpdir("differential");
  return 0;
}

static int same_score(double a, double b) {
  return a == b || fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static void compare(ks_index *ix, const char *q, const ks_search_opts *base) {
  ks_err e;
  ks_search_opts o = *base;
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  ks_index_results *ref = NULL;
  int rc0 = ks_index_search(ix, q, SIZE_MAX, &o, &ref, &e);
  if (rc0 != KS_OK && rc0 != KS_EQUERY) fz_fail("exhaustive: %d (%s) for '%s'", rc0, e.msg, q);
  static const int algos[] = {KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  for (int a = 0; a < 2; a++) {
    o.algorithm = algos[a];
    ks_index_results *r = NULL;
    int rc = ks_index_search(ix, q, SIZE_MAX, &o, &r, &e);
    if (rc != rc0) fz_fail("algorithm %d returned %d, exhaustive %d for '%s'", algos[a], rc, rc0, q);
    if (rc) continue;
    size_t n = ks_index_results_count(r), n0 = ks_index_results_count(ref);
    if (n != n0)
      fz_fail("algorithm %d: %zu hits, exhaustive %zu ('%s', k %u, offset %u, ranking %d)",
              algos[a], n, n0, q, o.k, o.offset, o.ranking);
    for (size_t i = 0; i < n; i++) {
      ks_index_hit h, h0;
      ks_index_results_hit(r, i, &h);
      ks_index_results_hit(ref, i, &h0);
      if (h.doc != h0.doc || !same_score(h.score, h0.score))
        fz_fail("algorithm %d: hit %zu is doc %llu score %.17g, exhaustive doc %llu score "
                "%.17g ('%s', k %u, offset %u, ranking %d)", algos[a], i,
                (unsigned long long)h.doc, h.score, (unsigned long long)h0.doc, h0.score, q,
                o.k, o.offset, o.ranking);
    }
    uint64_t m = ks_index_results_matches(r), m0 = ks_index_results_matches(ref);
    if (m > m0 || (ks_index_results_matches_exact(r) && m != m0))
      fz_fail("algorithm %d: %llu matches (exact %d), exhaustive %llu ('%s')", algos[a],
              (unsigned long long)m, ks_index_results_matches_exact(r),
              (unsigned long long)m0, q);
    ks_index_results_free(r);
  }
  ks_index_results_free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *p = data, *end = data + size;
#define NEXT() (p < end ? *p++ : 0)
  if (size < 3) return 0;
  uint8_t head = NEXT();
  size_t ndocs = 1 + head % 12;
  enum { MAXDOCS = 140 + 2 * 255 };
  static char ids[MAXDOCS][8], texts[MAXDOCS][400];
  static fz_doc docs[MAXDOCS];
  for (size_t i = 0; i < ndocs; i++) {
    snprintf(ids[i], sizeof ids[i], "x%zu", i);
    size_t nwords = 1 + NEXT() % 10, len = 0;
    for (size_t w = 0; w < nwords; w++)
      len += (size_t)snprintf(texts[i] + len, sizeof texts[i] - len, "%s%s", w ? " " : "",
                              vocab[NEXT() % NVOCAB]);
    docs[i].id = ids[i];
    docs[i].title = NULL;
    docs[i].json = NULL;
    docs[i].text = texts[i];
  }
  if (head & 0x80) {
    uint8_t r = NEXT();
    size_t base = ndocs;
    uint32_t x = 2463534242u ^ r;
    for (ndocs = base; ndocs < 140 + 2 * (size_t)r; ndocs++) {
      snprintf(ids[ndocs], sizeof ids[ndocs], "x%zu", ndocs);
      size_t len = (size_t)snprintf(texts[ndocs], sizeof texts[ndocs], "%s",
                                    texts[ndocs % base]);
      for (uint32_t w = 0; w < ndocs % 3; w++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        len += (size_t)snprintf(texts[ndocs] + len, sizeof texts[ndocs] - len, " %s",
                                vocab[x % NVOCAB]);
      }
      docs[ndocs].id = ids[ndocs];
      docs[ndocs].title = NULL;
      docs[ndocs].text = texts[ndocs];
      docs[ndocs].json = NULL;
    }
  }
  size_t cut = ndocs / 2;
  size_t ndel = (head >> 5) & 3;
  const char *del[3];
  for (size_t i = 0; i < ndel; i++) del[i] = ids[NEXT() % ndocs];
  char q[512];
  size_t ql = 0;
  for (int w = 0; w < 8 && p < end; w++) {
    uint8_t b = NEXT();
    const char *word = vocab[b % NVOCAB];
    int op = b / NVOCAB % 5;
    int m;
    if (op == 3 && p < end)
      m = snprintf(q + ql, sizeof q - ql, "%s\"%s %s\"", ql ? " " : "", word,
                   vocab[NEXT() % NVOCAB]);
    else
      m = snprintf(q + ql, sizeof q - ql, "%s%s%s", ql ? " " : "",
                   op == 1 ? "+" : op == 2 ? "-" : "", word);
    if (m > 0 && (size_t)m < sizeof q - ql) ql += (size_t)m;
  }
  q[ql] = '\0';
#undef NEXT
  if (fz_build(dir, docs, ndocs, (head >> 4) & 1 && cut ? &cut : NULL, (head >> 4) & 1 && cut,
               del, ndel, 1) != KS_OK)
    fz_fail("cannot build the corpus");
  ks_index *ix = NULL;
  ks_err e;
  if (ks_index_open(dir, &ix, &e) != KS_OK) fz_fail("ks_index_open: %s", e.msg);
  static const uint32_t ks[] = {1, 2, 3, 10};
  static const int rankings[] = {KS_RANK_BM25, KS_RANK_BM25_XAPIAN};
  for (int r = 0; r < 2; r++)
    for (int k = 0; k < 4; k++)
      for (uint32_t off = 0; off <= 2; off += 2) {
        ks_search_opts o;
        ks_search_opts_default(&o);
        o.ranking = rankings[r];
        o.k = ks[k];
        o.offset = off;
        compare(ix, q, &o);
      }
  ks_index_close(ix);
  fz_remove_prefixed(dir, "LEASE.");
  return 0;
}
