/*
 * ks_buf.h - growable byte buffer and bounded little-endian / varint coding
 * (internal helpers shared by every file format).
 *
 * Varint rule (all formats): unsigned LEB128, 7 bits per byte, least
 * significant group first, high bit set on every byte but the last; at most
 * 10 bytes for a uint64. Decoders take (p, end) and never read at or past
 * end; an overrun or an over-long varint is KS_ECORRUPT.
 */
#ifndef KS_BUF_H
#define KS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ks_buf {
  uint8_t *data;  /* heap, may be NULL when cap == 0 */
  size_t len;     /* bytes used */
  size_t cap;     /* bytes allocated */
} ks_buf;

#define KS_BUF_INIT {NULL, 0, 0}

void ks_buf_free(ks_buf *b);                              /* keeps b usable */
int ks_buf_reserve(ks_buf *b, size_t extra);              /* KS_OK/KS_ENOMEM */
int ks_buf_append(ks_buf *b, const void *p, size_t n);    /* KS_OK/KS_ENOMEM */
int ks_buf_put_u8(ks_buf *b, uint8_t v);
int ks_buf_put_u32(ks_buf *b, uint32_t v);                /* little-endian */
int ks_buf_put_u64(ks_buf *b, uint64_t v);                /* little-endian */
int ks_buf_put_varint(ks_buf *b, uint64_t v);
static inline void ks_buf_reset(ks_buf *b) { b->len = 0; }

/* Encode into a raw array (caller guarantees 10 bytes of room). */
size_t ks_varint_encode(uint8_t *out, uint64_t v);

/* Bounded decoders: advance *p; return 0 on success, -1 on overrun or
 * malformed input (the caller maps it to KS_ECORRUPT). */
int ks_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);
int ks_get_varint32(const uint8_t **p, const uint8_t *end, uint32_t *v);

static inline uint32_t ks_load_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t ks_load_u64(const uint8_t *p) {
  return (uint64_t)ks_load_u32(p) | (uint64_t)ks_load_u32(p + 4) << 32;
}
static inline void ks_store_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void ks_store_u64(uint8_t *p, uint64_t v) {
  ks_store_u32(p, (uint32_t)v); ks_store_u32(p + 4, (uint32_t)(v >> 32));
}

#endif /* KS_BUF_H */
