/*
 * test_golden_analyzer.c - golden tests of the Korean analyzer (ks_tok.h).
 *
 * For every tests/golden/analyzer/NAME.in (relative to $KS_SOURCE_DIR, or
 * the working directory) the whole file is analyzed once with the default
 * configuration and reason KS_TOK_DOCUMENT, and the output is compared byte
 * for byte with NAME.expected next to it.
 *
 * Output format: one line per emitted term, in emission order, 7 fields
 * separated by one TAB:
 *
 *   pos  word  kind  field  term  start-end  text
 *
 *   pos    position in the term's field (word positions for surface/stem,
 *          the bigram counter for bigrams)
 *   word   word position of the originating word token
 *   kind   surface | stem | bigram
 *   field  word | bigram
 *   term   the term bytes as emitted
 *   start-end  byte span of the originating word in the .in file
 *   text   those input bytes, with \ TAB and newline written as \\ \t \n
 *          (so a wrong span is visible when reviewing)
 *
 * If ks_tok_run fails the single line "error <rc>" is written instead.
 *
 * Set KS_GOLDEN_UPDATE=1 to (re)write the .expected files from the current
 * output instead of comparing; review the diff by eye before committing.
 * Set KS_GOLDEN_ONLY=NAME to run one case. Exit 0 = all cases match.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_buf.h"
#include "ks_test_util.h"
#include "kosearch/tok.h"

typedef struct out_ctx {
  ks_buf out;        /* rendered lines */
  const char *input; /* the .in text (for the span column) */
  int oom;           /* an append failed */
} out_ctx;

static void put(out_ctx *o, const void *p, size_t n) {
  if (ks_buf_append(&o->out, p, n)) o->oom = 1;
}
static void puts_(out_ctx *o, const char *s) { put(o, s, strlen(s)); }

static int on_token(void *ctx, const ks_token *t) {
  out_ctx *o = ctx;
  static const char *kinds[] = {"surface", "stem", "bigram", "counter"};
  static const char *fields[] = {"word", "bigram"};
  char num[96];
  snprintf(num, sizeof num, "%u\t%u\t%s\t%s\t", t->pos, t->word,
           t->kind < 4 ? kinds[t->kind] : "?", t->field < 2 ? fields[t->field] : "?");
  puts_(o, num);
  put(o, t->term, t->len);
  snprintf(num, sizeof num, "\t%zu-%zu\t", t->start, t->end);
  puts_(o, num);
  for (size_t i = t->start; i < t->end; i++) {
    char c = o->input[i];
    if (c == '\\') puts_(o, "\\\\");
    else if (c == '\t') puts_(o, "\\t");
    else if (c == '\n') puts_(o, "\\n");
    else put(o, &c, 1);
  }
  puts_(o, "\n");
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Report the first differing line of got vs want. */
static void show_diff(const char *name, const char *got, size_t gl,
                      const char *want, size_t wl) {
  size_t i = 0, line = 1, ls = 0;
  while (i < gl && i < wl && got[i] == want[i]) {
    if (got[i] == '\n') { line++; ls = i + 1; }
    i++;
  }
  const char *ge = ls < gl ? memchr(got + ls, '\n', gl - ls) : NULL;
  const char *we = ls < wl ? memchr(want + ls, '\n', wl - ls) : NULL;
  int gn = (int)((ge ? (size_t)(ge - got) : gl) - ls);
  int wn = (int)((we ? (size_t)(we - want) : wl) - ls);
  fprintf(stderr, "FAIL %s: first difference at line %zu\n  expected: %.*s\n  actual:   %.*s\n",
          name, line, ls < wl ? wn : 0, ls < wl ? want + ls : "", ls < gl ? gn : 0,
          ls < gl ? got + ls : "");
}

int main(void) {
  const char *src = ks_test_env("KS_SOURCE_DIR", ".");
  const char *only = ks_test_env("KS_GOLDEN_ONLY", NULL);
  int update = ks_test_env("KS_GOLDEN_UPDATE", NULL) != NULL &&
               strcmp(ks_test_env("KS_GOLDEN_UPDATE", "0"), "0") != 0;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/golden/analyzer", src);
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "cannot open %s (set KS_SOURCE_DIR)\n", dir);
    return 1;
  }
  char **names = NULL;
  size_t nnames = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l > 3 && strcmp(de->d_name + l - 3, ".in") == 0) {
      names = realloc(names, (nnames + 1) * sizeof *names);
      names[nnames++] = strndup(de->d_name, l - 3);
    }
  }
  closedir(d);
  qsort(names, nnames, sizeof *names, cmp_names);

  ks_tok *tok = NULL;
  ks_err err;
  if (ks_tok_new(NULL, &tok, &err) != KS_OK) {
    fprintf(stderr, "ks_tok_new: %s\n", err.msg);
    return 1;
  }
  int failed = 0, ran = 0;
  for (size_t i = 0; i < nnames; i++) {
    if (only && strcmp(only, names[i]) != 0) continue;
    char path[4200], epath[4200];
    snprintf(path, sizeof path, "%s/%s.in", dir, names[i]);
    snprintf(epath, sizeof epath, "%s/%s.expected", dir, names[i]);
    size_t len = 0;
    char *text = ks_test_read_file(path, &len);
    if (!text) {
      fprintf(stderr, "FAIL %s: cannot read %s\n", names[i], path);
      failed++;
      continue;
    }
    out_ctx o = {KS_BUF_INIT, text, 0};
    /* NAME.query.in is analyzed as a query, every other file as a document */
    size_t nl = strlen(names[i]);
    int reason = nl > 6 && strcmp(names[i] + nl - 6, ".query") == 0 ? KS_TOK_QUERY
                                                                    : KS_TOK_DOCUMENT;
    int rc = ks_tok_run(tok, reason, text, len, on_token, &o, &err);
    if (rc != KS_OK) {
      o.out.len = 0;
      char line[64];
      snprintf(line, sizeof line, "error %d\n", rc);
      puts_(&o, line);
    }
    if (o.oom) {
      fprintf(stderr, "FAIL %s: out of memory\n", names[i]);
      failed++;
    } else if (update) {
      if (ks_test_write_file(epath, o.out.data, o.out.len)) {
        fprintf(stderr, "FAIL %s: cannot write %s\n", names[i], epath);
        failed++;
      } else {
        printf("updated %s\n", epath);
      }
    } else {
      size_t wl = 0;
      char *want = ks_test_read_file(epath, &wl);
      if (!want) {
        fprintf(stderr, "FAIL %s: missing %s (run with KS_GOLDEN_UPDATE=1, then review it)\n",
                names[i], epath);
        failed++;
      } else if (wl != o.out.len || (wl && memcmp(want, o.out.data, wl) != 0)) {
        show_diff(names[i], o.out.data ? (const char *)o.out.data : "", o.out.len, want, wl);
        failed++;
      } else {
        printf("ok   %s\n", names[i]);
      }
      free(want);
    }
    ran++;
    ks_buf_free(&o.out);
    free(text);
  }
  ks_tok_free(tok);
  for (size_t i = 0; i < nnames; i++) free(names[i]);
  free(names);
  if (ran == 0) {
    fprintf(stderr, "no golden cases found in %s\n", dir);
    return 1;
  }
  printf("%d/%d golden analyzer cases %s\n", ran - failed, ran,
         update ? "written" : "match");
  return failed ? 1 : 0;
}
