/*
 * cli_util.c - implements cli_util.h: messages, option parsing, numbers,
 * ranking options, sizes and clocks for the `kosearch` program; the
 * query-file reader and the TREC docid form shared by search and eval.
 */
#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>


int cli_error(const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fputs("kosearch: error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return CLI_ERROR;
}

void cli_warn(const char *fmt, ...) {
  va_list ap;
  fputs("kosearch: warning: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "kosearch%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'kosearch %s%s--help' for more information.\n",
          cmd ? cmd : "", cmd ? " " : "");
  return CLI_USAGE;
}

const char *cli_strip_tags(const char *msg) {
  const char *p = msg;
  while (*p == '[') {
    const char *close = strchr(p, ']');
    if (!close) break;
    p = close + 1;
  }
  if (p != msg && *p == ' ') p++;
  return p;
}

int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
                const char *cmd) {
  opterr = 0; /* our messages, not getopt's */
  int li = -1;
  int c = getopt_long(argc, argv, optstring, longopts, &li);
  if (li >= 0 && c != '?' && c != ':') {
    /* getopt_long accepts any unique prefix of a long option: "--k" would
     * be --k1 where -k was meant. Only whole names are accepted. The
     * option's element is before its value when that came separately. */
    const char *elt = argv[optind - 1];
    if (longopts[li].has_arg && optarg == argv[optind - 1] && optind >= 2) elt = argv[optind - 2];
    const char *name = elt + 2; /* after "--" */
    size_t n = strcspn(name, "=");
    if (n != strlen(longopts[li].name) || strncmp(name, longopts[li].name, n) != 0) {
      cli_usage(cmd, "unknown option '--%.*s' (did you mean '--%s'?)", (int)n, name,
                longopts[li].name);
      return '?';
    }
  }
  if (c == '?') {
    /* optopt: the unknown short option; 0 for an unknown (or ambiguous)
     * long option, which getopt has skipped: it is argv[optind - 1] */
    if (optopt) cli_usage(cmd, "unknown option '-%c'", optopt);
    else cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
  } else if (c == ':') {
    cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
    c = '?';
  }
  return c;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t lo,
                  uint64_t hi, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ') goto bad;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < lo || v > hi) goto bad;
  *out = v;
  return 0;
bad:
  cli_usage(cmd, "invalid value '%s' for %s (expected an integer from %llu to %llu)", s,
            opt, (unsigned long long)lo, (unsigned long long)hi);
  return -1;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo,
                     double hi, double *out) {
  char *end = NULL;
  errno = 0;
  if (!s[0] || s[0] == ' ') goto bad;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v) || v < lo || v > hi) goto bad;
  *out = v;
  return 0;
bad:
  cli_usage(cmd, "invalid value '%s' for %s (expected a number from %g to %g)", s, opt,
            lo, hi);
  return -1;
}

/* ---- ranking options ------------------------------------------------------- */

/* Names of the top-k algorithms. Extend when kosearch/search.h adds KS_ALGO_*. */
static const struct {
  const char *name;
  int value;
} algorithms[] = {
    {"exhaustive", KS_ALGO_EXHAUSTIVE},
    {"bmw", KS_ALGO_BMW},
    {"maxscore", KS_ALGO_MAXSCORE},
};
#define NALGORITHMS (sizeof algorithms / sizeof algorithms[0])

int cli_algorithm_value(const char *name, int *value) {
  for (size_t i = 0; i < NALGORITHMS; i++)
    if (strcmp(algorithms[i].name, name) == 0) {
      *value = algorithms[i].value;
      return 0;
    }
  return -1;
}

const char *cli_algorithm_name(int value) {
  for (size_t i = 0; i < NALGORITHMS; i++)
    if (algorithms[i].value == value) return algorithms[i].name;
  return "?";
}

const char *cli_algorithm_names(void) {
  static char known[256];
  if (!known[0])
    for (size_t i = 0; i < NALGORITHMS; i++)
      snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
               algorithms[i].name);
  return known;
}

int cli_ranking_option(const char *cmd, int opt, const char *arg, ks_search_opts *so) {
  switch (opt) {
  case CLI_OPT_K1:
    return cli_parse_double(cmd, "--k1", arg, 0, 1000, &so->k1) ? -1 : 1;
  case CLI_OPT_B:
    return cli_parse_double(cmd, "--b", arg, 0, 1, &so->b) ? -1 : 1;
  case CLI_OPT_BIGRAM_WEIGHT:
    return cli_parse_double(cmd, "--bigram-weight", arg, 0, 1000, &so->bigram_weight) ? -1 : 1;
  case CLI_OPT_MIN_NORMLEN:
    return cli_parse_double(cmd, "--min-normlen", arg, 0, 1000, &so->min_normlen) ? -1 : 1;
  case CLI_OPT_RANKING:
    if (strcmp(arg, "bm25") == 0) so->ranking = KS_RANK_BM25;
    else if (strcmp(arg, "bm25-xapian") == 0) so->ranking = KS_RANK_BM25_XAPIAN;
    else {
      cli_usage(cmd, "--ranking must be bm25 or bm25-xapian (got '%s')", arg);
      return -1;
    }
    return 1;
  case CLI_OPT_ALGORITHM:
    if (cli_algorithm_value(arg, &so->algorithm) == 0) return 1;
    cli_usage(cmd, "unknown --algorithm '%s' (known: %s)", arg, cli_algorithm_names());
    return -1;
  default:
    return 0;
  }
}

int cli_db_is_native(const ks_db *db) { return strcmp(ks_db_backend(db), "native") == 0; }

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_human_bytes(uint64_t n, char *buf, size_t size) {
  static const char *unit[] = {"kB", "MB", "GB", "TB"};
  if (n < 1000) {
    snprintf(buf, size, "%llu B", (unsigned long long)n);
    return;
  }
  double v = (double)n / 1000.0;
  int u = 0;
  while (v >= 1000.0 && u < 3) v /= 1000.0, u++;
  snprintf(buf, size, "%.1f %s", v, unit[u]);
}

uint64_t cli_peak_rss(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (uint64_t)ru.ru_maxrss * 1024u; /* Linux: kilobytes */
}

/* ---- indexes to write ------------------------------------------------------ */

/* The shard count in DIR/KOSEARCH-SHARDS ("kosearch xapian shards N",
 * docs/xapian.md), 0 when there is no such marker (one database). */
static uint32_t shard_marker(const char *dir) {
  char p[4096];
  if ((size_t)snprintf(p, sizeof p, "%s/KOSEARCH-SHARDS", dir) >= sizeof p) return 0;
  FILE *f = fopen(p, "r");
  if (!f) return 0;
  unsigned n = 0;
  if (fscanf(f, "kosearch xapian shards %u", &n) != 1) n = 0;
  fclose(f);
  return n;
}

int cli_index_probe(const char *path, cli_index_info *info) {
  memset(info, 0, sizeof *info);
  /* A MANIFEST makes a directory a native index (kosearch/db.h): no need
   * to open it, which costs a few tenths of a second on a large index. A
   * damaged one is reported by the writer that opens it next. */
  char m[4096];
  struct stat sb;
  if ((size_t)snprintf(m, sizeof m, "%s/MANIFEST", path) < sizeof m && stat(m, &sb) == 0 &&
      S_ISREG(sb.st_mode)) {
    info->exists = 1;
    info->backend = "native";
    return CLI_OK;
  }
  ks_err e;
  ks_err_clear(&e);
  ks_db *db = NULL;
  int rc = ks_db_open(path, &db, &e);
  if (rc == KS_NOTFOUND) return CLI_OK;
  if (rc != KS_OK) return cli_error("%s", cli_strip_tags(e.msg));
  info->exists = 1;
  info->backend = strcmp(ks_db_backend(db), "native") == 0 ? "native" : "xapian";
  if (strcmp(info->backend, "xapian") == 0) info->shards = shard_marker(path);
  ks_db_close(db);
  return CLI_OK;
}

int cli_index_stats(const char *path, ks_db_stats *st) {
  ks_err e;
  ks_err_clear(&e);
  memset(st, 0, sizeof *st);
  ks_db *db = NULL;
  int rc = ks_db_open(path, &db, &e);
  if (rc == KS_OK) rc = ks_db_get_stats(db, st, &e);
  ks_db_close(db);
  return rc ? cli_error("%s: %s", path, cli_strip_tags(e.msg)) : CLI_OK;
}

int cli_writer_open(const char *index, const ks_writer_opts *o, ks_writer **w) {
  ks_err e;
  ks_err_clear(&e);
  int rc = ks_writer_open(index, o, w, &e);
  if (rc == KS_ELOCKED) {
    /* One wording for every backend: the native message names the holder
     * ("... is locked by another writer (kosearch, pid N)"); another
     * backend's message is quoted after ours. */
    const char *msg = cli_strip_tags(e.msg);
    if (strstr(msg, "locked by another writer"))
      return cli_error("%s; try again when it has finished", msg);
    return cli_error("%s is locked by another writer (%s); try again when it has finished",
                     index, msg);
  }
  if (rc != KS_OK) return cli_error("%s", cli_strip_tags(e.msg));
  return CLI_OK;
}

/* ---- query files ----------------------------------------------------------- */

int cli_tsv_open(cli_tsv *t, const char *path) {
  memset(t, 0, sizeof *t);
  t->path = path;
  t->f = fopen(path, "r");
  if (!t->f) return cli_error("%s: cannot open: %s", path, strerror(errno));
  return CLI_OK;
}

int cli_tsv_next(cli_tsv *t, char **qid, char **query, char **rest) {
  ssize_t got;
  while ((got = getline(&t->line, &t->cap, t->f)) >= 0) {
    t->lineno++;
    size_t len = (size_t)got;
    while (len && (t->line[len - 1] == '\n' || t->line[len - 1] == '\r')) t->line[--len] = '\0';
    char *p = t->line;
    if (t->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, len -= 3;
    if (memchr(p, '\0', len)) {
      cli_error("%s:%llu: NUL byte in the line", t->path, t->lineno);
      return -1;
    }
    if (strspn(p, " \t\v\f") == len) continue; /* blank line */
    char *tab = strchr(p, '\t');
    if (!tab) {
      cli_error("%s:%llu: expected 'qid<TAB>query', found no tab", t->path, t->lineno);
      return -1;
    }
    *tab = '\0';
    char *q = tab + 1, *tab2 = strchr(q, '\t');
    if (tab2) *tab2 = '\0';
    if (!p[0] || strpbrk(p, " \v\f")) {
      cli_error("%s:%llu: the query id '%s' is empty or contains spaces", t->path, t->lineno, p);
      return -1;
    }
    *qid = p;
    *query = q;
    *rest = tab2 ? tab2 + 1 : NULL;
    return 1;
  }
  if (ferror(t->f)) {
    cli_error("%s: read failed: %s", t->path, strerror(errno));
    return -1;
  }
  return 0;
}

void cli_tsv_close(cli_tsv *t) {
  if (t->f) fclose(t->f);
  free(t->line);
  memset(t, 0, sizeof *t);
}

/* ---- TREC run files ---------------------------------------------------------- */

static int trec_plain(const char *id, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (c <= 0x20 || c == 0x7F) return 0;
  }
  return 1;
}

static int trec_escaped(unsigned char c) { return c <= 0x20 || c == 0x7F || c == '%'; }

int cli_trec_write_docid(FILE *f, const char *id, size_t n, int *encoded) {
  if (trec_plain(id, n)) return fwrite(id, 1, n, f) == n ? 0 : -1;
  *encoded = 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (trec_escaped(c)) {
      if (fprintf(f, "%%%02X", c) < 0) return -1;
    } else if (fputc(c, f) == EOF) {
      return -1;
    }
  }
  return 0;
}

char *cli_trec_docid(const char *id) {
  size_t n = strlen(id);
  int plain = trec_plain(id, n);
  char *out = malloc(plain ? n + 1 : 3 * n + 1), *o = out;
  if (!out) return NULL;
  if (plain) return memcpy(out, id, n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (trec_escaped(c)) o += sprintf(o, "%%%02X", c);
    else *o++ = (char)c;
  }
  *o = '\0';
  return out;
}
