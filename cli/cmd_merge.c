/*
 * cmd_merge.c - `kosearch merge`: force a merge of an existing index down
 * to at most N segments (ks_writer_merge on a KS_WRITER_UPDATE writer),
 * commit it, and print the segments before and after.
 *
 * Invariants: INDEX must already be an index (merge never creates one);
 * the live documents do not change, only how they are stored; a failure
 * leaves the previous commit as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

static const char merge_help[] =
    "Usage: kosearch merge INDEX [OPTIONS]\n"
    "\n"
    "Merge the segments of the native index INDEX until it has at most N of\n"
    "them (default 1), and commit. With N = 1 the deleted and replaced\n"
    "documents still on disk are dropped too. The documents, and the results\n"
    "of every search, stay the same; searches on fewer segments are faster.\n"
    "Prints the segments (and deleted documents on disk) before and after,\n"
    "and the time taken. On a Xapian index there is nothing to merge (Xapian\n"
    "manages its own tables): the command only commits.\n"
    "\n"
    "Options:\n"
    "  --max-segments N  merge down to at most N segments (default 1)\n"
    "  -q, --quiet       print no summary\n"
    "  --json            print the summary as one JSON object\n"
    "  -h, --help        show this help\n"
    "\n"
    "Example:\n"
    "  kosearch merge my.idx\n";

enum { OPT_MAX_SEGMENTS = CLI_OPT_FIRST_FREE, OPT_JSON };

static const struct option merge_options[] = {
    {"max-segments", required_argument, NULL, OPT_MAX_SEGMENTS},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static int run_merge(int argc, char **argv) {
  const char *cmd = "merge";
  uint64_t max_segments = 1;
  int quiet = 0, json = 0, c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":qh", merge_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_merge);
      return CLI_OK;
    case OPT_MAX_SEGMENTS:
      if (cli_parse_u64(cmd, "--max-segments", optarg, 1, UINT32_MAX, &max_segments))
        return CLI_USAGE;
      break;
    case 'q':
      quiet = 1;
      break;
    case OPT_JSON:
      json = 1;
      break;
    default:
      return CLI_USAGE;
    }
  }
  if (optind >= argc) return cli_usage(cmd, "missing INDEX");
  if (optind + 1 < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
  const char *index = argv[optind];

  cli_index_info info;
  if (cli_index_probe(index, &info)) return CLI_ERROR;
  if (!info.exists) return cli_error("%s: no such index (nothing to merge)", index);
  int native = strcmp(info.backend, "native") == 0;
  ks_db_stats before, after;
  memset(&before, 0, sizeof before);
  memset(&after, 0, sizeof after);
  if (native && cli_index_stats(index, &before)) return CLI_ERROR;

  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.backend = info.backend;
  o.shards = info.shards;
  o.mode = KS_WRITER_UPDATE;
  ks_writer *w = NULL;
  double t0 = cli_now();
  int rc = cli_writer_open(index, &o, &w);
  ks_err e;
  ks_err_clear(&e);
  if (rc == CLI_OK && ks_writer_merge(w, (uint32_t)max_segments, &e))
    rc = cli_error("%s: %s (%s unchanged)", index, cli_strip_tags(e.msg), index);
  if (rc == CLI_OK && ks_writer_commit(w, &e))
    rc = cli_error("%s: %s (%s unchanged)", index, cli_strip_tags(e.msg), index);
  double secs = cli_now() - t0;
  ks_writer_stats ws;
  ks_writer_get_stats(w, &ws);
  ks_writer_close(w);
  if (rc != CLI_OK) return rc;
  if (native && cli_index_stats(index, &after)) return CLI_ERROR;
  if (quiet) return CLI_OK;
  if (json) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return cli_error("out of memory");
    cJSON_AddStringToObject(j, "index", index);
    cJSON_AddStringToObject(j, "backend", info.backend);
    cJSON_AddNumberToObject(j, "max_segments", (double)max_segments);
    cJSON_AddNumberToObject(j, "segments_before", (double)before.segments);
    cJSON_AddNumberToObject(j, "segments_after", (double)after.segments);
    cJSON_AddNumberToObject(j, "deleted_before", (double)before.deleted);
    cJSON_AddNumberToObject(j, "deleted_after", (double)after.deleted);
    cJSON_AddNumberToObject(j, "documents_live", native ? (double)after.docs : (double)ws.docs_live);
    cJSON_AddNumberToObject(j, "generation", (double)after.generation);
    cJSON_AddNumberToObject(j, "seconds", secs);
    char *s = cJSON_PrintUnformatted(j);
    if (s) puts(s);
    free(s);
    cJSON_Delete(j);
    return CLI_OK;
  }
  printf("index: %s\n", index);
  if (native) {
    printf("segments: %u -> %u\n", before.segments, after.segments);
    printf("deleted documents on disk: %llu -> %llu\n", (unsigned long long)before.deleted,
           (unsigned long long)after.deleted);
    printf("documents live: %llu\n", (unsigned long long)after.docs);
    printf("generation: %llu\n", (unsigned long long)after.generation);
  } else {
    printf("backend: %s (Xapian manages its own tables: nothing to merge)\n", info.backend);
  }
  printf("time: %.2f s\n", secs);
  return CLI_OK;
}

const cli_command cli_cmd_merge = {"merge", "merge the segments of an index (and commit)",
                                   merge_help, run_merge};
