/*
 * cmd_get.c - `kosearch get`: print the stored JSON document of each id
 * given (ks_db_get), one per line, like `xapian-delve -r`.
 *
 * Every id is looked up in order. An id without a document gets an error
 * line on stderr ("kosearch: error: INDEX: no document with id 'X'") and
 * the others are still printed; the exit code is then 1. Any other failure
 * (a corrupt index, out of memory) stops at once with exit 1.
 */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "kosearch.h"

static const char get_help[] =
    "Usage: kosearch get INDEX ID...\n"
    "\n"
    "Print the stored document of each ID in INDEX (native or Xapian: detected),\n"
    "one JSON object per line, in the order given: the input record's fields\n"
    "as they were indexed (at least \"id\" and \"text\"). An ID that starts with\n"
    "'-' goes after '--': kosearch get INDEX -- -5.\n"
    "\n"
    "An ID with no document is reported on stderr (\"kosearch: error: INDEX: no\n"
    "document with id 'ID'\"); the other documents are still printed, and the\n"
    "exit status is 1.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n"
    "\n"
    "Example:\n"
    "  kosearch get my.idx 003_76e429a04e766a80.txt\n";

static const struct option get_options[] = {{"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};

static int run_get(int argc, char **argv) {
  const char *cmd = "get";
  int c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":h", get_options, cmd)) != -1) {
    if (c == 'h') {
      cli_print_help(&cli_cmd_get);
      return CLI_OK;
    }
    return CLI_USAGE;
  }
  if (optind >= argc) return cli_usage(cmd, "missing INDEX");
  if (optind + 1 >= argc) return cli_usage(cmd, "missing ID (the id of a document to print)");
  const char *index = argv[optind];

  ks_err e;
  ks_err_clear(&e);
  ks_db *db = NULL;
  if (ks_db_open(index, &db, &e)) return cli_error("%s", cli_strip_tags(e.msg));
  int rc = CLI_OK;
  for (int i = optind + 1; i < argc; i++) {
    char *json = NULL;
    size_t len = 0;
    int grc = ks_db_get(db, argv[i], strlen(argv[i]), &json, &len, &e);
    if (grc == KS_NOTFOUND) {
      rc = cli_error("%s: no document with id '%s'", index, argv[i]);
      continue;
    }
    if (grc != KS_OK) {
      rc = cli_error("%s: %s", index, cli_strip_tags(e.msg));
      break;
    }
    fwrite(json, 1, len, stdout);
    putchar('\n');
    ks_mem_free(json);
  }
  ks_db_close(db);
  return rc;
}

const cli_command cli_cmd_get = {"get", "print the stored documents of the given ids",
                                 get_help, run_get};
