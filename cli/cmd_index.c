/*
 * cmd_index.c - `kosearch index`: build a new index from the INPUTs that
 * atomically replaces what INDEX held (a KS_WRITER_REPLACE writer of the
 * backend --backend names), and print a summary. Reading the inputs, bad
 * records, progress and the empty-run rule are ingest.c's, shared with
 * `kosearch add`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "ingest.h"
#include "kosearch.h"

static const char index_help[] =
    "Usage: kosearch index -o INDEX [OPTIONS] INPUT...\n"
    "\n"
    "Build the index INDEX (a directory) from the INPUTs. When the run succeeds\n"
    "the new index atomically replaces what INDEX held before; when it fails,\n"
    "INDEX is left as it was. To add documents to an index, or replace some of\n"
    "them, use kosearch add.\n"
    "\n"
    "A run that accepts no document (empty input, only bad records, a pipe\n"
    "whose producer failed) is an error: exit 1, INDEX unchanged, and no\n"
    "directory created. --allow-empty writes the empty index instead.\n"
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
    "  --allow-empty       when no document is accepted, replace INDEX with an\n"
    "                      empty index (exit 0) instead of failing\n"
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

/* The summary. */
static void print_summary(const cli_ingest_opts *o, const cli_ingest_result *r) {
  const ks_writer_stats *ws = &r->ws;
  int native = strcmp(r->backend, "native") == 0;
  uint64_t in_bytes = r->input_bytes;
  uint64_t rss = cli_peak_rss();
  double secs = r->secs;
  double mbs = secs > 0 ? (double)in_bytes / 1e6 / secs : 0;
  double text_mbs = secs > 0 ? (double)ws->bytes_in / 1e6 / secs : 0;
  if (o->json) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return;
    cJSON_AddStringToObject(j, "index", o->index);
    cJSON_AddStringToObject(j, "backend", r->backend);
    cJSON_AddNumberToObject(j, "documents_indexed", (double)ws->docs_added);
    cJSON_AddNumberToObject(j, "documents_replaced", (double)ws->docs_replaced);
    cJSON_AddNumberToObject(j, "documents_skipped", (double)r->rejected);
    cJSON_AddNumberToObject(j, "documents_live", (double)ws->docs_live);
    cJSON_AddNumberToObject(j, "terms", (double)ws->terms);
    cJSON_AddNumberToObject(j, "postings", (double)ws->postings);
    cJSON_AddNumberToObject(j, "segments", (double)ws->segments);
    cJSON_AddNumberToObject(j, "segments_flushed", (double)ws->segments_flushed);
    cJSON_AddNumberToObject(j, "index_bytes", (double)ws->index_bytes);
    cJSON_AddNumberToObject(j, "input_bytes", (double)in_bytes);
    cJSON_AddNumberToObject(j, "text_bytes", (double)ws->bytes_in);
    cJSON_AddNumberToObject(j, "seconds", secs);
    cJSON_AddNumberToObject(j, "input_mb_per_s", mbs);
    cJSON_AddNumberToObject(j, "text_mb_per_s", text_mbs);
    cJSON_AddNumberToObject(j, "peak_rss_bytes", (double)rss);
    char *s = cJSON_PrintUnformatted(j);
    if (s) puts(s);
    free(s);
    cJSON_Delete(j);
    return;
  }
  char a[32], b[32], c[32];
  printf("index: %s\n", o->index);
  printf("documents indexed: %llu\n", (unsigned long long)ws->docs_added);
  printf("documents replaced: %llu (same id seen again; the later one is kept)\n",
         (unsigned long long)ws->docs_replaced);
  printf("documents skipped: %llu (bad input)\n", (unsigned long long)r->rejected);
  printf("documents live: %llu\n", (unsigned long long)ws->docs_live);
  printf("distinct terms: %llu\n", (unsigned long long)ws->terms);
  printf("postings: %llu\n", (unsigned long long)ws->postings);
  if (!native)
    printf("backend: %s (%u database%s; postings counts replaced documents too)\n", r->backend,
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

static const struct option index_options[] = {
    {"output", required_argument, NULL, 'o'},
    CLI_INGEST_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_index(int argc, char **argv) {
  cli_ingest_opts o;
  memset(&o, 0, sizeof o);
  o.cmd = "index";
  o.mode = KS_WRITER_REPLACE;
  int c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":o:qh", index_options, o.cmd)) != -1) {
    if (c == 'h') {
      cli_print_help(&cli_cmd_index);
      return CLI_OK;
    }
    if (c == 'o') {
      o.index = optarg;
      continue;
    }
    int r = cli_ingest_option(c, optarg, &o);
    if (r <= 0) return CLI_USAGE;
  }
  /* getopt moved the INPUTs to argv[optind..argc) */
  o.inputs = argv + optind;
  o.ninputs = (size_t)(argc - optind);
  if (!o.index) return cli_usage(o.cmd, "missing -o INDEX (the index directory to write)");
  int rc = cli_ingest_check(&o);
  if (rc) return rc;
  cli_ingest_result r;
  rc = cli_ingest_run(&o, &r);
  if (rc == CLI_OK && !o.quiet) print_summary(&o, &r);
  return rc;
}

const cli_command cli_cmd_index = {"index", "build an index from JSON Lines, .txt files or directories",
                                   index_help, run_index};
