/*
 * delstats.c - implements section delstats.c of writer_int.h: the
 * statistics a segment's deleted documents take with them, for its next
 * .del file (docs/format/deletions.md): for every term, the number of
 * deleted documents containing it, and their summed field lengths.
 *
 * A deleted document's terms are not on disk in a form that can be read
 * back per document (postings are per term), so they are re-derived: its
 * stored JSON is parsed and its "title" and "text" are analyzed again, with
 * the analyzer options of the index, exactly as input.c and
 * ks_doc_analyze did when it was added (docs/ranking.md, "Deleted
 * documents"). The re-analysis is accepted only if it yields as many terms
 * per field as the document's recorded lengths; a program may have stored
 * JSON other than the title and text it indexed, so documents that fail
 * this are counted from the postings instead, in one pass over the
 * segment (ks_delstats_add_docs_from_postings: slower, always right).
 * `kosearch check` verifies the result against the postings.
 *
 * The term table is open addressing (FNV-1a, linear probing, at most half
 * full) over keys kept once in `keys`; each slot holds a count and the
 * stamp of the last document that counted it, so a term that occurs
 * several times in one document counts once.
 */
#define _GNU_SOURCE /* qsort_r */
#include "writer_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "deletions_int.h"
#include "dict_int.h"
#include "docstore_int.h"
#include "document.h"
#include "ks_alloc.h"
#include "lengths_int.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][delete] out of memory"); }

/* FNV-1a, then the MurmurHash3 fmix32 finalizer: the table indexes by the
 * low bits, which plain FNV-1a spreads poorly for short keys sharing a
 * prefix (every key starts with its field byte). */
static uint32_t key_hash(const uint8_t *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Count `key` once for the document with stamp `stamp` (add `count`). */
static int put(ks_delstats *ds, const uint8_t *key, size_t klen, uint32_t count,
               uint64_t stamp) {
  if ((ds->n + 1) * 2 > ds->slots) {
    size_t ns = ds->slots ? ds->slots * 2 : 1024;
    ks_delstats_slot *t = ks_calloc(ns, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < ds->slots; i++) {
      if (!ds->tab[i].count) continue;
      size_t j = ds->tab[i].hash & (ns - 1);
      while (t[j].count) j = (j + 1) & (ns - 1);
      t[j] = ds->tab[i];
    }
    ks_free(ds->tab);
    ds->tab = t;
    ds->slots = ns;
  }
  uint32_t h = key_hash(key, klen);
  size_t j = h & (ds->slots - 1);
  while (ds->tab[j].count) {
    ks_delstats_slot *e = &ds->tab[j];
    if (e->hash == h && e->len == klen && !memcmp(ds->keys.data + e->off, key, klen)) {
      if (e->stamp != stamp || stamp == 0) e->count += count;
      e->stamp = stamp;
      return 0;
    }
    j = (j + 1) & (ds->slots - 1);
  }
  if (ds->keys.len + klen > UINT32_MAX || ks_buf_append(&ds->keys, key, klen)) return -1;
  ds->tab[j].off = (uint32_t)(ds->keys.len - klen);
  ds->tab[j].len = (uint32_t)klen;
  ds->tab[j].count = count;
  ds->tab[j].hash = h;
  ds->tab[j].stamp = stamp;
  ds->n++;
  return 0;
}

/* Contract: writer_int.h. */
int ks_delstats_load(ks_delstats *ds, const ks_segment *seg, ks_err *err) {
  size_t n = ks_deletions_nterms(seg);
  for (size_t i = 0; i < n; i++) {
    ks_deleted_term t;
    ks_deletions_term(seg, i, &t);
    if (put(ds, t.key, t.klen, t.count, 0)) return oom(err);
  }
  return KS_OK;
}

typedef struct doc_terms {
  ks_buf *keys;         /* u8 klen, key bytes; per term occurrence */
  uint64_t len[KS_NFIELDS]; /* terms per field */
  int oom;
} doc_terms;

static int on_term(void *ctx, const ks_token *t) {
  doc_terms *c = ctx;
  char key[KS_TOK_MAX_TERM + 2];
  size_t klen = ks_term_key(key, t->field, t->term, t->len);
  c->len[t->field < KS_NFIELDS ? t->field : 0]++;
  if (ks_buf_put_u8(c->keys, (uint8_t)klen) || ks_buf_append(c->keys, key, klen))
    return c->oom = KS_ENOMEM;
  return 0;
}

/* Contract: writer_int.h. */
int ks_delstats_add_doc(ks_delstats *ds, ks_tok *tok, const ks_segment *seg, uint32_t doc,
                        ks_buf *scratch, int *mismatch, ks_err *err) {
  *mismatch = 0;
  ks_buf_reset(scratch);
  int rc = ks_segment_doc_json(seg, doc, scratch, err);
  if (rc) return rc;
  if (ks_buf_put_u8(scratch, '\0')) return oom(err);
  cJSON *js = cJSON_ParseWithLength((const char *)scratch->data, scratch->len - 1);
  if (!js) {
    if (!cJSON_GetErrorPtr()) return oom(err);
    *mismatch = 1; /* not the JSON it was indexed from: see the caller */
    return KS_OK;
  }
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(js, "text");
  const cJSON *title = cJSON_GetObjectItemCaseSensitive(js, "title");
  if (!cJSON_IsString(text)) {
    cJSON_Delete(js);
    *mismatch = 1;
    return KS_OK;
  }
  ks_doc d;
  memset(&d, 0, sizeof d);
  d.text = text->valuestring;
  d.text_len = strlen(text->valuestring);
  if (cJSON_IsString(title)) {
    d.title = title->valuestring;
    d.title_len = strlen(title->valuestring);
  }
  doc_terms c;
  memset(&c, 0, sizeof c);
  c.keys = &ds->doc_keys;
  ks_buf_reset(c.keys);
  rc = ks_doc_analyze(tok, &d, on_term, &c, err);
  cJSON_Delete(js);
  if (c.oom) return oom(err);
  if (rc == KS_EINPUT || rc == KS_EUTF8 || rc == KS_ELIMIT) {
    *mismatch = 1; /* the stored text would not have been accepted as is */
    return KS_OK;
  }
  if (rc) return rc;
  /* The terms must be those the document was indexed with: at least their
   * numbers per field must be its recorded lengths. */
  for (int f = 0; f < KS_NFIELDS; f++)
    if (c.len[f] != ks_segment_doclen(seg, doc, f)) *mismatch = 1;
  if (*mismatch) return KS_OK;
  uint64_t stamp = ++ds->stamp;
  for (size_t p = 0; p < c.keys->len;) {
    size_t klen = c.keys->data[p];
    if (put(ds, c.keys->data + p + 1, klen, 1, stamp)) return oom(err);
    p += 1 + klen;
  }
  return KS_OK;
}

static int add_count(void *ctx, const uint8_t *key, size_t klen, uint32_t n, ks_err *err) {
  if (n && put(ctx, key, klen, n, 0)) return oom(err);
  return KS_OK;
}

/* Contract: writer_int.h. One pass over the segment's postings. */
int ks_delstats_add_docs_from_postings(ks_delstats *ds, const ks_segment *seg,
                                       const uint8_t *docs, ks_err *err) {
  return ks_deletions_count(seg, docs, add_count, ds, err);
}

/* The first 8 bytes of a key, big-endian, zero-padded: compares like
 * memcmp on those bytes. */
static uint64_t key_prefix(const uint8_t *k, size_t n) {
  uint64_t p = 0;
  for (size_t i = 0; i < 8; i++) p = p << 8 | (i < n ? k[i] : 0);
  return p;
}

static int cmp_slot(const void *a, const void *b, void *ctx) {
  const ks_delstats *ds = ctx;
  const ks_delstats_slot *x = a, *y = b;
  if (x->prefix != y->prefix) return x->prefix < y->prefix ? -1 : 1;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(ds->keys.data + x->off, ds->keys.data + y->off, n);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Contract: writer_int.h. */
int ks_delstats_table(const ks_delstats *ds, ks_deleted_term **out, size_t *n,
                      ks_err *err) {
  *out = NULL;
  *n = 0;
  if (ds->n == 0) return KS_OK;
  ks_delstats_slot *s = ks_malloc(ds->n * sizeof *s);
  ks_deleted_term *t = ks_malloc(ds->n * sizeof *t);
  if (!s || !t) {
    ks_free(s);
    ks_free(t);
    return oom(err);
  }
  size_t k = 0;
  for (size_t i = 0; i < ds->slots; i++)
    if (ds->tab[i].count) {
      s[k] = ds->tab[i];
      s[k].prefix = key_prefix(ds->keys.data + s[k].off, s[k].len);
      k++;
    }
  qsort_r(s, k, sizeof *s, cmp_slot, (void *)ds);
  for (size_t i = 0; i < k; i++) {
    t[i].key = ds->keys.data + s[i].off;
    t[i].klen = s[i].len;
    t[i].count = s[i].count;
  }
  ks_free(s);
  *out = t;
  *n = k;
  return KS_OK;
}

/* Contract: writer_int.h. */
void ks_delstats_free(ks_delstats *ds) {
  ks_buf_free(&ds->keys);
  ks_buf_free(&ds->doc_keys);
  ks_free(ds->tab);
  memset(ds, 0, sizeof *ds);
}
