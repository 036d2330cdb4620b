/*
 * codec.c - implements codec_int.h: encoding through libstreamvbyte, and
 * our own bounded decoder. Spec: docs/format/postings.md ("Integer
 * blocks").
 *
 * Decoding is ours because Debian's libstreamvbyte is built for baseline
 * x86-64 and decodes one byte at a time (no SSSE3 shuffle), and because it
 * trusts its input. ks_codec_decode validates and decodes in one pass: each
 * group of four values (one control byte) is decoded with one SSSE3 shuffle
 * (PSHUFB with a per-control-byte mask, Lemire et al.) when at least 16
 * bytes remain before `end`, else byte by byte; a group whose data would
 * run past `end` makes the block corrupt. Nothing at or past `end` is read.
 * The CPU is checked once (__builtin_cpu_supports) and the scalar path is
 * used without SSSE3 or off x86.
 *
 * Invariants: the tables below are constant after ks_codec_decode's
 * pthread_once initialisation, so concurrent decoders share them safely.
 */
#include "codec_int.h"

#include <pthread.h>
#include <string.h>

#include <streamvbyte.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KS_CODEC_X86 1
#else
#define KS_CODEC_X86 0
#endif

/* Sum of (code + 1) over the four 2-bit codes of a control byte. */
#define KS_CL(c) ((((c) & 3) + 1) + ((((c) >> 2) & 3) + 1) + \
                  ((((c) >> 4) & 3) + 1) + ((((c) >> 6) & 3) + 1))
#define KS_CL4(c) KS_CL(c), KS_CL((c) + 1), KS_CL((c) + 2), KS_CL((c) + 3)
#define KS_CL16(c) KS_CL4(c), KS_CL4((c) + 4), KS_CL4((c) + 8), KS_CL4((c) + 12)
#define KS_CL64(c) KS_CL16(c), KS_CL16((c) + 16), KS_CL16((c) + 32), KS_CL16((c) + 48)
static const uint8_t ctrl_len[256] = {KS_CL64(0), KS_CL64(64), KS_CL64(128),
                                      KS_CL64(192)};

/* Shuffle masks: for control byte c, output byte 4*i + j takes data byte
 * (offset of value i) + j if j < length of value i, else zero (0x80). */
static uint8_t shuffle[256][16] __attribute__((aligned(16)));
static int use_ssse3;
static pthread_once_t codec_once = PTHREAD_ONCE_INIT;

static void codec_init(void) {
  for (int c = 0; c < 256; c++) {
    int off = 0;
    for (int i = 0; i < 4; i++) {
      int len = ((c >> (2 * i)) & 3) + 1;
      for (int j = 0; j < 4; j++)
        shuffle[c][4 * i + j] = (uint8_t)(j < len ? off + j : 0x80);
      off += len;
    }
  }
#if KS_CODEC_X86
  __builtin_cpu_init();
  use_ssse3 = __builtin_cpu_supports("ssse3");
#endif
}

/* One value of `len` bytes, little-endian. */
static inline uint32_t load_value(const uint8_t *d, int len) {
  uint32_t v = d[0];
  if (len > 1) v |= (uint32_t)d[1] << 8;
  if (len > 2) v |= (uint32_t)d[2] << 16;
  if (len > 3) v |= (uint32_t)d[3] << 24;
  return v;
}

/* Decode `groups` full groups of four values; returns the data pointer
 * after them, or NULL if one would run past end. */
static const uint8_t *decode_groups_scalar(const uint8_t *ctrl, const uint8_t *d,
                                           const uint8_t *end, uint32_t *out,
                                           size_t groups) {
  for (size_t g = 0; g < groups; g++) {
    uint8_t c = ctrl[g];
    if ((size_t)(end - d) < ctrl_len[c]) return NULL;
    for (int i = 0; i < 4; i++) {
      int len = ((c >> (2 * i)) & 3) + 1;
      out[4 * g + (size_t)i] = load_value(d, len);
      d += len;
    }
  }
  return d;
}

#if KS_CODEC_X86
__attribute__((target("ssse3")))
static const uint8_t *decode_groups_ssse3(const uint8_t *ctrl, const uint8_t *d,
                                          const uint8_t *end, uint32_t *out,
                                          size_t groups) {
  size_t g = 0;
  /* a 16-byte load at d stays before end */
  for (; g < groups && (size_t)(end - d) >= 16; g++) {
    uint8_t c = ctrl[g];
    __m128i data = _mm_loadu_si128((const __m128i *)(const void *)d);
    __m128i mask = _mm_load_si128((const __m128i *)(const void *)shuffle[c]);
    _mm_storeu_si128((__m128i *)(void *)(out + 4 * g), _mm_shuffle_epi8(data, mask));
    d += ctrl_len[c];
  }
  if (g == groups) return d;
  return decode_groups_scalar(ctrl + g, d, end, out + 4 * g, groups - g);
}
#endif

size_t ks_codec_encode(const uint32_t *in, uint32_t n, uint8_t *out) {
  if (n == 0) return 0;
  return streamvbyte_encode(in, n, out);
}

size_t ks_codec_encoded_size(const uint8_t *p, const uint8_t *end, uint32_t n) {
  size_t nctrl = ((size_t)n + 3) / 4;
  if (p > end || (size_t)(end - p) < nctrl) return 0;
  size_t full = n / 4, data = 0;
  for (size_t i = 0; i < full; i++) data += ctrl_len[p[i]];
  uint32_t rest = n % 4;
  if (rest) {
    uint8_t c = p[full];
    for (uint32_t j = 0; j < rest; j++) data += ((c >> (2 * j)) & 3) + 1;
  }
  if ((size_t)(end - p) - nctrl < data) return 0;
  return nctrl + data;
}

size_t ks_codec_decode(const uint8_t *p, const uint8_t *end, uint32_t *out,
                       uint32_t n) {
  if (n == 0) return 0;
  pthread_once(&codec_once, codec_init);
  size_t nctrl = ((size_t)n + 3) / 4;
  if (p > end || (size_t)(end - p) < nctrl) return 0;
  const uint8_t *d = p + nctrl;
  size_t full = n / 4;
#if KS_CODEC_X86
  if (use_ssse3)
    d = decode_groups_ssse3(p, d, end, out, full);
  else
#endif
    d = decode_groups_scalar(p, d, end, out, full);
  if (!d) return 0;
  uint32_t rest = n % 4;
  if (rest) {
    uint8_t c = p[full];
    for (uint32_t j = 0; j < rest; j++) {
      int len = ((c >> (2 * j)) & 3) + 1;
      if (end - d < len) return 0;
      out[4 * full + j] = load_value(d, len);
      d += len;
    }
  }
  return (size_t)(d - p);
}
