/*
 * dict.c - implements dict_int.h: the .tid file kind, reader (lookup and
 * ordered iteration over a segment's term dictionary) and writer.
 * Spec: docs/format/tid.md.
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
 *
 * Invariants: the writer front-codes each entry against the previous key
 * of its block (the first entry of a block has prefix 0) and emits one
 * index entry per block, so the reader can decode any block on its own.
 * Opening reads only the trailer: each block index entry and first key is
 * verified (page checksum, file_int.h) and range-checked when a lookup or
 * an iteration reads it (get_entry), and a block's bytes, from its
 * block_off to the next block's, before any of its entries is decoded
 * (enter_block); decoding never reads past the block.
 */
#include <string.h>

#include "dict_int.h"

#include "ks_alloc.h"
#include "ks_buf.h"
#include "segment_priv.h"

/* Contract: dict_int.h. */
size_t ks_term_key(char *key, int field, const char *term, size_t len) {
  key[0] = (char)field;
  memcpy(key + 1, term, len);
  return len + 1;
}

/* Contract: segment_priv.h. */
int ks_dict_attach(ks_segment *seg, ks_err *err) {
  const ks_map *m = &seg->tid;
  uint64_t limit = m->body - KS_TID_TRAILER; /* the trailer's offset */
  int rc = ks_map_verify(m, limit, KS_TID_TRAILER, err);
  if (rc) return rc;
  const uint8_t *t = m->data + limit;
  uint64_t nterms = ks_load_u64(t), nblocks = ks_load_u64(t + 8);
  uint64_t index_off = ks_load_u64(t + 16), keys_off = ks_load_u64(t + 24);
  uint32_t tpb = ks_load_u32(t + 32), reserved = ks_load_u32(t + 36);
  if (tpb != KS_TID_TERMS_PER_BLOCK || reserved != 0 ||
      nblocks != (nterms + KS_TID_TERMS_PER_BLOCK - 1) / KS_TID_TERMS_PER_BLOCK ||
      index_off < KS_FILE_HEADER || index_off > limit ||
      nblocks > (limit - index_off) / KS_TID_INDEX_ENTRY ||
      keys_off != index_off + nblocks * KS_TID_INDEX_ENTRY || keys_off > limit ||
      (nblocks == 0 && index_off != KS_FILE_HEADER))
    return ks_err_set(err, KS_ECORRUPT, "[dict][open] %s: bad trailer", m->path);
  seg->nterms = nterms;
  seg->nblocks = nblocks;
  seg->tid_index = m->data + index_off;
  seg->tid_keys = m->data + keys_off;
  seg->keys_len = limit - keys_off;
  return KS_OK;
}

/* One block index entry, verified and validated when it is used (not at
 * open: the index grows with the number of terms). */
typedef struct index_entry {
  uint64_t block_off, doc_offset, pos_offset;
  const uint8_t *key;  /* the block's first key, in the first-key area */
  uint32_t key_len;
} index_entry;

static int get_entry(const ks_segment *seg, uint64_t b, index_entry *x, ks_err *err) {
  const ks_map *m = &seg->tid;
  uint64_t at = (uint64_t)(seg->tid_index - m->data) + b * KS_TID_INDEX_ENTRY;
  int rc = ks_map_verify(m, at, KS_TID_INDEX_ENTRY, err);
  if (rc) return rc;
  const uint8_t *e = m->data + at;
  x->block_off = ks_load_u64(e);
  x->doc_offset = ks_load_u64(e + 8);
  x->pos_offset = ks_load_u64(e + 16);
  uint32_t koff = ks_load_u32(e + 24);
  x->key_len = ks_load_u32(e + 28);
  uint64_t index_off = (uint64_t)(seg->tid_index - m->data);
  if (x->block_off < KS_FILE_HEADER || x->block_off >= index_off ||
      (b == 0 && x->block_off != KS_FILE_HEADER) ||
      (uint64_t)koff + x->key_len > seg->keys_len || x->key_len < 1 ||
      x->key_len > KS_TOK_MAX_TERM + 1)
    return ks_err_set(err, KS_ECORRUPT, "[dict][read] %s: bad block index entry %llu",
                      m->path, (unsigned long long)b);
  x->key = seg->tid_keys + koff;
  return ks_map_verify(m, (uint64_t)(x->key - m->data), x->key_len, err);
}

static int key_cmp(const uint8_t *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = memcmp(a, b, n);
  if (c) return c;
  return alen < blen ? -1 : alen > blen;
}

/* Decode one entry at it->p into it->key/info. 0 or -1 (corrupt). */
static int decode_entry(ks_dict_iter *it) {
  const uint8_t *end = it->block_end;
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

/* Position the iterator at the start of block b (whose index entry is
 * *x): the block runs to the next block's start (or the block index) and
 * is verified as a whole before any entry of it is decoded. */
static int enter_block(ks_dict_iter *it, uint64_t b, const index_entry *x, ks_err *err) {
  const ks_segment *seg = it->seg;
  uint64_t end = (uint64_t)(seg->tid_index - seg->tid.data);
  if (b + 1 < seg->nblocks) {
    index_entry next;
    int rc = get_entry(seg, b + 1, &next, err);
    if (rc) return rc;
    end = next.block_off;
  }
  if (end <= x->block_off)
    return ks_err_set(err, KS_ECORRUPT, "[dict][read] %s: bad block index entry %llu",
                      seg->tid.path, (unsigned long long)b);
  int rc = ks_map_verify(&seg->tid, x->block_off, end - x->block_off, err);
  if (rc) return rc;
  it->block = b;
  it->p = seg->tid.data + x->block_off;
  it->block_end = seg->tid.data + end;
  it->prev_doc_end = x->doc_offset;
  it->prev_pos_end = x->pos_offset;
  it->keylen = 0;
  uint64_t left = seg->nterms - b * KS_TID_TERMS_PER_BLOCK;
  it->in_block = left < KS_TID_TERMS_PER_BLOCK ? (uint32_t)left : KS_TID_TERMS_PER_BLOCK;
  return KS_OK;
}

/* Contract: dict_int.h. */
int ks_segment_lookup(const ks_segment *seg, const char *key, size_t keylen,
                      ks_term_info *info, ks_err *err) {
  if (seg->nblocks == 0 || keylen == 0 || keylen > KS_TOK_MAX_TERM + 1)
    return KS_NOTFOUND;
  /* Last block whose first key <= key. */
  uint64_t lo = 0, hi = seg->nblocks;
  index_entry x;
  int rc;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if ((rc = get_entry(seg, mid, &x, err))) return rc;
    if (key_cmp(x.key, x.key_len, key, keylen) <= 0)
      lo = mid;
    else
      hi = mid;
  }
  ks_dict_iter it;
  it.seg = seg;
  if ((rc = get_entry(seg, lo, &x, err)) || (rc = enter_block(&it, lo, &x, err))) return rc;
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

/* Contract: dict_int.h. */
void ks_dict_iter_init(ks_dict_iter *it, const ks_segment *seg) {
  memset(it, 0, sizeof *it);
  it->seg = seg;
  it->block = UINT64_MAX; /* not entered yet */
}

/* Contract: dict_int.h. */
int ks_dict_iter_next(ks_dict_iter *it, ks_err *err) {
  const ks_segment *seg = it->seg;
  if (it->index >= seg->nterms) return KS_DONE;
  char prev[KS_TOK_MAX_TERM + 2];
  size_t prevlen = it->keylen;
  memcpy(prev, it->key, prevlen);
  if (it->block == UINT64_MAX || it->in_block == 0) {
    uint64_t b = it->block == UINT64_MAX ? 0 : it->block + 1;
    index_entry x;
    int rc = get_entry(seg, b, &x, err);
    if (!rc) rc = enter_block(it, b, &x, err);
    if (rc) return rc;
  }
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

/* ---- writing ----------------------------------------------------------------- */

struct ks_dict_writer {
  ks_wfile f;                        /* the .tid file */
  ks_buf index;                      /* block index entries */
  ks_buf keys;                       /* first keys of the blocks */
  uint64_t nterms;                   /* entries written */
  char prev_key[KS_TOK_MAX_TERM + 2]; /* last key added */
  size_t prev_keylen;
};

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[segw] out of memory"); }

/* Contract: dict_int.h. */
int ks_dict_writer_open(ks_dict_writer **out, const char *dir, uint32_t segno,
                        ks_err *err) {
  *out = NULL;
  ks_dict_writer *w = ks_calloc(1, sizeof *w);
  char *path = ks_path("%s/%06u.tid", dir, segno);
  if (!w || !path) {
    ks_free(w);
    ks_free(path);
    return oom(err);
  }
  int rc = ks_wfile_open_paged(&w->f, path, KS_MAGIC_TID, err);
  ks_free(path);
  if (rc) {
    ks_free(w);
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

/* Contract: dict_int.h. */
int ks_dict_writer_accepts(const ks_dict_writer *w, const char *key,
                           size_t keylen) {
  return !(keylen < 2 || keylen > KS_TOK_MAX_TERM + 1 ||
           (unsigned char)key[0] >= KS_NFIELDS ||
           (w->nterms > 0 && !key_less(w->prev_key, w->prev_keylen, key, keylen)));
}

/* Contract: dict_int.h. */
int ks_dict_writer_add(ks_dict_writer *w, const char *key, size_t keylen,
                       const ks_term_info *info, ks_err *err) {
  /* Front-coded against the previous key of the block. */
  uint32_t in_block = (uint32_t)(w->nterms % KS_TID_TERMS_PER_BLOCK);
  size_t prefix = 0;
  if (in_block == 0) {
    uint8_t e[KS_TID_INDEX_ENTRY];
    ks_store_u64(e, w->f.offset);
    ks_store_u64(e + 8, info->doc_offset);
    ks_store_u64(e + 16, info->pos_offset);
    ks_store_u32(e + 24, (uint32_t)w->keys.len);
    ks_store_u32(e + 28, (uint32_t)keylen);
    if (ks_buf_append(&w->index, e, sizeof e) || ks_buf_append(&w->keys, key, keylen))
      return oom(err);
  } else {
    size_t n = keylen < w->prev_keylen ? keylen : w->prev_keylen;
    while (prefix < n && key[prefix] == w->prev_key[prefix]) prefix++;
  }
  ks_wfile_varint(&w->f, prefix);
  ks_wfile_varint(&w->f, keylen - prefix);
  ks_wfile_write(&w->f, key + prefix, keylen - prefix);
  ks_wfile_varint(&w->f, info->df);
  ks_wfile_varint(&w->f, info->cf - info->df);
  ks_wfile_varint(&w->f, info->doc_length);
  ks_wfile_varint(&w->f, info->pos_length);
  ks_wfile_varint(&w->f, info->max_tf);
  ks_wfile_varint(&w->f, info->min_len);
  memcpy(w->prev_key, key, keylen);
  w->prev_keylen = keylen;
  w->nterms++;
  return KS_OK;
}

/* Contract: dict_int.h. */
uint64_t ks_dict_writer_nterms(const ks_dict_writer *w) { return w->nterms; }

static void free_writer(ks_dict_writer *w) {
  ks_buf_free(&w->index);
  ks_buf_free(&w->keys);
  ks_free(w);
}

/* Contract: dict_int.h. */
int ks_dict_writer_finish(ks_dict_writer *w, int do_fsync, ks_err *err) {
  /* block index, keys, trailer */
  uint64_t index_off = w->f.offset;
  ks_wfile_write(&w->f, w->index.data, w->index.len);
  uint64_t keys_off = w->f.offset;
  ks_wfile_write(&w->f, w->keys.data, w->keys.len);
  ks_wfile_u64(&w->f, w->nterms);
  ks_wfile_u64(&w->f, w->index.len / KS_TID_INDEX_ENTRY);
  ks_wfile_u64(&w->f, index_off);
  ks_wfile_u64(&w->f, keys_off);
  ks_wfile_u32(&w->f, KS_TID_TERMS_PER_BLOCK);
  ks_wfile_u32(&w->f, 0);
  int rc = ks_wfile_finish(&w->f, do_fsync, err);
  free_writer(w);
  return rc;
}

/* Contract: dict_int.h. */
void ks_dict_writer_abort(ks_dict_writer *w) {
  if (!w) return;
  ks_wfile_abort(&w->f);
  free_writer(w);
}
