/*
 * cmd_eval.c - `kosearch eval`: retrieval quality of an index (or of an
 * existing TREC run file) on judged queries.
 *
 *   kosearch eval INDEX --queries FILE.tsv [-k 100] [--json] [--per-query]
 *   kosearch eval --run RUN.trec --queries FILE.tsv [--json] [--per-query]
 *
 * FILE.tsv: "qid<TAB>query<TAB>relevant_doc_id" lines; a query with several
 * relevant documents has one line per document (same qid and query). The
 * metrics (MRR@10, Recall@10, Recall@100, nDCG@10, binary relevance) are
 * defined in docs/eval.md; each is a mean over all queries of the file,
 * where a query the engine rejects (KS_EQUERY) or that has no line in the
 * run file scores 0.
 *
 * Run files: a query's lines are ordered by their rank column (ties: file
 * order); a docid listed again for the same query keeps only its best line,
 * so a rank is the position among distinct documents (a run written from a
 * TSV with several lines per query repeats each hit: that is harmless).
 *
 * Invariants: queries keep the order of their first line; a relevant id is
 * stored once per query; a retrieved document counts at most once (its best
 * rank), so no metric exceeds 1.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

static const char eval_help[] =
    "Usage: kosearch eval INDEX --queries FILE.tsv [-k N] [--json] [--per-query]\n"
    "       kosearch eval --run RUN.trec --queries FILE.tsv [--json] [--per-query]\n"
    "\n"
    "Measure retrieval quality. FILE.tsv has lines qid<TAB>query<TAB>relevant_doc_id\n"
    "(one line per relevant document: a query may have several lines). Every query\n"
    "is run on INDEX (native or Xapian: detected), or the hits are read from an\n"
    "existing TREC run file (\"qid Q0 docid rank score tag\" lines, e.g. from\n"
    "`kosearch search --queries --run` or another engine). Prints the number of\n"
    "queries, MRR@10, Recall@10, Recall@100 and nDCG@10 (binary relevance;\n"
    "definitions in docs/eval.md).\n"
    "\n"
    "Options:\n"
    "  --queries FILE.tsv   judged queries (required)\n"
    "  --run RUN.trec       score this run file instead of searching an INDEX\n"
    "  -k N                 hits retrieved per query (default 100; Recall@100\n"
    "                       counts only the top N when N < 100)\n"
    "  --per-query          also print one line per query: qid<TAB>rank of its\n"
    "                       first relevant document ('-' if none)<TAB>query\n"
    "  --json               one JSON object: {\"queries\",\"mrr@10\",\"recall@10\",\n"
    "                       \"recall@100\",\"ndcg@10\",...}; with --per-query also\n"
    "                       \"per_query\": [{\"qid\",\"rank\"}] (rank null if none)\n"
    "  --k1 X, --b X, --bigram-weight X, --ranking NAME, --min-normlen X,\n"
    "  --algorithm A        ranking options, as for `kosearch search`\n"
    "  -h, --help           show this help\n";

typedef struct eval_query {
  char *qid;               /* heap */
  char *query;             /* heap */
  char **rel;              /* relevant ids (heap), nrel >= 1 */
  unsigned char *seen;     /* rel[j] already retrieved */
  size_t nrel, relcap;
  unsigned long long line; /* first line in FILE.tsv */
  size_t first_rank;       /* rank of the first relevant hit, 0 = none */
  size_t found10, found100;/* relevant hits in the top 10 / 100 */
  double dcg10;
  int skipped;             /* the engine rejected the query */
} eval_query;

typedef struct eval_set {
  eval_query *q;
  size_t n, cap;
  size_t *slot;            /* open addressing: index + 1, 0 = empty */
  size_t nslot;            /* power of two, > 2 n */
} eval_set;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Index of the query with this qid, or (size_t)-1. */
static size_t set_find(const eval_set *s, const char *qid) {
  if (!s->nslot) return (size_t)-1;
  for (size_t h = hash_str(qid) & (s->nslot - 1);; h = (h + 1) & (s->nslot - 1)) {
    if (!s->slot[h]) return (size_t)-1;
    if (strcmp(s->q[s->slot[h] - 1].qid, qid) == 0) return s->slot[h] - 1;
  }
}

static int set_rehash(eval_set *s, size_t nslot) {
  size_t *slot = calloc(nslot, sizeof *slot);
  if (!slot) return -1;
  for (size_t i = 0; i < s->n; i++) {
    size_t h = hash_str(s->q[i].qid) & (nslot - 1);
    while (slot[h]) h = (h + 1) & (nslot - 1);
    slot[h] = i + 1;
  }
  free(s->slot);
  s->slot = slot;
  s->nslot = nslot;
  return 0;
}

static void set_free(eval_set *s) {
  for (size_t i = 0; i < s->n; i++) {
    for (size_t j = 0; j < s->q[i].nrel; j++) free(s->q[i].rel[j]);
    free(s->q[i].rel);
    free(s->q[i].seen);
    free(s->q[i].qid);
    free(s->q[i].query);
  }
  free(s->q);
  free(s->slot);
  memset(s, 0, sizeof *s);
}

/* Add relevant `id` to query qi (ignored if already there). */
static int add_rel(eval_query *q, const char *id) {
  for (size_t j = 0; j < q->nrel; j++)
    if (strcmp(q->rel[j], id) == 0) return 0;
  if (q->nrel == q->relcap) {
    size_t cap = q->relcap ? 2 * q->relcap : 2;
    char **r = realloc(q->rel, cap * sizeof *r);
    if (!r) return -1;
    q->rel = r;
    q->relcap = cap;
  }
  if (!(q->rel[q->nrel] = strdup(id))) return -1;
  q->nrel++;
  return 0;
}

/* Read FILE.tsv into *s. CLI_OK or an exit code (message printed). */
static int load_queries(const char *path, eval_set *s) {
  cli_tsv t;
  int rc = cli_tsv_open(&t, path), got;
  if (rc) return rc;
  char *qid, *query, *rest;
  while (rc == CLI_OK && (got = cli_tsv_next(&t, &qid, &query, &rest)) == 1) {
    if (rest) {
      char *tab = strchr(rest, '\t');
      if (tab) *tab = '\0';
    }
    if (!rest || !rest[0] || strspn(rest, " ") == strlen(rest)) {
      rc = cli_error("%s:%llu: expected 'qid<TAB>query<TAB>relevant_doc_id', found no relevant "
                     "document id", path, t.lineno);
      break;
    }
    size_t qi = set_find(s, qid);
    if (qi == (size_t)-1) {
      if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        eval_query *q = realloc(s->q, cap * sizeof *q);
        if (!q) {
          rc = cli_error("out of memory");
          break;
        }
        s->q = q;
        s->cap = cap;
      }
      eval_query *q = &s->q[s->n];
      memset(q, 0, sizeof *q);
      q->qid = strdup(qid);
      q->query = strdup(query);
      q->line = t.lineno;
      qi = s->n++;
      if (!q->qid || !q->query || (2 * s->n >= s->nslot && set_rehash(s, s->nslot ? 2 * s->nslot : 128))) {
        rc = cli_error("out of memory");
        break;
      }
      size_t h = hash_str(qid) & (s->nslot - 1);
      while (s->slot[h] && s->slot[h] != qi + 1) h = (h + 1) & (s->nslot - 1);
      s->slot[h] = qi + 1;
    } else if (strcmp(s->q[qi].query, query) != 0) {
      rc = cli_error("%s:%llu: query id '%s' was given on line %llu with a different query",
                     path, t.lineno, qid, s->q[qi].line);
      break;
    }
    if (add_rel(&s->q[qi], rest)) rc = cli_error("out of memory");
  }
  if (rc == CLI_OK && got < 0) rc = CLI_ERROR;
  cli_tsv_close(&t);
  if (rc == CLI_OK && s->n == 0) rc = cli_error("%s: no queries", path);
  for (size_t i = 0; rc == CLI_OK && i < s->n; i++)
    if (!(s->q[i].seen = calloc(s->q[i].nrel, 1))) rc = cli_error("out of memory");
  return rc;
}

/* The hit at `rank` (1-based, increasing over calls) is document `id`. */
static void judge(eval_query *q, size_t rank, const char *id, size_t len) {
  for (size_t j = 0; j < q->nrel; j++) {
    if (q->seen[j] || strlen(q->rel[j]) != len || memcmp(q->rel[j], id, len) != 0) continue;
    q->seen[j] = 1;
    if (!q->first_rank) q->first_rank = rank;
    if (rank <= 10) q->found10++, q->dcg10 += 1.0 / log2((double)rank + 1.0);
    if (rank <= 100) q->found100++;
    return;
  }
}

typedef struct eval_totals {
  double mrr10, recall10, recall100, ndcg10;
  size_t skipped;
} eval_totals;

static void totals(const eval_set *s, eval_totals *t) {
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < s->n; i++) {
    const eval_query *q = &s->q[i];
    double idcg = 0;
    for (size_t r = 1; r <= q->nrel && r <= 10; r++) idcg += 1.0 / log2((double)r + 1.0);
    if (q->first_rank && q->first_rank <= 10) t->mrr10 += 1.0 / (double)q->first_rank;
    t->recall10 += (double)q->found10 / (double)q->nrel;
    t->recall100 += (double)q->found100 / (double)q->nrel;
    t->ndcg10 += q->dcg10 / idcg;
    t->skipped += (size_t)q->skipped;
  }
  double n = (double)s->n;
  t->mrr10 /= n, t->recall10 /= n, t->recall100 /= n, t->ndcg10 /= n;
}

/* ---- hits from an index ------------------------------------------------ */

/* Returns CLI_OK or an exit code (message printed). */
static int eval_index(const char *index, const char *qpath, ks_search_opts *so,
                      eval_set *s) {
  ks_err e;
  ks_err_clear(&e);
  ks_db *db = NULL;
  if (ks_db_open(index, &db, &e)) return cli_error("%s", cli_strip_tags(e.msg));
  int rc = CLI_OK;
  for (size_t i = 0; i < s->n && rc == CLI_OK; i++) {
    eval_query *q = &s->q[i];
    ks_results *r = NULL;
    int src = ks_db_search(db, q->query, SIZE_MAX, so, &r, &e);
    if (src == KS_EQUERY) {
      q->skipped = 1;
      cli_warn("%s:%llu: query %s skipped (scores 0): %s", qpath, q->line, q->qid,
               cli_strip_tags(e.msg));
      continue;
    }
    if (src == KS_EINVAL) { /* an option the index cannot take */
      rc = cli_usage("eval", "%s", cli_strip_tags(e.msg));
      break;
    }
    if (src) {
      rc = cli_error("%s:%llu: %s", qpath, q->line, cli_strip_tags(e.msg));
      break;
    }
    size_t count = ks_results_count(r);
    for (size_t h = 0; h < count; h++) {
      ks_hit hit;
      int hrc = ks_results_hit(r, h, &hit);
      if (hrc) {
        rc = cli_error("%s:%llu: hit %zu: %s", qpath, q->line, h + 1, ks_strerror(hrc));
        break;
      }
      judge(q, (size_t)hit.rank, hit.id, hit.id_len);
    }
    ks_results_free(r);
  }
  ks_db_close(db);
  return rc;
}

/* ---- hits from a TREC run file ----------------------------------------- */

typedef struct run_line {
  size_t query;            /* index in the eval_set */
  unsigned long long rank; /* the rank column */
  size_t seq;              /* order in the file */
  char *docid;             /* heap */
} run_line;

/* Order by query, docid, rank, file order: the first of equal docids is the
 * one to keep. */
static int cmp_run_docid(const void *a, const void *b) {
  const run_line *x = a, *y = b;
  if (x->query != y->query) return x->query < y->query ? -1 : 1;
  int c = strcmp(x->docid, y->docid);
  if (c) return c;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_run_line(const void *a, const void *b) {
  const run_line *x = a, *y = b;
  if (x->query != y->query) return x->query < y->query ? -1 : 1;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int eval_run(const char *path, eval_set *s) {
  for (size_t i = 0; i < s->n; i++)
    for (size_t j = 0; j < s->q[i].nrel; j++) {
      char *enc = cli_trec_docid(s->q[i].rel[j]); /* as search --run writes it */
      if (!enc) return cli_error("out of memory");
      free(s->q[i].rel[j]);
      s->q[i].rel[j] = enc;
    }
  FILE *f = fopen(path, "r");
  if (!f) return cli_error("%s: cannot open: %s", path, strerror(errno));
  run_line *rl = NULL;
  size_t n = 0, cap = 0;
  unsigned long long lineno = 0, unknown = 0;
  char *line = NULL;
  size_t lcap = 0;
  ssize_t got;
  int rc = CLI_OK;
  while ((got = getline(&line, &lcap, f)) >= 0) {
    lineno++;
    if (memchr(line, '\0', (size_t)got)) {
      rc = cli_error("%s:%llu: NUL byte in the line", path, lineno);
      break;
    }
    char *field[7], *save = NULL;
    int nf = 0;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok && nf < 7;
         tok = strtok_r(NULL, " \t\r\n", &save))
      field[nf++] = tok;
    if (nf == 0) continue; /* blank line */
    char *end = NULL;
    if (nf != 6) {
      rc = cli_error("%s:%llu: expected 6 fields 'qid Q0 docid rank score tag', found %s", path,
                     lineno, nf < 6 ? "fewer" : "more");
      break;
    }
    errno = 0;
    unsigned long long rank = strtoull(field[3], &end, 10);
    if (errno || *end || field[3][0] == '-' || rank == 0) {
      rc = cli_error("%s:%llu: the rank '%s' is not a positive integer", path, lineno, field[3]);
      break;
    }
    double score = strtod(field[4], &end);
    if (*end || !isfinite(score)) {
      rc = cli_error("%s:%llu: the score '%s' is not a number", path, lineno, field[4]);
      break;
    }
    size_t qi = set_find(s, field[0]);
    if (qi == (size_t)-1) {
      unknown++;
      continue;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 1024;
      run_line *r = realloc(rl, cap * sizeof *r);
      if (!r) {
        rc = cli_error("out of memory");
        break;
      }
      rl = r;
    }
    rl[n] = (run_line){qi, rank, n, strdup(field[2])};
    if (!rl[n++].docid) {
      rc = cli_error("out of memory");
      break;
    }
  }
  if (rc == CLI_OK && ferror(f)) rc = cli_error("%s: read failed: %s", path, strerror(errno));
  fclose(f);
  free(line);
  if (rc == CLI_OK) {
    /* drop repeated (query, docid) lines but the best-ranked one */
    qsort(rl, n, sizeof *rl, cmp_run_docid);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
      if (kept && rl[kept - 1].query == rl[i].query && strcmp(rl[kept - 1].docid, rl[i].docid) == 0) {
        free(rl[i].docid);
        continue;
      }
      rl[kept++] = rl[i];
    }
    n = kept;
    qsort(rl, n, sizeof *rl, cmp_run_line);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
      pos = (i > 0 && rl[i].query == rl[i - 1].query) ? pos + 1 : 1;
      judge(&s->q[rl[i].query], pos, rl[i].docid, strlen(rl[i].docid));
    }
    if (unknown)
      cli_warn("%s: %llu lines name query ids that are not in the queries file (ignored)", path,
               unknown);
  }
  for (size_t i = 0; i < n; i++) free(rl[i].docid);
  free(rl);
  return rc;
}

/* ---- output --------------------------------------------------------------- */

static int print_json(const eval_set *s, const eval_totals *t, const char *index,
                      const char *run, const char *qpath, uint64_t k, int per_query) {
  cJSON *o = cJSON_CreateObject();
  cJSON *pq = per_query ? cJSON_CreateArray() : NULL;
  int ok = o && (!per_query || pq);
  if (ok) {
    cJSON_AddStringToObject(o, run ? "run" : "index", run ? run : index);
    cJSON_AddStringToObject(o, "queries_file", qpath);
    cJSON_AddNumberToObject(o, "queries", (double)s->n);
    cJSON_AddNumberToObject(o, "skipped", (double)t->skipped);
    if (!run) cJSON_AddNumberToObject(o, "k", (double)k);
    cJSON_AddNumberToObject(o, "mrr@10", t->mrr10);
    cJSON_AddNumberToObject(o, "recall@10", t->recall10);
    cJSON_AddNumberToObject(o, "recall@100", t->recall100);
    cJSON_AddNumberToObject(o, "ndcg@10", t->ndcg10);
  }
  for (size_t i = 0; ok && per_query && i < s->n; i++) {
    cJSON *q = cJSON_CreateObject();
    if (!q) {
      ok = 0;
      break;
    }
    cJSON_AddItemToArray(pq, q);
    cJSON_AddStringToObject(q, "qid", s->q[i].qid);
    if (s->q[i].first_rank) cJSON_AddNumberToObject(q, "rank", (double)s->q[i].first_rank);
    else cJSON_AddNullToObject(q, "rank");
  }
  if (ok && pq) cJSON_AddItemToObject(o, "per_query", pq), pq = NULL;
  char *str = ok ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  cJSON_Delete(pq);
  if (!str) return cli_error("out of memory");
  puts(str);
  free(str);
  return CLI_OK;
}

static void print_text(const eval_set *s, const eval_totals *t, int per_query) {
  for (size_t i = 0; per_query && i < s->n; i++) {
    const eval_query *q = &s->q[i];
    if (q->first_rank) printf("%s\t%zu\t%s\n", q->qid, q->first_rank, q->query);
    else printf("%s\t-\t%s\n", q->qid, q->query);
  }
  printf("queries: %zu\n", s->n);
  if (t->skipped) printf("skipped: %zu (rejected by the query parser; scored 0)\n", t->skipped);
  printf("MRR@10: %.4f\nRecall@10: %.4f\nRecall@100: %.4f\nnDCG@10: %.4f\n", t->mrr10,
         t->recall10, t->recall100, t->ndcg10);
}

enum { OPT_QUERIES = CLI_OPT_FIRST_FREE, OPT_RUN, OPT_JSON, OPT_PER_QUERY };

static const struct option eval_options[] = {
    {"queries", required_argument, NULL, OPT_QUERIES},
    {"run", required_argument, NULL, OPT_RUN},
    {"json", no_argument, NULL, OPT_JSON},
    {"per-query", no_argument, NULL, OPT_PER_QUERY},
    CLI_RANKING_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_eval(int argc, char **argv) {
  const char *cmd = "eval", *index = NULL, *queries = NULL, *run = NULL;
  int json = 0, per_query = 0, k_given = 0, c;
  uint64_t k = 100;
  ks_search_opts so;
  ks_search_opts_default(&so);
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":k:h", eval_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_eval);
      return CLI_OK;
    case 'k':
      if (cli_parse_u64(cmd, "-k", optarg, 1, KS_MAX_HITS, &k)) return CLI_USAGE;
      k_given = 1;
      break;
    case OPT_QUERIES:
      queries = optarg;
      break;
    case OPT_RUN:
      run = optarg;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case OPT_PER_QUERY:
      per_query = 1;
      break;
    default:
      if (c == '?' || cli_ranking_option(cmd, c, optarg, &so) != 1)
        return CLI_USAGE;
      break;
    }
  }
  if (optind < argc) index = argv[optind];
  if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
  if (!queries) return cli_usage(cmd, "missing --queries FILE.tsv");
  if (run && index) return cli_usage(cmd, "give either INDEX or --run RUN.trec, not both");
  if (!run && !index) return cli_usage(cmd, "missing INDEX (or --run RUN.trec)");
  if (run && k_given) return cli_usage(cmd, "-k applies to INDEX only (a run file has its own depth)");
  if (!run && k < 100)
    cli_warn("-k %llu < 100: Recall@100 counts only the top %llu hits", (unsigned long long)k,
             (unsigned long long)k);
  so.k = (uint32_t)k;

  eval_set s;
  memset(&s, 0, sizeof s);
  double t0 = cli_now();
  int rc = load_queries(queries, &s);
  if (rc == CLI_OK) rc = run ? eval_run(run, &s) : eval_index(index, queries, &so, &s);
  if (rc == CLI_OK) {
    eval_totals t;
    totals(&s, &t);
    if (json) rc = print_json(&s, &t, index, run, queries, k, per_query);
    else print_text(&s, &t, per_query);
    fprintf(stderr, "kosearch: evaluated %zu queries (%zu skipped) in %.2f s\n", s.n, t.skipped,
            cli_now() - t0);
  }
  set_free(&s);
  return rc;
}

const cli_command cli_cmd_eval = {"eval", "measure MRR, recall and nDCG on judged queries",
                                  eval_help, run_eval};
