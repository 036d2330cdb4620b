/*
 * postings.c - implements the postings cursor of segment_int.h over a
 * segment's .doc and .pos files. Spec: docs/format/postings.md.
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
 * Invariants after a successful block load: docs[] strictly increasing,
 * docs[n-1] == skip.last_doc < segment ndocs, every tf >= 1 and the
 * largest tf == skip.max_tf (so a pruning algorithm may trust max_tf).
 */
#include <string.h>

#include "codec_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "segment_priv.h"

static int corrupt(const ks_postings *cur, ks_err *err, const char *what) {
  return ks_err_set(err, KS_ECORRUPT, "[post][read] %s: %s (term at offset %llu)",
                    cur->seg->doc.path, what,
                    (unsigned long long)cur->info.doc_offset);
}

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
  cur->last_doc = e.last_doc;
  cur->block = b;
  cur->block_n = n;
  cur->i = 0;
  cur->doc = cur->docs[0];
  cur->tf = cur->tfs[0];
  cur->pos_block = -1;
  return KS_OK;
}

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
  int rc = load_block(cur, 0, err);
  if (rc) return rc;
  cur->done = 0;
  return KS_OK;
}

void ks_postings_close(ks_postings *cur) {
  ks_free(cur->positions);
  cur->positions = NULL;
  cur->positions_cap = 0;
}

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
