/*
 * test_srch_snippet.c - ks_index_results_snippet: the window around the densest
 * cluster of matched words, marks around whole words (surface or stem
 * matches; bigram matches only as a fallback), "…" at cut edges,
 * whitespace collapsed, never a broken UTF-8 character, the stored "text"
 * of caller-supplied JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index_writer.h"
#include "index.h"
#include "ks_test_util.h"
#include "kosearch/tok.h"

static ks_index *ix;
static char *long_text, *nospace_text;

static void add(ks_index_writer *w, const char *id, const char *text, const char *json) {
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  if (json) {
    d.json = json;
    d.json_len = strlen(json);
  }
  ks_err e;
  if (ks_index_writer_add(w, &d, &e) != KS_OK) fail_msg("add %s: %s", id, e.msg);
}

static int setup(void **state) {
  (void)state;
  /* 200 filler words, a cluster of matches in the middle, 200 more; a lone
   * match near the start; whitespace of every kind */
  size_t cap = 64 * 1024, len = 0;
  long_text = malloc(cap);
  nospace_text = malloc(cap);
  if (!long_text || !nospace_text) return -1;
  len += (size_t)snprintf(long_text + len, cap - len, "서론 보스턴 이야기.\n\n");
  for (int i = 0; i < 200; i++)
    len += (size_t)snprintf(long_text + len, cap - len, "%s", i % 7 ? "가나다 " : "라마바\t\n ");
  len += (size_t)snprintf(long_text + len, cap - len,
                          "대통령은 보스턴에서 대통령의 클러스터 구상을 밝혔다. ");
  for (int i = 0; i < 200; i++)
    len += (size_t)snprintf(long_text + len, cap - len, "%s", "사아자 ");
  len = 0;
  for (int i = 0; i < 100; i++) len += (size_t)snprintf(nospace_text + len, cap - len, "가");
  len += (size_t)snprintf(nospace_text + len, cap - len, " 대통령 ");
  for (int i = 0; i < 100; i++) len += (size_t)snprintf(nospace_text + len, cap - len, "나");

  const char *dir = ks_test_tmpdir("srch_snippet");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  if (ks_index_writer_open(dir, &wo, &w, NULL) != KS_OK) {
    print_message("cannot open a writer in %s\n", dir);
    return -1;
  }
  add(w, "long", long_text, NULL);                                    /* 0 */
  add(w, "short", "대통령은   짧은\n문서", NULL);                      /* 1 */
  add(w, "compound", "정부는 첨단산업 육성을 발표했다", NULL);         /* 2 */
  add(w, "json", "보스턴의 대학",                                       /* 3 */
      "{\"id\":\"json\",\"url\":\"http://x\",\"text\":\"보스턴의 대학\"}");
  add(w, "nospace", nospace_text, NULL);                              /* 4 */
  ks_err e;
  if (ks_index_writer_commit(w, &e) != KS_OK) {
    print_message("commit: %s\n", e.msg);
    return -1;
  }
  ks_index_writer_close(w);
  if (ks_index_open(dir, &ix, &e) != KS_OK) {
    print_message("open: %s\n", e.msg);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ks_index_close(ix);
  free(long_text);
  free(nospace_text);
  return 0;
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Snippet of the hit whose internal number is `doc`. */
static char *snippet_of(const char *q, uint64_t doc, size_t max_chars,
                        const char *mo, const char *mc) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 100;
  ks_index_results *r = NULL;
  assert_int_equal(ks_index_search(ix, q, SIZE_MAX, &o, &r, NULL), KS_OK);
  char *s = NULL;
  for (size_t i = 0; i < ks_index_results_count(r); i++) {
    ks_index_hit h;
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    if (h.doc != doc) continue;
    ks_err e;
    if (ks_index_results_snippet(ix, r, i, max_chars, mo, mc, &s, &e) != KS_OK)
      fail_msg("snippet: %s", e.msg);
  }
  ks_index_results_free(r);
  if (!s) fail_msg("%s: document %llu is not a hit", q, (unsigned long long)doc);
  assert_true(ks_utf8_valid(s, strlen(s), NULL));
  return s;
}

static void test_window_on_densest_cluster(void **state) {
  (void)state;
  char *s = snippet_of("대통령 보스턴", 0, 60, "<b>", "</b>");
  /* the cluster in the middle wins over the lone 보스턴 at the start */
  assert_non_null(strstr(s, "<b>대통령은</b> <b>보스턴에서</b> <b>대통령의</b>"));
  assert_true(strncmp(s, "…", 3) == 0);
  assert_true(strlen(s) > 3 && strcmp(s + strlen(s) - 3, "…") == 0);
  assert_null(strchr(s, '\n'));
  assert_null(strchr(s, '\t'));
  assert_null(strstr(s, "  "));
  /* about max_chars characters besides the marks and ellipses */
  size_t marks = 3 * (3 + 4);
  assert_true(utf8_chars(s) <= 60 + marks + 2);
  assert_true(utf8_chars(s) >= 30);
  ks_mem_free(s);
}

static void test_short_text_whole_and_collapsed(void **state) {
  (void)state;
  char *s = snippet_of("대통령", 1, 200, "[", "]");
  assert_string_equal(s, "[대통령은] 짧은 문서");
  ks_mem_free(s);
  /* max_chars = 0: whole text; NULL marks: nothing inserted */
  s = snippet_of("대통령", 1, 0, NULL, NULL);
  assert_string_equal(s, "대통령은 짧은 문서");
  ks_mem_free(s);
}

static void test_bigram_fallback_marks_compound(void **state) {
  (void)state;
  char *s = snippet_of("산업", 2, 100, "[", "]");
  assert_string_equal(s, "정부는 [첨단산업] 육성을 발표했다");
  ks_mem_free(s);
}

static void test_stored_json_text_field(void **state) {
  (void)state;
  char *s = snippet_of("대학", 3, 100, "[", "]");
  assert_string_equal(s, "보스턴의 [대학]");
  ks_mem_free(s);
  char *json = NULL;
  size_t len;
  assert_int_equal(ks_index_doc_json(ix, 3, &json, &len, NULL), KS_OK);
  assert_non_null(strstr(json, "\"url\""));
  ks_mem_free(json);
}

static void test_cut_without_spaces_keeps_utf8(void **state) {
  (void)state;
  for (size_t max = 1; max < 40; max += 3) {
    char *s = snippet_of("대통령", 4, max, "[", "]");
    assert_non_null(strstr(s, "[대통령]"));
    assert_true(strncmp(s, "…", 3) == 0);
    ks_mem_free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_window_on_densest_cluster),
      cmocka_unit_test(test_short_text_whole_and_collapsed),
      cmocka_unit_test(test_bigram_fallback_marks_compound),
      cmocka_unit_test(test_stored_json_text_field),
      cmocka_unit_test(test_cut_without_spaces_keeps_utf8),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
