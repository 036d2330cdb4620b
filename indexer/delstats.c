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
 * documents"). `kosearch check` verifies the result against the postings.
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

static uint32_t key_hash(const uint8_t *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
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
      size_t j = key_hash(ds->keys.data + ds->tab[i].off, ds->tab[i].len) & (ns - 1);
      while (t[j].count) j = (j + 1) & (ns - 1);
      t[j] = ds->tab[i];
    }
    ks_free(ds->tab);
    ds->tab = t;
    ds->slots = ns;
  }
  size_t j = key_hash(key, klen) & (ds->slots - 1);
  while (ds->tab[j].count) {
    ks_delstats_slot *e = &ds->tab[j];
    if (e->len == klen && !memcmp(ds->keys.data + e->off, key, klen)) {
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
  ks_delstats *ds;
  uint64_t stamp;
  int oom;
} doc_terms;

static int on_term(void *ctx, const ks_token *t) {
  doc_terms *c = ctx;
  char key[KS_TOK_MAX_TERM + 2];
  size_t klen = ks_term_key(key, t->field, t->term, t->len);
  if (put(c->ds, (const uint8_t *)key, klen, 1, c->stamp)) return c->oom = KS_ENOMEM;
  return 0;
}

/* Contract: writer_int.h. */
int ks_delstats_add_doc(ks_delstats *ds, ks_tok *tok, const ks_segment *seg, uint32_t doc,
                        ks_buf *scratch, ks_err *err) {
  ks_buf_reset(scratch);
  int rc = ks_segment_doc_json(seg, doc, scratch, err);
  if (rc) return rc;
  if (ks_buf_put_u8(scratch, '\0')) return oom(err);
  cJSON *js = cJSON_ParseWithLength((const char *)scratch->data, scratch->len - 1);
  if (!js) {
    if (!cJSON_GetErrorPtr()) return oom(err);
    return ks_err_set(err, KS_ECORRUPT, "[idx][delete] segment %06u document %u: stored "
                      "JSON does not parse", ks_segment_number(seg), doc);
  }
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(js, "text");
  const cJSON *title = cJSON_GetObjectItemCaseSensitive(js, "title");
  if (!cJSON_IsString(text)) {
    cJSON_Delete(js);
    return ks_err_set(err, KS_ECORRUPT, "[idx][delete] segment %06u document %u: stored "
                      "JSON has no \"text\"", ks_segment_number(seg), doc);
  }
  ks_doc d;
  memset(&d, 0, sizeof d);
  d.text = text->valuestring;
  d.text_len = strlen(text->valuestring);
  if (cJSON_IsString(title)) {
    d.title = title->valuestring;
    d.title_len = strlen(title->valuestring);
  }
  doc_terms c = {ds, ++ds->stamp, 0};
  rc = ks_doc_analyze(tok, &d, on_term, &c, err);
  cJSON_Delete(js);
  if (c.oom) return oom(err);
  return rc;
}

static int cmp_slot(const void *a, const void *b, void *ctx) {
  const ks_delstats *ds = ctx;
  const ks_delstats_slot *x = a, *y = b;
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
    if (ds->tab[i].count) s[k++] = ds->tab[i];
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
  ks_free(ds->tab);
  memset(ds, 0, sizeof *ds);
}
