/*
 * test_live_oracle.c - the live index (issue 11) against a brute-force
 * model: seeded random sequences of writer operations, checked after every
 * commit.
 *
 * Operations (public API, kosearch/writer.h and kosearch/db.h): add a new
 * id, upsert a live id, delete a live id, delete an id that is not live
 * (KS_NOTFOUND), commit, ks_writer_merge with a random maximum, close the
 * writer (committing first, or abandoning its uncommitted changes) and
 * open a new one (threads 1 or 2, the minimum memory budget), reopen the
 * reader (ks_db_reopen), and now and then merge to one segment and compare
 * the index with a fresh KS_WRITER_REPLACE build of the same live
 * documents in the same order.
 *
 * The model is the list of every document version added, in order, with
 * a live flag for the writer's pending state and one for the last commit;
 * the live documents in version order are the index's internal order
 * (upserted documents move to the end, merges are of adjacent segments).
 * After every commit (check_reader):
 *   - ks_db_get_stats counts exactly the live documents, and the writer's
 *     docs_live agrees;
 *   - ks_db_get of every id ever used returns the latest JSON of a live id
 *     (byte for byte) and KS_NOTFOUND for every other;
 *   - random queries (ks_oracle.h) return, for every algorithm and several
 *     k, the oracle's top k: same count, scores within 1e-9 relative rank
 *     by rank, every hit a live document with its own oracle score, every
 *     oracle document clearly above the last hit returned, exact ties in
 *     internal (model) order, exact match counts where claimed;
 *   - readers opened at earlier commits (kept open across later commits,
 *     merges and writer sessions) still answer from their own snapshot:
 *     the same checks against the model as it was then, and saved results
 *     unchanged bit for bit;
 *   - ks_db_reopen returns NULL exactly when no commit was published since
 *     the reader's.
 * The fresh-build comparison (fresh_compare) requires the term files
 * (.tid, .doc, .pos, .len) of the fully merged index to be byte-identical
 * to the fresh build's, and the stored documents to be equal at every
 * internal number (id and JSON). The .sto files themselves usually differ:
 * a merge copies the compressed blocks of an input without deletions as
 * they are (indexer/merge.c, copy_blocks), so block boundaries follow the
 * inputs' flushes; the run prints how often they were identical.
 *
 * Environment: KS_TEST_SEED=<seed> runs that seed only (failures print
 * it); KS_LIVE_SEEDS (default 6) seeds from the default one; KS_LIVE_OPS
 * (default 700) operations per seed; KS_LIVE_BIG=<ids> a pool of that many
 * ids (e.g. 20000 with KS_LIVE_OPS=60000: segments of 10,000 live documents
 * and more, so merge levels above 0; ids are then checked by a sample);
 * KS_TEST_VERBOSE=1 prints progress.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "document.h"
#include "index.h"
#include "kosearch.h"
#include "ks_oracle.h"
#include "ks_test_util.h"
#include "manifest_int.h"

#define REL_TOL 1e-9
#define MAX_READERS 4
#define SAVED_QUERIES 3

/* ---- failure reporting -------------------------------------------------------- */

static uint64_t seed;
static int opno;
static char context[2048];

static void failf(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  print_message("FAILED with KS_TEST_SEED=%llu at operation %d\n%s\n%s\n",
                (unsigned long long)seed, opno, context, msg);
  fail_msg("%s", msg);
}

/* ---- the model ------------------------------------------------------------------ */

typedef struct model {
  ks_orc_doc *docs;        /* every version added, in order */
  char **json;             /* its stored JSON */
  int *idx;                /* its id's index in the pool */
  unsigned char *live;     /* live in the writer's state */
  unsigned char *clive;    /* live at the last commit */
  int n, cap;
  int npool;               /* ids "d0" .. "d<npool - 1>" */
  int *cur, *ccur;         /* id index -> live version (pending, committed), -1 */
  int ncur, nccur;         /* live counts */
  uint64_t version;        /* the "v" of the next JSON */
} model;

static ks_orc orc;
static ks_rng rng;
static int rnd(int n) { return ks_rng_below(&rng, n); }
static int filler; /* per seed: up to this many extra words in half the documents */

static void model_init(model *m, int npool) {
  memset(m, 0, sizeof *m);
  m->npool = npool;
  m->cur = malloc((size_t)npool * sizeof *m->cur);
  m->ccur = malloc((size_t)npool * sizeof *m->ccur);
  assert_non_null(m->cur);
  assert_non_null(m->ccur);
  for (int i = 0; i < npool; i++) m->cur[i] = m->ccur[i] = -1;
}

static void model_free(model *m) {
  for (int i = 0; i < m->n; i++) {
    ks_orc_doc_free(&m->docs[i]);
    free(m->json[i]);
  }
  free(m->docs);
  free(m->json);
  free(m->idx);
  free(m->live);
  free(m->clive);
  free(m->cur);
  free(m->ccur);
  memset(m, 0, sizeof *m);
}

/* A new version of id index `ix` (not yet live anywhere). */
static int model_new_version(model *m, int ix) {
  if (m->n == m->cap) {
    m->cap = m->cap ? 2 * m->cap : 256;
    m->docs = realloc(m->docs, (size_t)m->cap * sizeof *m->docs);
    m->json = realloc(m->json, (size_t)m->cap * sizeof *m->json);
    m->idx = realloc(m->idx, (size_t)m->cap * sizeof *m->idx);
    m->live = realloc(m->live, (size_t)m->cap);
    m->clive = realloc(m->clive, (size_t)m->cap);
    assert_true(m->docs && m->json && m->idx && m->live && m->clive);
  }
  int v = m->n++;
  ks_orc_doc *d = &m->docs[v];
  memset(d, 0, sizeof *d);
  snprintf(d->id, sizeof d->id, "d%d", ix);
  ks_orc_random_doc(&rng, d);
  if (filler && rnd(2)) { /* bigger documents: segments flushed within a session */
    int n = 1 + rnd(filler);
    size_t len = strlen(d->text);
    d->text = realloc(d->text, len + (size_t)n * 8 + 1);
    assert_non_null(d->text);
    for (int i = 0; i < n; i++) len += (size_t)sprintf(d->text + len, " w%d", rnd(3000));
  }
  ks_orc_analyze_doc(&orc, d);
  m->idx[v] = ix;
  m->live[v] = m->clive[v] = 0;
  m->json[v] = NULL;
  return v;
}

/* The JSON the index stores for version v: our own (with a version
 * number), or, when `own` is 0, the writer's default. */
static void model_set_json(model *m, int v, int own) {
  ks_orc_doc *d = &m->docs[v];
  size_t cap = strlen(d->text) * 2 + (d->title ? strlen(d->title) * 2 : 0) + 256;
  char *js = malloc(cap);
  assert_non_null(js);
  if (own) {
    size_t len = (size_t)snprintf(js, cap, "{\"id\":\"%s\",", d->id);
    if (d->title) {
      len += (size_t)snprintf(js + len, cap - len, "\"title\":");
      len = ks_orc_json_string(js, len, cap, d->title);
      js[len++] = ',';
    }
    len += (size_t)snprintf(js + len, cap - len, "\"text\":");
    len = ks_orc_json_string(js, len, cap, d->text);
    assert_true(len < cap);
    snprintf(js + len, cap - len, ",\"v\":%llu}", (unsigned long long)m->version++);
  } else {
    ks_doc kd;
    memset(&kd, 0, sizeof kd);
    kd.id = d->id;
    kd.id_len = strlen(d->id);
    kd.title = d->title;
    kd.title_len = d->title ? strlen(d->title) : 0;
    kd.text = d->text;
    kd.text_len = strlen(d->text);
    char *def = NULL;
    assert_int_equal(ks_doc_default_json(&kd, &def, NULL, NULL), KS_OK);
    free(js);
    js = strdup(def);
    ks_mem_free(def);
    assert_non_null(js);
  }
  m->json[v] = js;
}

/* ---- readers --------------------------------------------------------------------- */

typedef struct saved_hit {
  char id[64];
  double score;
} saved_hit;

typedef struct saved_query {
  char q[1200];
  ks_search_opts o;
  size_t n;
  saved_hit hits[10];
  uint64_t matches;
} saved_query;

typedef struct reader {
  ks_db *db;
  unsigned char *snap;     /* clive when it was opened */
  int *scur;               /* ccur when it was opened */
  int nsnap;
  int nlive;
  uint64_t gen;            /* its commit */
  saved_query saved[SAVED_QUERIES];
  int nsaved;
} reader;

static void reader_free(reader *r) {
  ks_db_close(r->db);
  free(r->snap);
  free(r->scur);
  memset(r, 0, sizeof *r);
}

static uint64_t db_generation(ks_db *db) {
  ks_db_stats st;
  ks_err e;
  if (ks_db_get_stats(db, &st, &e) != KS_OK) failf("ks_db_get_stats: %s", e.msg);
  return st.generation;
}

static uint64_t manifest_generation(const char *dir) {
  ks_manifest mf;
  ks_err e;
  int rc = ks_manifest_read(dir, &mf, &e);
  if (rc == KS_NOTFOUND) return 0;
  if (rc != KS_OK) failf("ks_manifest_read: %s", e.msg);
  uint64_t g = mf.generation;
  ks_manifest_free(&mf);
  return g;
}

/* Make r a reader of the model's last commit on db (taken over). */
static void reader_take(reader *r, ks_db *db, const model *m) {
  memset(r, 0, sizeof *r);
  r->db = db;
  r->nsnap = m->n;
  r->snap = malloc((size_t)(m->n ? m->n : 1));
  r->scur = malloc((size_t)m->npool * sizeof *r->scur);
  assert_non_null(r->snap);
  assert_non_null(r->scur);
  if (m->n) memcpy(r->snap, m->clive, (size_t)m->n);
  memcpy(r->scur, m->ccur, (size_t)m->npool * sizeof *r->scur);
  r->nlive = m->nccur;
  r->gen = db_generation(db);
}

/* ---- comparing one search with the oracle ------------------------------------------- */

static const char *algo_name(int a) {
  return a == KS_ALGO_EXHAUSTIVE ? "exhaustive" : a == KS_ALGO_BMW ? "bmw" : "maxscore";
}

/* The version a hit's id names in a snapshot (scur), or -1. */
static int hit_version(const int *scur, int npool, const char *id, size_t len) {
  if (len < 2 || len > 12 || id[0] != 'd') return -1;
  char buf[16];
  memcpy(buf, id + 1, len - 1);
  buf[len - 1] = 0;
  char *end;
  long ix = strtol(buf, &end, 10);
  if (*end || ix < 0 || ix >= npool) return -1;
  return scur[ix];
}

static void compare_search(const char *what, ks_db *db, const model *m, const int *scur,
                           const char *q, const ks_search_opts *o,
                           const ks_orc_scored *want, int nwant, int check_json) {
  ks_results *r = NULL;
  ks_err e;
  int rc = ks_db_search(db, q, SIZE_MAX, o, &r, &e);
  if (rc != KS_OK) failf("%s: search [%s] rc=%d: %s", what, q, rc, e.msg);
  uint32_t k = o->k;
  const char *an = algo_name(o->algorithm);
  uint64_t matches = ks_results_matches(r);
  int exact = ks_results_matches_exact(r);
  if (o->algorithm == KS_ALGO_EXHAUSTIVE && !exact)
    failf("%s: [%s] %s k=%u: exhaustive count not exact", what, q, an, k);
  if (exact ? matches != (uint64_t)nwant : matches > (uint64_t)nwant)
    failf("%s: [%s] %s k=%u: engine matches %llu (%s), oracle %d", what, q, an, k,
          (unsigned long long)matches, exact ? "exact" : "lower bound", nwant);
  size_t n = ks_results_count(r);
  size_t expect = (size_t)nwant < k ? (size_t)nwant : k;
  if (n != expect)
    failf("%s: [%s] %s k=%u: engine returned %zu hits, oracle %zu", what, q, an, k, n, expect);
  int *seen = calloc((size_t)(m->n ? m->n : 1), sizeof *seen);
  assert_non_null(seen);
  double prev_score = 0;
  int prev_v = -1;
  for (size_t i = 0; i < n; i++) {
    ks_hit h;
    assert_int_equal(ks_results_hit(r, i, &h), KS_OK);
    int v = hit_version(scur, m->npool, h.id, h.id_len);
    if (v < 0)
      failf("%s: [%s] %s k=%u hit %zu: id %.*s is not a live document of the snapshot "
            "(deleted or never added)", what, q, an, k, i, (int)h.id_len, h.id);
    if (seen[v]++) failf("%s: [%s] %s k=%u: %s returned twice", what, q, an, k, m->docs[v].id);
    if (!ks_orc_close(h.score, want[i].score, REL_TOL))
      failf("%s: [%s] %s k=%u rank %zu: engine score %.17g, oracle's %zu-th best %.17g",
            what, q, an, k, i, h.score, i, want[i].score);
    int j = 0;
    while (j < nwant && want[j].doc != v) j++;
    if (j == nwant)
      failf("%s: [%s] %s k=%u: engine returned %s (version %d), which the oracle does "
            "not match", what, q, an, k, m->docs[v].id, v);
    if (!ks_orc_close(h.score, want[j].score, REL_TOL))
      failf("%s: [%s] %s k=%u: %s engine score %.17g, oracle %.17g", what, q, an, k,
            m->docs[v].id, h.score, want[j].score);
    if (i > 0 && (h.score > prev_score || (h.score == prev_score && v < prev_v)))
      failf("%s: [%s] %s k=%u: hits %zu and %zu out of order (scores %.17g %.17g, "
            "versions %d %d: ties go to the earlier live document)", what, q, an, k, i - 1,
            i, prev_score, h.score, prev_v, v);
    prev_score = h.score;
    prev_v = v;
    if (check_json && i < 2) {
      char *js = NULL;
      size_t jl = 0;
      rc = ks_results_json(r, i, &js, &jl, &e);
      if (rc != KS_OK) failf("%s: results_json rc=%d %s", what, rc, e.msg);
      if (jl != strlen(m->json[v]) || memcmp(js, m->json[v], jl))
        failf("%s: hit %s: stored JSON %s, expected %s", what, m->docs[v].id, js, m->json[v]);
      ks_mem_free(js);
    }
  }
  if (n > 0 && n == k) {
    for (int j = 0; j < nwant; j++)
      if (want[j].score > prev_score && !ks_orc_close(want[j].score, prev_score, REL_TOL) &&
          !seen[want[j].doc])
        failf("%s: [%s] %s k=%u: oracle document %s (score %.17g) missing; last engine "
              "score %.17g", what, q, an, k, m->docs[want[j].doc].id, want[j].score,
              prev_score);
  }
  free(seen);
  ks_results_free(r);
}

/* A random query with random options, its oracle answer over `live`. */
static int random_query(const model *m, const unsigned char *live, ks_orc_clause *cl,
                        char *q, size_t qcap, ks_orc_params *p, ks_orc_scored *want) {
  int ncl = ks_orc_make_query(&rng, m->docs, m->n, cl, q, qcap);
  p->k1 = KS_DEFAULT_K1;
  p->b = KS_DEFAULT_B;
  p->bw = KS_DEFAULT_BIGRAM_WEIGHT;
  if (rnd(3) == 0) {
    static const double k1s[] = {0.0, 0.5, 1.2, 2.0}, bs[] = {0.0, 0.3, 0.75, 1.0},
                        bws[] = {0.0, 0.3, 1.0, 0.5};
    p->k1 = k1s[rnd(4)];
    p->b = bs[rnd(4)];
    p->bw = bws[rnd(4)];
  }
  for (int c = 0; c < ncl; c++) ks_orc_analyze_clause(&orc, &cl[c]);
  return ks_orc_run(&orc, m->docs, m->n, live, cl, ncl, p, want);
}

/* Run `nq` random queries on db (every algorithm, several k) against the
 * oracle over the snapshot (live[], scur[]). */
static void check_queries(const char *what, ks_db *db, const model *m,
                          const unsigned char *live, const int *scur, int nq,
                          uint64_t *compared) {
  ks_orc_scored *want = calloc((size_t)(m->n ? m->n : 1), sizeof *want);
  assert_non_null(want);
  static const uint32_t ks[] = {1, 4, 10, 1000};
  static const int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  for (int qn = 0; qn < nq; qn++) {
    ks_orc_clause cl[4];
    char q[1200];
    ks_orc_params p;
    int nwant = random_query(m, live, cl, q, sizeof q, &p, want);
    *compared += (uint64_t)nwant;
    for (size_t a = 0; a < 3; a++)
      for (size_t ki = 0; ki < 4; ki++) {
        ks_search_opts o;
        ks_search_opts_default(&o);
        o.k = ks[ki];
        o.k1 = p.k1;
        o.b = p.b;
        o.bigram_weight = p.bw;
        o.algorithm = algos[a];
        char w[256];
        snprintf(w, sizeof w, "%s (k1=%g b=%g bw=%g)", what, p.k1, p.b, p.bw);
        compare_search(w, db, m, scur, q, &o, want, nwant, ki == 2 && a == 0);
      }
  }
  free(want);
}

/* Save a few results of r (right after it opened) to compare later. */
static void save_queries(reader *r, const model *m) {
  r->nsaved = SAVED_QUERIES;
  for (int s = 0; s < SAVED_QUERIES; s++) {
    saved_query *sq = &r->saved[s];
    ks_orc_clause cl[4];
    ks_orc_make_query(&rng, m->docs, m->n, cl, sq->q, sizeof sq->q);
    ks_search_opts_default(&sq->o);
    sq->o.k = 10;
    sq->o.algorithm = rnd(3);
    ks_results *res = NULL;
    ks_err e;
    if (ks_db_search(r->db, sq->q, SIZE_MAX, &sq->o, &res, &e) != KS_OK)
      failf("save_queries: %s", e.msg);
    sq->n = ks_results_count(res);
    sq->matches = ks_results_matches(res);
    for (size_t i = 0; i < sq->n; i++) {
      ks_hit h;
      ks_results_hit(res, i, &h);
      snprintf(sq->hits[i].id, sizeof sq->hits[i].id, "%.*s", (int)h.id_len, h.id);
      sq->hits[i].score = h.score;
    }
    ks_results_free(res);
  }
}

static void check_saved(const reader *r) {
  for (int s = 0; s < r->nsaved; s++) {
    const saved_query *sq = &r->saved[s];
    ks_results *res = NULL;
    ks_err e;
    if (ks_db_search(r->db, sq->q, SIZE_MAX, &sq->o, &res, &e) != KS_OK)
      failf("old reader (generation %llu): search [%s] failed: %s",
            (unsigned long long)r->gen, sq->q, e.msg);
    if (ks_results_count(res) != sq->n || ks_results_matches(res) != sq->matches)
      failf("old reader (generation %llu): [%s] now %zu hits (%llu matches), %zu (%llu) "
            "when it opened", (unsigned long long)r->gen, sq->q, ks_results_count(res),
            (unsigned long long)ks_results_matches(res), sq->n,
            (unsigned long long)sq->matches);
    for (size_t i = 0; i < sq->n; i++) {
      ks_hit h;
      ks_results_hit(res, i, &h);
      if (h.id_len != strlen(sq->hits[i].id) || memcmp(h.id, sq->hits[i].id, h.id_len) ||
          h.score != sq->hits[i].score)
        failf("old reader (generation %llu): [%s] hit %zu is now %.*s %.17g, was %s %.17g",
              (unsigned long long)r->gen, sq->q, i, (int)h.id_len, h.id, h.score,
              sq->hits[i].id, sq->hits[i].score);
    }
    ks_results_free(res);
  }
}

/* Every check of one reader against its snapshot. */
static void check_reader(const char *what, reader *r, const model *m, int nq,
                         uint64_t *compared) {
  unsigned char *live = calloc((size_t)(m->n ? m->n : 1), 1);
  assert_non_null(live);
  memcpy(live, r->snap, (size_t)r->nsnap);
  ks_db_stats st;
  ks_err e;
  if (ks_db_get_stats(r->db, &st, &e) != KS_OK) failf("%s: stats: %s", what, e.msg);
  if (st.docs != (uint64_t)r->nlive)
    failf("%s: the index has %llu live documents, the model %d", what,
          (unsigned long long)st.docs, r->nlive);
  if (st.generation != r->gen)
    failf("%s: generation %llu, opened at %llu", what, (unsigned long long)st.generation,
          (unsigned long long)r->gen);
  /* every id ever used: its latest JSON, or not found (a sample of 500 in
   * big runs: ks_db_get scans the ids) */
  int sample = m->npool > 2000;
  for (int k = 0; k < (sample ? 500 : m->npool); k++) {
    int ix = sample ? rnd(m->npool) : k;
    char id[32];
    snprintf(id, sizeof id, "d%d", ix);
    char *js = NULL;
    size_t jl = 0;
    int rc = ks_db_get(r->db, id, strlen(id), &js, &jl, &e);
    int v = r->scur[ix];
    if (v < 0 && rc != KS_NOTFOUND)
      failf("%s: get(%s) rc=%d (%s), but it is not live (deleted or never added)", what, id,
            rc, rc == KS_OK ? js : e.msg);
    if (v >= 0 && rc != KS_OK)
      failf("%s: get(%s) rc=%d (%s): a committed document is lost", what, id, rc, e.msg);
    if (v >= 0 && (jl != strlen(m->json[v]) || memcmp(js, m->json[v], jl)))
      failf("%s: get(%s) returned %s, the latest version is %s", what, id, js, m->json[v]);
    ks_mem_free(js);
  }
  check_queries(what, r->db, m, live, r->scur, nq, compared);
  check_saved(r);
  free(live);
}

/* ---- the fresh-build comparison ------------------------------------------------------ */

static void compare_file(const char *a, const char *b, const char *what) {
  size_t la = 0, lb = 0;
  char *x = ks_test_read_file(a, &la), *y = ks_test_read_file(b, &lb);
  if (!x || !y) failf("fresh build: cannot read %s or %s", a, b);
  if (la != lb || memcmp(x, y, la)) {
    size_t i = 0;
    while (i < la && i < lb && x[i] == y[i]) i++;
    failf("fresh build: %s differs (%zu vs %zu bytes, first difference at byte %zu): %s vs %s",
          what, la, lb, i, a, b);
  }
  free(x);
  free(y);
}

static int sto_same, sto_differ; /* fresh-build comparisons of .sto files */

/* After ks_writer_merge(w, 1) and a commit of `dir`: build the committed
 * live documents afresh (KS_WRITER_REPLACE, same order) and compare. */
static void fresh_compare(const char *dir, const model *m, int *compared) {
  char fdir[4200];
  snprintf(fdir, sizeof fdir, "%s.fresh", dir);
  ks_test_system("rm -rf '%s'", fdir);
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.mode = KS_WRITER_REPLACE;
  wo.fsync = 0;
  wo.mem_budget = 1 << 20;
  wo.threads = 1 + rnd(2);
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(fdir, &wo, &w, &e) != KS_OK) failf("fresh open: %s", e.msg);
  for (int v = 0; v < m->n; v++) {
    if (!m->clive[v]) continue;
    const ks_orc_doc *d = &m->docs[v];
    ks_doc kd = {.id = d->id, .id_len = strlen(d->id), .title = d->title,
                 .title_len = d->title ? strlen(d->title) : 0, .text = d->text,
                 .text_len = strlen(d->text), .json = m->json[v],
                 .json_len = strlen(m->json[v])};
    if (ks_writer_add(w, &kd, &e) != KS_OK) failf("fresh add: %s", e.msg);
  }
  if (ks_writer_commit(w, &e) != KS_OK) failf("fresh commit: %s", e.msg);
  ks_writer_close(w);
  ks_manifest a, b;
  if (ks_manifest_read(dir, &a, &e) != KS_OK) failf("manifest: %s", e.msg);
  if (ks_manifest_read(fdir, &b, &e) != KS_OK) failf("fresh manifest: %s", e.msg);
  if (a.nsegs != b.nsegs || a.nsegs > 1)
    failf("fresh build: %u segments after ks_writer_merge(w, 1), the fresh build %u", a.nsegs,
          b.nsegs);
  if (a.nsegs == 1) {
    if (a.segs[0].ndeleted || a.segs[0].ndocs != b.segs[0].ndocs || b.segs[0].ndeleted)
      failf("fresh build: %u documents (%u deleted) after merging, fresh %u (%u)",
            a.segs[0].ndocs, a.segs[0].ndeleted, b.segs[0].ndocs, b.segs[0].ndeleted);
    static const char *ext[] = {"tid", "doc", "pos", "len"};
    for (int x = 0; x < 4; x++) {
      char pa[4300], pb[4300];
      snprintf(pa, sizeof pa, "%s/%06u.%s", dir, a.segs[0].segno, ext[x]);
      snprintf(pb, sizeof pb, "%s/%06u.%s", fdir, b.segs[0].segno, ext[x]);
      compare_file(pa, pb, ext[x]);
    }
    /* .sto: identical or not (block boundaries may differ, see above) */
    {
      char pa[4300], pb[4300];
      snprintf(pa, sizeof pa, "%s/%06u.sto", dir, a.segs[0].segno);
      snprintf(pb, sizeof pb, "%s/%06u.sto", fdir, b.segs[0].segno);
      size_t la = 0, lb = 0;
      char *x = ks_test_read_file(pa, &la), *y = ks_test_read_file(pb, &lb);
      if (x && y && la == lb && !memcmp(x, y, la)) sto_same++;
      else sto_differ++;
      free(x);
      free(y);
    }
    /* stored documents: the same ids and JSON at every internal number */
    ks_index *ia = NULL, *ib = NULL;
    if (ks_index_open(dir, &ia, &e) != KS_OK || ks_index_open(fdir, &ib, &e) != KS_OK)
      failf("fresh build: open: %s", e.msg);
    for (uint64_t doc = 0; doc < a.segs[0].ndocs; doc++) {
      const char *ida, *idb;
      size_t la, lb;
      char *ja = NULL, *jb = NULL;
      if (ks_index_doc_id(ia, doc, &ida, &la, &e) != KS_OK ||
          ks_index_doc_id(ib, doc, &idb, &lb, &e) != KS_OK ||
          ks_index_doc_json(ia, doc, &ja, NULL, &e) != KS_OK ||
          ks_index_doc_json(ib, doc, &jb, NULL, &e) != KS_OK)
        failf("fresh build: document %llu: %s", (unsigned long long)doc, e.msg);
      if (la != lb || memcmp(ida, idb, la) || strcmp(ja, jb))
        failf("fresh build: document %llu is %.*s %s, fresh %.*s %s",
              (unsigned long long)doc, (int)la, ida, ja, (int)lb, idb, jb);
      ks_mem_free(ja);
      ks_mem_free(jb);
    }
    ks_index_close(ia);
    ks_index_close(ib);
  }
  ks_manifest_free(&a);
  ks_manifest_free(&b);
  ks_test_system("rm -rf '%s'", fdir);
  (*compared)++;
}

/* ---- one seed -------------------------------------------------------------------------- */

typedef struct totals {
  uint64_t ops, commits, adds, upserts, deletes, missing, merges, reopens, sessions,
      abandoned, compared, fresh, old_checks, writer_merges, deleted_seen, replaces, rejected;
  uint32_t max_segments, max_seg_live;
  int fresh_n;
} totals;

static ks_writer *open_writer(const char *dir, int threads, int mode, ks_writer_opts *wo) {
  ks_writer_opts_default(wo);
  wo->fsync = rnd(8) == 0; /* mostly off: throwaway indexes */
  wo->mem_budget = 1 << 20;  /* the minimum */
  wo->threads = threads;
  wo->mode = mode;
  wo->merge = rnd(6) != 0;   /* now and then a writer that never merges by itself */
  ks_writer *w = NULL;
  ks_err e;
  if (ks_writer_open(dir, wo, &w, &e) != KS_OK) failf("ks_writer_open: %s", e.msg);
  return w;
}

static void add_version(ks_writer *w, model *m, int ix, totals *t) {
  int old = m->cur[ix];
  int v = model_new_version(m, ix);
  model_set_json(m, v, rnd(4) != 0);
  const ks_orc_doc *d = &m->docs[v];
  int own = strstr(m->json[v], "\"v\":") != NULL;
  ks_doc kd = {.id = d->id, .id_len = strlen(d->id), .title = d->title,
               .title_len = d->title ? strlen(d->title) : 0, .text = d->text,
               .text_len = strlen(d->text), .json = own ? m->json[v] : NULL,
               .json_len = own ? strlen(m->json[v]) : 0};
  ks_err e;
  int rc = ks_writer_add(w, &kd, &e);
  if (rc != KS_OK) failf("add(%s) rc=%d: %s", d->id, rc, e.msg);
  if (old >= 0) {
    m->live[old] = 0;
    t->upserts++;
  } else {
    m->ncur++;
    t->adds++;
  }
  m->live[v] = 1;
  m->cur[ix] = v;
}

static void model_commit(model *m) {
  if (m->n) memcpy(m->clive, m->live, (size_t)m->n);
  memcpy(m->ccur, m->cur, (size_t)m->npool * sizeof *m->cur);
  m->nccur = m->ncur;
}

static void model_abandon(model *m) {
  if (m->n) memcpy(m->live, m->clive, (size_t)m->n);
  memcpy(m->cur, m->ccur, (size_t)m->npool * sizeof *m->cur);
  m->ncur = m->nccur;
}

static void run_seed(uint64_t s, int nops, totals *t) {
  seed = s;
  ks_rng_seed(&rng, s, 0);
  char tag[64];
  snprintf(tag, sizeof tag, "live_oracle_%llu", (unsigned long long)s);
  const char *tmp = ks_test_tmpdir(tag);
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/idx", tmp);
  int npool = 10 + rnd(rnd(2) ? 60 : 400);
  int big = atoi(ks_test_env("KS_LIVE_BIG", "0")); /* big runs: merge levels above 0 */
  if (big > 0) npool = big;
  model m;
  model_init(&m, npool);
  /* per seed: how often the operations come */
  int w_commit = 3 + rnd(20), w_del = 5 + rnd(25), w_merge = 1 + rnd(3), nq = 4 + rnd(5);
  int A = 100; /* the weight of adds; the others' are absolute */
  if (big > 0) { /* long sessions, few checks */
    A = 3000;
    w_del *= 20;
  }
  int threads = 1 + rnd(2);
  ks_writer_opts wo;
  filler = rnd(2) ? 0 : 50 + rnd(350);
  ks_writer *w = open_writer(dir, threads, KS_WRITER_UPDATE, &wo);
  t->sessions++;
  reader cur;
  memset(&cur, 0, sizeof cur);
  reader old[MAX_READERS];
  int nold = 0;
  int have_commit = 0;
  snprintf(context, sizeof context, "seed %llu: %d ids, threads %d, filler %d",
           (unsigned long long)s, npool, threads, filler);
  for (opno = 0; opno < nops; opno++) {
    t->ops++;
    int r = rnd(A + w_commit + w_del + w_merge + 10);
    ks_err e;
    if (r < A && rnd(60) == 0) { /* a rejected document changes nothing */
      char id[16];
      snprintf(id, sizeof id, "d%d", rnd(npool));
      ks_doc bad = {.id = id, .id_len = strlen(id), .text = "", .text_len = 0};
      if (rnd(2)) { /* invalid UTF-8 */
        bad.text = "\xff\xfe 대통령";
        bad.text_len = strlen(bad.text);
      }
      int rc = ks_writer_add(w, &bad, &e);
      if (rc != KS_EINPUT && rc != KS_EUTF8) failf("a bad document: rc %d, expected a rejection", rc);
      t->rejected++;
    } else if (r < A) { /* add: new id or upsert */
      int ix = rnd(npool);
      add_version(w, &m, ix, t);
    } else if (r < A + w_del) { /* delete existing or missing */
      int ix = rnd(npool);
      char id[32];
      if (rnd(6) == 0) snprintf(id, sizeof id, "x%d", rnd(1000)); /* never used */
      else snprintf(id, sizeof id, "d%d", ix);
      int rc = ks_writer_delete(w, id, strlen(id), &e);
      int want = id[0] == 'd' && m.cur[ix] >= 0 ? KS_OK : KS_NOTFOUND;
      if (rc != want)
        failf("delete(%s) rc=%d (%s), expected %d", id, rc, rc ? e.msg : "ok", want);
      if (want == KS_OK) {
        m.live[m.cur[ix]] = 0;
        m.cur[ix] = -1;
        m.ncur--;
        t->deletes++;
      } else {
        t->missing++;
      }
    } else if (r < A + w_del + w_merge) { /* forced merge */
      uint32_t max = 1 + (uint32_t)rnd(rnd(2) ? 3 : 12);
      if (ks_writer_merge(w, max, &e) != KS_OK) failf("merge(%u): %s", max, e.msg);
      t->merges++;
      if (max == 1 && rnd(2)) { /* the fresh-build comparison */
        if (ks_writer_commit(w, &e) != KS_OK) failf("commit after merge: %s", e.msg);
        model_commit(&m);
        have_commit = 1;
        t->commits++;
        fresh_compare(dir, &m, &t->fresh_n);
      }
    } else if (r < A + w_del + w_merge + w_commit) { /* commit */
      if (ks_writer_commit(w, &e) != KS_OK) failf("commit: %s", e.msg);
      model_commit(&m);
      have_commit = 1;
      t->commits++;
      ks_writer_stats ws;
      ks_writer_get_stats(w, &ws);
      /* the reader: keep the old one now and then, move to the commit */
      ks_db *nd = NULL;
      if (cur.db) {
        if (ks_db_reopen(cur.db, &nd, &e) != KS_OK) failf("reopen: %s", e.msg);
        if (!nd) failf("reopen returned NULL after a commit");
        if (rnd(3) == 0) {
          if (nold == MAX_READERS) {
            reader_free(&old[0]);
            memmove(&old[0], &old[1], (MAX_READERS - 1) * sizeof *old);
            nold--;
          }
          old[nold++] = cur;
        } else {
          reader_free(&cur);
        }
      } else if (ks_db_open(dir, &nd, &e) != KS_OK) {
        failf("ks_db_open: %s", e.msg);
      }
      reader_take(&cur, nd, &m);
      if (cur.gen != ws.generation)
        failf("reader at generation %llu, the writer committed %llu",
              (unsigned long long)cur.gen, (unsigned long long)ws.generation);
      save_queries(&cur, &m);
      ks_db_stats ds;
      if (ks_db_get_stats(cur.db, &ds, &e) != KS_OK) failf("stats: %s", e.msg);
      if (ds.segments > t->max_segments) t->max_segments = ds.segments;
      ks_manifest mf;
      if (ks_manifest_read(dir, &mf, &e) == KS_OK) {
        for (uint32_t i = 0; i < mf.nsegs; i++)
          if (mf.segs[i].ndocs - mf.segs[i].ndeleted > t->max_seg_live)
            t->max_seg_live = mf.segs[i].ndocs - mf.segs[i].ndeleted;
        ks_manifest_free(&mf);
      }
      t->deleted_seen += ds.deleted;
      snprintf(context, sizeof context,
               "seed %llu: %d ids, threads %d, merge %d, mode %d, filler %d, commit %llu "
               "(generation %llu), %d live documents of %d versions", (unsigned long long)s,
               npool, wo.threads, wo.merge, wo.mode, filler,
               (unsigned long long)t->commits, (unsigned long long)cur.gen, m.nccur, m.n);
      check_reader("reader", &cur, &m, nq, &t->compared);
      /* after the index itself: the writer's own count */
      if (ws.docs_live != (uint64_t)m.nccur)
        failf("writer stats after the commit: %llu live documents, the index and the model "
              "%d", (unsigned long long)ws.docs_live, m.nccur);
      for (int i = 0; i < nold; i++) {
        char what[64];
        snprintf(what, sizeof what, "old reader of generation %llu",
                 (unsigned long long)old[i].gen);
        check_reader(what, &old[i], &m, 1, &t->compared);
        t->old_checks++;
      }
    } else if (r < A + w_del + w_merge + w_commit + 5) { /* reader reopen */
      if (!cur.db) continue;
      ks_db *nd = NULL;
      if (ks_db_reopen(cur.db, &nd, &e) != KS_OK) failf("reopen: %s", e.msg);
      uint64_t now = manifest_generation(dir);
      if ((nd == NULL) != (now == cur.gen))
        failf("ks_db_reopen returned %s at generation %llu, the index is at %llu",
              nd ? "a new handle" : "NULL", (unsigned long long)cur.gen,
              (unsigned long long)now);
      if (nd) {
        /* the writer published a merge at close: the same documents */
        reader_free(&cur);
        reader_take(&cur, nd, &m);
        check_reader("reopened reader", &cur, &m, 2, &t->compared);
      }
      t->reopens++;
    } else { /* close the writer and open another */
      if (big > 0 && rnd(10)) continue; /* big runs: long-lived writers */
      int commit_first = rnd(2);
      if (commit_first) {
        if (ks_writer_commit(w, &e) != KS_OK) failf("commit before close: %s", e.msg);
        model_commit(&m);
        have_commit = 1;
        t->commits++;
      } else {
        model_abandon(&m); /* uncommitted changes are discarded */
        t->abandoned++;
      }
      ks_writer_stats cs;
      ks_writer_get_stats(w, &cs);
      t->writer_merges += cs.merges;
      ks_writer_close(w);
      threads = 1 + rnd(2);
      int replace = rnd(5) == 0;
      w = open_writer(dir, threads, replace ? KS_WRITER_REPLACE : KS_WRITER_UPDATE, &wo);
      t->sessions++;
      if (replace) { /* the session starts from an empty index */
        if (m.n) memset(m.live, 0, (size_t)m.n);
        for (int i = 0; i < m.npool; i++) m.cur[i] = -1;
        m.ncur = 0;
        t->replaces++;
      }
      ks_writer_stats ws;
      ks_writer_get_stats(w, &ws);
      if (have_commit && !replace && ws.docs_live != (uint64_t)m.nccur)
        failf("reopened writer: %llu live documents, the model %d",
              (unsigned long long)ws.docs_live, m.nccur);
      if (have_commit) { /* the state a new reader sees */
        ks_db *nd = NULL;
        if (ks_db_open(dir, &nd, &e) != KS_OK) failf("open after close: %s", e.msg);
        reader fresh;
        reader_take(&fresh, nd, &m);
        check_reader("reader after writer close", &fresh, &m, 2, &t->compared);
        reader_free(&fresh);
      }
    }
  }
  /* finally: everything merged, compared with a fresh build */
  ks_err e;
  if (ks_writer_merge(w, 1, &e) != KS_OK) failf("final merge: %s", e.msg);
  if (ks_writer_commit(w, &e) != KS_OK) failf("final commit: %s", e.msg);
  model_commit(&m);
  t->commits++;
  fresh_compare(dir, &m, &t->fresh_n);
  ks_writer_stats cs;
  ks_writer_get_stats(w, &cs);
  t->writer_merges += cs.merges;
  ks_writer_close(w);
  ks_db *nd = NULL;
  if (ks_db_open(dir, &nd, &e) != KS_OK) failf("final open: %s", e.msg);
  reader fin;
  reader_take(&fin, nd, &m);
  check_reader("final reader", &fin, &m, nq, &t->compared);
  reader_free(&fin);
  for (int i = 0; i < nold; i++) {
    check_reader("old reader at the end", &old[i], &m, 1, &t->compared);
    reader_free(&old[i]);
  }
  reader_free(&cur);
  if (ks_db_check(dir, NULL, NULL, &e) != KS_OK) failf("ks_db_check: %s", e.msg);
  if (getenv("KS_TEST_VERBOSE"))
    print_message("seed %llu: %d ids, %d versions, %d live at the end\n",
                  (unsigned long long)s, npool, m.n, m.nccur);
  model_free(&m);
  ks_orc_reset_terms(&orc);
  ks_test_system("rm -rf '%s'", tmp);
}

static void test_random_operations(void **state) {
  (void)state;
  const char *env = getenv("KS_TEST_SEED");
  uint64_t base = env && *env ? strtoull(env, NULL, 10) : 20261208ull;
  int nseeds = env && *env ? 1 : atoi(ks_test_env("KS_LIVE_SEEDS", "6"));
  int nops = atoi(ks_test_env("KS_LIVE_OPS", "700"));
  print_message("live oracle: seeds %llu.. (%d; KS_TEST_SEED, KS_LIVE_SEEDS), %d operations "
                "each (KS_LIVE_OPS)\n", (unsigned long long)base, nseeds, nops);
  ks_orc_init(&orc, NULL);
  totals t;
  memset(&t, 0, sizeof t);
  for (int i = 0; i < nseeds; i++) run_seed(base + (uint64_t)i, nops, &t);
  ks_orc_free(&orc);
  print_message("live oracle: %llu operations: %llu adds, %llu upserts, %llu deletes, %llu "
                "deletes of missing ids, %llu commits, %llu forced merges, %llu reader "
                "reopens, %llu writer sessions (%llu abandoned, %llu KS_WRITER_REPLACE), %d fresh-build "
                "comparisons, %llu old-reader checks, %llu matching documents compared; "
                "%llu merges done by the writers (policy and forced), up to %u segments, "
                "the largest with %u live documents, %llu deleted documents on disk seen "
                "at commits\n",
                (unsigned long long)t.ops, (unsigned long long)t.adds,
                (unsigned long long)t.upserts, (unsigned long long)t.deletes,
                (unsigned long long)t.missing, (unsigned long long)t.commits,
                (unsigned long long)t.merges, (unsigned long long)t.reopens,
                (unsigned long long)t.sessions, (unsigned long long)t.abandoned,
                (unsigned long long)t.replaces, t.fresh_n,
                (unsigned long long)t.old_checks, (unsigned long long)t.compared,
                (unsigned long long)t.writer_merges, t.max_segments, t.max_seg_live,
                (unsigned long long)t.deleted_seen);
  print_message("live oracle: fresh builds: .sto byte-identical %d times, different %d times "
                "(allowed: block boundaries); %llu rejected documents\n", sto_same, sto_differ,
                (unsigned long long)t.rejected);
  assert_true(t.compared > 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_operations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
