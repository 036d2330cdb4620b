/*
 * cmd_bench.c - `kosearch bench`: query latency and throughput of an index,
 * optionally side by side with a second index in the same process.
 *
 *   kosearch bench INDEX --queries FILE.tsv [-k 10] [--warmup N] [--repeat R]
 *                  [--threads T] [--algorithm A] [--vs OTHER [--vs-algorithm A]]
 *                  [--json] [--latencies FILE]
 *
 * What is timed (CLOCK_MONOTONIC, per query): the search call (analysis,
 * parsing, matching, top-k: ks_db_search) plus fetching the id of every
 * returned hit (ks_results_hit). Not timed: process start, opening the
 * indexes, reading the query file, freeing the results.
 *
 * Scheduling: a "job" is (pass, query); jobs are handed out by one shared
 * atomic counter. Every thread searches with its own handle (ks_db_dup of
 * the first: a native index shares its mapped files, a Xapian database is
 * opened again). Every index is searched with xapian_pruning set, so a
 * Xapian database uses Xapian's own pruning matcher (its normal mode, as a
 * Xapian user runs it), not the exhaustive mode `kosearch search` uses for
 * exact results; the native backend ignores it. With --vs each job runs
 * the query on both indexes, alternating which goes first (even jobs ours
 * first, odd jobs theirs first) so that neither always benefits from the
 * other's cache warming. Latencies go to a per-engine array slot owned by the job: no
 * locks. Warmup passes run the same way without recording.
 *
 * Figures: mean, p50/p95/p99 (nearest rank: the ceil(p/100 * n)-th smallest),
 * max, all in ms over the measured jobs; QPS = threads * 1000 / mean ms
 * (Little's law: each thread has one query in flight). Queries the parser
 * rejects (KS_EQUERY) are counted as skipped and left out.
 *
 * --latencies FILE writes every measured job's latency (TSV: pass, query
 * number, query id, ours ms, theirs ms; "-" for a query the parser
 * rejected), for latency distributions (benchmarks/run.sh draws them).
 *
 * Algorithm names come from cli_algorithm_value (cli_util.c); without
 * --algorithm the searcher's default is used.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

/* Build facts recorded by --json (set by CMakeLists.txt on this file). */
#ifndef KS_BUILD_COMMIT
#define KS_BUILD_COMMIT ""
#endif
#ifndef KS_BUILD_CFLAGS
#define KS_BUILD_CFLAGS "unknown"
#endif
#ifndef KS_BUILD_TYPE
#define KS_BUILD_TYPE "unknown"
#endif

#define BENCH_MAX_THREADS 256

static const char bench_help[] =
    "Usage: kosearch bench INDEX --queries FILE.tsv [-k N] [--warmup N] [--repeat R]\n"
    "                      [--threads T] [--algorithm A] [--vs OTHER] [--json]\n"
    "                      [--latencies FILE]\n"
    "\n"
    "Measure query latency on INDEX (native or Xapian: detected) with the queries\n"
    "of FILE.tsv (qid<TAB>query[<TAB>...] lines, as for `kosearch search --queries`).\n"
    "A Xapian index is searched with Xapian's own pruning matcher (its normal mode).\n"
    "The latency of one query is the search call (analysis, parsing, matching,\n"
    "top-k) plus fetching the ids of its hits, timed with a monotonic clock;\n"
    "process start and index opening are not included. Prints mean, p50, p95,\n"
    "p99 and max latency (ms) and QPS (= threads x 1000 / mean ms).\n"
    "\n"
    "Options:\n"
    "  --queries FILE.tsv   the queries (required); every line is one query\n"
    "  -k N                 hits per query (default 10)\n"
    "  --warmup N           untimed passes over the queries first (default 1)\n"
    "  --repeat R           timed passes over the queries (default 1)\n"
    "  --threads T          T threads, each with its own handle on the index(es)\n"
    "                       (a native index's files are shared), taking queries\n"
    "                       from one shared counter (default 1)\n"
    "  --algorithm A        native top-k algorithm: exhaustive, bmw, maxscore\n"
    "                       (default: the searcher's default)\n"
    "  --vs OTHER           also run every query on OTHER (native or Xapian) in\n"
    "                       the same process, interleaved query by query; print\n"
    "                       both and the ratio ours/theirs of every figure\n"
    "  --vs-algorithm A     algorithm on a native OTHER (default: --algorithm);\n"
    "                       OTHER may be INDEX itself: --vs INDEX --vs-algorithm A\n"
    "  --json               one JSON object with the figures, the build (commit,\n"
    "                       compiler, flags), the corpora and the machine\n"
    "  --latencies FILE     also write the latency of every measured query to\n"
    "                       FILE (TSV with a header line: pass, query number\n"
    "                       (1-based line order), query id, ours ms, theirs ms;\n"
    "                       \"-\" where the parser rejected the query)\n"
    "  -h, --help           show this help\n";

typedef struct bench_stats {
  size_t measured, skipped;
  double mean, p50, p95, p99, max, qps; /* ms, ms..., queries/s */
} bench_stats;

typedef struct bench_engine {
  const char *path;
  const char *algorithm;   /* name, or NULL for another backend than native */
  ks_search_opts so;
  ks_db **db;              /* one handle per thread (ks_db_dup of db[0]) */
  const char *backend;     /* ks_db_backend of db[0] */
  double *lat;             /* ms per measured job; NAN = skipped */
  uint64_t docs;
  bench_stats st;
} bench_engine;

typedef struct bench_run {
  char **queries;          /* the query texts (heap) */
  char **qids;             /* their ids (heap), parallel to queries */
  size_t nq;
  bench_engine *eng[2];
  int neng;
  size_t njobs;            /* jobs of the current phase */
  int record;              /* 0 during warmup */
  atomic_size_t next;      /* next job */
  atomic_int failed;
  ks_err err;              /* first fatal error (written by the failing thread) */
  atomic_flag err_taken;
  atomic_size_t sink;      /* keeps the id fetching from being optimised out */
} bench_run;

typedef struct bench_thread {
  bench_run *run;
  int t;                   /* thread number */
  pthread_t th;
} bench_thread;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Run query q on engine x with thread t's handle; returns the latency in
 * ms, NAN if the parser rejected the query, or -1 on a fatal error. */
static double time_one(bench_run *run, bench_engine *x, int t, const char *q) {
  ks_err e;
  ks_err_clear(&e);
  ks_results *r = NULL;
  size_t sum = 0;
  double t0 = now_ms();
  int rc = ks_db_search(x->db[t], q, SIZE_MAX, &x->so, &r, &e);
  size_t n = rc == KS_OK ? ks_results_count(r) : 0;
  for (size_t i = 0; i < n && rc == KS_OK; i++) {
    ks_hit h;
    rc = ks_results_hit(r, i, &h);
    if (rc == KS_OK) sum += h.id_len + (size_t)(unsigned char)h.id[0];
    else ks_err_set(&e, rc, "[bench][hit] %s: hit %zu: %s", x->path, i + 1, ks_strerror(rc));
  }
  double ms = now_ms() - t0;
  ks_results_free(r);
  atomic_fetch_add_explicit(&run->sink, sum, memory_order_relaxed);
  if (rc == KS_EQUERY) return NAN;
  if (rc) {
    if (!atomic_flag_test_and_set(&run->err_taken)) run->err = e;
    atomic_store(&run->failed, 1);
    return -1;
  }
  return ms;
}

static void *bench_worker(void *arg) {
  bench_thread *bt = arg;
  bench_run *run = bt->run;
  for (;;) {
    size_t j = atomic_fetch_add(&run->next, 1);
    if (j >= run->njobs || atomic_load(&run->failed)) break;
    const char *q = run->queries[j % run->nq];
    for (int s = 0; s < run->neng; s++) {
      int which = (run->neng == 2 && (j & 1)) ? 1 - s : s;
      bench_engine *x = run->eng[which];
      double ms = time_one(run, x, bt->t, q);
      if (ms < 0) return NULL;
      if (run->record) x->lat[j] = ms;
    }
  }
  return NULL;
}

/* One phase of `passes` passes over the queries with `threads` threads.
 * CLI_OK or an exit code (message printed). *wall_s: elapsed seconds. */
static int run_phase(bench_run *run, uint64_t passes, int threads, int record, double *wall_s) {
  bench_thread bt[BENCH_MAX_THREADS];
  run->njobs = (size_t)passes * run->nq;
  run->record = record;
  atomic_store(&run->next, 0);
  double t0 = now_ms();
  int started = 0, rc = CLI_OK;
  for (int t = 1; t < threads; t++) {
    bt[t] = (bench_thread){run, t, 0};
    if (pthread_create(&bt[t].th, NULL, bench_worker, &bt[t]) != 0) {
      atomic_store(&run->failed, 1);
      rc = cli_error("cannot start a thread: %s", strerror(errno));
      break;
    }
    started = t;
  }
  bt[0] = (bench_thread){run, 0, 0};
  bench_worker(&bt[0]);
  for (int t = 1; t <= started; t++) pthread_join(bt[t].th, NULL);
  if (wall_s) *wall_s = (now_ms() - t0) / 1e3;
  if (rc == CLI_OK && atomic_load(&run->failed))
    rc = cli_error("%s", cli_strip_tags(run->err.msg));
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank: the ceil(p/100 * n)-th smallest of sorted v[0..n). */
static double percentile(const double *v, size_t n, double p) {
  size_t r = (size_t)ceil(p / 100.0 * (double)n);
  if (r < 1) r = 1;
  if (r > n) r = n;
  return v[r - 1];
}

static int compute_stats(bench_engine *x, size_t njobs, int threads) {
  double *v = malloc((njobs ? njobs : 1) * sizeof *v);
  if (!v) return -1;
  size_t n = 0;
  double sum = 0;
  for (size_t j = 0; j < njobs; j++)
    if (!isnan(x->lat[j])) v[n++] = x->lat[j], sum += x->lat[j];
  memset(&x->st, 0, sizeof x->st);
  x->st.measured = n;
  x->st.skipped = njobs - n;
  if (n) {
    qsort(v, n, sizeof *v, cmp_double);
    x->st.mean = sum / (double)n;
    x->st.p50 = percentile(v, n, 50);
    x->st.p95 = percentile(v, n, 95);
    x->st.p99 = percentile(v, n, 99);
    x->st.max = v[n - 1];
    x->st.qps = x->st.mean > 0 ? (double)threads * 1000.0 / x->st.mean : 0;
  }
  free(v);
  return 0;
}

/* ---- machine and build facts --------------------------------------------- */

static void cpu_model(char *buf, size_t size) {
  snprintf(buf, size, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    char *c = strchr(line, ':');
    if (!c) continue;
    c++;
    while (*c == ' ' || *c == '\t') c++;
    c[strcspn(c, "\n")] = '\0';
    snprintf(buf, size, "%s", c);
    break;
  }
  fclose(f);
}

static const char *build_commit(void) {
  const char *env = getenv("KS_COMMIT");
  if (env && env[0]) return env;
  return KS_BUILD_COMMIT[0] ? KS_BUILD_COMMIT : "unknown";
}

/* ---- output -------------------------------------------------------------- */

static const char *figure_names[] = {"mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "qps"};
static const char *figure_labels[] = {"mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "QPS"};

static double figure(const bench_stats *s, int i) {
  const double f[] = {s->mean, s->p50, s->p95, s->p99, s->max, s->qps};
  return f[i];
}

static cJSON *engine_json(const bench_engine *x) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "index", x->path);
  cJSON_AddStringToObject(o, "backend", x->backend);
  cJSON_AddNumberToObject(o, "docs", (double)x->docs);
  if (x->algorithm) cJSON_AddStringToObject(o, "algorithm", x->algorithm);
  else cJSON_AddNullToObject(o, "algorithm");
  cJSON_AddNumberToObject(o, "measured", (double)x->st.measured);
  cJSON_AddNumberToObject(o, "skipped", (double)x->st.skipped);
  for (int i = 0; i < 6; i++) cJSON_AddNumberToObject(o, figure_names[i], figure(&x->st, i));
  return o;
}

typedef struct bench_args {
  const char *queries;
  uint64_t k, warmup, repeat, threads;
} bench_args;

static int print_json(const bench_run *run, const bench_args *a, double wall_s) {
  char cpu[256];
  cpu_model(cpu, sizeof cpu);
  cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateObject(), *c = cJSON_CreateObject();
  if (!o || !m || !c) {
    cJSON_Delete(o), cJSON_Delete(m), cJSON_Delete(c);
    return cli_error("out of memory");
  }
  cJSON_AddStringToObject(o, "command", "bench");
  cJSON_AddStringToObject(o, "kosearch_version", ks_version());
  cJSON_AddStringToObject(o, "commit", build_commit());
  cJSON_AddStringToObject(o, "compiler", __VERSION__);
  cJSON_AddStringToObject(o, "flags", KS_BUILD_CFLAGS);
  cJSON_AddStringToObject(o, "build_type", KS_BUILD_TYPE);
  cJSON_AddStringToObject(m, "cpu", cpu);
  cJSON_AddNumberToObject(m, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
  cJSON_AddItemToObject(o, "machine", m);
  cJSON_AddStringToObject(c, "index", run->eng[0]->path);
  cJSON_AddNumberToObject(c, "docs", (double)run->eng[0]->docs);
  cJSON_AddItemToObject(o, "corpus", c);
  cJSON_AddStringToObject(o, "queries_file", a->queries);
  cJSON_AddNumberToObject(o, "queries", (double)run->nq);
  cJSON_AddNumberToObject(o, "k", (double)a->k);
  cJSON_AddNumberToObject(o, "warmup", (double)a->warmup);
  cJSON_AddNumberToObject(o, "repeat", (double)a->repeat);
  cJSON_AddNumberToObject(o, "threads", (double)a->threads);
  cJSON_AddNumberToObject(o, "wall_s", wall_s);
  cJSON_AddItemToObject(o, "ours", engine_json(run->eng[0]));
  if (run->neng == 2) {
    cJSON_AddItemToObject(o, "theirs", engine_json(run->eng[1]));
    cJSON *r = cJSON_AddObjectToObject(o, "ratio");
    for (int i = 0; r && i < 6; i++) {
      double th = figure(&run->eng[1]->st, i);
      if (th > 0) cJSON_AddNumberToObject(r, figure_names[i], figure(&run->eng[0]->st, i) / th);
      else cJSON_AddNullToObject(r, figure_names[i]);
    }
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!s) return cli_error("out of memory");
  puts(s);
  free(s);
  return CLI_OK;
}

static void print_engine_line(const char *who, const bench_engine *x) {
  printf("%s %s (%s, %llu documents%s%s)\n", who, x->path, x->backend,
         (unsigned long long)x->docs, x->algorithm ? ", algorithm " : "",
         x->algorithm ? x->algorithm : "");
}

static void print_text(const bench_run *run, const bench_args *a, double wall_s) {
  const bench_engine *o = run->eng[0], *t = run->neng == 2 ? run->eng[1] : NULL;
  printf("queries: %zu x %llu repeat (warmup %llu), k %llu, threads %llu, %.2f s\n", run->nq,
         (unsigned long long)a->repeat, (unsigned long long)a->warmup, (unsigned long long)a->k,
         (unsigned long long)a->threads, wall_s);
  print_engine_line(t ? "ours:  " : "index:", o);
  if (t) print_engine_line("theirs:", t);
  if (o->st.skipped)
    printf("skipped: %zu measured queries rejected by the parser\n", o->st.skipped);
  if (t)
    printf("%-8s %12s %12s %12s\n", "", "ours", "theirs", "ours/theirs");
  for (int i = 0; i < 6; i++) {
    const char *fmt = i == 5 ? "%-8s %12.1f" : "%-8s %12.3f";
    printf(fmt, figure_labels[i], figure(&o->st, i));
    if (t) {
      double th = figure(&t->st, i);
      printf(i == 5 ? " %12.1f" : " %12.3f", th);
      if (th > 0) printf(" %12.3f", figure(&o->st, i) / th);
      else printf(" %12s", "-");
    }
    putchar('\n');
  }
}

/* ---- command ---------------------------------------------------------------- */

static int parse_algorithm(const char *cmd, const char *opt, const char *val, int *out) {
  if (cli_algorithm_value(val, out) == 0) return 0;
  cli_usage(cmd, "unknown %s '%s' (known: %s)", opt, val, cli_algorithm_names());
  return -1;
}

static int load_queries(const char *path, bench_run *run) {
  cli_tsv t;
  int rc = cli_tsv_open(&t, path), got;
  if (rc) return rc;
  size_t cap = 0;
  char *qid, *query, *rest;
  while ((got = cli_tsv_next(&t, &qid, &query, &rest)) == 1) {
    if (run->nq == cap) {
      size_t ncap = cap ? 2 * cap : 256;
      char **q = realloc(run->queries, ncap * sizeof *q);
      if (q) run->queries = q;
      char **d = q ? realloc(run->qids, ncap * sizeof *d) : NULL;
      if (d) run->qids = d;
      if (!q || !d) {
        got = -2;
        break;
      }
      cap = ncap;
    }
    run->queries[run->nq] = strdup(query);
    run->qids[run->nq] = run->queries[run->nq] ? strdup(qid) : NULL;
    if (!run->qids[run->nq]) {
      free(run->queries[run->nq]);
      got = -2;
      break;
    }
    run->nq++;
  }
  cli_tsv_close(&t);
  if (got == -2) return cli_error("out of memory");
  if (got < 0) return CLI_ERROR;
  if (run->nq == 0) return cli_error("%s: no queries", path);
  return CLI_OK;
}

/* Write one line per measured job to f (opened on path before the run, so
 * that a bad path fails before the measuring): pass, query number, query
 * id, then each engine's latency in ms ("-" for a rejected query). Closes f. */
static int write_latencies(const bench_run *run, size_t njobs, FILE *f, const char *path) {
  fprintf(f, "pass\tquery\tqid\tours_ms%s\n", run->neng == 2 ? "\ttheirs_ms" : "");
  for (size_t j = 0; j < njobs; j++) {
    size_t q = j % run->nq;
    fprintf(f, "%zu\t%zu\t%s", j / run->nq + 1, q + 1, run->qids[q]);
    for (int s = 0; s < run->neng; s++) {
      double ms = run->eng[s]->lat[j];
      if (isnan(ms)) fputs("\t-", f);
      else fprintf(f, "\t%.6f", ms);
    }
    fputc('\n', f);
  }
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  if (bad) return cli_error("%s: write error: %s", path, strerror(errno));
  return CLI_OK;
}

/* Open engine x on x->path with `threads` handles. */
static int open_engine(bench_engine *x, int threads) {
  ks_err e;
  ks_err_clear(&e);
  x->db = calloc((size_t)threads, sizeof *x->db);
  if (!x->db) return cli_error("out of memory");
  if (ks_db_open(x->path, &x->db[0], &e)) return cli_error("%s", cli_strip_tags(e.msg));
  for (int t = 1; t < threads; t++)
    if (ks_db_dup(x->db[0], &x->db[t], &e)) return cli_error("%s", cli_strip_tags(e.msg));
  x->backend = ks_db_backend(x->db[0]);
  ks_db_stats st;
  x->docs = ks_db_get_stats(x->db[0], &st, &e) == KS_OK ? st.docs : 0;
  /* Xapian as its users run it: its own pruning matcher, not the
   * exhaustive mode `kosearch search` uses for exact results (the native
   * backend ignores this) */
  x->so.xapian_pruning = 1;
  if (!cli_db_is_native(x->db[0])) x->algorithm = NULL; /* not ours to choose */
  return CLI_OK;
}

static void close_engine(bench_engine *x, int threads) {
  if (x->db)
    for (int t = 0; t < threads; t++) ks_db_close(x->db[t]);
  free(x->db);
  free(x->lat);
}

enum {
  OPT_QUERIES = 1000,
  OPT_WARMUP,
  OPT_REPEAT,
  OPT_THREADS,
  OPT_ALGORITHM,
  OPT_VS,
  OPT_VS_ALGORITHM,
  OPT_JSON,
  OPT_LATENCIES
};

static const struct option bench_options[] = {
    {"queries", required_argument, NULL, OPT_QUERIES},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"algorithm", required_argument, NULL, OPT_ALGORITHM},
    {"vs", required_argument, NULL, OPT_VS},
    {"vs-algorithm", required_argument, NULL, OPT_VS_ALGORITHM},
    {"json", no_argument, NULL, OPT_JSON},
    {"latencies", required_argument, NULL, OPT_LATENCIES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_bench(int argc, char **argv) {
  const char *cmd = "bench", *index = NULL, *vs = NULL;
  const char *algo = NULL, *vs_algo = NULL, *lat_path = NULL;
  bench_args a = {NULL, 10, 1, 1, 1};
  ks_search_opts defaults;
  ks_search_opts_default(&defaults);
  int json = 0, c, algo_v = defaults.algorithm, vs_algo_v = defaults.algorithm, vs_algo_given = 0;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":k:h", bench_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_bench);
      return CLI_OK;
    case 'k':
      if (cli_parse_u64(cmd, "-k", optarg, 1, KS_MAX_HITS, &a.k)) return CLI_USAGE;
      break;
    case OPT_QUERIES:
      a.queries = optarg;
      break;
    case OPT_WARMUP:
      if (cli_parse_u64(cmd, "--warmup", optarg, 0, 1000, &a.warmup)) return CLI_USAGE;
      break;
    case OPT_REPEAT:
      if (cli_parse_u64(cmd, "--repeat", optarg, 1, 1000, &a.repeat)) return CLI_USAGE;
      break;
    case OPT_THREADS:
      if (cli_parse_u64(cmd, "--threads", optarg, 1, BENCH_MAX_THREADS, &a.threads))
        return CLI_USAGE;
      break;
    case OPT_ALGORITHM:
      if (parse_algorithm(cmd, "--algorithm", optarg, &algo_v)) return CLI_USAGE;
      algo = optarg;
      break;
    case OPT_VS_ALGORITHM:
      if (parse_algorithm(cmd, "--vs-algorithm", optarg, &vs_algo_v)) return CLI_USAGE;
      vs_algo = optarg;
      vs_algo_given = 1;
      break;
    case OPT_VS:
      vs = optarg;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case OPT_LATENCIES:
      lat_path = optarg;
      break;
    default:
      return CLI_USAGE;
    }
  }
  if (optind < argc) index = argv[optind];
  if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
  if (!index) return cli_usage(cmd, "missing INDEX");
  if (!a.queries) return cli_usage(cmd, "missing --queries FILE.tsv");
  if (vs_algo_given && !vs) return cli_usage(cmd, "--vs-algorithm needs --vs OTHER");
  if (!algo) algo = cli_algorithm_name(algo_v);
  if (!vs_algo_given) vs_algo = algo, vs_algo_v = algo_v;
  int threads = (int)a.threads;

  bench_run run;
  memset(&run, 0, sizeof run);
  atomic_init(&run.next, 0);
  atomic_init(&run.failed, 0);
  atomic_init(&run.sink, 0);
  atomic_flag_clear(&run.err_taken);
  bench_engine ours, theirs;
  memset(&ours, 0, sizeof ours);
  memset(&theirs, 0, sizeof theirs);
  ours.so = defaults;
  ours.so.k = (uint32_t)a.k;
  ours.so.algorithm = algo_v;
  ours.path = index;
  ours.algorithm = algo;
  theirs.so = ours.so;
  theirs.so.algorithm = vs_algo_v;
  theirs.path = vs;
  theirs.algorithm = vs_algo;
  run.eng[0] = &ours;
  run.eng[1] = &theirs;
  run.neng = vs ? 2 : 1;

  FILE *lat_f = NULL;
  int rc = load_queries(a.queries, &run);
  if (rc == CLI_OK && lat_path && !(lat_f = fopen(lat_path, "w")))
    rc = cli_error("%s: cannot create: %s", lat_path, strerror(errno));
  if (rc == CLI_OK) rc = open_engine(&ours, threads);
  if (rc == CLI_OK && vs) rc = open_engine(&theirs, threads);
  if (rc == CLI_OK && !ours.algorithm && algo_v != defaults.algorithm)
    cli_warn("--algorithm applies to native indexes only (INDEX is a %s index)", ours.backend);
  if (rc == CLI_OK && vs && !theirs.algorithm && vs_algo_given)
    cli_warn("--vs-algorithm applies to native indexes only (OTHER is a %s index)",
             theirs.backend);
  size_t njobs = (size_t)a.repeat * run.nq;
  for (int s = 0; rc == CLI_OK && s < run.neng; s++) {
    run.eng[s]->lat = malloc(njobs * sizeof(double));
    if (!run.eng[s]->lat) rc = cli_error("out of memory");
  }
  double wall_s = 0;
  if (rc == CLI_OK && a.warmup) rc = run_phase(&run, a.warmup, threads, 0, NULL);
  if (rc == CLI_OK) rc = run_phase(&run, a.repeat, threads, 1, &wall_s);
  for (int s = 0; rc == CLI_OK && s < run.neng; s++)
    if (compute_stats(run.eng[s], njobs, threads)) rc = cli_error("out of memory");
  if (rc == CLI_OK && ours.st.measured == 0) rc = cli_error("every query was rejected by the parser");
  if (lat_f) {
    int wrc = rc == CLI_OK ? write_latencies(&run, njobs, lat_f, lat_path) : (fclose(lat_f), CLI_OK);
    if (rc == CLI_OK) rc = wrc;
  }
  if (rc == CLI_OK) {
    if (json) rc = print_json(&run, &a, wall_s);
    else print_text(&run, &a, wall_s);
  }
  close_engine(&theirs, threads);
  close_engine(&ours, threads);
  for (size_t i = 0; i < run.nq; i++) free(run.queries[i]), free(run.qids[i]);
  free(run.queries);
  free(run.qids);
  return rc;
}

const cli_command cli_cmd_bench = {"bench", "measure query latency (optionally vs another index)",
                                   bench_help, run_bench};
