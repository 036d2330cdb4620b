/*
 * cli_util.c - implements cli_util.h: messages, option parsing, numbers,
 * sizes and clocks for the `kosearch` program; the query-file reader and
 * the native/Xapian search backend used by eval and bench.
 */
#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kosearch.h"
#include "index.h"
#include "index_writer.h"
#include "xap_backend.h"

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

int cli_opt(int argc, char **argv, int *i, const char *cmd, const char *name,
            int want_value, const char **val) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return 0;
  if (a[n] == '\0') {
    if (!want_value) return 1;
    if (*i + 1 >= argc) {
      cli_usage(cmd, "option %s needs a value", name);
      return -1;
    }
    *val = argv[++*i];
    return 1;
  }
  if (!want_value) return 0;
  if (name[1] == '-' && a[n] == '=') { /* --long=V */
    *val = a + n + 1;
    return 1;
  }
  if (name[1] != '-' && n == 2) { /* -kV */
    *val = a + n;
    return 1;
  }
  return 0;
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

/* ---- search backend ---------------------------------------------------------- */

int cli_backend_open(cli_backend *b, const char *path, ks_err *e) {
  memset(b, 0, sizeof *b);
  b->path = path;
  int rc;
  if (cli_xap_detect(path)) {
    rc = cli_xap_open(path, NULL, 0, &b->xdb, e);
  } else {
    rc = ks_index_open(path, &b->ix, e);
    b->owns_ix = 1;
  }
  if (rc) memset(b, 0, sizeof *b);
  return rc;
}

int cli_backend_clone(const cli_backend *src, cli_backend *dst, ks_err *e) {
  if (src->xdb) return cli_backend_open(dst, src->path, e);
  memset(dst, 0, sizeof *dst);
  dst->path = src->path;
  dst->ix = src->ix;
  return KS_OK;
}

void cli_backend_clear(cli_backend *b) {
  ks_index_results_free(b->r);
  ks_xap_results_free(b->xr);
  ks_query_plan_free(b->plan);
  b->r = NULL;
  b->xr = NULL;
  b->plan = NULL;
}

int cli_backend_search(cli_backend *b, const char *query, const ks_search_opts *so, ks_err *e) {
  cli_backend_clear(b);
  if (b->xdb) return cli_xap_search(b->xdb, query, so, b->xap_pruned, &b->plan, &b->xr, e);
  return ks_index_search(b->ix, query, SIZE_MAX, so, &b->r, e);
}

size_t cli_backend_count(const cli_backend *b) {
  if (b->xdb) return b->xr ? ks_xap_results_count(b->xr) : 0;
  return b->r ? ks_index_results_count(b->r) : 0;
}

int cli_backend_hit(cli_backend *b, size_t i, const char **id, size_t *idlen, double *score,
                    ks_err *e) {
  if (b->xdb) {
    ks_xap_hit h;
    if (ks_xap_results_hit(b->xr, i, &h)) return ks_err_set(e, KS_EINVAL, "no hit %zu", i);
    *id = h.id, *idlen = h.id_len, *score = h.score;
    return KS_OK;
  }
  ks_index_hit h;
  int rc = ks_index_results_hit(b->r, i, &h);
  if (rc) return ks_err_set(e, rc, "no hit %zu", i);
  *score = h.score;
  return ks_index_doc_id(b->ix, h.doc, id, idlen, e);
}

uint64_t cli_backend_docs(cli_backend *b) {
  ks_err e;
  if (b->xdb) {
    ks_xap_stats st;
    return ks_xap_get_stats(b->xdb, &st, &e) == KS_OK ? st.docs : 0;
  }
  ks_index_stats st;
  return ks_index_get_stats(b->ix, &st, &e) == KS_OK ? st.docs : 0;
}

const char *cli_backend_kind(const cli_backend *b) { return b->xdb ? "xapian" : "native"; }

void cli_backend_close(cli_backend *b) {
  cli_backend_clear(b);
  if (b->owns_ix) ks_index_close(b->ix);
  ks_xap_close(b->xdb);
  memset(b, 0, sizeof *b);
}
