/*
 * cmd_search.c - `kosearch search`: run one query (text or JSON output) or
 * a batch of queries from a TSV file into a TREC run file, on any index
 * ks_db_open accepts (or on Xapian shards, ks_db_open_shards).
 *
 * Command line (documented in the help below and docs/query.md): options
 * may come before or after INDEX, but before the query. The first argument
 * after INDEX that is not an option, or everything after "--", starts the
 * query, and every argument from there on is query text: `search IDX 사과
 * -클러스터` excludes 클러스터 and `search IDX 사과 -k 5` searches three
 * words. An unknown option before the query is a usage error. Implemented
 * with getopt_long in POSIX mode ("+": stop at the first non-option), run
 * twice: options, INDEX, options, then the query. With --shard there is no
 * INDEX: the first non-option starts the query.
 *
 * Output of a single query (README.md, "Searching"):
 *   text  "RANK. [SCORE] ID  TITLE" then an indented snippet; matched words
 *         are bold (ANSI) when stdout is a terminal and NO_COLOR is unset,
 *         else wrapped in « »; a last line gives the number of matches
 *         ("at least N" when the pruning algorithm made it a lower bound).
 *         Ranks are those of the whole ranking: offset + 1, offset + 2...
 *   JSON  one object on one line: {"query","matches","matches_exact",
 *         "offset","k","took_ms","hits":[{"rank","id","score","title",
 *         "snippet"}...]}, matched words wrapped in « » in "snippet".
 * Batch (--queries): TREC lines "qid Q0 docid rank score kosearch" (docid
 * form: cli_trec_write_docid). The run file is written to OUT.tmp and
 * renamed when complete. Batch with --json: one object per hit and line
 * {"qid","rank","id","score"} with the full-precision score (a run file
 * format, for cross-checking backends), not the single-query object.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

#define SNIPPET_CHARS_DEFAULT 160
#define TITLE_SHOW_BYTES 120

static const char search_help[] =
    "Usage: kosearch search [OPTIONS] INDEX [OPTIONS] QUERY...\n"
    "       kosearch search [OPTIONS] INDEX [OPTIONS] -- QUERY...\n"
    "       kosearch search INDEX --queries FILE.tsv [-k N] [--run OUT.trec] [--json]\n"
    "       kosearch search --shard SPEC [--shard SPEC...] [OPTIONS] QUERY...\n"
    "\n"
    "Search INDEX (native, or a Xapian database: detected). The QUERY words are\n"
    "joined with spaces into one query:\n"
    "  word        optional word (documents are ranked by BM25)\n"
    "  \"a b\"       phrase: the words next to each other, in order\n"
    "  +word       required        -word   excluded (also +\"a b\", -\"a b\")\n"
    "Quote the query for the shell: kosearch search my.idx '+대통령 \"첨단 산업\" -보스턴'.\n"
    "See docs/query.md and docs/ranking.md.\n"
    "\n"
    "Options go before or after INDEX, but before the query: the first argument\n"
    "after INDEX that is not an option starts the query, and everything from\n"
    "there on is query text. So `search IDX 사과 -클러스터` excludes 클러스터 and\n"
    "`search IDX 사과 -k 5` searches for the three words 사과, -k and 5. '--' also\n"
    "starts the query, for a query that begins with '-': `search IDX -- -클러스터\n"
    "사과`. An unknown option before the query is an error (exit 2).\n"
    "\n"
    "Options:\n"
    "  -k N                 number of hits (default 10; 100 with --queries)\n"
    "  --offset N           skip the N best hits first (paging: page p of size k\n"
    "                       is --offset p*k); ranks stay those of the whole\n"
    "                       ranking (N+1, N+2, ...)\n"
    "  --json               print one JSON object (on one line):\n"
    "                       {\"query\",\"matches\",\"matches_exact\",\"offset\",\"k\",\n"
    "                        \"took_ms\",\"hits\":[{\"rank\",\"id\",\"score\",\"title\",\n"
    "                        \"snippet\"}...]}; matches_exact is false when\n"
    "                       matches is a lower bound (see --algorithm)\n"
    "  --k1 X               BM25 k1 (default 0.6)\n"
    "  --b X                BM25 b (default 0.25)\n"
    "  --bigram-weight X    weight of the syllable-bigram field (default 1.0)\n"
    "  --snippet-chars N    snippet length in characters (default 160; 0: none)\n"
    "  --queries FILE.tsv   batch mode: run every line qid<TAB>query[<TAB>...]\n"
    "  --run OUT.trec       batch mode: write the TREC run here (default: stdout)\n"
    "                       (with --json: one {\"qid\",\"rank\",\"id\",\"score\"}\n"
    "                       object per hit and line, a run file format)\n"
    "  --ranking NAME       bm25 (default on native indexes) or bm25-xapian:\n"
    "                       Xapian's BM25Weight formula (the only one on Xapian)\n"
    "  --min-normlen X      bm25-xapian: Xapian's min_normlen (default 0.5)\n"
    "  --algorithm A        native top-k: maxscore (block-max MaxScore, the\n"
    "                       default), bmw (block-max WAND) or exhaustive; same\n"
    "                       hits; only exhaustive always counts every match\n"
    "                       (the others may print \"at least N matching\")\n"
    "  --shard SPEC         search this Xapian shard (repeat; a database path\n"
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
  const char *queries;     /* --queries FILE or NULL */
  const char *run;         /* --run FILE or NULL (stdout) */
  char *query;             /* joined QUERY words (heap) */
  int json;
  int k_given;
  uint64_t snippet_chars;
  ks_search_opts so;
} search_args;

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

/* "title" of the stored JSON of hit i, as a heap string ("" if none);
 * NULL with *rc set on failure. */
static char *hit_title(ks_results *r, size_t i, ks_err *e, int *rc) {
  char *json = NULL;
  size_t len = 0;
  *rc = ks_results_json(r, i, &json, &len, e);
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

/* Add hit i of r as {"rank","id","score","title","snippet"} to array. */
static int json_hit(cJSON *array, const ks_hit *h, const char *title, const char *snip) {
  cJSON *o = cJSON_CreateObject();
  char *idz = strndup(h->id, h->id_len);
  int ok = o && idz && cJSON_AddItemToArray(array, o);
  if (!ok) {
    cJSON_Delete(o);
    free(idz);
    return -1;
  }
  ok = cJSON_AddNumberToObject(o, "rank", (double)h->rank) && cJSON_AddStringToObject(o, "id", idz) &&
       cJSON_AddNumberToObject(o, "score", h->score) &&
       cJSON_AddStringToObject(o, "title", title) &&
       cJSON_AddStringToObject(o, "snippet", snip ? snip : "");
  free(idz);
  return ok ? 0 : -1;
}

static int print_results(ks_results *r, const search_args *a, double ms) {
  ks_err e;
  ks_err_clear(&e);
  int color = !a->json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  const char *mo = color ? "\033[1m" : "\xC2\xAB";  /* « */
  const char *mc = color ? "\033[0m" : "\xC2\xBB";  /* » */
  size_t count = ks_results_count(r);
  uint64_t matches = ks_results_matches(r);
  int exact = ks_results_matches_exact(r);
  cJSON *obj = NULL, *hits = NULL;
  if (a->json) {
    obj = cJSON_CreateObject();
    int ok = obj && cJSON_AddStringToObject(obj, "query", a->query) &&
             cJSON_AddNumberToObject(obj, "matches", (double)matches) &&
             cJSON_AddBoolToObject(obj, "matches_exact", exact) &&
             cJSON_AddNumberToObject(obj, "offset", (double)a->so.offset) &&
             cJSON_AddNumberToObject(obj, "k", (double)a->so.k) &&
             cJSON_AddNumberToObject(obj, "took_ms", round(ms * 1000.0) / 1000.0) &&
             (hits = cJSON_AddArrayToObject(obj, "hits"));
    if (!ok) {
      cJSON_Delete(obj);
      return cli_error("out of memory");
    }
  }
  int rc = CLI_OK;
  for (size_t i = 0; i < count && rc == CLI_OK; i++) {
    ks_hit h;
    int krc = ks_results_hit(r, i, &h);
    if (krc) {
      rc = cli_error("hit %zu: %s", i + 1, ks_strerror(krc));
      break;
    }
    char *title = hit_title(r, i, &e, &krc);
    if (!title) {
      rc = cli_error("%s", krc == KS_ENOMEM && !e.msg[0] ? "out of memory" : cli_strip_tags(e.msg));
      break;
    }
    char *snip = NULL;
    if (a->snippet_chars &&
        ks_results_snippet(r, i, (size_t)a->snippet_chars, mo, mc, &snip, &e)) {
      free(title);
      rc = cli_error("%s", cli_strip_tags(e.msg));
      break;
    }
    if (a->json) {
      if (json_hit(hits, &h, title, snip)) rc = cli_error("out of memory");
    } else {
      char idbuf[TITLE_SHOW_BYTES + 8], tbuf[TITLE_SHOW_BYTES + 8];
      one_line(h.id, h.id_len, TITLE_SHOW_BYTES, idbuf, sizeof idbuf);
      one_line(title, strlen(title), TITLE_SHOW_BYTES, tbuf, sizeof tbuf);
      printf("%llu. [%.4f] %s%s%s\n", (unsigned long long)h.rank, h.score, idbuf,
             tbuf[0] ? "  " : "", tbuf);
      if (snip && snip[0]) {
        flatten(snip);
        printf("   %s\n", snip);
      }
    }
    free(title);
    ks_mem_free(snip);
  }
  if (rc != CLI_OK) {
    cJSON_Delete(obj);
    return rc;
  }
  if (a->json) {
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!s) return cli_error("out of memory");
    puts(s);
    free(s);
    return CLI_OK;
  }
  char from[48] = "";
  if (a->so.offset && count)
    snprintf(from, sizeof from, " (ranks %llu-%llu)", (unsigned long long)a->so.offset + 1,
             (unsigned long long)a->so.offset + count);
  printf("(%s%llu matching document%s, %zu shown%s, %.2f ms)\n", exact ? "" : "at least ",
         (unsigned long long)matches, matches == 1 && exact ? "" : "s", count, from, ms);
  return CLI_OK;
}

/* Batch --json line: {"qid","rank","id","score"}. */
static int write_json_hit(FILE *f, const char *qid, const ks_hit *h) {
  cJSON *o = cJSON_CreateObject();
  char *idz = strndup(h->id, h->id_len);
  char *s = NULL;
  if (o && idz && cJSON_AddStringToObject(o, "qid", qid) &&
      cJSON_AddNumberToObject(o, "rank", (double)h->rank) && cJSON_AddStringToObject(o, "id", idz) &&
      cJSON_AddNumberToObject(o, "score", h->score))
    s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  free(idz);
  int rc = s && fprintf(f, "%s\n", s) >= 0 ? 0 : -1;
  free(s);
  return rc;
}

static int run_batch(ks_db *db, const search_args *a) {
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
    ks_results *r = NULL;
    int src = ks_db_search(db, query, SIZE_MAX, &a->so, &r, &e);
    if (src == KS_EQUERY) {
      nskipped++;
      cli_warn("%s:%llu: query %s skipped: %s", a->queries, lineno, qid,
               cli_strip_tags(e.msg));
      continue;
    }
    if (src == KS_EINVAL) { /* an option the index cannot take */
      rc = cli_usage("search", "%s", cli_strip_tags(e.msg));
      break;
    }
    if (src) {
      rc = cli_error("%s:%llu: %s", a->queries, lineno, cli_strip_tags(e.msg));
      break;
    }
    size_t count = ks_results_count(r);
    for (size_t i = 0; i < count && rc == CLI_OK; i++) {
      ks_hit h;
      int hrc = ks_results_hit(r, i, &h);
      if (hrc) {
        rc = cli_error("%s:%llu: hit %zu: %s", a->queries, lineno, i + 1, ks_strerror(hrc));
        break;
      }
      int wrc = a->json ? write_json_hit(out, qid, &h)
                        : (fprintf(out, "%s Q0 ", qid) < 0 ||
                           cli_trec_write_docid(out, h.id, h.id_len, &encoded) ||
                           fprintf(out, " %llu %.6f kosearch\n", (unsigned long long)h.rank,
                                   h.score) < 0);
      if (wrc) rc = cli_error("%s: write failed: %s", tmp ? tmp : "stdout", strerror(errno));
      nlines++;
    }
    ks_results_free(r);
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

/* ---- command line ---------------------------------------------------------- */

enum {
  OPT_JSON = CLI_OPT_FIRST_FREE,
  OPT_OFFSET,
  OPT_SNIPPET_CHARS,
  OPT_QUERIES,
  OPT_RUN,
  OPT_SHARD
};

static const struct option search_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"offset", required_argument, NULL, OPT_OFFSET},
    {"snippet-chars", required_argument, NULL, OPT_SNIPPET_CHARS},
    {"queries", required_argument, NULL, OPT_QUERIES},
    {"run", required_argument, NULL, OPT_RUN},
    {"shard", required_argument, NULL, OPT_SHARD},
    CLI_RANKING_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

enum { SEG_OK = 0, SEG_HELP = -1 };

/* Parse the options of argv[1..argc) into *a, up to the first argument
 * that is not an option (POSIX mode: getopt stops there); argv[0] is
 * skipped (the command name, or INDEX for the second segment). *next
 * (out) is the index of that argument (argc when none is left) and
 * *dashdash (out) 1 when "--" ended the options (and was skipped).
 * Returns SEG_OK, SEG_HELP (help printed) or CLI_USAGE (message printed). */
static int parse_segment(int argc, char **argv, search_args *a, int *next, int *dashdash) {
  const char *cmd = "search";
  uint64_t u;
  int c, pos = 1;
  optind = 0; /* reset getopt: a new argument vector */
  while ((c = cli_getopt(argc, argv, "+:k:h", search_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_search);
      return SEG_HELP;
    case 'k':
      if (cli_parse_u64(cmd, "-k", optarg, 0, KS_MAX_HITS, &u)) return CLI_USAGE;
      a->so.k = (uint32_t)u;
      a->k_given = 1;
      break;
    case OPT_OFFSET:
      if (cli_parse_u64(cmd, "--offset", optarg, 0, KS_MAX_HITS, &u)) return CLI_USAGE;
      a->so.offset = (uint32_t)u;
      break;
    case OPT_JSON:
      a->json = 1;
      break;
    case OPT_SNIPPET_CHARS:
      if (cli_parse_u64(cmd, "--snippet-chars", optarg, 0, 100000, &a->snippet_chars))
        return CLI_USAGE;
      break;
    case OPT_QUERIES:
      a->queries = optarg;
      break;
    case OPT_RUN:
      a->run = optarg;
      break;
    case OPT_SHARD:
      a->shards[a->nshards++] = optarg;
      break;
    case '?':
      return CLI_USAGE;
    default:
      if (cli_ranking_option(cmd, c, optarg, &a->so) != 1) return CLI_USAGE;
      break;
    }
    pos = optind; /* just after this option (and its value) */
  }
  *next = optind;
  /* getopt skips a "--" that ends the options: then optind is one past it */
  *dashdash = optind == pos + 1 && strcmp(argv[pos], "--") == 0;
  return SEG_OK;
}

/* Fill *a from the command line (see the top of the file). CLI_OK, SEG_HELP
 * or CLI_USAGE. */
static int parse_args(int argc, char **argv, search_args *a) {
  const char *cmd = "search";
  int next, dashdash, rc = parse_segment(argc, argv, a, &next, &dashdash);
  if (rc != SEG_OK) return rc;
  int qstart = next;
  if (!a->nshards) {
    if (next >= argc) return cli_usage(cmd, "missing INDEX");
    a->index = argv[next];
    qstart = next + 1;
    if (!dashdash) {
      /* options after INDEX: argv + next has INDEX as its argv[0] */
      rc = parse_segment(argc - next, argv + next, a, &qstart, &dashdash);
      if (rc != SEG_OK) return rc;
      qstart += next;
      if (a->nshards)
        return cli_usage(cmd, "give either INDEX or --shard SPEC..., not both");
    }
  }
  size_t qlen = 0;
  for (int i = qstart; i < argc; i++) qlen += strlen(argv[i]) + 1;
  if (a->queries && qstart < argc)
    return cli_usage(cmd, "give either QUERY words or --queries FILE, not both");
  if (a->run && !a->queries) return cli_usage(cmd, "--run needs --queries FILE.tsv");
  if (!a->queries && qstart >= argc) return cli_usage(cmd, "missing QUERY");
  if (a->queries && !a->k_given) a->so.k = 100;
  if ((uint64_t)a->so.k + a->so.offset > KS_MAX_HITS)
    return cli_usage(cmd, "-k plus --offset must be at most %u", KS_MAX_HITS);
  a->query = malloc(qlen + 1);
  if (!a->query) return cli_error("out of memory");
  a->query[0] = '\0';
  for (int i = qstart; i < argc; i++) {
    if (i > qstart) strcat(a->query, " ");
    strcat(a->query, argv[i]);
  }
  return CLI_OK;
}

static int run_search(int argc, char **argv) {
  search_args a;
  memset(&a, 0, sizeof a);
  ks_search_opts_default(&a.so);
  a.snippet_chars = SNIPPET_CHARS_DEFAULT;
  a.shards = calloc((size_t)argc, sizeof *a.shards);
  if (!a.shards) return cli_error("out of memory");
  int rc = parse_args(argc, argv, &a);
  if (rc != CLI_OK) {
    free(a.shards);
    free(a.query);
    return rc == SEG_HELP ? CLI_OK : rc;
  }

  ks_err e;
  ks_err_clear(&e);
  ks_db *db = NULL;
  int orc = a.nshards ? ks_db_open_shards(a.shards, a.nshards, &db, &e)
                      : ks_db_open(a.index, &db, &e);
  if (orc) {
    rc = cli_error("%s", cli_strip_tags(e.msg));
  } else if (a.queries) {
    rc = run_batch(db, &a);
  } else {
    ks_results *r = NULL;
    double t0 = cli_now();
    int src = ks_db_search(db, a.query, SIZE_MAX, &a.so, &r, &e);
    double ms = (cli_now() - t0) * 1000.0;
    if (src == KS_EINVAL) /* an option the index cannot take */
      rc = cli_usage("search", "%s", cli_strip_tags(e.msg));
    else if (src)
      rc = cli_error("%s", cli_strip_tags(e.msg));
    else
      rc = print_results(r, &a, ms);
    ks_results_free(r);
  }
  ks_db_close(db);
  free(a.query);
  free(a.shards);
  return rc;
}

const cli_command cli_cmd_search = {"search", "rank documents for a query (or a batch of queries)",
                                    search_help, run_search};
