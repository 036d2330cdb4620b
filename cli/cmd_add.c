/*
 * cmd_add.c - `kosearch add`: add the documents of the INPUTs to INDEX
 * (a KS_WRITER_UPDATE writer: a document whose id is live replaces it),
 * creating INDEX if it does not exist, and print a summary. Reading the
 * inputs, bad records, progress, --commit-every and the empty-run rule are
 * ingest.c's, shared with `kosearch index`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "ingest.h"
#include "kosearch.h"

static const char add_help[] =
    "Usage: kosearch add INDEX [OPTIONS] INPUT...\n"
    "\n"
    "Add the documents of the INPUTs to the index INDEX. A document whose id is\n"
    "already in INDEX replaces it (upsert): searches and kosearch get then see\n"
    "the new version only. INDEX is created when it does not exist (of the kind\n"
    "--backend and --shards give); an existing index keeps its own kind.\n"
    "Inputs are those of kosearch index (JSON Lines, plain or gzip; .txt files;\n"
    "directories; - for standard input; see docs/input.md).\n"
    "\n"
    "Everything is committed at the end, atomically: searches see all of the\n"
    "run's documents or none. With --commit-every N a commit follows every N\n"
    "accepted documents, so a long run publishes its progress. Only committed\n"
    "documents survive a crash or a kill; a failed run (or --strict) keeps what\n"
    "was committed before the failure and discards the rest.\n"
    "\n"
    "A run that accepts no document (empty input, only bad records) is an\n"
    "error: exit 1, INDEX unchanged, and no directory created.\n"
    "\n"
    "Options:\n"
    "  --commit-every N    commit after every N accepted documents (default: one\n"
    "                      commit at the end)\n"
    "  --allow-empty       a run that accepts no document succeeds (exit 0; it\n"
    "                      creates an empty index when INDEX does not exist)\n"
    "  --strict            stop at the first bad record: exit 1, nothing committed\n"
    "                      since the last commit\n"
    "  --mem-budget MB     buffer at most MB mebibytes of postings in memory before\n"
    "                      flushing a segment (default 256; native)\n"
    "  --no-merge          never merge segments: every flush stays a segment until\n"
    "                      kosearch merge (native)\n"
    "  --threads N         1 or 2 (default 2): analysis and segment writes on helper\n"
    "                      threads (native)\n"
    "  --max-doc-mb N      reject documents whose title + text exceed N mebibytes\n"
    "                      (default 64, at most 256)\n"
    "  -q, --quiet         print neither the progress line nor the summary\n"
    "  --json              print the summary as one JSON object\n"
    "  --backend NAME      native (default) or xapian: the kind of a new INDEX\n"
    "  --shards N          xapian only: a new INDEX of N databases (docs/xapian.md)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Bad records are reported on stderr as \"kosearch: warning: FILE:LINE:\n"
    "reason (skipped)\" (the first 20 of them), skipped, and counted as\n"
    "rejected. Only one command writes to an index at a time: another index,\n"
    "add, delete or merge on INDEX fails with \"locked by another writer\".\n"
    "\n"
    "Summary: documents added (accepted), replaced (their id was live),\n"
    "rejected, live after the last commit; commits; segments and generation\n"
    "of the last commit (a native index may merge segments in the background:\n"
    "add waits for such a merge before it exits and commits it as well).\n"
    "\n"
    "Example:\n"
    "  kosearch add my.idx new-articles.jsonl\n";

/* The summary. */
static void print_summary(const cli_ingest_opts *o, const cli_ingest_result *r) {
  const ks_writer_stats *ws = &r->ws;
  int native = strcmp(r->backend, "native") == 0;
  if (o->json) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return;
    cJSON_AddStringToObject(j, "index", o->index);
    cJSON_AddStringToObject(j, "backend", r->backend);
    cJSON_AddBoolToObject(j, "created", r->created);
    cJSON_AddNumberToObject(j, "documents_added", (double)ws->docs_added);
    cJSON_AddNumberToObject(j, "documents_replaced", (double)ws->docs_replaced);
    cJSON_AddNumberToObject(j, "documents_rejected", (double)r->rejected);
    cJSON_AddNumberToObject(j, "documents_live", (double)ws->docs_live);
    cJSON_AddNumberToObject(j, "segments", (double)ws->segments);
    cJSON_AddNumberToObject(j, "commits", (double)r->commits);
    cJSON_AddNumberToObject(j, "generation", (double)ws->generation);
    cJSON_AddNumberToObject(j, "index_bytes", (double)ws->index_bytes);
    cJSON_AddNumberToObject(j, "merges", (double)ws->merges);
    cJSON_AddNumberToObject(j, "merged_bytes", (double)ws->merged_bytes);
    cJSON_AddNumberToObject(j, "input_bytes", (double)r->input_bytes);
    cJSON_AddNumberToObject(j, "text_bytes", (double)ws->bytes_in);
    cJSON_AddNumberToObject(j, "seconds", r->secs);
    char *s = cJSON_PrintUnformatted(j);
    if (s) puts(s);
    free(s);
    cJSON_Delete(j);
    return;
  }
  char a[32], b[32], c[32];
  printf("index: %s%s\n", o->index, r->created ? " (created)" : "");
  printf("documents added: %llu\n", (unsigned long long)ws->docs_added);
  printf("documents replaced: %llu (their id was live; the new version is kept)\n",
         (unsigned long long)ws->docs_replaced);
  printf("documents rejected: %llu (bad input, skipped)\n", (unsigned long long)r->rejected);
  printf("documents live: %llu (after the last commit)\n", (unsigned long long)ws->docs_live);
  if (native)
    printf("segments: %u\n", ws->segments);
  else
    printf("backend: %s (%u database%s)\n", r->backend, ws->segments,
           ws->segments == 1 ? "" : "s, one per shard");
  printf("commits: %llu\n", (unsigned long long)r->commits);
  if (native) printf("generation: %llu\n", (unsigned long long)ws->generation);
  if (native && ws->merges) {
    cli_human_bytes(ws->merged_bytes, a, sizeof a);
    printf("merges: %u (%s written)\n", ws->merges, a);
  }
  cli_human_bytes(ws->index_bytes, a, sizeof a);
  printf("index size: %llu bytes (%s)\n", (unsigned long long)ws->index_bytes, a);
  cli_human_bytes(r->input_bytes, b, sizeof b);
  cli_human_bytes(ws->bytes_in, c, sizeof c);
  printf("input: %llu bytes read (%s), %s of title+text indexed\n",
         (unsigned long long)r->input_bytes, b, c);
  printf("time: %.2f s\n", r->secs);
}

enum { OPT_COMMIT_EVERY = CLI_OPT_INGEST_END };

static const struct option add_options[] = {
    CLI_INGEST_OPTIONS,
    {"commit-every", required_argument, NULL, OPT_COMMIT_EVERY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_add(int argc, char **argv) {
  cli_ingest_opts o;
  memset(&o, 0, sizeof o);
  o.cmd = "add";
  o.mode = KS_WRITER_UPDATE;
  int c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":qh", add_options, o.cmd)) != -1) {
    if (c == 'h') {
      cli_print_help(&cli_cmd_add);
      return CLI_OK;
    }
    if (c == OPT_COMMIT_EVERY) {
      if (cli_parse_u64(o.cmd, "--commit-every", optarg, 1, UINT64_MAX, &o.commit_every))
        return CLI_USAGE;
      continue;
    }
    int r = cli_ingest_option(c, optarg, &o);
    if (r <= 0) return CLI_USAGE;
  }
  /* getopt moved INDEX and the INPUTs to argv[optind..argc) */
  if (optind >= argc) return cli_usage(o.cmd, "missing INDEX (the index directory to add to)");
  o.index = argv[optind];
  o.inputs = argv + optind + 1;
  o.ninputs = (size_t)(argc - optind - 1);
  int rc = cli_ingest_check(&o);
  if (rc) return rc;
  cli_ingest_result r;
  rc = cli_ingest_run(&o, &r);
  if (rc == CLI_OK && !o.quiet) print_summary(&o, &r);
  return rc;
}

const cli_command cli_cmd_add = {"add", "add documents to an index (a known id replaces its document)",
                                 add_help, run_add};
