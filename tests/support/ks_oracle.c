/*
 * ks_oracle.c - implements ks_oracle.h: the brute-force BM25 oracle of
 * the C tests (moved here from test_bm25_oracle.c so that every oracle
 * test shares one scorer).
 *
 * Invariants: a document's tfs[] is sorted by term and lists each
 * distinct term once; term numbers index o->key; scores are summed clause
 * by clause, term by term, the order docs/ranking.md gives.
 */
#include "ks_oracle.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ks_oracle: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  abort();
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) die("out of memory");
  return q;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die("out of memory");
  return p;
}

/* ---- PRNG ------------------------------------------------------------------ */

void ks_rng_seed(ks_rng *r, uint64_t seed, uint64_t stream) {
  r->s = seed * 0x9E3779B97F4A7C15ull + stream + 1;
  if (r->s == 0) r->s = 1;
}

uint64_t ks_rng_next(ks_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}

int ks_rng_below(ks_rng *r, int n) { return (int)(ks_rng_next(r) % (uint64_t)n); }

double ks_rng_unit(ks_rng *r) { return (double)(ks_rng_next(r) >> 11) / 9007199254740992.0; }

/* ---- vocabulary ------------------------------------------------------------ */

static const char *nouns[] = {
    "대통령", "보스턴", "클러스터", "산업", "첨단산업", "바이오", "한국", "미국",
    "경제", "협력", "기술", "연구소", "대학", "서울", "회의", "전략", "수출",
    "인재", "혁신", "스타트업", "통령", "대통합", "산학"};
static const char *particles[] = {"",   "",   "",   "은",   "는", "이", "가",
                                  "을", "를", "의", "에서", "과", "와", "로",
                                  "으로", "도", "만", "에게"};
static const char *others[] = {"MIT",  "mit",     "win-win", "2023",
                               "1,500만", "K-바이오", "28일(현지시간)", "ＭＯＵ",
                               "the",  "square",  "mile",    "(MOU)를"};

void ks_orc_random_word(ks_rng *r, char *out, size_t cap) {
  if (ks_rng_below(r, 8) == 0) {
    snprintf(out, cap, "%s", others[ks_rng_below(r, NELEM(others))]);
    return;
  }
  int n = (int)NELEM(nouns);
  int i = (int)(pow(ks_rng_unit(r), 2.0) * n);
  if (i >= n) i = n - 1;
  snprintf(out, cap, "%s%s", nouns[i], particles[ks_rng_below(r, NELEM(particles))]);
}

void ks_orc_random_doc(ks_rng *r, ks_orc_doc *d) {
  int kind = ks_rng_below(r, 20);
  int nw = kind == 0 ? 150 + ks_rng_below(r, 100) : 1 + ks_rng_below(r, 30);
  char w[128];
  size_t cap = 64, len = 0;
  d->text = xrealloc(NULL, cap);
  d->words = xrealloc(NULL, (size_t)nw * sizeof *d->words);
  d->nwords = 0;
  d->text[0] = 0;
  if (kind == 1) { /* non-empty text without a single indexable term */
    snprintf(d->text, cap, "%s", ks_rng_below(r, 2) ? "!!! ..." : "…");
    nw = 0;
  }
  for (int j = 0; j < nw; j++) {
    ks_orc_random_word(r, w, sizeof w);
    d->words[d->nwords++] = xstrdup(w);
    const char *sep = j == 0 ? "" : (ks_rng_below(r, 12) == 0 ? "\n" : " ");
    size_t need = len + strlen(sep) + strlen(w) + 1;
    if (need > cap) {
      while (cap < need) cap *= 2;
      d->text = xrealloc(d->text, cap);
    }
    len += (size_t)sprintf(d->text + len, "%s%s", sep, w);
  }
  if (ks_rng_below(r, 3) == 0) {
    char w2[128];
    ks_orc_random_word(r, w, sizeof w);
    ks_orc_random_word(r, w2, sizeof w2);
    d->title = xrealloc(NULL, strlen(w) + strlen(w2) + 2);
    sprintf(d->title, "%s %s", w, w2);
  }
}

/* ---- interned terms -------------------------------------------------------- */

typedef struct hslot {
  uint32_t hash;
  int term; /* -1 empty */
} hslot;

/* The hash index over o->key of the oracle `hfor`, rebuilt when it gets
 * half full or another oracle (or a reset) invalidates it. */
static hslot *htab;
static size_t hslots;
static const ks_orc *hfor;
static int hcount;

void ks_orc_init(ks_orc *o, const ks_tok_config *cfg) {
  memset(o, 0, sizeof *o);
  ks_tok_config c;
  if (!cfg) {
    ks_tok_config_default(&c);
    cfg = &c;
  }
  if (ks_tok_new(cfg, &o->tok, NULL) != KS_OK) die("ks_tok_new failed");
}

void ks_orc_reset_terms(ks_orc *o) {
  for (int i = 0; i < o->n; i++) free(o->key[i]);
  free(o->key);
  free(o->len);
  o->key = NULL;
  o->len = NULL;
  o->n = o->cap = 0;
  if (hfor == o) {
    free(htab);
    htab = NULL;
    hslots = 0;
    hfor = NULL;
    hcount = 0;
  }
}

void ks_orc_free(ks_orc *o) {
  ks_orc_reset_terms(o);
  ks_tok_free(o->tok);
  o->tok = NULL;
}

int ks_orc_term_field(const ks_orc *o, int term) { return o->key[term][0]; }

/* Linear search is fine for the few hundred distinct terms of the
 * vocabulary, but the live tests analyze thousands of documents: hash. */
static uint32_t key_hash(int field, const char *t, size_t len) {
  uint32_t h = 2166136261u ^ (uint32_t)field;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)t[i]) * 16777619u;
  return h;
}

static void hrebuild(const ks_orc *o, size_t slots) {
  free(htab);
  htab = xrealloc(NULL, slots * sizeof *htab);
  for (size_t i = 0; i < slots; i++) htab[i].term = -1;
  hslots = slots;
  hfor = o;
  hcount = 0;
  for (int t = 0; t < o->n; t++) {
    uint32_t h = key_hash(o->key[t][0], o->key[t] + 1, o->len[t] - 1);
    size_t j = h & (slots - 1);
    while (htab[j].term >= 0) j = (j + 1) & (slots - 1);
    htab[j].hash = h;
    htab[j].term = t;
    hcount++;
  }
}

static int intern(ks_orc *o, int field, const char *t, size_t len) {
  if (hfor != o || hcount != o->n || (size_t)(o->n + 1) * 2 > hslots) {
    size_t slots = 1024;
    while (slots < (size_t)(o->n + 1) * 4) slots *= 2;
    hrebuild(o, slots);
  }
  uint32_t h = key_hash(field, t, len);
  size_t j = h & (hslots - 1);
  while (htab[j].term >= 0) {
    int i = htab[j].term;
    if (htab[j].hash == h && o->len[i] == len + 1 && o->key[i][0] == (char)field &&
        memcmp(o->key[i] + 1, t, len) == 0)
      return i;
    j = (j + 1) & (hslots - 1);
  }
  if (o->n == o->cap) {
    o->cap = o->cap ? 2 * o->cap : 256;
    o->key = xrealloc(o->key, (size_t)o->cap * sizeof *o->key);
    o->len = xrealloc(o->len, (size_t)o->cap * sizeof *o->len);
  }
  char *k = xrealloc(NULL, len + 1);
  k[0] = (char)field;
  memcpy(k + 1, t, len);
  o->key[o->n] = k;
  o->len[o->n] = len + 1;
  htab[j].hash = h;
  htab[j].term = o->n;
  hcount++;
  return o->n++;
}

/* ---- analyzed documents ---------------------------------------------------- */

typedef struct collect {
  ks_orc *o;
  ks_orc_doc *d;
  int part;
} collect;

static int collect_cb(void *ctx, const ks_token *t) {
  collect *c = ctx;
  ks_orc_doc *d = c->d;
  if (d->ntoks == d->toks_cap) {
    d->toks_cap = d->toks_cap ? 2 * d->toks_cap : 64;
    d->toks = xrealloc(d->toks, (size_t)d->toks_cap * sizeof *d->toks);
  }
  ks_orc_tok *r = &d->toks[d->ntoks++];
  r->term = intern(c->o, t->field, t->term, t->len);
  r->field = t->field;
  r->part = c->part;
  r->pos = t->pos;
  d->dl[t->field]++;
  return 0;
}

static int cmp_tf(const void *a, const void *b) {
  const ks_orc_tf *x = a, *y = b;
  return (x->term > y->term) - (x->term < y->term);
}

void ks_orc_analyze_doc(ks_orc *o, ks_orc_doc *d) {
  free(d->toks);
  free(d->tfs);
  d->toks = NULL;
  d->tfs = NULL;
  d->ntoks = d->toks_cap = d->ntfs = 0;
  memset(d->dl, 0, sizeof d->dl);
  collect c = {o, d, 0};
  if (d->title &&
      ks_tok_run(o->tok, KS_TOK_DOCUMENT, d->title, strlen(d->title), collect_cb, &c, NULL))
    die("analyzer failed on a title");
  c.part = 1;
  if (ks_tok_run(o->tok, KS_TOK_DOCUMENT, d->text, strlen(d->text), collect_cb, &c, NULL))
    die("analyzer failed on a text");
  d->tfs = xrealloc(NULL, (size_t)(d->ntoks ? d->ntoks : 1) * sizeof *d->tfs);
  for (int i = 0; i < d->ntoks; i++) {
    d->tfs[i].term = d->toks[i].term;
    d->tfs[i].tf = 1;
  }
  qsort(d->tfs, (size_t)d->ntoks, sizeof *d->tfs, cmp_tf);
  int n = 0;
  for (int i = 0; i < d->ntoks; i++) {
    if (n > 0 && d->tfs[n - 1].term == d->tfs[i].term) d->tfs[n - 1].tf++;
    else d->tfs[n++] = d->tfs[i];
  }
  d->ntfs = n;
}

void ks_orc_doc_free(ks_orc_doc *d) {
  for (int j = 0; j < d->nwords; j++) free(d->words[j]);
  free(d->words);
  free(d->text);
  free(d->title);
  free(d->toks);
  free(d->tfs);
  char id[sizeof d->id];
  memcpy(id, d->id, sizeof id);
  memset(d, 0, sizeof *d);
  memcpy(d->id, id, sizeof id);
}

void ks_orc_doc_copy(ks_orc_doc *dst, const ks_orc_doc *src) {
  *dst = *src;
  dst->title = src->title ? xstrdup(src->title) : NULL;
  dst->text = xstrdup(src->text);
  dst->words = xrealloc(NULL, (size_t)(src->nwords ? src->nwords : 1) * sizeof *dst->words);
  for (int j = 0; j < src->nwords; j++) dst->words[j] = xstrdup(src->words[j]);
  dst->toks = xrealloc(NULL, (size_t)(src->ntoks ? src->ntoks : 1) * sizeof *dst->toks);
  memcpy(dst->toks, src->toks, (size_t)src->ntoks * sizeof *dst->toks);
  dst->toks_cap = src->ntoks;
  dst->tfs = xrealloc(NULL, (size_t)(src->ntfs ? src->ntfs : 1) * sizeof *dst->tfs);
  memcpy(dst->tfs, src->tfs, (size_t)src->ntfs * sizeof *dst->tfs);
}

uint32_t ks_orc_tf_of(const ks_orc_doc *d, int term) {
  int lo = 0, hi = d->ntfs;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (d->tfs[mid].term == term) return d->tfs[mid].tf;
    if (d->tfs[mid].term < term) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

static int has_term_at(const ks_orc_doc *d, int field, int part, uint32_t pos,
                       int term) {
  for (int i = 0; i < d->ntoks; i++) {
    const ks_orc_tok *r = &d->toks[i];
    if (r->part == part && r->pos == pos && r->term == term && r->field == field)
      return 1;
  }
  return 0;
}

static int has_word_at(const ks_orc_doc *d, int part, uint32_t pos, int term) {
  return has_term_at(d, KS_FIELD_WORD, part, pos, term);
}

/* ---- queries ----------------------------------------------------------------- */

typedef struct qcollect {
  ks_orc *o;
  ks_orc_clause *c;
  uint32_t last_pos, first_pos;
} qcollect;

static void add_qterm(ks_orc_clause *c, int term) {
  for (int i = 0; i < c->nterms; i++)
    if (c->terms[i] == term) {
      c->qtf[i]++;
      return;
    }
  if (c->nterms >= 256) die("too many query terms");
  c->terms[c->nterms] = term;
  c->qtf[c->nterms++] = 1;
}

static int qcollect_cb(void *ctx, const ks_token *t) {
  qcollect *q = ctx;
  ks_orc_clause *c = q->c;
  if (!c->phrase) {
    int term = intern(q->o, t->field, t->term, t->len);
    add_qterm(c, term);
    if (c->op != KS_ORC_OPT) {
      if (c->nwterm >= 256 || c->nbterm >= 256) die("clause too long");
      if (t->field == KS_FIELD_WORD) {
        c->wterm[c->nwterm++] = term;
      } else {
        c->bterm[c->nbterm] = term;
        c->bword[c->nbterm] = t->word;
        c->bpos[c->nbterm++] = t->pos;
      }
    }
    return 0;
  }
  if (t->field != KS_FIELD_WORD) return 0;
  int term = intern(q->o, t->field, t->term, t->len);
  if (c->nbase > 0 && t->pos == q->last_pos) {
    if (t->kind == KS_KIND_STEM) c->base[c->nbase - 1] = term; /* stem wins */
    return 0;
  }
  if (c->nbase == 0) q->first_pos = t->pos;
  if (c->nbase >= 64) die("phrase too long");
  c->base[c->nbase] = term;
  c->offset[c->nbase] = t->pos - q->first_pos;
  c->nbase++;
  q->last_pos = t->pos;
  return 0;
}

void ks_orc_analyze_clause(ks_orc *o, ks_orc_clause *c) {
  qcollect q = {o, c, 0, 0};
  c->nterms = c->nbase = c->nwterm = c->nbterm = 0;
  /* as docs/query.md says: ranked-OR words are analyzed as a query, phrases
   * and +/- clauses as written (document reading) */
  int reason = !c->phrase && c->op == 0 ? KS_TOK_QUERY : KS_TOK_DOCUMENT;
  if (ks_tok_run(o->tok, reason, c->body, strlen(c->body), qcollect_cb, &q, NULL))
    die("analyzer failed on a query clause");
  if (c->phrase)
    for (int i = 0; i < c->nbase; i++) add_qterm(c, c->base[i]);
}

/* The bigrams c->bterm[i0 .. i1) (one word's, positions increasing) at the
 * same relative bigram positions somewhere in one part of d. */
static int chain_in(const ks_orc_clause *c, int i0, int i1, const ks_orc_doc *d) {
  for (int i = 0; i < d->ntoks; i++) {
    const ks_orc_tok *r = &d->toks[i];
    if (r->field != KS_FIELD_BIGRAM || r->term != c->bterm[i0]) continue;
    int ok = 1;
    for (int j = i0 + 1; j < i1 && ok; j++)
      ok = has_term_at(d, KS_FIELD_BIGRAM, r->part, r->pos + (c->bpos[j] - c->bpos[i0]),
                       c->bterm[j]);
    if (ok) return 1;
  }
  return 0;
}

int ks_orc_clause_matches(const ks_orc_clause *c, const ks_orc_doc *d) {
  if (!c->phrase && c->op != KS_ORC_OPT) {
    /* the word itself: a word-field term, or all bigrams of one word at
     * consecutive positions; never a single shared bigram */
    for (int i = 0; i < c->nwterm; i++)
      if (ks_orc_tf_of(d, c->wterm[i]) > 0) return 1;
    for (int i0 = 0; i0 < c->nbterm;) {
      int i1 = i0 + 1;
      while (i1 < c->nbterm && c->bword[i1] == c->bword[i0]) i1++;
      if (chain_in(c, i0, i1, d)) return 1;
      i0 = i1;
    }
    return 0;
  }
  if (!c->phrase) {
    for (int i = 0; i < c->nterms; i++)
      if (ks_orc_tf_of(d, c->terms[i]) > 0) return 1;
    return 0;
  }
  if (c->nbase == 0 || ks_orc_tf_of(d, c->base[0]) == 0) return 0;
  for (int i = 0; i < d->ntoks; i++) {
    const ks_orc_tok *r = &d->toks[i];
    if (r->field != KS_FIELD_WORD || r->term != c->base[0]) continue;
    int ok = 1;
    for (int j = 1; j < c->nbase && ok; j++)
      ok = has_word_at(d, r->part, r->pos + c->offset[j], c->base[j]);
    if (ok) return 1;
  }
  return 0;
}

int ks_orc_make_query(ks_rng *r, const ks_orc_doc *docs, int ndocs, ks_orc_clause *cl,
                      char *q, size_t qcap) {
  int ncl = 1 + ks_rng_below(r, 4);
  size_t len = 0;
  q[0] = 0;
  for (int c = 0; c < ncl; c++) {
    ks_orc_clause *x = &cl[c];
    memset(x, 0, sizeof *x);
    int k = ks_rng_below(r, 10);
    x->op = k < 6 ? KS_ORC_OPT : (k < 8 ? KS_ORC_REQ : KS_ORC_EXC);
    x->phrase = ks_rng_below(r, 4) == 0;
    char w[128];
    if (x->phrase) {
      const ks_orc_doc *d = ndocs > 0 ? &docs[ks_rng_below(r, ndocs)] : NULL;
      int nw = 2 + ks_rng_below(r, 2);
      size_t bl = 0;
      if (d && d->nwords >= nw && ks_rng_below(r, 4) != 0) {
        int start = ks_rng_below(r, d->nwords - nw + 1);
        for (int j = 0; j < nw; j++)
          bl += (size_t)snprintf(x->body + bl, sizeof x->body - bl, "%s%s", j ? " " : "",
                                 d->words[start + j]);
      } else {
        for (int j = 0; j < nw; j++) {
          ks_orc_random_word(r, w, sizeof w);
          bl += (size_t)snprintf(x->body + bl, sizeof x->body - bl, "%s%s", j ? " " : "", w);
        }
      }
    } else if (ks_rng_below(r, 25) == 0) {
      snprintf(x->body, sizeof x->body, "%s", ks_rng_below(r, 2) ? "!!!" : "없는낱말");
    } else {
      ks_orc_random_word(r, w, sizeof w);
      snprintf(x->body, sizeof x->body, "%s", w);
    }
    len += (size_t)snprintf(q + len, qcap - len, "%s%s%s%s%s", c ? " " : "",
                            x->op == KS_ORC_REQ ? "+" : x->op == KS_ORC_EXC ? "-" : "",
                            x->phrase ? "\"" : "", x->body, x->phrase ? "\"" : "");
  }
  return ncl;
}

static int cmp_scored(const void *pa, const void *pb) {
  const ks_orc_scored *a = pa, *b = pb;
  if (a->score > b->score) return -1;
  if (a->score < b->score) return 1;
  return a->doc - b->doc;
}

int ks_orc_run(const ks_orc *o, const ks_orc_doc *docs, int ndocs, const unsigned char *live,
               ks_orc_clause *cl, int ncl, const ks_orc_params *p, ks_orc_scored *out) {
#define LIVE(i) (live ? live[i] != 0 : docs[i].live != 0)
  int nlive = 0, nreq = 0, npos = 0;
  double total[KS_NFIELDS] = {0, 0};
  for (int i = 0; i < ndocs; i++) {
    if (!LIVE(i)) continue;
    nlive++;
    for (int f = 0; f < KS_NFIELDS; f++) total[f] += docs[i].dl[f];
  }
  for (int c = 0; c < ncl; c++) {
    if (cl[c].nterms == 0) continue; /* nothing indexable: dropped */
    nreq += cl[c].op == KS_ORC_REQ;
    npos += cl[c].op != KS_ORC_EXC;
  }
  if (nlive == 0 || npos == 0) return 0;
  double avgdl[KS_NFIELDS];
  for (int f = 0; f < KS_NFIELDS; f++) avgdl[f] = total[f] / nlive;
  for (int c = 0; c < ncl; c++) {
    for (int t = 0; t < cl[c].nterms; t++) {
      int df = 0;
      for (int j = 0; j < ndocs; j++)
        if (LIVE(j) && ks_orc_tf_of(&docs[j], cl[c].terms[t]))
          df++; /* docs/ranking.md: df counts live documents only */
      cl[c].idf[t] = log(1.0 + (nlive - df + 0.5) / (df + 0.5));
    }
  }
  int n = 0;
  for (int i = 0; i < ndocs; i++) {
    const ks_orc_doc *d = &docs[i];
    if (!LIVE(i)) continue;
    int ok = 1, any_opt = 0;
    double score = 0;
    for (int c = 0; c < ncl && ok; c++) {
      const ks_orc_clause *q = &cl[c];
      if (q->nterms == 0) continue;
      int m = ks_orc_clause_matches(q, d);
      if (q->op == KS_ORC_EXC) {
        if (m) ok = 0;
        continue;
      }
      if (q->op == KS_ORC_REQ && !m) ok = 0;
      if (!m) continue;
      if (q->op == KS_ORC_OPT) any_opt = 1;
      for (int t = 0; t < q->nterms; t++) {
        int term = q->terms[t];
        uint32_t tf = ks_orc_tf_of(d, term);
        if (tf == 0) continue;
        int field = o->key[term][0];
        double idf = q->idf[t];
        double norm = p->k1 * (1.0 - p->b + p->b * d->dl[field] / avgdl[field]);
        double s = q->qtf[t] * idf * tf * (p->k1 + 1.0) / (tf + norm);
        score += field == KS_FIELD_BIGRAM ? p->bw * s : s;
      }
    }
    if (!ok || (nreq == 0 && !any_opt)) continue;
    out[n].doc = i;
    out[n].score = score;
    n++;
  }
  qsort(out, (size_t)n, sizeof *out, cmp_scored);
  return n;
#undef LIVE
}

int ks_orc_close(double a, double b, double rel) {
  double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  return fabs(a - b) <= rel * m + 1e-12;
}

size_t ks_orc_json_string(char *out, size_t len, size_t cap, const char *s) {
#define PUT(ch)                  \
  do {                           \
    if (len + 1 >= cap) return cap; \
    out[len++] = (ch);           \
  } while (0)
  PUT('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      PUT('\\');
      PUT((char)*p);
    } else if (*p == '\n') {
      PUT('\\');
      PUT('n');
    } else if (*p < 0x20) {
      char u[8];
      snprintf(u, sizeof u, "\\u%04x", *p);
      for (char *c = u; *c; c++) PUT(*c);
    } else {
      PUT((char)*p);
    }
  }
  PUT('"');
  out[len] = 0;
  return len;
#undef PUT
}
