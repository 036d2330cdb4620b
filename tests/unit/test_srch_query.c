/*
 * test_srch_query.c - the query language (docs/query.md): clause syntax
 * (ks_query_scan), analysis into terms (ks_query_parse) and the readings
 * that must hold end to end through ks_search: lenient unclosed quote,
 * "K-바이오" is not an exclusion, invalid UTF-8 is KS_EQUERY, queries with
 * only excluded clauses or nothing indexable give zero hits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "index_writer.h"
#include "index.h"
#include "ks_test_util.h"
#include "query_int.h"

/* ---- syntax ---------------------------------------------------------------- */

typedef struct want_span {
  int op, phrase;
  const char *body;
} want_span;

static void check_scan(const char *q, const want_span *want, size_t nwant) {
  ks_qspan sp[16];
  size_t n = 99;
  ks_err e;
  int rc = ks_query_scan(q, strlen(q), sp, 16, &n, &e);
  if (rc != KS_OK) fail_msg("scan [%s]: rc %d %s", q, rc, e.msg);
  if (n != nwant) fail_msg("scan [%s]: %zu clauses, want %zu", q, n, nwant);
  for (size_t i = 0; i < n; i++) {
    size_t bl = sp[i].end - sp[i].start;
    if (sp[i].op != want[i].op || sp[i].phrase != want[i].phrase ||
        bl != strlen(want[i].body) || memcmp(q + sp[i].start, want[i].body, bl))
      fail_msg("scan [%s] clause %zu: op %d phrase %d body [%.*s], want op %d "
               "phrase %d body [%s]",
               q, i, sp[i].op, sp[i].phrase, (int)bl, q + sp[i].start,
               want[i].op, want[i].phrase, want[i].body);
  }
}

static void test_scan_clause_kinds(void **state) {
  (void)state;
  const want_span w[] = {
      {KS_OP_OPTIONAL, 0, "대통령"},     {KS_OP_REQUIRED, 0, "보스턴"},
      {KS_OP_EXCLUDED, 0, "클러스터"},   {KS_OP_OPTIONAL, 1, "첨단 산업"},
      {KS_OP_REQUIRED, 1, "한미 양국"}, {KS_OP_EXCLUDED, 1, "a b"}};
  check_scan("대통령 +보스턴  -클러스터\t\"첨단 산업\" +\"한미 양국\" -\"a b\"", w, 6);
}

static void test_scan_unclosed_quote(void **state) {
  (void)state;
  const want_span w[] = {{KS_OP_OPTIONAL, 0, "대통령"},
                         {KS_OP_REQUIRED, 1, "첨단 산업 "}};
  check_scan("대통령 +\"첨단 산업 ", w, 2);
  const want_span w2[] = {{KS_OP_OPTIONAL, 1, ""}};
  check_scan("\"", w2, 1);
}

static void test_scan_operator_only_at_clause_start(void **state) {
  (void)state;
  const want_span w[] = {{KS_OP_OPTIONAL, 0, "K-바이오"},
                         {KS_OP_OPTIONAL, 0, "윈-윈"},
                         {KS_OP_OPTIONAL, 0, "C++"},
                         {KS_OP_REQUIRED, 0, "-x"}};
  check_scan("K-바이오 윈-윈 C++ +-x", w, 4);
}

static void test_scan_quote_splits_words(void **state) {
  (void)state;
  const want_span w[] = {{KS_OP_OPTIONAL, 1, "서양"},
                         {KS_OP_OPTIONAL, 0, "이라는"},
                         {KS_OP_OPTIONAL, 0, "a"},
                         {KS_OP_OPTIONAL, 1, "b c"}};
  check_scan("\"서양\"이라는 a\"b c\"", w, 4);
}

static void test_scan_unicode_spaces(void **state) {
  (void)state;
  /* U+3000 ideographic space and U+00A0 separate clauses */
  const want_span w[] = {{KS_OP_OPTIONAL, 0, "대통령"},
                         {KS_OP_EXCLUDED, 0, "보스턴"},
                         {KS_OP_OPTIONAL, 0, "산업"}};
  check_scan("대통령\xE3\x80\x80-보스턴\xC2\xA0산업", w, 3);
  check_scan("   \t\n ", NULL, 0);
}

static void test_scan_dangling_operator(void **state) {
  (void)state;
  static const char *bad[] = {"+", "-", "a + b", "word -", "+\"\"",
                              "-\"  \"", "a +\t"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ks_err e;
    size_t n;
    int rc = ks_query_scan(bad[i], strlen(bad[i]), NULL, 0, &n, &e);
    if (rc != KS_EQUERY) fail_msg("[%s]: rc %d, want KS_EQUERY", bad[i], rc);
    assert_non_null(strstr(e.msg, "[srch][query]"));
    assert_non_null(strstr(e.msg, "byte"));
  }
}

/* ---- analysis ---------------------------------------------------------------- */

static ks_tok *new_tok(void) {
  ks_tok *tok = NULL;
  ks_err e;
  if (ks_tok_new(NULL, &tok, &e) != KS_OK) fail_msg("ks_tok_new: %s", e.msg);
  return tok;
}

static const char *term_str(const ks_query *q, uint32_t t, char *buf) {
  memcpy(buf, q->strings.data + q->terms[t].off, q->terms[t].len);
  buf[q->terms[t].len] = 0;
  return buf;
}

static int clause_has(const ks_query *q, const ks_qclause *cl, int field,
                      const char *term) {
  char buf[KS_TOK_MAX_TERM + 1];
  for (uint32_t r = cl->ref0; r < cl->ref0 + cl->nrefs; r++) {
    uint32_t t = q->refs[r].term;
    if (q->terms[t].field == field && strcmp(term_str(q, t, buf), term) == 0)
      return 1;
  }
  return 0;
}

static void test_parse_word_clause_terms(void **state) {
  (void)state;
  ks_tok *tok = new_tok();
  ks_query q;
  ks_err e;
  const char *s = "대통령은 K-바이오 28일(현지시간)";
  assert_int_equal(ks_query_parse(tok, s, strlen(s), &q, &e), KS_OK);
  assert_int_equal(q.nclauses, 3);
  assert_int_equal(q.noptional, 3);
  /* surface, stem and bigrams of one word are one clause */
  assert_true(clause_has(&q, &q.clauses[0], KS_FIELD_WORD, "대통령은"));
  assert_true(clause_has(&q, &q.clauses[0], KS_FIELD_WORD, "대통령"));
  assert_true(clause_has(&q, &q.clauses[0], KS_FIELD_BIGRAM, "대통"));
  /* K-바이오: one optional clause, both parts inside it */
  assert_true(clause_has(&q, &q.clauses[1], KS_FIELD_WORD, "k"));
  assert_true(clause_has(&q, &q.clauses[1], KS_FIELD_WORD, "바이오"));
  assert_int_equal(q.clauses[1].op, KS_OP_OPTIONAL);
  /* several word tokens from one clause */
  assert_true(clause_has(&q, &q.clauses[2], KS_FIELD_WORD, "현지시간"));
  assert_int_equal(q.nexcluded, 0);
  ks_query_free(&q);
  ks_tok_free(tok);
}

static void test_parse_phrase_base_terms(void **state) {
  (void)state;
  ks_tok *tok = new_tok();
  ks_query q;
  ks_err e;
  char buf[KS_TOK_MAX_TERM + 1];
  const char *s = "-\"대통령은 보스턴에서 클러스터\" 대통령";
  assert_int_equal(ks_query_parse(tok, s, strlen(s), &q, &e), KS_OK);
  assert_int_equal(q.nclauses, 2);
  const ks_qclause *ph = &q.clauses[0];
  assert_int_equal(ph->op, KS_OP_EXCLUDED);
  assert_int_equal(ph->phrase, 1);
  assert_int_equal(ph->npos, 3);
  /* base term = stem when there is one; bigrams are not part of phrases */
  assert_string_equal(term_str(&q, q.positions[ph->pos0].term, buf), "대통령");
  assert_string_equal(term_str(&q, q.positions[ph->pos0 + 1].term, buf), "보스턴");
  assert_string_equal(term_str(&q, q.positions[ph->pos0 + 2].term, buf), "클러스터");
  for (uint32_t i = 0; i < 3; i++) assert_int_equal(q.positions[ph->pos0 + i].offset, i);
  assert_int_equal(ph->nrefs, 3);
  for (uint32_t r = ph->ref0; r < ph->ref0 + ph->nrefs; r++)
    assert_int_equal(q.terms[q.refs[r].term].field, KS_FIELD_WORD);
  /* 대통령 is shared with the optional clause, so it drives; 보스턴 is only
   * excluded, so it is only checked */
  for (uint32_t t = 0; t < q.nterms; t++) {
    const char *ts = term_str(&q, t, buf);
    if (q.terms[t].field == KS_FIELD_WORD && !strcmp(ts, "대통령"))
      assert_int_equal(q.terms[t].drives, 1);
    if (q.terms[t].field == KS_FIELD_WORD && !strcmp(ts, "보스턴"))
      assert_int_equal(q.terms[t].drives, 0);
  }
  ks_query_free(&q);
  ks_tok_free(tok);
}

static void test_parse_repeated_term_qtf(void **state) {
  (void)state;
  ks_tok *tok = new_tok();
  ks_query q;
  const char *s = "\"회의 회의\"";
  assert_int_equal(ks_query_parse(tok, s, strlen(s), &q, NULL), KS_OK);
  assert_int_equal(q.nclauses, 1);
  assert_int_equal(q.clauses[0].npos, 2);
  assert_int_equal(q.clauses[0].nrefs, 1);
  assert_int_equal(q.refs[q.clauses[0].ref0].qtf, 2);
  ks_query_free(&q);
  ks_tok_free(tok);
}

static void test_parse_nothing_indexable(void **state) {
  (void)state;
  ks_tok *tok = new_tok();
  ks_query q;
  const char *s = "!!! +... \"\" -?";
  assert_int_equal(ks_query_parse(tok, s, strlen(s), &q, NULL), KS_OK);
  assert_int_equal(q.nclauses, 0);
  ks_query_free(&q);
  ks_tok_free(tok);
}

static void test_parse_invalid_utf8(void **state) {
  (void)state;
  ks_tok *tok = new_tok();
  ks_query q;
  ks_err e;
  const char s[] = "대통령 \xED\xA0\x80 보스턴"; /* a UTF-16 surrogate */
  assert_int_equal(ks_query_parse(tok, s, sizeof s - 1, &q, &e), KS_EQUERY);
  assert_non_null(strstr(e.msg, "invalid UTF-8 at byte 10"));
  ks_query_free(&q);
  const char nul[] = "a\0b";
  assert_int_equal(ks_query_parse(tok, nul, 3, &q, &e), KS_EQUERY);
  assert_non_null(strstr(e.msg, "NUL"));
  ks_query_free(&q);
  ks_tok_free(tok);
}

/* ---- end to end ------------------------------------------------------------ */

static ks_index *ix;

static const char *docs[][2] = {
    {"a", "대통령은 보스턴에서 첨단 산업 클러스터를 논의했다"},
    {"b", "K-바이오 기업들이 보스턴 클러스터에 진출했다"},
    {"c", "서울 바이오 허브에서 회의가 열렸다"},
    {"d", "첨단산업 육성 전략"},
    {"e", "마스터 보스턴 마라톤"},
};

static int setup(void **state) {
  (void)state;
  const char *dir = ks_test_tmpdir("srch_query");
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = 0;
  ks_index_writer *w = NULL;
  if (ks_index_writer_open(dir, &wo, &w, NULL) != KS_OK) return -1;
  for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
    ks_doc d = {.id = docs[i][0], .id_len = strlen(docs[i][0]),
                .text = docs[i][1], .text_len = strlen(docs[i][1])};
    if (ks_index_writer_add(w, &d, NULL) != KS_OK) return -1;
  }
  if (ks_index_writer_commit(w, NULL) != KS_OK) return -1;
  ks_index_writer_close(w);
  return ks_index_open(dir, &ix, NULL) == KS_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  ks_index_close(ix);
  return 0;
}

/* Run a query; returns the ids of all hits as a string "a,b,...". */
static int run(const char *q, char *ids, size_t cap, ks_err *e) {
  ks_search_opts o;
  ks_search_opts_default(&o);
  o.k = 100;
  ks_index_results *r = NULL;
  int rc = ks_index_search(ix, q, SIZE_MAX, &o, &r, e);
  ids[0] = 0;
  if (rc != KS_OK) return rc;
  size_t len = 0;
  for (size_t i = 0; i < ks_index_results_count(r); i++) {
    ks_index_hit h;
    const char *id;
    size_t n;
    assert_int_equal(ks_index_results_hit(r, i, &h), KS_OK);
    assert_int_equal(ks_index_doc_id(ix, h.doc, &id, &n, NULL), KS_OK);
    len += (size_t)snprintf(ids + len, cap - len, "%s%.*s", i ? "," : "", (int)n, id);
  }
  assert_int_equal(ks_index_results_matches(r), ks_index_results_count(r));
  ks_index_results_free(r);
  return KS_OK;
}

/* Same hits as a set (order aside). */
static int has_id(const char *ids, char id) {
  for (const char *p = ids; *p; p++)
    if (*p == id && (p == ids || p[-1] == ',') && (p[1] == ',' || !p[1])) return 1;
  return 0;
}

static void test_search_basic_operators(void **state) {
  (void)state;
  char ids[256];
  assert_int_equal(run("보스턴", ids, sizeof ids, NULL), KS_OK);
  assert_true(has_id(ids, 'a') && has_id(ids, 'b') && !has_id(ids, 'c'));
  assert_int_equal(run("보스턴 -바이오", ids, sizeof ids, NULL), KS_OK);
  assert_true(has_id(ids, 'a') && has_id(ids, 'e') && strlen(ids) == 3);
  assert_int_equal(run("+바이오 +서울", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "c");
  /* phrases check positions: "첨단 산업" is two words only in a */
  assert_int_equal(run("\"첨단 산업\"", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "a");
  /* phrases of base terms (stems): b has "보스턴 클러스터에", a does not
   * have 보스턴 and 클러스터 adjacent */
  assert_int_equal(run("\"보스턴에서 클러스터를\"", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "b");
  assert_int_equal(run("\"보스턴의 클러스터\"", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "b");
  assert_int_equal(run("\"대통령은 첨단\"", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "");
  /* a word finds compounds through bigrams: 산업 -> 첨단산업 */
  assert_int_equal(run("산업", ids, sizeof ids, NULL), KS_OK);
  assert_true(has_id(ids, 'a') && has_id(ids, 'd'));
}

static void test_search_exclusion_word_vs_phrase(void **state) {
  (void)state;
  char ids[256];
  /* an excluded word acts on the word, not on a shared bigram: 마스터
   * shares only 스터 with 클러스터, so e stays (test_srch_strict) */
  assert_int_equal(run("보스턴 -클러스터", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "e");
  /* a one-word phrase is satisfied by its base term only */
  assert_int_equal(run("보스턴 -\"클러스터\"", ids, sizeof ids, NULL), KS_OK);
  assert_string_equal(ids, "e");
  assert_int_equal(run("+\"클러스터\"", ids, sizeof ids, NULL), KS_OK);
  assert_true(has_id(ids, 'a') && has_id(ids, 'b') && strlen(ids) == 3);
}

static void test_search_hyphen_is_not_exclusion(void **state) {
  (void)state;
  char ids[256];
  assert_int_equal(run("K-바이오", ids, sizeof ids, NULL), KS_OK);
  /* both documents with 바이오 match; none is excluded */
  assert_true(has_id(ids, 'b') && has_id(ids, 'c'));
  assert_string_equal(ids, "b,c"); /* b also has k: ranks first */
}

static void test_search_unclosed_quote_is_closed_at_end(void **state) {
  (void)state;
  char a[256], b[256];
  assert_int_equal(run("대통령 \"첨단 산업", a, sizeof a, NULL), KS_OK);
  assert_int_equal(run("대통령 \"첨단 산업\"", b, sizeof b, NULL), KS_OK);
  assert_string_equal(a, b);
  assert_string_equal(a, "a");
}

static void test_search_zero_hit_readings(void **state) {
  (void)state;
  char ids[256];
  ks_err e;
  /* only excluded clauses: nothing to rank, zero hits (documented) */
  assert_int_equal(run("-보스턴", ids, sizeof ids, &e), KS_OK);
  assert_string_equal(ids, "");
  assert_int_equal(run("-보스턴 -\"첨단 산업\"", ids, sizeof ids, &e), KS_OK);
  assert_string_equal(ids, "");
  /* nothing indexable */
  assert_int_equal(run("!!! ... ?", ids, sizeof ids, &e), KS_OK);
  assert_string_equal(ids, "");
  assert_int_equal(run("", ids, sizeof ids, &e), KS_OK);
  assert_string_equal(ids, "");
  /* a required clause without indexable terms is dropped */
  assert_int_equal(run("+!!! 서울", ids, sizeof ids, &e), KS_OK);
  assert_string_equal(ids, "c");
  /* unknown word: zero hits */
  assert_int_equal(run("없는낱말", ids, sizeof ids, &e), KS_OK);
  assert_string_equal(ids, "");
}

static void test_search_errors(void **state) {
  (void)state;
  char ids[256];
  ks_err e;
  assert_int_equal(run("대통령 \xff", ids, sizeof ids, &e), KS_EQUERY);
  assert_non_null(strstr(e.msg, "invalid UTF-8"));
  assert_int_equal(run("대통령 +", ids, sizeof ids, &e), KS_EQUERY);
  assert_non_null(strstr(e.msg, "'+'"));
  assert_int_equal(run("- 대통령", ids, sizeof ids, &e), KS_EQUERY);
  /* more distinct terms than KS_QUERY_MAX_TERMS */
  char big[16384];
  size_t len = 0;
  for (int i = 0; i < 1100; i++)
    len += (size_t)snprintf(big + len, sizeof big - len, "%d ", 100000 + i);
  assert_int_equal(run(big, ids, sizeof ids, &e), KS_EQUERY);
  assert_non_null(strstr(e.msg, "too long"));
  /* just under the limit is fine */
  len = 0;
  for (int i = 0; i < 1000; i++)
    len += (size_t)snprintf(big + len, sizeof big - len, "%d ", 100000 + i);
  assert_int_equal(run(big, ids, sizeof ids, &e), KS_OK);
}

int main(void) {
  const struct CMUnitTest syntax[] = {
      cmocka_unit_test(test_scan_clause_kinds),
      cmocka_unit_test(test_scan_unclosed_quote),
      cmocka_unit_test(test_scan_operator_only_at_clause_start),
      cmocka_unit_test(test_scan_quote_splits_words),
      cmocka_unit_test(test_scan_unicode_spaces),
      cmocka_unit_test(test_scan_dangling_operator),
      cmocka_unit_test(test_parse_word_clause_terms),
      cmocka_unit_test(test_parse_phrase_base_terms),
      cmocka_unit_test(test_parse_repeated_term_qtf),
      cmocka_unit_test(test_parse_nothing_indexable),
      cmocka_unit_test(test_parse_invalid_utf8),
  };
  const struct CMUnitTest search[] = {
      cmocka_unit_test(test_search_basic_operators),
      cmocka_unit_test(test_search_exclusion_word_vs_phrase),
      cmocka_unit_test(test_search_hyphen_is_not_exclusion),
      cmocka_unit_test(test_search_unclosed_quote_is_closed_at_end),
      cmocka_unit_test(test_search_zero_hit_readings),
      cmocka_unit_test(test_search_errors),
  };
  int failed = cmocka_run_group_tests(syntax, NULL, NULL);
  failed += cmocka_run_group_tests(search, setup, teardown);
  return failed ? 1 : 0;
}
