/*
 * fuzz_util.c - implements fuzz_util.h: scratch directories, small index
 * builds, and the walks that drive every reader of a segment or an index.
 *
 * The walks bound their loops (WALK_STEPS) so that a mutated count cannot
 * turn one input into a timeout, and check the promises that the readers'
 * contracts make (a postings cursor delivers increasing document numbers
 * below ndocs, positions increase, a looked-up key is the key asked for,
 * a document's id finds a document), aborting through fz_fail when one is
 * broken.
 */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deletions_int.h"
#include "dir_int.h"
#include "dict_int.h"
#include "docstore_int.h"
#include "index.h"
#include "kosearch/db.h"
#include "kosearch/writer.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "lengths_int.h"
#include "postings_int.h"
#include "segment_int.h"

/* Upper bound on the steps (terms, postings, documents) of one walk. */
#define WALK_STEPS 20000

void fz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fuzz: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

/* ---- scratch directories ----------------------------------------------------- */

#define MAX_TMPDIRS 8
static char *tmpdirs[MAX_TMPDIRS];
static int ntmpdirs;

static void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char *p = fz_join(path, e->d_name);
      struct stat st;
      if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(p);
      else
        unlink(p);
      free(p);
    }
    closedir(d);
  }
  rmdir(path);
}

static void remove_tmpdirs(void) {
  for (int i = 0; i < ntmpdirs; i++) remove_tree(tmpdirs[i]);
}

char *fz_tmpdir(const char *tag) {
  const char *base = getenv("KS_FUZZ_TMP");
  struct stat st;
  if (!base || !*base)
    base = (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
            access("/dev/shm", W_OK) == 0) ? "/dev/shm" : "/tmp";
  size_t n = strlen(base) + strlen(tag) + 32;
  char *dir = malloc(n);
  if (!dir) fz_fail("out of memory");
  snprintf(dir, n, "%s/ks-fuzz-%s-XXXXXX", base, tag);
  if (!mkdtemp(dir)) fz_fail("mkdtemp %s: %s", dir, strerror(errno));
  if (ntmpdirs == 0) atexit(remove_tmpdirs);
  if (ntmpdirs < MAX_TMPDIRS) tmpdirs[ntmpdirs++] = dir;
  return dir;
}

char *fz_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (!p) fz_fail("out of memory");
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

void fz_write(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fz_fail("open %s: %s", path, strerror(errno));
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fz_fail("write %s: %s", path, strerror(errno));
    p += w;
    len -= (size_t)w;
  }
  if (close(fd) != 0) fz_fail("close %s: %s", path, strerror(errno));
}

void fz_remove_prefixed(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d) return;
  size_t n = strlen(prefix);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, prefix, n) != 0) continue;
    char *p = fz_join(dir, e->d_name);
    unlink(p);
    free(p);
  }
  closedir(d);
}

/* ---- index builds ------------------------------------------------------------ */

int fz_build(const char *dir, const fz_doc *docs, size_t n, const size_t *cuts,
             size_t ncuts, const char *const *del, size_t ndel, int verbose) {
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.mode = KS_WRITER_REPLACE;
  o.merge = 0;
  o.fsync = 0;
  o.threads = 1;
  o.mem_budget = (size_t)1 << 20;
  ks_writer *w = NULL;
  ks_err e;
  ks_err_clear(&e);
  int rc = ks_writer_open(dir, &o, &w, &e);
  size_t c = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    if (c < ncuts && cuts[c] == i) {
      c++;
      if (i > 0) rc = ks_writer_commit(w, &e);
      if (rc) break;
    }
    ks_doc d = {docs[i].id, strlen(docs[i].id), docs[i].title,
                docs[i].title ? strlen(docs[i].title) : 0, docs[i].text,
                strlen(docs[i].text), docs[i].json,
                docs[i].json ? strlen(docs[i].json) : 0};
    rc = ks_writer_add(w, &d, &e);
  }
  if (!rc) rc = ks_writer_commit(w, &e);
  for (size_t i = 0; i < ndel && !rc; i++) {
    rc = ks_writer_delete(w, del[i], strlen(del[i]), &e);
    if (rc == KS_NOTFOUND) rc = KS_OK;
  }
  if (!rc && ndel) rc = ks_writer_commit(w, &e);
  if (rc && verbose) fprintf(stderr, "fuzz: build %s: %s\n", dir, e.msg);
  ks_writer_close(w);
  return rc;
}

static const char *const template_words[] = {
    "대통령은", "경제", "첨단산업은", "클러스터", "스터디", "나무",
    "서울에서", "검색",  "kosearch",   "Engine",   "2024년", "3개"};

void fz_build_template(const char *dir, int large, uint32_t *segno, uint64_t *del_gen) {
  /* Small on purpose (every input walks all of it): 24 documents, or 140
   * for a postings list of two blocks (사과를, its stem and its bigrams
   * are in every document); two stored blocks either way (the first
   * document's stored JSON carries a compressible 17 KB field that is not
   * indexed). */
  enum { NMAX = 140 };
  static char ids[NMAX][8], texts[NMAX][160], pad[17500];
  fz_doc docs[NMAX];
  const int N = large ? NMAX : 24;
  uint32_t x = 12345;
  size_t nw = sizeof template_words / sizeof *template_words;
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "d%03d", i);
    size_t len = (size_t)snprintf(texts[i], sizeof texts[i], "사과를");
    int words = 1 + i % 3;
    for (int k = 0; k < words; k++) {
      x = x * 1103515245u + 12345u;
      len += (size_t)snprintf(texts[i] + len, sizeof texts[i] - len, " %s",
                              template_words[(x >> 16) % nw]);
    }
    docs[i].id = ids[i];
    docs[i].title = i % 10 == 0 ? "제목 title" : NULL;
    docs[i].text = texts[i];
    docs[i].json = NULL;
  }
  size_t pl = (size_t)snprintf(pad, sizeof pad, "{\"id\":\"d000\",\"text\":\"%s\",\"pad\":\"",
                               texts[0]);
  while (pl < sizeof pad - 3) pad[pl++] = 'x';
  memcpy(pad + pl, "\"}", 3);
  docs[0].json = pad;
  const char *del[] = {"d005", large ? "d077" : "d017"};
  if (fz_build(dir, docs, (size_t)N, NULL, 0, del, 2, 1) != KS_OK)
    fz_fail("cannot build the template index in %s", dir);
  /* its one segment: the only *.len file; its .del: the only *.del */
  DIR *d = opendir(dir);
  if (!d) fz_fail("opendir %s", dir);
  struct dirent *e;
  uint32_t s = 0;
  uint64_t g = 0;
  int nseg = 0, ndel = 0;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".len")) {
      s = (uint32_t)strtoul(e->d_name, NULL, 10);
      nseg++;
    } else if (l > 4 && !strcmp(e->d_name + l - 4, ".del")) {
      const char *u = strchr(e->d_name, '_');
      if (u) g = strtoull(u + 1, NULL, 10);
      ndel++;
    }
  }
  closedir(d);
  if (nseg != 1 || ndel != 1 || g == 0)
    fz_fail("template index: %d segments, %d deletion files", nseg, ndel);
  if (segno) *segno = s;
  if (del_gen) *del_gen = g;
}

/* ---- the segment walk -------------------------------------------------------- */

static int walk_postings(const ks_segment *seg, const ks_term_info *info,
                         int field, int *steps) {
  ks_err e;
  ks_postings cur;
  uint32_t ndocs = ks_segment_ndocs(seg);
  int rc = ks_postings_open(&cur, seg, info, &e);
  if (!rc) {
    for (uint32_t b = 0; b < cur.nblocks; b++) {
      ks_skip_entry se;
      ks_postings_skip(&cur, b, &se);
    }
  }
  uint32_t prev = 0, seen = 0;
  while (!rc && (*steps)++ < WALK_STEPS) {
    if (cur.doc >= ndocs || (seen && cur.doc <= prev))
      fz_fail("postings cursor delivered document %u after %u (ndocs %u)",
              cur.doc, prev, ndocs);
    prev = cur.doc;
    seen++;
    (void)ks_segment_doclen(seg, cur.doc, field);
    (void)ks_segment_is_deleted(seg, cur.doc);
    const uint32_t *pos;
    uint32_t npos;
    rc = ks_postings_positions(&cur, &pos, &npos, &e);
    if (rc) break;
    for (uint32_t i = 1; i < npos; i++)
      if (pos[i] <= pos[i - 1])
        fz_fail("positions not increasing in document %u", cur.doc);
    rc = ks_postings_next(&cur, &e);
  }
  ks_postings_close(&cur);
  if (rc != KS_DONE && rc != KS_OK) return rc;
  /* seek: every third document, then past the end */
  rc = ks_postings_open(&cur, seg, info, &e);
  uint32_t target = 0;
  while (!rc && (*steps)++ < WALK_STEPS) {
    uint32_t before = cur.doc;
    rc = ks_postings_seek(&cur, target, &e);
    if (rc) break;
    if (cur.doc < target || cur.doc < before)
      fz_fail("seek(%u) landed on %u (from %u)", target, cur.doc, before);
    target = cur.doc + 3;
  }
  if (rc == KS_DONE) rc = ks_postings_seek(&cur, UINT32_MAX, &e);
  ks_postings_close(&cur);
  return rc == KS_DONE ? KS_OK : rc;
}

static int walk_dictionary(const ks_segment *seg, int *steps) {
  ks_err e;
  ks_dict_iter it;
  ks_dict_iter_init(&it, seg);
  int rc;
  while ((rc = ks_dict_iter_next(&it, &e)) == KS_OK && (*steps)++ < WALK_STEPS) {
    ks_term_info info;
    (void)ks_segment_lookup(seg, it.key, it.keylen, &info, &e);
    (void)ks_deletions_df(seg, it.key, it.keylen);
    int field = it.keylen > 0 && (uint8_t)it.key[0] < KS_NFIELDS ? it.key[0] : 0;
    int pr = walk_postings(seg, &it.info, field, steps);
    if (pr) return pr;
  }
  /* keys that are not there: before, between and after */
  ks_term_info info;
  static const struct { const char *key; size_t len; } probes[] = {
      {"\0", 1}, {"\0\xea\xb0\x80", 4}, {"\1\xea\xb0\x80", 4},
      {"\xff", 1}, {"\0zzzz", 5}};
  for (size_t i = 0; i < sizeof probes / sizeof *probes; i++)
    (void)ks_segment_lookup(seg, probes[i].key, probes[i].len, &info, &e);
  return rc == KS_DONE ? KS_OK : rc;
}

static int walk_documents(const ks_segment *seg, int *steps) {
  ks_err e;
  uint32_t ndocs = ks_segment_ndocs(seg);
  int rc = ks_lengths_verify_range(seg, 0, ndocs, &e);
  if (!rc)
    for (uint32_t d = 0; d < ndocs; d++)
      for (int f = 0; f < KS_NFIELDS; f++) (void)ks_segment_doclen(seg, d, f);
  for (int f = 0; f < KS_NFIELDS; f++) (void)ks_segment_field_total(seg, f);
  size_t nt = ks_deletions_nterms(seg);
  for (size_t i = 0; i < nt && (*steps)++ < WALK_STEPS; i++) {
    ks_deleted_term t;
    ks_deletions_term(seg, i, &t);
    (void)ks_deletions_df(seg, t.key, t.klen);
  }
  const uint8_t *deleted = ks_segment_deleted_bitmap(seg);
  ks_buf json = KS_BUF_INIT;
  for (uint32_t d = 0; d < ndocs && (*steps)++ < WALK_STEPS; d++) {
    (void)ks_segment_is_deleted(seg, d);
    const char *id;
    size_t len;
    int r = ks_segment_doc_id(seg, d, &id, &len, &e);
    if (r == KS_OK) {
      uint32_t local;
      r = ks_segment_find_id(seg, id, len, deleted, &local, &e);
      if (r == KS_OK && local >= ndocs)
        fz_fail("find_id returned document %u of %u", local, ndocs);
    }
    /* by number: a sample (each call decompresses a whole block; the
     * iterator below reads every document) */
    ks_buf_reset(&json);
    if ((r == KS_OK || r == KS_NOTFOUND) && (d % 8 == 0 || d + 1 == ndocs))
      r = ks_segment_doc_json(seg, d, &json, &e);
    if (r && r != KS_NOTFOUND && !rc) rc = r;
  }
  uint32_t local;
  (void)ks_segment_find_id(seg, "missing", 7, NULL, &local, &e);
  (void)ks_segment_doc_json(seg, ndocs, &json, &e);
  ks_buf_free(&json);
  uint32_t nb = ks_segment_sto_nblocks(seg);
  for (uint32_t b = 0; b < nb && (*steps)++ < WALK_STEPS; b++) {
    uint32_t first, n, raw;
    const uint8_t *comp;
    uint32_t clen;
    (void)ks_segment_sto_block(seg, b, &first, &n, &raw, &comp, &clen, &e);
  }
  ks_sto_iter si;
  ks_sto_iter_init(&si, seg);
  const char *j;
  size_t jl;
  int r;
  while ((r = ks_sto_iter_next(&si, &j, &jl, &e)) == KS_OK && (*steps)++ < WALK_STEPS) {
  }
  ks_sto_iter_free(&si);
  if (r != KS_DONE && r != KS_OK && !rc) rc = r;
  return rc;
}

int fz_walk_segment(const char *dir, uint32_t segno, uint64_t del_gen) {
  ks_err e;
  ks_segment *seg = NULL;
  int rc = ks_segment_open_gen(dir, segno, del_gen, 0, &seg, &e);
  if (rc) return rc;
  int steps = 0;
  int r1 = walk_dictionary(seg, &steps);
  int r2 = walk_documents(seg, &steps);
  int r3 = ks_deletions_check(seg, &e);
  int r4 = ks_segment_check(seg, NULL, NULL, &e);
  ks_segment_close(seg);
  return r1 ? r1 : r2 ? r2 : r3 ? r3 : r4;
}

/* ---- the index walk ---------------------------------------------------------- */

int fz_walk_index(const char *dir, int *open_rc, int *check_rc) {
  ks_err e;
  ks_index *ix = NULL;
  int rc = ks_index_open(dir, &ix, &e);
  if (open_rc) *open_rc = rc;
  if (check_rc) *check_rc = ks_index_check(dir, NULL, NULL, &e);
  if (rc) return rc;
  ks_index_stats st;
  int first = ks_index_get_stats(ix, &st, &e);
  static const char *const queries[] = {"사과", "대통령 경제", "\"검색 엔진\"",
                                        "+산업 -스터디", "kosearch 2024년"};
  static const int algos[] = {KS_ALGO_EXHAUSTIVE, KS_ALGO_BMW, KS_ALGO_MAXSCORE};
  for (size_t q = 0; q < sizeof queries / sizeof *queries; q++)
    for (int a = 0; a < 3; a++) {
      ks_search_opts o;
      ks_search_opts_default(&o);
      o.algorithm = algos[a];
      o.k = 5;
      ks_index_results *r = NULL;
      int sr = ks_index_search(ix, queries[q], SIZE_MAX, &o, &r, &e);
      if (sr && !first) first = sr;
      size_t n = ks_index_results_count(r);
      for (size_t i = 0; i < n; i++) {
        ks_index_hit h;
        ks_index_results_hit(r, i, &h);
        char *out = NULL;
        size_t len;
        const char *id;
        size_t idlen;
        if (ks_index_doc_id(ix, h.doc, &id, &idlen, &e) == KS_OK) {
          uint64_t doc;
          (void)ks_index_find_id(ix, id, idlen, &doc, &e);
        }
        if (ks_index_doc_json(ix, h.doc, &out, &len, &e) == KS_OK) ks_mem_free(out);
        out = NULL;
        if (ks_index_results_snippet(ix, r, i, 80, "<b>", "</b>", &out, &e) == KS_OK)
          ks_mem_free(out);
      }
      ks_index_results_free(r);
    }
  ks_index_close(ix);
  return first;
}

void fz_seed_out(const char *path) {
  const char *out = getenv("KS_FUZZ_SEED_OUT");
  if (!out || !*out) return;
  FILE *f = fopen(path, "rb");
  if (!f) fz_fail("cannot read %s", path);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  if (!feof(f)) fz_fail("%s: larger than a seed should be", path);
  fclose(f);
  fz_write(out, buf, n);
}

/* ---- file-reader targets ------------------------------------------------------ */

static char *segfile_dir, *segfile_path;
static uint32_t segfile_segno;
static uint64_t segfile_gen;

void fz_segfile_init(const char *ext) {
  segfile_dir = fz_tmpdir(ext + 1);
  /* the postings files get the template with two-block lists */
  int large = strcmp(ext, ".doc") == 0 || strcmp(ext, ".pos") == 0;
  fz_build_template(segfile_dir, large, &segfile_segno, &segfile_gen);
  segfile_path = strcmp(ext, ".del") == 0
                     ? ks_dir_del_file(segfile_dir, segfile_segno, segfile_gen)
                     : ks_dir_segment_file(segfile_dir, segfile_segno, ext);
  if (!segfile_path) fz_fail("out of memory");
  /* the template must walk cleanly, or every finding would be noise */
  int rc = fz_walk_segment(segfile_dir, segfile_segno, segfile_gen);
  if (rc) fz_fail("the template segment does not walk cleanly: %s", ks_strerror(rc));
  fz_seed_out(segfile_path);
}

void fz_segfile_run(const uint8_t *data, size_t size) {
  fz_write(segfile_path, data, size);
  (void)fz_walk_segment(segfile_dir, segfile_segno, segfile_gen);
}

const char *fz_segfile_path(void) { return segfile_path; }
