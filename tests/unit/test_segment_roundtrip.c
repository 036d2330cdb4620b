/*
 * test_segment_roundtrip.c - the segment writers (segwriter_int.h,
 * docstore_int.h) and readers (segment_int.h and the per-kind headers)
 * against each other on random data: dictionary lookup and iteration,
 * postings next/seek/positions, skip data, lengths, stored documents, the
 * integrity check; then flipped bytes in each file
 * kind must be refused at open, and reading a damaged segment opened
 * without CRC checks must fail cleanly, never crash (ASan makes this
 * strict).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ks_test_util.h"
#include "dict_int.h"
#include "docstore_int.h"
#include "lengths_int.h"
#include "postings_int.h"
#include "segment_int.h"
#include "segwriter_int.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

#define NDOCS 700
#define NTERMS 300

typedef struct tpost { uint32_t doc, tf; uint32_t *pos; } tpost;
typedef struct tterm { char key[40]; size_t keylen; tpost *p; uint32_t n; } tterm;

static tterm terms[NTERMS];
static uint32_t lens[NDOCS * KS_NFIELDS];

static int cmp_term(const void *a, const void *b) {
  const tterm *x = a, *y = b;
  size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
  int c = memcmp(x->key, y->key, n);
  return c ? c : (int)x->keylen - (int)y->keylen;
}

static void free_data(void) {
  for (int t = 0; t < NTERMS; t++) {
    for (uint32_t i = 0; i < terms[t].n; i++) free(terms[t].p[i].pos);
    free(terms[t].p);
    terms[t].p = NULL;
    terms[t].n = 0;
  }
}

static void make_data(void) {
  free_data();
  memset(lens, 0, sizeof lens);
  for (int t = 0; t < NTERMS; t++) {
    tterm *tt = &terms[t];
    tt->key[0] = (char)(rnd() % KS_NFIELDS);
    tt->keylen = (size_t)snprintf(tt->key + 1, sizeof tt->key - 1, "t%05d", t) + 1;
    /* df from 1 to NDOCS, skewed: many small, some over several blocks */
    uint32_t df = (t % 10 == 0) ? 1 + rnd() % NDOCS : 1 + rnd() % 20;
    if (t == 1) df = NDOCS;
    if (t == 2) df = 128;
    if (t == 3) df = 129;
    tt->p = calloc(df, sizeof *tt->p);
    uint32_t doc = 0;
    for (uint32_t i = 0; i < df; i++) {
      uint32_t room = NDOCS - doc - (df - i);
      doc += (room ? rnd() % (room / (df - i) + 1) : 0);
      tt->p[i].doc = doc++;
      uint32_t tf = 1 + ((rnd() % 8 == 0) ? rnd() % 40 : rnd() % 3);
      tt->p[i].tf = tf;
      tt->p[i].pos = malloc(tf * sizeof(uint32_t));
      uint32_t p = rnd() % 5;
      for (uint32_t j = 0; j < tf; j++) { tt->p[i].pos[j] = p; p += 1 + rnd() % 9; }
      lens[tt->p[i].doc * KS_NFIELDS + (unsigned char)tt->key[0]] += tf;
    }
    tt->n = df;
  }
  qsort(terms, NTERMS, sizeof *terms, cmp_term);
}

static void write_segment(const char *dir, uint32_t segno) {
  ks_segw *w;
  ks_err e;
  assert_int_equal(ks_segw_open(&w, dir, segno, NDOCS, lens, 0, &e), KS_OK);
  for (int t = 0; t < NTERMS; t++) {
    assert_int_equal(ks_segw_begin_term(w, terms[t].key, terms[t].keylen, &e), KS_OK);
    for (uint32_t i = 0; i < terms[t].n; i++)
      assert_int_equal(ks_segw_add(w, terms[t].p[i].doc, terms[t].p[i].tf, terms[t].p[i].pos, &e), KS_OK);
    assert_int_equal(ks_segw_end_term(w, &e), KS_OK);
  }
  assert_int_equal(ks_segw_finish(w, &e), KS_OK);
  ks_stow *s;
  assert_int_equal(ks_stow_open(&s, dir, segno, 0, &e), KS_OK);
  for (uint32_t d = 0; d < NDOCS; d++) {
    char id[32], json[200];
    int il = snprintf(id, sizeof id, "doc-%u", d);
    int jl = snprintf(json, sizeof json, "{\"id\":\"doc-%u\",\"text\":\"%0*u\"}", d, (int)(d % 150), d);
    assert_int_equal(ks_stow_add(s, id, (size_t)il, json, (size_t)jl, &e), KS_OK);
  }
  assert_int_equal(ks_stow_finish(s, &e), KS_OK);
}

static void verify_segment(const ks_segment *seg) {
  ks_err e;
  assert_int_equal(ks_segment_ndocs(seg), NDOCS);
  assert_int_equal(ks_segment_nterms(seg), NTERMS);
  for (uint32_t d = 0; d < NDOCS; d++)
    for (int f = 0; f < KS_NFIELDS; f++)
      assert_int_equal(ks_segment_doclen(seg, d, f), lens[d * KS_NFIELDS + f]);
  for (int t = 0; t < NTERMS; t++) {
    ks_term_info info;
    assert_int_equal(ks_segment_lookup(seg, terms[t].key, terms[t].keylen, &info, &e), KS_OK);
    assert_int_equal(info.df, terms[t].n);
    ks_postings cur;
    assert_int_equal(ks_postings_open(&cur, seg, &info, &e), KS_OK);
    for (uint32_t i = 0; i < terms[t].n; i++) {
      assert_int_equal(cur.doc, terms[t].p[i].doc);
      assert_int_equal(cur.tf, terms[t].p[i].tf);
      if (i % 3 == 0) {
        const uint32_t *pos; uint32_t n;
        assert_int_equal(ks_postings_positions(&cur, &pos, &n, &e), KS_OK);
        assert_int_equal(n, terms[t].p[i].tf);
        assert_memory_equal(pos, terms[t].p[i].pos, n * sizeof *pos);
      }
      assert_int_equal(ks_postings_next(&cur, &e), i + 1 < terms[t].n ? KS_OK : KS_DONE);
    }
    ks_postings_close(&cur);
    /* seek to random targets, compare with a linear scan */
    assert_int_equal(ks_postings_open(&cur, seg, &info, &e), KS_OK);
    uint32_t target = 0;
    for (;;) {
      target += rnd() % 60;
      uint32_t i = 0;
      while (i < terms[t].n && terms[t].p[i].doc < target) i++;
      int rc = ks_postings_seek(&cur, target, &e);
      if (i == terms[t].n) { assert_int_equal(rc, KS_DONE); break; }
      assert_int_equal(rc, KS_OK);
      assert_int_equal(cur.doc, terms[t].p[i].doc);
      assert_int_equal(cur.tf, terms[t].p[i].tf);
      const uint32_t *pos; uint32_t n;
      assert_int_equal(ks_postings_positions(&cur, &pos, &n, &e), KS_OK);
      assert_memory_equal(pos, terms[t].p[i].pos, n * sizeof *pos);
    }
    ks_postings_close(&cur);
    /* a key just after this one that is not in the dictionary */
    char miss[48];
    memcpy(miss, terms[t].key, terms[t].keylen);
    miss[terms[t].keylen] = '~';
    assert_int_equal(ks_segment_lookup(seg, miss, terms[t].keylen + 1, &info, &e), KS_NOTFOUND);
  }
  assert_int_equal(ks_segment_lookup(seg, "\x00", 1, &(ks_term_info){0}, &e), KS_NOTFOUND);
  /* dictionary iteration in order */
  ks_dict_iter it;
  ks_dict_iter_init(&it, seg);
  for (int t = 0; t < NTERMS; t++) {
    assert_int_equal(ks_dict_iter_next(&it, &e), KS_OK);
    assert_int_equal(it.keylen, terms[t].keylen);
    assert_memory_equal(it.key, terms[t].key, it.keylen);
  }
  assert_int_equal(ks_dict_iter_next(&it, &e), KS_DONE);
  /* stored documents */
  ks_buf b = KS_BUF_INIT;
  for (uint32_t d = 0; d < NDOCS; d += 7) {
    const char *id; size_t il;
    char want[32];
    assert_int_equal(ks_segment_doc_id(seg, d, &id, &il, &e), KS_OK);
    snprintf(want, sizeof want, "doc-%u", d);
    assert_int_equal(il, strlen(want));
    assert_memory_equal(id, want, il);
    ks_buf_reset(&b);
    assert_int_equal(ks_segment_doc_json(seg, d, &b, &e), KS_OK);
    assert_true(b.len > 10 && b.data[0] == '{' && b.data[b.len - 1] == '}');
    assert_non_null(strstr((char *)b.data, want) ? (void *)1 : NULL);
  }
  ks_buf_free(&b);
  assert_int_equal(ks_segment_check(seg, NULL, NULL, &e), KS_OK);
}

static void test_roundtrip(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("segment_roundtrip");
  make_data();
  write_segment(dir, 7);
  ks_segment *seg;
  ks_err e;
  assert_int_equal(ks_segment_open(dir, 7, 1, &seg, &e), KS_OK);
  verify_segment(seg);
  ks_segment_close(seg);
  free_data();
}

/* Read everything of a (possibly damaged) segment; any error is fine,
 * crashing or reading out of bounds is not. */
static void read_all(const ks_segment *seg) {
  ks_err e;
  ks_dict_iter it;
  ks_dict_iter_init(&it, seg);
  while (ks_dict_iter_next(&it, &e) == KS_OK) {
    ks_postings cur;
    if (ks_postings_open(&cur, seg, &it.info, &e) != KS_OK) continue;
    do {
      const uint32_t *pos; uint32_t n;
      (void)ks_postings_positions(&cur, &pos, &n, &e);
    } while (ks_postings_next(&cur, &e) == KS_OK);
    ks_postings_close(&cur);
  }
  for (int t = 0; t < NTERMS; t++) {
    ks_term_info info;
    (void)ks_segment_lookup(seg, terms[t].key, terms[t].keylen, &info, &e);
  }
  ks_buf b = KS_BUF_INIT;
  for (uint32_t d = 0; d < ks_segment_ndocs(seg); d += 5) {
    const char *id; size_t il;
    (void)ks_segment_doc_id(seg, d, &id, &il, &e);
    ks_buf_reset(&b);
    (void)ks_segment_doc_json(seg, d, &b, &e);
  }
  ks_buf_free(&b);
  (void)ks_segment_check(seg, NULL, NULL, &e);
}

static void test_corruption(void **state) {
  (void)state;
  const char *exts[] = {".tid", ".doc", ".pos", ".len", ".sto"};
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("segment_corrupt"));
  make_data();
  for (size_t k = 0; k < sizeof exts / sizeof *exts; k++) {
    for (int trial = 0; trial < 12; trial++) {
      write_segment(dir, 1);
      char path[4200];
      snprintf(path, sizeof path, "%s/000001%s", dir, exts[k]);
      size_t len;
      char *data = ks_test_read_file(path, &len);
      assert_non_null(data);
      /* header, trailer and random interior positions */
      size_t at = trial == 0 ? 9 : trial == 1 ? len - 1 : trial == 2 ? len - 20 : rnd() % len;
      data[at] ^= (char)(1 + rnd() % 255);
      assert_int_equal(ks_test_write_file(path, data, len), 0);
      ks_segment *seg = NULL;
      ks_err e;
      int rc = ks_segment_open(dir, 1, 1, &seg, &e);
      if (rc == KS_OK) ks_segment_close(seg);
      assert_true(rc == KS_ECORRUPT || rc == KS_EVERSION);
      assert_non_null(strstr(e.msg, exts[k]));
      /* Without CRC verification: must not crash. */
      if (ks_segment_open(dir, 1, 0, &seg, &e) == KS_OK) {
        read_all(seg);
        ks_segment_close(seg);
      }
      /* Truncation too. */
      assert_int_equal(ks_test_write_file(path, data, len / 2), 0);
      assert_int_not_equal(ks_segment_open(dir, 1, 1, &seg, &e), KS_OK);
      if (ks_segment_open(dir, 1, 0, &seg, &e) == KS_OK) {
        read_all(seg);
        ks_segment_close(seg);
      }
      free(data);
    }
  }
  free_data();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_corruption),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
