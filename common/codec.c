/*
 * codec.c - implements codec_int.h over libstreamvbyte, adding the input
 * validation that the library leaves to its caller.
 * Spec: docs/format/postings.md ("Integer blocks").
 */
#include "codec_int.h"

#include <streamvbyte.h>

/* Sum of (code + 1) over the four 2-bit codes of a control byte. */
static uint8_t ctrl_len[256];
static int ctrl_ready;

static void init_ctrl(void) {
  for (int c = 0; c < 256; c++)
    ctrl_len[c] = (uint8_t)(((c & 3) + 1) + (((c >> 2) & 3) + 1) +
                            (((c >> 4) & 3) + 1) + (((c >> 6) & 3) + 1));
  ctrl_ready = 1; /* benign race: every thread writes identical values */
}

size_t ks_codec_encode(const uint32_t *in, uint32_t n, uint8_t *out) {
  if (n == 0) return 0;
  return streamvbyte_encode(in, n, out);
}

size_t ks_codec_encoded_size(const uint8_t *p, const uint8_t *end, uint32_t n) {
  if (!ctrl_ready) init_ctrl();
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
  size_t need = ks_codec_encoded_size(p, end, n);
  if (need == 0) return 0;
  size_t used = streamvbyte_decode(p, out, n);
  return used == need ? used : 0;
}
