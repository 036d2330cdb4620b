/*
 * docstore.c - implements the stored-document part of segment_int.h over a
 * segment's .sto file. Spec: docs/format/sto.md.
 *
 * Layout summary: zlib-compressed blocks of ~KS_STO_BLOCK_TARGET raw bytes,
 * each the concatenation of records (varint length + JSON object bytes) of
 * consecutive documents; a fixed-width block index (first doc, raw length,
 * offset, compressed length); an id table ((ndocs + 1) u32 offsets then the
 * id bytes) so that ids are read without decompressing anything.
 */
#include <string.h>
#include <zlib.h>

#include "ks_alloc.h"
#include "ks_buf.h"
#include "segment_priv.h"

int ks_docstore_attach(ks_segment *seg, ks_err *err) {
  const ks_map *m = &seg->sto;
  const uint8_t *t = m->data + m->size - KS_FILE_FOOTER - KS_STO_TRAILER;
  uint32_t ndocs = ks_load_u32(t), nblocks = ks_load_u32(t + 4);
  uint64_t index_off = ks_load_u64(t + 8), idoff_off = ks_load_u64(t + 16);
  uint64_t ids_off = ks_load_u64(t + 24);
  uint64_t limit = (uint64_t)(t - m->data);
  if (ndocs != seg->ndocs || index_off < KS_FILE_HEADER || index_off > limit ||
      (uint64_t)nblocks * KS_STO_INDEX_ENTRY != idoff_off - index_off ||
      idoff_off < index_off || ids_off < idoff_off ||
      ((uint64_t)ndocs + 1) * 4 != ids_off - idoff_off || ids_off > limit ||
      (ndocs > 0 && nblocks == 0))
    return ks_err_set(err, KS_ECORRUPT, "[sto][open] %s: bad trailer", m->path);
  seg->sto_nblocks = nblocks;
  seg->sto_index = m->data + index_off;
  seg->sto_idoffs = m->data + idoff_off;
  seg->sto_ids = m->data + ids_off;
  seg->sto_ids_len = limit - ids_off;
  seg->sto_data_end = index_off;
  /* Offsets must be non-decreasing and inside the id area. */
  uint32_t prev = 0;
  for (uint32_t d = 0; d <= ndocs; d++) {
    uint32_t o = ks_load_u32(seg->sto_idoffs + 4 * (size_t)d);
    if (o < prev || o > seg->sto_ids_len || (d == 0 && o != 0))
      return ks_err_set(err, KS_ECORRUPT, "[sto][open] %s: bad id table", m->path);
    prev = o;
  }
  return KS_OK;
}

int ks_segment_doc_id(const ks_segment *seg, uint32_t doc, const char **id,
                      size_t *len, ks_err *err) {
  if (doc >= seg->ndocs)
    return ks_err_set(err, KS_EINVAL, "[sto][id] document %u out of range", doc);
  uint32_t a = ks_load_u32(seg->sto_idoffs + 4 * (size_t)doc);
  uint32_t b = ks_load_u32(seg->sto_idoffs + 4 * (size_t)doc + 4);
  *id = (const char *)seg->sto_ids + a;
  *len = b - a;
  return KS_OK;
}

int ks_segment_doc_json(const ks_segment *seg, uint32_t doc, ks_buf *out,
                        ks_err *err) {
  if (doc >= seg->ndocs)
    return ks_err_set(err, KS_EINVAL, "[sto][get] document %u out of range", doc);
  /* Last block whose first doc <= doc. */
  uint32_t lo = 0, hi = seg->sto_nblocks;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ks_load_u32(seg->sto_index + (size_t)mid * KS_STO_INDEX_ENTRY) <= doc)
      lo = mid;
    else
      hi = mid;
  }
  const uint8_t *e = seg->sto_index + (size_t)lo * KS_STO_INDEX_ENTRY;
  uint32_t first = ks_load_u32(e), raw_len = ks_load_u32(e + 4);
  uint64_t off = ks_load_u64(e + 8);
  uint32_t comp_len = ks_load_u32(e + 16);
  if (first > doc || off < KS_FILE_HEADER || off > seg->sto_data_end ||
      comp_len > seg->sto_data_end - off || raw_len > (1u << 30))
    return ks_err_set(err, KS_ECORRUPT, "[sto][get] %s: bad block index", seg->sto.path);
  uint8_t *raw = ks_malloc(raw_len ? raw_len : 1);
  if (!raw) return ks_err_set(err, KS_ENOMEM, "[sto][get] out of memory");
  uLongf got = raw_len;
  int zrc = uncompress(raw, &got, seg->sto.data + off, comp_len);
  int rc = KS_OK;
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

void ks_sto_iter_init(ks_sto_iter *it, const ks_segment *seg) {
  memset(it, 0, sizeof *it);
  it->seg = seg;
}

void ks_sto_iter_free(ks_sto_iter *it) { ks_buf_free(&it->raw); }

int ks_sto_iter_next(ks_sto_iter *it, const char **json, size_t *len,
                     ks_err *err) {
  const ks_segment *seg = it->seg;
  if (it->doc >= seg->ndocs) return KS_DONE;
  if (it->p == it->end) {
    if (it->block >= seg->sto_nblocks)
      return ks_err_set(err, KS_ECORRUPT, "[sto][iter] %s: missing block for document %u",
                        seg->sto.path, it->doc);
    const uint8_t *e = seg->sto_index + (size_t)it->block * KS_STO_INDEX_ENTRY;
    uint32_t first = ks_load_u32(e), raw_len = ks_load_u32(e + 4);
    uint64_t off = ks_load_u64(e + 8);
    uint32_t comp_len = ks_load_u32(e + 16);
    if (first != it->doc || off < KS_FILE_HEADER || off > seg->sto_data_end ||
        comp_len > seg->sto_data_end - off || raw_len == 0 || raw_len > (1u << 30))
      return ks_err_set(err, KS_ECORRUPT, "[sto][iter] %s: bad block index entry %u",
                        seg->sto.path, it->block);
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

uint32_t ks_segment_sto_nblocks(const ks_segment *seg) { return seg->sto_nblocks; }

int ks_segment_sto_block(const ks_segment *seg, uint32_t b, uint32_t *first,
                         uint32_t *ndocs, uint32_t *raw_len,
                         const uint8_t **comp, uint32_t *comp_len, ks_err *err) {
  const uint8_t *e = seg->sto_index + (size_t)b * KS_STO_INDEX_ENTRY;
  uint32_t f = ks_load_u32(e);
  uint32_t next = b + 1 < seg->sto_nblocks ? ks_load_u32(e + KS_STO_INDEX_ENTRY) : seg->ndocs;
  uint64_t off = ks_load_u64(e + 8);
  uint32_t cl = ks_load_u32(e + 16);
  if (b >= seg->sto_nblocks || next <= f || next > seg->ndocs || off < KS_FILE_HEADER ||
      off > seg->sto_data_end || cl > seg->sto_data_end - off)
    return ks_err_set(err, KS_ECORRUPT, "[sto][block] %s: bad block index entry %u",
                      seg->sto.path, b);
  *first = f;
  *ndocs = next - f;
  *raw_len = ks_load_u32(e + 4);
  *comp = seg->sto.data + off;
  *comp_len = cl;
  return KS_OK;
}
