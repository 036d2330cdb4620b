/*
 * codec_int.h - the integer block codec used by postings (internal).
 *
 * Stream VByte (Lemire, Kurz, Rupp: "Stream VByte: Faster Byte-Oriented
 * Integer Compression", IPL 2018): n values are stored as ceil(n/4)
 * control bytes (2 bits per value: byte length - 1) followed by the data
 * bytes. Encoding goes through Debian's libstreamvbyte; decoding is our own
 * (codec.c): one SSSE3 shuffle per four values, bounded by `end`, refusing
 * a block that would run past it. Format spec: docs/format/postings.md.
 */
#ifndef KS_CODEC_INT_H
#define KS_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

/* Upper bound of ks_codec_encode's output for n values. */
static inline size_t ks_codec_max_bytes(uint32_t n) {
  return (size_t)(n + 3) / 4 + (size_t)n * 4;
}

/* Bytes that libstreamvbyte may read past the end of an encoded block;
 * writers pad files so that a block at the end of a file stays safe. */
#define KS_CODEC_PAD 16

/* Encode n values into out (ks_codec_max_bytes(n) bytes of room).
 * Returns the bytes written (0 when n == 0). */
size_t ks_codec_encode(const uint32_t *in, uint32_t n, uint8_t *out);

/* Exact encoded size of n values starting at p, or 0 if the control bytes
 * run past end or the data would (n == 0 gives 0 too: check n first). */
size_t ks_codec_encoded_size(const uint8_t *p, const uint8_t *end, uint32_t n);

/* Decode n values from [p, end) into out. Returns the bytes consumed, or
 * 0 if the input is truncated/corrupt (nothing past end is read, except
 * up to KS_CODEC_PAD bytes of a mapping that the format guarantees). */
size_t ks_codec_decode(const uint8_t *p, const uint8_t *end, uint32_t *out,
                       uint32_t n);

#endif /* KS_CODEC_INT_H */
