/*
 * cmd_check.c - `kosearch check`: verify a whole index (ks_db_check, any
 * backend), printing the checker's report lines, then "ok" (exit 0) or the
 * first problem (exit 1).
 */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "kosearch.h"

static const char check_help[] =
    "Usage: kosearch check INDEX\n"
    "\n"
    "Verify INDEX completely. A native index: every file's checksum, the term\n"
    "dictionaries, every postings list and its skip data, positions, field\n"
    "lengths against the collection totals, and the stored documents. A Xapian\n"
    "database: Xapian's own consistency check of every table. Prints what is\n"
    "checked, then \"ok\" and exits 0, or prints the first problem found (naming\n"
    "the file) and exits 1.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

static void report(void *ctx, const char *line) {
  (void)ctx;
  printf("%s\n", line);
  fflush(stdout);
}

static const struct option check_options[] = {{"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};

static int run_check(int argc, char **argv) {
  const char *cmd = "check";
  int c;
  optind = 0;
  while ((c = cli_getopt(argc, argv, ":h", check_options, cmd)) != -1) {
    if (c == 'h') {
      cli_print_help(&cli_cmd_check);
      return CLI_OK;
    }
    return CLI_USAGE;
  }
  if (optind >= argc) return cli_usage(cmd, "missing INDEX");
  if (optind + 1 < argc)
    return cli_usage(cmd, "unexpected argument '%s' (one INDEX only)", argv[optind + 1]);
  ks_err e;
  ks_err_clear(&e);
  if (ks_db_check(argv[optind], report, NULL, &e)) return cli_error("%s", cli_strip_tags(e.msg));
  printf("ok\n");
  return CLI_OK;
}

const cli_command cli_cmd_check = {"check", "verify every file, postings list and stored document of an index",
                                   check_help, run_check};
