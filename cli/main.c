/*
 * main.c - entry point of the `kosearch` program: dispatches to the
 * commands (index, search, stats, check, eval, bench) and prints help and version.
 *
 *   kosearch --help | -h          general help
 *   kosearch --version            program and analyzer versions
 *   kosearch help [CMD]           help of one command
 *   kosearch CMD --help           same
 *   kosearch CMD ARGS...          run a command
 *
 * Exit codes: 0 success, 1 error, 2 usage error (see cli_util.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "kosearch.h"
#include "index.h"
#include "index_writer.h"

static const cli_command *const commands[] = {
    &cli_cmd_index, &cli_cmd_search, &cli_cmd_stats, &cli_cmd_check,
    &cli_cmd_eval, &cli_cmd_bench, &cli_cmd_analyze, NULL};

static const cli_command *find_command(const char *name) {
  for (int i = 0; commands[i]; i++)
    if (strcmp(commands[i]->name, name) == 0) return commands[i];
  return NULL;
}

/* cli_print_help: see cli_util.h. */
void cli_print_help(const cli_command *cmd) {
  if (cmd) {
    fputs(cmd->help, stdout);
    return;
  }
  printf("kosearch %s - full-text search for Korean text\n\n"
         "Usage: kosearch COMMAND [OPTIONS] ARGS...\n\n"
         "Commands:\n",
         KS_CLI_VERSION);
  for (int i = 0; commands[i]; i++)
    printf("  %-8s %s\n", commands[i]->name, commands[i]->summary);
  printf("  %-8s %s\n", "help", "show the help of a command (kosearch help index)");
  printf("\nOptions:\n"
         "  -h, --help     show this help\n"
         "  --version      print the version\n\n"
         "Exit status: 0 success, 1 error, 2 invalid command line.\n"
         "Example:\n"
         "  kosearch index -o my.idx corpus/\n"
         "  kosearch search my.idx 대통령\n");
}

int main(int argc, char **argv) {
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
    printf("kosearch %s (analyzer version %d)\n", KS_CLI_VERSION, KS_TOK_VERSION);
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
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_print_help(c);
      return CLI_OK;
    }
  }
  int rc = c->run(argc - 1, argv + 1);
  if (fflush(stdout) != 0 && rc == CLI_OK) rc = cli_error("cannot write the output");
  return rc;
}
