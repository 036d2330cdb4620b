/*
 * fuzz_analyzer.c - libFuzzer target: arbitrary bytes through the analyzer
 * (kosearch/tok.h), for documents and for queries, with the default
 * options and with options derived from the first byte (stems, bigrams,
 * min_stem 0..63, where 0 must be refused). Checks the contract of
 * ks_tok_run: KS_EUTF8 exactly when the input is not valid UTF-8 (and
 * then nothing is emitted), otherwise KS_OK, and every token a valid UTF-8
 * term of 1..KS_TOK_MAX_TERM bytes, a known field and kind, and a word
 * span inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "kosearch/error.h"
#include "kosearch/tok.h"

/* One analyzer per option set, created on first use (ICU setup is the
 * costly part and is not what is being fuzzed). */
static ks_tok *toks[256];
static ks_tok *default_tok;

typedef struct check_ctx {
  size_t len;
  size_t ntokens;
} check_ctx;

static int check_token(void *ctx, const ks_token *t) {
  check_ctx *c = ctx;
  c->ntokens++;
  if (t->len < 1 || t->len > KS_TOK_MAX_TERM) fz_fail("token of %zu bytes", t->len);
  if (!ks_utf8_valid(t->term, t->len, NULL)) fz_fail("token is not valid UTF-8");
  if (t->field >= KS_NFIELDS || t->kind > KS_KIND_COUNTER)
    fz_fail("token field %u kind %u", t->field, t->kind);
  if (t->start > t->end || t->end > c->len)
    fz_fail("token span %zu..%zu of %zu bytes", t->start, t->end, c->len);
  return 0;
}

static void run(ks_tok *tok, const uint8_t *data, size_t size) {
  int valid = ks_utf8_valid((const char *)data, size, NULL);
  for (int reason = KS_TOK_DOCUMENT; reason <= KS_TOK_QUERY; reason++) {
    check_ctx c = {size, 0};
    ks_err e;
    int rc = ks_tok_run(tok, reason, (const char *)data, size, check_token, &c, &e);
    if (valid && rc != KS_OK) fz_fail("valid input: ks_tok_run returned %d (%s)", rc, e.msg);
    if (!valid && (rc != KS_EUTF8 || c.ntokens))
      fz_fail("invalid UTF-8: ks_tok_run returned %d after %zu tokens", rc, c.ntokens);
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  ks_err e;
  if (ks_tok_new(NULL, &default_tok, &e) != KS_OK) fz_fail("ks_tok_new: %s", e.msg);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run(default_tok, data, size);
  if (size == 0) return 0;
  uint8_t b = data[0];
  ks_tok_config cfg;
  ks_tok_config_default(&cfg);
  cfg.stems = b & 1;
  cfg.bigrams = (b >> 1) & 1;
  cfg.min_stem = b >> 2;
  if (!toks[b]) {
    ks_err e;
    int rc = ks_tok_new(&cfg, &toks[b], &e);
    if (cfg.min_stem == 0) {
      if (rc != KS_EINVAL) fz_fail("min_stem 0 accepted (rc %d)", rc);
      return 0;
    }
    if (rc != KS_OK) fz_fail("ks_tok_new(%d, %d, %d): %s", cfg.stems, cfg.bigrams,
                             cfg.min_stem, e.msg);
  }
  run(toks[b], data + 1, size - 1);
  return 0;
}
