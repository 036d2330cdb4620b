/*
 * snippet.c - implements ks_index_results_snippet of index.h.
 *
 * 1. Take the "text" string of the stored JSON (cJSON): the hit's, fetched
 *    from the index (ks_index_results_snippet), or one given by the caller
 *    (ks_snippet_make, used by ks_query_plan_snippet for the Xapian
 *    backend, whose documents store the same JSON).
 * 2. Analyze the text with the index's analyzer; a word is MATCHED when one
 *    of its word-field terms (surface or stem) equals a word-field term of
 *    a non-excluded query clause (phrase base terms included). Only when no
 *    word matches that way, words whose bigrams equal a query bigram are
 *    matched instead (so "산업" still marks "첨단산업").
 * 3. Choose the window of at most max_chars characters holding the most
 *    matched words (earliest on ties), centred on them; move its edges to a
 *    nearby space so words are not cut; no match: the start of the text.
 * 4. Emit it with every run of whitespace/control characters collapsed to
 *    one space, matched words wrapped in mark_open/mark_close, and "…" at a
 *    cut edge. Edges are character boundaries (never inside a UTF-8
 *    sequence). max_chars = 0 means the whole text.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "ks_alloc.h"
#include "query_int.h"

#define SNAP_CHARS 20 /* how far an edge may move to reach a space */
static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */

typedef struct span {
  size_t start, end;   /* bytes of the matched word */
  size_t cstart, cend; /* the same in characters */
  int exact;           /* matched by a word term (else by a bigram) */
} span;

typedef struct snip_ctx {
  const ks_rterm *terms; /* query terms of non-excluded clauses */
  uint32_t nterms;
  const char *strings;   /* their bytes */
  const char *text;
  size_t len;
  span *spans;
  size_t n, cap;
  int nexact;
} snip_ctx;

static int is_query_term(const snip_ctx *c, int field, const char *t,
                         size_t len) {
  for (uint32_t i = 0; i < c->nterms; i++) {
    const ks_rterm *rt = &c->terms[i];
    if (rt->field == field && rt->len == len &&
        memcmp(c->strings + rt->off, t, len) == 0)
      return 1;
  }
  return 0;
}

static int on_token(void *vctx, const ks_token *tok) {
  snip_ctx *c = vctx;
  if (tok->start >= tok->end || tok->end > c->len) return 0;
  if (!is_query_term(c, tok->field, tok->term, tok->len)) return 0;
  int exact = tok->field == KS_FIELD_WORD;
  if (c->n > 0 && c->spans[c->n - 1].start == tok->start) {
    span *last = &c->spans[c->n - 1]; /* same word (surface/stem/bigram) */
    if (exact && !last->exact) {
      last->exact = 1;
      c->nexact++;
    }
    return 0;
  }
  if (c->n > 0 && tok->start < c->spans[c->n - 1].end) return 0; /* overlap */
  if (c->n == c->cap) {
    size_t ncap = c->cap ? 2 * c->cap : 32;
    span *p = ks_realloc(c->spans, ncap * sizeof *p);
    if (!p) return KS_ENOMEM;
    c->spans = p;
    c->cap = ncap;
  }
  span *s = &c->spans[c->n++];
  s->start = tok->start;
  s->end = tok->end;
  s->exact = exact;
  c->nexact += exact;
  return 0;
}

static int is_cont(unsigned char b) { return (b & 0xC0) == 0x80; }

/* Length of a whitespace or control character at t[i] (0 if none). */
static size_t blank_len(const char *t, size_t len, size_t i) {
  unsigned char c = (unsigned char)t[i];
  if (c <= 0x20 || c == 0x7F) return 1;
  if (c == 0xC2 && i + 1 < len) {
    unsigned char d = (unsigned char)t[i + 1];
    if (d == 0xA0 || d < 0xA0) return 2; /* NBSP, C1 controls */
  }
  if (c == 0xE3 && i + 2 < len && (unsigned char)t[i + 1] == 0x80 &&
      (unsigned char)t[i + 2] == 0x80)
    return 3; /* ideographic space */
  if (c == 0xE2 && i + 2 < len && (unsigned char)t[i + 1] == 0x80 &&
      ((unsigned char)t[i + 2] == 0xA8 || (unsigned char)t[i + 2] == 0xA9))
    return 3; /* line / paragraph separator */
  return 0;
}

/* Drop spans not on character boundaries, keep exact ones if any, and set
 * the character offsets (one walk over the text). */
static void index_spans(snip_ctx *c) {
  size_t k = 0;
  for (size_t i = 0; i < c->n; i++) {
    span s = c->spans[i];
    if (is_cont((unsigned char)c->text[s.start]) ||
        (s.end < c->len && is_cont((unsigned char)c->text[s.end])))
      continue;
    if (c->nexact > 0 && !s.exact) continue;
    c->spans[k++] = s;
  }
  c->n = k;
  size_t ch = 0, b = 0;
  for (size_t i = 0; i < c->n; i++) {
    for (; b < c->spans[i].start; b++) ch += !is_cont((unsigned char)c->text[b]);
    c->spans[i].cstart = ch;
    for (; b < c->spans[i].end; b++) ch += !is_cont((unsigned char)c->text[b]);
    c->spans[i].cend = ch;
  }
}

static size_t count_chars(const char *t, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += !is_cont((unsigned char)t[i]);
  return n;
}

/* Byte offset of character number `ch` (<= number of characters). */
static size_t char_to_byte(const char *t, size_t len, size_t ch) {
  size_t b = 0;
  for (size_t n = 0; b < len; b++) {
    if (!is_cont((unsigned char)t[b])) {
      if (n == ch) return b;
      n++;
    }
  }
  return len;
}

/* Choose [*ws, *we) in bytes. */
static void choose_window(const snip_ctx *c, size_t max_chars, size_t *ws,
                          size_t *we) {
  size_t nchars = count_chars(c->text, c->len);
  if (max_chars == 0 || nchars <= max_chars) {
    *ws = 0;
    *we = c->len;
    return;
  }
  size_t cs = 0, ce = max_chars; /* window in characters */
  if (c->n > 0) {
    size_t best = 0, best_count = 0, j = 0;
    for (size_t i = 0; i < c->n; i++) {
      if (j < i) j = i;
      while (j + 1 < c->n &&
             c->spans[j + 1].cend - c->spans[i].cstart <= max_chars)
        j++;
      if (j - i + 1 > best_count) {
        best_count = j - i + 1;
        best = i;
      }
    }
    size_t last = best + best_count - 1;
    size_t used = c->spans[last].cend - c->spans[best].cstart;
    size_t extra = used < max_chars ? max_chars - used : 0;
    cs = c->spans[best].cstart > extra / 2 ? c->spans[best].cstart - extra / 2
                                           : 0;
    ce = cs + max_chars;
    if (ce < c->spans[best].cend) ce = c->spans[best].cend; /* long word */
    if (ce > nchars) {
      ce = nchars;
      cs = ce > max_chars ? ce - max_chars : 0;
      if (cs > c->spans[best].cstart) cs = c->spans[best].cstart;
    }
  }
  *ws = char_to_byte(c->text, c->len, cs);
  *we = char_to_byte(c->text, c->len, ce);
  /* limits for snapping: do not cut the first / last matched word inside */
  size_t lo = *we, hi = *ws;
  for (size_t i = 0; i < c->n; i++) {
    if (c->spans[i].start >= *ws && c->spans[i].end <= *we) {
      if (c->spans[i].start < lo) lo = c->spans[i].start;
      if (c->spans[i].end > hi) hi = c->spans[i].end;
    }
  }
  if (*ws > 0 && !blank_len(c->text, c->len, *ws)) {
    size_t b = *ws;
    for (int n = 0; n < SNAP_CHARS && b < c->len && b < lo; n++) {
      size_t bl = blank_len(c->text, c->len, b);
      if (bl) {
        *ws = b + bl;
        break;
      }
      do b++; while (b < c->len && is_cont((unsigned char)c->text[b]));
    }
  }
  if (*we < c->len && !blank_len(c->text, c->len, *we)) {
    size_t b = *we;
    for (int n = 0; n < SNAP_CHARS && b > hi && b > *ws; n++) {
      do b--; while (b > 0 && is_cont((unsigned char)c->text[b]));
      if (blank_len(c->text, c->len, b)) {
        *we = b;
        break;
      }
    }
  }
}

/* Emit text[ws, we) collapsed and marked. */
static int emit(const snip_ctx *c, size_t ws, size_t we, const char *mo,
                const char *mc, ks_buf *out) {
  int rc = KS_OK, space = 0, any = 0;
  size_t si = 0, mol = strlen(mo), mcl = strlen(mc);
  if (ws > 0) rc |= ks_buf_append(out, ellipsis, sizeof ellipsis - 1);
  while (si < c->n && c->spans[si].start < ws) si++;
  for (size_t b = ws; b < we && rc == KS_OK;) {
    size_t bl = blank_len(c->text, c->len, b);
    if (bl) {
      space = any;
      b += bl;
      continue;
    }
    if (space) rc |= ks_buf_put_u8(out, ' ');
    space = 0;
    any = 1;
    if (si < c->n && c->spans[si].start == b && c->spans[si].end <= we) {
      const span *s = &c->spans[si++];
      rc |= ks_buf_append(out, mo, mol);
      rc |= ks_buf_append(out, c->text + s->start, s->end - s->start);
      rc |= ks_buf_append(out, mc, mcl);
      b = s->end;
      continue;
    }
    while (si < c->n && c->spans[si].start <= b) si++; /* partly cut span */
    rc |= ks_buf_put_u8(out, (uint8_t)c->text[b]);
    b++;
  }
  if (rc == KS_OK && we < c->len) {
    if (space) rc |= ks_buf_put_u8(out, ' ');
    rc |= ks_buf_append(out, ellipsis, sizeof ellipsis - 1);
  }
  if (rc == KS_OK) rc = ks_buf_put_u8(out, 0);
  return rc == KS_OK ? KS_OK : KS_ENOMEM;
}

/* Contract: query_int.h. */
int ks_snippet_make(ks_tok *tok, const ks_rterm *terms, uint32_t nterms,
                    const char *strings, const char *json, size_t json_len,
                    size_t max_chars, const char *mark_open,
                    const char *mark_close, const char *where, char **out,
                    ks_err *err) {
  *out = NULL;
  if (!mark_open) mark_open = "";
  if (!mark_close) mark_close = "";
  cJSON *root = cJSON_ParseWithLength(json, json_len);
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
  if (!root || !cJSON_IsString(text) || !text->valuestring) {
    cJSON_Delete(root);
    return ks_err_set(err, KS_ECORRUPT,
                      "[srch][snippet] %s is not a JSON object with a "
                      "\"text\" string",
                      where);
  }
  snip_ctx c;
  memset(&c, 0, sizeof c);
  c.terms = terms;
  c.nterms = nterms;
  c.strings = strings;
  c.text = text->valuestring;
  c.len = strlen(c.text);
  int rc = KS_OK;
  if (nterms > 0) {
    rc = ks_tok_run(tok, KS_TOK_DOCUMENT, c.text, c.len, on_token, &c, err);
    if (rc == KS_ENOMEM)
      ks_err_set(err, rc, "[srch][snippet] out of memory");
    else if (rc == KS_EUTF8)
      rc = ks_err_set(err, KS_ECORRUPT,
                      "[srch][snippet] %s has invalid UTF-8", where);
  }
  ks_buf b = KS_BUF_INIT;
  if (rc == KS_OK) {
    size_t ws, we;
    index_spans(&c);
    choose_window(&c, max_chars, &ws, &we);
    rc = emit(&c, ws, we, mark_open, mark_close, &b);
    if (rc != KS_OK) ks_err_set(err, rc, "[srch][snippet] out of memory");
  }
  ks_free(c.spans);
  cJSON_Delete(root);
  if (rc != KS_OK) {
    ks_buf_free(&b);
    return rc;
  }
  *out = (char *)b.data;
  return KS_OK;
}

/* Contract: index.h. */
int ks_index_results_snippet(ks_index *ix, const ks_index_results *r, size_t i,
                       size_t max_chars, const char *mark_open,
                       const char *mark_close, char **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[srch][snippet] out is NULL");
  *out = NULL;
  if (!ix || !r || i >= r->n)
    return ks_err_set(err, KS_EINVAL, "[srch][snippet] no hit number %zu", i);
  uint64_t doc = r->hits[i].doc;
  char *json = NULL;
  size_t json_len = 0;
  int rc = ks_index_doc_json(ix, doc, &json, &json_len, err);
  if (rc != KS_OK) return rc;
  char where[512];
  snprintf(where, sizeof where, "%s: stored document %llu", ix->dir,
           (unsigned long long)doc);
  ks_tok *tok = NULL;
  rc = ks_index_tok_acquire(ix, &tok, err);
  if (rc == KS_OK)
    rc = ks_snippet_make(tok, r->terms, r->nterms, r->strings, json, json_len,
                         max_chars, mark_open, mark_close, where, out, err);
  ks_index_tok_release(ix, tok);
  ks_free(json);
  return rc;
}
