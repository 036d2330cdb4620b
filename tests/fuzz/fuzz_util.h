/*
 * fuzz_util.h - helpers shared by the libFuzzer targets of tests/fuzz/
 * (built only in the fuzzing tree, -DKS_FUZZ=ON: see tests/fuzz/README.md).
 *
 * The targets call the engine's internal APIs (common/, searcher/) as the
 * searcher and the integrity check do, so that every read a reader makes
 * of a mutated file is exercised under ASan and UBSan. A target aborts
 * (fz_fail) only on a broken promise of an API contract, never on an error
 * code the contract allows.
 */
#ifndef KS_FUZZ_UTIL_H
#define KS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Print "fuzz: <message>" to stderr and abort (libFuzzer saves the
 * input as a crash). */
void fz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

/* A fresh scratch directory for this process under $KS_FUZZ_TMP, else
 * /dev/shm (tmpfs), else /tmp, removed with its contents at exit. `tag`
 * names it. Returns a heap string (never freed: lives for the process);
 * aborts on failure. */
char *fz_tmpdir(const char *tag);

/* dir + "/" + name in a heap string (aborts on out of memory). */
char *fz_join(const char *dir, const char *name);

/* Replace the file `path` with `len` bytes of `data`. Aborts on failure. */
void fz_write(const char *path, const void *data, size_t len);

/* Remove every regular file of `dir` whose name starts with `prefix`. */
void fz_remove_prefixed(const char *dir, const char *prefix);

/* One document for fz_build. */
typedef struct fz_doc {
  const char *id;
  const char *title;   /* may be NULL */
  const char *text;
  const char *json;    /* stored form (ks_doc.json); NULL: the writer's */
} fz_doc;

/* Build (or replace: KS_WRITER_REPLACE) a native index in `dir` from
 * docs[0..n): one commit per batch, batches cut before each index listed
 * in cuts[0..ncuts) (so ncuts + 1 segments, merging off), then delete the
 * ids in del[0..ndel) and commit again. fsync off, one thread. Returns
 * KS_OK or the first error (err message printed when `verbose`). */
int fz_build(const char *dir, const fz_doc *docs, size_t n, const size_t *cuts,
             size_t ncuts, const char *const *del, size_t ndel, int verbose);

/* The template index of the file-reader targets: 24 short Korean and
 * Latin documents in one segment, or 140 with `large` (postings lists of
 * more than one 128-document block, for .doc and .pos), two .sto blocks,
 * two documents deleted (a .del file). Built in `dir`. Aborts on failure.
 * *segno and *del_gen (may be NULL) receive its segment number and
 * deletion generation. */
void fz_build_template(const char *dir, int large, uint32_t *segno, uint64_t *del_gen);

/* Exercise every reader of one segment of `dir` as the searcher, a merge
 * and `kosearch check` do: open it (ks_segment_open_gen, no whole-file
 * CRC), walk the dictionary, look every key up, decode every postings list
 * with its positions and field lengths, seek, read the skip tables, the
 * lengths and field totals, the deletions and the deleted-term table,
 * every stored document by number, by id and in order, the raw stored
 * blocks, then run the integrity check. Returns the first error code
 * (errors are expected on mutated files) after closing everything. */
int fz_walk_segment(const char *dir, uint32_t segno, uint64_t del_gen);

/* Open the index in `dir` (ks_index_open) and exercise it: statistics, a
 * few searches with each algorithm, documents by number and by id,
 * snippets. Returns the first error code. *open_rc (may be NULL) receives
 * ks_index_open's result, *check_rc (may be NULL: not run) that of
 * ks_index_check (the integrity walk of `kosearch check`). */
int fz_walk_index(const char *dir, int *open_rc, int *check_rc);

/* When $KS_FUZZ_SEED_OUT is set, copy the file `path` there (scripts/
 * fuzz.sh --seeds: the seed corpora are the template index's own files). */
void fz_seed_out(const char *path);

/* The file-reader targets (fuzz_dictionary, fuzz_postings, ...): build
 * the template index in a scratch directory and remember the path of its
 * file of kind `ext` (".tid", ".doc", ".pos", ".len", ".sto" or ".del");
 * aborts unless the template walks without error. */
void fz_segfile_init(const char *ext);
/* Write the input over that file and walk the segment
 * (fz_walk_segment). */
void fz_segfile_run(const uint8_t *data, size_t size);
/* The path of the file the inputs replace (after fz_segfile_init). */
const char *fz_segfile_path(void);

#endif /* KS_FUZZ_UTIL_H */
