/*
 * cmd_check.c - `kosearch check`: verify a whole index (ks_index_check),
 * printing the checker's report lines, then "ok" (exit 0) or the first
 * problem (exit 1).
 */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "kosearch.h"
#include "index.h"
#include "index_writer.h"
#include "xap_backend.h"

static const char check_help[] =
    "Usage: kosearch check INDEX\n"
    "\n"
    "Verify INDEX completely: every file's checksum, the term dictionaries,\n"
    "every postings list and its skip data, positions, field lengths against\n"
    "the collection totals, and the stored documents. Prints what is checked,\n"
    "then \"ok\" and exits 0, or prints the first problem found (naming the file)\n"
    "and exits 1.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

static void report(void *ctx, const char *line) {
  (void)ctx;
  printf("%s\n", line);
  fflush(stdout);
}

static int run_check(int argc, char **argv) {
  const char *cmd = "check", *index = NULL;
  int opts_done = 0;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!opts_done && strcmp(s, "--") == 0) { opts_done = 1; continue; }
    if (!opts_done && s[0] == '-' && s[1]) return cli_usage(cmd, "unknown option '%s'", s);
    if (index) return cli_usage(cmd, "unexpected argument '%s' (one INDEX only)", s);
    index = s;
  }
  if (!index) return cli_usage(cmd, "missing INDEX");
  if (cli_xap_detect(index))
    return cli_error("%s: check is not supported for the Xapian backend; Xapian's own "
                     "checker is 'xapian-check %s' (Debian xapian-tools)",
                     index, index);
  ks_err e;
  ks_err_clear(&e);
  if (ks_index_check(index, report, NULL, &e))
    return cli_error("%s", cli_strip_tags(e.msg));
  printf("ok\n");
  return CLI_OK;
}

const cli_command cli_cmd_check = {"check", "verify every file, postings list and stored document of an index",
                                   check_help, run_check};
