/*
 * input_int.h - internal (unstable) hooks of the corpus reader, for tests.
 *
 * The public contract is in kosearch/input.h; this header only exposes knobs that
 * let unit tests reach limits without writing hundreds of megabytes.
 */
#ifndef KS_INPUT_INT_H
#define KS_INPUT_INT_H

#include <stddef.h>

#include "kosearch/input.h"

/* Default longest accepted JSON line or .txt file, in bytes. A longer line
 * is reported as KS_EINPUT ("line too long") and skipped up to its newline;
 * it is never held in memory whole. */
#define KS_INPUT_MAX_LINE ((size_t)256 << 20)

/* Change the line/file cap of `in` (bytes, >= 16). Must be called before the
 * first ks_input_next. Values below 16 are raised to 16. */
void ks_input_set_max_line(ks_input *in, size_t max_line);

#endif /* KS_INPUT_INT_H */
