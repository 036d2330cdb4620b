/*
 * ingest.c - implements ingest.h: reading INPUTs (ks_input_*) into a
 * writer (ks_writer_*) for `kosearch index` and `kosearch add`.
 *
 * Invariants:
 *   - every input is opened (and so checked to exist) before the index is
 *     touched, so a mistyped path does not leave an empty index behind;
 *   - a rejected record is always counted, even when its message is not
 *     printed (only the first MAX_WARNINGS are);
 *   - with --strict the writer is closed without commit on the first bad
 *     record, which leaves the last commit of INDEX as it was;
 *   - a run that accepts no document commits nothing unless --allow-empty
 *     (the empty-run rule, ingest.h), and a run that commits nothing
 *     leaves no new directory behind;
 *   - the progress line (stderr, only on a terminal) is erased before any
 *     other message is printed.
 */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WARNINGS 20
#define PROGRESS_PERIOD 0.25 /* seconds between progress updates */

typedef struct run_state {
  const cli_ingest_opts *o;
  ks_input **inputs;
  size_t cur_input;       /* input being read */
  uint64_t done_before;   /* on-disk bytes of finished inputs */
  uint64_t total;         /* sum of input sizes (0: some unknown) */
  int total_known;
  uint64_t docs_seen;     /* records returned by the inputs */
  uint64_t skipped;       /* bad records */
  uint64_t accepted;      /* documents the writer accepted */
  uint64_t since_commit;  /* of those, added since the last commit */
  uint64_t commits;       /* commits made */
  ks_writer *w;           /* the writer */
  int missing;            /* the index directory did not exist before */
  int progress_on;        /* stderr is a terminal and not --quiet */
  int progress_shown;     /* a progress line is on the screen */
  double t0, last_progress;
} run_state;

/* ---- options ---------------------------------------------------------------- */

/* Contract: ingest.h. */
int cli_ingest_option(int opt, const char *arg, cli_ingest_opts *o) {
  const char *cmd = o->cmd;
  switch (opt) {
  case CLI_OPT_MEM_BUDGET:
    return cli_parse_u64(cmd, "--mem-budget", arg, 1, 1u << 20, &o->mem_mb) ? -1 : 1;
  case CLI_OPT_THREADS:
    return cli_parse_u64(cmd, "--threads", arg, 1, 2, &o->threads) ? -1 : 1;
  case CLI_OPT_MAX_DOC_MB:
    return cli_parse_u64(cmd, "--max-doc-mb", arg, 1, 256, &o->doc_mb) ? -1 : 1;
  case CLI_OPT_NO_MERGE:
    o->no_merge = 1;
    return 1;
  case CLI_OPT_STRICT:
    o->strict = 1;
    return 1;
  case 'q':
    o->quiet = 1;
    return 1;
  case CLI_OPT_JSON:
    o->json = 1;
    return 1;
  case CLI_OPT_BACKEND:
    if (strcmp(arg, "native") != 0 && strcmp(arg, "xapian") != 0) {
      cli_usage(cmd, "--backend must be native or xapian (got '%s')", arg);
      return -1;
    }
    o->backend = strcmp(arg, "native") == 0 ? "native" : "xapian";
    return 1;
  case CLI_OPT_SHARDS:
    return cli_parse_u64(cmd, "--shards", arg, 1, UINT32_MAX, &o->shards) ? -1 : 1;
  case CLI_OPT_ALLOW_EMPTY:
    o->allow_empty = 1;
    return 1;
  default:
    return 0;
  }
}

/* 1 when a native-only option was given. */
static int native_options(const cli_ingest_opts *o) {
  return o->mem_mb || o->no_merge || o->threads;
}

/* Contract: ingest.h. */
int cli_ingest_check(const cli_ingest_opts *o) {
  const char *cmd = o->cmd;
  if (o->ninputs == 0)
    return cli_usage(cmd, "no INPUT given (files, directories, or - for standard input)");
  int stdin_seen = 0;
  for (size_t k = 0; k < o->ninputs; k++)
    if (strcmp(o->inputs[k], "-") == 0 && stdin_seen++)
      return cli_usage(cmd, "'-' (standard input) given more than once");
  int xapian = o->backend && strcmp(o->backend, "xapian") == 0;
  if (o->shards && !xapian) return cli_usage(cmd, "--shards needs --backend xapian");
  if (xapian && native_options(o))
    return cli_usage(cmd, "--mem-budget, --no-merge and --threads apply to the native backend only");
  return CLI_OK;
}

/* ---- the directory before and after ------------------------------------------ */

enum { DIR_MISSING, DIR_EMPTY, DIR_OTHER };

/* What is at `path` before the run. */
static int dir_state(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0) return errno == ENOENT ? DIR_MISSING : DIR_OTHER;
  if (!S_ISDIR(sb.st_mode)) return DIR_OTHER;
  DIR *d = opendir(path);
  if (!d) return DIR_OTHER;
  int state = DIR_EMPTY;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) state = DIR_OTHER;
  closedir(d);
  return state;
}

/* After a run that committed nothing (writer closed): put a directory that
 * was missing or empty before back as it was. Opening a native writer
 * created the directory and its LOCK file (docs/format/README.md, section
 * 1); a Xapian writer created nothing outside its "<dir>.tmp", which it
 * removes itself. The LOCK file is removed only when it is all there is
 * and no other writer holds it, so a writer that started meanwhile is
 * never disturbed. */
static void dir_restore(const char *path, int before) {
  if (before == DIR_OTHER) return;
  DIR *d = opendir(path);
  if (!d) return;
  int lock = 0, other = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (strcmp(e->d_name, "LOCK") == 0) lock = 1;
    else other = 1;
  }
  closedir(d);
  if (other) return;
  if (lock) {
    char p[4096];
    if ((size_t)snprintf(p, sizeof p, "%s/LOCK", path) >= sizeof p) return;
    int fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    int ours = flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (ours) unlink(p);
    close(fd);
    if (!ours) return;
  }
  if (before == DIR_MISSING) rmdir(path);
}

/* ---- progress and messages ------------------------------------------------------ */

static void progress_clear(run_state *st) {
  if (st->progress_shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
    st->progress_shown = 0;
  }
}

static uint64_t bytes_done(const run_state *st) {
  uint64_t done = 0, total = 0;
  if (st->cur_input < st->o->ninputs && st->inputs[st->cur_input])
    ks_input_progress(st->inputs[st->cur_input], &done, &total);
  return st->done_before + done;
}

static void progress_show(run_state *st, const char *what) {
  double now = cli_now();
  st->last_progress = now;
  double el = now - st->t0;
  uint64_t done = bytes_done(st);
  double mbs = el > 0 ? (double)done / 1e6 / el : 0;
  char eta[32] = "";
  if (st->total_known && st->total > 0 && done > 0 && el > 0.5) {
    double left = (double)(st->total > done ? st->total - done : 0) / ((double)done / el);
    unsigned s = (unsigned)(left + 0.5);
    snprintf(eta, sizeof eta, " | ETA %u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
  }
  char pct[16] = "";
  if (st->total_known && st->total > 0)
    snprintf(pct, sizeof pct, " (%.0f%%)", 100.0 * (double)done / (double)st->total);
  ks_writer_stats ws;
  ks_writer_get_stats(st->w, &ws);
  double text_mbs = el > 0 ? (double)ws.bytes_in / 1e6 / el : 0;
  fprintf(stderr, "\r%s%llu documents | %.1f MB read%s, %.1f MB/s | %.1f MB of text, %.1f MB/s%s\033[K",
          what, (unsigned long long)st->docs_seen, (double)done / 1e6, pct, mbs,
          (double)ws.bytes_in / 1e6, text_mbs, eta);
  fflush(stderr);
  st->progress_shown = 1;
}

/* What a failure now leaves of INDEX, for error messages. */
static void kept(const run_state *st, char *buf, size_t size) {
  if (st->commits == 0 && st->missing)
    snprintf(buf, size, "no index was created"); /* dir_restore removes it */
  else if (st->commits == 0)
    snprintf(buf, size, "the index was not changed");
  else
    snprintf(buf, size, "the %llu documents committed before (--commit-every) are kept, "
             "the %llu added since are discarded",
             (unsigned long long)(st->accepted - st->since_commit),
             (unsigned long long)st->since_commit);
}

/* A rejected record: count it; print it (or fail, with --strict).
 * Returns 0 to continue, CLI_ERROR to stop. */
static int bad_record(run_state *st, const char *where, const ks_err *e) {
  st->skipped++;
  /* where == NULL: the message comes from the input and already starts
   * with "FILE:LINE: "; the writer's messages do not. */
  const char *msg = cli_strip_tags(e->msg);
  int has_where = where == NULL;
  if (st->o->strict) {
    char k[160];
    kept(st, k, sizeof k);
    progress_clear(st);
    cli_error("%s%s%s (--strict: stopping; %s)", has_where ? "" : where,
              has_where ? "" : ": ", msg, k);
    return CLI_ERROR;
  }
  if (st->skipped <= MAX_WARNINGS) {
    progress_clear(st);
    cli_warn("%s%s%s (skipped)", has_where ? "" : where, has_where ? "" : ": ", msg);
  }
  return 0;
}

/* Commit everything added since the last commit. CLI_OK or CLI_ERROR. */
static int commit(run_state *st) {
  ks_err e;
  ks_err_clear(&e);
  if (st->progress_on) progress_show(st, "committing: ");
  if (ks_writer_commit(st->w, &e)) {
    char k[160];
    kept(st, k, sizeof k);
    progress_clear(st);
    return cli_error("%s (%s)", cli_strip_tags(e.msg), k);
  }
  st->commits++;
  st->since_commit = 0;
  return CLI_OK;
}

/* ---- the run ------------------------------------------------------------------ */

/* The writer's options from the command line and the index's kind. */
static void writer_opts(const cli_ingest_opts *o, const char *backend, uint32_t shards,
                        ks_writer_opts *wo) {
  ks_writer_opts_default(wo);
  wo->backend = backend;
  wo->shards = shards;
  wo->mode = o->mode;
  if (o->mem_mb) wo->mem_budget = (size_t)o->mem_mb << 20;
  if (o->doc_mb) wo->max_doc_bytes = (size_t)o->doc_mb << 20;
  if (o->no_merge) wo->merge = 0;
  if (o->threads) wo->threads = (int)o->threads;
}

/* The kind of index to write: --backend/--shards (default native), or for
 * add on an existing index what is on disk. CLI_OK or CLI_ERROR. */
static int index_kind(const cli_ingest_opts *o, const char **backend, uint32_t *shards,
                      int *created) {
  *backend = o->backend ? o->backend : "native";
  *shards = (uint32_t)o->shards;
  *created = 1;
  if (o->mode != KS_WRITER_UPDATE) return CLI_OK;
  cli_index_info info;
  if (cli_index_probe(o->index, &info)) return CLI_ERROR;
  if (!info.exists) return CLI_OK;
  *created = 0;
  if (o->backend && strcmp(o->backend, info.backend) != 0)
    return cli_error("%s is a %s index: --backend %s applies only to a new index", o->index,
                     info.backend, o->backend);
  if (o->shards && o->shards != info.shards)
    return cli_error("%s has %u shard%s: --shards applies only to a new index", o->index,
                     info.shards, info.shards == 1 ? "" : "s");
  if (strcmp(info.backend, "native") != 0 && native_options(o))
    return cli_error("%s is a Xapian index: --mem-budget, --no-merge and --threads apply to "
                     "native indexes only", o->index);
  *backend = info.backend;
  *shards = info.shards;
  return CLI_OK;
}

/* Read every input into st->w. CLI_OK, or CLI_ERROR (message printed). */
static int feed(run_state *st) {
  const cli_ingest_opts *o = st->o;
  ks_err e;
  ks_err_clear(&e);
  for (st->cur_input = 0; st->cur_input < o->ninputs; st->cur_input++) {
    ks_input *in = st->inputs[st->cur_input];
    for (;;) {
      ks_doc doc;
      int irc = ks_input_next(in, &doc, &e);
      if (irc == KS_DONE) break;
      st->docs_seen++;
      if (irc == KS_EINPUT || irc == KS_EUTF8) {
        if (bad_record(st, NULL, &e)) return CLI_ERROR;
      } else if (irc != KS_OK) {
        char k[160];
        kept(st, k, sizeof k);
        progress_clear(st);
        return cli_error("%s (%s)", cli_strip_tags(e.msg), k);
      } else {
        int wrc = ks_writer_add(st->w, &doc, &e);
        if (wrc == KS_EINPUT || wrc == KS_EUTF8 || wrc == KS_ELIMIT) {
          if (bad_record(st, ks_input_where(in), &e)) return CLI_ERROR;
        } else if (wrc != KS_OK) {
          char k[160];
          kept(st, k, sizeof k);
          progress_clear(st);
          return cli_error("%s: %s (%s)", ks_input_where(in), cli_strip_tags(e.msg), k);
        } else {
          st->accepted++;
          st->since_commit++;
          if (o->commit_every && st->since_commit >= o->commit_every && commit(st))
            return CLI_ERROR;
        }
      }
      if (st->progress_on && cli_now() - st->last_progress >= PROGRESS_PERIOD)
        progress_show(st, "");
    }
    uint64_t d, t;
    ks_input_progress(in, &d, &t);
    st->done_before += d;
    ks_input_close(in);
    st->inputs[st->cur_input] = NULL;
  }
  return CLI_OK;
}

/* Contract: ingest.h. */
int cli_ingest_run(const cli_ingest_opts *o, cli_ingest_result *r) {
  memset(r, 0, sizeof *r);
  run_state st;
  memset(&st, 0, sizeof st);
  st.o = o;
  ks_err e;
  ks_err_clear(&e);
  int rc = CLI_OK, before = DIR_OTHER;
  st.inputs = calloc(o->ninputs, sizeof *st.inputs);
  if (!st.inputs) return cli_error("out of memory");
  st.total_known = 1;
  for (size_t k = 0; k < o->ninputs; k++) {
    if (ks_input_open(o->inputs[k], &st.inputs[k], &e)) {
      rc = cli_error("%s", cli_strip_tags(e.msg));
      goto done;
    }
    for (size_t i = 0; i < ks_input_nskipped(st.inputs[k]); i++)
      cli_warn("%s", ks_input_skipped(st.inputs[k], i));
    uint64_t d, t;
    ks_input_progress(st.inputs[k], &d, &t);
    if (t == 0) st.total_known = 0;
    st.total += t;
  }

  const char *backend;
  uint32_t shards;
  if ((rc = index_kind(o, &backend, &shards, &r->created))) goto done;
  ks_writer_opts wo;
  writer_opts(o, backend, shards, &wo);
  before = dir_state(o->index);
  st.missing = before == DIR_MISSING;
  if ((rc = cli_writer_open(o->index, &wo, &st.w))) goto done;

  st.progress_on = !o->quiet && isatty(STDERR_FILENO);
  st.t0 = cli_now();
  st.last_progress = st.t0;
  if ((rc = feed(&st))) goto done;
  progress_clear(&st);
  if (st.skipped > MAX_WARNINGS)
    cli_warn("%llu more bad records were skipped without a message (%llu in all)",
             (unsigned long long)(st.skipped - MAX_WARNINGS), (unsigned long long)st.skipped);
  if (st.accepted == 0 && !o->allow_empty) {
    char seen[96];
    int from_stdin = 0;
    for (size_t k = 0; k < o->ninputs; k++) from_stdin |= strcmp(o->inputs[k], "-") == 0;
    if (st.docs_seen == 0 && from_stdin)
      snprintf(seen, sizeof seen, "no record read; did the command writing to the pipe fail?");
    else if (st.docs_seen == 0) snprintf(seen, sizeof seen, "no record read");
    else
      snprintf(seen, sizeof seen, "%llu record%s read, %llu rejected",
               (unsigned long long)st.docs_seen, st.docs_seen == 1 ? "" : "s",
               (unsigned long long)st.skipped);
    rc = cli_error("no document accepted (%s); %s %s (use --allow-empty to %s)", seen, o->index,
                   before == DIR_MISSING ? "not created" : "unchanged",
                   o->mode == KS_WRITER_REPLACE ? "write an empty index"
                                                : "let a run that adds nothing succeed");
    goto done;
  }
  if ((st.since_commit > 0 || st.commits == 0) && (rc = commit(&st))) goto done;
  progress_clear(&st);
  r->backend = backend;
  ks_writer_get_stats(st.w, &r->ws);
  r->records = st.docs_seen;
  r->rejected = st.skipped;
  r->commits = st.commits;
  r->input_bytes = st.done_before;

done:
  progress_clear(&st);
  ks_writer_close(st.w); /* may wait for a background merge (docs/live.md) */
  if (rc == CLI_OK) r->secs = cli_now() - st.t0;
  if (st.commits == 0) dir_restore(o->index, before);
  for (size_t k = 0; k < o->ninputs; k++) ks_input_close(st.inputs[k]);
  free(st.inputs);
  return rc;
}
