/*
 * cli_util.c - implements cli_util.h: messages, option parsing, numbers,
 * sizes and clocks for the `kosearch` program.
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
