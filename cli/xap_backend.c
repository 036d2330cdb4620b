/*
 * xap_backend.c - implements xap_backend.h: the CLI's Xapian backend
 * (building, opening, searching). The wrapper (xapian/ks_xap.h) only
 * stores and searches; analysis and query parsing stay ours:
 *   - documents: checked by ks_doc_validate and analyzed by
 *     ks_doc_analyze (ks_idx.h), the very functions the native writer uses,
 *     so both backends accept the same documents and index the same
 *     (field, term, position) triples;
 *   - queries: ks_query_plan (the native parser, searcher/query_parse.c)
 *     mapped clause by clause: a word clause's terms become leaves with
 *     wqf = their count in the clause, a phrase's base terms become phrase
 *     leaves (wqf 1) with the native offsets. The native scheme
 *     KS_RANK_BM25_XAPIAN scores exactly these leaves (docs/ranking.md).
 *
 * Invariants: a build writes only below "<out>.tmp"; `out` itself is
 * replaced by two renames at commit ("<out>" -> "<out>.old", "<out>.tmp" ->
 * "<out>") and "<out>.old" is then removed. Only directories that are
 * kosearch Xapian databases or sharded layouts (or empty) are ever removed.
 */
#define _XOPEN_SOURCE 700
#include "xap_backend.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>



/* ---- small file-system helpers -------------------------------------------- */

static uint64_t du_total;
static int du_cb(const char *p, const struct stat *sb, int type, struct FTW *f) {
  (void)p, (void)f;
  if (type == FTW_F) du_total += (uint64_t)sb->st_size;
  return 0;
}

/* Contract: xap_backend.h. */
uint64_t cli_dir_bytes(const char *path) {
  du_total = 0;
  nftw(path, du_cb, 16, FTW_PHYS);
  return du_total;
}

static int rm_cb(const char *p, const struct stat *sb, int type, struct FTW *f) {
  (void)sb, (void)type, (void)f;
  return remove(p) == 0 ? 0 : -1;
}

static int rm_tree(const char *path) {
  return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int dir_empty(const char *p) {
  int n = 0;
  /* count entries other than . and .. */
  DIR *d = opendir(p);
  if (!d) return 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
  closedir(d);
  return n == 0;
}

static int is_layout(const char *p) {
  char m[4096];
  snprintf(m, sizeof m, "%s/%s", p, CLI_XAP_SHARDS_MARKER);
  return access(m, F_OK) == 0;
}

/* Contract: xap_backend.h. */
int cli_xap_detect(const char *path) {
  return ks_xap_is_database(path) || is_layout(path);
}

/* May `p` be removed or replaced by a build? (missing, empty, ours) */
static int replaceable(const char *p) {
  struct stat st;
  if (lstat(p, &st) != 0) return 1;
  if (!S_ISDIR(st.st_mode)) return 0;
  return dir_empty(p) || cli_xap_detect(p);
}

/* Number of shards of a layout (0: not a valid marker). */
static uint32_t layout_shards(const char *p) {
  char m[4096];
  snprintf(m, sizeof m, "%s/%s", p, CLI_XAP_SHARDS_MARKER);
  FILE *f = fopen(m, "r");
  if (!f) return 0;
  unsigned n = 0;
  if (fscanf(f, "kosearch xapian shards %u", &n) != 1) n = 0;
  fclose(f);
  return n <= CLI_XAP_MAX_SHARDS ? n : 0;
}

/* ---- building -------------------------------------------------------------- */

typedef struct tterm {
  uint8_t field;
  uint32_t pos;
  size_t off, len;     /* bytes in build.bytes */
} tterm;

struct cli_xap_build {
  char *out, *tmp, *old;
  uint32_t nshards;     /* 0: single database */
  size_t max_doc_bytes;
  ks_xap_writer **w;    /* max(nshards, 1) writers */
  ks_tok *tok;
  /* per-document scratch */
  tterm *terms; size_t nterms, cap;
  char *bytes; size_t nbytes, bcap;
  ks_xap_term *xt; size_t xcap;
  int oom;
  int committed;
  cli_xap_build_stats st;
};

static int on_tok(void *ctx, const ks_token *t) {
  cli_xap_build *b = ctx;
  if (b->nterms == b->cap) {
    size_t nc = b->cap ? 2 * b->cap : 256;
    tterm *p = realloc(b->terms, nc * sizeof *p);
    if (!p) return b->oom = KS_ENOMEM;
    b->terms = p, b->cap = nc;
  }
  if (b->nbytes + t->len > b->bcap) {
    size_t nc = b->bcap ? 2 * b->bcap : 4096;
    while (nc < b->nbytes + t->len) nc *= 2;
    char *p = realloc(b->bytes, nc);
    if (!p) return b->oom = KS_ENOMEM;
    b->bytes = p, b->bcap = nc;
  }
  tterm *tt = &b->terms[b->nterms++];
  tt->field = t->field;
  tt->pos = t->pos; /* document-level (ks_doc_analyze) */
  tt->off = b->nbytes;
  tt->len = t->len;
  memcpy(b->bytes + b->nbytes, t->term, t->len);
  b->nbytes += t->len;
  return 0;
}

static void build_free(cli_xap_build *b) {
  free(b->out);
  free(b->tmp);
  free(b->old);
  free(b->w);
  free(b->terms);
  free(b->bytes);
  free(b->xt);
  free(b);
}

/* Contract: xap_backend.h. */
int cli_xap_build_open(const char *out, uint32_t nshards, size_t max_doc_bytes,
                       cli_xap_build **out_b, ks_err *e) {
  *out_b = NULL;
  if (nshards > CLI_XAP_MAX_SHARDS)
    return ks_err_set(e, KS_EINVAL, "--shards must be at most %d", CLI_XAP_MAX_SHARDS);
  if (!replaceable(out))
    return ks_err_set(e, KS_EINVAL,
                      "%s: exists and is neither empty nor a kosearch Xapian "
                      "database; refusing to overwrite it",
                      out);
  cli_xap_build *b = calloc(1, sizeof *b);
  if (!b) return ks_err_set(e, KS_ENOMEM, "out of memory");
  size_t n = strlen(out) + 8;
  b->out = strdup(out);
  b->tmp = malloc(n);
  b->old = malloc(n);
  uint32_t nw = nshards ? nshards : 1;
  b->w = calloc(nw, sizeof *b->w);
  if (!b->out || !b->tmp || !b->old || !b->w) {
    build_free(b);
    return ks_err_set(e, KS_ENOMEM, "out of memory");
  }
  snprintf(b->tmp, n, "%s.tmp", out);
  snprintf(b->old, n, "%s.old", out);
  b->nshards = nshards;
  b->max_doc_bytes = max_doc_bytes;
  int rc = KS_OK;
  if (!replaceable(b->tmp) || !replaceable(b->old))
    rc = ks_err_set(e, KS_EINVAL,
                    "%s or %s: exists and is not a kosearch Xapian database; "
                    "remove it first",
                    b->tmp, b->old);
  if (rc == KS_OK) {
    rm_tree(b->tmp); /* a leftover of an interrupted build */
    rm_tree(b->old);
  }
  if (rc == KS_OK) rc = ks_tok_new(NULL, &b->tok, e);
  ks_xap_writer_opts wo;
  ks_xap_writer_opts_default(&wo);
  if (rc == KS_OK && nshards == 0) {
    rc = ks_xap_writer_open(b->tmp, &wo, &b->w[0], e);
  } else if (rc == KS_OK) {
    if (mkdir(b->tmp, 0777) != 0)
      rc = ks_err_set(e, KS_EIO, "%s: cannot create: %s", b->tmp, strerror(errno));
    char p[4096];
    for (uint32_t i = 0; rc == KS_OK && i < nshards; i++) {
      snprintf(p, sizeof p, "%s/shard-%u", b->tmp, i);
      rc = ks_xap_writer_open(p, &wo, &b->w[i], e);
    }
  }
  if (rc != KS_OK) {
    cli_xap_build_close(b);
    return rc;
  }
  *out_b = b;
  return KS_OK;
}

/* Contract: xap_backend.h. */
int cli_xap_build_add(cli_xap_build *b, const ks_doc *d, ks_err *e) {
  /* Same checks and same terms as the native writer (ks_idx.h). */
  int rc = ks_doc_validate(d, b->max_doc_bytes, e);
  if (rc) return rc;
  b->nterms = b->nbytes = 0;
  b->oom = 0;
  rc = ks_doc_analyze(b->tok, d, on_tok, b, e);
  if (b->oom) return ks_err_set(e, KS_ENOMEM, "out of memory");
  if (rc) return rc;
  if (b->nterms > b->xcap) {
    ks_xap_term *p = realloc(b->xt, b->nterms * sizeof *p);
    if (!p) return ks_err_set(e, KS_ENOMEM, "out of memory");
    b->xt = p, b->xcap = b->nterms;
  }
  for (size_t i = 0; i < b->nterms; i++) {
    b->xt[i].field = b->terms[i].field;
    b->xt[i].term = b->bytes + b->terms[i].off;
    b->xt[i].len = b->terms[i].len;
    b->xt[i].pos = b->terms[i].pos;
  }
  char *built = NULL;
  const char *js = d->json;
  size_t jl = d->json_len;
  if (!js || !jl) {
    rc = ks_doc_default_json(d, &built, &jl, e);
    if (rc) return rc;
    js = built;
  }
  uint32_t shard = b->nshards ? ks_xap_shard_of(d->id, d->id_len, b->nshards) : 0;
  ks_xap_writer *w = b->w[shard];
  ks_xap_writer_stats before, after;
  ks_xap_writer_get_stats(w, &before);
  rc = ks_xap_writer_add(w, d->id, d->id_len, js, jl, b->xt, b->nterms, e);
  ks_mem_free(built);
  if (rc == KS_EINVAL) rc = KS_EINPUT; /* the document was rejected */
  if (rc) return rc;
  ks_xap_writer_get_stats(w, &after);
  b->st.docs_added++;
  b->st.docs_replaced += after.docs_replaced - before.docs_replaced;
  b->st.postings += after.postings - before.postings;
  b->st.bytes_in += d->text_len + d->title_len;
  return KS_OK;
}

/* Contract: xap_backend.h. */
int cli_xap_build_commit(cli_xap_build *b, ks_err *e) {
  uint32_t nw = b->nshards ? b->nshards : 1;
  int rc = KS_OK;
  b->st.docs_live = 0;
  for (uint32_t i = 0; rc == KS_OK && i < nw; i++) {
    rc = ks_xap_writer_commit(b->w[i], e);
    ks_xap_writer_stats ws;
    ks_xap_writer_get_stats(b->w[i], &ws);
    b->st.docs_live += ws.docs_live;
  }
  for (uint32_t i = 0; i < nw; i++) {
    ks_xap_writer_close(b->w[i]);
    b->w[i] = NULL;
  }
  if (rc) return rc;
  if (b->nshards) {
    char m[4096];
    snprintf(m, sizeof m, "%s/%s", b->tmp, CLI_XAP_SHARDS_MARKER);
    FILE *f = fopen(m, "w");
    if (!f || fprintf(f, "kosearch xapian shards %u\n", b->nshards) < 0 || fflush(f) ||
        fsync(fileno(f))) {
      if (f) fclose(f);
      return ks_err_set(e, KS_EIO, "%s: cannot write: %s", m, strerror(errno));
    }
    if (fclose(f)) return ks_err_set(e, KS_EIO, "%s: cannot write: %s", m, strerror(errno));
  }
  /* move into place: out -> out.old, out.tmp -> out, remove out.old */
  struct stat st;
  int had = lstat(b->out, &st) == 0;
  if (had && rename(b->out, b->old) != 0)
    return ks_err_set(e, KS_EIO, "cannot rename %s to %s: %s", b->out, b->old, strerror(errno));
  if (rename(b->tmp, b->out) != 0) {
    int errsv = errno;
    if (had) rename(b->old, b->out);
    return ks_err_set(e, KS_EIO, "cannot rename %s to %s: %s", b->tmp, b->out, strerror(errsv));
  }
  if (had) rm_tree(b->old);
  b->committed = 1;
  ks_xap_db *db = NULL;
  ks_err e2;
  ks_err_clear(&e2);
  if (cli_xap_open(b->out, NULL, 0, &db, &e2) == KS_OK)
    ks_xap_count_terms(db, &b->st.words, &b->st.bigrams, &e2);
  ks_xap_close(db);
  b->st.index_bytes = cli_dir_bytes(b->out);
  return KS_OK;
}

/* Contract: xap_backend.h. */
void cli_xap_build_get_stats(const cli_xap_build *b, cli_xap_build_stats *st) {
  *st = b->st;
}

/* Contract: xap_backend.h. */
void cli_xap_build_close(cli_xap_build *b) {
  if (!b) return;
  uint32_t nw = b->nshards ? b->nshards : 1;
  for (uint32_t i = 0; i < nw; i++) ks_xap_writer_close(b->w[i]);
  if (!b->committed && b->tmp && is_dir(b->tmp)) rm_tree(b->tmp);
  ks_tok_free(b->tok);
  build_free(b);
}

/* ---- searching ------------------------------------------------------------- */

/* Contract: xap_backend.h. */
int cli_xap_open(const char *index, const char *const *specs, size_t nspecs,
                 ks_xap_db **db, ks_err *e) {
  *db = NULL;
  uint32_t nl = 0;
  if (index && !ks_xap_is_database(index)) {
    nl = layout_shards(index);
    if (nl == 0)
      return ks_err_set(e, KS_EINVAL, "%s: not a kosearch Xapian database or shard layout",
                        index);
  }
  size_t n = (index ? (nl ? nl : 1) : 0) + nspecs;
  if (n == 0) return ks_err_set(e, KS_EINVAL, "no index or --shard given");
  char **paths = calloc(n, sizeof *paths);
  const char **all = calloc(n, sizeof *all);
  int rc = paths && all ? KS_OK : ks_err_set(e, KS_ENOMEM, "out of memory");
  size_t k = 0;
  if (rc == KS_OK && index && nl == 0) all[k++] = index;
  for (uint32_t i = 0; rc == KS_OK && i < nl; i++) {
    size_t len = strlen(index) + 32;
    paths[i] = malloc(len);
    if (!paths[i]) {
      rc = ks_err_set(e, KS_ENOMEM, "out of memory");
      break;
    }
    snprintf(paths[i], len, "%s/shard-%u", index, i);
    all[k++] = paths[i];
  }
  for (size_t i = 0; rc == KS_OK && i < nspecs; i++) all[k++] = specs[i];
  if (rc == KS_OK) rc = ks_xap_open_shards(all, k, 0, db, e);
  if (paths)
    for (size_t i = 0; i < n; i++) free(paths[i]);
  free(paths);
  free(all);
  return rc;
}

/* Contract: xap_backend.h. */
int cli_xap_search(ks_xap_db *db, const char *query, const ks_search_opts *so, int pruned,
                   ks_query_plan **plan, ks_xap_results **res, ks_err *e) {
  *plan = NULL;
  *res = NULL;
  ks_query_plan *p = NULL;
  int rc = ks_query_plan_new(query, SIZE_MAX, NULL, &p, e);
  if (rc) return rc;
  size_t nc = ks_query_plan_count(p), nt = 0;
  for (size_t i = 0; i < nc; i++) {
    ks_query_clause pc;
    ks_query_plan_clause(p, i, &pc);
    nt += pc.nterms;
  }
  ks_xap_clause *cl = calloc(nc ? nc : 1, sizeof *cl);
  ks_xap_qterm *qt = calloc(nt ? nt : 1, sizeof *qt);
  if (!cl || !qt) rc = ks_err_set(e, KS_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t i = 0; rc == KS_OK && i < nc; i++) {
    ks_query_clause pc;
    ks_query_plan_clause(p, i, &pc);
    cl[i].op = pc.op; /* same values: optional 0, required 1, excluded 2 */
    cl[i].phrase = pc.phrase;
    cl[i].terms = &qt[k];
    cl[i].nterms = pc.nterms;
    cl[i].offsets = pc.offsets;
    for (size_t j = 0; j < pc.nterms; j++, k++) {
      qt[k].field = pc.terms[j].field;
      qt[k].term = pc.terms[j].term;
      qt[k].len = pc.terms[j].len;
      qt[k].wqf = pc.terms[j].count;
    }
  }
  if (rc == KS_OK) {
    ks_xap_search_opts xo;
    ks_xap_search_opts_default(&xo);
    xo.k = so->k;
    xo.k1 = so->k1;
    xo.b = so->b;
    xo.bigram_weight = so->bigram_weight;
    xo.min_normlen = so->min_normlen;
    xo.exhaustive = !pruned;
    rc = ks_xap_search(db, cl, nc, &xo, res, e);
  }
  free(cl);
  free(qt);
  if (rc) {
    ks_query_plan_free(p);
    return rc;
  }
  *plan = p;
  return KS_OK;
}
