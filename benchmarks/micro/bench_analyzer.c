/*
 * bench_analyzer.c - throughput of the Korean analyzer vs plain ICU word
 * break, measured in the same run on the same documents.
 *
 * Usage: bench_analyzer [--mb N] [--reps R] [FILE]
 *   FILE   JSON Lines (.jsonl or .jsonl.gz; the "text" field of each line)
 *          or a plain text file (one document). Default:
 *          $KS_DATA_DIR/kowiki-sample.jsonl.gz (KS_DATA_DIR defaults to
 *          ../shared/data), or, if that is absent, the seed articles
 *          corpus/ *.txt files of the working directory.
 *   --mb   stop reading after N MB of document text (default 32)
 *   --reps passes over the documents (default 3)
 *
 * Baseline (a), "plain ICU word break": per document u_strFromUTF8 into a
 * reused buffer, ubrk_setText on one iterator opened once, then ubrk_next
 * to the end, counting tokens whose rule status is not UBRK_WORD_NONE
 * (what any tokenizer keeping words must do at least).
 * Analyzer (b): ks_tok_run per document (reason DOCUMENT, default options)
 * with a callback that only sums term lengths.
 * Both sides see the same documents. To be fair on a shared machine the
 * sides alternate on slices of about 256 KB of documents (ICU slice, then
 * analyzer slice, ...), so a load change affects both alike; each side's
 * time is summed over all slices and repetitions.
 * Throughput = document text bytes processed / seconds.
 *
 * Output: a human-readable summary, then one JSON line (machine-readable:
 * input, bytes, docs, MB/s of both, ratio, compiler, CPU).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>
#include <zlib.h>

#include "kosearch/tok.h"

typedef struct doc {
  char *text;
  size_t len;
} doc;

typedef struct corpus {
  doc *docs;
  size_t n, cap;
  size_t bytes;
} corpus;

static void add_doc(corpus *c, const char *text, size_t len) {
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 1024;
    c->docs = realloc(c->docs, c->cap * sizeof *c->docs);
    if (!c->docs) { perror("realloc"); exit(1); }
  }
  char *p = malloc(len + 1);
  if (!p) { perror("malloc"); exit(1); }
  memcpy(p, text, len);
  p[len] = 0;
  c->docs[c->n].text = p;
  c->docs[c->n].len = len;
  c->n++;
  c->bytes += len;
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

/* JSON Lines through zlib (reads plain files too). */
static int load_jsonl(corpus *c, const char *path, size_t limit) {
  gzFile f = gzopen(path, "rb");
  if (!f) return -1;
  size_t cap = 1 << 20;
  char *line = malloc(cap);
  while (c->bytes < limit) {
    size_t len = 0;
    int eof = 0;
    for (;;) {
      if (!gzgets(f, line + len, (int)(cap - len))) { eof = 1; break; }
      len += strlen(line + len);
      if (len > 0 && line[len - 1] == '\n') break;
      if (len + 1 >= cap) {
        cap *= 2;
        line = realloc(line, cap);
        if (!line) { perror("realloc"); exit(1); }
      }
    }
    if (len == 0 && eof) break;
    cJSON *j = cJSON_ParseWithLength(line, len);
    cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "text") : NULL;
    if (cJSON_IsString(t) && t->valuestring[0])
      add_doc(c, t->valuestring, strlen(t->valuestring));
    cJSON_Delete(j);
    if (eof) break;
  }
  free(line);
  gzclose(f);
  return 0;
}

static int load_text(corpus *c, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return -1; }
  fclose(f);
  add_doc(c, buf, (size_t)n);
  free(buf);
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* (a) plain ICU word break on docs [from, to). Returns word tokens seen. */
static size_t run_icu(const corpus *c, size_t from, size_t to,
                      UBreakIterator *brk, UChar **buf, size_t *cap) {
  size_t words = 0;
  for (size_t i = from; i < to; i++) {
    UErrorCode e = U_ZERO_ERROR;
    if (*cap < c->docs[i].len) {
      *cap = c->docs[i].len;
      *buf = realloc(*buf, *cap * sizeof(UChar));
      if (!*buf) { perror("realloc"); exit(1); }
    }
    int32_t n = 0;
    u_strFromUTF8(*buf, (int32_t)*cap, &n, c->docs[i].text, (int32_t)c->docs[i].len, &e);
    ubrk_setText(brk, *buf, n, &e);
    if (U_FAILURE(e)) { fprintf(stderr, "ICU: %s\n", u_errorName(e)); exit(1); }
    ubrk_first(brk);
    while (ubrk_next(brk) != UBRK_DONE)
      if (ubrk_getRuleStatus(brk) >= UBRK_WORD_NONE_LIMIT) words++;
  }
  return words;
}

typedef struct sink {
  size_t terms, bytes;
} sink;

static int on_term(void *ctx, const ks_token *t) {
  sink *s = ctx;
  s->terms++;
  s->bytes += t->len;
  return 0;
}

/* (b) the analyzer on docs [from, to). */
static void run_analyzer(const corpus *c, size_t from, size_t to, ks_tok *tok,
                         sink *s) {
  ks_err err;
  for (size_t i = from; i < to; i++) {
    int rc = ks_tok_run(tok, KS_TOK_DOCUMENT, c->docs[i].text, c->docs[i].len,
                        on_term, s, &err);
    if (rc != KS_OK && rc != KS_EUTF8) {
      fprintf(stderr, "ks_tok_run: %s\n", err.msg);
      exit(1);
    }
  }
}

static void cpu_model(char *out, size_t n) {
  snprintf(out, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *p = strchr(line, ':');
      if (p) {
        p += 2;
        p[strcspn(p, "\n\"\\")] = 0;
        snprintf(out, n, "%s", p);
      }
      break;
    }
  }
  fclose(f);
}

int main(int argc, char **argv) {
  double mb = 32;
  int reps = 3;
  const char *path = NULL, *input_id = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--mb") && i + 1 < argc) mb = atof(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--mb N] [--reps R] [FILE]\n", argv[0]);
      return 2;
    } else path = argv[i];
  }
  if (reps < 1) reps = 1;
  size_t limit = (size_t)(mb * 1024 * 1024);
  corpus c = {0};
  char def[4096];
  if (!path) {
    const char *dd = getenv("KS_DATA_DIR");
    snprintf(def, sizeof def, "%s/kowiki-sample.jsonl.gz", dd && *dd ? dd : "../shared/data");
    FILE *f = fopen(def, "rb");
    if (f) {
      fclose(f);
      path = def;
    }
  }
  if (path) {
    int rc = (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz") || ends_with(path, ".gz"))
                 ? load_jsonl(&c, path, limit)
                 : load_text(&c, path);
    if (rc) { fprintf(stderr, "cannot read %s\n", path); return 1; }
    input_id = path;
  } else {
    input_id = "corpus";
    path = "corpus/*.txt (seed articles; kowiki sample not found)";
    DIR *d = opendir("corpus");
    struct dirent *de;
    while (d && (de = readdir(d))) {
      if (!ends_with(de->d_name, ".txt")) continue;
      char p[4200];
      snprintf(p, sizeof p, "corpus/%s", de->d_name);
      load_text(&c, p);
    }
    if (d) closedir(d);
    if (c.n == 0) { fprintf(stderr, "no input: pass FILE\n"); return 1; }
    if (reps < 200) reps = 200; /* tiny input: more repetitions */
  }

  UErrorCode e = U_ZERO_ERROR;
  UBreakIterator *brk = ubrk_open(UBRK_WORD, "ko", NULL, 0, &e);
  if (U_FAILURE(e)) { fprintf(stderr, "ubrk_open: %s\n", u_errorName(e)); return 1; }
  ks_tok *tok = NULL;
  ks_err err;
  if (ks_tok_new(NULL, &tok, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }

  UChar *buf = NULL;
  size_t cap = 0, words = 0;
  sink s = {0, 0};
  double t_icu = 0, t_ana = 0;
  for (int r = 0; r < reps; r++) {
    words = 0;
    s.terms = s.bytes = 0;
    for (size_t from = 0; from < c.n;) {
      size_t to = from, slice = 0;
      while (to < c.n && slice < (256u << 10)) slice += c.docs[to++].len;
      double t0 = now();
      words += run_icu(&c, from, to, brk, &buf, &cap);
      double t1 = now();
      run_analyzer(&c, from, to, tok, &s);
      double t2 = now();
      t_icu += t1 - t0;
      t_ana += t2 - t1;
      from = to;
    }
  }
  double mbytes = (double)c.bytes / 1e6;
  double icu = mbytes * reps / t_icu, ana = mbytes * reps / t_ana;
  char cpu[256];
  cpu_model(cpu, sizeof cpu);
  printf("input:    %s\n", path);
  printf("text:     %.2f MB in %zu documents, %d passes, sides interleaved per ~256 KB\n",
         mbytes, c.n, reps);
  printf("ICU word break (UTF-8->UTF-16 + setText + next/status): %8.2f MB/s  (%zu word tokens)\n",
         icu, words);
  printf("ks analyzer (ks_tok_run, all terms):                     %8.2f MB/s  (%zu terms)\n",
         ana, s.terms);
  printf("ratio analyzer/ICU: %.3f  (target >= 0.60)\n", ana / icu);
  printf("{\"bench\":\"analyzer\",\"input\":\"%s\",\"bytes\":%zu,\"docs\":%zu,\"reps\":%d,"
         "\"icu_mb_s\":%.3f,\"analyzer_mb_s\":%.3f,\"ratio\":%.4f,\"terms\":%zu,"
         "\"tok_version\":%d,\"compiler\":\"%s\",\"optimized\":%d,\"cpu\":\"%s\"}\n",
         input_id, c.bytes, c.n, reps, icu, ana, ana / icu,
         s.terms, KS_TOK_VERSION, __VERSION__,
#ifdef __OPTIMIZE__
         1,
#else
         0,
#endif
         cpu);
  ks_tok_free(tok);
  ubrk_close(brk);
  free(buf);
  for (size_t i = 0; i < c.n; i++) free(c.docs[i].text);
  free(c.docs);
  return 0;
}
