/*
 * stowriter.c - implements ks_stow of segwriter_int.h: the stored-documents
 * file (.sto) of one segment. Format: docs/format/sto.md (summary at the
 * top of common/docstore.c).
 *
 * Documents are appended to a raw block buffer (varint length + JSON);
 * when it reaches KS_STO_BLOCK_TARGET bytes it is zlib-compressed and
 * written (zlib level 1: stored text is read once per hit, and level 6
 * cost three times the CPU for ~10% smaller files). Ids are kept in memory (offsets + bytes) and written as the id
 * table at the end, so the file is produced in one sequential pass.
 */
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ks_alloc.h"
#include "segment_priv.h"
#include "segwriter_int.h"

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
};

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[stow] out of memory"); }

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
  int rc = ks_wfile_open(&w->f, path, KS_MAGIC_STO, err);
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

static int flush_block(ks_stow *w, ks_err *err) {
  if (w->raw.len == 0) return KS_OK;
  uLong bound = compressBound((uLong)w->raw.len);
  if (w->comp_cap < bound) {
    uint8_t *p = ks_realloc(w->comp, bound);
    if (!p) return oom(err);
    w->comp = p;
    w->comp_cap = bound;
  }
  uLongf clen = bound;
  if (compress2(w->comp, &clen, w->raw.data, (uLong)w->raw.len, Z_BEST_SPEED) != Z_OK)
    return ks_err_set(err, KS_ENOMEM, "[stow] zlib compress failed");
  uint8_t e[KS_STO_INDEX_ENTRY];
  ks_store_u32(e, w->block_first);
  ks_store_u32(e + 4, (uint32_t)w->raw.len);
  ks_store_u64(e + 8, w->f.offset);
  ks_store_u32(e + 16, (uint32_t)clen);
  if (ks_buf_append(&w->index, e, sizeof e)) return oom(err);
  ks_wfile_write(&w->f, w->comp, clen);
  ks_buf_reset(&w->raw);
  w->block_first = w->ndocs;
  return KS_OK;
}

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

int ks_stow_add_block(ks_stow *w, const uint8_t *comp, uint32_t comp_len,
                      uint32_t raw_len, uint32_t ndocs, const char *const *ids,
                      const size_t *idlens, ks_err *err) {
  int rc = flush_block(w, err); /* pending documents come first */
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

uint32_t ks_stow_ndocs(const ks_stow *w) { return w->ndocs; }

static void free_stow(ks_stow *w) {
  ks_buf_free(&w->raw);
  ks_buf_free(&w->index);
  ks_buf_free(&w->idoffs);
  ks_buf_free(&w->ids);
  ks_free(w->comp);
  ks_free(w);
}

int ks_stow_finish(ks_stow *w, ks_err *err) {
  int rc = flush_block(w, err);
  if (!rc) {
    uint64_t index_off = w->f.offset;
    ks_wfile_write(&w->f, w->index.data, w->index.len);
    uint64_t idoff_off = w->f.offset;
    ks_wfile_write(&w->f, w->idoffs.data, w->idoffs.len);
    uint64_t ids_off = w->f.offset;
    ks_wfile_write(&w->f, w->ids.data, w->ids.len);
    ks_wfile_u32(&w->f, w->ndocs);
    ks_wfile_u32(&w->f, (uint32_t)(w->index.len / KS_STO_INDEX_ENTRY));
    ks_wfile_u64(&w->f, index_off);
    ks_wfile_u64(&w->f, idoff_off);
    ks_wfile_u64(&w->f, ids_off);
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

void ks_stow_abort(ks_stow *w) {
  if (!w) return;
  ks_wfile_abort(&w->f);
  free_stow(w);
}
