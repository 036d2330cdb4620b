/*
 * cmd_analyze.c - `kosearch analyze`: show the terms the analyzer produces
 * for a text (as a document or as a query), one per line or as JSON. This
 * is how a user finds out why a word does or does not match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

static const char analyze_help[] =
    "Usage: kosearch analyze [--query] [--json] TEXT...\n"
    "       kosearch analyze [--query] [--json] -   (text from stdin)\n"
    "\n"
    "Run the Korean analyzer on TEXT (the arguments joined by spaces) and print\n"
    "every term it emits, in order: word-field position, kind (surface, stem,\n"
    "bigram, counter), field (word, bigram), the term, and the original word it came\n"
    "from. Documents and queries go through the same analyzer; --query shows\n"
    "the query-side reading (question words such as 무엇/누구 dropped, see\n"
    "docs/analyzer.md).\n"
    "\n"
    "Options come before TEXT: the first argument that is not an option, or\n"
    "everything after '--', is text (so `analyze 사과 -배` analyzes \"사과 -배\").\n"
    "\n"
    "Options:\n"
    "  --query     analyze as a query instead of a document\n"
    "  --json      one JSON object per term: {\"pos\",\"word\",\"kind\",\n"
    "              \"field\",\"term\",\"source\",\"start\",\"end\"}\n"
    "  -h, --help  show this help\n"
    "\n"
    "Example:\n"
    "  kosearch analyze '대통령은 첨단산업 클러스터를 방문했다'\n";

typedef struct analyze_ctx {
  const char *text;
  int json;
} analyze_ctx;

static const char *kind_name(uint8_t k) {
  return k == KS_KIND_SURFACE ? "surface"
         : k == KS_KIND_STEM  ? "stem"
         : k == KS_KIND_COUNTER ? "counter"
                               : "bigram";
}

static int print_token(void *ctx, const ks_token *t) {
  const analyze_ctx *a = ctx;
  const char *field = t->field == KS_FIELD_WORD ? "word" : "bigram";
  if (!a->json) {
    printf("%u\t%s\t%s\t%.*s\t%.*s\n", t->word, kind_name(t->kind), field, (int)t->len,
           t->term, (int)(t->end - t->start), a->text + t->start);
    return 0;
  }
  cJSON *o = cJSON_CreateObject();
  char *term = malloc(t->len + 1), *src = malloc(t->end - t->start + 1);
  if (!o || !term || !src) {
    cJSON_Delete(o);
    free(term);
    free(src);
    return KS_ENOMEM;
  }
  memcpy(term, t->term, t->len);
  term[t->len] = 0;
  memcpy(src, a->text + t->start, t->end - t->start);
  src[t->end - t->start] = 0;
  cJSON_AddNumberToObject(o, "pos", t->pos);
  cJSON_AddNumberToObject(o, "word", t->word);
  cJSON_AddStringToObject(o, "kind", kind_name(t->kind));
  cJSON_AddStringToObject(o, "field", field);
  cJSON_AddStringToObject(o, "term", term);
  cJSON_AddStringToObject(o, "source", src);
  cJSON_AddNumberToObject(o, "start", (double)t->start);
  cJSON_AddNumberToObject(o, "end", (double)t->end);
  char *s = cJSON_PrintUnformatted(o);
  if (s) puts(s);
  free(s);
  free(term);
  free(src);
  cJSON_Delete(o);
  return 0;
}

/* Append argv words (or stdin) into a malloc'd buffer. NULL on OOM. */
static char *gather_text(int argc, char **argv, int first, int from_stdin, size_t *len) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  if (from_stdin) {
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, stdin)) > 0) {
      n += r;
      if (n == cap) {
        char *nb = realloc(buf, cap *= 2);
        if (!nb) {
          free(buf);
          return NULL;
        }
        buf = nb;
      }
    }
  } else {
    for (int i = first; i < argc; i++) {
      size_t l = strlen(argv[i]);
      if (n + l + 2 > cap) {
        while (n + l + 2 > cap) cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) {
          free(buf);
          return NULL;
        }
        buf = nb;
      }
      if (i > first) buf[n++] = ' ';
      memcpy(buf + n, argv[i], l);
      n += l;
    }
  }
  *len = n;
  return buf;
}

enum { OPT_QUERY = 1000, OPT_JSON };

static const struct option analyze_options[] = {{"query", no_argument, NULL, OPT_QUERY},
                                                {"json", no_argument, NULL, OPT_JSON},
                                                {"help", no_argument, NULL, 'h'},
                                                {NULL, 0, NULL, 0}};

static int run_analyze(int argc, char **argv) {
  const char *cmd = "analyze";
  int json = 0, query = 0, c;
  /* "+": options stop at the first word of TEXT, which may start with '-' */
  optind = 0;
  while ((c = cli_getopt(argc, argv, "+:h", analyze_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_analyze);
      return CLI_OK;
    case OPT_QUERY:
      query = 1;
      break;
    case OPT_JSON:
      json = 1;
      break;
    default:
      return CLI_USAGE;
    }
  }
  int first = optind;
  if (first >= argc) return cli_usage(cmd, "missing TEXT");
  int from_stdin = first == argc - 1 && strcmp(argv[first], "-") == 0;
  size_t len = 0;
  char *text = gather_text(argc, argv, first, from_stdin, &len);
  if (!text) return cli_error("out of memory");
  ks_err e;
  ks_err_clear(&e);
  ks_tok *tok = NULL;
  int rc = ks_tok_new(NULL, &tok, &e);
  analyze_ctx a = {text, json};
  if (!rc) rc = ks_tok_run(tok, query ? KS_TOK_QUERY : KS_TOK_DOCUMENT, text, len, print_token, &a, &e);
  ks_tok_free(tok);
  free(text);
  if (rc == KS_ENOMEM && !e.msg[0]) return cli_error("out of memory");
  if (rc) return cli_error("%s", cli_strip_tags(e.msg));
  return CLI_OK;
}

const cli_command cli_cmd_analyze = {"analyze", "show the terms the analyzer makes of a text",
                                     analyze_help, run_analyze};
