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
 */
#include <string.h>
#include <unistd.h>

#include "codec_int.h"
#include "ks_alloc.h"
#include "ks_tok.h"
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
};

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

int ks_segw_begin_term(ks_segw *w, const char *key, size_t keylen, ks_err *err) {
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

int ks_segw_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos,
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

int ks_segw_end_term(ks_segw *w, ks_err *err) {
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
  int rc = w->in_term ? ks_err_set(err, KS_EINVAL, "[segw][finish] term still open") : KS_OK;
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
  ks_wfile_abort(&w->doc);
  ks_wfile_abort(&w->pos);
  ks_wfile_abort(&w->tid);
  if (w->dir) remove_files(w->dir, w->segno);
  free_segw(w);
}

uint64_t ks_segw_nterms(const ks_segw *w) { return w->nterms; }
uint64_t ks_segw_npostings(const ks_segw *w) { return w->npostings; }
