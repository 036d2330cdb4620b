/*
 * query_parse.c - query language -> ks_query (query_int.h, section
 * query_parse.c). The language and its lenient readings are specified in
 * docs/query.md; in short:
 *
 *   clause  := [ '+' | '-' ] ( word | '"' text ['"'] )
 *   word    := bytes up to whitespace or '"'
 *   whitespace: ASCII space/tab/CR/LF/VT/FF, U+00A0, U+3000
 *
 * Only an operator at the START of a clause is an operator: "K-바이오" is one
 * word clause. An operator followed by whitespace or the end of the query
 * ("a + b", "word -") is KS_EQUERY, and so is an operator before an empty
 * phrase ('+""'). An unclosed quote closes at the end of the query. A clause
 * whose text yields no indexable term ("!!!", '""') is dropped.
 *
 * Analysis: each clause body runs through the index's analyzer: optional
 * word clauses with KS_TOK_QUERY (question words dropped), phrases and
 * +/- clauses with KS_TOK_DOCUMENT (taken as written). Word clauses keep
 * every emitted term; phrase clauses keep one base term per word position
 * (the stem when the analyzer emitted one for that position, else the
 * surface) and ignore bigrams. A +/- word clause also records its
 * alternatives (query_int.h): one per distinct word-field term, and one
 * per word with bigrams: the word's bigrams at their relative positions
 * (the analyzer emits a word's bigrams together, on consecutive positions
 * of the bigram field).
 */
#include "query_int.h"

#include <string.h>

#include "ks_alloc.h"

/* Length of the whitespace character at q[i], or 0. */
static size_t space_len(const char *q, size_t len, size_t i) {
  unsigned char c = (unsigned char)q[i];
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  if (c == 0xC2 && i + 1 < len && (unsigned char)q[i + 1] == 0xA0) return 2;
  if (c == 0xE3 && i + 2 < len && (unsigned char)q[i + 1] == 0x80 &&
      (unsigned char)q[i + 2] == 0x80)
    return 3;
  return 0;
}

/* Contract: query_int.h. */
int ks_query_scan(const char *q, size_t len, ks_qspan *spans, size_t cap,
                  size_t *n, ks_err *err) {
  size_t count = 0, i = 0;
  *n = 0;
  while (i < len) {
    size_t sl = space_len(q, len, i);
    if (sl) {
      i += sl;
      continue;
    }
    ks_qspan sp = {KS_OP_OPTIONAL, 0, i, 0, 0};
    if (q[i] == '+' || q[i] == '-') {
      char opc = q[i];
      sp.op = opc == '+' ? KS_OP_REQUIRED : KS_OP_EXCLUDED;
      i++;
      if (i >= len || space_len(q, len, i))
        return ks_err_set(err, KS_EQUERY,
                          "[srch][query] '%c' at byte %zu is not followed by "
                          "a word or a \"phrase\"",
                          opc, sp.at);
    }
    if (q[i] == '"') {
      sp.phrase = 1;
      sp.start = ++i;
      while (i < len && q[i] != '"') i++;
      sp.end = i;
      if (i < len) i++; /* closing quote; unclosed: closes at the end */
      if (sp.op != KS_OP_OPTIONAL) {
        size_t j = sp.start;
        while (j < sp.end && space_len(q, len, j)) j += space_len(q, len, j);
        if (j == sp.end)
          return ks_err_set(err, KS_EQUERY,
                            "[srch][query] '%c' at byte %zu is followed by an "
                            "empty phrase",
                            sp.op == KS_OP_REQUIRED ? '+' : '-', sp.at);
      }
    } else {
      sp.start = i;
      while (i < len && q[i] != '"' && !space_len(q, len, i)) i++;
      sp.end = i;
    }
    if (count < cap) spans[count] = sp;
    count++;
  }
  *n = count;
  return KS_OK;
}

/* ---- building the query ---------------------------------------------------- */

/* Grow *arr (element size `size`) to hold at least need elements. */
static int grow(void **arr, uint32_t *cap, uint32_t need, size_t size) {
  if (need <= *cap) return KS_OK;
  uint32_t ncap = *cap ? *cap : 8;
  while (ncap < need) ncap *= 2;
  void *p = ks_realloc(*arr, (size_t)ncap * size);
  if (!p) return KS_ENOMEM;
  *arr = p;
  *cap = ncap;
  return KS_OK;
}

typedef struct parse_ctx {
  ks_query *q;
  ks_err *err;          /* the caller's (outside callbacks) */
  ks_err cb_err;        /* errors raised inside the analyzer callback (the
                           analyzer reports its own message in *err) */
  int rc;               /* first error in a callback */
  uint32_t clause;      /* clause being built (index into q->clauses) */
  int phrase;           /* the clause is a phrase */
  /* phrase: the word position waiting for a possible stem */
  int pending;
  uint32_t pending_pos;
  size_t pending_len;
  char pending_term[KS_TOK_MAX_TERM];
  uint32_t first_pos;   /* query word position of the phrase's first word */
  int strict;           /* a +/- word clause: record alternatives */
  int chain;            /* strict: a bigram chain is open (the last
                           alternative, still growing) */
  uint32_t chain_word;  /* its word (ks_token.word) */
  uint32_t chain_pos;   /* bigram position of its first bigram */
} parse_ctx;

static int too_long(parse_ctx *c) {
  return c->rc = ks_err_set(&c->cb_err, KS_EQUERY,
                            "[srch][query] query too long: more than %u "
                            "distinct terms or %u term references",
                            (unsigned)KS_QUERY_MAX_TERMS,
                            (unsigned)KS_QUERY_MAX_ENTRIES);
}

static int no_memory(parse_ctx *c) {
  return c->rc = ks_err_set(&c->cb_err, KS_ENOMEM, "[srch][query] out of memory");
}

/* Index of term (field, bytes) in q->terms, adding it when new. */
static int term_index(parse_ctx *c, int field, const char *t, size_t len,
                      uint32_t *out) {
  ks_query *q = c->q;
  for (uint32_t i = 0; i < q->nterms; i++) {
    const ks_qterm *qt = &q->terms[i];
    if (qt->field == field && qt->len == len &&
        memcmp(q->strings.data + qt->off, t, len) == 0) {
      *out = i;
      return KS_OK;
    }
  }
  if (q->nterms >= KS_QUERY_MAX_TERMS) return too_long(c);
  if (grow((void **)&q->terms, &q->terms_cap, q->nterms + 1,
           sizeof *q->terms) != KS_OK)
    return no_memory(c);
  ks_qterm *qt = &q->terms[q->nterms];
  memset(qt, 0, sizeof *qt);
  qt->field = (uint8_t)field;
  qt->off = (uint32_t)q->strings.len;
  qt->len = (uint32_t)len;
  if (ks_buf_append(&q->strings, t, len) != KS_OK) return no_memory(c);
  *out = q->nterms++;
  return KS_OK;
}

/* Count one occurrence of `term` in the current clause's refs. */
static int add_ref(parse_ctx *c, uint32_t term) {
  ks_query *q = c->q;
  ks_qclause *cl = &q->clauses[c->clause];
  for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++) {
    if (q->refs[r].term == term) {
      q->refs[r].qtf++;
      return KS_OK;
    }
  }
  if (q->nrefs + q->npositions >= KS_QUERY_MAX_ENTRIES) return too_long(c);
  if (grow((void **)&q->refs, &q->refs_cap, q->nrefs + 1, sizeof *q->refs) !=
      KS_OK)
    return no_memory(c);
  q->refs[q->nrefs].term = term;
  q->refs[q->nrefs].qtf = 1;
  q->nrefs++;
  cl->nrefs++;
  return KS_OK;
}

/* Append (term, offset) to q->positions. */
static int add_position(parse_ctx *c, uint32_t term, uint32_t offset) {
  ks_query *q = c->q;
  if (q->nrefs + q->npositions >= KS_QUERY_MAX_ENTRIES) return too_long(c);
  if (grow((void **)&q->positions, &q->positions_cap, q->npositions + 1,
           sizeof *q->positions) != KS_OK)
    return no_memory(c);
  q->positions[q->npositions].term = term;
  q->positions[q->npositions].offset = offset;
  q->npositions++;
  return KS_OK;
}

/* Phrase: the pending word position is final; add its base term. */
static int flush_pending(parse_ctx *c) {
  if (!c->pending) return KS_OK;
  ks_query *q = c->q;
  ks_qclause *cl = &q->clauses[c->clause];
  uint32_t term;
  c->pending = 0;
  if (term_index(c, KS_FIELD_WORD, c->pending_term, c->pending_len, &term))
    return c->rc;
  if (cl->npos == 0) c->first_pos = c->pending_pos;
  if (add_position(c, term, c->pending_pos - c->first_pos)) return c->rc;
  q->clauses[c->clause].npos++;
  return KS_OK;
}

/* Start a new alternative of the current (strict) clause at the end of
 * q->positions. */
static int open_alt(parse_ctx *c) {
  ks_query *q = c->q;
  ks_qclause *cl = &q->clauses[c->clause];
  if (grow((void **)&q->alts, &q->alts_cap, q->nalts + 1, sizeof *q->alts) !=
      KS_OK)
    return no_memory(c);
  q->alts[q->nalts].pos0 = q->npositions;
  q->alts[q->nalts].npos = 0;
  q->nalts++;
  cl->nalts++;
  return KS_OK;
}

/* Strict word clause: record the token in the clause's alternatives. A
 * word-field term is an alternative of its own (once); a bigram extends
 * the open chain of its word or opens a new one. */
static int add_alt_token(parse_ctx *c, const ks_token *tok, uint32_t term) {
  ks_query *q = c->q;
  const ks_qclause *cl = &q->clauses[c->clause];
  if (tok->field != KS_FIELD_BIGRAM) {
    c->chain = 0;
    for (uint32_t a = cl->alt0; a < cl->alt0 + cl->nalts; a++)
      if (q->alts[a].npos == 1 && q->positions[q->alts[a].pos0].term == term)
        return KS_OK; /* a repeated term */
    if (open_alt(c) || add_position(c, term, 0)) return c->rc;
    q->alts[q->nalts - 1].npos = 1;
    return KS_OK;
  }
  if (!c->chain || tok->word != c->chain_word || tok->pos <= c->chain_pos) {
    if (open_alt(c)) return c->rc;
    c->chain = 1;
    c->chain_word = tok->word;
    c->chain_pos = tok->pos;
  }
  ks_qalt *a = &q->alts[q->nalts - 1];
  if (add_position(c, term, tok->pos - c->chain_pos)) return c->rc;
  a->npos++;
  if (a->npos > q->max_phrase) q->max_phrase = a->npos;
  return KS_OK;
}

static int on_token(void *ctx, const ks_token *tok) {
  parse_ctx *c = ctx;
  if (tok->len == 0 || tok->len > KS_TOK_MAX_TERM) return KS_OK;
  if (!c->phrase) {
    uint32_t term;
    if (term_index(c, tok->field, tok->term, tok->len, &term)) return c->rc;
    if (add_ref(c, term)) return c->rc;
    return c->strict ? add_alt_token(c, tok, term) : KS_OK;
  }
  if (tok->field != KS_FIELD_WORD) return KS_OK; /* phrases ignore bigrams */
  if (c->pending && tok->pos == c->pending_pos) {
    /* a second term at the same position: the stem replaces the surface */
    if (tok->kind != KS_KIND_STEM) return KS_OK;
  } else {
    if (flush_pending(c)) return c->rc;
    c->pending = 1;
    c->pending_pos = tok->pos;
  }
  memcpy(c->pending_term, tok->term, tok->len);
  c->pending_len = tok->len;
  return KS_OK;
}

/* Analyze one clause; drops it again when it yields no term. Errors of
 * this file's helpers are in c->cb_err (see add_clause). */
static int analyze_clause(ks_tok *tok, const char *qtext, const ks_qspan *sp,
                          parse_ctx *c) {
  ks_query *q = c->q;
  if (grow((void **)&q->clauses, &q->clauses_cap, q->nclauses + 1,
           sizeof *q->clauses) != KS_OK)
    return no_memory(c);
  ks_qclause *cl = &q->clauses[q->nclauses];
  memset(cl, 0, sizeof *cl);
  cl->op = (uint8_t)sp->op;
  cl->phrase = (uint8_t)sp->phrase;
  cl->ref0 = q->nrefs;
  cl->pos0 = q->npositions;
  cl->alt0 = q->nalts;
  c->clause = q->nclauses;
  c->phrase = sp->phrase;
  c->pending = 0;
  c->strict = !sp->phrase && sp->op != KS_OP_OPTIONAL;
  c->chain = 0;
  int reason = !sp->phrase && sp->op == KS_OP_OPTIONAL ? KS_TOK_QUERY : KS_TOK_DOCUMENT;
  int rc = ks_tok_run(tok, reason, qtext + sp->start,
                      sp->end - sp->start, on_token, c, c->err);
  if (rc == KS_OK && c->phrase) rc = flush_pending(c);
  if (rc != KS_OK) {
    if (c->rc != KS_OK) return c->rc;
    if (rc == KS_EUTF8) /* cannot happen: the query was validated */
      return ks_err_set(c->err, KS_EQUERY,
                        "[srch][query] invalid UTF-8 in clause at byte %zu",
                        sp->at);
    return rc;
  }
  cl = &q->clauses[c->clause];
  if (cl->phrase) {
    /* refs of a phrase: its distinct base terms with their counts */
    for (uint32_t p = cl->pos0; p < cl->pos0 + cl->npos; p++)
      if (add_ref(c, q->positions[p].term)) return c->rc;
    if (cl->npos > q->max_phrase) q->max_phrase = cl->npos;
  }
  if (cl->nrefs == 0) return KS_OK; /* nothing indexable: dropped */
  q->nclauses++;
  if (cl->op == KS_OP_REQUIRED) q->nrequired++;
  else if (cl->op == KS_OP_EXCLUDED) q->nexcluded++;
  else q->noptional++;
  return KS_OK;
}

static int add_clause(ks_tok *tok, const char *qtext, const ks_qspan *sp,
                      parse_ctx *c) {
  c->rc = KS_OK;
  int rc = analyze_clause(tok, qtext, sp, c);
  if (rc != KS_OK && rc == c->rc && c->err) *c->err = c->cb_err;
  return rc;
}

/* Contract: query_int.h. */
int ks_query_parse(ks_tok *tok, const char *q, size_t len, ks_query *out,
                   ks_err *err) {
  memset(out, 0, sizeof *out);
  size_t bad;
  if (!ks_utf8_valid(q, len, &bad))
    return ks_err_set(err, KS_EQUERY,
                      "[srch][query] invalid UTF-8 at byte %zu of the query",
                      bad);
  const char *nul = memchr(q, '\0', len);
  if (nul)
    return ks_err_set(err, KS_EQUERY,
                      "[srch][query] NUL byte at byte %zu of the query",
                      (size_t)(nul - q));
  size_t n;
  int rc = ks_query_scan(q, len, NULL, 0, &n, err);
  if (rc != KS_OK || n == 0) return rc;
  ks_qspan *spans = ks_calloc(n, sizeof *spans);
  if (!spans) return ks_err_set(err, KS_ENOMEM, "[srch][query] out of memory");
  rc = ks_query_scan(q, len, spans, n, &n, err);
  parse_ctx c;
  memset(&c, 0, sizeof c);
  c.q = out;
  c.err = err;
  for (size_t i = 0; rc == KS_OK && i < n; i++)
    rc = add_clause(tok, q, &spans[i], &c);
  ks_free(spans);
  if (rc != KS_OK) return rc;
  /* which terms can make a document match (the others are only checked) */
  for (uint32_t i = 0; i < out->nclauses; i++) {
    const ks_qclause *cl = &out->clauses[i];
    if (cl->op == KS_OP_EXCLUDED) continue;
    for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++)
      out->terms[out->refs[r].term].drives = 1;
  }
  return KS_OK;
}

/* Contract: query_int.h. */
void ks_query_free(ks_query *q) {
  if (!q) return;
  ks_free(q->clauses);
  ks_free(q->terms);
  ks_free(q->refs);
  ks_free(q->positions);
  ks_free(q->alts);
  ks_buf_free(&q->strings);
  memset(q, 0, sizeof *q);
}
