/*
 * ingest.h - reading INPUTs into an index, shared by `kosearch index`
 * (a new index that replaces INDEX) and `kosearch add` (upserts into
 * INDEX): their common options, opening the inputs, the writer, bad
 * records, the progress line, commits, and the empty-run rule.
 *
 * The empty-run rule: a run that accepts no document fails (exit 1,
 * "no document accepted; INDEX unchanged (use --allow-empty ...)") and
 * changes nothing: the writer is closed without a commit, and a directory
 * that did not exist (or was empty) before the run is removed again (or
 * left empty). The same holds for any run that ends before its first
 * commit, so a failed run never leaves a new directory behind.
 */
#ifndef KS_CLI_INGEST_H
#define KS_CLI_INGEST_H

#include <stdint.h>

#include "cli_util.h"
#include "kosearch.h"

/* Long options of index and add (values for getopt_long, after the
 * ranking options' values, which these commands do not take). */
enum {
  CLI_OPT_MEM_BUDGET = CLI_OPT_FIRST_FREE,
  CLI_OPT_THREADS,
  CLI_OPT_MAX_DOC_MB,
  CLI_OPT_NO_MERGE,
  CLI_OPT_STRICT,
  CLI_OPT_JSON,
  CLI_OPT_BACKEND,
  CLI_OPT_SHARDS,
  CLI_OPT_ALLOW_EMPTY,
  CLI_OPT_INGEST_END /* commands number their own options from here */
};
#define CLI_INGEST_OPTIONS                                          \
  {"mem-budget", required_argument, NULL, CLI_OPT_MEM_BUDGET},     \
  {"threads", required_argument, NULL, CLI_OPT_THREADS},           \
  {"max-doc-mb", required_argument, NULL, CLI_OPT_MAX_DOC_MB},     \
  {"no-merge", no_argument, NULL, CLI_OPT_NO_MERGE},               \
  {"strict", no_argument, NULL, CLI_OPT_STRICT},                   \
  {"quiet", no_argument, NULL, 'q'},                               \
  {"json", no_argument, NULL, CLI_OPT_JSON},                       \
  {"backend", required_argument, NULL, CLI_OPT_BACKEND},           \
  {"shards", required_argument, NULL, CLI_OPT_SHARDS},             \
  {"allow-empty", no_argument, NULL, CLI_OPT_ALLOW_EMPTY}

typedef struct cli_ingest_opts {
  const char *cmd;          /* "index" or "add" (messages) */
  const char *index;        /* INDEX directory */
  char **inputs;            /* INPUT names (borrowed) */
  size_t ninputs;
  int mode;                 /* KS_WRITER_REPLACE (index), KS_WRITER_UPDATE (add) */
  const char *backend;      /* --backend, NULL when not given */
  uint64_t shards;          /* --shards, 0 when not given */
  uint64_t mem_mb, doc_mb, threads; /* 0 when not given */
  int no_merge, strict, quiet, json, allow_empty;
  uint64_t commit_every;    /* add --commit-every N; 0: one commit at the end */
} cli_ingest_opts;

/* What a successful run did (for the command's summary). */
typedef struct cli_ingest_result {
  const char *backend;      /* "native" or "xapian" (static) */
  int created;              /* INDEX did not hold an index before */
  ks_writer_stats ws;       /* the writer's counters after the last commit
                               (a native writer may publish one more, a
                               background merge, when it is closed) */
  uint64_t records;         /* records read from the inputs */
  uint64_t rejected;        /* bad records (skipped) */
  uint64_t commits;         /* commits made */
  uint64_t input_bytes;     /* bytes read, counted on disk */
  double secs;              /* wall time from opening the writer to
                               closing it */
} cli_ingest_result;

/* If `opt` (a cli_getopt result) is a common option (CLI_INGEST_OPTIONS or
 * 'q'), apply its value `arg` to *o and return 1; 0 for another option;
 * -1 after a usage message (bad value). */
int cli_ingest_option(int opt, const char *arg, cli_ingest_opts *o);

/* Check the combination of options and inputs (o->cmd, o->index, inputs
 * set). CLI_OK, or CLI_USAGE with a message printed. */
int cli_ingest_check(const cli_ingest_opts *o);

/* Run: open every input, then the writer (kind: --backend/--shards for
 * index, or for add on a new INDEX; what is on disk for add on an existing
 * one), add every record, commit (every o->commit_every accepted documents
 * and at the end), fill *r. Prints warnings, the progress line and errors,
 * not the summary. Returns CLI_OK, CLI_ERROR (message printed; nothing
 * committed since the last commit) or CLI_USAGE. */
int cli_ingest_run(const cli_ingest_opts *o, cli_ingest_result *r);

#endif /* KS_CLI_INGEST_H */
