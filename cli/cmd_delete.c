/*
 * cmd_delete.c - `kosearch delete`: delete documents of an existing index
 * by id (ks_writer_delete on a KS_WRITER_UPDATE writer), one commit at the
 * end, and print a summary.
 *
 * Invariants:
 *   - INDEX must already be an index: delete never creates one;
 *   - the --ids file is opened before the index is touched;
 *   - an id with no live document is counted and named (the first
 *     MAX_NAMED), not an error; with --strict any such id fails the run
 *     and nothing is committed;
 *   - an invalid id (too long, NUL byte, invalid UTF-8) fails the run and
 *     nothing is committed: such a list is not what the user meant;
 *   - the commit happens only when something was deleted, so a run that
 *     deletes nothing leaves INDEX's commit and files as they were.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_util.h"
#include "kosearch.h"

#define MAX_NAMED 5 /* ids not found that are named on stderr */

static const char delete_help[] =
    "Usage: kosearch delete INDEX [OPTIONS] ID...\n"
    "       kosearch delete INDEX [OPTIONS] --ids FILE\n"
    "\n"
    "Delete the documents with the given ids from the index INDEX (which must\n"
    "exist; native or Xapian, detected). All deletions are committed at once at\n"
    "the end (atomically: searches see all of them or none); when nothing was\n"
    "deleted, nothing is committed and INDEX stays as it was.\n"
    "\n"
    "An id with no document in INDEX is counted as not found, and the first 5\n"
    "are named on stderr (\"kosearch: warning: INDEX: no document with id 'X'\");\n"
    "the run still succeeds (exit 0) unless --strict. An id given twice is not\n"
    "found the second time. An invalid id (over 1024 bytes, a NUL byte, invalid\n"
    "UTF-8) is an error: exit 1, nothing deleted. An ID that starts with '-'\n"
    "goes after '--': kosearch delete INDEX -- -5.\n"
    "\n"
    "Options:\n"
    "  --ids FILE   also delete the ids in FILE (- for standard input), one per\n"
    "               line, taken verbatim except for the line end (\\n or \\r\\n);\n"
    "               empty lines are skipped\n"
    "  --strict     if any id is not found, delete nothing: exit 1, INDEX unchanged\n"
    "  -q, --quiet  print no summary\n"
    "  --json       print the summary as one JSON object\n"
    "  -h, --help   show this help\n"
    "\n"
    "Summary: ids given, deleted, not found, documents live after the commit.\n"
    "\n"
    "Example:\n"
    "  kosearch delete my.idx 003_76e429a04e766a80.txt\n"
    "  printf '%s\\n' a b c | kosearch delete my.idx --ids -\n";

enum { OPT_IDS = CLI_OPT_FIRST_FREE, OPT_STRICT, OPT_JSON };

static const struct option delete_options[] = {
    {"ids", required_argument, NULL, OPT_IDS},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

typedef struct del_state {
  const char *index;
  ks_writer *w;
  uint64_t ids, deleted, not_found;
} del_state;

/* Delete one id; `where` names it for an error ("FILE:LINE" or
 * "argument N"). CLI_OK (deleted or not found) or CLI_ERROR. */
static int delete_one(del_state *st, const char *id, size_t len, const char *where) {
  ks_err e;
  ks_err_clear(&e);
  st->ids++;
  int rc = ks_writer_delete(st->w, id, len, &e);
  if (rc == KS_OK) {
    st->deleted++;
    return CLI_OK;
  }
  if (rc == KS_NOTFOUND) {
    if (++st->not_found <= MAX_NAMED)
      cli_warn("%s: no document with id '%.*s'", st->index, (int)len, id);
    return CLI_OK;
  }
  if (rc == KS_EINPUT || rc == KS_EUTF8)
    return cli_error("%s: invalid id: %s (nothing deleted, %s unchanged)", where,
                     cli_strip_tags(e.msg), st->index);
  return cli_error("%s: %s (nothing deleted, %s unchanged)", st->index, cli_strip_tags(e.msg),
                   st->index);
}

/* Delete every id of the open file f (named `path`). CLI_OK or CLI_ERROR. */
static int delete_file(del_state *st, FILE *f, const char *path) {
  char *line = NULL;
  size_t cap = 0;
  unsigned long long lineno = 0;
  ssize_t got;
  int rc = CLI_OK;
  while (rc == CLI_OK && (got = getline(&line, &cap, f)) >= 0) {
    lineno++;
    size_t len = (size_t)got;
    if (len && line[len - 1] == '\n') len--;
    if (len && line[len - 1] == '\r') len--;
    if (len == 0) continue;
    char where[4200];
    snprintf(where, sizeof where, "%s:%llu", path, lineno);
    rc = delete_one(st, line, len, where);
  }
  if (rc == CLI_OK && ferror(f)) rc = cli_error("%s: read failed: %s", path, strerror(errno));
  free(line);
  return rc;
}

static void print_summary(const del_state *st, const ks_writer_stats *ws, int native,
                          const char *backend, int committed, double secs, int json) {
  if (json) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return;
    cJSON_AddStringToObject(j, "index", st->index);
    cJSON_AddStringToObject(j, "backend", backend);
    cJSON_AddNumberToObject(j, "ids", (double)st->ids);
    cJSON_AddNumberToObject(j, "deleted", (double)st->deleted);
    cJSON_AddNumberToObject(j, "not_found", (double)st->not_found);
    cJSON_AddBoolToObject(j, "committed", committed);
    cJSON_AddNumberToObject(j, "documents_live", (double)ws->docs_live);
    cJSON_AddNumberToObject(j, "generation", (double)ws->generation);
    cJSON_AddNumberToObject(j, "seconds", secs);
    char *s = cJSON_PrintUnformatted(j);
    if (s) puts(s);
    free(s);
    cJSON_Delete(j);
    return;
  }
  printf("index: %s\n", st->index);
  printf("ids: %llu\n", (unsigned long long)st->ids);
  printf("deleted: %llu\n", (unsigned long long)st->deleted);
  printf("not found: %llu\n", (unsigned long long)st->not_found);
  printf("documents live: %llu\n", (unsigned long long)ws->docs_live);
  if (native && committed) printf("generation: %llu\n", (unsigned long long)ws->generation);
  if (!committed) printf("(nothing deleted: the index was not changed)\n");
  printf("time: %.2f s\n", secs);
}

static int run_delete(int argc, char **argv) {
  const char *cmd = "delete";
  const char *ids_path = NULL;
  int strict = 0, quiet = 0, json = 0, c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":qh", delete_options, cmd)) != -1) {
    switch (c) {
    case 'h':
      cli_print_help(&cli_cmd_delete);
      return CLI_OK;
    case OPT_IDS:
      if (ids_path) return cli_usage(cmd, "--ids given more than once");
      ids_path = optarg;
      break;
    case OPT_STRICT:
      strict = 1;
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
  if (optind + 1 >= argc && !ids_path)
    return cli_usage(cmd, "missing ID (ids as arguments, or --ids FILE)");
  del_state st;
  memset(&st, 0, sizeof st);
  st.index = argv[optind];

  cli_index_info info;
  if (cli_index_probe(st.index, &info)) return CLI_ERROR;
  if (!info.exists) return cli_error("%s: no such index (nothing to delete from)", st.index);
  FILE *f = NULL;
  if (ids_path && strcmp(ids_path, "-") == 0) f = stdin;
  else if (ids_path && !(f = fopen(ids_path, "r")))
    return cli_error("%s: cannot open: %s", ids_path, strerror(errno));

  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.backend = info.backend;
  o.shards = info.shards;
  o.mode = KS_WRITER_UPDATE;
  double t0 = cli_now();
  int rc = cli_writer_open(st.index, &o, &st.w);
  for (int i = optind + 1; rc == CLI_OK && i < argc; i++) {
    char where[32];
    snprintf(where, sizeof where, "argument %d", i - optind);
    rc = delete_one(&st, argv[i], strlen(argv[i]), where);
  }
  if (rc == CLI_OK && f)
    rc = delete_file(&st, f, strcmp(ids_path, "-") == 0 ? "(standard input)" : ids_path);
  if (rc == CLI_OK && st.not_found > MAX_NAMED)
    cli_warn("%llu more ids were not found (%llu in all)",
             (unsigned long long)(st.not_found - MAX_NAMED), (unsigned long long)st.not_found);
  if (rc == CLI_OK && strict && st.not_found)
    rc = cli_error("%llu of %llu ids not found (--strict: nothing deleted, %s unchanged)",
                   (unsigned long long)st.not_found, (unsigned long long)st.ids, st.index);
  int committed = 0;
  if (rc == CLI_OK && st.deleted) {
    ks_err e;
    ks_err_clear(&e);
    if (ks_writer_commit(st.w, &e))
      rc = cli_error("%s (nothing deleted, %s unchanged)", cli_strip_tags(e.msg), st.index);
    else committed = 1;
  }
  ks_writer_stats ws;
  ks_writer_get_stats(st.w, &ws);
  ks_writer_close(st.w);
  if (f && f != stdin) fclose(f);
  int native = strcmp(info.backend, "native") == 0;
  if (rc == CLI_OK && !quiet)
    print_summary(&st, &ws, native, info.backend, committed, cli_now() - t0, json);
  return rc;
}

const cli_command cli_cmd_delete = {"delete", "delete documents from an index by id",
                                    delete_help, run_delete};
