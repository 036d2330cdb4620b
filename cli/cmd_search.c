/*
 * cmd_search.c - `kosearch search`: run one query (text or JSON output) or
 * a batch of queries from a TSV file into a TREC run file.
 *
 * Output of a single query (docs in README.md, "Searching"):
 *   text  "RANK. [SCORE] ID  TITLE" then an indented snippet; matched words
 *         are bold (ANSI) when stdout is a terminal and NO_COLOR is unset,
 *         else wrapped in « »; a last line gives the number of matches
 *         ("at least N" when the pruning algorithm made it a lower bound).
 *   JSON  one object per hit and line: {"rank","id","score","title",
 *         "snippet"}, matched words wrapped in « » in "snippet".
 * Batch (--queries): TREC lines "qid Q0 docid rank score kosearch". A
 * docid containing whitespace or control bytes is written with those bytes
 * and '%' percent-encoded (%20, %09, %25...); other ids are written as is.
 * The run file is written to OUT.tmp and renamed when complete. Batch with
 * --json: one object per hit and line {"qid","rank","id","score"} with the
 * full-precision score (for cross-checking backends).
 *
 * Backends: INDEX is a native index or a Xapian database / sharded layout
 * (detected by cli_xap_detect); or --shard SPEC (repeatable) names Xapian
 * shards (local paths or tcp://HOST:PORT) and then no INDEX is given. Both go
 * through cli_backend (cli_util.h), so every output mode works on both.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"
#include "index.h"
#include "index_writer.h"
#include "xap_backend.h"

#define SNIPPET_CHARS_DEFAULT 160
#define TITLE_SHOW_BYTES 120

static const char search_help[] =
    "Usage: kosearch search INDEX [OPTIONS] QUERY...\n"
    "       kosearch search INDEX --queries FILE.tsv [-k N] [--run OUT.trec]\n"
    "       kosearch search --shard SPEC [--shard SPEC...] [OPTIONS] QUERY...\n"
    "\n"
    "Search INDEX (native, or a Xapian database: detected). The QUERY words are joined with spaces into one query:\n"
    "  word        optional word (documents are ranked by BM25)\n"
    "  \"a b\"       phrase: the words next to each other, in order\n"
    "  +word       required        -word   excluded (also +\"a b\", -\"a b\")\n"
    "Quote the query for the shell: kosearch search my.idx '+대통령 \"첨단 산업\" -보스턴'.\n"
    "A query word starting with - that looks like an option (-k) must come\n"
    "after '--'. See docs/query.md and docs/ranking.md.\n"
    "\n"
    "Options:\n"
    "  -k N                 number of hits (default 10; 100 with --queries)\n"
    "  --json               one JSON object per hit and line:\n"
    "                       {\"rank\",\"id\",\"score\",\"title\",\"snippet\"}\n"
    "  --k1 X               BM25 k1 (default 0.6)\n"
    "  --b X                BM25 b (default 0.25)\n"
    "  --bigram-weight X    weight of the syllable-bigram field (default 1.0)\n"
    "  --snippet-chars N    snippet length in characters (default 160; 0: none)\n"
    "  --queries FILE.tsv   batch mode: run every line qid<TAB>query[<TAB>...]\n"
    "  --run OUT.trec       batch mode: write the TREC run here (default: stdout)\n"
    "                       (with --json: {\"qid\",\"rank\",\"id\",\"score\"} lines)\n"
    "  --ranking NAME       bm25 (default on native indexes) or bm25-xapian:\n"
    "                       Xapian's BM25Weight formula (the only one on Xapian)\n"
    "  --min-normlen X      bm25-xapian: Xapian's min_normlen (default 0.5)\n"
    "  --algorithm A        native top-k: maxscore (block-max MaxScore, the\n"
    "                       default), bmw (block-max WAND) or exhaustive; same\n"
    "                       hits; only exhaustive always counts every match\n"
    "                       (the others may print \"at least N matching\")\n"
    "  --shard SPEC         search this Xapian shard too (repeat; a database path\n"
    "                       or tcp://HOST:PORT of a xapian-tcpsrv); with\n"
    "                       --shard, give no INDEX (README, \"Xapian backend\")\n"
    "  -h, --help           show this help\n"
    "\n"
    "Text output: \"RANK. [SCORE] ID  TITLE\" and a snippet, matched words in bold\n"
    "on a terminal, else marked «like this» (JSON snippets use « » too).\n"
    "Batch output: \"qid Q0 docid rank score kosearch\" per hit (rank from 1,\n"
    "score with 6 decimals); whitespace and % in a docid are written as %XX.\n";

typedef struct search_args {
  const char *index;
  const char **shards;     /* --shard SPECs */
  size_t nshards;
  int ranking_given;
  const char *queries;     /* --queries FILE or NULL */
  const char *run;         /* --run FILE or NULL (stdout) */
  char *query;             /* joined QUERY words (heap) */
  int json;
  int k_given;
  uint64_t snippet_chars;
  ks_search_opts so;
} search_args;

/* ---- the two backends behind one interface -------------------------------- */

/* cli_backend (cli_util.h) runs the searches; the helpers below add what
 * only this command needs: match counts, stored JSON and snippets. */

/* Number of matches; *exact = 0 when it is only a lower bound (a native
 * pruning algorithm skipped documents that could not reach the top k). */
static uint64_t be_matches(const cli_backend *b, int *exact) {
  if (!b->xdb) {
    *exact = ks_index_results_matches_exact(b->r);
    return ks_index_results_matches(b->r);
  }
  uint64_t m = 0;
  ks_xap_results_matches(b->xr, &m, NULL, NULL); /* exact: exhaustive */
  *exact = 1;
  return m;
}

/* Stored JSON of hit i (free with ks_mem_free). */
static int be_json(cli_backend *b, size_t i, char **json, size_t *len, ks_err *e) {
  if (b->xdb) return ks_xap_results_json(b->xr, i, json, len, e);
  ks_index_hit h;
  int rc = ks_index_results_hit(b->r, i, &h);
  if (rc) return ks_err_set(e, rc, "no hit %zu", i);
  return ks_index_doc_json(b->ix, h.doc, json, len, e);
}

static int be_snippet(cli_backend *b, size_t i, size_t max, const char *mo, const char *mc,
                      char **out, ks_err *e) {
  if (!b->xdb) return ks_index_results_snippet(b->ix, b->r, i, max, mo, mc, out, e);
  char *json = NULL;
  size_t len = 0;
  int rc = ks_xap_results_json(b->xr, i, &json, &len, e);
  if (rc == KS_OK) rc = ks_query_plan_snippet(b->plan, json, len, max, mo, mc, out, e);
  ks_mem_free(json);
  return rc;
}

/* Copy s[0, n) into out (size outsz) for one-line display: control bytes
 * become spaces, and the text is cut at a character boundary with "…" when
 * longer than max bytes. */
static void one_line(const char *s, size_t n, size_t max, char *out, size_t outsz) {
  size_t cut = n;
  int dots = 0;
  if (cut > max) {
    cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    dots = 1;
  }
  if (cut + 4 > outsz) cut = outsz - 4; /* outsz is always > max + 4 here */
  size_t j = 0;
  for (size_t i = 0; i < cut; i++) {
    unsigned char c = (unsigned char)s[i];
    out[j++] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
  }
  if (dots) memcpy(out + j, "\xE2\x80\xA6", 3), j += 3;
  out[j] = '\0';
}

/* Replace control characters by spaces in place (snippets in text mode). */
static void flatten(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 && *s != '\033') *s = ' ';
}

/* "title" of the stored JSON of hit i, as a heap string ("" if none). */
static char *doc_title(cli_backend *b, size_t i, ks_err *e, int *rc) {
  char *json = NULL;
  size_t len = 0;
  *rc = be_json(b, i, &json, &len, e);
  if (*rc) return NULL;
  cJSON *j = cJSON_ParseWithLength(json, len);
  ks_mem_free(json);
  const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "title") : NULL;
  const char *s = cJSON_IsString(t) ? t->valuestring : "";
  char *out = strdup(s);
  cJSON_Delete(j);
  if (!out) *rc = KS_ENOMEM;
  return out;
}

static int print_results(cli_backend *b, const search_args *a, double ms) {
  ks_err e;
  ks_err_clear(&e);
  int color = !a->json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  const char *mo = color ? "\033[1m" : "\xC2\xAB";  /* « */
  const char *mc = color ? "\033[0m" : "\xC2\xBB";  /* » */
  size_t count = cli_backend_count(b);
  for (size_t i = 0; i < count; i++) {
    double score;
    const char *id;
    size_t idlen;
    int rc;
    if ((rc = cli_backend_hit(b, i, &id, &idlen, &score, &e)))
      return cli_error("%s", cli_strip_tags(e.msg));
    char *title = doc_title(b, i, &e, &rc);
    if (!title) return cli_error("%s", rc == KS_ENOMEM ? "out of memory" : cli_strip_tags(e.msg));
    char *snip = NULL;
    if (a->snippet_chars &&
        be_snippet(b, i, (size_t)a->snippet_chars, mo, mc, &snip, &e)) {
      free(title);
      return cli_error("%s", cli_strip_tags(e.msg));
    }
    if (a->json) {
      cJSON *o = cJSON_CreateObject();
      char *idz = strndup(id, idlen);
      if (!o || !idz) {
        cJSON_Delete(o);
        free(idz);
        free(title);
        ks_mem_free(snip);
        return cli_error("out of memory");
      }
      cJSON_AddNumberToObject(o, "rank", (double)(i + 1));
      cJSON_AddStringToObject(o, "id", idz);
      cJSON_AddNumberToObject(o, "score", score);
      cJSON_AddStringToObject(o, "title", title);
      cJSON_AddStringToObject(o, "snippet", snip ? snip : "");
      char *s = cJSON_PrintUnformatted(o);
      if (s) puts(s);
      free(s);
      free(idz);
      cJSON_Delete(o);
    } else {
      char idbuf[TITLE_SHOW_BYTES + 8], tbuf[TITLE_SHOW_BYTES + 8];
      one_line(id, idlen, TITLE_SHOW_BYTES, idbuf, sizeof idbuf);
      one_line(title, strlen(title), TITLE_SHOW_BYTES, tbuf, sizeof tbuf);
      printf("%zu. [%.4f] %s%s%s\n", i + 1, score, idbuf, tbuf[0] ? "  " : "", tbuf);
      if (snip && snip[0]) {
        flatten(snip);
        printf("   %s\n", snip);
      }
    }
    free(title);
    ks_mem_free(snip);
  }
  if (!a->json) {
    int exact;
    uint64_t m = be_matches(b, &exact);
    printf("(%s%llu matching document%s, %zu shown, %.2f ms)\n", exact ? "" : "at least ",
           (unsigned long long)m, m == 1 && exact ? "" : "s", count, ms);
  }
  return CLI_OK;
}

/* TREC docid: as is, unless it has whitespace/control bytes (see top). */
static int write_docid(FILE *f, const char *id, size_t n, int *encoded) {
  int plain = 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (c <= 0x20 || c == 0x7F) plain = 0;
  }
  if (plain) return fwrite(id, 1, n, f) == n ? 0 : -1;
  *encoded = 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (c <= 0x20 || c == 0x7F || c == '%') {
      if (fprintf(f, "%%%02X", c) < 0) return -1;
    } else if (fputc(c, f) == EOF) {
      return -1;
    }
  }
  return 0;
}

/* Batch --json line: {"qid","rank","id","score"}. */
static int write_json_hit(FILE *f, const char *qid, size_t rank, const char *id,
                          size_t idlen, double score) {
  cJSON *o = cJSON_CreateObject();
  char *idz = strndup(id, idlen);
  char *s = NULL;
  if (o && idz && cJSON_AddStringToObject(o, "qid", qid) &&
      cJSON_AddNumberToObject(o, "rank", (double)rank) && cJSON_AddStringToObject(o, "id", idz) &&
      cJSON_AddNumberToObject(o, "score", score))
    s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  free(idz);
  int rc = s && fprintf(f, "%s\n", s) >= 0 ? 0 : -1;
  free(s);
  return rc;
}

static int run_batch(cli_backend *b, const search_args *a) {
  cli_tsv qf;
  if (cli_tsv_open(&qf, a->queries) != CLI_OK) return CLI_ERROR;
  char *tmp = NULL;
  FILE *out = stdout;
  if (a->run && strcmp(a->run, "-") != 0) {
    size_t n = strlen(a->run) + 5;
    tmp = malloc(n);
    if (!tmp) {
      cli_tsv_close(&qf);
      return cli_error("out of memory");
    }
    snprintf(tmp, n, "%s.tmp", a->run);
    out = fopen(tmp, "w");
    if (!out) {
      int rc = cli_error("%s: cannot create: %s", tmp, strerror(errno));
      free(tmp);
      cli_tsv_close(&qf);
      return rc;
    }
  }
  int rc = CLI_OK, encoded = 0;
  unsigned long long nqueries = 0, nlines = 0, nskipped = 0;
  double t0 = cli_now();
  ks_err e;
  ks_err_clear(&e);
  char *qid, *query, *rest;
  int got;
  while ((got = cli_tsv_next(&qf, &qid, &query, &rest)) == 1) {
    unsigned long long lineno = qf.lineno;
    nqueries++;
    int src = cli_backend_search(b, query, &a->so, &e);
    if (src == KS_EQUERY) {
      nskipped++;
      cli_warn("%s:%llu: query %s skipped: %s", a->queries, lineno, qid,
               cli_strip_tags(e.msg));
      continue;
    }
    if (src) {
      rc = cli_error("%s:%llu: %s", a->queries, lineno, cli_strip_tags(e.msg));
      break;
    }
    size_t count = cli_backend_count(b);
    for (size_t i = 0; i < count && rc == CLI_OK; i++) {
      double score;
      const char *id;
      size_t idlen;
      if (cli_backend_hit(b, i, &id, &idlen, &score, &e)) {
        rc = cli_error("%s", cli_strip_tags(e.msg));
        break;
      }
      int wrc = a->json ? write_json_hit(out, qid, i + 1, id, idlen, score)
                        : (fprintf(out, "%s Q0 ", qid) < 0 || write_docid(out, id, idlen, &encoded) ||
                           fprintf(out, " %zu %.6f kosearch\n", i + 1, score) < 0);
      if (wrc) rc = cli_error("%s: write failed: %s", tmp ? tmp : "stdout", strerror(errno));
      nlines++;
    }
    cli_backend_clear(b);
    if (rc) break;
  }
  if (rc == CLI_OK && got < 0) rc = CLI_ERROR; /* cli_tsv_next printed it */
  cli_tsv_close(&qf);
  if (out != stdout) {
    if (fclose(out) != 0 && rc == CLI_OK) rc = cli_error("%s: write failed: %s", tmp, strerror(errno));
    if (rc == CLI_OK && rename(tmp, a->run) != 0)
      rc = cli_error("cannot rename %s to %s: %s", tmp, a->run, strerror(errno));
    if (rc != CLI_OK) unlink(tmp);
    free(tmp);
  }
  if (rc == CLI_OK) {
    double secs = cli_now() - t0;
    if (encoded)
      cli_warn("some document ids contain whitespace; they were written percent-encoded (%%XX)");
    fprintf(stderr, "kosearch: %llu queries (%llu skipped), %llu run lines%s%s, %.2f s (%.2f ms/query)\n",
            nqueries, nskipped, nlines, a->run ? " written to " : "", a->run ? a->run : "", secs,
            nqueries ? secs * 1000.0 / (double)nqueries : 0.0);
  }
  return rc;
}

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

static int run_search(int argc, char **argv) {
  const char *cmd = "search", *val = NULL;
  search_args a;
  memset(&a, 0, sizeof a);
  ks_search_opts_default(&a.so);
  a.snippet_chars = SNIPPET_CHARS_DEFAULT;
  char **words = calloc((size_t)argc, sizeof *words);
  a.shards = calloc((size_t)argc, sizeof *a.shards);
  if (!words || !a.shards) {
    free(words);
    free(a.shards);
    return cli_error("out of memory");
  }
  /* with --shard, INDEX is optional: the first word is then the query */
  int have_shards = 0;
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (strcmp(argv[i], "--shard") == 0 || strncmp(argv[i], "--shard=", 8) == 0) have_shards = 1;
  const char *index_mark = have_shards ? "" : NULL; /* non-NULL: INDEX seen */
  size_t nw = 0, qlen = 0;
  int opts_done = 0, r;
  uint64_t u;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int is_opt = !opts_done && s[0] == '-' && s[1] != '\0';
    if (is_opt && strcmp(s, "--") == 0) { opts_done = 1; continue; }
    /* "-word" after INDEX is an excluded query word, unless it is -k */
    if (is_opt && s[1] != '-' && index_mark && strncmp(s, "-k", 2) != 0) is_opt = 0;
    if (is_opt && s[1] == 'k' && s[2] && !all_digits(s + 2) && index_mark) is_opt = 0;
    if (!is_opt) {
      if (!index_mark) a.index = index_mark = s;
      else words[nw++] = argv[i], qlen += strlen(s) + 1;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, cmd, "-k", 1, &val))) {
      if (r < 0 || cli_parse_u64(cmd, "-k", val, 0, 1000000, &u)) goto usage;
      a.so.k = (uint32_t)u;
      a.k_given = 1;
    } else if (cli_opt(argc, argv, &i, cmd, "--json", 0, NULL)) {
      a.json = 1;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--k1", 1, &val))) {
      if (r < 0 || cli_parse_double(cmd, "--k1", val, 0, 1000, &a.so.k1)) goto usage;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--b", 1, &val))) {
      if (r < 0 || cli_parse_double(cmd, "--b", val, 0, 1, &a.so.b)) goto usage;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--bigram-weight", 1, &val))) {
      if (r < 0 || cli_parse_double(cmd, "--bigram-weight", val, 0, 1000, &a.so.bigram_weight))
        goto usage;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--snippet-chars", 1, &val))) {
      if (r < 0 || cli_parse_u64(cmd, "--snippet-chars", val, 0, 100000, &a.snippet_chars))
        goto usage;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--queries", 1, &val))) {
      if (r < 0) goto usage;
      a.queries = val;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--run", 1, &val))) {
      if (r < 0) goto usage;
      a.run = val;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--shard", 1, &val))) {
      if (r < 0) goto usage;
      a.shards[a.nshards++] = val;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--algorithm", 1, &val))) {
      if (r < 0) goto usage;
      if (strcmp(val, "exhaustive") == 0) a.so.algorithm = KS_ALGO_EXHAUSTIVE;
      else if (strcmp(val, "bmw") == 0) a.so.algorithm = KS_ALGO_BMW;
      else if (strcmp(val, "maxscore") == 0) a.so.algorithm = KS_ALGO_MAXSCORE;
      else {
        free(words);
        free(a.shards);
        return cli_usage(cmd, "--algorithm must be exhaustive, bmw or maxscore (got '%s')", val);
      }
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--ranking", 1, &val))) {
      if (r < 0) goto usage;
      if (strcmp(val, "bm25") == 0) a.so.ranking = KS_RANK_BM25;
      else if (strcmp(val, "bm25-xapian") == 0) a.so.ranking = KS_RANK_BM25_XAPIAN;
      else {
        free(words);
        free(a.shards);
        return cli_usage(cmd, "--ranking must be bm25 or bm25-xapian (got '%s')", val);
      }
      a.ranking_given = 1;
    } else if ((r = cli_opt(argc, argv, &i, cmd, "--min-normlen", 1, &val))) {
      if (r < 0 || cli_parse_double(cmd, "--min-normlen", val, 0, 1000, &a.so.min_normlen))
        goto usage;
    } else {
      free(words);
      free(a.shards);
      return cli_usage(cmd, "unknown option '%s'", s);
    }
  }
  if (!a.index && !a.nshards) {
    free(words);
    free(a.shards);
    return cli_usage(cmd, "missing INDEX");
  }
  if (a.queries && nw) {
    free(words);
    free(a.shards);
    return cli_usage(cmd, "give either QUERY words or --queries FILE, not both");
  }
  if (a.run && !a.queries) {
    free(words);
    free(a.shards);
    return cli_usage(cmd, "--run needs --queries FILE.tsv");
  }
  if (!a.queries && nw == 0) {
    free(words);
    free(a.shards);
    return cli_usage(cmd, "missing QUERY");
  }
  if (a.queries && !a.k_given) a.so.k = 100;
  a.query = malloc(qlen + 1);
  if (!a.query) {
    free(words);
    free(a.shards);
    return cli_error("out of memory");
  }
  a.query[0] = '\0';
  for (size_t k = 0; k < nw; k++) {
    if (k) strcat(a.query, " ");
    strcat(a.query, words[k]);
  }
  free(words);

  ks_err e;
  ks_err_clear(&e);
  cli_backend b;
  memset(&b, 0, sizeof b);
  int rc = CLI_OK, orc;
  int xap = a.nshards > 0 || cli_xap_detect(a.index);
  if (xap && a.ranking_given && a.so.ranking != KS_RANK_BM25_XAPIAN) {
    free(a.query);
    free(a.shards);
    return cli_usage(cmd, "the Xapian backend ranks with bm25-xapian only (Xapian's BM25Weight)");
  }
  if (xap)
    orc = cli_xap_open(a.index, a.shards, a.nshards, &b.xdb, &e);
  else
    orc = ks_index_open(a.index, &b.ix, &e), b.owns_ix = 1;
  if (orc) {
    rc = cli_error("%s", cli_strip_tags(e.msg));
  } else if (a.queries) {
    rc = run_batch(&b, &a);
  } else {
    double t0 = cli_now();
    int src = cli_backend_search(&b, a.query, &a.so, &e);
    double ms = (cli_now() - t0) * 1000.0;
    if (src)
      rc = cli_error("%s", cli_strip_tags(e.msg));
    else
      rc = print_results(&b, &a, ms);
  }
  cli_backend_close(&b);
  free(a.query);
  free(a.shards);
  return rc;
usage:
  free(words);
  free(a.shards);
  return CLI_USAGE;
}

const cli_command cli_cmd_search = {"search", "rank documents for a query (or a batch of queries)",
                                    search_help, run_search};
