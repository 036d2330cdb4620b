/*
 * test_segment_pages.c - page checksums (format version 2, file_int.h):
 * opening a segment reads O(1) pages per file; a damaged byte inside a
 * postings block, a positions run, a stored block, a dictionary block or
 * a length is reported as KS_ECORRUPT by the query or get that reads it
 * (after an open that succeeds), never as a wrong result, while reads of
 * other pages still work; `check` reports every damaged byte; and random
 * damage anywhere in any file gives, for every operation, either
 * KS_ECORRUPT or exactly the undamaged result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dict_int.h"
#include "index.h"
#include "index_writer.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "ks_test_util.h"
#include "manifest_int.h"
#include "segment_priv.h"

static uint64_t rng = 0x6A09E667F3BCC909ull;
static uint32_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

#define NDOCS 1500
#define NVOCAB 2000

static char pristine[4096]; /* the undamaged index */
static uint32_t segno;      /* its only segment */

/* Write NDOCS documents: every one has "common"; of the other words,
 * w0..w49 are frequent (several blocks) and w50..w1999 rare (one block);
 * the files span many pages. */
static void build(const char *dir) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  ks_err e;
  assert_int_equal(ks_index_writer_open(dir, &wo, &w, &e), KS_OK);
  static char text[8192];
  for (uint32_t d = 0; d < NDOCS; d++) {
    int n = snprintf(text, sizeof text, "common 대통령은 w%u", d % 7);
    for (int j = 0; j < 40; j++) {
      uint32_t r = rnd() % 3 ? rnd() % 50 : rnd() % NVOCAB;
      n += snprintf(text + n, sizeof text - (size_t)n, " w%u", r);
    }
    char id[32], title[32];
    snprintf(id, sizeof id, "doc-%u", d);
    snprintf(title, sizeof title, "title %u", d);
    ks_doc doc = {.id = id, .id_len = strlen(id), .title = title,
                  .title_len = strlen(title), .text = text, .text_len = (size_t)n};
    assert_int_equal(ks_index_writer_add(w, &doc, &e), KS_OK);
  }
  assert_int_equal(ks_index_writer_commit(w, &e), KS_OK);
  ks_index_writer_close(w);
  ks_manifest m;
  assert_int_equal(ks_manifest_read(dir, &m, &e), KS_OK);
  assert_int_equal(m.nsegs, 1);
  segno = m.segs[0].segno;
  ks_manifest_free(&m);
}

static const char *queries[] = {
    "common", "w0", "w1", "w3", "w10", "w100", "w500", "w1000", "w1500",
    "w1999", "대통령", "common w5", "+w2 +w4", "w7 -common", "\"common 대통령은\"",
    "\"대통령은 w3\"", "title 17", "\"w1 w1\"", "+common +\"대통령은 w6\"",
};
#define NQ (sizeof queries / sizeof *queries)
#define NOPS (NQ + 3 * NDOCS + 1)

/* Run every operation; out[i] gets operation i's result as text, or NULL
 * when it failed with KS_ECORRUPT (anything else fails the test). Returns
 * the number of KS_ECORRUPT. */
static int run_all(ks_index *ix, char **out) {
  ks_err e;
  int bad = 0, rc;
  size_t op = 0;
  ks_buf b = KS_BUF_INIT;
#define RESULT(rc_)                                                         \
  do {                                                                      \
    if ((rc_) == KS_ECORRUPT) { out[op++] = NULL; bad++; break; }           \
    if ((rc_) != KS_OK) fail_msg("op %zu: rc %d: %s", op, (rc_), e.msg);    \
    ks_buf_put_u8(&b, 0);                                                   \
    out[op++] = strdup((char *)b.data);                                     \
  } while (0)
  for (size_t q = 0; q < NQ; q++) {
    ks_buf_reset(&b);
    ks_search_opts o;
    ks_search_opts_default(&o);
    o.k = 20;
    ks_index_results *r = NULL;
    rc = ks_index_search(ix, queries[q], SIZE_MAX, &o, &r, &e);
    if (rc == KS_OK) {
      char t[64];
      for (size_t i = 0; i < ks_index_results_count(r); i++) {
        ks_index_hit h;
        ks_index_results_hit(r, i, &h);
        int n = snprintf(t, sizeof t, "%llu:%.17g ", (unsigned long long)h.doc, h.score);
        ks_buf_append(&b, t, (size_t)n);
      }
      ks_index_results_free(r);
    }
    RESULT(rc);
  }
  for (uint64_t d = 0; d < NDOCS; d++) {
    const char *id;
    size_t il;
    ks_buf_reset(&b);
    rc = ks_index_doc_id(ix, d, &id, &il, &e);
    if (rc == KS_OK) ks_buf_append(&b, id, il);
    RESULT(rc);
    ks_buf_reset(&b);
    char *json = NULL;
    /* every 10th document: still every stored block (about 50 each) */
    rc = d % 10 && d != NDOCS - 1 ? KS_OK : ks_index_doc_json(ix, d, &json, NULL, &e);
    if (json) ks_buf_append(&b, json, strlen(json));
    ks_mem_free(json);
    RESULT(rc);
    ks_buf_reset(&b);
    char want[32];
    int wl = snprintf(want, sizeof want, "doc-%llu", (unsigned long long)d);
    uint64_t got;
    rc = ks_index_find_id(ix, want, (size_t)wl, &got, &e);
    if (rc == KS_OK) {
      int n = snprintf(want, sizeof want, "%llu", (unsigned long long)got);
      ks_buf_append(&b, want, (size_t)n);
    }
    RESULT(rc);
  }
  ks_buf_reset(&b);
  ks_index_stats st;
  rc = ks_index_get_stats(ix, &st, &e);
  if (rc == KS_OK) {
    char t[160];
    int n = snprintf(t, sizeof t, "%llu %llu %llu %llu", (unsigned long long)st.terms,
                     (unsigned long long)st.postings, (unsigned long long)st.field_total[0],
                     (unsigned long long)st.field_total[1]);
    ks_buf_append(&b, t, (size_t)n);
  }
  RESULT(rc);
#undef RESULT
  assert_int_equal(op, NOPS);
  ks_buf_free(&b);
  return bad;
}

static void free_ops(char **out) {
  for (size_t i = 0; i < NOPS; i++) free(out[i]);
}

static char *base_ops[NOPS];

static int group_setup(void **state) {
  (void)state;
  snprintf(pristine, sizeof pristine, "%s", ks_test_tmpdir("pages_pristine"));
  build(pristine);
  ks_index *ix;
  ks_err e;
  if (ks_index_open(pristine, &ix, &e) != KS_OK) return -1;
  int bad = run_all(ix, base_ops);
  ks_index_close(ix);
  return bad ? -1 : 0;
}

static int group_teardown(void **state) {
  (void)state;
  free_ops(base_ops);
  return 0;
}

/* A fresh copy of the pristine index; returns its directory. */
static const char *copy(void) {
  static char dir[4096];
  snprintf(dir, sizeof dir, "%s", ks_test_tmpdir("pages_work"));
  assert_int_equal(ks_test_system("cp '%s'/* '%s'/", pristine, dir), 0);
  return dir;
}

static char *file_of(const char *dir, const char *ext) {
  static char path[4200];
  snprintf(path, sizeof path, "%s/%06u%s", dir, segno, ext);
  return path;
}

static void flip(const char *path, uint64_t at, uint8_t x) {
  size_t len;
  char *f = ks_test_read_file(path, &len);
  assert_non_null(f);
  assert_true(at < len);
  f[at] ^= (char)x;
  assert_int_equal(ks_test_write_file(path, f, len), 0);
  free(f);
}

/* Every operation on the damaged copy: KS_ECORRUPT or the pristine
 * result. Returns the number of KS_ECORRUPT, -1 if the open failed. */
static int compare_all(const char *dir, int *open_rc) {
  ks_index *ix = NULL;
  ks_err e;
  *open_rc = ks_index_open(dir, &ix, &e);
  if (*open_rc != KS_OK) return -1;
  char *ops[NOPS];
  int bad = run_all(ix, ops);
  for (size_t i = 0; i < NOPS; i++)
    if (ops[i] && strcmp(ops[i], base_ops[i]) != 0)
      fail_msg("operation %zu gave a wrong result:\n  %s\ninstead of\n  %s", i, ops[i],
               base_ops[i]);
  free_ops(ops);
  ks_index_close(ix);
  return bad;
}

static void expect_check_fails(const char *dir, const char *ext) {
  ks_err e;
  assert_int_equal(ks_index_check(dir, NULL, NULL, &e), KS_ECORRUPT);
  if (!strstr(e.msg, ext)) fail_msg("check: %s does not name %s", e.msg, ext);
}

/* Operation i is the search of query q. */
static int search_rc(const char *dir, const char *query) {
  size_t q = 0;
  while (q < NQ && strcmp(queries[q], query)) q++;
  assert_true(q < NQ);
  ks_index *ix;
  ks_err e;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_OK);
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 20;
  ks_index_results *r = NULL;
  int rc = ks_index_search(ix, query, SIZE_MAX, &o, &r, &e);
  if (rc == KS_OK) {
    char t[64];
    ks_buf b = KS_BUF_INIT;
    for (size_t i = 0; i < ks_index_results_count(r); i++) {
      ks_index_hit h;
      ks_index_results_hit(r, i, &h);
      int n = snprintf(t, sizeof t, "%llu:%.17g ", (unsigned long long)h.doc, h.score);
      ks_buf_append(&b, t, (size_t)n);
    }
    ks_buf_put_u8(&b, 0);
    assert_string_equal((char *)b.data, base_ops[q]);
    ks_buf_free(&b);
  } else if (rc == KS_ECORRUPT) {
    assert_non_null(strstr(e.msg, "checksum mismatch"));
  }
  ks_index_results_free(r);
  ks_index_close(ix);
  return rc;
}

static ks_segment *open_seg(const char *dir) {
  ks_segment *seg;
  ks_err e;
  assert_int_equal(ks_segment_open(dir, segno, 1, &seg, &e), KS_OK);
  return seg;
}

static void term_info(const ks_segment *seg, const char *word, ks_term_info *ti) {
  char key[64];
  size_t kl = ks_term_key(key, KS_FIELD_WORD, word, strlen(word));
  ks_err e;
  assert_int_equal(ks_segment_lookup(seg, key, kl, ti, &e), KS_OK);
}

static uint64_t page(uint64_t off) { return off >> KS_PAGE_SHIFT; }

/* A byte inside a postings block of "common" (many blocks); its page
 * holds no data of w1500 and w1999 (single-block terms elsewhere). */
static void test_postings_block(void **state) {
  (void)state;
  const char *dir = copy();
  ks_segment *seg = open_seg(dir);
  ks_term_info common, other;
  term_info(seg, "common", &common);
  assert_true(common.df == NDOCS);
  uint32_t nblocks = (common.df + 127) / 128;
  uint64_t at = common.doc_offset + 20 * nblocks + 40; /* inside block 0 */
  assert_true(page(at) + 2 < seg->doc.npages); /* not a page read at open */
  const char *others[] = {"w1500", "w1999", "w1000"};
  int elsewhere[3], compared = 0;
  for (size_t i = 0; i < 3; i++) {
    term_info(seg, others[i], &other);
    elsewhere[i] = page(other.doc_offset) > page(at) ||
                   page(other.doc_offset + other.doc_length - 1) < page(at);
    compared += elsewhere[i];
  }
  assert_true(compared > 0);
  ks_segment_close(seg);
  flip(file_of(dir, ".doc"), at, 0x40);
  assert_int_equal(search_rc(dir, "common"), KS_ECORRUPT);
  for (size_t i = 0; i < 3; i++) /* the pristine result (search_rc compares) */
    if (elsewhere[i]) assert_int_equal(search_rc(dir, others[i]), KS_OK);
  expect_check_fails(dir, ".doc");
}

/* A byte of the positions of "common": a phrase with it fails, the same
 * words without the phrase (no positions read) still work. */
static void test_positions(void **state) {
  (void)state;
  const char *dir = copy();
  ks_segment *seg = open_seg(dir);
  ks_term_info common;
  term_info(seg, "common", &common);
  uint64_t at = common.pos_offset + 10;
  assert_true(page(at) + 2 < seg->pos.npages);
  ks_segment_close(seg);
  flip(file_of(dir, ".pos"), at, 0x01);
  assert_int_equal(search_rc(dir, "\"common 대통령은\""), KS_ECORRUPT);
  assert_int_equal(search_rc(dir, "common"), KS_OK);
  expect_check_fails(dir, ".pos");
}

/* A byte inside the compressed block of document 0: its JSON fails, its id
 * and a document stored in another page still work. */
static void test_stored_block(void **state) {
  (void)state;
  const char *dir = copy();
  ks_segment *seg = open_seg(dir);
  const uint8_t *e0 = seg->sto_index;
  uint64_t off0 = ks_load_u64(e0 + 8);
  uint32_t len0 = ks_load_u32(e0 + 16);
  const uint8_t *el = seg->sto_index + (size_t)(seg->sto_nblocks - 1) * KS_STO_INDEX_ENTRY;
  uint64_t offl = ks_load_u64(el + 8);
  assert_true(page(offl) > page(off0 + len0));
  ks_segment_close(seg);
  flip(file_of(dir, ".sto"), off0 + len0 / 2, 0x10);
  ks_index *ix;
  ks_err e;
  assert_int_equal(ks_index_open(dir, &ix, &e), KS_OK);
  char *json = NULL;
  assert_int_equal(ks_index_doc_json(ix, 0, &json, NULL, &e), KS_ECORRUPT);
  assert_null(json);
  assert_non_null(strstr(e.msg, "checksum mismatch"));
  const char *id;
  size_t il;
  assert_int_equal(ks_index_doc_id(ix, 0, &id, &il, &e), KS_OK);
  assert_int_equal(ks_index_doc_json(ix, NDOCS - 1, &json, NULL, &e), KS_OK);
  assert_string_equal(json, base_ops[NQ + 3 * (NDOCS - 1) + 1]);
  ks_mem_free(json);
  ks_index_close(ix);
  expect_check_fails(dir, ".sto");
}

/* The ordinal of `word`'s key in the dictionary. */
static uint64_t ordinal(const ks_segment *seg, const char *word) {
  char key[64];
  size_t kl = ks_term_key(key, KS_FIELD_WORD, word, strlen(word));
  ks_dict_iter it;
  ks_dict_iter_init(&it, seg);
  ks_err e;
  while (ks_dict_iter_next(&it, &e) == KS_OK)
    if (it.keylen == kl && !memcmp(it.key, key, kl)) return it.index - 1;
  fail_msg("no term %s", word);
  return 0;
}

/* A byte inside the dictionary block that holds "w1000". */
static void test_dictionary_block(void **state) {
  (void)state;
  const char *dir = copy();
  ks_segment *seg = open_seg(dir);
  uint64_t b = ordinal(seg, "w1000") / KS_TID_TERMS_PER_BLOCK;
  uint64_t at = ks_load_u64(seg->tid_index + b * KS_TID_INDEX_ENTRY) + 3;
  uint64_t b2 = ordinal(seg, "w1999") / KS_TID_TERMS_PER_BLOCK;
  uint64_t at2 = ks_load_u64(seg->tid_index + b2 * KS_TID_INDEX_ENTRY);
  assert_true(page(at2) > page(at) + 1);
  assert_true(page(at) + 2 < seg->tid.npages);
  ks_segment_close(seg);
  flip(file_of(dir, ".tid"), at, 0x80);
  assert_int_equal(search_rc(dir, "w1000"), KS_ECORRUPT);
  assert_int_equal(search_rc(dir, "w1999"), KS_OK);
  expect_check_fails(dir, ".tid");
}

/* A byte of a document length (document 700: it has "common"). */
static void test_length(void **state) {
  (void)state;
  const char *dir = copy();
  uint64_t at = KS_FILE_HEADER + 8 + 700 * 8 + 1;
  flip(file_of(dir, ".len"), at, 0x02);
  assert_int_equal(search_rc(dir, "common"), KS_ECORRUPT);
  expect_check_fails(dir, ".len");
}

/* Random damage anywhere in every file: never a wrong result; check
 * always finds it; and where every page is read by the operations (.tid:
 * the stats walk the dictionary; .sto: every document, id and id lookup)
 * the damage is found by the open or an operation. */
static void test_random_damage(void **state) {
  (void)state;
  const char *exts[] = {".tid", ".doc", ".pos", ".len", ".sto"};
  for (size_t k = 0; k < sizeof exts / sizeof *exts; k++) {
    for (int trial = 0; trial < 6; trial++) {
      const char *dir = copy();
      const char *path = file_of(dir, exts[k]);
      size_t len;
      char *f = ks_test_read_file(path, &len);
      assert_non_null(f);
      free(f);
      /* header, the page tail, the page table, the last byte, anywhere */
      uint64_t at = trial == 0 ? 13 : trial == 1 ? len - 12 : trial == 2 ? len - 30
                  : trial == 3 ? len - 1 : rnd() % len;
      flip(path, at, (uint8_t)(1 + rnd() % 255));
      int open_rc;
      int bad = compare_all(dir, &open_rc);
      if (bad < 0) assert_true(open_rc == KS_ECORRUPT || open_rc == KS_EVERSION);
      int footer = at >= len - KS_FILE_FOOTER; /* only the whole-file CRC */
      if (!footer && (k == 0 || k == 4)) assert_true(bad != 0);
      ks_err e;
      assert_int_not_equal(ks_index_check(dir, NULL, NULL, &e), KS_OK);
    }
  }
}

static int popcount_bits(const ks_map *m, uint64_t from_word, uint64_t words) {
  int n = 0;
  for (uint64_t w = from_word; w < from_word + words; w++)
    n += __builtin_popcountll(atomic_load(&m->verified[w]));
  return n;
}

/* Opening verifies (so reads) at most two pages of each file and one
 * piece of its page table: the header fields and the trailer. And it does
 * not depend on the other pages: with every one of them damaged it still
 * succeeds, while a whole-file CRC check refuses the file. */
static void test_open_reads_o1(void **state) {
  (void)state;
  const char *dir = copy();
  ks_segment *seg;
  ks_err e;
  assert_int_equal(ks_segment_open(dir, segno, 0, &seg, &e), KS_OK);
  const ks_map *maps[] = {&seg->tid, &seg->doc, &seg->pos, &seg->len, &seg->sto};
  const char *exts[] = {".tid", ".doc", ".pos", ".len", ".sto"};
  uint64_t npages[5];
  for (int i = 0; i < 5; i++) {
    const ks_map *m = maps[i];
    npages[i] = m->npages;
    assert_true(m->npages >= 4 || i == 3); /* the data spans several pages */
    uint64_t w1 = (m->npages + 63) / 64, w2 = (m->ntable + 63) / 64;
    assert_true(popcount_bits(m, 0, w1) <= 2);
    assert_true(popcount_bits(m, w1, w2) <= 1);
  }
  ks_segment_close(seg);
  /* Damage one byte in every page but page 0 (header) and the last two. */
  for (int i = 0; i < 5; i++)
    for (uint64_t p = 1; p + 2 < npages[i]; p++) flip(file_of(dir, exts[i]), p * KS_PAGE_SIZE + 100, 0x5a);
  assert_int_equal(ks_segment_open(dir, segno, 0, &seg, &e), KS_OK);
  ks_segment_close(seg);
  assert_int_equal(ks_segment_open(dir, segno, 1, &seg, &e), KS_ECORRUPT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_reads_o1),
      cmocka_unit_test(test_postings_block),
      cmocka_unit_test(test_positions),
      cmocka_unit_test(test_stored_block),
      cmocka_unit_test(test_dictionary_block),
      cmocka_unit_test(test_length),
      cmocka_unit_test(test_random_damage),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
