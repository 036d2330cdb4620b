/*
 * dedup.c - implements section dedup.c of writer_int.h: duplicate ids. A
 * later document with the same id replaces the earlier one, which is
 * marked in a deletion bitmap over the writer's global document numbers;
 * commit drops the marked documents in the merge or writes .del files.
 *
 * The id table is open addressing (FNV-1a hash, linear probing) over a
 * power-of-two number of slots, grown (doubled, rehashed) before it is
 * half full; the ids' bytes are kept once, in `ids`, and slots hold their
 * offset and length, so a slot is 16 bytes whatever the id.
 *
 * Invariants: slots == 0 or a power of two >= 2 * count; ent[j] == 0 iff
 * slot j is empty; for a full slot, ids[off[j] .. off[j] + len[j]) is its
 * id and ent[j] - 1 the latest document with that id, or ent[j] ==
 * NO_DOC when that document was deleted by id (ks_dedup_remove).
 */
#include "writer_int.h"

#include <string.h>

#include "ks_alloc.h"

#define NO_DOC UINT64_MAX /* the id's document was deleted */

static uint32_t id_hash(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* Record id -> doc; if the id was seen, return the previous doc in *prev
 * (else UINT64_MAX). 0, or -1 when out of memory. */
static int id_put(ks_dedup *d, const char *id, size_t n, uint64_t doc, uint64_t *prev) {
  *prev = UINT64_MAX;
  if ((d->count + 1) * 2 > d->slots) {
    size_t ns = d->slots ? d->slots * 2 : 1u << 16;
    uint64_t *ent = ks_calloc(ns, sizeof *ent);
    uint32_t *off = ks_malloc(ns * sizeof *off), *len = ks_malloc(ns * sizeof *len);
    if (!ent || !off || !len) {
      ks_free(ent); ks_free(off); ks_free(len);
      return -1;
    }
    for (size_t i = 0; i < d->slots; i++) {
      if (!d->ent[i]) continue;
      size_t j = id_hash((char *)d->ids.data + d->off[i], d->len[i]) & (ns - 1);
      while (ent[j]) j = (j + 1) & (ns - 1);
      ent[j] = d->ent[i];
      off[j] = d->off[i];
      len[j] = d->len[i];
    }
    ks_free(d->ent); ks_free(d->off); ks_free(d->len);
    d->ent = ent; d->off = off; d->len = len;
    d->slots = ns;
  }
  size_t j = id_hash(id, n) & (d->slots - 1);
  while (d->ent[j]) {
    if (d->len[j] == n && !memcmp(d->ids.data + d->off[j], id, n)) {
      *prev = d->ent[j] == NO_DOC ? UINT64_MAX : d->ent[j] - 1;
      d->ent[j] = doc + 1;
      return 0;
    }
    j = (j + 1) & (d->slots - 1);
  }
  if (d->ids.len + n > UINT32_MAX || ks_buf_append(&d->ids, id, n)) return -1;
  d->ent[j] = doc + 1;
  d->off[j] = (uint32_t)(d->ids.len - n);
  d->len[j] = (uint32_t)n;
  d->count++;
  return 0;
}

static int mark_deleted(ks_dedup *d, uint64_t doc) {
  size_t need = (size_t)(doc / 8) + 1;
  if (d->deleted.len < need) {
    if (ks_buf_reserve(&d->deleted, need - d->deleted.len)) return -1;
    memset(d->deleted.data + d->deleted.len, 0, need - d->deleted.len);
    d->deleted.len = need;
  }
  d->deleted.data[doc / 8] |= (uint8_t)(1u << (doc % 8));
  return 0;
}

/* Contract: writer_int.h. */
int ks_dedup_add(ks_dedup *d, const char *id, size_t n, uint64_t doc, int *replaced) {
  uint64_t prev;
  *replaced = 0;
  if (id_put(d, id, n, doc, &prev) || (prev != UINT64_MAX && mark_deleted(d, prev)))
    return KS_ENOMEM;
  *replaced = prev != UINT64_MAX;
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_dedup_remove(ks_dedup *d, const char *id, size_t n, uint64_t *doc) {
  if (!d->slots) return KS_NOTFOUND;
  size_t j = id_hash(id, n) & (d->slots - 1);
  while (d->ent[j]) {
    if (d->len[j] == n && !memcmp(d->ids.data + d->off[j], id, n)) {
      if (d->ent[j] == NO_DOC) return KS_NOTFOUND;
      *doc = d->ent[j] - 1;
      if (mark_deleted(d, *doc)) return KS_ENOMEM;
      d->ent[j] = NO_DOC;
      return KS_OK;
    }
    j = (j + 1) & (d->slots - 1);
  }
  return KS_NOTFOUND;
}

/* Contract: writer_int.h. */
void ks_dedup_reset(ks_dedup *d) {
  ks_buf_reset(&d->ids);
  ks_buf_reset(&d->deleted);
  if (d->slots) memset(d->ent, 0, d->slots * sizeof *d->ent);
  d->count = 0;
}

/* Contract: writer_int.h. */
int ks_dedup_is_deleted(const ks_dedup *d, uint64_t doc) {
  return doc / 8 < d->deleted.len && ((d->deleted.data[doc / 8] >> (doc % 8)) & 1);
}

/* Contract: writer_int.h. */
uint8_t *ks_dedup_bitmap(const ks_dedup *d, uint64_t base, uint32_t ndocs,
                         uint32_t *count) {
  *count = 0;
  for (uint32_t i = 0; i < ndocs; i++) *count += (uint32_t)ks_dedup_is_deleted(d, base + i);
  if (*count == 0) return NULL;
  uint8_t *bm = ks_calloc(((size_t)ndocs + 7) / 8 + 1, 1);
  if (!bm) return NULL;
  for (uint32_t i = 0; i < ndocs; i++)
    if (ks_dedup_is_deleted(d, base + i)) bm[i / 8] |= (uint8_t)(1u << (i % 8));
  return bm;
}

/* Contract: writer_int.h. */
size_t ks_dedup_id_bytes(const ks_dedup *d) { return d->ids.cap; }

/* Contract: writer_int.h. */
size_t ks_dedup_bytes(const ks_dedup *d) {
  return d->ids.cap + d->slots * (sizeof(uint64_t) + 2 * sizeof(uint32_t)) + d->deleted.cap;
}

/* Contract: writer_int.h. */
void ks_dedup_free(ks_dedup *d) {
  ks_buf_free(&d->ids);
  ks_buf_free(&d->deleted);
  ks_free(d->ent);
  ks_free(d->off);
  ks_free(d->len);
  memset(d, 0, sizeof *d);
}
