/*
 * query_plan.c - implements the "analyzed queries for other backends" part
 * of the searcher, query_plan.h: ks_query_plan_new/_free/_count/_clause/_snippet.
 *
 * A plan is the native parser's ks_query (query_parse.c) viewed clause by
 * clause, so another backend (the Xapian one, cli/xap_backend.c) searches
 * with exactly the clauses the native evaluator uses:
 *   - word clause: its refs in order, one ks_query_term each, count = qtf;
 *     a strict one also its alternatives, term ids mapped to indexes into
 *     the clause's refs;
 *   - phrase clause: its positions in order, one ks_query_term each (a
 *     repeated word repeats its base term), count = 1, offsets copied.
 * Snippets reuse snippet.c (ks_snippet_make) with the terms of the
 * non-excluded clauses, as ks_index_results_snippet does.
 *
 * Invariants: clauses[i].terms points into `terms`, clauses[i].offsets into
 * `offsets` (phrases) or is NULL; term bytes point into q.strings, which
 * does not change after parsing.
 */
#include "query_plan.h"

#include "query_int.h"

#include <string.h>

#include "ks_alloc.h"

/* Contract: query_plan.h. */
void ks_query_plan_free(ks_query_plan *p) {
  if (!p) return;
  ks_tok_free(p->tok);
  ks_query_free(&p->q);
  ks_free(p->clauses);
  ks_free(p->terms);
  ks_free(p->offsets);
  ks_free(p->snip);
  ks_free(p->alts);
  ks_free(p->alt_idx);
  ks_free(p->alt_offsets);
  ks_free(p);
}

/* Fill the public views of p->q. Returns KS_OK or KS_ENOMEM. */
static int build_views(ks_query_plan *p) {
  const ks_query *q = &p->q;
  size_t n = 0;
  for (uint32_t c = 0; c < q->nclauses; c++)
    n += q->clauses[c].phrase ? q->clauses[c].npos : q->clauses[c].nrefs;
  p->clauses = ks_calloc(q->nclauses ? q->nclauses : 1, sizeof *p->clauses);
  p->terms = ks_calloc(n ? n : 1, sizeof *p->terms);
  p->offsets = ks_calloc(n ? n : 1, sizeof *p->offsets);
  p->snip = ks_calloc(q->nterms ? q->nterms : 1, sizeof *p->snip);
  p->alts = ks_calloc(q->nalts ? q->nalts : 1, sizeof *p->alts);
  p->alt_idx = ks_calloc(q->npositions ? q->npositions : 1, sizeof *p->alt_idx);
  p->alt_offsets = ks_calloc(q->npositions ? q->npositions : 1,
                             sizeof *p->alt_offsets);
  if (!p->clauses || !p->terms || !p->offsets || !p->snip || !p->alts ||
      !p->alt_idx || !p->alt_offsets)
    return KS_ENOMEM;
  const char *str = (const char *)q->strings.data;
  size_t k = 0;
  for (uint32_t c = 0; c < q->nclauses; c++) {
    const ks_qclause *cl = &q->clauses[c];
    ks_query_clause *pc = &p->clauses[c];
    pc->op = cl->op;
    pc->phrase = cl->phrase;
    pc->terms = &p->terms[k];
    pc->offsets = cl->phrase ? &p->offsets[k] : NULL;
    uint32_t m = cl->phrase ? cl->npos : cl->nrefs;
    for (uint32_t j = 0; j < m; j++, k++) {
      uint32_t t;
      if (cl->phrase) {
        const ks_qpos *ps = &q->positions[cl->pos0 + j];
        t = ps->term;
        p->offsets[k] = ps->offset;
        p->terms[k].count = 1;
      } else {
        const ks_qref *r = &q->refs[cl->ref0 + j];
        t = r->term;
        p->terms[k].count = r->qtf;
      }
      const ks_qterm *qt = &q->terms[t];
      p->terms[k].field = qt->field;
      p->terms[k].term = str + qt->off;
      p->terms[k].len = qt->len;
    }
    pc->nterms = m;
    if (cl->nalts) {
      pc->alts = &p->alts[cl->alt0];
      pc->nalts = cl->nalts;
    }
    for (uint32_t a = cl->alt0; a < cl->alt0 + cl->nalts; a++) {
      const ks_qalt *qa = &q->alts[a];
      ks_query_alt *va = &p->alts[a];
      va->idx = &p->alt_idx[qa->pos0];
      va->nterms = qa->npos;
      va->offsets = &p->alt_offsets[qa->pos0];
      for (uint32_t j = 0; j < qa->npos; j++) {
        const ks_qpos *ps = &q->positions[qa->pos0 + j];
        uint32_t r = 0; /* the alternative's terms are refs of the clause */
        while (r < cl->nrefs && q->refs[cl->ref0 + r].term != ps->term) r++;
        p->alt_idx[qa->pos0 + j] = r;
        p->alt_offsets[qa->pos0 + j] = ps->offset;
      }
    }
  }
  for (uint32_t t = 0; t < q->nterms; t++) {
    const ks_qterm *qt = &q->terms[t];
    if (!qt->drives) continue;
    ks_rterm *rt = &p->snip[p->nsnip++];
    rt->field = qt->field;
    rt->off = qt->off;
    rt->len = qt->len;
  }
  return KS_OK;
}

/* Contract: query_plan.h. */
int ks_query_plan_new(const char *query, size_t len, const ks_tok_config *tok,
                      ks_query_plan **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[srch][plan] out is NULL");
  *out = NULL;
  if (!query) return ks_err_set(err, KS_EINVAL, "[srch][plan] NULL query");
  if (len == SIZE_MAX) len = strlen(query);
  ks_query_plan *p = ks_calloc(1, sizeof *p);
  if (!p) return ks_err_set(err, KS_ENOMEM, "[srch][plan] out of memory");
  int rc = ks_tok_new(tok, &p->tok, err);
  if (rc == KS_OK) rc = ks_query_parse(p->tok, query, len, &p->q, err);
  if (rc == KS_OK && build_views(p) != KS_OK)
    rc = ks_err_set(err, KS_ENOMEM, "[srch][plan] out of memory");
  if (rc != KS_OK) {
    ks_query_plan_free(p);
    return rc;
  }
  *out = p;
  return KS_OK;
}

/* Contract: query_plan.h. */
size_t ks_query_plan_count(const ks_query_plan *p) {
  return p ? p->q.nclauses : 0;
}

/* Contract: query_plan.h. */
int ks_query_plan_clause(const ks_query_plan *p, size_t i, ks_query_clause *c) {
  if (!p || !c || i >= p->q.nclauses) return KS_EINVAL;
  *c = p->clauses[i];
  return KS_OK;
}

/* Contract: query_plan.h. */
int ks_query_plan_snippet(ks_query_plan *p, const char *json, size_t json_len,
                          size_t max_chars, const char *mark_open,
                          const char *mark_close, char **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[srch][snippet] out is NULL");
  *out = NULL;
  if (!p || !json)
    return ks_err_set(err, KS_EINVAL, "[srch][snippet] NULL argument");
  return ks_snippet_make(p->tok, p->snip, p->nsnip,
                         (const char *)p->q.strings.data, json, json_len,
                         max_chars, mark_open, mark_close, "stored document",
                         out, err);
}
