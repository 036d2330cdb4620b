/*
 * cmd_index.c - `kosearch index`: read inputs (ks_input_*), feed a writer
 * (ks_writer_*, of the backend --backend names), commit, print a summary.
 *
 * Invariants:
 *   - every input is opened (and so checked to exist) before the index is
 *     touched, so a mistyped path does not leave an empty index behind;
 *   - a rejected record is always counted, even when its message is not
 *     printed (only the first MAX_WARNINGS are);
 *   - with --strict the writer is closed without commit on the first bad
 *     record, which leaves the previous commit of INDEX as it was;
 *   - the progress line (stderr, only on a terminal) is erased before any
 *     other message is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

#define MAX_WARNINGS 20
#define PROGRESS_PERIOD 0.25 /* seconds between progress updates */

static const char index_help[] =
    "Usage: kosearch index -o INDEX [OPTIONS] INPUT...\n"
    "\n"
    "Build the index INDEX (a directory) from the INPUTs. When the run succeeds\n"
    "the new index atomically replaces what INDEX held before; when it fails,\n"
    "INDEX is left as it was.\n"
    "\n"
    "Inputs (see docs/input.md):\n"
    "  FILE            JSON Lines, one {\"id\", \"title\", \"text\", ...} object per line;\n"
    "                  gzip-compressed files are detected and decompressed\n"
    "  FILE.txt        one document: id = file name, title = first non-empty line\n"
    "  DIR             every *.txt *.jsonl *.jsonl.gz *.json *.ndjson file below DIR\n"
    "                  (sorted by path; a .txt file's id is its path relative to DIR)\n"
    "  -               JSON Lines from standard input\n"
    "\n"
    "Options:\n"
    "  -o, --output INDEX  index directory, created if needed (required)\n"
    "  --mem-budget MB     buffer at most MB mebibytes of postings in memory before\n"
    "                      flushing a segment (default 256)\n"
    "  --no-merge          keep the flushed segments instead of merging them into one\n"
    "  --threads N         1 or 2 (default 2): with 2, documents are analyzed, and\n"
    "                      segments compressed, written and merged, on helper\n"
    "                      threads; the index has the same content either way\n"
    "  --max-doc-mb N      reject documents whose title + text exceed N mebibytes\n"
    "                      (default 64, at most 256)\n"
    "  --strict            stop at the first bad record: exit 1, INDEX unchanged\n"
    "  -q, --quiet         print neither the progress line nor the summary\n"
    "  --json              print the summary as one JSON object\n"
    "  --backend NAME      native (default) or xapian: build a Xapian database\n"
    "                      from the same analyzed terms (docs/xapian.md)\n"
    "  --shards N          xapian only: split the documents by id into N databases\n"
    "                      INDEX/shard-0 .. INDEX/shard-(N-1) (for remote search)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Bad records (invalid JSON, \"text\" missing or not a string, invalid UTF-8,\n"
    "NUL bytes, empty or too large documents) are reported on stderr as\n"
    "\"kosearch: warning: FILE:LINE: reason\" (the first 20 of them), skipped,\n"
    "and counted in the summary. A document whose id was seen before replaces\n"
    "the earlier one. On a terminal a progress line is shown on stderr.\n"
    "\n"
    "Example:\n"
    "  kosearch index -o wiki.idx kowiki-sample.jsonl.gz\n";

typedef struct run_state {
  int strict, quiet, json;
  ks_input **inputs;
  char **input_names;
  size_t ninputs;
  size_t cur_input;       /* input being read */
  uint64_t done_before;   /* on-disk bytes of finished inputs */
  uint64_t total;         /* sum of input sizes (0: some unknown) */
  int total_known;
  uint64_t docs_seen;     /* records returned by the inputs */
  uint64_t skipped;       /* bad records */
  ks_writer *w;           /* the writer (for text byte counts) */
  int progress_on;        /* stderr is a terminal and not --quiet */
  int progress_shown;     /* a progress line is on the screen */
  double t0, last_progress;
} run_state;

static void progress_clear(run_state *st) {
  if (st->progress_shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
    st->progress_shown = 0;
  }
}

static uint64_t bytes_done(const run_state *st) {
  uint64_t done = 0, total = 0;
  if (st->cur_input < st->ninputs)
    ks_input_progress(st->inputs[st->cur_input], &done, &total);
  return st->done_before + done;
}

static void progress_show(run_state *st, const char *what) {
  double now = cli_now();
  st->last_progress = now;
  double el = now - st->t0;
  uint64_t done = bytes_done(st);
  double mbs = el > 0 ? (double)done / 1e6 / el : 0;
  char eta[32] = "";
  if (st->total_known && st->total > 0 && done > 0 && el > 0.5) {
    double left = (double)(st->total > done ? st->total - done : 0) / ((double)done / el);
    unsigned s = (unsigned)(left + 0.5);
    snprintf(eta, sizeof eta, " | ETA %u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
  }
  char pct[16] = "";
  if (st->total_known && st->total > 0)
    snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * (double)done / (double)st->total);
  ks_writer_stats ws;
  ks_writer_get_stats(st->w, &ws);
  double text_mbs = el > 0 ? (double)ws.bytes_in / 1e6 / el : 0;
  fprintf(stderr, "\r%s%llu documents | %.1f MB read%s, %.1f MB/s | %.1f MB of text, %.1f MB/s%s\033[K",
          what, (unsigned long long)st->docs_seen, (double)done / 1e6, pct, mbs,
          (double)ws.bytes_in / 1e6, text_mbs, eta);
  fflush(stderr);
  st->progress_shown = 1;
}

/* A rejected record: count it; print it (or fail, with --strict).
 * Returns 0 to continue, CLI_ERROR to stop. */
static int bad_record(run_state *st, const char *where, const ks_err *e) {
  st->skipped++;
  /* where == NULL: the message comes from the input and already starts
   * with "FILE:LINE: "; the writer's messages do not. */
  const char *msg = cli_strip_tags(e->msg);
  int has_where = where == NULL;
  if (st->strict) {
    progress_clear(st);
    cli_error("%s%s%s (--strict: stopping; the index was not changed)",
              has_where ? "" : where, has_where ? "" : ": ", msg);
    return CLI_ERROR;
  }
  if (st->skipped <= MAX_WARNINGS) {
    progress_clear(st);
    cli_warn("%s%s%s (skipped)", has_where ? "" : where, has_where ? "" : ": ", msg);
  }
  return 0;
}

/* The summary. `backend` is the --backend name. */
static void print_summary(const run_state *st, const char *index, const ks_writer_stats *ws,
                          double secs, const char *backend) {
  int native = strcmp(backend, "native") == 0;
  uint64_t in_bytes = st->done_before;
  uint64_t rss = cli_peak_rss();
  double mbs = secs > 0 ? (double)in_bytes / 1e6 / secs : 0;
  double text_mbs = secs > 0 ? (double)ws->bytes_in / 1e6 / secs : 0;
  if (st->json) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "index", index);
    cJSON_AddStringToObject(o, "backend", backend);
    cJSON_AddNumberToObject(o, "documents_indexed", (double)ws->docs_added);
    cJSON_AddNumberToObject(o, "documents_replaced", (double)ws->docs_replaced);
    cJSON_AddNumberToObject(o, "documents_skipped", (double)st->skipped);
    cJSON_AddNumberToObject(o, "documents_live", (double)ws->docs_live);
    cJSON_AddNumberToObject(o, "terms", (double)ws->terms);
    cJSON_AddNumberToObject(o, "postings", (double)ws->postings);
    cJSON_AddNumberToObject(o, "segments", (double)ws->segments);
    cJSON_AddNumberToObject(o, "segments_flushed", (double)ws->segments_flushed);
    cJSON_AddNumberToObject(o, "index_bytes", (double)ws->index_bytes);
    cJSON_AddNumberToObject(o, "input_bytes", (double)in_bytes);
    cJSON_AddNumberToObject(o, "text_bytes", (double)ws->bytes_in);
    cJSON_AddNumberToObject(o, "seconds", secs);
    cJSON_AddNumberToObject(o, "input_mb_per_s", mbs);
    cJSON_AddNumberToObject(o, "text_mb_per_s", text_mbs);
    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)rss);
    char *s = cJSON_PrintUnformatted(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
    return;
  }
  char a[32], b[32], c[32];
  printf("index: %s\n", index);
  printf("documents indexed: %llu\n", (unsigned long long)ws->docs_added);
  printf("documents replaced: %llu (same id seen again; the later one is kept)\n",
         (unsigned long long)ws->docs_replaced);
  printf("documents skipped: %llu (bad input)\n", (unsigned long long)st->skipped);
  printf("documents live: %llu\n", (unsigned long long)ws->docs_live);
  printf("distinct terms: %llu\n", (unsigned long long)ws->terms);
  printf("postings: %llu\n", (unsigned long long)ws->postings);
  if (!native)
    printf("backend: %s (%u database%s; postings counts replaced documents too)\n", backend,
           ws->segments, ws->segments == 1 ? "" : "s, one per shard");
  else
    printf("segments: %u (%u flushed while indexing)\n", ws->segments, ws->segments_flushed);
  cli_human_bytes(ws->index_bytes, a, sizeof a);
  printf("index size: %llu bytes (%s)\n", (unsigned long long)ws->index_bytes, a);
  cli_human_bytes(in_bytes, b, sizeof b);
  cli_human_bytes(ws->bytes_in, c, sizeof c);
  printf("input: %llu bytes read (%s), %s of title+text indexed\n",
         (unsigned long long)in_bytes, b, c);
  printf("time: %.2f s\n", secs);
  printf("throughput: %.2f MB/s of input read, %.2f MB/s of title+text\n", mbs, text_mbs);
  cli_human_bytes(rss, a, sizeof a);
  printf("peak memory: %s (maximum resident set size)\n", a);
}

enum {
  OPT_MEM_BUDGET = 1000,
  OPT_THREADS,
  OPT_MAX_DOC_MB,
  OPT_NO_MERGE,
  OPT_STRICT,
  OPT_JSON,
  OPT_BACKEND,
  OPT_SHARDS
};

static const struct option index_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"mem-budget", required_argument, NULL, OPT_MEM_BUDGET},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-doc-mb", required_argument, NULL, OPT_MAX_DOC_MB},
    {"no-merge", no_argument, NULL, OPT_NO_MERGE},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"shards", required_argument, NULL, OPT_SHARDS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_index(int argc, char **argv) {
  const char *cmd = "index";
  const char *out = NULL, *backend = "native";
  uint64_t mem_mb = 0, doc_mb = 0, nshards = 0, nthreads = 0;
  int no_merge = 0, c;
  run_state st;
  memset(&st, 0, sizeof st);
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":o:qh", index_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_index);
      return CLI_OK;
    case 'o':
      out = optarg;
      break;
    case OPT_MEM_BUDGET:
      if (cli_parse_u64(cmd, "--mem-budget", optarg, 1, 1u << 20, &mem_mb)) return CLI_USAGE;
      break;
    case OPT_THREADS:
      if (cli_parse_u64(cmd, "--threads", optarg, 1, 2, &nthreads)) return CLI_USAGE;
      break;
    case OPT_MAX_DOC_MB:
      if (cli_parse_u64(cmd, "--max-doc-mb", optarg, 1, 256, &doc_mb)) return CLI_USAGE;
      break;
    case OPT_NO_MERGE:
      no_merge = 1;
      break;
    case OPT_STRICT:
      st.strict = 1;
      break;
    case 'q':
      st.quiet = 1;
      break;
    case OPT_JSON:
      st.json = 1;
      break;
    case OPT_BACKEND:
      if (strcmp(optarg, "native") != 0 && strcmp(optarg, "xapian") != 0)
        return cli_usage(cmd, "--backend must be native or xapian (got '%s')", optarg);
      backend = optarg;
      break;
    case OPT_SHARDS:
      if (cli_parse_u64(cmd, "--shards", optarg, 1, UINT32_MAX, &nshards)) return CLI_USAGE;
      break;
    default:
      return CLI_USAGE;
    }
  }
  /* getopt moved the INPUTs to argv[optind..argc) */
  char **names = argv + optind;
  size_t n = (size_t)(argc - optind);
  int native = strcmp(backend, "native") == 0;
  if (!out) return cli_usage(cmd, "missing -o INDEX (the index directory to write)");
  if (n == 0) return cli_usage(cmd, "no INPUT given (files, directories, or - for standard input)");
  int stdin_seen = 0;
  for (size_t k = 0; k < n; k++)
    if (strcmp(names[k], "-") == 0 && stdin_seen++)
      return cli_usage(cmd, "'-' (standard input) given more than once");
  if (nshards && native) return cli_usage(cmd, "--shards needs --backend xapian");
  if (!native && (mem_mb || no_merge || nthreads))
    return cli_usage(cmd, "--mem-budget, --no-merge and --threads apply to the native backend only");

  ks_err e;
  ks_err_clear(&e);
  int rc = CLI_OK;
  st.inputs = calloc(n, sizeof *st.inputs);
  st.input_names = names;
  st.ninputs = n;
  if (!st.inputs) return cli_error("out of memory");
  st.total_known = 1;
  for (size_t k = 0; k < n; k++) {
    if (ks_input_open(names[k], &st.inputs[k], &e)) {
      rc = cli_error("%s", cli_strip_tags(e.msg));
      goto done;
    }
    uint64_t d, t;
    ks_input_progress(st.inputs[k], &d, &t);
    if (t == 0) st.total_known = 0;
    st.total += t;
  }

  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.mode = KS_WRITER_REPLACE; /* index builds a new index */
  o.backend = backend;
  o.shards = (uint32_t)nshards;
  if (mem_mb) o.mem_budget = (size_t)mem_mb << 20;
  if (doc_mb) o.max_doc_bytes = (size_t)doc_mb << 20;
  if (no_merge) o.merge = 0;
  if (nthreads) o.threads = (int)nthreads;
  if (ks_writer_open(out, &o, &st.w, &e)) {
    rc = cli_error("%s", cli_strip_tags(e.msg));
    goto done;
  }

  st.progress_on = !st.quiet && isatty(STDERR_FILENO);
  st.t0 = cli_now();
  st.last_progress = st.t0;
  for (st.cur_input = 0; st.cur_input < n; st.cur_input++) {
    ks_input *in = st.inputs[st.cur_input];
    for (;;) {
      ks_doc doc;
      int irc = ks_input_next(in, &doc, &e);
      if (irc == KS_DONE) break;
      st.docs_seen++;
      if (irc == KS_EINPUT || irc == KS_EUTF8) {
        if (bad_record(&st, NULL, &e)) { rc = CLI_ERROR; goto done; }
      } else if (irc != KS_OK) {
        progress_clear(&st);
        rc = cli_error("%s", cli_strip_tags(e.msg));
        goto done;
      } else {
        int wrc = ks_writer_add(st.w, &doc, &e);
        if (wrc == KS_EINPUT || wrc == KS_EUTF8 || wrc == KS_ELIMIT) {
          if (bad_record(&st, ks_input_where(in), &e)) { rc = CLI_ERROR; goto done; }
        } else if (wrc != KS_OK) {
          progress_clear(&st);
          rc = cli_error("%s: %s", ks_input_where(in), cli_strip_tags(e.msg));
          goto done;
        }
      }
      if (st.progress_on && cli_now() - st.last_progress >= PROGRESS_PERIOD)
        progress_show(&st, "");
    }
    uint64_t d, t;
    ks_input_progress(in, &d, &t);
    st.done_before += d;
    ks_input_close(in);
    st.inputs[st.cur_input] = NULL;
  }
  if (st.progress_on) progress_show(&st, "committing: ");
  if (ks_writer_commit(st.w, &e)) {
    progress_clear(&st);
    rc = cli_error("%s (the previous index is unchanged)", cli_strip_tags(e.msg));
    goto done;
  }
  progress_clear(&st);
  double secs = cli_now() - st.t0;
  if (st.skipped > MAX_WARNINGS)
    cli_warn("%llu more bad records were skipped without a message (%llu in all)",
             (unsigned long long)(st.skipped - MAX_WARNINGS),
             (unsigned long long)st.skipped);
  ks_writer_stats ws;
  ks_writer_get_stats(st.w, &ws);
  if (!st.quiet) print_summary(&st, out, &ws, secs, backend);

done:
  progress_clear(&st);
  ks_writer_close(st.w);
  for (size_t k = 0; k < n; k++) ks_input_close(st.inputs[k]);
  free(st.inputs);
  return rc;
}

const cli_command cli_cmd_index = {"index", "build an index from JSON Lines, .txt files or directories",
                                   index_help, run_index};
