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
#include <stdio.h>

#include "kosearch/error.h"

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
extern const cli_command cli_cmd_eval, cli_cmd_bench, cli_cmd_analyze;

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

/* ---- query files (eval, bench; cmd_search.c's batch mode reads the same
 * format with its own copy of this loop: to deduplicate) --------------------
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

/* ---- a search backend: a native index or a Xapian database (cmd_search.c
 * and cmd_bench.c; cmd_search.c adds snippets and match counts) ---------- */
struct ks_index;
struct ks_xap_db;
struct ks_index_results;
struct ks_xap_results;
struct ks_query_plan;
struct ks_search_opts;

typedef struct cli_backend {
  const char *path;              /* borrowed */
  struct ks_index *ix;           /* native, or */
  struct ks_xap_db *xdb;         /* Xapian */
  int owns_ix;                   /* close ix in cli_backend_close */
  int xap_pruned;                /* Xapian: 0 exhaustive matching (exact,
                                    the default), 1 Xapian's own pruning
                                    (cli_xap_search; set by bench) */
  struct ks_index_results *r;          /* last native results */
  struct ks_xap_results *xr;     /* last Xapian results */
  struct ks_query_plan *plan;    /* last Xapian query */
} cli_backend;

/* Open `path` (Xapian detected with cli_xap_detect, else native) into *b.
 * KS_OK or an rc with *e filled (b is then zeroed). */
int cli_backend_open(cli_backend *b, const char *path, ks_err *e);
/* A second handle on the same index for another thread: a native index is
 * shared (read-only, thread-safe), a Xapian database is opened again
 * (Xapian handles must not be shared by threads). KS_OK or an rc. */
int cli_backend_clone(const cli_backend *src, cli_backend *dst, ks_err *e);
/* Run `query` with *so (so->k hits). KS_OK, KS_EQUERY, other rc. The
 * previous results are freed. */
int cli_backend_search(cli_backend *b, const char *query,
                       const struct ks_search_opts *so, ks_err *e);
size_t cli_backend_count(const cli_backend *b);
/* Id (borrowed until the next search) and score of hit i. */
int cli_backend_hit(cli_backend *b, size_t i, const char **id, size_t *idlen,
                    double *score, ks_err *e);
/* Number of live documents (0 if unknown). */
uint64_t cli_backend_docs(cli_backend *b);
const char *cli_backend_kind(const cli_backend *b); /* "native"/"xapian" */
void cli_backend_clear(cli_backend *b);  /* free the last results */
void cli_backend_close(cli_backend *b);  /* clear + close; zeroes *b */

#endif /* KS_CLI_UTIL_H */
