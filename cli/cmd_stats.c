/*
 * cmd_stats.c - `kosearch stats`: print the statistics of an index
 * (ks_db_get_stats) as text or as one JSON object. What is printed depends
 * on the backend: a native index has per-file sizes, segments and a commit
 * generation; a Xapian database has per-field term counts and lengths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

static const char stats_help[] =
    "Usage: kosearch stats INDEX [--json]\n"
    "\n"
    "Print the statistics of INDEX. A native index: live and deleted documents,\n"
    "distinct terms, postings, total field lengths, segments, commit generation,\n"
    "and the bytes used by each file kind (.tid term dictionary, .doc doc ids +\n"
    "frequencies, .pos positions, .len field lengths, .sto stored documents, .del\n"
    "deleted documents, MANIFEST). A Xapian database: documents, distinct terms\n"
    "per field, total and average document length, databases, size on disk.\n"
    "\n"
    "Options:\n"
    "  --json      print one JSON object instead of text\n"
    "  -h, --help  show this help\n";

static void line_bytes(const char *label, uint64_t n) {
  char h[32];
  cli_human_bytes(n, h, sizeof h);
  printf("%-20s %llu (%s)\n", label, (unsigned long long)n, h);
}

/* Print one JSON object and free it. */
static int print_json(cJSON *o) {
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!s) return cli_error("out of memory");
  puts(s);
  free(s);
  return CLI_OK;
}

/* A Xapian database or shard layout: what Xapian tells. */
static int print_xapian(const ks_db_stats *st, int json) {
  if (json) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return cli_error("out of memory");
    cJSON_AddStringToObject(o, "backend", st->backend);
    cJSON_AddNumberToObject(o, "documents", (double)st->docs);
    cJSON_AddNumberToObject(o, "terms_word", (double)st->terms_word);
    cJSON_AddNumberToObject(o, "terms_bigram", (double)st->terms_bigram);
    cJSON_AddNumberToObject(o, "terms", (double)st->terms);
    cJSON_AddNumberToObject(o, "total_length", (double)st->total_length);
    cJSON_AddNumberToObject(o, "avg_length", st->avg_length);
    cJSON_AddNumberToObject(o, "shards", (double)st->shards);
    cJSON_AddNumberToObject(o, "bytes_total", (double)st->bytes_total);
    return print_json(o);
  }
  char h[32];
  cli_human_bytes(st->bytes_total, h, sizeof h);
  printf("backend: %s (%u database%s)\n", st->backend, st->shards, st->shards == 1 ? "" : "s");
  printf("documents: %llu\n", (unsigned long long)st->docs);
  printf("distinct terms: %llu (word %llu, bigram %llu)\n", (unsigned long long)st->terms,
         (unsigned long long)st->terms_word, (unsigned long long)st->terms_bigram);
  printf("total length: %llu (all terms of all documents; average %.2f)\n",
         (unsigned long long)st->total_length, st->avg_length);
  printf("size: %llu bytes (%s)\n", (unsigned long long)st->bytes_total, h);
  printf("(postings and per-file sizes are not reported for the %s backend)\n", st->backend);
  return CLI_OK;
}

static int print_native(const char *index, const ks_db_stats *st, int json) {
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON *b = cJSON_CreateObject();
    if (!o || !b) {
      cJSON_Delete(o);
      cJSON_Delete(b);
      return cli_error("out of memory");
    }
    cJSON_AddStringToObject(o, "index", index);
    cJSON_AddStringToObject(o, "backend", st->backend);
    cJSON_AddNumberToObject(o, "documents", (double)st->docs);
    cJSON_AddNumberToObject(o, "deleted", (double)st->deleted);
    cJSON_AddNumberToObject(o, "terms", (double)st->terms);
    cJSON_AddNumberToObject(o, "postings", (double)st->postings);
    cJSON_AddNumberToObject(o, "word_field_length", (double)st->field_total[0]);
    cJSON_AddNumberToObject(o, "bigram_field_length", (double)st->field_total[1]);
    cJSON_AddNumberToObject(o, "segments", (double)st->segments);
    cJSON_AddNumberToObject(o, "generation", (double)st->generation);
    cJSON_AddNumberToObject(b, "tid", (double)st->bytes_tid);
    cJSON_AddNumberToObject(b, "doc", (double)st->bytes_doc);
    cJSON_AddNumberToObject(b, "pos", (double)st->bytes_pos);
    cJSON_AddNumberToObject(b, "len", (double)st->bytes_len);
    cJSON_AddNumberToObject(b, "sto", (double)st->bytes_sto);
    cJSON_AddNumberToObject(b, "del", (double)st->bytes_del);
    cJSON_AddNumberToObject(b, "manifest", (double)st->bytes_manifest);
    cJSON_AddNumberToObject(b, "total", (double)st->bytes_total);
    cJSON_AddItemToObject(o, "bytes", b);
    return print_json(o);
  }
  printf("index                %s\n", index);
  printf("documents            %llu\n", (unsigned long long)st->docs);
  printf("deleted              %llu\n", (unsigned long long)st->deleted);
  printf("distinct terms       %llu\n", (unsigned long long)st->terms);
  printf("postings             %llu\n", (unsigned long long)st->postings);
  printf("word field length    %llu\n", (unsigned long long)st->field_total[0]);
  printf("bigram field length  %llu\n", (unsigned long long)st->field_total[1]);
  printf("segments             %u\n", st->segments);
  printf("generation           %llu\n", (unsigned long long)st->generation);
  line_bytes("bytes .tid", st->bytes_tid);
  line_bytes("bytes .doc", st->bytes_doc);
  line_bytes("bytes .pos", st->bytes_pos);
  line_bytes("bytes .len", st->bytes_len);
  line_bytes("bytes .sto", st->bytes_sto);
  line_bytes("bytes .del", st->bytes_del);
  line_bytes("bytes MANIFEST", st->bytes_manifest);
  line_bytes("bytes total", st->bytes_total);
  return CLI_OK;
}

enum { OPT_JSON = 1000 };
static const struct option stats_options[] = {{"json", no_argument, NULL, OPT_JSON},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};

static int run_stats(int argc, char **argv) {
  const char *cmd = "stats";
  int json = 0, c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":h", stats_options, cmd)) != -1) {
    if (c == 'h') {
      cli_print_help(&cli_cmd_stats);
      return CLI_OK;
    }
    if (c != OPT_JSON) return CLI_USAGE;
    json = 1;
  }
  if (optind >= argc) return cli_usage(cmd, "missing INDEX");
  if (optind + 1 < argc)
    return cli_usage(cmd, "unexpected argument '%s' (one INDEX only)", argv[optind + 1]);
  const char *index = argv[optind];

  ks_err e;
  ks_err_clear(&e);
  ks_db *db = NULL;
  ks_db_stats st;
  memset(&st, 0, sizeof st);
  if (ks_db_open(index, &db, &e)) return cli_error("%s", cli_strip_tags(e.msg));
  int rc = ks_db_get_stats(db, &st, &e);
  ks_db_close(db);
  if (rc) return cli_error("%s", cli_strip_tags(e.msg));
  /* st.backend is a static string: valid after the close */
  if (strcmp(st.backend, "native") == 0) return print_native(index, &st, json);
  return print_xapian(&st, json);
}

const cli_command cli_cmd_stats = {"stats", "print index statistics (documents, terms, bytes per file kind)",
                                   stats_help, run_stats};
