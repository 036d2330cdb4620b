/*
 * docstore.c - implements docstore_int.h: the .sto file kind, reader
 * (stored documents and the id table of a segment) and writer (ks_stow).
 * Spec: docs/format/sto.md.
 *
 * Layout summary (a paged file, file_int.h): zlib-compressed blocks of
 * ~KS_STO_BLOCK_TARGET raw bytes, each the concatenation of records
 * (varint length + JSON object bytes) of consecutive documents; a
 * fixed-width block index (first doc, raw length, offset, compressed
 * length); an id table ((ndocs + 1) u32 offsets then the id bytes) so that
 * ids are read without decompressing anything; an id hash table ((u64
 * ks_id_hash, u32 doc) per document, sorted) for finding a document by id
 * with a binary search.
 *
 * Reader: opening verifies and reads only the trailer; a block index
 * entry, an id offset, id bytes, a hash entry or a compressed block is
 * verified against its page checksums (file_int.h) and range-checked when
 * it is read.
 *
 * Writer: documents are appended to a raw block buffer (varint length +
 * JSON); when it reaches KS_STO_BLOCK_TARGET bytes it is compressed into a
 * zlib stream (RFC 1950) and written. The compressor is libdeflate's
 * libdeflate_zlib_compress at level 1: its output is an ordinary zlib
 * stream that the reader inflates with zlib's uncompress, and on Korean
 * Wikipedia blocks it is 2.4x faster than zlib's compress2(Z_BEST_SPEED)
 * with 5% smaller output (stored text is read once per hit, so higher
 * levels are not worth their CPU). Ids are kept in memory (offsets +
 * bytes) and written as the id table at the end, so the file is produced
 * in one sequential pass.
 *
 * Asynchronous compression (ks_stow_set_async): full raw blocks go to a
 * queue of at most QDEPTH blocks that a compressor thread of this ks_stow
 * compresses; the caller's thread writes compressed blocks strictly in
 * queue order, so the file is byte-for-byte the one the synchronous path
 * writes (same blocks, same compressor call, same order). One libdeflate
 * compressor per ks_stow, allocated on first use and used by one thread
 * only: the compressor thread when async, else the caller's. Memory: at
 * most QDEPTH raw blocks plus their compressed copies.
 */
#include "docstore_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>

#include "ks_alloc.h"
#include "ks_buf.h"
#include "segment_priv.h"
#include "worker_int.h"

/* Contract: docstore_int.h. FNV-1a (64-bit) of the bytes, then the
 * MurmurHash3 fmix64 finalizer: FNV-1a alone leaves the high bits of short
 * keys poorly mixed; the finalizer spreads every input bit over all 64. */
uint64_t ks_id_hash(const char *id, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)id[i];
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

/* Contract: segment_priv.h. */
int ks_docstore_attach(ks_segment *seg, ks_err *err) {
  const ks_map *m = &seg->sto;
  uint64_t limit = m->body - KS_STO_TRAILER; /* the trailer's offset */
  int rc = ks_map_verify(m, limit, KS_STO_TRAILER, err);
  if (rc) return rc;
  const uint8_t *t = m->data + limit;
  uint32_t ndocs = ks_load_u32(t), nblocks = ks_load_u32(t + 4);
  uint64_t index_off = ks_load_u64(t + 8), idoff_off = ks_load_u64(t + 16);
  uint64_t ids_off = ks_load_u64(t + 24), hash_off = ks_load_u64(t + 32);
  if (ndocs != seg->ndocs || index_off < KS_FILE_HEADER || index_off > limit ||
      idoff_off < index_off || idoff_off > limit ||
      (uint64_t)nblocks * KS_STO_INDEX_ENTRY != idoff_off - index_off ||
      ids_off < idoff_off || ids_off > limit ||
      ((uint64_t)ndocs + 1) * 4 != ids_off - idoff_off ||
      hash_off < ids_off || hash_off > limit ||
      (uint64_t)ndocs * KS_STO_HASH_ENTRY != limit - hash_off ||
      (ndocs > 0 && nblocks == 0))
    return ks_err_set(err, KS_ECORRUPT, "[sto][open] %s: bad trailer", m->path);
  seg->sto_nblocks = nblocks;
  seg->sto_index = m->data + index_off;
  seg->sto_idoffs = m->data + idoff_off;
  seg->sto_ids = m->data + ids_off;
  seg->sto_ids_len = hash_off - ids_off;
  seg->sto_hash = m->data + hash_off;
  seg->sto_data_end = index_off;
  return KS_OK;
}

/* Verify `len` bytes at p (inside the .sto mapping). */
static int verify(const ks_segment *seg, const uint8_t *p, uint64_t len, ks_err *err) {
  return ks_map_verify(&seg->sto, (uint64_t)(p - seg->sto.data), len, err);
}

/* The id of document `doc` (< ndocs): its offsets and bytes verified and
 * range-checked. */
static int doc_id(const ks_segment *seg, uint32_t doc, const char **id,
                  size_t *len, ks_err *err) {
  const uint8_t *o = seg->sto_idoffs + 4 * (size_t)doc;
  int rc = verify(seg, o, 8, err);
  if (rc) return rc;
  uint32_t a = ks_load_u32(o), b = ks_load_u32(o + 4);
  if (a > b || b > seg->sto_ids_len || (doc == 0 && a != 0))
    return ks_err_set(err, KS_ECORRUPT, "[sto][id] %s: bad id table entry %u",
                      seg->sto.path, doc);
  if ((rc = verify(seg, seg->sto_ids + a, b - a, err))) return rc;
  *id = (const char *)seg->sto_ids + a;
  *len = b - a;
  return KS_OK;
}

/* Contract: docstore_int.h. */
int ks_segment_doc_id(const ks_segment *seg, uint32_t doc, const char **id,
                      size_t *len, ks_err *err) {
  if (doc >= seg->ndocs)
    return ks_err_set(err, KS_EINVAL, "[sto][id] document %u out of range", doc);
  return doc_id(seg, doc, id, len, err);
}

/* Entry i (< ndocs) of the id hash table, verified. */
static int hash_entry(const ks_segment *seg, uint32_t i, uint64_t *hash,
                      uint32_t *doc, ks_err *err) {
  const uint8_t *e = seg->sto_hash + (size_t)i * KS_STO_HASH_ENTRY;
  int rc = verify(seg, e, KS_STO_HASH_ENTRY, err);
  if (rc) return rc;
  *hash = ks_load_u64(e);
  *doc = ks_load_u32(e + 8);
  if (*doc >= seg->ndocs)
    return ks_err_set(err, KS_ECORRUPT, "[sto][find] %s: bad id hash entry %u",
                      seg->sto.path, i);
  return KS_OK;
}

/* Contract: docstore_int.h. Binary search for the first entry with the
 * id's hash, then every entry with that hash in order (several on a
 * 64-bit collision or for a repeated id), each compared with the id. */
int ks_segment_find_id(const ks_segment *seg, const char *id, size_t len,
                       const uint8_t *deleted, uint32_t *local, ks_err *err) {
  uint64_t want = ks_id_hash(id, len), h;
  uint32_t lo = 0, hi = seg->ndocs, d;
  int rc;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if ((rc = hash_entry(seg, mid, &h, &d, err))) return rc;
    if (h < want)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (uint32_t i = lo; i < seg->ndocs; i++) {
    if ((rc = hash_entry(seg, i, &h, &d, err))) return rc;
    if (h != want) break;
    if (deleted && (deleted[d >> 3] >> (d & 7) & 1)) continue;
    const char *did;
    size_t dlen;
    if ((rc = doc_id(seg, d, &did, &dlen, err))) return rc;
    if (dlen == len && memcmp(did, id, len) == 0) {
      *local = d;
      return KS_OK;
    }
  }
  return KS_NOTFOUND;
}

/* Block index entry b (< nblocks), verified. */
static const uint8_t *block_entry(const ks_segment *seg, uint32_t b, ks_err *err, int *rc) {
  const uint8_t *e = seg->sto_index + (size_t)b * KS_STO_INDEX_ENTRY;
  *rc = verify(seg, e, KS_STO_INDEX_ENTRY, err);
  return e;
}

/* Contract: docstore_int.h. */
int ks_segment_doc_json(const ks_segment *seg, uint32_t doc, ks_buf *out,
                        ks_err *err) {
  if (doc >= seg->ndocs)
    return ks_err_set(err, KS_EINVAL, "[sto][get] document %u out of range", doc);
  /* Last block whose first doc <= doc. */
  uint32_t lo = 0, hi = seg->sto_nblocks;
  int rc;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    const uint8_t *e = block_entry(seg, mid, err, &rc);
    if (rc) return rc;
    if (ks_load_u32(e) <= doc)
      lo = mid;
    else
      hi = mid;
  }
  const uint8_t *e = block_entry(seg, lo, err, &rc);
  if (rc) return rc;
  uint32_t first = ks_load_u32(e), raw_len = ks_load_u32(e + 4);
  uint64_t off = ks_load_u64(e + 8);
  uint32_t comp_len = ks_load_u32(e + 16);
  if (first > doc || off < KS_FILE_HEADER || off > seg->sto_data_end ||
      comp_len > seg->sto_data_end - off || raw_len > (1u << 30))
    return ks_err_set(err, KS_ECORRUPT, "[sto][get] %s: bad block index", seg->sto.path);
  if ((rc = verify(seg, seg->sto.data + off, comp_len, err))) return rc;
  uint8_t *raw = ks_malloc(raw_len ? raw_len : 1);
  if (!raw) return ks_err_set(err, KS_ENOMEM, "[sto][get] out of memory");
  uLongf got = raw_len;
  int zrc = uncompress(raw, &got, seg->sto.data + off, comp_len);
  if (zrc != Z_OK || got != raw_len) {
    rc = ks_err_set(err, KS_ECORRUPT, "[sto][get] %s: block %u does not decompress",
                    seg->sto.path, lo);
  } else {
    const uint8_t *p = raw, *end = raw + raw_len;
    for (uint32_t d = first;; d++) {
      uint64_t n;
      if (ks_get_varint(&p, end, &n) || n > (uint64_t)(end - p)) {
        rc = ks_err_set(err, KS_ECORRUPT, "[sto][get] %s: bad record in block %u",
                        seg->sto.path, lo);
        break;
      }
      if (d == doc) {
        if (ks_buf_append(out, p, (size_t)n))
          rc = ks_err_set(err, KS_ENOMEM, "[sto][get] out of memory");
        break;
      }
      p += n;
    }
  }
  ks_free(raw);
  return rc;
}

/* Contract: docstore_int.h. */
void ks_sto_iter_init(ks_sto_iter *it, const ks_segment *seg) {
  memset(it, 0, sizeof *it);
  it->seg = seg;
}

/* Contract: docstore_int.h. */
void ks_sto_iter_free(ks_sto_iter *it) { ks_buf_free(&it->raw); }

/* Contract: docstore_int.h. */
int ks_sto_iter_next(ks_sto_iter *it, const char **json, size_t *len,
                     ks_err *err) {
  const ks_segment *seg = it->seg;
  if (it->doc >= seg->ndocs) return KS_DONE;
  if (it->p == it->end) {
    if (it->block >= seg->sto_nblocks)
      return ks_err_set(err, KS_ECORRUPT, "[sto][iter] %s: missing block for document %u",
                        seg->sto.path, it->doc);
    int rc;
    const uint8_t *e = block_entry(seg, it->block, err, &rc);
    if (rc) return rc;
    uint32_t first = ks_load_u32(e), raw_len = ks_load_u32(e + 4);
    uint64_t off = ks_load_u64(e + 8);
    uint32_t comp_len = ks_load_u32(e + 16);
    if (first != it->doc || off < KS_FILE_HEADER || off > seg->sto_data_end ||
        comp_len > seg->sto_data_end - off || raw_len == 0 || raw_len > (1u << 30))
      return ks_err_set(err, KS_ECORRUPT, "[sto][iter] %s: bad block index entry %u",
                        seg->sto.path, it->block);
    if ((rc = verify(seg, seg->sto.data + off, comp_len, err))) return rc;
    ks_buf_reset(&it->raw);
    if (ks_buf_reserve(&it->raw, raw_len))
      return ks_err_set(err, KS_ENOMEM, "[sto][iter] out of memory");
    uLongf got = raw_len;
    if (uncompress(it->raw.data, &got, seg->sto.data + off, comp_len) != Z_OK ||
        got != raw_len)
      return ks_err_set(err, KS_ECORRUPT, "[sto][iter] %s: block %u does not decompress",
                        seg->sto.path, it->block);
    it->raw.len = raw_len;
    it->p = it->raw.data;
    it->end = it->raw.data + raw_len;
    it->block++;
  }
  uint64_t n;
  if (ks_get_varint(&it->p, it->end, &n) || n > (uint64_t)(it->end - it->p))
    return ks_err_set(err, KS_ECORRUPT, "[sto][iter] %s: bad record for document %u",
                      seg->sto.path, it->doc);
  *json = (const char *)it->p;
  *len = (size_t)n;
  it->p += n;
  it->doc++;
  return KS_OK;
}

/* Contract: docstore_int.h. */
uint32_t ks_segment_sto_nblocks(const ks_segment *seg) { return seg->sto_nblocks; }

/* Contract: docstore_int.h. */
int ks_segment_sto_block(const ks_segment *seg, uint32_t b, uint32_t *first,
                         uint32_t *ndocs, uint32_t *raw_len,
                         const uint8_t **comp, uint32_t *comp_len, ks_err *err) {
  if (b >= seg->sto_nblocks)
    return ks_err_set(err, KS_EINVAL, "[sto][block] block %u out of range", b);
  int rc;
  const uint8_t *e = block_entry(seg, b, err, &rc);
  if (!rc && b + 1 < seg->sto_nblocks) (void)block_entry(seg, b + 1, err, &rc);
  if (rc) return rc;
  uint32_t f = ks_load_u32(e);
  uint32_t next = b + 1 < seg->sto_nblocks ? ks_load_u32(e + KS_STO_INDEX_ENTRY) : seg->ndocs;
  uint64_t off = ks_load_u64(e + 8);
  uint32_t cl = ks_load_u32(e + 16);
  if (next <= f || next > seg->ndocs || off < KS_FILE_HEADER ||
      off > seg->sto_data_end || cl > seg->sto_data_end - off)
    return ks_err_set(err, KS_ECORRUPT, "[sto][block] %s: bad block index entry %u",
                      seg->sto.path, b);
  if ((rc = verify(seg, seg->sto.data + off, cl, err))) return rc;
  *first = f;
  *ndocs = next - f;
  *raw_len = ks_load_u32(e + 4);
  *comp = seg->sto.data + off;
  *comp_len = cl;
  return KS_OK;
}

/* ---- writing: ks_stow ------------------------------------------------------ */

struct ks_stow {
  ks_wfile f;
  int do_fsync;
  uint32_t ndocs;
  uint32_t block_first;  /* first doc of the pending block */
  ks_buf raw;            /* pending block, uncompressed */
  ks_buf index;          /* block index entries */
  ks_buf idoffs;         /* u32 offsets, ndocs + 1 at the end */
  ks_buf ids;            /* id bytes */
  uint8_t *comp;         /* compression scratch */
  size_t comp_cap;
  struct libdeflate_compressor *zc; /* see the header comment */
  /* asynchronous compression (ks_stow_set_async) */
  ks_worker *compressor; /* compresses queued blocks; NULL when sync */
  struct qblock *q;      /* ring of QDEPTH blocks: block i is q[i % QDEPTH] */
  uint64_t queued;       /* blocks handed to the compressor */
  uint64_t written;      /* of those, blocks written (in order) */
};

#define QDEPTH 16u

typedef struct qblock {
  ks_buf raw;            /* uncompressed block */
  uint8_t *comp;         /* its compressed form once the job is finished */
  size_t comp_cap;
  size_t clen;
  uint32_t first;        /* first document of the block */
} qblock;

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[stow] out of memory"); }

/* Contract: docstore_int.h. */
int ks_stow_open(ks_stow **out, const char *dir, uint32_t segno, int do_fsync,
                 ks_err *err) {
  *out = NULL;
  ks_stow *w = ks_calloc(1, sizeof *w);
  char *path = ks_path("%s/%06u.sto", dir, segno);
  if (!w || !path) {
    ks_free(w);
    ks_free(path);
    return oom(err);
  }
  int rc = ks_wfile_open_paged(&w->f, path, KS_MAGIC_STO, err);
  ks_free(path);
  if (rc) {
    ks_free(w);
    return rc;
  }
  w->do_fsync = do_fsync;
  if (ks_buf_put_u32(&w->idoffs, 0)) {
    ks_stow_abort(w);
    return oom(err);
  }
  *out = w;
  return KS_OK;
}

#define STO_LEVEL 1 /* libdeflate level; docs/format/sto.md */

/* Compress raw into a zlib stream in *comp (grown as needed), allocating
 * w->zc on first use; 0 or -1 (out of memory). */
static int compress_block(ks_stow *w, const ks_buf *raw, uint8_t **comp,
                          size_t *comp_cap, size_t *clen) {
  if (!w->zc && !(w->zc = libdeflate_alloc_compressor(STO_LEVEL))) return -1;
  size_t bound = libdeflate_zlib_compress_bound(w->zc, raw->len);
  if (*comp_cap < bound) {
    uint8_t *p = ks_realloc(*comp, bound);
    if (!p) return -1;
    *comp = p;
    *comp_cap = bound;
  }
  /* 0 means "did not fit", impossible with the bound */
  *clen = libdeflate_zlib_compress(w->zc, raw->data, raw->len, *comp, bound);
  return *clen ? 0 : -1;
}

/* Append a compressed block (first document `first`) and its index entry. */
static int write_block(ks_stow *w, uint32_t first, uint32_t raw_len,
                       const uint8_t *comp, size_t clen, ks_err *err) {
  uint8_t e[KS_STO_INDEX_ENTRY];
  ks_store_u32(e, first);
  ks_store_u32(e + 4, raw_len);
  ks_store_u64(e + 8, w->f.offset);
  ks_store_u32(e + 16, (uint32_t)clen);
  if (ks_buf_append(&w->index, e, sizeof e)) return oom(err);
  ks_wfile_write(&w->f, comp, clen);
  return KS_OK;
}

/* The compressor's job (ks_worker_fn): compress one queued block. */
static int compress_job(void *ctx, void *job, ks_err *err) {
  qblock *b = job;
  if (compress_block(ctx, &b->raw, &b->comp, &b->comp_cap, &b->clen))
    return ks_err_set(err, KS_ENOMEM, "[stow] compress failed");
  return KS_OK;
}

/* Write the oldest queued block, waiting for its compression if `wait`;
 * returns KS_DONE (without waiting) when it is not compressed yet or the
 * queue is empty. */
static int write_head(ks_stow *w, int wait, ks_err *err) {
  if (w->written == w->queued) return KS_DONE;
  if (!wait && ks_worker_finished(w->compressor) <= w->written) return KS_DONE;
  int rc = ks_worker_wait(w->compressor, w->written + 1, err);
  if (rc) return rc;
  qblock *b = &w->q[w->written % QDEPTH];
  rc = write_block(w, b->first, (uint32_t)b->raw.len, b->comp, b->clen, err);
  ks_buf_reset(&b->raw);
  w->written++;
  return rc;
}

/* Write every queued block (in order). */
static int drain_queue(ks_stow *w, ks_err *err) {
  int rc = KS_OK;
  while (w->compressor && !rc) {
    rc = write_head(w, 1, err);
    if (rc == KS_DONE) return KS_OK;
  }
  return rc;
}

static int flush_block(ks_stow *w, ks_err *err) {
  if (w->raw.len == 0) return KS_OK;
  if (w->compressor) {
    int rc;
    /* Write what is ready; wait for the oldest if the queue is full. */
    while ((rc = write_head(w, w->queued - w->written == QDEPTH, err)) == KS_OK) {}
    if (rc != KS_DONE) return rc;
    qblock *b = &w->q[w->queued % QDEPTH];
    ks_buf t = b->raw; /* swap buffers: the block's bytes are not copied */
    b->raw = w->raw;
    w->raw = t;
    b->first = w->block_first;
    rc = ks_worker_submit(w->compressor, b, err); /* room: < QDEPTH queued */
    w->queued++;
    if (rc) return rc;
    ks_buf_reset(&w->raw);
    w->block_first = w->ndocs;
    return KS_OK;
  }
  size_t clen;
  if (compress_block(w, &w->raw, &w->comp, &w->comp_cap, &clen))
    return ks_err_set(err, KS_ENOMEM, "[stow] compress failed");
  int rc = write_block(w, w->block_first, (uint32_t)w->raw.len, w->comp, clen, err);
  if (rc) return rc;
  ks_buf_reset(&w->raw);
  w->block_first = w->ndocs;
  return KS_OK;
}

/* Contract: docstore_int.h. */
int ks_stow_set_async(ks_stow *w, ks_err *err) {
  if (w->compressor) return KS_OK;
  if (w->raw.len || w->ndocs) return ks_err_set(err, KS_EINVAL, "[stow] set_async after documents");
  w->q = ks_calloc(QDEPTH, sizeof *w->q);
  if (!w->q) return oom(err);
  if (ks_worker_start(&w->compressor, compress_job, w, QDEPTH)) {
    ks_free(w->q);
    w->q = NULL;
    return ks_err_set(err, KS_ENOMEM, "[stow] cannot start the compression thread");
  }
  return KS_OK;
}

/* Contract: docstore_int.h. */
int ks_stow_add(ks_stow *w, const char *id, size_t idlen, const char *json,
                size_t jsonlen, ks_err *err) {
  if (jsonlen > (1u << 30) - 16)
    return ks_err_set(err, KS_ELIMIT, "[stow] stored document larger than 1 GiB");
  if (w->ids.len + idlen > UINT32_MAX)
    return ks_err_set(err, KS_ELIMIT, "[stow] id table exceeds 4 GiB");
  if (w->raw.len > 0 && w->raw.len + jsonlen > (1u << 30)) {
    int rc = flush_block(w, err);
    if (rc) return rc;
  }
  if (ks_buf_put_varint(&w->raw, jsonlen) || ks_buf_append(&w->raw, json, jsonlen) ||
      ks_buf_append(&w->ids, id, idlen) || ks_buf_put_u32(&w->idoffs, (uint32_t)w->ids.len))
    return oom(err);
  w->ndocs++;
  if (w->raw.len >= KS_STO_BLOCK_TARGET) return flush_block(w, err);
  return KS_OK;
}

/* Contract: docstore_int.h. */
int ks_stow_add_block(ks_stow *w, const uint8_t *comp, uint32_t comp_len,
                      uint32_t raw_len, uint32_t ndocs, const char *const *ids,
                      const size_t *idlens, ks_err *err) {
  int rc = flush_block(w, err); /* pending documents come first */
  if (!rc) rc = drain_queue(w, err);
  if (rc) return rc;
  uint8_t e[KS_STO_INDEX_ENTRY];
  ks_store_u32(e, w->ndocs);
  ks_store_u32(e + 4, raw_len);
  ks_store_u64(e + 8, w->f.offset);
  ks_store_u32(e + 16, comp_len);
  if (ks_buf_append(&w->index, e, sizeof e)) return oom(err);
  ks_wfile_write(&w->f, comp, comp_len);
  for (uint32_t i = 0; i < ndocs; i++) {
    if (w->ids.len + idlens[i] > UINT32_MAX)
      return ks_err_set(err, KS_ELIMIT, "[stow] id table exceeds 4 GiB");
    if (ks_buf_append(&w->ids, ids[i], idlens[i]) ||
        ks_buf_put_u32(&w->idoffs, (uint32_t)w->ids.len))
      return oom(err);
  }
  w->ndocs += ndocs;
  w->block_first = w->ndocs;
  return KS_OK;
}

/* Contract: docstore_int.h. */
uint32_t ks_stow_ndocs(const ks_stow *w) { return w->ndocs; }

static void free_stow(ks_stow *w) {
  ks_worker_stop(w->compressor, 1);
  if (w->q) {
    for (uint32_t i = 0; i < QDEPTH; i++) {
      ks_buf_free(&w->q[i].raw);
      ks_free(w->q[i].comp);
    }
    ks_free(w->q);
  }
  ks_buf_free(&w->raw);
  ks_buf_free(&w->index);
  ks_buf_free(&w->idoffs);
  ks_buf_free(&w->ids);
  ks_free(w->comp);
  libdeflate_free_compressor(w->zc);
  ks_free(w);
}

typedef struct hash_doc {
  uint64_t hash;
  uint32_t doc;
} hash_doc;

static int cmp_hash_doc(const void *a, const void *b) {
  const hash_doc *x = a, *y = b;
  if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
  return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* The id hash table: (ks_id_hash(id), doc) for every document, sorted by
 * hash then document. Memory: 16 bytes per document, for the sort. */
static int write_hash_table(ks_stow *w, ks_err *err) {
  hash_doc *t = ks_malloc((size_t)w->ndocs * sizeof *t + 1);
  if (!t) return oom(err);
  const uint8_t *offs = w->idoffs.data;
  for (uint32_t d = 0; d < w->ndocs; d++) {
    uint32_t a = ks_load_u32(offs + 4 * (size_t)d), b = ks_load_u32(offs + 4 * (size_t)d + 4);
    t[d].hash = ks_id_hash((const char *)w->ids.data + a, b - a);
    t[d].doc = d;
  }
  qsort(t, w->ndocs, sizeof *t, cmp_hash_doc);
  for (uint32_t i = 0; i < w->ndocs; i++) {
    ks_wfile_u64(&w->f, t[i].hash);
    ks_wfile_u32(&w->f, t[i].doc);
  }
  ks_free(t);
  return KS_OK;
}

/* Contract: docstore_int.h. */
int ks_stow_finish(ks_stow *w, ks_err *err) {
  int rc = flush_block(w, err);
  if (!rc) rc = drain_queue(w, err);
  if (!rc) {
    uint64_t index_off = w->f.offset;
    ks_wfile_write(&w->f, w->index.data, w->index.len);
    uint64_t idoff_off = w->f.offset;
    ks_wfile_write(&w->f, w->idoffs.data, w->idoffs.len);
    uint64_t ids_off = w->f.offset;
    ks_wfile_write(&w->f, w->ids.data, w->ids.len);
    uint64_t hash_off = w->f.offset;
    rc = write_hash_table(w, err);
    ks_wfile_u32(&w->f, w->ndocs);
    ks_wfile_u32(&w->f, (uint32_t)(w->index.len / KS_STO_INDEX_ENTRY));
    ks_wfile_u64(&w->f, index_off);
    ks_wfile_u64(&w->f, idoff_off);
    ks_wfile_u64(&w->f, ids_off);
    ks_wfile_u64(&w->f, hash_off);
  }
  if (!rc) {
    char *path = ks_strndup(w->f.path, strlen(w->f.path));
    rc = ks_wfile_finish(&w->f, w->do_fsync, err);
    if (rc && path) unlink(path);
    ks_free(path);
  } else {
    ks_wfile_abort(&w->f);
  }
  free_stow(w);
  return rc;
}

/* Contract: docstore_int.h. */
void ks_stow_abort(ks_stow *w) {
  if (!w) return;
  ks_wfile_abort(&w->f);
  free_stow(w);
}
