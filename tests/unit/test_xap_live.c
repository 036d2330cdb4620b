/*
 * test_xap_live.c - the live Xapian index through the public API
 * (kosearch/writer.h, kosearch/db.h), on one database and on a 2-shard
 * layout: UPDATE writers create and continue an index; upserts, deletes
 * (found, not found, added and deleted before a commit, twice), rejected
 * documents, repeated commits, uncommitted changes invisible to readers
 * and dropped by ks_writer_close, ks_db_reopen (a new handle, NULL when
 * nothing changed, the old handle keeps its snapshot), REPLACE writers on
 * an existing index, the writer lock (KS_ELOCKED), writer statistics.
 *
 * test_replace_under_readers: readers opening the index while REPLACE
 * writers swap it in always find one whole version of it.
 *
 * test_torn_layout: the shards of a layout committed one by one (a commit
 * in progress, or a crash between two shard commits): a reader waits for
 * equal commit numbers, and a writer opening the layout repairs them.
 *
 * test_random_ops: a seeded random sequence of a few hundred operations
 * (add, upsert, delete a live id, delete a missing one, commit, reopen,
 * close without commit) checked after every commit against a model of
 * the live id -> document map (ks_db_get of every id, document count,
 * the matching ids of word searches). When the native backend implements
 * the live index (ks_writer_delete does not return KS_EUNSUPPORTED), the
 * same sequence also builds a native index, and after every commit both
 * must return the same hits in the same order (ties compared as sets)
 * with scores within 1e-9 relative (KS_RANK_BM25_XAPIAN, exhaustive);
 * the number of rankings compared is printed.
 * Until then (and also then), for one seed, the live Xapian index is
 * compared that way with a native index built from scratch from the live
 * documents after every commit: Xapian's statistics after upserts and
 * deletes must be those of the live documents alone.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kosearch.h"
#include "kosearch/xapian.h"
#include "ks_test_util.h"
#include "ks_xap.h"

/* ---- helpers ------------------------------------------------------------- */

static ks_writer *open_writer(const char *dir, const char *backend, int mode, uint32_t shards,
                              int expect) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  wo.backend = backend;
  wo.mode = mode;
  wo.shards = shards;
  wo.threads = 1;
  ks_writer *w = NULL;
  ks_err e;
  int rc = ks_writer_open(dir, &wo, &w, &e);
  if (rc != expect) fail_msg("writer_open %s: rc %d, expected %d: %s", dir, rc, expect, e.msg);
  return w;
}

static void add_doc(ks_writer *w, const char *id, const char *text) {
  char json[1024];
  snprintf(json, sizeof json, "{\"id\":\"%s\",\"text\":\"%s\"}", id, text);
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text),
              .json = json, .json_len = strlen(json)};
  ks_err e;
  if (ks_writer_add(w, &d, &e) != KS_OK) fail_msg("add %s: %s", id, e.msg);
}

static int del_doc(ks_writer *w, const char *id) {
  ks_err e;
  int rc = ks_writer_delete(w, id, strlen(id), &e);
  if (rc != KS_OK && rc != KS_NOTFOUND) fail_msg("delete %s: %d %s", id, rc, e.msg);
  return rc;
}

static void commit(ks_writer *w) {
  ks_err e;
  if (ks_writer_commit(w, &e) != KS_OK) fail_msg("commit: %s", e.msg);
}

static ks_db *open_db(const char *dir) {
  ks_db *db = NULL;
  ks_err e;
  if (ks_db_open(dir, &db, &e) != KS_OK) fail_msg("open %s: %s", dir, e.msg);
  return db;
}

/* Move *db to the latest commit; returns 1 if that was a new handle. */
static int reopen(ks_db **db) {
  ks_db *n = (ks_db *)1;
  ks_err e;
  if (ks_db_reopen(*db, &n, &e) != KS_OK) fail_msg("reopen: %s", e.msg);
  if (!n) return 0;
  ks_db_close(*db);
  *db = n;
  return 1;
}

static uint64_t ndocs(ks_db *db) {
  ks_db_stats st;
  ks_err e;
  if (ks_db_get_stats(db, &st, &e) != KS_OK) fail_msg("stats: %s", e.msg);
  return st.docs;
}

/* The text of `id` in db (static buffer), or NULL if it is not live. */
static const char *get_text(ks_db *db, const char *id) {
  static char buf[1024];
  char *json = NULL;
  ks_err e;
  int rc = ks_db_get(db, id, strlen(id), &json, NULL, &e);
  if (rc == KS_NOTFOUND) return NULL;
  if (rc != KS_OK) fail_msg("get %s: %s", id, e.msg);
  const char *t = strstr(json, "\"text\":\"");
  assert_non_null(t);
  t += 8;
  size_t n = strcspn(t, "\"");
  snprintf(buf, sizeof buf, "%.*s", (int)n, t);
  ks_mem_free(json);
  return buf;
}

/* The number of hits of `q` (all of them, exhaustive), and whether id is
 * among them. */
static size_t search_has(ks_db *db, const char *q, const char *id, int *has) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 1000;
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  ks_results *r = NULL;
  ks_err e;
  if (ks_db_search(db, q, SIZE_MAX, &o, &r, &e) != KS_OK) fail_msg("search %s: %s", q, e.msg);
  size_t n = ks_results_count(r);
  assert_int_equal(ks_results_matches(r), n);
  *has = 0;
  for (size_t i = 0; i < n; i++) {
    ks_hit h;
    assert_int_equal(ks_results_hit(r, i, &h), KS_OK);
    if (h.id_len == strlen(id) && memcmp(h.id, id, h.id_len) == 0) *has = 1;
  }
  ks_results_free(r);
  return n;
}

/* ---- the scripted test ------------------------------------------------------ */

static void live_basic(uint32_t shards) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/idx", ks_test_tmpdir(shards ? "xap_live_sh" : "xap_live_db"));
  ks_err e;
  ks_writer_stats ws;

  /* an UPDATE writer creates the index; nothing is visible before the
     first commit, and a second writer is locked out */
  ks_writer *w = open_writer(dir, "xapian", KS_WRITER_UPDATE, shards, KS_OK);
  add_doc(w, "d1", "apple banana");
  add_doc(w, "d2", "banana cherry");
  ks_db *db = NULL;
  assert_int_not_equal(ks_db_open(dir, &db, &e), KS_OK);
  assert_null(open_writer(dir, "xapian", KS_WRITER_UPDATE, shards, KS_ELOCKED));
  assert_null(open_writer(dir, "xapian", KS_WRITER_REPLACE, shards, KS_ELOCKED));
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.backend = "xapian";
  ks_writer *w2 = NULL;
  assert_int_equal(ks_writer_open(dir, &wo, &w2, &e), KS_ELOCKED);
  assert_null(w2);
  assert_non_null(strstr(e.msg, "another writer"));
  commit(w);
  ks_writer_get_stats(w, &ws);
  assert_int_equal(ws.docs_added, 2);
  assert_int_equal(ws.docs_live, 2);
  assert_int_equal(ws.segments, shards ? shards : 1);
  uint64_t gen = ws.generation;
  assert_true(gen > 0);
  db = open_db(dir);
  assert_int_equal(ndocs(db), 2);
  ks_db_stats dst;
  assert_int_equal(ks_db_get_stats(db, &dst, &e), KS_OK);
  assert_int_equal(dst.generation, gen);
  assert_int_equal(dst.shards, shards ? shards : 1);
  assert_int_equal(reopen(&db), 0); /* nothing changed */

  /* a new document, committed: the old handle keeps its snapshot */
  add_doc(w, "d3", "cherry date");
  assert_int_equal(reopen(&db), 0); /* not committed yet */
  commit(w);
  ks_writer_get_stats(w, &ws);
  assert_true(ws.generation > gen);
  ks_db *old = db;
  ks_db *fresh = NULL;
  assert_int_equal(ks_db_reopen(old, &fresh, &e), KS_OK);
  assert_non_null(fresh);
  assert_int_equal(ndocs(old), 2);
  assert_null(get_text(old, "d3"));
  assert_int_equal(ndocs(fresh), 3);
  assert_string_equal(get_text(fresh, "d3"), "cherry date");
  ks_db_close(old);
  db = fresh;

  /* upsert: the new version replaces the committed one */
  add_doc(w, "d1", "zebra banana");
  assert_string_equal(get_text(db, "d1"), "apple banana");
  commit(w);
  assert_int_equal(reopen(&db), 1);
  assert_string_equal(get_text(db, "d1"), "zebra banana");
  int has;
  assert_int_equal(search_has(db, "apple", "d1", &has), 0);
  assert_int_equal(search_has(db, "zebra", "d1", &has), 1);
  assert_true(has);
  assert_int_equal(search_has(db, "banana", "d1", &has), 2);
  assert_int_equal(ndocs(db), 3);
  ks_writer_get_stats(w, &ws);
  assert_int_equal(ws.docs_added, 4);
  assert_int_equal(ws.docs_replaced, 1);
  assert_int_equal(ws.docs_live, 3);

  /* deletes: found, twice, never there, added and deleted before commit */
  assert_int_equal(del_doc(w, "d2"), KS_OK);
  assert_int_equal(del_doc(w, "d2"), KS_NOTFOUND);
  assert_int_equal(del_doc(w, "nope"), KS_NOTFOUND);
  add_doc(w, "d9", "fig grape");
  assert_int_equal(del_doc(w, "d9"), KS_OK);
  assert_int_equal(del_doc(w, "d9"), KS_NOTFOUND);
  assert_int_equal(ks_writer_delete(w, "", 0, &e), KS_EINPUT);
  assert_int_equal(ks_writer_delete(w, "\xff", 1, &e), KS_EUTF8);
  /* a rejected document changes nothing, the writer goes on */
  ks_doc bad = {.id = "d1", .id_len = 2, .text = "\xff\xfe", .text_len = 2};
  assert_int_equal(ks_writer_add(w, &bad, &e), KS_EUTF8);
  ks_doc empty = {.id = "d3", .id_len = 2, .text = "", .text_len = 0};
  assert_int_not_equal(ks_writer_add(w, &empty, &e), KS_OK);
  assert_non_null(get_text(db, "d2")); /* not committed yet */
  commit(w);
  ks_writer_get_stats(w, &ws);
  assert_int_equal(ws.docs_deleted, 2);
  assert_int_equal(ws.docs_live, 2);
  assert_int_equal(reopen(&db), 1);
  assert_int_equal(ndocs(db), 2);
  assert_null(get_text(db, "d2"));
  assert_null(get_text(db, "d9"));
  assert_string_equal(get_text(db, "d1"), "zebra banana");
  assert_string_equal(get_text(db, "d3"), "cherry date");
  assert_int_equal(search_has(db, "fig", "d9", &has), 0);
  assert_int_equal(search_has(db, "cherry", "d3", &has), 1);

  /* closing without a commit drops the changes */
  add_doc(w, "d7", "kiwi lemon");
  assert_int_equal(del_doc(w, "d3"), KS_OK);
  ks_writer_close(w);
  assert_int_equal(reopen(&db), 0);
  w = open_writer(dir, "xapian", KS_WRITER_UPDATE, 0, KS_OK);
  ks_writer_get_stats(w, &ws);
  assert_int_equal(ws.docs_live, 2);
  assert_int_equal(del_doc(w, "d7"), KS_NOTFOUND);
  ks_writer_close(w);
  assert_int_equal(ndocs(db), 2);
  assert_non_null(get_text(db, "d3"));

  /* an UPDATE writer cannot change the layout */
  assert_null(open_writer(dir, "xapian", KS_WRITER_UPDATE, shards ? shards + 1 : 2, KS_EINVAL));

  /* REPLACE: the first commit replaces everything, then more commits */
  uint32_t nshards = shards ? shards + 1 : 0;
  w = open_writer(dir, "xapian", KS_WRITER_REPLACE, nshards, KS_OK);
  add_doc(w, "e1", "mango");
  add_doc(w, "e2", "mango nectarine");
  assert_int_equal(reopen(&db), 0);
  ks_db *before = db;
  db = open_db(dir);
  commit(w);
  ks_writer_get_stats(w, &ws);
  assert_int_equal(ws.docs_live, 2);
  assert_int_equal(ws.docs_replaced, 0);
  assert_int_equal(reopen(&db), 1);
  assert_int_equal(ndocs(db), 2);
  assert_null(get_text(db, "d1"));
  assert_string_equal(get_text(db, "e2"), "mango nectarine");
  assert_int_equal(ks_db_get_stats(db, &dst, &e), KS_OK);
  assert_int_equal(dst.shards, nshards ? nshards : 1);
  /* the handle opened before the replacement still answers */
  assert_int_equal(search_has(before, "zebra", "d1", &has), 1);
  assert_true(has);
  ks_db_close(before);
  add_doc(w, "e3", "olive");
  add_doc(w, "e1", "papaya");
  assert_int_equal(del_doc(w, "e2"), KS_OK);
  commit(w);
  ks_writer_get_stats(w, &ws);
  assert_int_equal(ws.docs_live, 2);
  assert_int_equal(ws.docs_replaced, 1);
  assert_int_equal(ws.docs_deleted, 1);
  ks_writer_close(w);
  assert_int_equal(reopen(&db), 1);
  assert_int_equal(ndocs(db), 2);
  assert_string_equal(get_text(db, "e1"), "papaya");
  assert_null(get_text(db, "e2"));
  ks_db_close(db);

  /* a REPLACE writer closed without commit leaves the index as it was */
  w = open_writer(dir, "xapian", KS_WRITER_REPLACE, 0, KS_OK);
  add_doc(w, "x", "quince");
  ks_writer_close(w);
  db = open_db(dir);
  assert_int_equal(ndocs(db), 2);
  ks_db_close(db);
  assert_int_equal(ks_db_check(dir, NULL, NULL, &e), KS_OK);

  /* an UPDATE writer closed without commit on a new index leaves none */
  char none[4200];
  snprintf(none, sizeof none, "%s-none", dir);
  w = open_writer(none, "xapian", KS_WRITER_UPDATE, shards, KS_OK);
  add_doc(w, "y", "raspberry");
  ks_writer_close(w);
  assert_int_equal(ks_db_open(none, &db, &e), KS_NOTFOUND);
}

static void test_live_database(void **state) {
  (void)state;
  live_basic(0);
}

static void test_live_shards(void **state) {
  (void)state;
  live_basic(2);
}

/* ---- shards committed one by one ------------------------------------------ */

/* An id that ks_xap_shard_of routes to `shard` of 2 (static buffer). */
static const char *id_in_shard(const char *prefix, uint32_t shard) {
  static char id[32];
  for (int i = 0;; i++) {
    snprintf(id, sizeof id, "%s%d", prefix, i);
    if (ks_xap_shard_of(id, strlen(id), 2) == shard) return id;
  }
}

/* Commit one document into one shard database directly, as the writer
 * does for each shard, with commit number `number`. */
static void commit_shard(const char *path, const char *id, uint64_t number) {
  ks_xap_writer_opts o;
  ks_xap_writer_opts_default(&o);
  o.open = KS_XAP_OPEN;
  o.atomic = 1;
  o.fsync = 0;
  ks_xap_writer *w = NULL;
  ks_err e;
  if (ks_xap_writer_open(path, &o, &w, &e)) fail_msg("%s", e.msg);
  ks_xap_term t = {KS_FIELD_WORD, "torn", 4, 0};
  if (ks_xap_writer_add(w, id, strlen(id), "{}", 2, &t, 1, &e)) fail_msg("%s", e.msg);
  ks_xap_writer_set_commit_number(w, number - 1);
  if (ks_xap_writer_commit(w, &e)) fail_msg("%s", e.msg);
  ks_xap_writer_close(w);
}

typedef struct late_commit {
  char path[4200];
  char id[32];
} late_commit;

static void *late_commit_run(void *arg) {
  late_commit *lc = arg;
  struct timespec ts = {0, 30 * 1000000L};
  nanosleep(&ts, NULL);
  commit_shard(lc->path, lc->id, 2);
  return NULL;
}

static void shard_numbers(const char *dir, uint64_t *n0, uint64_t *n1) {
  char p0[4200], p1[4200];
  snprintf(p0, sizeof p0, "%s/shard-0", dir);
  snprintf(p1, sizeof p1, "%s/shard-1", dir);
  const char *specs[] = {p0, p1};
  ks_xap_db *db = NULL;
  ks_err e;
  if (ks_xap_open_shards(specs, 2, 0, &db, &e)) fail_msg("%s", e.msg);
  ks_xap_sub_info a, b, c;
  assert_int_equal(ks_xap_sub_info_get(db, 0, &a, &e), KS_OK);
  assert_int_equal(ks_xap_sub_info_get(db, 1, &b, &e), KS_OK);
  assert_int_equal(ks_xap_sub_info_get(db, 2, &c, &e), KS_EINVAL);
  assert_true(a.revision > 0 && !a.remote && a.uuid[0]);
  assert_string_not_equal(a.uuid, b.uuid);
  ks_xap_close(db);
  *n0 = a.commit_number, *n1 = b.commit_number;
}

static void test_torn_layout(void **state) {
  (void)state;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/idx", ks_test_tmpdir("xap_live_torn"));
  ks_writer *w = open_writer(dir, "xapian", KS_WRITER_UPDATE, 2, KS_OK);
  add_doc(w, "a", "alpha");
  commit(w);
  ks_writer_close(w);
  uint64_t n0, n1;
  shard_numbers(dir, &n0, &n1);
  assert_int_equal(n0, 1);
  assert_int_equal(n1, 1);

  /* a commit in progress: shard 0 committed, shard 1 30 ms later; a
     reader opening meanwhile waits for it and sees both documents */
  late_commit lc;
  char p0[4200];
  snprintf(p0, sizeof p0, "%s/shard-0", dir);
  snprintf(lc.path, sizeof lc.path, "%s/shard-1", dir);
  snprintf(lc.id, sizeof lc.id, "%s", id_in_shard("late", 1));
  commit_shard(p0, id_in_shard("early", 0), 2);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, late_commit_run, &lc), 0);
  ks_db *db = open_db(dir);
  pthread_join(th, NULL);
  assert_int_equal(ndocs(db), 3);
  ks_db_close(db);

  /* a crash between shard commits: a writer opening the layout commits
     the lagging shard with the same number */
  commit_shard(p0, id_in_shard("crash", 0), 3);
  shard_numbers(dir, &n0, &n1);
  assert_int_equal(n0, 3);
  assert_int_equal(n1, 2);
  w = open_writer(dir, "xapian", KS_WRITER_UPDATE, 0, KS_OK);
  ks_writer_close(w);
  shard_numbers(dir, &n0, &n1);
  assert_int_equal(n0, 3);
  assert_int_equal(n1, 3);
  db = open_db(dir);
  assert_int_equal(ndocs(db), 4);
  ks_db_close(db);
}

/* ---- readers during REPLACE commits -------------------------------------- */

typedef struct replacer {
  char dir[4096];
  uint32_t shards;
  int rounds;
  volatile int done;
} replacer;

/* Rebuild the index again and again, alternately with 3 and 5 documents. */
static void *replacer_run(void *arg) {
  replacer *rp = arg;
  for (int r = 0; r < rp->rounds; r++) {
    ks_writer *w = open_writer(rp->dir, "xapian", KS_WRITER_REPLACE, rp->shards, KS_OK);
    int n = r % 2 ? 5 : 3;
    for (int i = 0; i < n; i++) {
      char id[16];
      snprintf(id, sizeof id, "s%d", i);
      add_doc(w, id, "sierra tango");
    }
    commit(w);
    ks_writer_close(w);
  }
  rp->done = 1;
  return NULL;
}

/* A reader opening the index while REPLACE writers swap it always finds
 * a whole index: one of the two versions, never none, never a mix. */
static void replace_under_readers(uint32_t shards) {
  replacer rp = {.shards = shards, .rounds = 16};
  snprintf(rp.dir, sizeof rp.dir, "%s/idx", ks_test_tmpdir("xap_live_swap"));
  ks_writer *w = open_writer(rp.dir, "xapian", KS_WRITER_REPLACE, shards, KS_OK);
  add_doc(w, "s0", "sierra");
  add_doc(w, "s1", "sierra");
  add_doc(w, "s2", "sierra");
  commit(w);
  ks_writer_close(w);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, replacer_run, &rp), 0);
  int opens = 0;
  while (!rp.done) {
    ks_db *db = NULL;
    ks_err e;
    int rc = ks_db_open(rp.dir, &db, &e);
    if (rc != KS_OK) fail_msg("open %d during a REPLACE: %s", opens, e.msg);
    uint64_t n = ndocs(db);
    if (n != 3 && n != 5) fail_msg("open %d: %llu documents", opens, (unsigned long long)n);
    ks_db_close(db);
    opens++;
  }
  pthread_join(th, NULL);
  assert_true(opens > 0);
}

static void test_replace_under_readers(void **state) {
  (void)state;
  replace_under_readers(0);
  replace_under_readers(2);
}

/* ---- random operations against a model ------------------------------------ */

#define NIDS 48
#define NWORDS 12
static const char *vocab[NWORDS] = {"alpha", "bravo",  "charlie", "delta",  "echo",  "foxtrot",
                                    "golf",  "hotel",  "대통령",  "보스턴", "바이오", "산업"};

typedef struct model {
  char text[NIDS][256];  /* "" = not live */
} model;

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)((rng_state >> 33) % n);
}

static void random_text(char *buf, size_t cap) {
  size_t n = 1 + rnd(7), len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", vocab[rnd(NWORDS)]);
}

static int has_word(const char *text, const char *w) {
  size_t n = strlen(w);
  for (const char *p = strstr(text, w); p; p = strstr(p + 1, w))
    if ((p == text || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
  return 0;
}

/* The committed index seen by db equals the model. */
static void check_model(ks_db *db, const model *m) {
  uint64_t live = 0;
  for (int i = 0; i < NIDS; i++) {
    char id[16];
    snprintf(id, sizeof id, "r%d", i);
    const char *t = get_text(db, id);
    if (m->text[i][0]) {
      live++;
      if (!t) fail_msg("%s missing", id);
      assert_string_equal(t, m->text[i]);
    } else if (t) {
      fail_msg("%s should be deleted, has \"%s\"", id, t);
    }
  }
  assert_int_equal(ndocs(db), live);
  for (int q = 0; q < 3; q++) {
    const char *word = vocab[rnd(NWORDS)];
    ks_search_opts o;
    ks_search_opts_default(&o);
    o.k = 1000;
    o.algorithm = KS_ALGO_EXHAUSTIVE;
    ks_results *r = NULL;
    ks_err e;
    if (ks_db_search(db, word, SIZE_MAX, &o, &r, &e) != KS_OK) fail_msg("%s", e.msg);
    char seen[NIDS] = {0};
    size_t expect = 0;
    for (int i = 0; i < NIDS; i++) expect += m->text[i][0] && has_word(m->text[i], word);
    assert_int_equal(ks_results_count(r), expect);
    for (size_t k = 0; k < ks_results_count(r); k++) {
      ks_hit h;
      assert_int_equal(ks_results_hit(r, k, &h), KS_OK);
      char num[16]; /* h.id is not NUL-terminated */
      snprintf(num, sizeof num, "%.*s", (int)(h.id_len > 1 ? h.id_len - 1 : 0), h.id + 1);
      int i = atoi(num);
      if (!(i >= 0 && i < NIDS && !seen[i]))
        fail_msg("%s: hit %zu %.*s (backend %s) out of range or repeated", word, k,
                 (int)h.id_len, h.id, ks_db_backend(db));
      seen[i] = 1;
      if (!has_word(m->text[i], word)) fail_msg("r%d does not contain %s", i, word);
    }
    ks_results_free(r);
  }
}

static unsigned rankings_compared; /* same_ranking calls with hits */

static int same_id(const ks_hit *a, const ks_hit *b) {
  return a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0;
}

static int close_score(double a, double b) {
  return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Xapian and native (KS_RANK_BM25_XAPIAN) agree on `q`: the same hits in
 * the same order, ties (equal scores) compared as sets; scores 1e-9. */
static void same_ranking(ks_db *x, ks_db *n, const char *q) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 1000;
  o.algorithm = KS_ALGO_EXHAUSTIVE;
  o.ranking = KS_RANK_BM25_XAPIAN;
  ks_results *rx = NULL, *rn = NULL;
  ks_err e;
  if (ks_db_search(x, q, SIZE_MAX, &o, &rx, &e)) fail_msg("%s", e.msg);
  if (ks_db_search(n, q, SIZE_MAX, &o, &rn, &e)) fail_msg("%s", e.msg);
  size_t c = ks_results_count(rx);
  rankings_compared += c > 0;
  if (c != ks_results_count(rn))
    fail_msg("%s: %zu hits (xapian) vs %zu (native)", q, c, ks_results_count(rn));
  for (size_t i = 0; i < c;) {
    ks_hit hx, hn;
    ks_results_hit(rx, i, &hx);
    ks_results_hit(rn, i, &hn);
    if (!close_score(hx.score, hn.score))
      fail_msg("%s: rank %zu: %.15g (xapian) vs %.15g (native)", q, i + 1, hx.score, hn.score);
    size_t j = i + 1; /* the group of scores tied with hit i */
    for (ks_hit t; j < c && ks_results_hit(rx, j, &t) == KS_OK && close_score(t.score, hx.score);)
      j++;
    for (size_t a = i; a < j; a++) {
      ks_hit ta, tb;
      int found = 0;
      ks_results_hit(rx, a, &ta);
      for (size_t b = i; b < j && !found; b++) {
        ks_results_hit(rn, b, &tb);
        found = same_id(&ta, &tb) && close_score(ta.score, tb.score);
      }
      if (!found) fail_msg("%s: %.*s at rank %zu (xapian) not in native's tie group", q,
                           (int)ta.id_len, ta.id, a + 1);
    }
    i = j;
  }
  ks_results_free(rx);
  ks_results_free(rn);
}

/* A native index built from scratch (KS_WRITER_REPLACE) from the live
 * documents of the model, opened. */
static ks_db *fresh_native(const char *dir, const model *m) {
  ks_writer *w = open_writer(dir, NULL, KS_WRITER_REPLACE, 0, KS_OK);
  for (int i = 0; i < NIDS; i++) {
    char id[16];
    snprintf(id, sizeof id, "r%d", i);
    if (m->text[i][0]) add_doc(w, id, m->text[i]);
  }
  commit(w);
  ks_writer_close(w);
  return open_db(dir);
}

/* Does the native backend implement the live index yet? */
static int native_live(const char *base) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/probe", base);
  ks_writer *w = open_writer(dir, NULL, KS_WRITER_UPDATE, 0, KS_OK);
  ks_err e;
  int rc = ks_writer_delete(w, "x", 1, &e);
  ks_writer_close(w);
  return rc != KS_EUNSUPPORTED;
}

static void random_ops(uint32_t shards, uint64_t seed, int with_native, int with_fresh) {
  char base[4096], xdir[4200], ndir[4200], fdir[4200];
  snprintf(base, sizeof base, "%s", ks_test_tmpdir(shards ? "xap_live_rsh" : "xap_live_rdb"));
  snprintf(xdir, sizeof xdir, "%s/xap", base);
  snprintf(ndir, sizeof ndir, "%s/nat", base);
  snprintf(fdir, sizeof fdir, "%s/fresh", base);
  rng_state = seed;
  static model pending, committed;
  memset(&pending, 0, sizeof pending);
  memset(&committed, 0, sizeof committed);
  ks_writer *wx = open_writer(xdir, "xapian", KS_WRITER_UPDATE, shards, KS_OK);
  ks_writer *wn = with_native ? open_writer(ndir, NULL, KS_WRITER_UPDATE, 0, KS_OK) : NULL;
  ks_db *dx = NULL, *dn = NULL;
  uint64_t added = 0, replaced = 0, deleted = 0, gen = 0, commits = 0;
  for (int op = 0; op < 400; op++) {
    uint32_t r = rnd(100);
    int i = (int)rnd(NIDS);
    char id[16];
    snprintf(id, sizeof id, "r%d", i);
    if (r < 45) { /* add or upsert */
      char text[256];
      random_text(text, sizeof text);
      add_doc(wx, id, text);
      if (wn) add_doc(wn, id, text);
      added++;
      replaced += pending.text[i][0] != 0;
      snprintf(pending.text[i], sizeof pending.text[i], "%s", text);
    } else if (r < 70) { /* delete: live or missing */
      int expect = pending.text[i][0] ? KS_OK : KS_NOTFOUND;
      assert_int_equal(del_doc(wx, id), expect);
      if (wn) assert_int_equal(del_doc(wn, id), expect);
      deleted += expect == KS_OK;
      pending.text[i][0] = '\0';
    } else if (r < 85) { /* commit, then check every reader */
      commit(wx);
      if (wn) commit(wn);
      committed = pending;
      commits++;
      ks_writer_stats ws;
      ks_writer_get_stats(wx, &ws);
      assert_int_equal(ws.docs_added, added);
      assert_int_equal(ws.docs_replaced, replaced);
      assert_int_equal(ws.docs_deleted, deleted);
      uint64_t live = 0;
      for (int k = 0; k < NIDS; k++) live += committed.text[k][0] != 0;
      assert_int_equal(ws.docs_live, live);
      assert_true(ws.generation > gen);
      gen = ws.generation;
      if (!dx) dx = open_db(xdir);
      else assert_int_equal(reopen(&dx), 1);
      check_model(dx, &committed);
      if (with_fresh) { /* the live index ranks like a fresh build */
        ks_db *df = fresh_native(fdir, &committed);
        for (int q = 0; q < 4; q++) {
          char query[128];
          snprintf(query, sizeof query, "%s %s", vocab[rnd(NWORDS)], vocab[rnd(NWORDS)]);
          same_ranking(dx, df, query);
          same_ranking(dx, df, vocab[rnd(NWORDS)]);
        }
        ks_db_close(df);
      }
      if (wn) {
        if (!dn) dn = open_db(ndir);
        else reopen(&dn);
        check_model(dn, &committed);
        for (int q = 0; q < 4; q++) {
          char query[128];
          snprintf(query, sizeof query, "%s %s", vocab[rnd(NWORDS)], vocab[rnd(NWORDS)]);
          same_ranking(dx, dn, query);
          same_ranking(dx, dn, vocab[rnd(NWORDS)]);
        }
      }
    } else if (r < 95) { /* reopen without a commit: nothing new */
      if (dx) assert_int_equal(reopen(&dx), 0);
      if (dx) check_model(dx, &committed);
    } else { /* close without commit: the pending changes are gone */
      ks_writer_close(wx);
      wx = open_writer(xdir, "xapian", KS_WRITER_UPDATE, 0, KS_OK);
      if (wn) {
        ks_writer_close(wn);
        wn = open_writer(ndir, NULL, KS_WRITER_UPDATE, 0, KS_OK);
      }
      pending = committed;
      added = replaced = deleted = 0;
      if (dx) assert_int_equal(reopen(&dx), 0);
    }
  }
  ks_writer_close(wx);
  ks_writer_close(wn);
  ks_db_close(dx);
  ks_db_close(dn);
  assert_true(commits > 10);
  ks_err e;
  assert_int_equal(ks_db_check(xdir, NULL, NULL, &e), KS_OK);
}

static void test_random_ops(void **state) {
  (void)state;
  int with_native = native_live(ks_test_tmpdir("xap_live_probe"));
  if (!with_native)
    print_message("native backend has no live index yet: Xapian checked against the model "
                  "only\n");
  for (uint64_t seed = 1; seed <= 3; seed++) {
    random_ops(0, seed, with_native, seed == 1);
    random_ops(2, seed * 7919, with_native, seed == 1);
  }
  print_message("%u rankings compared with native indexes (%s)\n", rankings_compared,
                with_native ? "live and fresh" : "fresh builds only");
  assert_true(rankings_compared > 100);
}

static int setup(void **state) {
  (void)state;
  ks_err e;
  return ks_xapian_register(&e) == KS_OK ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_live_database),
      cmocka_unit_test(test_live_shards),
      cmocka_unit_test(test_torn_layout),
      cmocka_unit_test(test_replace_under_readers),
      cmocka_unit_test(test_random_ops),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
