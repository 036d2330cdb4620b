/*
 * buf.c - implements ks_buf.h: growable buffer, little-endian and varint
 * encoding with bounded decoding.
 */
#include "ks_buf.h"

#include "ks_alloc.h"
#include "kosearch/error.h"

void ks_buf_free(ks_buf *b) {
  ks_free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int ks_buf_reserve(ks_buf *b, size_t extra) {
  if (b->cap - b->len >= extra) return KS_OK;
  size_t need = b->len + extra;
  if (need < b->len) return KS_ENOMEM; /* overflow */
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) { cap = need; break; }
    cap *= 2;
  }
  uint8_t *d = ks_realloc(b->data, cap);
  if (!d) return KS_ENOMEM;
  b->data = d;
  b->cap = cap;
  return KS_OK;
}

int ks_buf_append(ks_buf *b, const void *p, size_t n) {
  if (n == 0) return KS_OK;
  if (ks_buf_reserve(b, n)) return KS_ENOMEM;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return KS_OK;
}

int ks_buf_put_u8(ks_buf *b, uint8_t v) { return ks_buf_append(b, &v, 1); }

int ks_buf_put_u32(ks_buf *b, uint32_t v) {
  uint8_t t[4];
  ks_store_u32(t, v);
  return ks_buf_append(b, t, 4);
}

int ks_buf_put_u64(ks_buf *b, uint64_t v) {
  uint8_t t[8];
  ks_store_u64(t, v);
  return ks_buf_append(b, t, 8);
}

size_t ks_varint_encode(uint8_t *out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

int ks_buf_put_varint(ks_buf *b, uint64_t v) {
  if (ks_buf_reserve(b, 10)) return KS_ENOMEM;
  b->len += ks_varint_encode(b->data + b->len, v);
  return KS_OK;
}

int ks_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
  const uint8_t *p = *pp;
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return -1;
    uint8_t c = *p++;
    if (shift == 63 && c > 1) return -1; /* would overflow 64 bits */
    r |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *pp = p;
      *v = r;
      return 0;
    }
  }
  return -1;
}

int ks_get_varint32(const uint8_t **p, const uint8_t *end, uint32_t *v) {
  uint64_t t;
  if (ks_get_varint(p, end, &t) || t > UINT32_MAX) return -1;
  *v = (uint32_t)t;
  return 0;
}
