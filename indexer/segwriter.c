/*
 * segwriter.c - implements ks_segw of segwriter_int.h: the .tid, .doc,
 * .pos and .len files of one segment.
 * Formats: docs/format/tid.md, postings.md, lengths.md (summaries at the top
 * of common/dict.c and common/postings.c).
 *
 * Memory: one term is encoded at a time. Postings are encoded a block
 * (KS_BLOCK_SIZE documents) at a time into the term's block buffer;
 * positions go straight to the .pos file. Only the dictionary's block index
 * (one entry per KS_TID_TERMS_PER_BLOCK terms) stays in memory until the
 * end.
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
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "codec_int.h"
#include "ks_alloc.h"
#include "kosearch/tok.h"
#include "segment_priv.h"
#include "segwriter_int.h"

struct ks_segw {
  char *dir;
  uint32_t segno, ndocs;
  int do_fsync;
  uint32_t *lens;                  /* ndocs * KS_NFIELDS */
  ks_wfile tid, doc, pos;
  /* dictionary */
  ks_buf tid_index;                /* block index entries */
  ks_buf tid_keys;                 /* first keys */
  uint64_t nterms, npostings;
  char prev_key[KS_TOK_MAX_TERM + 2];
  size_t prev_keylen;
  /* current term */
  int in_term;
  char key[KS_TOK_MAX_TERM + 2];
  size_t keylen;
  int field;
  uint64_t doc_start, pos_start;   /* term's offsets in .doc / .pos */
  uint32_t df;
  uint64_t cf;
  int64_t last_doc;                /* -1 before the first posting */
  ks_buf skips, blocks;            /* term's skip table and block bytes */
  uint32_t bn;                     /* docs in the pending block */
  uint32_t bdocs[KS_BLOCK_SIZE], btfs[KS_BLOCK_SIZE];
  int64_t block_prev;              /* last doc of the previous block or -1 */
  uint32_t bmax_tf, bmin_len;
  uint32_t tmax_tf, tmin_len;      /* term-level bounds */
  uint32_t *bpos;                  /* pending block's position deltas */
  size_t bpos_n, bpos_cap;
  uint8_t *scratch;                /* codec output */
  size_t scratch_cap;
  /* asynchronous mode */
  int async, quit;
  pthread_t thr;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  ks_buf chunk[4];                 /* ring: [qhead, qhead + qcount) queued,
                                      the next one is being filled */
  uint32_t qhead, qcount;          /* guarded by lock */
  uint32_t fill;                   /* chunk being filled (producer only;
                                      always qhead + qcount mod NCHUNK) */
  int arc;                         /* encoder's first error (sticky) */
  ks_err aerr;
};

#define NCHUNK 4u
#define CHUNK_BYTES ((size_t)256 << 10)
enum { CMD_BEGIN = 1, CMD_ADD = 2, CMD_END = 3 };

static int do_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err);
static int do_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos, ks_err *err);
static int do_end_term(ks_segw *w, ks_err *err);

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[segw] out of memory"); }

static int open_file(ks_segw *w, ks_wfile *f, const char *ext, const char *magic,
                     ks_err *err) {
  char *path = ks_path("%s/%06u%s", w->dir, w->segno, ext);
  if (!path) return oom(err);
  int rc = ks_wfile_open(f, path, magic, err);
  ks_free(path);
  return rc;
}

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
  int rc = open_file(w, &w->tid, ".tid", KS_MAGIC_TID, err);
  if (!rc) rc = open_file(w, &w->doc, ".doc", KS_MAGIC_DOC, err);
  if (!rc) rc = open_file(w, &w->pos, ".pos", KS_MAGIC_POS, err);
  if (rc) {
    ks_segw_abort(w);
    return rc;
  }
  *out = w;
  return KS_OK;
}

static int key_less(const char *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = memcmp(a, b, n);
  return c < 0 || (c == 0 && alen < blen);
}

static int do_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err) {
  if (w->in_term || keylen < 2 || keylen > KS_TOK_MAX_TERM + 1 ||
      (unsigned char)key[0] >= KS_NFIELDS ||
      (w->nterms > 0 && !key_less(w->prev_key, w->prev_keylen, key, keylen)))
    return ks_err_set(err, KS_EINVAL, "[segw][term] keys out of order or invalid");
  memcpy(w->key, key, keylen);
  w->keylen = keylen;
  w->field = (unsigned char)key[0];
  w->in_term = 1;
  w->df = 0;
  w->cf = 0;
  w->last_doc = -1;
  w->block_prev = -1;
  w->bn = 0;
  w->bpos_n = 0;
  w->bmax_tf = 0;
  w->bmin_len = UINT32_MAX;
  w->tmax_tf = 0;
  w->tmin_len = UINT32_MAX;
  ks_buf_reset(&w->skips);
  ks_buf_reset(&w->blocks);
  w->doc_start = w->doc.offset;
  w->pos_start = w->pos.offset;
  return KS_OK;
}

static int ensure_scratch(ks_segw *w, size_t n) {
  if (w->scratch_cap >= n) return 0;
  uint8_t *p = ks_realloc(w->scratch, n);
  if (!p) return -1;
  w->scratch = p;
  w->scratch_cap = n;
  return 0;
}

/* Encode the pending block: docs + tfs into w->blocks, positions to .pos,
 * one skip entry. */
static int flush_block(ks_segw *w, ks_err *err) {
  uint32_t n = w->bn, gaps[KS_BLOCK_SIZE], tfm1[KS_BLOCK_SIZE];
  int64_t prev = w->block_prev;
  for (uint32_t i = 0; i < n; i++) {
    gaps[i] = (uint32_t)((int64_t)w->bdocs[i] - prev - 1);
    prev = w->bdocs[i];
    tfm1[i] = w->btfs[i] - 1;
  }
  uint64_t pos_off = w->pos.offset - w->pos_start;
  if (pos_off > UINT32_MAX || w->blocks.len > UINT32_MAX / 2)
    return ks_err_set(err, KS_ELIMIT, "[segw][term] postings of one term exceed 4 GiB");
  if (ensure_scratch(w, ks_codec_max_bytes(KS_BLOCK_SIZE) * 2) ||
      ensure_scratch(w, ks_codec_max_bytes((uint32_t)w->bpos_n)))
    return oom(err);
  uint8_t e[KS_SKIP_ENTRY];
  ks_store_u32(e, w->bdocs[n - 1]);
  ks_store_u32(e + 4, (uint32_t)w->blocks.len); /* fixed up in end_term */
  ks_store_u32(e + 8, (uint32_t)pos_off);
  ks_store_u32(e + 12, w->bmax_tf);
  ks_store_u32(e + 16, w->bmin_len);
  if (ks_buf_append(&w->skips, e, sizeof e)) return oom(err);
  size_t a = ks_codec_encode(gaps, n, w->scratch);
  size_t b = ks_codec_encode(tfm1, n, w->scratch + a);
  if (ks_buf_append(&w->blocks, w->scratch, a + b)) return oom(err);
  size_t c = ks_codec_encode(w->bpos, (uint32_t)w->bpos_n, w->scratch);
  ks_wfile_write(&w->pos, w->scratch, c);
  w->block_prev = w->bdocs[n - 1];
  w->bn = 0;
  w->bpos_n = 0;
  w->bmax_tf = 0;
  w->bmin_len = UINT32_MAX;
  return KS_OK;
}

static int do_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos,
                  ks_err *err) {
  if (!w->in_term || (int64_t)doc <= w->last_doc || doc >= w->ndocs || tf == 0)
    return ks_err_set(err, KS_EINVAL, "[segw][add] posting out of order");
  if (w->bpos_n + tf > w->bpos_cap) {
    size_t cap = w->bpos_cap ? w->bpos_cap : 1024;
    while (cap < w->bpos_n + tf) cap *= 2;
    uint32_t *p = ks_realloc(w->bpos, cap * sizeof *p);
    if (!p) return oom(err);
    w->bpos = p;
    w->bpos_cap = cap;
  }
  uint32_t prevp = 0;
  for (uint32_t j = 0; j < tf; j++) {
    if (j > 0 && pos[j] <= prevp)
      return ks_err_set(err, KS_EINVAL, "[segw][add] positions not increasing");
    w->bpos[w->bpos_n++] = j == 0 ? pos[0] : pos[j] - prevp;
    prevp = pos[j];
  }
  w->bdocs[w->bn] = doc;
  w->btfs[w->bn] = tf;
  w->bn++;
  if (tf > w->bmax_tf) w->bmax_tf = tf;
  uint32_t len = w->lens[(size_t)doc * KS_NFIELDS + (size_t)w->field];
  if (len < w->bmin_len) w->bmin_len = len;
  if (tf > w->tmax_tf) w->tmax_tf = tf;
  if (len < w->tmin_len) w->tmin_len = len;
  w->last_doc = doc;
  w->df++;
  w->cf += tf;
  w->npostings++;
  if (w->bn == KS_BLOCK_SIZE) return flush_block(w, err);
  return KS_OK;
}

static int do_end_term(ks_segw *w, ks_err *err) {
  if (!w->in_term) return ks_err_set(err, KS_EINVAL, "[segw][term] no term");
  w->in_term = 0;
  if (w->df == 0) return KS_OK;
  int rc;
  if (w->bn > 0 && (rc = flush_block(w, err))) return rc;
  /* Block offsets become relative to the term start (after the table).
   * A single-block term gets no table. */
  if (w->skips.len == KS_SKIP_ENTRY) w->skips.len = 0;
  size_t table = w->skips.len;
  if (w->blocks.len + table > UINT32_MAX)
    return ks_err_set(err, KS_ELIMIT, "[segw][term] postings of one term exceed 4 GiB");
  for (size_t off = 0; off < table; off += KS_SKIP_ENTRY)
    ks_store_u32(w->skips.data + off + 4,
                 ks_load_u32(w->skips.data + off + 4) + (uint32_t)table);
  ks_wfile_write(&w->doc, w->skips.data, w->skips.len);
  ks_wfile_write(&w->doc, w->blocks.data, w->blocks.len);
  uint64_t doc_len = w->doc.offset - w->doc_start;
  uint64_t pos_len = w->pos.offset - w->pos_start;
  /* Dictionary entry, front-coded against the previous key of the block. */
  uint32_t in_block = (uint32_t)(w->nterms % KS_TID_TERMS_PER_BLOCK);
  size_t prefix = 0;
  if (in_block == 0) {
    uint8_t e[KS_TID_INDEX_ENTRY];
    ks_store_u64(e, w->tid.offset);
    ks_store_u64(e + 8, w->doc_start);
    ks_store_u64(e + 16, w->pos_start);
    ks_store_u32(e + 24, (uint32_t)w->tid_keys.len);
    ks_store_u32(e + 28, (uint32_t)w->keylen);
    if (ks_buf_append(&w->tid_index, e, sizeof e) ||
        ks_buf_append(&w->tid_keys, w->key, w->keylen))
      return oom(err);
  } else {
    size_t n = w->keylen < w->prev_keylen ? w->keylen : w->prev_keylen;
    while (prefix < n && w->key[prefix] == w->prev_key[prefix]) prefix++;
  }
  ks_wfile_varint(&w->tid, prefix);
  ks_wfile_varint(&w->tid, w->keylen - prefix);
  ks_wfile_write(&w->tid, w->key + prefix, w->keylen - prefix);
  ks_wfile_varint(&w->tid, w->df);
  ks_wfile_varint(&w->tid, w->cf - w->df);
  ks_wfile_varint(&w->tid, doc_len);
  ks_wfile_varint(&w->tid, pos_len);
  ks_wfile_varint(&w->tid, w->tmax_tf);
  ks_wfile_varint(&w->tid, w->tmin_len);
  memcpy(w->prev_key, w->key, w->keylen);
  w->prev_keylen = w->keylen;
  w->nterms++;
  return KS_OK;
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

static void *encoder_main(void *arg) {
  ks_segw *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->quit && w->qcount == 0) pthread_cond_wait(&w->cond, &w->lock);
    if (w->qcount == 0) break; /* quit with nothing queued */
    ks_buf *c = &w->chunk[w->qhead];
    int skip = w->arc != 0;
    pthread_mutex_unlock(&w->lock);
    ks_err e;
    ks_err_clear(&e);
    int rc = skip ? KS_OK : replay(w, c, &e);
    ks_buf_reset(c);
    pthread_mutex_lock(&w->lock);
    if (rc && !w->arc) {
      w->arc = rc;
      w->aerr = e;
    }
    w->qhead = (w->qhead + 1) % NCHUNK;
    w->qcount--;
    pthread_cond_broadcast(&w->cond);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

int ks_segw_set_async(ks_segw *w, ks_err *err) {
  if (w->async) return KS_OK;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (pthread_create(&w->thr, NULL, encoder_main, w) != 0) {
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    return ks_err_set(err, KS_ENOMEM, "[segw] cannot start the encoder thread");
  }
  w->async = 1;
  return KS_OK;
}

/* The chunk being filled (the producer's; the encoder never touches it). */
static ks_buf *filling(ks_segw *w) { return &w->chunk[w->fill]; }

/* Queue the chunk being filled (if it holds anything); if `all`, wait
 * until the encoder has replayed everything, else until a chunk is free.
 * Returns the encoder's sticky error, if any. */
static int hand_over(ks_segw *w, int all, ks_err *err) {
  pthread_mutex_lock(&w->lock);
  if (filling(w)->len > 0) {
    w->qcount++;
    w->fill = (w->fill + 1) % NCHUNK;
    pthread_cond_broadcast(&w->cond);
  }
  while (all ? w->qcount > 0 : w->qcount == NCHUNK) pthread_cond_wait(&w->cond, &w->lock);
  int rc = w->arc;
  if (rc && err) *err = w->aerr;
  pthread_mutex_unlock(&w->lock);
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

int ks_segw_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err) {
  if (!w->async) return do_begin_term(w, key, keylen, err);
  if (keylen > KS_TOK_MAX_TERM + 1)
    return ks_err_set(err, KS_EINVAL, "[segw][term] keys out of order or invalid");
  int rc = KS_OK;
  uint32_t *p = cmd(w, 1 + (keylen + 3) / 4, &rc, err);
  if (!p) return rc;
  p[0] = CMD_BEGIN | (uint32_t)keylen << 8;
  memcpy(p + 1, key, keylen);
  return KS_OK;
}

int ks_segw_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos, ks_err *err) {
  if (!w->async) return do_add(w, doc, tf, pos, err);
  int rc = KS_OK;
  uint32_t *p = cmd(w, 3 + (size_t)tf, &rc, err);
  if (!p) return rc;
  p[0] = CMD_ADD;
  p[1] = doc;
  p[2] = tf;
  memcpy(p + 3, pos, (size_t)tf * sizeof *pos);
  return KS_OK;
}

int ks_segw_end_term(ks_segw *w, ks_err *err) {
  if (!w->async) return do_end_term(w, err);
  int rc = KS_OK;
  uint32_t *p = cmd(w, 1, &rc, err);
  if (!p) return rc;
  p[0] = CMD_END;
  return KS_OK;
}

int ks_segw_drain(ks_segw *w, ks_err *err) {
  return w->async ? hand_over(w, 1, err) : KS_OK;
}

/* Stop the encoder after it has replayed what is queued (or skipped it,
 * with `discard`). */
static void stop_async(ks_segw *w, int discard) {
  if (!w->async) return;
  pthread_mutex_lock(&w->lock);
  if (discard && !w->arc) w->arc = KS_EINVAL;
  w->quit = 1;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thr, NULL);
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->cond);
  w->async = 0;
}

static int write_lengths(ks_segw *w, ks_err *err) {
  ks_wfile f;
  int rc = open_file(w, &f, ".len", KS_MAGIC_LEN, err);
  if (rc) return rc;
  uint64_t total[KS_NFIELDS] = {0};
  ks_wfile_u32(&f, w->ndocs);
  ks_wfile_u32(&f, KS_NFIELDS);
  for (size_t i = 0; i < (size_t)w->ndocs * KS_NFIELDS; i++) {
    ks_wfile_u32(&f, w->lens[i]);
    total[i % KS_NFIELDS] += w->lens[i];
  }
  for (int fl = 0; fl < KS_NFIELDS; fl++) ks_wfile_u64(&f, total[fl]);
  rc = ks_wfile_finish(&f, w->do_fsync, err);
  return rc;
}

static void free_segw(ks_segw *w) {
  ks_buf_free(&w->tid_index);
  ks_buf_free(&w->tid_keys);
  ks_buf_free(&w->skips);
  ks_buf_free(&w->blocks);
  ks_free(w->bpos);
  ks_free(w->scratch);
  for (uint32_t i = 0; i < NCHUNK; i++) ks_buf_free(&w->chunk[i]);
  ks_free(w->lens);
  ks_free(w->dir);
  ks_free(w);
}

static void remove_files(const char *dir, uint32_t segno) {
  static const char *exts[] = {".tid", ".doc", ".pos", ".len"};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    char *p = ks_path("%s/%06u%s", dir, segno, exts[i]);
    if (p) unlink(p);
    ks_free(p);
  }
}

int ks_segw_finish(ks_segw *w, ks_err *err) {
  int rc = ks_segw_drain(w, err);
  stop_async(w, 0);
  if (!rc && w->in_term) rc = ks_err_set(err, KS_EINVAL, "[segw][finish] term still open");
  static const uint8_t pad[KS_CODEC_PAD];
  if (!rc) {
    /* .doc and .pos: padding so SIMD decoding of the last block stays in
     * the mapping, then the data end. */
    uint64_t doc_end = w->doc.offset, pos_end = w->pos.offset;
    ks_wfile_write(&w->doc, pad, sizeof pad);
    ks_wfile_u64(&w->doc, doc_end);
    ks_wfile_write(&w->pos, pad, sizeof pad);
    ks_wfile_u64(&w->pos, pos_end);
    /* .tid: block index, keys, trailer. */
    uint64_t index_off = w->tid.offset;
    ks_wfile_write(&w->tid, w->tid_index.data, w->tid_index.len);
    uint64_t keys_off = w->tid.offset;
    ks_wfile_write(&w->tid, w->tid_keys.data, w->tid_keys.len);
    ks_wfile_u64(&w->tid, w->nterms);
    ks_wfile_u64(&w->tid, w->tid_index.len / KS_TID_INDEX_ENTRY);
    ks_wfile_u64(&w->tid, index_off);
    ks_wfile_u64(&w->tid, keys_off);
    ks_wfile_u32(&w->tid, KS_TID_TERMS_PER_BLOCK);
    ks_wfile_u32(&w->tid, 0);
    int r1 = ks_wfile_finish(&w->doc, w->do_fsync, err);
    int r2 = ks_wfile_finish(&w->pos, w->do_fsync, r1 ? NULL : err);
    int r3 = ks_wfile_finish(&w->tid, w->do_fsync, (r1 || r2) ? NULL : err);
    rc = r1 ? r1 : r2 ? r2 : r3;
    if (!rc) rc = write_lengths(w, err);
  }
  if (rc) {
    ks_wfile_abort(&w->doc);
    ks_wfile_abort(&w->pos);
    ks_wfile_abort(&w->tid);
    remove_files(w->dir, w->segno);
  }
  free_segw(w);
  return rc;
}

void ks_segw_abort(ks_segw *w) {
  if (!w) return;
  stop_async(w, 1);
  ks_wfile_abort(&w->doc);
  ks_wfile_abort(&w->pos);
  ks_wfile_abort(&w->tid);
  if (w->dir) remove_files(w->dir, w->segno);
  free_segw(w);
}

uint64_t ks_segw_nterms(const ks_segw *w) { return w->nterms; }
uint64_t ks_segw_npostings(const ks_segw *w) { return w->npostings; }
