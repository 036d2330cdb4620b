/*
 * segwriter.c - implements segwriter_int.h: ks_segw, the writer of one
 * segment's term files, fed by a flush of the in-memory index or by a
 * merge. It checks the order of the calls and hands each term to the
 * writers of the file kinds (common/): its postings to the .doc/.pos writer
 * (postings_int.h), then its dictionary entry to the .tid writer
 * (dict_int.h); the field lengths go to .len (lengths_int.h) at the end.
 *
 * Asynchronous mode (ks_segw_set_async): begin_term / add / end_term are
 * recorded as commands in chunks (4-byte aligned words: tag, arguments,
 * key bytes or positions) and replayed in order by an encoder thread of
 * this ks_segw, so the producer (memindex flush or merge) decodes while
 * the encoder encodes and writes. The files are byte-for-byte those of the
 * synchronous mode (the same calls in the same order). The encoder's first
 * error is sticky and returned by the producer's next chunk hand-over,
 * ks_segw_drain or ks_segw_finish. Memory: at most NCHUNK chunks of about
 * CHUNK_BYTES (more only for one term with a huge tf).
 */
#include "segwriter_int.h"

#include <string.h>

#include "dict_int.h"
#include "dir_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "kosearch/tok.h"
#include "lengths_int.h"
#include "postings_int.h"
#include "worker_int.h"

struct ks_segw {
  char *dir;
  uint32_t segno, ndocs;
  int do_fsync;
  uint32_t *lens;                  /* ndocs * KS_NFIELDS */
  ks_dict_writer *dict;            /* .tid */
  ks_postings_writer *post;        /* .doc and .pos */
  uint64_t npostings;
  /* current term */
  int in_term;
  char key[KS_TOK_MAX_TERM + 2];
  size_t keylen;
  int field;
  int64_t last_doc;                /* -1 before the first posting */
  /* asynchronous mode */
  ks_worker *encoder;              /* replays chunks; NULL when sync */
  ks_buf chunk[4];                 /* ring of NCHUNK command chunks: the
                                      one being filled, the others queued
                                      or free */
  uint32_t fill;                   /* chunk being filled (producer only) */
};

#define NCHUNK 4u
#define CHUNK_BYTES ((size_t)256 << 10)
enum { CMD_BEGIN = 1, CMD_ADD = 2, CMD_END = 3 };

static int do_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err);
static int do_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos, ks_err *err);
static int do_end_term(ks_segw *w, ks_err *err);

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[segw] out of memory"); }

/* Contract: segwriter_int.h. */
int ks_segw_open(ks_segw **out, const char *dir, uint32_t segno,
                 uint32_t ndocs, const uint32_t *lens, int do_fsync,
                 ks_err *err) {
  *out = NULL;
  ks_segw *w = ks_calloc(1, sizeof *w);
  if (!w) return oom(err);
  w->segno = segno;
  w->ndocs = ndocs;
  w->do_fsync = do_fsync;
  w->dir = ks_strndup(dir, strlen(dir));
  w->lens = ks_malloc((size_t)ndocs * KS_NFIELDS * sizeof(uint32_t) + 1);
  if (!w->dir || !w->lens) {
    ks_segw_abort(w);
    return oom(err);
  }
  memcpy(w->lens, lens, (size_t)ndocs * KS_NFIELDS * sizeof(uint32_t));
  int rc = ks_dict_writer_open(&w->dict, dir, segno, err);
  if (!rc) rc = ks_postings_writer_open(&w->post, dir, segno, err);
  if (rc) {
    ks_segw_abort(w);
    return rc;
  }
  *out = w;
  return KS_OK;
}

static int do_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err) {
  if (w->in_term || !ks_dict_writer_accepts(w->dict, key, keylen))
    return ks_err_set(err, KS_EINVAL, "[segw][term] keys out of order or invalid");
  memcpy(w->key, key, keylen);
  w->keylen = keylen;
  w->field = (unsigned char)key[0];
  w->in_term = 1;
  w->last_doc = -1;
  ks_postings_writer_begin(w->post);
  return KS_OK;
}

static int do_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos,
                  ks_err *err) {
  if (!w->in_term || (int64_t)doc <= w->last_doc || doc >= w->ndocs || tf == 0)
    return ks_err_set(err, KS_EINVAL, "[segw][add] posting out of order");
  uint32_t len = w->lens[(size_t)doc * KS_NFIELDS + (size_t)w->field];
  int rc = ks_postings_writer_add(w->post, doc, tf, pos, len, err);
  if (rc) return rc;
  w->last_doc = doc;
  w->npostings++;
  return KS_OK;
}

static int do_end_term(ks_segw *w, ks_err *err) {
  if (!w->in_term) return ks_err_set(err, KS_EINVAL, "[segw][term] no term");
  w->in_term = 0;
  ks_term_info info;
  int rc = ks_postings_writer_end(w->post, &info, err);
  if (rc || info.df == 0) return rc; /* a term without postings is dropped */
  return ks_dict_writer_add(w->dict, w->key, w->keylen, &info, err);
}

/* ---- asynchronous mode ------------------------------------------------ */

/* Replay one chunk of commands (encoder thread). */
static int replay(ks_segw *w, const ks_buf *c, ks_err *err) {
  const uint32_t *p = (const uint32_t *)(const void *)c->data;
  const uint32_t *end = p + c->len / 4;
  int rc = KS_OK;
  while (p < end && !rc) {
    uint32_t tag = p[0] & 0xff;
    if (tag == CMD_BEGIN) {
      size_t keylen = p[0] >> 8;
      rc = do_begin_term(w, (const char *)(p + 1), keylen, err);
      p += 1 + (keylen + 3) / 4;
    } else if (tag == CMD_ADD) {
      rc = do_add(w, p[1], p[2], p + 3, err);
      p += 3 + (size_t)p[2];
    } else {
      rc = do_end_term(w, err);
      p += 1;
    }
  }
  return rc;
}

/* The encoder's job (ks_worker_fn): replay a chunk, then empty it. */
static int replay_job(void *ctx, void *job, ks_err *err) {
  ks_buf *c = job;
  int rc = replay(ctx, c, err);
  ks_buf_reset(c);
  return rc;
}

/* Contract: segwriter_int.h. */
int ks_segw_set_async(ks_segw *w, ks_err *err) {
  if (w->encoder) return KS_OK;
  /* NCHUNK - 1 queued at most: the producer always has a free chunk */
  if (ks_worker_start(&w->encoder, replay_job, w, NCHUNK - 1))
    return ks_err_set(err, KS_ENOMEM, "[segw] cannot start the encoder thread");
  return KS_OK;
}

/* The chunk being filled (the producer's; the encoder never touches it). */
static ks_buf *filling(ks_segw *w) { return &w->chunk[w->fill]; }

/* Queue the chunk being filled (if it holds anything) and take the next
 * one, which is free once the worker has room (at most NCHUNK - 1
 * queued); if `all`, also wait until the encoder has replayed everything.
 * Returns the encoder's sticky error, if any. */
static int hand_over(ks_segw *w, int all, ks_err *err) {
  int rc = KS_OK;
  if (filling(w)->len > 0) {
    rc = ks_worker_submit(w->encoder, filling(w), err);
    w->fill = (w->fill + 1) % NCHUNK;
    ks_buf_reset(filling(w)); /* empty unless its replay was discarded */
  }
  if (!rc && all) rc = ks_worker_drain(w->encoder, err);
  return rc;
}

/* Append a command of `words` 4-byte words to the chunk being filled,
 * handing it over first when it is full. NULL: out of memory or the
 * encoder failed (*rc says which, err filled). */
static uint32_t *cmd(ks_segw *w, size_t words, int *rc, ks_err *err) {
  ks_buf *c = filling(w);
  if (c->len >= CHUNK_BYTES) {
    if ((*rc = hand_over(w, 0, err))) return NULL;
    c = filling(w);
  }
  if (ks_buf_reserve(c, words * 4)) {
    *rc = oom(err);
    return NULL;
  }
  uint32_t *p = (uint32_t *)(void *)(c->data + c->len);
  c->len += words * 4;
  return p;
}

/* Contract: segwriter_int.h. */
int ks_segw_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err) {
  if (!w->encoder) return do_begin_term(w, key, keylen, err);
  if (keylen > KS_TOK_MAX_TERM + 1)
    return ks_err_set(err, KS_EINVAL, "[segw][term] keys out of order or invalid");
  int rc = KS_OK;
  uint32_t *p = cmd(w, 1 + (keylen + 3) / 4, &rc, err);
  if (!p) return rc;
  p[0] = CMD_BEGIN | (uint32_t)keylen << 8;
  memcpy(p + 1, key, keylen);
  return KS_OK;
}

/* Contract: segwriter_int.h. */
int ks_segw_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos, ks_err *err) {
  if (!w->encoder) return do_add(w, doc, tf, pos, err);
  int rc = KS_OK;
  uint32_t *p = cmd(w, 3 + (size_t)tf, &rc, err);
  if (!p) return rc;
  p[0] = CMD_ADD;
  p[1] = doc;
  p[2] = tf;
  memcpy(p + 3, pos, (size_t)tf * sizeof *pos);
  return KS_OK;
}

/* Contract: segwriter_int.h. */
int ks_segw_end_term(ks_segw *w, ks_err *err) {
  if (!w->encoder) return do_end_term(w, err);
  int rc = KS_OK;
  uint32_t *p = cmd(w, 1, &rc, err);
  if (!p) return rc;
  p[0] = CMD_END;
  return KS_OK;
}

/* Contract: segwriter_int.h. */
int ks_segw_drain(ks_segw *w, ks_err *err) {
  return w->encoder ? hand_over(w, 1, err) : KS_OK;
}

/* Stop the encoder after it has replayed what is queued (or skipped it,
 * with `discard`). */
static void stop_async(ks_segw *w, int discard) {
  ks_worker_stop(w->encoder, discard);
  w->encoder = NULL;
}

static void free_segw(ks_segw *w) {
  for (uint32_t i = 0; i < NCHUNK; i++) ks_buf_free(&w->chunk[i]);
  ks_free(w->lens);
  ks_free(w->dir);
  ks_free(w);
}

/* The files a ks_segw writes (removed on failure). */
static const char *const term_exts[] = {".tid", ".doc", ".pos", ".len"};

/* Contract: segwriter_int.h. */
int ks_segw_finish(ks_segw *w, ks_err *err) {
  int rc = ks_segw_drain(w, err);
  stop_async(w, 0);
  if (!rc && w->in_term) rc = ks_err_set(err, KS_EINVAL, "[segw][finish] term still open");
  if (!rc) {
    int r1 = ks_postings_writer_finish(w->post, w->do_fsync, err);
    int r2 = ks_dict_writer_finish(w->dict, w->do_fsync, r1 ? NULL : err);
    w->post = NULL;
    w->dict = NULL;
    rc = r1 ? r1 : r2;
    if (!rc) rc = ks_lengths_write(w->dir, w->segno, w->ndocs, w->lens, w->do_fsync, err);
  }
  if (rc) {
    ks_postings_writer_abort(w->post);
    ks_dict_writer_abort(w->dict);
    ks_dir_remove_segment_files(w->dir, w->segno, term_exts, 4);
  }
  free_segw(w);
  return rc;
}

/* Contract: segwriter_int.h. */
void ks_segw_abort(ks_segw *w) {
  if (!w) return;
  stop_async(w, 1);
  ks_postings_writer_abort(w->post);
  ks_dict_writer_abort(w->dict);
  if (w->dir) ks_dir_remove_segment_files(w->dir, w->segno, term_exts, 4);
  free_segw(w);
}

/* Contracts: segwriter_int.h. */
uint64_t ks_segw_nterms(const ks_segw *w) { return ks_dict_writer_nterms(w->dict); }
uint64_t ks_segw_npostings(const ks_segw *w) { return w->npostings; }
