/*
 * search_example.c - the smallest complete program on kosearch's public API:
 * index a few Korean documents, commit, open the index, search, print hits.
 *
 * Build it against an installed kosearch (docs/install.md):
 *
 *   cc search_example.c $(pkg-config --cflags --libs kosearch) -o search_example
 *
 * or with CMake: examples/CMakeLists.txt (find_package(kosearch)).
 *
 * Run:
 *   ./search_example /tmp/example.idx 대한민국
 *
 * prints one line per hit, best first: rank, id, score and a snippet with
 * the matched words in [brackets]. The index directory is created if
 * missing; an index already there is replaced (a writer's commit replaces
 * the whole index). Exit status: 0 success (even with no hits), 1 error,
 * 2 usage.
 *
 * Only <kosearch.h> is included: the stable API (the headers in
 * include/kosearch/).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <kosearch.h>

/* The documents indexed: ids and texts. Titles are optional. */
static const struct {
  const char *id;
  const char *title;
  const char *text;
} docs[] = {
    {"seoul", "서울", "서울은 대한민국의 수도이며 한강이 도시 한가운데를 흐른다."},
    {"busan", "부산", "부산은 대한민국 제2의 도시이자 가장 큰 항구 도시이다."},
    {"hangul", "한글", "한글은 세종대왕이 1443년에 만들고 1446년에 반포한 문자이다."},
    {"kimchi", "김치", "김치는 배추와 무를 소금에 절여 양념한 한국의 전통 음식이다."},
    {"jeju", "제주도", "제주도는 대한민국에서 가장 큰 섬이며 한라산이 있다."},
};

/* Print a failed call's code and detail message; returns 1 (exit status). */
static int fail(const char *what, int rc, const ks_err *err) {
  fprintf(stderr, "search_example: %s failed: %s (rc %d): %s\n", what, ks_strerror(rc), rc,
          err->msg);
  return 1;
}

/* Build the index in `dir`: open a writer, add every document, commit. */
static int build_index(const char *dir) {
  ks_err err;
  ks_writer_opts opts;
  ks_writer_opts_default(&opts); /* native backend, default analyzer */
  ks_writer *w = NULL;
  int rc = ks_writer_open(dir, &opts, &w, &err);
  if (rc != KS_OK) return fail("ks_writer_open", rc, &err);
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    ks_doc d = {0}; /* json = NULL: the writer stores {"id","title","text"} */
    d.id = docs[i].id;
    d.id_len = strlen(docs[i].id);
    d.title = docs[i].title;
    d.title_len = strlen(docs[i].title);
    d.text = docs[i].text;
    d.text_len = strlen(docs[i].text);
    rc = ks_writer_add(w, &d, &err);
    if (rc != KS_OK) {
      ks_writer_close(w); /* discards everything added */
      return fail("ks_writer_add", rc, &err);
    }
  }
  rc = ks_writer_commit(w, &err);
  ks_writer_close(w);
  if (rc != KS_OK) return fail("ks_writer_commit", rc, &err);
  return 0;
}

/* Open the index in `dir`, run `query` and print the hits. */
static int search(const char *dir, const char *query) {
  ks_err err;
  ks_db *db = NULL;
  int rc = ks_db_open(dir, &db, &err);
  if (rc != KS_OK) return fail("ks_db_open", rc, &err);

  ks_search_opts opts;
  ks_search_opts_default(&opts);
  opts.k = 10;
  ks_results *res = NULL;
  rc = ks_db_search(db, query, SIZE_MAX, &opts, &res, &err);
  if (rc != KS_OK) {
    ks_db_close(db);
    return fail("ks_db_search", rc, &err);
  }

  int status = 0;
  printf("%llu matching documents for \"%s\"\n", (unsigned long long)ks_results_matches(res),
         query);
  for (size_t i = 0; i < ks_results_count(res); i++) {
    ks_hit hit;
    rc = ks_results_hit(res, i, &hit);
    if (rc != KS_OK) {
      fprintf(stderr, "search_example: ks_results_hit failed: %s\n", ks_strerror(rc));
      status = 1;
      break;
    }
    char *snippet = NULL; /* ours: freed with ks_mem_free */
    rc = ks_results_snippet(res, i, 40, "[", "]", &snippet, &err);
    if (rc != KS_OK) {
      status = fail("ks_results_snippet", rc, &err);
      break;
    }
    /* hit.id is not NUL-terminated: print exactly id_len bytes. */
    printf("%llu\t%.*s\t%.4f\t%s\n", (unsigned long long)hit.rank, (int)hit.id_len, hit.id,
           hit.score, snippet);
    ks_mem_free(snippet);
  }
  ks_results_free(res); /* before ks_db_close */
  ks_db_close(db);
  return status;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s INDEX_DIR QUERY\n", argv[0]);
    return 2;
  }
  if (strcmp(ks_version(), KS_VERSION_STRING) != 0)
    fprintf(stderr, "search_example: warning: headers %s, library %s\n", KS_VERSION_STRING,
            ks_version());
  int status = build_index(argv[1]);
  if (status == 0) status = search(argv[1], argv[2]);
  return status;
}
