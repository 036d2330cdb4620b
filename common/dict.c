/*
 * dict.c - implements the term dictionary part of segment_int.h: lookup and
 * ordered iteration over a segment's .tid file. Spec: docs/format/tid.md.
 *
 * Layout summary: terms sorted bytewise by key (field byte + UTF-8 term),
 * grouped in blocks of KS_TID_TERMS_PER_BLOCK front-coded entries; a fixed
 * width block index (file offset, postings/positions offsets of the
 * block's first term, and the first key) supports binary search directly
 * on the mapping, so a lookup touches one index probe path and one block
 * and allocates nothing.
 *
 * Entry: varint prefix_len, varint suffix_len, suffix bytes, varint df,
 *        varint cf - df, varint doc_length, varint pos_length,
 *        varint max_tf, varint min_len (term-level score bounds).
 * A term's .doc/.pos offsets are the previous term's offset + length
 * (block start offsets come from the index).
 */
#include <string.h>

#include "ks_buf.h"
#include "segment_priv.h"

size_t ks_term_key(char *key, int field, const char *term, size_t len) {
  key[0] = (char)field;
  memcpy(key + 1, term, len);
  return len + 1;
}

int ks_dict_attach(ks_segment *seg, ks_err *err) {
  const ks_map *m = &seg->tid;
  const uint8_t *t = m->data + m->size - KS_FILE_FOOTER - KS_TID_TRAILER;
  uint64_t nterms = ks_load_u64(t), nblocks = ks_load_u64(t + 8);
  uint64_t index_off = ks_load_u64(t + 16), keys_off = ks_load_u64(t + 24);
  uint32_t tpb = ks_load_u32(t + 32);
  uint64_t limit = (uint64_t)(t - m->data);
  if (tpb != KS_TID_TERMS_PER_BLOCK ||
      nblocks != (nterms + KS_TID_TERMS_PER_BLOCK - 1) / KS_TID_TERMS_PER_BLOCK ||
      index_off < KS_FILE_HEADER || index_off > limit ||
      nblocks > (limit - index_off) / KS_TID_INDEX_ENTRY ||
      keys_off != index_off + nblocks * KS_TID_INDEX_ENTRY || keys_off > limit)
    return ks_err_set(err, KS_ECORRUPT, "[dict][open] %s: bad trailer", m->path);
  seg->nterms = nterms;
  seg->nblocks = nblocks;
  seg->tid_index = m->data + index_off;
  seg->tid_keys = m->data + keys_off;
  seg->keys_len = limit - keys_off;
  seg->tid_blocks_end = m->data + index_off;
  /* Check every index entry once so lookups can trust offsets/keys. */
  uint64_t prev_off = KS_FILE_HEADER;
  for (uint64_t b = 0; b < nblocks; b++) {
    const uint8_t *e = seg->tid_index + b * KS_TID_INDEX_ENTRY;
    uint64_t off = ks_load_u64(e);
    uint32_t koff = ks_load_u32(e + 24), klen = ks_load_u32(e + 28);
    if (off < prev_off || off >= index_off || (b == 0 && off != KS_FILE_HEADER) ||
        (uint64_t)koff + klen > seg->keys_len || klen < 1 ||
        klen > KS_TOK_MAX_TERM + 1 || ks_load_u64(e + 8) > seg->doc.size ||
        ks_load_u64(e + 16) > seg->pos.size)
      return ks_err_set(err, KS_ECORRUPT, "[dict][open] %s: bad block index entry %llu",
                        m->path, (unsigned long long)b);
    prev_off = off + 1;
  }
  return KS_OK;
}

static int key_cmp(const uint8_t *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = memcmp(a, b, n);
  if (c) return c;
  return alen < blen ? -1 : alen > blen;
}

/* Decode one entry at it->p into it->key/info. 0 or -1 (corrupt). */
static int decode_entry(ks_dict_iter *it) {
  const uint8_t *end = it->seg->tid_blocks_end;
  uint64_t prefix, suffix, df, cfx, dlen, plen, maxtf, minlen;
  if (ks_get_varint(&it->p, end, &prefix) || ks_get_varint(&it->p, end, &suffix))
    return -1;
  if (prefix > it->keylen || prefix + suffix > KS_TOK_MAX_TERM + 1 ||
      prefix + suffix == 0 || suffix > (uint64_t)(end - it->p))
    return -1;
  memcpy(it->key + prefix, it->p, suffix);
  it->p += suffix;
  it->keylen = (size_t)(prefix + suffix);
  if (ks_get_varint(&it->p, end, &df) || ks_get_varint(&it->p, end, &cfx) ||
      ks_get_varint(&it->p, end, &dlen) || ks_get_varint(&it->p, end, &plen) ||
      ks_get_varint(&it->p, end, &maxtf) || ks_get_varint(&it->p, end, &minlen))
    return -1;
  if (df == 0 || df > it->seg->ndocs || cfx > UINT64_MAX - df || maxtf == 0 ||
      maxtf > UINT32_MAX || minlen > UINT32_MAX)
    return -1;
  it->info.max_tf = (uint32_t)maxtf;
  it->info.min_len = (uint32_t)minlen;
  it->info.df = (uint32_t)df;
  it->info.cf = df + cfx;
  it->info.doc_offset = it->prev_doc_end;
  it->info.doc_length = dlen;
  it->info.pos_offset = it->prev_pos_end;
  it->info.pos_length = plen;
  if (it->prev_doc_end > it->seg->doc_end || dlen > it->seg->doc_end - it->prev_doc_end ||
      it->prev_pos_end > it->seg->pos_end || plen > it->seg->pos_end - it->prev_pos_end)
    return -1;
  it->prev_doc_end += dlen;
  it->prev_pos_end += plen;
  return 0;
}

/* Position the iterator at the start of block b. */
static void enter_block(ks_dict_iter *it, uint64_t b) {
  const ks_segment *seg = it->seg;
  const uint8_t *e = seg->tid_index + b * KS_TID_INDEX_ENTRY;
  it->block = b;
  it->p = seg->tid.data + ks_load_u64(e);
  it->prev_doc_end = ks_load_u64(e + 8);
  it->prev_pos_end = ks_load_u64(e + 16);
  it->keylen = 0;
  uint64_t left = seg->nterms - b * KS_TID_TERMS_PER_BLOCK;
  it->in_block = left < KS_TID_TERMS_PER_BLOCK ? (uint32_t)left : KS_TID_TERMS_PER_BLOCK;
}

int ks_segment_lookup(const ks_segment *seg, const char *key, size_t keylen,
                      ks_term_info *info, ks_err *err) {
  if (seg->nblocks == 0 || keylen == 0 || keylen > KS_TOK_MAX_TERM + 1)
    return KS_NOTFOUND;
  /* Last block whose first key <= key. */
  uint64_t lo = 0, hi = seg->nblocks;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    const uint8_t *e = seg->tid_index + mid * KS_TID_INDEX_ENTRY;
    if (key_cmp(seg->tid_keys + ks_load_u32(e + 24), ks_load_u32(e + 28), key, keylen) <= 0)
      lo = mid;
    else
      hi = mid;
  }
  ks_dict_iter it;
  it.seg = seg;
  enter_block(&it, lo);
  while (it.in_block > 0) {
    if (decode_entry(&it))
      return ks_err_set(err, KS_ECORRUPT, "[dict][lookup] %s: corrupt block %llu",
                        seg->tid.path, (unsigned long long)lo);
    it.in_block--;
    int c = key_cmp((const uint8_t *)it.key, it.keylen, key, keylen);
    if (c == 0) {
      *info = it.info;
      return KS_OK;
    }
    if (c > 0) break;
  }
  return KS_NOTFOUND;
}

void ks_dict_iter_init(ks_dict_iter *it, const ks_segment *seg) {
  memset(it, 0, sizeof *it);
  it->seg = seg;
  it->block = UINT64_MAX; /* not entered yet */
}

int ks_dict_iter_next(ks_dict_iter *it, ks_err *err) {
  const ks_segment *seg = it->seg;
  if (it->index >= seg->nterms) return KS_DONE;
  char prev[KS_TOK_MAX_TERM + 2];
  size_t prevlen = it->keylen;
  memcpy(prev, it->key, prevlen);
  if (it->block == UINT64_MAX || it->in_block == 0)
    enter_block(it, it->block == UINT64_MAX ? 0 : it->block + 1);
  int first = it->index == 0;
  if (decode_entry(it))
    return ks_err_set(err, KS_ECORRUPT, "[dict][iter] %s: corrupt entry %llu",
                      seg->tid.path, (unsigned long long)it->index);
  if (!first && key_cmp((const uint8_t *)prev, prevlen, it->key, it->keylen) >= 0)
    return ks_err_set(err, KS_ECORRUPT, "[dict][iter] %s: keys out of order at %llu",
                      seg->tid.path, (unsigned long long)it->index);
  it->in_block--;
  it->index++;
  return KS_OK;
}
