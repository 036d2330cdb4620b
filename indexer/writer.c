/*
 * writer.c - implements ks_idx.h: the index writer (document validation,
 * analysis into the in-memory index, flushes, duplicate ids, merge and the
 * atomic commit).
 *
 * Life of a document: ks_index_writer_add validates it, analyzes title then text
 * into the memindex (title positions first; text positions continue after
 * a gap of one so that no phrase spans title and text), appends its stored
 * JSON to the current segment's .sto writer and its field lengths to
 * `lens`. When the memindex exceeds the memory budget, the current
 * segment's term files are written (flush) and a new segment starts.
 *
 * Threads (opts.threads >= 2; everything else is on the caller's thread):
 *   analysis worker  analyzes batches of documents into token records
 *                    while the caller indexes the previous batch;
 *   flusher          writes a sealed segment (memindex -> term files,
 *                    .sto finish) while the caller fills the next one;
 *   helpers of one ks_stow / ks_segw: compression of stored blocks,
 *                    encoding of postings (segwriter.c, stowriter.c).
 * Document numbers, terms and postings do not depend on the threads: every
 * hand-over is in order, and a merged index has the same term files.
 *
 * Commit (the only step that changes what readers see):
 *   1. flush; 2. merge all flushed segments into one (opts.merge), dropping
 *   documents replaced by a later duplicate id, or else write .del files;
 *   3. ks_manifest_write (temp + fsync + rename + dir fsync);
 *   4. delete files no longer named by the MANIFEST.
 * Files of uncommitted segments are removed by ks_index_writer_close, and any
 * left by a crash are removed by the next ks_index_writer_open (garbage
 * collection under the lock), so a crash anywhere before step 3 leaves the
 * previous commit untouched and readable.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deletions_int.h"
#include "dict_int.h"
#include "dir_int.h"
#include "docstore_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "index_writer.h"
#include "manifest_int.h"
#include "memindex_int.h"
#include "merge_int.h"
#include "segment_int.h"
#include "segwriter_int.h"


/* A sealed segment handed to the flusher thread. state: 0 none, 1 to
 * write, 2 written (rc/err/nterms/npostings set); guarded by flock. */
typedef struct flush_job {
  ks_memindex *mi;
  ks_stow *sto;
  ks_buf lens;
  uint32_t segno, ndocs;
  uint64_t base;        /* global number of its first document */
  size_t bytes;         /* memory it holds (counted against the budget) */
  int state, rc;
  ks_err err;
  uint64_t nterms, npostings;
} flush_job;

typedef struct flushed {
  uint32_t segno;
  uint32_t ndocs;
  uint64_t base;        /* global number of its first document */
} flushed;

struct ks_index_writer {
  char *dir;
  ks_writer_opts opts;
  int lock_fd;
  ks_manifest old;      /* the commit being replaced (may have 0 segs) */
  int have_old;
  uint32_t next_segno;
  ks_tok *tok;
  ks_buf toks;          /* token records (unthreaded path) */
  /* analysis worker (opts.threads >= 2): batches cycle filling -> job
   * (being analyzed) -> in_flight done -> indexed -> spare */
  int threaded;
  pthread_t worker;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int quit;
  ks_tok *worker_tok;
  struct batch *job, *job_done, *in_flight, *filling, *spare;
  struct batch *batches;      /* the three batches */
  uint64_t queued;            /* documents accepted, not yet indexed */
  /* flusher thread (opts.threads >= 2) */
  int flusher_on, fquit, finflight;
  pthread_t flusher;
  pthread_mutex_t flock;
  pthread_cond_t fcond;
  flush_job fjob;
  /* current segment */
  ks_memindex *mi;
  ks_stow *sto;
  uint32_t cur_segno;
  uint32_t cur_ndocs;
  ks_buf lens;          /* u32 per (doc, field) of the current segment */
  /* all segments written by this writer */
  flushed *segs;
  uint32_t nsegs, segs_cap;
  uint64_t ndocs_total; /* global documents, incl. replaced */
  ks_buf deleted;       /* bitmap over global documents */
  /* id -> global doc: open addressing over `ids` */
  ks_buf ids;           /* id bytes */
  uint64_t *id_ent;     /* per slot: 0 empty, else (doc+1) ; id offset/len */
  uint32_t *id_off, *id_len;
  size_t id_slots, id_count;
  int committed, broken;
  ks_writer_stats st;
};

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

void ks_writer_opts_default(ks_writer_opts *o) {
  memset(o, 0, sizeof *o);
  o->mem_budget = (size_t)256 << 20;
  o->merge = 1;
  o->max_doc_bytes = (size_t)64 << 20;
  ks_tok_config_default(&o->tok);
  o->fsync = 1;
  o->threads = 2;
}

static int start_worker(ks_index_writer *w, ks_err *err);
struct batch;
static void batch_free(struct batch *b);

/* ---- directory handling ------------------------------------------------- */

/* Remove segment files (and MANIFEST.tmp) not named by `keep`. */
static void collect_garbage(const char *dir, const ks_manifest *keep) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    uint32_t segno;
    if (!ks_dir_own_name(e->d_name, &segno)) continue;
    int drop = !strcmp(e->d_name, "MANIFEST.tmp");
    if (segno != UINT32_MAX) {
      drop = 1;
      for (uint32_t i = 0; keep && i < keep->nsegs; i++)
        if (keep->segs[i].segno == segno) drop = 0;
    }
    if (drop) {
      char *p = ks_dir_file(dir, e->d_name);
      if (p) unlink(p);
      ks_free(p);
    }
  }
  closedir(d);
}

/* 1 if dir contains something that is not ours. */
static int has_foreign_files(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int foreign = 0;
  while ((e = readdir(d))) {
    uint32_t segno;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (!ks_dir_own_name(e->d_name, &segno)) foreign = 1;
  }
  closedir(d);
  return foreign;
}

int ks_index_writer_open(const char *dir, const ks_writer_opts *opts,
                   ks_index_writer **out, ks_err *err) {
  *out = NULL;
  ks_index_writer *w = ks_calloc(1, sizeof *w);
  if (!w) return oom(err);
  w->lock_fd = -1;
  if (opts) w->opts = *opts;
  else ks_writer_opts_default(&w->opts);
  if (w->opts.mem_budget < ((size_t)1 << 20)) w->opts.mem_budget = (size_t)1 << 20; /* a fresh memindex already holds ~0.3 MiB */
  int rc = KS_OK;
  if (!(w->dir = ks_strndup(dir, strlen(dir)))) rc = oom(err);
  if (!rc && mkdir(dir, 0777) != 0 && errno != EEXIST)
    rc = ks_err_set(err, KS_EIO, "[idx][open] cannot create %s: %s", dir, strerror(errno));
  if (!rc) {
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
      rc = ks_err_set(err, KS_EINVAL, "[idx][open] %s is not a directory", dir);
  }
  /* Refuse a foreign directory before creating anything in it. */
  char *mp = rc ? NULL : ks_dir_file(dir, "MANIFEST");
  if (!rc && !mp) rc = oom(err);
  if (!rc && access(mp, F_OK) != 0 && has_foreign_files(dir))
    rc = ks_err_set(err, KS_EINVAL, "[idx][open] %s is not empty and is not a "
                    "kosearch index; refusing to write into it", dir);
  ks_free(mp);
  if (!rc) {
    char *lp = ks_dir_file(dir, "LOCK");
    if (!lp) rc = oom(err);
    else if ((w->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
      rc = ks_err_set(err, KS_EIO, "[idx][open] %s: %s", lp, strerror(errno));
    else if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0)
      rc = ks_err_set(err, KS_ELOCKED, "[idx][open] %s is locked by another writer", dir);
    ks_free(lp);
  }
  if (!rc) {
    int r = ks_manifest_read(dir, &w->old, err);
    if (r == KS_OK) {
      w->have_old = 1;
      w->next_segno = w->old.next_segno;
    } else if (r == KS_NOTFOUND) {
      ks_err_clear(err);
      w->next_segno = 1;
    } else {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err ? err->msg : "[idx][open] cannot read MANIFEST");
      rc = ks_err_set(err, r, "%s (remove the directory to rebuild the index)", msg);
    }
  }
  if (!rc) collect_garbage(dir, w->have_old ? &w->old : NULL);
  if (!rc) rc = ks_tok_new(&w->opts.tok, &w->tok, err);
  if (!rc && w->opts.threads >= 2) rc = start_worker(w, err);
  if (rc) {
    ks_index_writer_close(w);
    return rc;
  }
  *out = w;
  return KS_OK;
}

/* ---- duplicate ids ------------------------------------------------------ */

static uint32_t id_hash(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* Record id -> doc; if the id was seen, return the previous doc in *prev
 * (else UINT64_MAX). */
static int id_put(ks_index_writer *w, const char *id, size_t n, uint64_t doc, uint64_t *prev) {
  *prev = UINT64_MAX;
  if ((w->id_count + 1) * 2 > w->id_slots) {
    size_t ns = w->id_slots ? w->id_slots * 2 : 1u << 16;
    uint64_t *ent = ks_calloc(ns, sizeof *ent);
    uint32_t *off = ks_malloc(ns * sizeof *off), *len = ks_malloc(ns * sizeof *len);
    if (!ent || !off || !len) {
      ks_free(ent); ks_free(off); ks_free(len);
      return -1;
    }
    for (size_t i = 0; i < w->id_slots; i++) {
      if (!w->id_ent[i]) continue;
      size_t j = id_hash((char *)w->ids.data + w->id_off[i], w->id_len[i]) & (ns - 1);
      while (ent[j]) j = (j + 1) & (ns - 1);
      ent[j] = w->id_ent[i];
      off[j] = w->id_off[i];
      len[j] = w->id_len[i];
    }
    ks_free(w->id_ent); ks_free(w->id_off); ks_free(w->id_len);
    w->id_ent = ent; w->id_off = off; w->id_len = len;
    w->id_slots = ns;
  }
  size_t j = id_hash(id, n) & (w->id_slots - 1);
  while (w->id_ent[j]) {
    if (w->id_len[j] == n && !memcmp(w->ids.data + w->id_off[j], id, n)) {
      *prev = w->id_ent[j] - 1;
      w->id_ent[j] = doc + 1;
      return 0;
    }
    j = (j + 1) & (w->id_slots - 1);
  }
  if (w->ids.len + n > UINT32_MAX || ks_buf_append(&w->ids, id, n)) return -1;
  w->id_ent[j] = doc + 1;
  w->id_off[j] = (uint32_t)(w->ids.len - n);
  w->id_len[j] = (uint32_t)n;
  w->id_count++;
  return 0;
}

static int mark_deleted(ks_index_writer *w, uint64_t doc) {
  size_t need = (size_t)(doc / 8) + 1;
  if (w->deleted.len < need) {
    if (ks_buf_reserve(&w->deleted, need - w->deleted.len)) return -1;
    memset(w->deleted.data + w->deleted.len, 0, need - w->deleted.len);
    w->deleted.len = need;
  }
  w->deleted.data[doc / 8] |= (uint8_t)(1u << (doc % 8));
  return 0;
}

/* ---- adding documents ---------------------------------------------------- */

/* ---- analysis ----------------------------------------------------------------
 * A document's terms are first written to a token buffer, one record per
 * term (REC_HEAD below). The buffer is then replayed into the memindex. With opts.threads
 * >= 2 the analysis of a batch of documents runs on a worker thread while
 * the caller's thread indexes the previous batch and reads the next one.
 */

/* ks_doc_analyze: title, then text, with positions continuing after a gap
 * of one so that no phrase spans the two. */
typedef struct doc_pass {
  ks_tok_cb cb;                   /* the caller's callback */
  void *ctx;
  ks_err *err;
  uint32_t pos_base[KS_NFIELDS];  /* added to the analyzer's positions */
  uint32_t pos_max[KS_NFIELDS];
  int any[KS_NFIELDS];
} doc_pass;

static int doc_pass_cb(void *ctx, const ks_token *t) {
  doc_pass *a = ctx;
  ks_token u = *t;
  u.pos = a->pos_base[t->field] + t->pos;
  if (u.pos < a->pos_base[t->field])
    return ks_err_set(a->err, KS_ELIMIT, "[idx][analyze] more than 2^32 positions");
  if (!a->any[t->field] || u.pos > a->pos_max[t->field]) a->pos_max[t->field] = u.pos;
  a->any[t->field] = 1;
  return a->cb(a->ctx, &u);
}

int ks_doc_analyze(ks_tok *tok, const ks_doc *d, ks_tok_cb cb, void *ctx, ks_err *err) {
  doc_pass a;
  memset(&a, 0, sizeof a);
  a.cb = cb;
  a.ctx = ctx;
  a.err = err;
  int rc = KS_OK;
  if (d->title && d->title_len) {
    rc = ks_tok_run(tok, KS_TOK_DOCUMENT, d->title, d->title_len, doc_pass_cb, &a, err);
    for (int f = 0; f < KS_NFIELDS && !rc; f++)
      if (a.any[f]) a.pos_base[f] = a.pos_max[f] + 2;
  }
  if (!rc) rc = ks_tok_run(tok, KS_TOK_DOCUMENT, d->text, d->text_len, doc_pass_cb, &a, err);
  return rc;
}

/* Token record: u8 key length, u32 position, u32 key hash (host order),
 * key bytes. The hash is computed on the analysis thread. */
#define REC_HEAD 9

typedef struct analysis {
  ks_buf *out;                    /* token records */
  ks_err *err;
  uint32_t doclen[KS_NFIELDS];    /* terms per field */
} analysis;

static int tok_cb(void *ctx, const ks_token *t) {
  analysis *a = ctx;
  a->doclen[t->field]++;
  uint8_t rec[REC_HEAD + KS_TOK_MAX_TERM + 2];
  size_t kl = ks_term_key((char *)rec + REC_HEAD, t->field, t->term, t->len);
  uint32_t h = ks_memindex_hash((const char *)rec + REC_HEAD, kl);
  rec[0] = (uint8_t)kl;
  memcpy(rec + 1, &t->pos, 4);
  memcpy(rec + 5, &h, 4);
  if (ks_buf_append(a->out, rec, REC_HEAD + kl))
    return ks_err_set(a->err, KS_ENOMEM, "[idx][add] out of memory");
  return KS_OK;
}

/* Analyze a document into token records appended to out; fills doclen. */
static int analyze_doc(ks_tok *tok, const ks_doc *d, ks_buf *out,
                       uint32_t doclen[KS_NFIELDS], ks_err *err) {
  analysis a;
  memset(&a, 0, sizeof a);
  a.out = out;
  a.err = err;
  int rc = ks_doc_analyze(tok, d, tok_cb, &a, err);
  memcpy(doclen, a.doclen, sizeof a.doclen);
  return rc;
}

static int start_segment(ks_index_writer *w, ks_err *err) {
  int rc = ks_memindex_new(&w->mi, err);
  if (rc) return rc;
  w->cur_segno = w->next_segno++;
  w->cur_ndocs = 0;
  ks_buf_reset(&w->lens);
  rc = ks_stow_open(&w->sto, w->dir, w->cur_segno, w->opts.fsync, err);
  if (!rc && w->threaded) rc = ks_stow_set_async(w->sto, err);
  return rc;
}

/* Write a segment's term files from mi and finish its .sto; consumes mi
 * and sto whatever the result. Adds its term and posting counts to
 * *nterms / *npostings. Runs on the caller's thread or on the flusher. */
static int write_segment(const char *dir, ks_memindex *mi, ks_stow *sto, uint32_t segno,
                         uint32_t ndocs, const uint32_t *lens, int do_fsync, int async,
                         uint64_t *nterms, uint64_t *npostings, ks_err *err) {
  ks_segw *sw = NULL;
  int rc = ks_segw_open(&sw, dir, segno, ndocs, lens, do_fsync, err);
  if (!rc && async) rc = ks_segw_set_async(sw, err); /* encode while mi is read */
  if (!rc) rc = ks_memindex_write(mi, sw, err);
  if (!rc) rc = ks_segw_drain(sw, err);
  if (!rc) {
    *nterms += ks_segw_nterms(sw);
    *npostings += ks_segw_npostings(sw);
    rc = ks_segw_finish(sw, err);
    sw = NULL;
  }
  ks_segw_abort(sw);
  if (!rc) rc = ks_stow_finish(sto, err);
  else ks_stow_abort(sto);
  ks_memindex_free(mi);
  return rc;
}

/* Append a written segment to w->segs. */
static int record_segment(ks_index_writer *w, uint32_t segno, uint32_t ndocs, uint64_t base,
                          ks_err *err) {
  if (w->nsegs == w->segs_cap) {
    uint32_t cap = w->segs_cap ? w->segs_cap * 2 : 8;
    flushed *p = ks_realloc(w->segs, cap * sizeof *p);
    if (!p) return oom(err);
    w->segs = p;
    w->segs_cap = cap;
  }
  w->segs[w->nsegs].segno = segno;
  w->segs[w->nsegs].ndocs = ndocs;
  w->segs[w->nsegs].base = base;
  w->nsegs++;
  w->st.segments_flushed = w->nsegs;
  return KS_OK;
}

/* Write the current segment on the caller's thread. */
static int flush_segment(ks_index_writer *w, ks_err *err) {
  if (!w->mi) return KS_OK;
  /* Summed over flushed segments; the merge replaces them with exact
   * figures for the single merged segment. */
  int rc = write_segment(w->dir, w->mi, w->sto, w->cur_segno, w->cur_ndocs,
                         (const uint32_t *)w->lens.data, w->opts.fsync, w->threaded,
                         &w->st.terms, &w->st.postings, err);
  w->sto = NULL;
  w->mi = NULL;
  if (rc) return rc;
  return record_segment(w, w->cur_segno, w->cur_ndocs, w->ndocs_total - w->cur_ndocs, err);
}

/* ---- the flusher thread (opts.threads >= 2) ------------------------------
 * A full segment is sealed and written by the flusher while the caller's
 * thread fills the next one. At most one segment is in flight, and the
 * in-flight segment's bytes count against the memory budget: a segment is
 * sealed at half the budget, and the caller waits for the flusher whenever
 * the two together would exceed the budget. Segments are recorded in
 * w->segs in sealing order (the order of their documents). */

static void *flusher_main(void *arg) {
  ks_index_writer *w = arg;
  pthread_mutex_lock(&w->flock);
  for (;;) {
    while (!w->fquit && w->fjob.state != 1) pthread_cond_wait(&w->fcond, &w->flock);
    if (w->fjob.state != 1) break; /* quit with nothing pending */
    pthread_mutex_unlock(&w->flock);
    flush_job *j = &w->fjob;
    ks_err_clear(&j->err);
    j->nterms = j->npostings = 0;
    j->rc = write_segment(w->dir, j->mi, j->sto, j->segno, j->ndocs,
                          (const uint32_t *)j->lens.data, w->opts.fsync, 1, &j->nterms,
                          &j->npostings, &j->err);
    j->mi = NULL;
    j->sto = NULL;
    pthread_mutex_lock(&w->flock);
    j->state = 2;
    pthread_cond_broadcast(&w->fcond);
  }
  pthread_mutex_unlock(&w->flock);
  return NULL;
}

/* Wait for the segment in flight (if any) and record it. */
static int wait_flush(ks_index_writer *w, ks_err *err) {
  if (!w->finflight) return KS_OK;
  pthread_mutex_lock(&w->flock);
  while (w->fjob.state != 2) pthread_cond_wait(&w->fcond, &w->flock);
  w->fjob.state = 0;
  pthread_mutex_unlock(&w->flock);
  w->finflight = 0;
  flush_job *j = &w->fjob;
  if (j->rc) {
    if (err) *err = j->err;
    return j->rc;
  }
  w->st.terms += j->nterms;
  w->st.postings += j->npostings;
  return record_segment(w, j->segno, j->ndocs, j->base, err);
}

/* Hand the current segment to the flusher (after the previous one is
 * written); the next document starts a new segment. */
static int seal_segment(ks_index_writer *w, ks_err *err) {
  int rc = wait_flush(w, err);
  if (rc || !w->mi) return rc;
  flush_job *j = &w->fjob;
  j->mi = w->mi;
  j->sto = w->sto;
  ks_buf t = j->lens; /* swap: the job gets this segment's lengths */
  j->lens = w->lens;
  w->lens = t;
  ks_buf_reset(&w->lens);
  j->segno = w->cur_segno;
  j->ndocs = w->cur_ndocs;
  j->base = w->ndocs_total - w->cur_ndocs;
  j->bytes = ks_memindex_bytes(w->mi) + j->lens.cap;
  w->mi = NULL;
  w->sto = NULL;
  pthread_mutex_lock(&w->flock);
  j->state = 1;
  pthread_cond_broadcast(&w->fcond);
  pthread_mutex_unlock(&w->flock);
  w->finflight = 1;
  return KS_OK;
}

static int start_flusher(ks_index_writer *w, ks_err *err) {
  pthread_mutex_init(&w->flock, NULL);
  pthread_cond_init(&w->fcond, NULL);
  if (pthread_create(&w->flusher, NULL, flusher_main, w) != 0) {
    pthread_mutex_destroy(&w->flock);
    pthread_cond_destroy(&w->fcond);
    return ks_err_set(err, KS_ENOMEM, "[idx][open] cannot start the flush thread");
  }
  w->flusher_on = 1;
  return KS_OK;
}

static void stop_flusher(ks_index_writer *w) {
  if (!w->flusher_on) return;
  ks_err ignored;
  wait_flush(w, &ignored); /* its files are removed by the caller if uncommitted */
  pthread_mutex_lock(&w->flock);
  w->fquit = 1;
  pthread_cond_broadcast(&w->fcond);
  pthread_mutex_unlock(&w->flock);
  pthread_join(w->flusher, NULL);
  pthread_mutex_destroy(&w->flock);
  pthread_cond_destroy(&w->fcond);
  ks_buf_free(&w->fjob.lens);
  w->flusher_on = 0;
}

static int contains_nul(const char *s, size_t n) { return n && memchr(s, 0, n) != NULL; }

/* Build {"id":...,"title":...,"text":...} for documents given without JSON. */
static int json_escape(ks_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  int rc = ks_buf_put_u8(b, '"');
  for (size_t i = 0; i < n && !rc; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      rc = ks_buf_put_u8(b, '\\');
      if (!rc) rc = ks_buf_put_u8(b, c);
    } else if (c < 0x20) {
      char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
      rc = ks_buf_append(b, e, 6);
    } else {
      rc = ks_buf_put_u8(b, c);
    }
  }
  if (!rc) rc = ks_buf_put_u8(b, '"');
  return rc;
}

/* {"id":...,"title":...,"text":...} appended to b. KS_OK or KS_ENOMEM. */
static int default_json(ks_buf *b, const ks_doc *d) {
  int rc = ks_buf_append(b, "{\"id\":", 6);
  if (!rc) rc = json_escape(b, d->id, d->id_len);
  if (!rc) rc = ks_buf_append(b, ",\"title\":", 9);
  if (!rc) rc = json_escape(b, d->title ? d->title : "", d->title ? d->title_len : 0);
  if (!rc) rc = ks_buf_append(b, ",\"text\":", 8);
  if (!rc) rc = json_escape(b, d->text, d->text_len);
  if (!rc) rc = ks_buf_put_u8(b, '}');
  return rc;
}

int ks_doc_default_json(const ks_doc *d, char **json, size_t *len, ks_err *err) {
  ks_buf b = KS_BUF_INIT;
  *json = NULL;
  if (default_json(&b, d) || ks_buf_put_u8(&b, 0)) {
    ks_buf_free(&b);
    return oom(err);
  }
  *json = (char *)b.data;
  if (len) *len = b.len - 1;
  return KS_OK;
}

int ks_doc_validate(const ks_doc *d, size_t max_doc_bytes, ks_err *err) {
  size_t bad;
  if (!d->id || d->id_len == 0)
    return ks_err_set(err, KS_EINPUT, "document has no id");
  if (d->id_len > KS_MAX_ID_BYTES)
    return ks_err_set(err, KS_EINPUT, "id is longer than %d bytes", KS_MAX_ID_BYTES);
  if (!d->text)
    return ks_err_set(err, KS_EINPUT, "document has no text");
  if (d->text_len == 0)
    return ks_err_set(err, KS_EINPUT, "empty document (text is empty)");
  if (d->text_len + d->title_len > max_doc_bytes)
    return ks_err_set(err, KS_ELIMIT, "document too large (%zu bytes; limit %zu)",
                      d->text_len + d->title_len, max_doc_bytes);
  if (contains_nul(d->id, d->id_len) || contains_nul(d->title, d->title_len) ||
      contains_nul(d->text, d->text_len))
    return ks_err_set(err, KS_EINPUT, "document contains a NUL byte");
  if (!ks_utf8_valid(d->id, d->id_len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in id at byte %zu", bad);
  if (d->title && !ks_utf8_valid(d->title, d->title_len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in title at byte %zu", bad);
  if (!ks_utf8_valid(d->text, d->text_len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in text at byte %zu", bad);
  return KS_OK;
}

/* Index one analyzed document: replay its token records into the
 * memindex, store it, record its lengths and id, flush when over budget.
 * Any error is fatal for the writer. */
static int index_doc(ks_index_writer *w, const ks_doc *d, const uint8_t *toks, size_t ntok_bytes,
                     const uint32_t doclen[KS_NFIELDS], ks_err *err) {
  int rc = KS_OK;
  if (!w->mi && (rc = start_segment(w, err))) return rc;
  ks_memindex_begin_doc(w->mi, w->cur_ndocs);
  /* Two lookahead cursors prefetch the hash slot 16 records ahead and the
   * term record 8 ahead: the table is far larger than the caches. */
  const uint8_t *end = toks + ntok_bytes, *far = toks, *near = toks;
  uint32_t h;
  for (int k = 0; k < 16 && far < end; k++, far += REC_HEAD + far[0]) {
    memcpy(&h, far + 5, 4);
    ks_memindex_prefetch(w->mi, h);
  }
  for (int k = 0; k < 8 && near < end; k++, near += REC_HEAD + near[0]) {
    memcpy(&h, near + 5, 4);
    ks_memindex_prefetch_term(w->mi, h);
  }
  for (const uint8_t *p = toks; p < end && !rc; p += REC_HEAD + p[0]) {
    if (far < end) {
      memcpy(&h, far + 5, 4);
      ks_memindex_prefetch(w->mi, h);
      far += REC_HEAD + far[0];
    }
    if (near < end) {
      memcpy(&h, near + 5, 4);
      ks_memindex_prefetch_term(w->mi, h);
      near += REC_HEAD + near[0];
    }
    uint32_t pos;
    memcpy(&pos, p + 1, 4);
    memcpy(&h, p + 5, 4);
    rc = ks_memindex_add_hashed(w->mi, (const char *)p + REC_HEAD, p[0], h, pos, err);
  }
  if (!rc) rc = ks_memindex_end_doc(w->mi, err);
  if (rc) return rc;
  /* Stored form. */
  ks_buf json = KS_BUF_INIT;
  const char *js = d->json;
  size_t jl = d->json_len;
  if (!js || !jl) {
    if (default_json(&json, d)) { ks_buf_free(&json); return oom(err); }
    js = (const char *)json.data;
    jl = json.len;
  }
  rc = ks_stow_add(w->sto, d->id, d->id_len, js, jl, err);
  ks_buf_free(&json);
  if (rc) return rc;
  for (int f = 0; f < KS_NFIELDS; f++)
    if (ks_buf_put_u32(&w->lens, doclen[f])) return oom(err);
  uint64_t prev, doc = w->ndocs_total;
  if (id_put(w, d->id, d->id_len, doc, &prev) ||
      (prev != UINT64_MAX && mark_deleted(w, prev)))
    return oom(err);
  if (prev != UINT64_MAX) w->st.docs_replaced++;
  w->cur_ndocs++;
  w->ndocs_total++;
  w->st.docs_added++;
  w->st.bytes_in += d->text_len + d->title_len;
  size_t used = ks_memindex_bytes(w->mi) + w->lens.cap + w->ids.cap;
  if (w->flusher_on) {
    /* the segment in flight counts too: wait for it rather than exceed */
    if (w->finflight && used + w->fjob.bytes >= w->opts.mem_budget) rc = wait_flush(w, err);
    if (!rc && (used >= w->opts.mem_budget / 2 || w->cur_ndocs >= KS_MAX_DOCS - 1))
      rc = seal_segment(w, err);
  } else if (used >= w->opts.mem_budget || w->cur_ndocs >= KS_MAX_DOCS - 1) {
    rc = flush_segment(w, err);
  }
  return rc;
}

/* ---- the analysis worker ---------------------------------------------------- */

#define BATCH_BYTES ((size_t)1 << 20) /* text per batch before dispatch */
#define BATCH_DOCS 512

typedef struct batch_doc {
  size_t id, id_len, title, title_len, text, text_len, json, json_len; /* in arena */
  int has_title, has_json;
  size_t tok, tok_len;                   /* in toks */
  uint32_t doclen[KS_NFIELDS];
} batch_doc;

typedef struct batch {
  ks_buf arena;        /* copies of the documents' bytes */
  batch_doc *docs;
  size_t ndocs, cap;
  ks_buf toks;         /* token records of all documents */
  int rc;              /* analysis result */
  ks_err err;
} batch;

static void batch_reset(batch *b) {
  ks_buf_reset(&b->arena);
  ks_buf_reset(&b->toks);
  b->ndocs = 0;
  b->rc = KS_OK;
}

static void batch_free(batch *b) {
  ks_buf_free(&b->arena);
  ks_buf_free(&b->toks);
  ks_free(b->docs);
  memset(b, 0, sizeof *b);
}

static ks_doc batch_get(const batch *b, const batch_doc *e) {
  const char *a = (const char *)b->arena.data;
  ks_doc d;
  d.id = a + e->id;
  d.id_len = e->id_len;
  d.title = e->has_title ? a + e->title : NULL;
  d.title_len = e->title_len;
  d.text = a + e->text;
  d.text_len = e->text_len;
  d.json = e->has_json ? a + e->json : NULL;
  d.json_len = e->json_len;
  return d;
}

static int batch_add(batch *b, const ks_doc *d) {
  if (b->ndocs == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    batch_doc *p = ks_realloc(b->docs, cap * sizeof *p);
    if (!p) return KS_ENOMEM;
    b->docs = p;
    b->cap = cap;
  }
  batch_doc *e = &b->docs[b->ndocs];
  memset(e, 0, sizeof *e);
  e->id = b->arena.len;
  e->id_len = d->id_len;
  if (ks_buf_append(&b->arena, d->id, d->id_len)) return KS_ENOMEM;
  e->has_title = d->title != NULL;
  e->title = b->arena.len;
  e->title_len = d->title ? d->title_len : 0;
  if (d->title && ks_buf_append(&b->arena, d->title, d->title_len)) return KS_ENOMEM;
  e->text = b->arena.len;
  e->text_len = d->text_len;
  if (ks_buf_append(&b->arena, d->text, d->text_len)) return KS_ENOMEM;
  e->has_json = d->json && d->json_len;
  e->json = b->arena.len;
  e->json_len = e->has_json ? d->json_len : 0;
  if (e->has_json && ks_buf_append(&b->arena, d->json, d->json_len)) return KS_ENOMEM;
  b->ndocs++;
  return KS_OK;
}

/* Analyze every document of b with tok (worker side, or inline). */
static void batch_analyze(batch *b, ks_tok *tok) {
  ks_buf_reset(&b->toks);
  for (size_t i = 0; i < b->ndocs && !b->rc; i++) {
    batch_doc *e = &b->docs[i];
    ks_doc d = batch_get(b, e);
    e->tok = b->toks.len;
    b->rc = analyze_doc(tok, &d, &b->toks, e->doclen, &b->err);
    e->tok_len = b->toks.len - e->tok;
  }
}

/* Index the analyzed documents of b in order (caller's thread). */
static int batch_index(ks_index_writer *w, batch *b, ks_err *err) {
  if (b->rc) {
    if (err) *err = b->err;
    return b->rc;
  }
  int rc = KS_OK;
  for (size_t i = 0; i < b->ndocs && !rc; i++) {
    const batch_doc *e = &b->docs[i];
    ks_doc d = batch_get(b, e);
    rc = index_doc(w, &d, b->toks.data + e->tok, e->tok_len, e->doclen, err);
  }
  batch_reset(b);
  return rc;
}

static void *worker_main(void *arg) {
  ks_index_writer *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->quit && !w->job) pthread_cond_wait(&w->cond, &w->lock);
    if (w->quit && !w->job) break;
    batch *b = w->job;
    pthread_mutex_unlock(&w->lock);
    batch_analyze(b, w->worker_tok);
    pthread_mutex_lock(&w->lock);
    w->job = NULL;
    w->job_done = b;
    pthread_cond_broadcast(&w->cond);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* Start the analysis thread (opts.threads >= 2). */
static int start_worker(ks_index_writer *w, ks_err *err) {
  w->batches = ks_calloc(2, sizeof *w->batches);
  if (!w->batches) return oom(err);
  int rc = ks_tok_new(&w->opts.tok, &w->worker_tok, err);
  if (rc) return rc;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (pthread_create(&w->worker, NULL, worker_main, w) != 0) {
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    return ks_err_set(err, KS_ENOMEM, "[idx][open] cannot start the analysis thread");
  }
  w->threaded = 1;
  rc = start_flusher(w, err);
  if (rc) return rc;
  w->filling = &w->batches[0];
  w->spare = &w->batches[1];
  return KS_OK;
}

/* Wait for the batch in flight (if any) and index it. */
static int drain_in_flight(ks_index_writer *w, ks_err *err) {
  if (!w->in_flight) return KS_OK;
  pthread_mutex_lock(&w->lock);
  while (w->job_done != w->in_flight) pthread_cond_wait(&w->cond, &w->lock);
  w->job_done = NULL;
  pthread_mutex_unlock(&w->lock);
  batch *b = w->in_flight;
  w->in_flight = NULL;
  w->spare = b;
  return batch_index(w, b, err);
}

/* Hand the filling batch to the worker, then index the previous one while
 * it is being analyzed. */
static int dispatch(ks_index_writer *w, ks_err *err) {
  batch *b = w->filling;
  if (!b || b->ndocs == 0) return KS_OK;
  batch *prev = w->in_flight;
  if (prev) {
    pthread_mutex_lock(&w->lock);
    while (w->job_done != prev) pthread_cond_wait(&w->cond, &w->lock);
    w->job_done = NULL;
    pthread_mutex_unlock(&w->lock);
  }
  pthread_mutex_lock(&w->lock);
  w->job = b;
  w->in_flight = b;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
  w->filling = w->spare;
  w->spare = NULL;
  int rc = prev ? batch_index(w, prev, err) : KS_OK;
  if (!w->filling) w->filling = prev;
  else if (prev) w->spare = prev;
  return rc;
}

/* Index everything still queued (commit). */
static int drain_all(ks_index_writer *w, ks_err *err) {
  if (!w->threaded) return KS_OK;
  int rc = drain_in_flight(w, err);
  if (!rc && w->filling && w->filling->ndocs > 0) {
    rc = dispatch(w, err);
    if (!rc) rc = drain_in_flight(w, err);
  }
  return rc;
}

int ks_index_writer_add(ks_index_writer *w, const ks_doc *d, ks_err *err) {
  if (w->broken || w->committed)
    return ks_err_set(err, KS_EINVAL, "[idx][add] writer is %s",
                      w->committed ? "already committed" : "unusable after an earlier error");
  int rc = ks_doc_validate(d, w->opts.max_doc_bytes, err);
  if (rc) return rc;
  if (w->ndocs_total + w->queued >= 0xffffffffull * 16)
    return ks_err_set(err, KS_ELIMIT, "[idx][add] too many documents");
  if (w->threaded) {
    if (batch_add(w->filling, d)) {
      rc = oom(err);
      goto fatal;
    }
    w->queued++;
    if (w->filling->arena.len >= BATCH_BYTES || w->filling->ndocs >= BATCH_DOCS) {
      w->queued = 0;
      if ((rc = dispatch(w, err))) goto fatal;
    }
    return KS_OK;
  }
  uint32_t doclen[KS_NFIELDS];
  ks_buf_reset(&w->toks);
  rc = analyze_doc(w->tok, d, &w->toks, doclen, err);
  if (!rc) rc = index_doc(w, d, w->toks.data, w->toks.len, doclen, err);
  if (!rc) return KS_OK;
fatal:
  w->broken = 1;
  return rc;
}

/* ---- commit ----------------------------------------------------------------- */

static int seg_deleted(const ks_index_writer *w, const flushed *s, uint32_t d) {
  uint64_t g = s->base + d;
  return g / 8 < w->deleted.len && ((w->deleted.data[g / 8] >> (g % 8)) & 1);
}

/* Copy the deletion bits of segment s into a fresh bitmap (NULL if none). */
static uint8_t *seg_bitmap(const ks_index_writer *w, const flushed *s, uint32_t *count) {
  *count = 0;
  for (uint32_t d = 0; d < s->ndocs; d++) *count += (uint32_t)seg_deleted(w, s, d);
  if (*count == 0) return NULL;
  uint8_t *bm = ks_calloc(((size_t)s->ndocs + 7) / 8 + 1, 1);
  if (!bm) return NULL;
  for (uint32_t d = 0; d < s->ndocs; d++)
    if (seg_deleted(w, s, d)) bm[d / 8] |= (uint8_t)(1u << (d % 8));
  return bm;
}

int ks_index_writer_commit(ks_index_writer *w, ks_err *err) {
  if (w->broken || w->committed)
    return ks_err_set(err, KS_EINVAL, "[idx][commit] writer is %s",
                      w->committed ? "already committed" : "unusable after an earlier error");
  int rc = drain_all(w, err);
  if (!rc) rc = wait_flush(w, err);
  if (!rc) rc = flush_segment(w, err);
  ks_manifest m;
  memset(&m, 0, sizeof m);
  if (!rc && !(m.segs = ks_calloc(w->nsegs + 1, sizeof *m.segs))) rc = oom(err);
  uint32_t total_del = 0;
  for (uint32_t i = 0; i < w->nsegs && !rc; i++)
    for (uint32_t d = 0; d < w->segs[i].ndocs; d++)
      total_del += (uint32_t)seg_deleted(w, &w->segs[i], d);
  if (!rc && w->opts.merge && (w->nsegs > 1 || total_del > 0)) {
    ks_merge_input *in = ks_calloc(w->nsegs, sizeof *in);
    uint32_t cnt;
    if (!in) rc = oom(err);
    for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
      in[i].segno = w->segs[i].segno;
      in[i].deleted = seg_bitmap(w, &w->segs[i], &cnt);
      if (cnt && !in[i].deleted) rc = oom(err);
    }
    ks_merge_result res;
    uint32_t out = w->next_segno++;
    if (!rc) rc = ks_merge_segments(w->dir, in, w->nsegs, out, w->opts.fsync,
                                          w->threaded, &res, err);
    for (uint32_t i = 0; in && i < w->nsegs; i++) ks_free((void *)in[i].deleted);
    ks_free(in);
    if (!rc) {
      m.nsegs = res.ndocs > 0 ? 1 : 0;
      m.segs[0].segno = out;
      m.segs[0].ndocs = res.ndocs;
      w->st.terms = res.nterms;
      w->st.postings = res.npostings;
    }
  } else if (!rc) {
    for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
      uint32_t cnt;
      uint8_t *bm = seg_bitmap(w, &w->segs[i], &cnt);
      if (cnt && !bm) { rc = oom(err); break; }
      if (bm)
        rc = ks_deletions_write(w->dir, w->segs[i].segno, w->segs[i].ndocs, bm, cnt,
                                w->opts.fsync, err);
      ks_free(bm);
      m.segs[m.nsegs].segno = w->segs[i].segno;
      m.segs[m.nsegs].ndocs = w->segs[i].ndocs;
      m.segs[m.nsegs].ndeleted = cnt;
      m.nsegs++;
    }
  }
  /* New segment files' directory entries are durable before the MANIFEST
   * that names them can be. */
  if (!rc && w->opts.fsync) rc = ks_dir_fsync(w->dir, err);
  if (!rc) {
    m.generation = (w->have_old ? w->old.generation : 0) + 1;
    m.next_segno = w->next_segno;
    m.tok_version = KS_TOK_VERSION;
    m.tok = w->opts.tok;
    rc = ks_manifest_write(w->dir, &m, w->opts.fsync, err);
  }
  if (!rc) {
    w->committed = 1;
    collect_garbage(w->dir, &m);
    w->st.docs_live = w->st.docs_added - w->st.docs_replaced;
    w->st.segments = m.nsegs;
    w->st.index_bytes = ks_dir_commit_bytes(w->dir, &m);
  } else {
    w->broken = 1;
  }
  ks_free(m.segs);
  return rc;
}

void ks_index_writer_get_stats(const ks_index_writer *w, ks_writer_stats *st) {
  *st = w->st;
  st->docs_live = w->st.docs_added - w->st.docs_replaced;
  st->mem_used = (w->mi ? ks_memindex_bytes(w->mi) : 0) + w->lens.cap + w->ids.cap +
                 (w->finflight ? w->fjob.bytes : 0) +
                 w->id_slots * (sizeof(uint64_t) + 2 * sizeof(uint32_t)) + w->deleted.cap;
}

void ks_index_writer_close(ks_index_writer *w) {
  if (!w) return;
  if (w->threaded) {
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->worker, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
  }
  stop_flusher(w);
  if (w->batches) {
    batch_free(&w->batches[0]);
    batch_free(&w->batches[1]);
    ks_free(w->batches);
  }
  ks_tok_free(w->worker_tok);
  ks_buf_free(&w->toks);
  ks_memindex_free(w->mi);
  ks_stow_abort(w->sto);
  if (!w->committed && w->lock_fd >= 0 && w->tok) {
    /* Remove this writer's uncommitted segment files. */
    collect_garbage(w->dir, w->have_old ? &w->old : NULL);
  }
  ks_tok_free(w->tok);
  ks_manifest_free(&w->old);
  ks_free(w->segs);
  ks_buf_free(&w->lens);
  ks_buf_free(&w->deleted);
  ks_buf_free(&w->ids);
  ks_free(w->id_ent);
  ks_free(w->id_off);
  ks_free(w->id_len);
  if (w->lock_fd >= 0) close(w->lock_fd);
  ks_free(w->dir);
  ks_free(w);
}
