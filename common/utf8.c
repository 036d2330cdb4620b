/*
 * utf8.c - implements ks_utf8_valid() from kosearch/tok.h: strict UTF-8
 * validation (RFC 3629 / Unicode 15 table 3-7).
 *
 * Accepted: the shortest encoding of every scalar value U+0000..U+10FFFF
 * except the surrogates U+D800..U+DFFF. Rejected: stray continuation bytes,
 * overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF),
 * code points above U+10FFFF (F4 90.., F5..FF) and sequences cut off by the
 * end of the buffer. NUL bytes are valid UTF-8 (callers that forbid them,
 * such as the input reader, check separately).
 *
 * Invariant: every read is bounded by (p, end); the function never reads
 * text[len] or beyond.
 */
#include <stdint.h>
#include <string.h>

#include "kosearch/tok.h"

/* ks_utf8_valid: see kosearch/tok.h. Runs 8 bytes at a time over ASCII, and
 * takes the common three-byte lead bytes E1..EC (Hangul) in one test. */
int ks_utf8_valid(const char *text, size_t len, size_t *bad_offset) {
  const uint8_t *s = (const uint8_t *)text;
  const uint8_t *p = s, *end = s + len;
  if (!text && len) {
    if (bad_offset) *bad_offset = 0;
    return 0;
  }
  while (p < end) {
    /* ASCII fast path: 8 bytes at a time. */
    while ((size_t)(end - p) >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      if (w & UINT64_C(0x8080808080808080)) break;
      p += 8;
    }
    if (p >= end) break;
    uint8_t c = *p;
    if (c < 0x80) {
      p++;
      continue;
    }
    /* E1..EC (Hangul and most of the BMP): any two continuation bytes. */
    if (c >= 0xE1 && c <= 0xEC && (size_t)(end - p) >= 3 &&
        (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
      p += 3;
      continue;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;      /* no overlongs */
      else if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;      /* no overlongs */
      else if (c == 0xF4) hi = 0x8F; /* <= U+10FFFF */
    } else {
      goto bad; /* 80..C1 or F5..FF */
    }
    if ((size_t)(end - p) <= need) goto bad; /* truncated */
    if (p[1] < lo || p[1] > hi) goto bad;
    for (size_t i = 2; i <= need; i++)
      if ((p[i] & 0xC0) != 0x80) goto bad;
    p += need + 1;
  }
  return 1;
bad:
  if (bad_offset) *bad_offset = (size_t)(p - s);
  return 0;
}
