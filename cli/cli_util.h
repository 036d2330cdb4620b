/*
 * cli_util.h - helpers shared by the `kosearch` command-line program:
 * messages, option parsing (getopt_long with our messages), numbers,
 * sizes, clocks, the query-file reader and the ranking options common to
 * search, eval and bench.
 *
 * The program uses only the public API (include/kosearch.h, and
 * kosearch/xapian.h in main.c when built with Xapian): every index, of any
 * backend, is a ks_db; every build is a ks_writer. Exit codes: 0 success,
 * 1 error (message "kosearch: error: ..." on stderr), 2 usage error (bad
 * command line: "kosearch CMD: ..." plus a hint to run --help).
 */
#ifndef KS_CLI_UTIL_H
#define KS_CLI_UTIL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kosearch.h"

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

/* One command: name, one-line summary, full help text, entry point.
 * run gets argv[0] = the command name; it returns an exit code. Each
 * command handles -h/--help itself (cli_getopt returns 'h'). */
typedef struct cli_command {
  const char *name;
  const char *summary;
  const char *help;
  int (*run)(int argc, char **argv);
} cli_command;

extern const cli_command cli_cmd_index, cli_cmd_add, cli_cmd_delete, cli_cmd_merge,
    cli_cmd_search, cli_cmd_get, cli_cmd_stats, cli_cmd_check;
extern const cli_command cli_cmd_eval, cli_cmd_bench, cli_cmd_analyze, cli_cmd_serve;

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

/* ---- option parsing --------------------------------------------------------
 * getopt_long(3) with our messages. `optstring` must start with ':' (or
 * "+:" to stop at the first argument that is not an option, POSIX style);
 * start every parse with optind = 0, which resets getopt and skips argv[0].
 * Returns what getopt_long returns (the option's character or value, -1
 * at the end of the options), except that an unknown option or a missing
 * value prints a usage message for `cmd` ("unknown option '--x'", "option
 * '-k' needs a value") and returns '?'. */
int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
               const char *cmd);

/* Strict number parsing of a whole string. 0 on success, -1 (with a usage
 * message naming opt) when s is not a number in [lo, hi]. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo,
                  uint64_t hi, uint64_t *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo,
                     double hi, double *out);

/* ---- ranking options (search, eval) ----------------------------------------
 * The long options --k1, --b, --bigram-weight, --min-normlen, --ranking and
 * --algorithm, with these values for getopt_long; CLI_RANKING_OPTIONS
 * expands to their struct option entries (put it in a longopts array). */
enum {
  CLI_OPT_K1 = 1000,
  CLI_OPT_B,
  CLI_OPT_BIGRAM_WEIGHT,
  CLI_OPT_MIN_NORMLEN,
  CLI_OPT_RANKING,
  CLI_OPT_ALGORITHM,
  CLI_OPT_FIRST_FREE /* commands number their own long options from here */
};
#define CLI_RANKING_OPTIONS                                        \
  {"k1", required_argument, NULL, CLI_OPT_K1},                     \
  {"b", required_argument, NULL, CLI_OPT_B},                       \
  {"bigram-weight", required_argument, NULL, CLI_OPT_BIGRAM_WEIGHT}, \
  {"min-normlen", required_argument, NULL, CLI_OPT_MIN_NORMLEN},   \
  {"ranking", required_argument, NULL, CLI_OPT_RANKING},           \
  {"algorithm", required_argument, NULL, CLI_OPT_ALGORITHM}

/* If `opt` (a cli_getopt result) is one of the ranking options, apply its
 * value `arg` to *so and return 1;
 * return 0 for another option; -1 after a usage message (bad value). */
int cli_ranking_option(const char *cmd, int opt, const char *arg, ks_search_opts *so);

/* Names of the top-k algorithms (KS_ALGO_*): the value of `name` into
 * *value and 0, or -1 when unknown. cli_algorithm_name gives "?" for an
 * unknown value. cli_algorithm_names lists them ("exhaustive, bmw, ..."). */
int cli_algorithm_value(const char *name, int *value);
const char *cli_algorithm_name(int value);
const char *cli_algorithm_names(void);

/* 1 if `db` is a native index, 0 for another backend (which has its own
 * matcher: --algorithm does not apply to it). */
int cli_db_is_native(const ks_db *db);

/* ---- indexes to write (index, add, delete, merge) ---------------------------- */

/* What is at an INDEX path, as ks_db_open sees it. */
typedef struct cli_index_info {
  int exists;              /* 1: an index (of a backend built in) is there */
  const char *backend;     /* "native" or "xapian" (static); NULL when !exists */
  uint32_t shards;         /* xapian: N for a directory of N shards
                              (DIR/KOSEARCH-SHARDS, docs/xapian.md), 0 for
                              one database; native: 0 */
} cli_index_info;

/* Look at `path` (in) and fill *info (out). Returns CLI_OK whether or not
 * an index is there (a missing path, or a directory that is no index,
 * gives exists = 0), or CLI_ERROR with a message printed (a corrupt
 * index, a Xapian index in a program built without Xapian...). */
int cli_index_probe(const char *path, cli_index_info *info);

/* The statistics of the index at `path` (in) as committed now, into *st
 * (out): opens it, reads them, closes it. Meant for native indexes (for a
 * Xapian index they walk the whole vocabulary). CLI_OK, or CLI_ERROR with
 * a message printed. */
int cli_index_stats(const char *path, ks_db_stats *st);

/* ks_writer_open(index, o, w) with the program's messages: CLI_OK, or
 * CLI_ERROR with a message printed (for a locked index it says that
 * another kosearch command is writing to it). */
int cli_writer_open(const char *index, const ks_writer_opts *o, ks_writer **w);

/* ---- misc ------------------------------------------------------------------ */

/* Monotonic clock in seconds. */
double cli_now(void);

/* "1.2 kB", "3.4 MB", "5.6 GB" (decimal units: 1 MB = 10^6 bytes). */
void cli_human_bytes(uint64_t n, char *buf, size_t size);

/* Peak resident set size of this process in bytes (getrusage). */
uint64_t cli_peak_rss(void);

/* Print text help for one command (help == NULL: the general help). */
void cli_print_help(const cli_command *cmd);

/* The backends this program can use, as "native xapian" (main.c: those
 * built in and registered at startup). */
const char *cli_backends(void);

/* ---- query files (search --queries, eval, bench) -----------------------------
 * Lines "qid<TAB>query[<TAB>rest]". A UTF-8 BOM on line 1, trailing CR/LF
 * and blank lines (only spaces/tabs) are ignored. Errors name FILE:LINE:
 * a NUL byte, no tab, an empty qid or one containing spaces. */
typedef struct cli_tsv {
  FILE *f;
  const char *path;          /* borrowed */
  char *line;                /* getline buffer */
  size_t cap;
  unsigned long long lineno; /* line of the last record returned */
} cli_tsv;

/* Open `path`. CLI_OK, or CLI_ERROR with a message printed. */
int cli_tsv_open(cli_tsv *t, const char *path);
/* Next record: *qid, *query and *rest (NULL when there is no second tab)
 * point into the line buffer, valid until the next call. Returns 1 (a
 * record), 0 (end of file), -1 (error, message naming FILE:LINE printed). */
int cli_tsv_next(cli_tsv *t, char **qid, char **query, char **rest);
void cli_tsv_close(cli_tsv *t);

/* ---- TREC run files (search --run writes them, eval --run reads them) ------
 * A docid is written as is unless it contains whitespace or control bytes;
 * then those bytes and '%' are percent-encoded (%20, %09, %25...), since
 * the format separates fields by whitespace. */

/* Write the docid id[0, n) to f in that form; *encoded is set to 1 when it
 * had to be encoded. 0 on success, -1 on a write error. */
int cli_trec_write_docid(FILE *f, const char *id, size_t n, int *encoded);
/* The same form as a heap string (free), NULL when out of memory. */
char *cli_trec_docid(const char *id);

#endif /* KS_CLI_UTIL_H */
