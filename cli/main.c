/*
 * main.c - entry point of the `kosearch` program: registers the optional
 * backends, dispatches to the commands (index, add, delete, merge, search,
 * get, stats, check, eval, bench, analyze, serve) and prints help and version.
 *
 *   kosearch --help | -h          general help
 *   kosearch --version            program, analyzer and backends
 *   kosearch help [CMD]           help of one command
 *   kosearch CMD --help           same (each command parses its options)
 *   kosearch CMD ARGS...          run a command
 *
 * Exit codes: 0 success, 1 error, 2 usage error (see cli_util.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "kosearch.h"
#ifdef KS_WITH_XAPIAN
#include "kosearch/xapian.h"
#endif

static const cli_command *const commands[] = {
    &cli_cmd_index, &cli_cmd_add,   &cli_cmd_delete, &cli_cmd_merge,   &cli_cmd_search,
    &cli_cmd_get,   &cli_cmd_stats, &cli_cmd_check,  &cli_cmd_eval,    &cli_cmd_bench,
    &cli_cmd_analyze, &cli_cmd_serve, NULL};

/* The backends registered at startup, for --version (cli_backends). */
static char backends[64] = "native";

static const cli_command *find_command(const char *name) {
  for (int i = 0; commands[i]; i++)
    if (strcmp(commands[i]->name, name) == 0) return commands[i];
  return NULL;
}

/* cli_backends: see cli_util.h. */
const char *cli_backends(void) { return backends; }

/* cli_print_help: see cli_util.h. */
void cli_print_help(const cli_command *cmd) {
  if (cmd) {
    fputs(cmd->help, stdout);
    return;
  }
  printf("kosearch %s - full-text search for Korean text\n\n"
         "Usage: kosearch COMMAND [OPTIONS] ARGS...\n\n"
         "Commands:\n",
         ks_version());
  for (int i = 0; commands[i]; i++)
    printf("  %-8s %s\n", commands[i]->name, commands[i]->summary);
  printf("  %-8s %s\n", "help", "show the help of a command (kosearch help index)");
  printf("\nOptions:\n"
         "  -h, --help     show this help\n"
         "  --version      print the version and the backends built in\n\n"
         "Exit status: 0 success, 1 error, 2 invalid command line.\n"
         "Example:\n"
         "  kosearch index -o my.idx corpus/\n"
         "  kosearch search my.idx 대통령\n"
         "  kosearch add my.idx more.jsonl\n"
         "  kosearch delete my.idx 003_76e429a04e766a80.txt\n");
}

/* Register the optional backends this program was built with. A backend
 * that fails to register is left out of cli_backends (its indexes then
 * give the library's "built without" error) with a warning. */
static void register_backends(void) {
#ifdef KS_WITH_XAPIAN
  ks_err e;
  ks_err_clear(&e);
  if (ks_xapian_register(&e) == KS_OK)
    strcat(backends, " xapian");
  else
    cli_warn("the Xapian backend is not available: %s", cli_strip_tags(e.msg));
#endif
}

int main(int argc, char **argv) {
  register_backends();
  if (argc < 2) {
    cli_print_help(NULL);
    return CLI_USAGE;
  }
  const char *a = argv[1];
  if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
    cli_print_help(NULL);
    return CLI_OK;
  }
  if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
    printf("kosearch %s (analyzer version %d)\n", ks_version(), KS_TOK_VERSION);
    printf("backends: %s\n", cli_backends());
    return CLI_OK;
  }
  if (strcmp(a, "help") == 0) {
    if (argc == 2) {
      cli_print_help(NULL);
      return CLI_OK;
    }
    const cli_command *c = find_command(argv[2]);
    if (!c) return cli_usage(NULL, "unknown command '%s'", argv[2]);
    if (argc > 3) return cli_usage(NULL, "help takes one command name");
    cli_print_help(c);
    return CLI_OK;
  }
  const cli_command *c = find_command(a);
  if (!c) {
    if (a[0] == '-') return cli_usage(NULL, "unknown option '%s'", a);
    return cli_usage(NULL, "unknown command '%s'", a);
  }
  int rc = c->run(argc - 1, argv + 1);
  if (fflush(stdout) != 0 && rc == CLI_OK) rc = cli_error("cannot write the output");
  return rc;
}
