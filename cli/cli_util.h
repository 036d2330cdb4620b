/*
 * cli_util.h - helpers shared by the `kosearch` command-line program:
 * messages, option parsing, numbers, sizes, clocks.
 *
 * The program uses only the public API (include/kosearch.h). Exit codes:
 * 0 success, 1 error (message "kosearch: error: ..." on stderr), 2 usage
 * error (bad command line).
 */
#ifndef KS_CLI_UTIL_H
#define KS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Keep in sync with project(kosearch VERSION ...) in CMakeLists.txt. */
#define KS_CLI_VERSION "0.1.0"

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

/* One command: name, one-line summary, full help text, entry point.
 * run gets argv[0] = the command name; it returns an exit code. */
typedef struct cli_command {
  const char *name;
  const char *summary;
  const char *help;
  int (*run)(int argc, char **argv);
} cli_command;

extern const cli_command cli_cmd_index, cli_cmd_search, cli_cmd_stats,
    cli_cmd_check;

/* "kosearch: error: <msg>" on stderr; returns CLI_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "kosearch: warning: <msg>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "kosearch <cmd>: <msg>" plus a hint to run help, on stderr; returns
 * CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A library message without its leading "[component][operation] " tags
 * (borrowed pointer into msg). */
const char *cli_strip_tags(const char *msg);

/* Is argv[*i] the option `name` ("--long" or "-x")? If it takes a value
 * (want_value), the value comes from "--long=V", "-xV" or the next
 * argument, which is consumed (*i advances). Returns 1 when matched (and
 * *val set if want_value), 0 when not, -1 when the value is missing (a
 * usage message was printed). */
int cli_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
            int want_value, const char **val);

/* Strict number parsing of a whole string. 0 on success, -1 (with a usage
 * message naming opt) when s is not a number in [lo, hi]. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo,
                  uint64_t hi, uint64_t *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo,
                     double hi, double *out);

/* Monotonic clock in seconds. */
double cli_now(void);

/* "1.2 kB", "3.4 MB", "5.6 GB" (decimal units: 1 MB = 10^6 bytes). */
void cli_human_bytes(uint64_t n, char *buf, size_t size);

/* Peak resident set size of this process in bytes (getrusage). */
uint64_t cli_peak_rss(void);

/* Print text help for one command (help == NULL: the general help). */
void cli_print_help(const cli_command *cmd);

#endif /* KS_CLI_UTIL_H */
