/*
 * cmd_stats.c - `kosearch stats`: print the statistics of an index
 * (ks_index_get_stats) as text or as one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"
#include "index.h"
#include "index_writer.h"
#include "xap_backend.h"

static const char stats_help[] =
    "Usage: kosearch stats INDEX [--json]\n"
    "\n"
    "Print the statistics of INDEX: live and deleted documents, distinct terms,\n"
    "postings, total field lengths, segments, commit generation, and the bytes\n"
    "used by each file kind (.tid term dictionary, .doc doc ids + frequencies,\n"
    ".pos positions, .len field lengths, .sto stored documents, .del deleted\n"
    "documents, MANIFEST).\n"
    "\n"
    "Options:\n"
    "  --json      print one JSON object instead of text\n"
    "  -h, --help  show this help\n";

static void line_bytes(const char *label, uint64_t n) {
  char h[32];
  cli_human_bytes(n, h, sizeof h);
  printf("%-20s %llu (%s)\n", label, (unsigned long long)n, h);
}

/* stats of a Xapian database or shard layout: what Xapian tells. */
static int xap_stats(const char *index, int json) {
  ks_err e;
  ks_err_clear(&e);
  ks_xap_db *db = NULL;
  ks_xap_stats st;
  uint64_t words = 0, bigrams = 0;
  int rc = cli_xap_open(index, NULL, 0, &db, &e);
  if (!rc) rc = ks_xap_get_stats(db, &st, &e);
  if (!rc) rc = ks_xap_count_terms(db, &words, &bigrams, &e);
  ks_xap_close(db);
  if (rc) return cli_error("%s", cli_strip_tags(e.msg));
  uint64_t bytes = cli_dir_bytes(index);
  if (json) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return cli_error("out of memory");
    cJSON_AddStringToObject(o, "backend", "xapian");
    cJSON_AddNumberToObject(o, "documents", (double)st.docs);
    cJSON_AddNumberToObject(o, "terms_word", (double)words);
    cJSON_AddNumberToObject(o, "terms_bigram", (double)bigrams);
    cJSON_AddNumberToObject(o, "terms", (double)(words + bigrams));
    cJSON_AddNumberToObject(o, "total_length", (double)st.total_length);
    cJSON_AddNumberToObject(o, "avg_length", st.avg_length);
    cJSON_AddNumberToObject(o, "shards", (double)st.shards);
    cJSON_AddNumberToObject(o, "bytes_total", (double)bytes);
    char *s = cJSON_PrintUnformatted(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
    return CLI_OK;
  }
  char h[32];
  cli_human_bytes(bytes, h, sizeof h);
  printf("backend: xapian (%u database%s)\n", st.shards, st.shards == 1 ? "" : "s");
  printf("documents: %llu\n", (unsigned long long)st.docs);
  printf("distinct terms: %llu (word %llu, bigram %llu)\n",
         (unsigned long long)(words + bigrams), (unsigned long long)words,
         (unsigned long long)bigrams);
  printf("total length: %llu (all terms of all documents; average %.2f)\n",
         (unsigned long long)st.total_length, st.avg_length);
  printf("size: %llu bytes (%s)\n", (unsigned long long)bytes, h);
  printf("(postings and per-file sizes are not reported for the Xapian backend)\n");
  return CLI_OK;
}

static int run_stats(int argc, char **argv) {
  const char *cmd = "stats", *index = NULL;
  int json = 0, opts_done = 0;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!opts_done && strcmp(s, "--") == 0) { opts_done = 1; continue; }
    if (!opts_done && s[0] == '-' && s[1]) {
      if (strcmp(s, "--json") == 0) json = 1;
      else return cli_usage(cmd, "unknown option '%s'", s);
      continue;
    }
    if (index) return cli_usage(cmd, "unexpected argument '%s' (one INDEX only)", s);
    index = s;
  }
  if (!index) return cli_usage(cmd, "missing INDEX");
  if (cli_xap_detect(index)) return xap_stats(index, json);

  ks_err e;
  ks_err_clear(&e);
  ks_index *ix = NULL;
  ks_index_stats st;
  memset(&st, 0, sizeof st);
  if (ks_index_open(index, &ix, &e)) return cli_error("%s", cli_strip_tags(e.msg));
  int rc = ks_index_get_stats(ix, &st, &e);
  ks_index_close(ix);
  if (rc) return cli_error("%s", cli_strip_tags(e.msg));

  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON *b = cJSON_CreateObject();
    if (!o || !b) {
      cJSON_Delete(o);
      cJSON_Delete(b);
      return cli_error("out of memory");
    }
    cJSON_AddStringToObject(o, "index", index);
    cJSON_AddNumberToObject(o, "documents", (double)st.docs);
    cJSON_AddNumberToObject(o, "deleted", (double)st.deleted);
    cJSON_AddNumberToObject(o, "terms", (double)st.terms);
    cJSON_AddNumberToObject(o, "postings", (double)st.postings);
    cJSON_AddNumberToObject(o, "word_field_length", (double)st.field_total[0]);
    cJSON_AddNumberToObject(o, "bigram_field_length", (double)st.field_total[1]);
    cJSON_AddNumberToObject(o, "segments", (double)st.segments);
    cJSON_AddNumberToObject(o, "generation", (double)st.generation);
    cJSON_AddNumberToObject(b, "tid", (double)st.bytes_tid);
    cJSON_AddNumberToObject(b, "doc", (double)st.bytes_doc);
    cJSON_AddNumberToObject(b, "pos", (double)st.bytes_pos);
    cJSON_AddNumberToObject(b, "len", (double)st.bytes_len);
    cJSON_AddNumberToObject(b, "sto", (double)st.bytes_sto);
    cJSON_AddNumberToObject(b, "del", (double)st.bytes_del);
    cJSON_AddNumberToObject(b, "manifest", (double)st.bytes_manifest);
    cJSON_AddNumberToObject(b, "total", (double)st.bytes_total);
    cJSON_AddItemToObject(o, "bytes", b);
    char *s = cJSON_PrintUnformatted(o);
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
    return s ? CLI_OK : cli_error("out of memory");
  }
  printf("index                %s\n", index);
  printf("documents            %llu\n", (unsigned long long)st.docs);
  printf("deleted              %llu\n", (unsigned long long)st.deleted);
  printf("distinct terms       %llu\n", (unsigned long long)st.terms);
  printf("postings             %llu\n", (unsigned long long)st.postings);
  printf("word field length    %llu\n", (unsigned long long)st.field_total[0]);
  printf("bigram field length  %llu\n", (unsigned long long)st.field_total[1]);
  printf("segments             %u\n", st.segments);
  printf("generation           %llu\n", (unsigned long long)st.generation);
  line_bytes("bytes .tid", st.bytes_tid);
  line_bytes("bytes .doc", st.bytes_doc);
  line_bytes("bytes .pos", st.bytes_pos);
  line_bytes("bytes .len", st.bytes_len);
  line_bytes("bytes .sto", st.bytes_sto);
  line_bytes("bytes .del", st.bytes_del);
  line_bytes("bytes MANIFEST", st.bytes_manifest);
  line_bytes("bytes total", st.bytes_total);
  return CLI_OK;
}

const cli_command cli_cmd_stats = {"stats", "print index statistics (documents, terms, bytes per file kind)",
                                   stats_help, run_stats};
