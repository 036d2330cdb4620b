/*
 * memindex.c - implements memindex_int.h.
 *
 * Per term, postings are a varint stream
 *   (doc - next_expected_doc) tf pos_0 (pos_1 - pos_0) ... (pos_tf-1 - pos_tf-2)
 * written into a chain of slices of growing size (16 .. 2048 bytes) in a
 * pool of 64 KiB pages. The last 4 bytes of a full slice hold the address
 * (page << PAGE_BITS | offset) of the next slice. A term only keeps its head and
 * tail addresses, so a term that occurs once costs one 16-byte slice.
 *
 * Invariants: terms[i].tail lies inside the slice that ends at
 * terms[i].slice_end - 4; slices never cross a page boundary.
 */
#include <stdlib.h>
#include <string.h>

#include "ks_alloc.h"
#include "ks_buf.h"
#include "kosearch/tok.h"
#include "memindex_int.h"

#define PAGE_BITS 16
#define PAGE_SIZE (1u << PAGE_BITS)
#define MAX_PAGES 65535u
#define NLEVELS 8
static const uint32_t slice_size[NLEVELS] = {16, 32, 64, 128, 256, 512, 1024, 2048};

typedef struct term {
  uint32_t key_off;     /* offset of the key in keys */
  uint32_t hash;        /* full hash of the key */
  uint32_t head;        /* address of the first slice */
  uint32_t tail;        /* address of the next byte to write */
  uint32_t slice_end;   /* address just past the current slice's data */
  uint32_t next_doc;    /* last doc with a posting + 1 (0: none yet) */
  uint32_t in_doc;      /* current doc + 1 if it occurs in it, else stale */
  uint32_t occ_head;    /* first/last occurrence in the current document */
  uint32_t occ_tail;    /*   (indexes into occ) */
  uint8_t keylen;
  uint8_t level;        /* size level of the current slice */
} term;

struct ks_memindex {
  uint8_t **pages;
  uint32_t npages, pages_cap;
  uint32_t page_used;   /* bytes used in the last page */
  term *terms;
  uint32_t nterms, terms_cap;
  uint64_t *slots;      /* hash table: hash << 32 | (term index + 1);
                           0 = empty. The hash tag avoids touching the term
                           (a cache miss) on most mismatching probes. */
  uint32_t nslots;      /* power of two */
  ks_buf keys;
  struct occ { uint32_t pos, next; } *occ; /* current document's occurrences,
                           chained per term in position order; next 0 = end */
  size_t nocc, occ_cap;
  uint32_t *doc_terms;  /* terms of the current document, first-seen order */
  size_t ndoc_terms, doc_terms_cap;
  uint32_t doc;
};

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[mem] out of memory"); }

int ks_memindex_new(ks_memindex **out, ks_err *err) {
  *out = NULL;
  ks_memindex *mi = ks_calloc(1, sizeof *mi);
  if (!mi) return oom(err);
  mi->nslots = 1u << 14;
  mi->slots = ks_calloc(mi->nslots, sizeof *mi->slots);
  if (!mi->slots) {
    ks_free(mi);
    return oom(err);
  }
  *out = mi;
  return KS_OK;
}

void ks_memindex_free(ks_memindex *mi) {
  if (!mi) return;
  for (uint32_t i = 0; i < mi->npages; i++) ks_free(mi->pages[i]);
  ks_free(mi->pages);
  ks_free(mi->terms);
  ks_free(mi->slots);
  ks_buf_free(&mi->keys);
  ks_free(mi->occ);
  ks_free(mi->doc_terms);
  ks_free(mi);
}

size_t ks_memindex_bytes(const ks_memindex *mi) {
  return (size_t)mi->npages * PAGE_SIZE + (size_t)mi->terms_cap * sizeof(term) +
         (size_t)mi->nslots * sizeof(uint64_t) + mi->keys.cap +
         mi->occ_cap * sizeof(struct occ) + mi->doc_terms_cap * sizeof(uint32_t) +
         (size_t)mi->pages_cap * sizeof(void *);
}

uint64_t ks_memindex_nterms(const ks_memindex *mi) { return mi->nterms; }

static inline uint8_t *addr_ptr(const ks_memindex *mi, uint32_t a) {
  return mi->pages[a >> PAGE_BITS] + (a & (PAGE_SIZE - 1));
}

/* Allocate a slice of `size` bytes; returns its address or UINT32_MAX. */
static uint32_t alloc_slice(ks_memindex *mi, uint32_t size) {
  if (mi->npages == 0 || mi->page_used + size > PAGE_SIZE) {
    if (mi->npages >= MAX_PAGES) return UINT32_MAX;
    if (mi->npages == mi->pages_cap) {
      uint32_t cap = mi->pages_cap ? mi->pages_cap * 2 : 64;
      uint8_t **p = ks_realloc(mi->pages, cap * sizeof *p);
      if (!p) return UINT32_MAX;
      mi->pages = p;
      mi->pages_cap = cap;
    }
    uint8_t *page = ks_malloc(PAGE_SIZE);
    if (!page) return UINT32_MAX;
    mi->pages[mi->npages++] = page;
    mi->page_used = 0;
  }
  uint32_t a = ((mi->npages - 1) << PAGE_BITS) | mi->page_used;
  mi->page_used += size;
  return a;
}

static uint32_t hash_key(const char *key, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)key[i]) * 16777619u;
  return h ^ (h >> 15);
}

static int grow_slots(ks_memindex *mi) {
  uint32_t n = mi->nslots * 2;
  uint64_t *s = ks_calloc(n, sizeof *s);
  if (!s) return -1;
  for (uint32_t t = 0; t < mi->nterms; t++) {
    uint32_t i = mi->terms[t].hash & (n - 1);
    while (s[i]) i = (i + 1) & (n - 1);
    s[i] = (uint64_t)mi->terms[t].hash << 32 | (t + 1);
  }
  ks_free(mi->slots);
  mi->slots = s;
  mi->nslots = n;
  return 0;
}

static inline int key_eq(const uint8_t *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != (uint8_t)b[i]) return 0;
  return 1;
}

/* Term index of key, creating it if new; UINT32_MAX on out of memory. */
static uint32_t intern(ks_memindex *mi, const char *key, size_t keylen, uint32_t h) {
  uint32_t i = h & (mi->nslots - 1);
  for (;;) {
    uint64_t s = mi->slots[i];
    if (!s) break;
    if ((uint32_t)(s >> 32) == h) {
      uint32_t id = (uint32_t)s - 1;
      const term *t = &mi->terms[id];
      if (t->keylen == keylen && key_eq(mi->keys.data + t->key_off, key, keylen)) return id;
    }
    i = (i + 1) & (mi->nslots - 1);
  }
  if (mi->nterms == mi->terms_cap) {
    uint32_t cap = mi->terms_cap ? mi->terms_cap * 2 : 4096;
    term *p = ks_realloc(mi->terms, (size_t)cap * sizeof *p);
    if (!p) return UINT32_MAX;
    mi->terms = p;
    mi->terms_cap = cap;
  }
  uint32_t head = alloc_slice(mi, slice_size[0]);
  if (head == UINT32_MAX || mi->keys.len > UINT32_MAX - keylen ||
      ks_buf_append(&mi->keys, key, keylen))
    return UINT32_MAX;
  term *t = &mi->terms[mi->nterms];
  t->key_off = (uint32_t)(mi->keys.len - keylen);
  t->keylen = (uint8_t)keylen;
  t->hash = h;
  t->head = t->tail = head;
  t->slice_end = head + slice_size[0] - 4;
  t->level = 0;
  t->next_doc = 0;
  t->in_doc = 0;
  mi->nterms++;
  mi->slots[i] = (uint64_t)h << 32 | mi->nterms;
  if (mi->nterms * 2 > mi->nslots && grow_slots(mi)) return UINT32_MAX;
  return mi->nterms - 1;
}

void ks_memindex_begin_doc(ks_memindex *mi, uint32_t doc) {
  mi->doc = doc;
  mi->nocc = 1; /* occ[0] is unused: index 0 ends a chain */
  mi->ndoc_terms = 0;
}

void ks_memindex_cancel_doc(ks_memindex *mi) {
  for (size_t i = 0; i < mi->ndoc_terms; i++) mi->terms[mi->doc_terms[i]].in_doc = 0;
  mi->nocc = 1;
  mi->ndoc_terms = 0;
}

uint32_t ks_memindex_hash(const char *key, size_t keylen) { return hash_key(key, keylen); }

void ks_memindex_prefetch(const ks_memindex *mi, uint32_t hash) {
  __builtin_prefetch(&mi->slots[hash & (mi->nslots - 1)]);
}

void ks_memindex_prefetch_term(const ks_memindex *mi, uint32_t hash) {
  uint64_t s = mi->slots[hash & (mi->nslots - 1)];
  if (s && (uint32_t)(s >> 32) == hash) {
    const term *t = &mi->terms[(uint32_t)s - 1];
    __builtin_prefetch(t);
  }
}

int ks_memindex_add(ks_memindex *mi, const char *key, size_t keylen,
                    uint32_t pos, ks_err *err) {
  return ks_memindex_add_hashed(mi, key, keylen, hash_key(key, keylen), pos, err);
}

int ks_memindex_add_hashed(ks_memindex *mi, const char *key, size_t keylen,
                           uint32_t hash, uint32_t pos, ks_err *err) {
  uint32_t t = intern(mi, key, keylen, hash);
  if (t == UINT32_MAX) return oom(err);
  if (mi->nocc >= mi->occ_cap) {
    size_t cap = mi->occ_cap ? mi->occ_cap * 2 : 1024;
    struct occ *p = ks_realloc(mi->occ, cap * sizeof *p);
    if (!p) return oom(err);
    mi->occ = p;
    mi->occ_cap = cap;
  }
  term *tt = &mi->terms[t];
  uint32_t k = (uint32_t)mi->nocc;
  if (tt->in_doc != mi->doc + 1) {
    if (mi->ndoc_terms == mi->doc_terms_cap) {
      size_t cap = mi->doc_terms_cap ? mi->doc_terms_cap * 2 : 512;
      uint32_t *p = ks_realloc(mi->doc_terms, cap * sizeof *p);
      if (!p) return oom(err);
      mi->doc_terms = p;
      mi->doc_terms_cap = cap;
    }
    mi->doc_terms[mi->ndoc_terms++] = t;
    tt->in_doc = mi->doc + 1;
    tt->occ_head = k;
  } else {
    /* Positions arrive in increasing order; a repeat at the same position
     * is the same occurrence. */
    if (pos <= mi->occ[tt->occ_tail].pos) return KS_OK;
    mi->occ[tt->occ_tail].next = k;
  }
  mi->occ[k].pos = pos;
  mi->occ[k].next = 0;
  tt->occ_tail = k;
  mi->nocc++;
  return KS_OK;
}

/* Append bytes to a term's slice chain, a slice-sized run at a time (the
 * chain is the same as appending byte by byte: a new slice is taken only
 * when a byte must go past the current one). 0 or -1 (pool exhausted). */
static int put_bytes(ks_memindex *mi, term *t, const uint8_t *b, size_t n) {
  while (n > 0) {
    if (t->tail == t->slice_end) {
      uint8_t lvl = t->level + 1 < NLEVELS ? t->level + 1 : t->level;
      uint32_t s = alloc_slice(mi, slice_size[lvl]);
      if (s == UINT32_MAX) return -1;
      uint8_t *link = addr_ptr(mi, t->slice_end);
      ks_store_u32(link, s);
      t->level = lvl;
      t->tail = s;
      t->slice_end = s + slice_size[lvl] - 4;
    }
    size_t room = t->slice_end - t->tail;
    size_t k = n < room ? n : room;
    uint8_t *d = addr_ptr(mi, t->tail);
    if (k <= 16) { /* the usual case: a few bytes, cheaper than a memcpy call */
      for (size_t j = 0; j < k; j++) d[j] = b[j];
    } else {
      memcpy(d, b, k);
    }
    t->tail += (uint32_t)k;
    b += k;
    n -= k;
  }
  return 0;
}

/* Encode v (< 2^32) as a varint at p; returns the bytes written (1..5). */
static inline size_t put_v32(uint8_t *p, uint32_t v) {
  size_t i = 0;
  while (v >= 0x80) {
    p[i++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[i++] = (uint8_t)v;
  return i;
}

int ks_memindex_end_doc(ks_memindex *mi, ks_err *err) {
  /* Each term's posting is encoded into tmp and appended in runs. */
  uint8_t tmp[512];
  for (size_t i = 0; i < mi->ndoc_terms; i++) {
    term *t = &mi->terms[mi->doc_terms[i]];
    uint32_t tf = 0;
    for (uint32_t k = t->occ_head; k; k = mi->occ[k].next) tf++;
    size_t n = put_v32(tmp, mi->doc - t->next_doc);
    n += put_v32(tmp + n, tf);
    uint32_t last = 0;
    for (uint32_t k = t->occ_head; k; k = mi->occ[k].next) {
      if (n > sizeof tmp - 5) {
        if (put_bytes(mi, t, tmp, n)) goto full;
        n = 0;
      }
      uint32_t p = mi->occ[k].pos;
      n += put_v32(tmp + n, p - last); /* the first position is p - 0 */
      last = p;
    }
    if (put_bytes(mi, t, tmp, n)) goto full;
    t->next_doc = mi->doc + 1;
  }
  mi->nocc = 1;
  mi->ndoc_terms = 0;
  return KS_OK;
full:
  return ks_err_set(err, KS_ENOMEM, "[mem] in-memory postings pool exhausted "
                    "(lower the memory budget)");
}

/* ---- writing a segment -------------------------------------------------- */

typedef struct reader {
  const ks_memindex *mi;
  uint32_t at, slice_end, end;
  uint8_t level;
} reader;

static int read_byte(reader *r, uint8_t *b) {
  if (r->at == r->end) return -1;
  if (r->at == r->slice_end) {
    r->at = ks_load_u32(addr_ptr(r->mi, r->slice_end));
    if (r->level + 1 < NLEVELS) r->level++;
    r->slice_end = r->at + slice_size[r->level] - 4;
  }
  *b = *addr_ptr(r->mi, r->at);
  r->at++;
  return 0;
}

static int read_varint_slow(reader *r, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b;
    if (read_byte(r, &b)) return -1;
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* A varint; decoded straight from the slice when it ends inside the
 * current slice (the same value and bytes consumed as read_varint_slow). */
static inline int read_varint(reader *r, uint64_t *v) {
  if (r->at == r->end) return -1;
  if (r->at == r->slice_end) { /* follow the link, as read_byte does */
    r->at = ks_load_u32(addr_ptr(r->mi, r->slice_end));
    if (r->level + 1 < NLEVELS) r->level++;
    r->slice_end = r->at + slice_size[r->level] - 4;
  }
  /* The readable bytes of the current slice end at r->end if the stream
   * ends in it (slices never overlap, so an end address inside
   * [at, slice_end] lies in this slice), else at slice_end. */
  uint32_t lim = (r->end >= r->at && r->end <= r->slice_end) ? r->end : r->slice_end;
  uint32_t avail = lim - r->at;
  if (avail > 10) avail = 10;
  const uint8_t *p = addr_ptr(r->mi, r->at);
  uint64_t x = 0;
  for (uint32_t i = 0; i < avail; i++) {
    x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      *v = x;
      r->at += i + 1;
      return 0;
    }
  }
  return read_varint_slow(r, v);
}

/* Sort entry: the key's first 8 bytes, big-endian and zero-padded, decide
 * most comparisons without touching the key; ties fall back to the full
 * bytewise comparison (a shorter key that is a prefix sorts first). Terms
 * are distinct, so the order is total and any sort gives the same result. */
typedef struct sort_ent {
  uint64_t prefix;
  const uint8_t *key; /* into mi->keys */
  uint32_t len, id;
} sort_ent;

static inline int ent_less(const sort_ent *x, const sort_ent *y) {
  if (x->prefix != y->prefix) return x->prefix < y->prefix;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->key, y->key, n);
  return c ? c < 0 : x->len < y->len;
}

static void sort_ents(sort_ent *a, size_t n) {
  while (n > 16) {
    /* median of three as the pivot, then Hoare partition */
    sort_ent *lo = a, *mid = a + n / 2, *hi = a + n - 1, t;
    if (ent_less(mid, lo)) { t = *mid; *mid = *lo; *lo = t; }
    if (ent_less(hi, mid)) {
      t = *hi; *hi = *mid; *mid = t;
      if (ent_less(mid, lo)) { t = *mid; *mid = *lo; *lo = t; }
    }
    sort_ent pivot = *mid;
    size_t i = 0, j = n - 1;
    for (;;) {
      while (ent_less(&a[i], &pivot)) i++;
      while (ent_less(&pivot, &a[j])) j--;
      if (i >= j) break;
      t = a[i]; a[i] = a[j]; a[j] = t;
      i++;
      j--;
    }
    /* [0, j] <= pivot <= [j + 1, n): recurse into the smaller part */
    size_t left = j + 1;
    if (left < n - left) {
      sort_ents(a, left);
      a += left;
      n -= left;
    } else {
      sort_ents(a + left, n - left);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    sort_ent x = a[i];
    size_t j = i;
    while (j > 0 && ent_less(&x, &a[j - 1])) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = x;
  }
}

int ks_memindex_write(ks_memindex *mi, ks_segw *w, ks_err *err) {
  sort_ent *ents = ks_malloc((size_t)mi->nterms * sizeof *ents + 1);
  uint32_t *pos = NULL;
  size_t pos_cap = 0;
  if (!ents) return oom(err);
  for (uint32_t i = 0; i < mi->nterms; i++) {
    ents[i].key = mi->keys.data + mi->terms[i].key_off;
    ents[i].len = mi->terms[i].keylen;
    ents[i].id = i;
    uint64_t pre = 0;
    for (uint32_t k = 0; k < 8; k++)
      pre = pre << 8 | (k < ents[i].len ? ents[i].key[k] : 0);
    ents[i].prefix = pre;
  }
  sort_ents(ents, mi->nterms);
  int rc = KS_OK;
  for (uint32_t k = 0; k < mi->nterms && !rc; k++) {
    /* Terms in key order are scattered in memory: fetch the term record
     * 8 ahead and its first slice 4 ahead. */
    if (k + 8 < mi->nterms) __builtin_prefetch(&mi->terms[ents[k + 8].id]);
    if (k + 4 < mi->nterms) __builtin_prefetch(addr_ptr(mi, mi->terms[ents[k + 4].id].head));
    const term *t = &mi->terms[ents[k].id];
    rc = ks_segw_begin_term(w, (const char *)mi->keys.data + t->key_off, t->keylen, err);
    reader r = {mi, t->head, t->head + slice_size[0] - 4, t->tail, 0};
    uint64_t doc = 0;
    while (!rc && r.at != r.end) {
      uint64_t gap, tf, p;
      if (read_varint(&r, &gap) || read_varint(&r, &tf) || tf == 0 || tf > UINT32_MAX) {
        rc = ks_err_set(err, KS_ECORRUPT, "[mem] internal postings damaged");
        break;
      }
      doc += gap;
      if (tf > pos_cap) {
        size_t cap = pos_cap ? pos_cap : 256;
        while (cap < tf) cap *= 2;
        uint32_t *np = ks_realloc(pos, cap * sizeof *np);
        if (!np) {
          rc = oom(err);
          break;
        }
        pos = np;
        pos_cap = cap;
      }
      uint64_t acc = 0;
      for (uint64_t j = 0; j < tf && !rc; j++) {
        if (read_varint(&r, &p)) rc = ks_err_set(err, KS_ECORRUPT, "[mem] internal postings damaged");
        acc = j == 0 ? p : acc + p;
        pos[j] = (uint32_t)acc;
      }
      if (!rc) rc = ks_segw_add(w, (uint32_t)doc, (uint32_t)tf, pos, err);
      doc++;
    }
    if (!rc) rc = ks_segw_end_term(w, err);
  }
  ks_free(pos);
  ks_free(ents);
  return rc;
}
