/*
 * backend.c - the Xapian backend's operations table (kosearch/backend.h)
 * and ks_xapian_register (kosearch/xapian.h): the engine API mapped onto
 * the C wrapper of xapian.cc (ks_xap.h).
 *
 * The engine checks and analyzes documents and parses queries for this
 * backend (writer_add, search), so the Xapian library needs nothing from
 * libkosearch but errors and ks_mem_alloc. What is here:
 *   - layout: an index is one Xapian database, or a directory of shards
 *     DIR/shard-0 ... DIR/shard-(N-1) with a one-line marker file
 *     DIR/KOSEARCH-SHARDS "kosearch xapian shards N" (docs/xapian.md); a
 *     document goes to shard ks_xap_shard_of(id), so all versions of an id
 *     meet in one shard and replacement by id works;
 *   - atomic build: a writer writes only below "<dir>.tmp"; commit renames
 *     "<dir>" -> "<dir>.old", "<dir>.tmp" -> "<dir>" and removes
 *     "<dir>.old". Only directories that are missing, empty, kosearch
 *     Xapian databases or shard layouts are ever removed or replaced;
 *   - queries: the engine's clauses map one to one onto ks_xap_clause (a
 *     word clause's terms become leaves with wqf = their count in the
 *     clause; a phrase's base terms become phrase leaves with the native
 *     offsets), ranked by Xapian's BM25Weight, which the native
 *     KS_RANK_BM25_XAPIAN scheme reproduces (docs/ranking.md).
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KS_BACKEND_UNSTABLE_API
#define KS_BACKEND_UNSTABLE_API
#endif
#include "kosearch/backend.h"
#include "kosearch/xapian.h"
#include "ks_xap.h"

#define SHARDS_MARKER "KOSEARCH-SHARDS"
#define MAX_SHARDS 1024
#define PATH_BYTES 4096

/* ---- file-system helpers ------------------------------------------------- */

static __thread uint64_t du_total; /* nftw has no context pointer */
static int du_cb(const char *p, const struct stat *sb, int type, struct FTW *f) {
  (void)p, (void)f;
  if (type == FTW_F) du_total += (uint64_t)sb->st_size;
  return 0;
}

/* Total size of the regular files below `path` (0 if none). */
static uint64_t dir_bytes(const char *path) {
  du_total = 0;
  nftw(path, du_cb, 16, FTW_PHYS);
  return du_total;
}

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *f) {
  (void)sb, (void)type, (void)f;
  return remove(p) == 0 ? 0 : -1;
}

static int rm_tree(const char *path) { return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int dir_empty(const char *p) {
  int n = 0;
  DIR *d = opendir(p);
  if (!d) return 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
  closedir(d);
  return n == 0;
}

static int is_layout(const char *p) {
  char m[PATH_BYTES];
  snprintf(m, sizeof m, "%s/%s", p, SHARDS_MARKER);
  return access(m, F_OK) == 0;
}

static int xb_detect(const char *path) { return ks_xap_is_database(path) || is_layout(path); }

/* May `p` be removed or replaced by a build? (missing, empty, ours) */
static int replaceable(const char *p) {
  struct stat st;
  if (lstat(p, &st) != 0) return 1;
  if (!S_ISDIR(st.st_mode)) return 0;
  return dir_empty(p) || xb_detect(p);
}

/* Number of shards of a layout (0: not a valid marker). */
static uint32_t layout_shards(const char *p) {
  char m[PATH_BYTES];
  snprintf(m, sizeof m, "%s/%s", p, SHARDS_MARKER);
  FILE *f = fopen(m, "r");
  if (!f) return 0;
  unsigned n = 0;
  if (fscanf(f, "kosearch xapian shards %u", &n) != 1) n = 0;
  fclose(f);
  return n <= MAX_SHARDS ? n : 0;
}

static char *path_join(const char *a, const char *suffix) {
  size_t n = strlen(a) + strlen(suffix) + 1;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s%s", a, suffix);
  return p;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct xb_db {
  ks_xap_db *db;
  char **specs;           /* what was opened (for dup) */
  size_t nspecs;
  int local;              /* every spec is a local path (dir_bytes works) */
} xb_db;

static void xb_close(void *h) {
  xb_db *d = h;
  if (!d) return;
  ks_xap_close(d->db);
  for (size_t i = 0; i < d->nspecs; i++) free(d->specs[i]);
  free(d->specs);
  free(d);
}

/* Expand the specs (a layout directory becomes its shard paths) and open
 * them as one database. */
static int xb_open(const char *const *specs, size_t n, void **out, ks_err *err) {
  *out = NULL;
  xb_db *d = calloc(1, sizeof *d);
  if (!d) return ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  d->local = 1;
  size_t cap = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t nl = strncmp(specs[i], "tcp://", 6) == 0 ? 0 : layout_shards(specs[i]);
    cap += nl ? nl : 1;
  }
  d->specs = calloc(cap ? cap : 1, sizeof *d->specs);
  int rc = d->specs ? KS_OK : ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  for (size_t i = 0; rc == KS_OK && i < n; i++) {
    const char *s = specs[i];
    int tcp = strncmp(s, "tcp://", 6) == 0;
    if (tcp) d->local = 0;
    uint32_t nl = tcp ? 0 : layout_shards(s);
    if (!tcp && !nl && is_layout(s))
      rc = ks_err_set(err, KS_ECORRUPT, "[xap][open] %s/%s: not a valid shard marker", s,
                      SHARDS_MARKER);
    else if (!tcp && !nl && !ks_xap_is_database(s) && is_dir(s))
      rc = ks_err_set(err, KS_NOTFOUND,
                      "[xap][open] %s: not a kosearch Xapian database or shard directory", s);
    for (uint32_t j = 0; rc == KS_OK && j < nl; j++) {
      char sfx[32];
      snprintf(sfx, sizeof sfx, "/shard-%u", j);
      if (!(d->specs[d->nspecs++] = path_join(s, sfx)))
        rc = ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
    }
    if (rc == KS_OK && !nl && !(d->specs[d->nspecs++] = path_join(s, "")))
      rc = ks_err_set(err, KS_ENOMEM, "[xap][open] out of memory");
  }
  if (rc == KS_OK)
    rc = ks_xap_open_shards((const char *const *)d->specs, d->nspecs, 0, &d->db, err);
  if (rc != KS_OK) {
    xb_close(d);
    return rc;
  }
  *out = d;
  return KS_OK;
}

static int xb_dup(void *h, void **out, ks_err *err) {
  xb_db *d = h;
  return xb_open((const char *const *)d->specs, d->nspecs, out, err);
}

static int xb_search(void *h, const ks_query_clause *c, size_t nc, const ks_search_opts *so,
                     uint32_t nhits, void **res, ks_err *err) {
  xb_db *d = h;
  *res = NULL;
  size_t nt = 0;
  for (size_t i = 0; i < nc; i++) nt += c[i].nterms;
  ks_xap_clause *cl = calloc(nc ? nc : 1, sizeof *cl);
  ks_xap_qterm *qt = calloc(nt ? nt : 1, sizeof *qt);
  int rc = cl && qt ? KS_OK : ks_err_set(err, KS_ENOMEM, "[xap][search] out of memory");
  size_t k = 0;
  for (size_t i = 0; rc == KS_OK && i < nc; i++) {
    cl[i].op = c[i].op;
    cl[i].phrase = c[i].phrase;
    cl[i].terms = &qt[k];
    cl[i].nterms = c[i].nterms;
    cl[i].offsets = c[i].offsets;
    for (size_t j = 0; j < c[i].nterms; j++, k++) {
      qt[k].field = c[i].terms[j].field;
      qt[k].term = c[i].terms[j].term;
      qt[k].len = c[i].terms[j].len;
      qt[k].wqf = c[i].terms[j].count;
    }
  }
  if (rc == KS_OK) {
    ks_xap_search_opts xo;
    ks_xap_search_opts_default(&xo);
    xo.k = nhits;
    xo.k1 = so->k1;
    xo.b = so->b;
    xo.bigram_weight = so->bigram_weight;
    xo.min_normlen = so->min_normlen;
    xo.exhaustive = !so->xapian_pruning;
    ks_xap_results *r = NULL;
    rc = ks_xap_search(d->db, cl, nc, &xo, &r, err);
    *res = r;
  }
  free(cl);
  free(qt);
  return rc;
}

static size_t xb_results_count(void *res) { return ks_xap_results_count(res); }

static int xb_results_hit(void *res, size_t i, const char **id, size_t *id_len, double *score,
                          ks_err *err) {
  ks_xap_hit h;
  if (ks_xap_results_hit(res, i, &h) != KS_OK)
    return ks_err_set(err, KS_EINVAL, "[xap][hit] no hit %zu", i);
  *id = h.id, *id_len = h.id_len, *score = h.score;
  return KS_OK;
}

/* Exhaustive matching counts exactly; Xapian's pruning gives a lower bound
 * (and an estimate, not used here). */
static uint64_t xb_results_matches(void *res, int *exact) {
  uint64_t lower = 0, est = 0, upper = 0;
  ks_xap_results_matches(res, &lower, &est, &upper);
  *exact = lower == upper;
  return lower;
}

static int xb_results_json(void *res, size_t i, char **json, size_t *len, ks_err *err) {
  return ks_xap_results_json(res, i, json, len, err);
}

static void xb_results_free(void *res) { ks_xap_results_free(res); }

static int xb_get(void *h, const char *id, size_t id_len, char **json, size_t *len,
                  ks_err *err) {
  xb_db *d = h;
  if (id_len == 0 || id_len > KS_XAP_MAX_ID)
    return ks_err_set(err, KS_NOTFOUND, "[xap][get] no document with an id of %zu bytes",
                      id_len);
  return ks_xap_get(d->db, id, id_len, json, len, err);
}

static int xb_stats(void *h, ks_db_stats *st, ks_err *err) {
  xb_db *d = h;
  ks_xap_stats xs;
  int rc = ks_xap_get_stats(d->db, &xs, err);
  if (rc == KS_OK) rc = ks_xap_count_terms(d->db, &st->terms_word, &st->terms_bigram, err);
  if (rc != KS_OK) return rc;
  st->docs = xs.docs;
  st->terms = st->terms_word + st->terms_bigram;
  st->total_length = xs.total_length;
  st->avg_length = xs.avg_length;
  st->shards = xs.shards;
  if (d->local)
    for (size_t i = 0; i < d->nspecs; i++) st->bytes_total += dir_bytes(d->specs[i]);
  return KS_OK;
}

static int xb_check(const char *path, void (*report)(void *ctx, const char *line), void *ctx,
                    ks_err *err) {
  uint32_t nl = layout_shards(path);
  if (!nl) return ks_xap_check(path, report, ctx, err);
  int rc = KS_OK;
  for (uint32_t i = 0; i < nl; i++) {
    char p[PATH_BYTES];
    snprintf(p, sizeof p, "%s/shard-%u", path, i);
    if (report) {
      char line[PATH_BYTES + 32];
      snprintf(line, sizeof line, "shard %u: %s", i, p);
      report(ctx, line);
    }
    int r = ks_xap_check(p, report, ctx, err);
    if (r != KS_OK && rc == KS_OK) rc = r;
  }
  return rc;
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct xb_writer {
  char *out, *tmp, *old;
  uint32_t nshards;       /* 0: single database */
  ks_xap_writer **w;      /* max(nshards, 1) writers */
  int committed;
  ks_writer_stats st;
} xb_writer;

static void xb_writer_close(void *h) {
  xb_writer *b = h;
  if (!b) return;
  uint32_t nw = b->nshards ? b->nshards : 1;
  if (b->w)
    for (uint32_t i = 0; i < nw; i++) ks_xap_writer_close(b->w[i]);
  if (!b->committed && b->tmp && is_dir(b->tmp)) rm_tree(b->tmp);
  free(b->out);
  free(b->tmp);
  free(b->old);
  free(b->w);
  free(b);
}

static int xb_writer_open(const char *dir, const ks_writer_opts *o, void **out, ks_err *err) {
  *out = NULL;
  if (o->shards > MAX_SHARDS)
    return ks_err_set(err, KS_EINVAL, "[xap][writer] shards must be at most %d", MAX_SHARDS);
  if (!replaceable(dir))
    return ks_err_set(err, KS_EINVAL,
                      "[xap][writer] %s: exists and is neither empty nor a kosearch Xapian "
                      "database; refusing to overwrite it",
                      dir);
  xb_writer *b = calloc(1, sizeof *b);
  if (!b) return ks_err_set(err, KS_ENOMEM, "[xap][writer] out of memory");
  b->nshards = o->shards;
  b->out = path_join(dir, "");
  b->tmp = path_join(dir, ".tmp");
  b->old = path_join(dir, ".old");
  b->w = calloc(b->nshards ? b->nshards : 1, sizeof *b->w);
  int rc = b->out && b->tmp && b->old && b->w
               ? KS_OK
               : ks_err_set(err, KS_ENOMEM, "[xap][writer] out of memory");
  if (rc == KS_OK && (!replaceable(b->tmp) || !replaceable(b->old)))
    rc = ks_err_set(err, KS_EINVAL,
                    "[xap][writer] %s or %s: exists and is not a kosearch Xapian database; "
                    "remove it first",
                    b->tmp, b->old);
  if (rc == KS_OK) {
    rm_tree(b->tmp); /* a leftover of an interrupted build */
    rm_tree(b->old);
  }
  ks_xap_writer_opts wo;
  ks_xap_writer_opts_default(&wo);
  wo.fsync = o->fsync;
  if (rc == KS_OK && b->nshards == 0) {
    rc = ks_xap_writer_open(b->tmp, &wo, &b->w[0], err);
  } else if (rc == KS_OK) {
    if (mkdir(b->tmp, 0777) != 0)
      rc = ks_err_set(err, KS_EIO, "[xap][writer] %s: cannot create: %s", b->tmp,
                      strerror(errno));
    for (uint32_t i = 0; rc == KS_OK && i < b->nshards; i++) {
      char p[PATH_BYTES];
      snprintf(p, sizeof p, "%s/shard-%u", b->tmp, i);
      rc = ks_xap_writer_open(p, &wo, &b->w[i], err);
    }
  }
  if (rc != KS_OK) {
    xb_writer_close(b);
    return rc;
  }
  *out = b;
  return KS_OK;
}

static int xb_writer_add(void *h, const char *id, size_t id_len, const char *json,
                         size_t json_len, const ks_doc_term *terms, size_t nterms,
                         ks_err *err) {
  xb_writer *b = h;
  uint32_t shard = b->nshards ? ks_xap_shard_of(id, id_len, b->nshards) : 0;
  ks_xap_writer *w = b->w[shard];
  ks_xap_writer_stats before, after;
  ks_xap_writer_get_stats(w, &before);
  /* ks_doc_term and ks_xap_term have the same members in the same order */
  int rc = ks_xap_writer_add(w, id, id_len, json, json_len, (const ks_xap_term *)terms, nterms,
                             err);
  if (rc == KS_EINVAL) rc = KS_EINPUT; /* the document was rejected */
  if (rc != KS_OK) return rc;
  ks_xap_writer_get_stats(w, &after);
  b->st.docs_added++;
  b->st.docs_replaced += after.docs_replaced - before.docs_replaced;
  b->st.postings += after.postings - before.postings;
  return KS_OK;
}

static int write_marker(const xb_writer *b, ks_err *err) {
  char m[PATH_BYTES];
  snprintf(m, sizeof m, "%s/%s", b->tmp, SHARDS_MARKER);
  FILE *f = fopen(m, "w");
  if (!f || fprintf(f, "kosearch xapian shards %u\n", b->nshards) < 0 || fflush(f) ||
      fsync(fileno(f))) {
    int e = errno;
    if (f) fclose(f);
    return ks_err_set(err, KS_EIO, "[xap][commit] %s: cannot write: %s", m, strerror(e));
  }
  if (fclose(f)) return ks_err_set(err, KS_EIO, "[xap][commit] %s: cannot write: %s", m,
                                   strerror(errno));
  return KS_OK;
}

static int xb_writer_commit(void *h, ks_err *err) {
  xb_writer *b = h;
  uint32_t nw = b->nshards ? b->nshards : 1;
  int rc = KS_OK;
  b->st.docs_live = 0;
  for (uint32_t i = 0; rc == KS_OK && i < nw; i++) {
    rc = ks_xap_writer_commit(b->w[i], err);
    ks_xap_writer_stats ws;
    ks_xap_writer_get_stats(b->w[i], &ws);
    b->st.docs_live += ws.docs_live;
  }
  for (uint32_t i = 0; i < nw; i++) {
    ks_xap_writer_close(b->w[i]);
    b->w[i] = NULL;
  }
  if (rc == KS_OK && b->nshards) rc = write_marker(b, err);
  if (rc != KS_OK) return rc;
  /* move into place: out -> out.old, out.tmp -> out, remove out.old */
  struct stat st;
  int had = lstat(b->out, &st) == 0;
  if (had && rename(b->out, b->old) != 0)
    return ks_err_set(err, KS_EIO, "[xap][commit] cannot rename %s to %s: %s", b->out, b->old,
                      strerror(errno));
  if (rename(b->tmp, b->out) != 0) {
    int e = errno;
    if (had) rename(b->old, b->out);
    return ks_err_set(err, KS_EIO, "[xap][commit] cannot rename %s to %s: %s", b->tmp, b->out,
                      strerror(e));
  }
  if (had) rm_tree(b->old);
  b->committed = 1;
  /* statistics of the result: distinct terms, bytes */
  xb_db *d = NULL;
  ks_err e2;
  const char *spec = b->out;
  if (xb_open(&spec, 1, (void **)&d, &e2) == KS_OK) {
    uint64_t words = 0, bigrams = 0;
    if (ks_xap_count_terms(d->db, &words, &bigrams, &e2) == KS_OK) b->st.terms = words + bigrams;
    xb_close(d);
  }
  b->st.index_bytes = dir_bytes(b->out);
  b->st.segments = nw;
  return KS_OK;
}

static void xb_writer_stats(void *h, ks_writer_stats *st) {
  xb_writer *b = h;
  *st = b->st;
}

static int xb_reopen(void *db, void **out, ks_err *err) {
  (void)db;
  *out = NULL;
  return ks_err_set(err, KS_EUNSUPPORTED, "[xap][reopen] not implemented yet");
}

static int xb_writer_delete(void *h, const char *id, size_t id_len, ks_err *err) {
  (void)h; (void)id; (void)id_len;
  return ks_err_set(err, KS_EUNSUPPORTED, "[xap][delete] not implemented yet");
}

static const ks_backend_ops xapian_backend = {
    .abi = KS_BACKEND_ABI,
    .name = "xapian",
    .detect = xb_detect,
    .open = xb_open,
    .dup = xb_dup,
    .close = xb_close,
    .reopen = xb_reopen,
    .search = xb_search,
    .results_count = xb_results_count,
    .results_hit = xb_results_hit,
    .results_matches = xb_results_matches,
    .results_json = xb_results_json,
    .results_free = xb_results_free,
    .get = xb_get,
    .stats = xb_stats,
    .check = xb_check,
    .writer_open = xb_writer_open,
    .writer_add = xb_writer_add,
    .writer_delete = xb_writer_delete,
    .writer_commit = xb_writer_commit,
    .writer_stats = xb_writer_stats,
    .writer_close = xb_writer_close,
};

/* Contract: kosearch/xapian.h. */
int ks_xapian_register(ks_err *err) {
  if (strcmp(ks_version(), KS_VERSION_STRING) != 0)
    return ks_err_set(err, KS_EVERSION,
                      "[xap][register] libkosearch-xapian %s needs libkosearch %s, not %s",
                      KS_VERSION_STRING, KS_VERSION_STRING, ks_version());
  return ks_backend_register(&xapian_backend, err);
}
