/*
 * postings.c - implements postings_int.h: the .doc and .pos file kinds,
 * reader (the postings cursor) and writer. Spec: docs/format/postings.md.
 *
 * A term's .doc data is a skip table (one KS_SKIP_ENTRY per block of
 * KS_BLOCK_SIZE documents) followed by the blocks; a term with a single
 * block (df <= KS_BLOCK_SIZE, most terms) has no table: its bounds are the
 * term-level max_tf/min_len of its dictionary entry. Block b holds n values
 * of (doc gap - 1) as one Stream VByte run, then n values of (tf - 1) as a
 * second run; the gap of the block's first document is taken from the
 * previous block's last_doc (-1 for block 0), so any block decodes on its
 * own: seek jumps with the skip table and decodes one block.
 * Positions: for block b, all positions of its documents in document order,
 * delta-coded within each document (first absolute), one Stream VByte run
 * of sum(tf) values, starting at the skip entry's pos_off.
 *
 * Both files end with KS_CODEC_PAD zero bytes (so that the SIMD decoder of
 * the last block stays inside the mapping) and a u64 data end.
 *
 * Invariants after a successful block load: docs[] strictly increasing,
 * docs[n-1] == skip.last_doc < segment ndocs, every tf >= 1 and the
 * largest tf == skip.max_tf (so a pruning algorithm may trust max_tf);
 * the block's bytes, the term's skip table and the .len pages of the
 * block's documents have passed their page checksums (file_int.h), and a
 * block's positions do when they are first decoded, so what a cursor
 * yields was never damaged on disk.
 * The writer encodes one term at a time: a block (KS_BLOCK_SIZE documents)
 * is encoded into the term's block buffer as soon as it is full, its
 * positions go straight to .pos, and the skip table (whose block offsets
 * become relative to the term start once the table size is known) is
 * written before the blocks when the term ends.
 */
#include "postings_int.h"

#include <string.h>

#include "codec_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "lengths_int.h"
#include "segment_priv.h"

static int corrupt(const ks_postings *cur, ks_err *err, const char *what) {
  return ks_err_set(err, KS_ECORRUPT, "[post][read] %s: %s (term at offset %llu)",
                    cur->seg->doc.path, what,
                    (unsigned long long)cur->info.doc_offset);
}

/* Contract: segment_priv.h. */
int ks_postings_attach(ks_segment *seg, ks_err *err) {
  /* .doc/.pos trailers: end of the data area (padding follows). */
  const ks_map *maps[2] = {&seg->doc, &seg->pos};
  uint64_t *ends[2] = {&seg->doc_end, &seg->pos_end};
  int rc = KS_OK;
  for (int i = 0; i < 2 && !rc; i++) {
    const ks_map *m = maps[i];
    uint64_t t = m->body - KS_DATA_TRAILER;
    if ((rc = ks_map_verify(m, t, KS_DATA_TRAILER, err))) break;
    uint64_t e = ks_load_u64(m->data + t);
    if (e < KS_FILE_HEADER || e > t || t - e < KS_CODEC_PAD) {
      rc = ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: bad data end", m->path);
      break;
    }
    /* the padding is written as zeros and read as zeros (postings.md 6) */
    if ((rc = ks_map_verify(m, e, t - e, err))) break;
    for (uint64_t j = e; j < t && !rc; j++)
      if (m->data[j] != 0)
        rc = ks_err_set(err, KS_ECORRUPT, "[seg][open] %s: nonzero padding", m->path);
    *ends[i] = e;
  }
  return rc;
}

/* Contract: postings_int.h. */
void ks_postings_skip(const ks_postings *cur, uint32_t b, ks_skip_entry *e) {
  if (cur->nblocks == 1) { /* no table: the term's own bounds */
    e->last_doc = cur->last_doc;
    e->doc_off = 0;
    e->pos_off = 0;
    e->max_tf = cur->info.max_tf;
    e->min_len = cur->info.min_len;
    return;
  }
  const uint8_t *p = cur->skips + (size_t)b * KS_SKIP_ENTRY;
  e->last_doc = ks_load_u32(p);
  e->doc_off = ks_load_u32(p + 4);
  e->pos_off = ks_load_u32(p + 8);
  e->max_tf = ks_load_u32(p + 12);
  e->min_len = ks_load_u32(p + 16);
}

static int load_block(ks_postings *cur, uint32_t b, ks_err *err) {
  ks_skip_entry e;
  ks_postings_skip(cur, b, &e);
  uint64_t start = e.doc_off;
  uint64_t end = cur->info.doc_length;
  if (b + 1 < cur->nblocks) end = ks_load_u32(cur->skips + (size_t)(b + 1) * KS_SKIP_ENTRY + 4);
  uint64_t table = cur->nblocks > 1 ? (uint64_t)cur->nblocks * KS_SKIP_ENTRY : 0;
  if (start < table || start > end || end > cur->info.doc_length)
    return corrupt(cur, err, "block offsets out of range");
  uint32_t n = (b + 1 == cur->nblocks) ? cur->info.df - b * KS_BLOCK_SIZE : KS_BLOCK_SIZE;
  int rc = ks_map_verify(&cur->seg->doc, cur->info.doc_offset + start, end - start, err);
  if (rc) return rc;
  const uint8_t *base = cur->seg->doc.data + cur->info.doc_offset;
  const uint8_t *p = base + start, *pend = base + end;
  size_t used = ks_codec_decode(p, pend, cur->docs, n);
  if (!used) return corrupt(cur, err, "truncated document block");
  size_t used2 = ks_codec_decode(p + used, pend, cur->tfs, n);
  if (!used2 || p + used + used2 != pend) return corrupt(cur, err, "bad frequency block");
  uint64_t prev = 0;
  if (b > 0) prev = (uint64_t)ks_load_u32(cur->skips + (size_t)(b - 1) * KS_SKIP_ENTRY) + 1;
  uint32_t max_tf = 0, bad_tf = 0;
  for (uint32_t i = 0; i < n; i++) {
    prev += cur->docs[i];
    cur->docs[i] = (uint32_t)prev;
    prev++;
    uint32_t tf = ++cur->tfs[i];
    bad_tf |= (tf == 0);
    if (tf > max_tf) max_tf = tf;
  }
  if (cur->nblocks == 1) e.last_doc = (uint32_t)(prev - 1);
  if (prev - 1 != e.last_doc || e.last_doc >= cur->seg->ndocs || bad_tf ||
      max_tf != e.max_tf)
    return corrupt(cur, err, "block does not match its skip entry");
  /* The documents' lengths will be read for scoring: verify them now. */
  if ((rc = ks_lengths_verify_docs(cur->seg, cur->docs, n, err))) return rc;
  cur->last_doc = e.last_doc;
  cur->block = b;
  cur->block_n = n;
  cur->i = 0;
  cur->doc = cur->docs[0];
  cur->tf = cur->tfs[0];
  cur->pos_block = -1;
  return KS_OK;
}

/* Contract: postings_int.h. */
int ks_postings_open(ks_postings *cur, const ks_segment *seg,
                     const ks_term_info *info, ks_err *err) {
  cur->seg = seg;
  cur->info = *info;
  cur->positions = NULL;
  cur->positions_cap = 0;
  cur->done = 1;
  cur->pos_block = -1;
  cur->nblocks = (info->df + KS_BLOCK_SIZE - 1) / KS_BLOCK_SIZE;
  if (info->df == 0 || info->doc_offset > seg->doc_end ||
      info->doc_length > seg->doc_end - info->doc_offset ||
      info->pos_offset > seg->pos_end ||
      info->pos_length > seg->pos_end - info->pos_offset ||
      (cur->nblocks > 1 && (uint64_t)cur->nblocks * KS_SKIP_ENTRY > info->doc_length))
    return corrupt(cur, err, "term location out of range");
  cur->skips = seg->doc.data + info->doc_offset;
  cur->data = cur->skips + (cur->nblocks > 1 ? (size_t)cur->nblocks * KS_SKIP_ENTRY : 0);
  cur->last_doc = 0;
  cur->pos_data = seg->pos.data + info->pos_offset;
  /* Skip entries are read (seek, score bounds) without loading their
   * blocks: the whole table is verified once, here. */
  int rc = cur->nblocks > 1 ? ks_map_verify(&seg->doc, info->doc_offset,
                                            (uint64_t)cur->nblocks * KS_SKIP_ENTRY, err)
                            : KS_OK;
  if (!rc) rc = load_block(cur, 0, err);
  if (rc) return rc;
  cur->done = 0;
  return KS_OK;
}

/* Contract: postings_int.h. */
void ks_postings_close(ks_postings *cur) {
  ks_free(cur->positions);
  cur->positions = NULL;
  cur->positions_cap = 0;
}

/* Contract: postings_int.h. */
int ks_postings_next(ks_postings *cur, ks_err *err) {
  if (cur->done) return KS_DONE;
  if (++cur->i < cur->block_n) {
    cur->doc = cur->docs[cur->i];
    cur->tf = cur->tfs[cur->i];
    return KS_OK;
  }
  if (cur->block + 1 >= cur->nblocks) {
    cur->done = 1;
    return KS_DONE;
  }
  int rc = load_block(cur, cur->block + 1, err);
  if (rc) cur->done = 1;
  return rc;
}

/* Contract: postings_int.h. */
int ks_postings_seek(ks_postings *cur, uint32_t target, ks_err *err) {
  if (cur->done) return KS_DONE;
  if (target <= cur->doc) return KS_OK;
  if (target > cur->docs[cur->block_n - 1]) {
    /* Gallop over the skip table to the first block with last_doc >= target. */
    uint32_t lo = cur->block + 1, step = 1, hi;
    for (;;) {
      hi = lo + step;
      if (hi >= cur->nblocks) { hi = cur->nblocks; break; }
      if (ks_load_u32(cur->skips + (size_t)(hi - 1) * KS_SKIP_ENTRY) >= target) break;
      lo = hi;
      step *= 2;
    }
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (ks_load_u32(cur->skips + (size_t)mid * KS_SKIP_ENTRY) >= target)
        hi = mid;
      else
        lo = mid + 1;
    }
    if (lo >= cur->nblocks) {
      cur->done = 1;
      return KS_DONE;
    }
    int rc = load_block(cur, lo, err);
    if (rc) {
      cur->done = 1;
      return rc;
    }
  }
  uint32_t i = cur->i;
  while (cur->docs[i] < target) i++; /* the block's last doc is >= target */
  cur->i = i;
  cur->doc = cur->docs[i];
  cur->tf = cur->tfs[i];
  return KS_OK;
}

static int load_positions(ks_postings *cur, ks_err *err) {
  uint32_t b = cur->block, n = cur->block_n;
  uint64_t total = 0;
  cur->pos_start[0] = 0;
  for (uint32_t i = 0; i < n; i++) {
    total += cur->tfs[i];
    if (total > UINT32_MAX) return corrupt(cur, err, "too many positions");
    cur->pos_start[i + 1] = (uint32_t)total;
  }
  if (total > cur->positions_cap) {
    uint32_t cap = cur->positions_cap ? cur->positions_cap : 256;
    while (cap < total) cap = cap > UINT32_MAX / 2 ? (uint32_t)total : cap * 2;
    uint32_t *p = ks_realloc(cur->positions, (size_t)cap * sizeof *p);
    if (!p) return ks_err_set(err, KS_ENOMEM, "[post][positions] out of memory");
    cur->positions = p;
    cur->positions_cap = cap;
  }
  uint64_t start = cur->nblocks > 1 ? ks_load_u32(cur->skips + (size_t)b * KS_SKIP_ENTRY + 8) : 0;
  uint64_t end = cur->info.pos_length;
  if (b + 1 < cur->nblocks) end = ks_load_u32(cur->skips + (size_t)(b + 1) * KS_SKIP_ENTRY + 8);
  if (start > end || end > cur->info.pos_length)
    return corrupt(cur, err, "position offsets out of range");
  int rc = ks_map_verify(&cur->seg->pos, cur->info.pos_offset + start, end - start, err);
  if (rc) return rc;
  const uint8_t *p = cur->pos_data + start, *pend = cur->pos_data + end;
  size_t used = ks_codec_decode(p, pend, cur->positions, (uint32_t)total);
  if (!used || p + used != pend) return corrupt(cur, err, "bad position block");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t *q = cur->positions + cur->pos_start[i];
    uint64_t acc = q[0];
    for (uint32_t j = 1; j < cur->tfs[i]; j++) {
      if (q[j] == 0) return corrupt(cur, err, "positions not increasing");
      acc += q[j];
      if (acc > UINT32_MAX) return corrupt(cur, err, "position overflow");
      q[j] = (uint32_t)acc;
    }
  }
  cur->pos_block = (int)b;
  return KS_OK;
}

/* Contract: postings_int.h. */
int ks_postings_positions(ks_postings *cur, const uint32_t **pos, uint32_t *n,
                          ks_err *err) {
  if (cur->done) return ks_err_set(err, KS_EINVAL, "[post][positions] cursor is exhausted");
  if (cur->pos_block != (int)cur->block) {
    int rc = load_positions(cur, err);
    if (rc) return rc;
  }
  *pos = cur->positions + cur->pos_start[cur->i];
  *n = cur->tf;
  return KS_OK;
}

/* ---- writing ------------------------------------------------------------------ */

struct ks_postings_writer {
  ks_wfile doc, pos;               /* the two files */
  /* current term */
  uint64_t doc_start, pos_start;   /* term's offsets in .doc / .pos */
  uint32_t df;
  uint64_t cf;
  ks_buf skips, blocks;            /* term's skip table and block bytes */
  uint32_t bn;                     /* docs in the pending block */
  uint32_t bdocs[KS_BLOCK_SIZE], btfs[KS_BLOCK_SIZE];
  int64_t block_prev;              /* last doc of the previous block or -1 */
  uint32_t bmax_tf, bmin_len;      /* pending block's bounds */
  uint32_t tmax_tf, tmin_len;      /* term-level bounds */
  uint32_t *bpos;                  /* pending block's position deltas */
  size_t bpos_n, bpos_cap;
  uint8_t *scratch;                /* codec output */
  size_t scratch_cap;
};

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[segw] out of memory"); }

static int open_file(ks_wfile *f, const char *dir, uint32_t segno, const char *ext,
                     const char *magic, ks_err *err) {
  char *path = ks_path("%s/%06u%s", dir, segno, ext);
  if (!path) return oom(err);
  int rc = ks_wfile_open_paged(f, path, magic, err);
  ks_free(path);
  return rc;
}

static void free_writer(ks_postings_writer *w) {
  ks_buf_free(&w->skips);
  ks_buf_free(&w->blocks);
  ks_free(w->bpos);
  ks_free(w->scratch);
  ks_free(w);
}

/* Contract: postings_int.h. */
int ks_postings_writer_open(ks_postings_writer **out, const char *dir,
                            uint32_t segno, ks_err *err) {
  *out = NULL;
  ks_postings_writer *w = ks_calloc(1, sizeof *w);
  if (!w) return oom(err);
  int rc = open_file(&w->doc, dir, segno, ".doc", KS_MAGIC_DOC, err);
  if (!rc) rc = open_file(&w->pos, dir, segno, ".pos", KS_MAGIC_POS, err);
  if (rc) {
    ks_postings_writer_abort(w);
    return rc;
  }
  *out = w;
  return KS_OK;
}

/* Contract: postings_int.h. */
void ks_postings_writer_begin(ks_postings_writer *w) {
  w->df = 0;
  w->cf = 0;
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
}

static int ensure_scratch(ks_postings_writer *w, size_t n) {
  if (w->scratch_cap >= n) return 0;
  uint8_t *p = ks_realloc(w->scratch, n);
  if (!p) return -1;
  w->scratch = p;
  w->scratch_cap = n;
  return 0;
}

/* Encode the pending block: docs + tfs into w->blocks, positions to .pos,
 * one skip entry. */
static int flush_block(ks_postings_writer *w, ks_err *err) {
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
  ks_store_u32(e + 4, (uint32_t)w->blocks.len); /* fixed up in _end */
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

/* Contract: postings_int.h. */
int ks_postings_writer_add(ks_postings_writer *w, uint32_t doc, uint32_t tf,
                           const uint32_t *pos, uint32_t len, ks_err *err) {
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
  if (len < w->bmin_len) w->bmin_len = len;
  if (tf > w->tmax_tf) w->tmax_tf = tf;
  if (len < w->tmin_len) w->tmin_len = len;
  w->df++;
  w->cf += tf;
  if (w->bn == KS_BLOCK_SIZE) return flush_block(w, err);
  return KS_OK;
}

/* Contract: postings_int.h. */
int ks_postings_writer_end(ks_postings_writer *w, ks_term_info *info,
                           ks_err *err) {
  memset(info, 0, sizeof *info);
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
  info->df = w->df;
  info->cf = w->cf;
  info->doc_offset = w->doc_start;
  info->doc_length = w->doc.offset - w->doc_start;
  info->pos_offset = w->pos_start;
  info->pos_length = w->pos.offset - w->pos_start;
  info->max_tf = w->tmax_tf;
  info->min_len = w->tmin_len;
  return KS_OK;
}

/* Contract: postings_int.h. */
int ks_postings_writer_finish(ks_postings_writer *w, int do_fsync, ks_err *err) {
  static const uint8_t pad[KS_CODEC_PAD];
  /* padding so SIMD decoding of the last block stays in the mapping, then
   * the data end */
  uint64_t doc_end = w->doc.offset, pos_end = w->pos.offset;
  ks_wfile_write(&w->doc, pad, sizeof pad);
  ks_wfile_u64(&w->doc, doc_end);
  ks_wfile_write(&w->pos, pad, sizeof pad);
  ks_wfile_u64(&w->pos, pos_end);
  int r1 = ks_wfile_finish(&w->doc, do_fsync, err);
  int r2 = ks_wfile_finish(&w->pos, do_fsync, r1 ? NULL : err);
  free_writer(w);
  return r1 ? r1 : r2;
}

/* Contract: postings_int.h. */
void ks_postings_writer_abort(ks_postings_writer *w) {
  if (!w) return;
  ks_wfile_abort(&w->doc);
  ks_wfile_abort(&w->pos);
  free_writer(w);
}
