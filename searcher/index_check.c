/*
 * index_check.c - implements ks_index_get_stats and ks_index_check of
 * index.h.
 *
 * Stats walk every segment's dictionary (ks_dict_iter) to count terms and
 * postings without decoding any postings list. The check opens each segment
 * of the current MANIFEST with verify_all = 1 (CRC of every file) and runs
 * ks_segment_check (dictionary order, every postings list, positions,
 * lengths, stored documents); then it cross-checks the MANIFEST's document
 * counts against the segments. Problems are reported line by line; the
 * first error is returned, but later segments are still checked so one run
 * lists every broken file.
 */
#include "index_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deletions_int.h"
#include "dict_int.h"
#include "ks_alloc.h"
#include "lengths_int.h"

/* Contract: index.h. */
int ks_index_get_stats(ks_index *ix, ks_index_stats *st, ks_err *err) {
  if (!ix || !st) return ks_err_set(err, KS_EINVAL, "[srch][stats] NULL argument");
  memset(st, 0, sizeof *st);
  st->segments = ix->nsegs;
  st->generation = ix->man.generation;
  st->bytes_manifest = ix->manifest_bytes;
  for (uint32_t s = 0; s < ix->nsegs; s++) {
    const ks_segment *seg = ix->segs[s];
    st->docs += ks_segment_nlive(seg);
    st->deleted += ks_segment_ndocs(seg) - ks_segment_nlive(seg);
    for (int f = 0; f < KS_NFIELDS; f++)
      st->field_total[f] += ks_segment_field_total(seg, f);
    st->bytes_tid += ks_segment_file_size(seg, ".tid");
    st->bytes_doc += ks_segment_file_size(seg, ".doc");
    st->bytes_pos += ks_segment_file_size(seg, ".pos");
    st->bytes_len += ks_segment_file_size(seg, ".len");
    st->bytes_sto += ks_segment_file_size(seg, ".sto");
    st->bytes_del += ks_segment_file_size(seg, ".del");

    ks_dict_iter it;
    ks_dict_iter_init(&it, seg);
    int rc;
    while ((rc = ks_dict_iter_next(&it, err)) == KS_OK) {
      st->terms++;
      st->postings += it.info.df;
    }
    if (rc != KS_DONE) return rc;
  }
  st->bytes_total = st->bytes_tid + st->bytes_doc + st->bytes_pos +
                    st->bytes_len + st->bytes_sto + st->bytes_del +
                    st->bytes_manifest;
  return KS_OK;
}

typedef struct check_ctx {
  void (*report)(void *ctx, const char *line);
  void *ctx;
} check_ctx;

static void say(const check_ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void say(const check_ctx *c, const char *fmt, ...) {
  if (!c->report) return;
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  c->report(c->ctx, line);
}

/* Check one segment; returns its rc (err filled on failure). */
static int check_segment(const char *dir, const ks_manifest_seg *ms,
                         const check_ctx *c, ks_err *err) {
  ks_segment *seg = NULL;
  int rc = ks_segment_open_gen(dir, ms->segno, ms->del_gen, 1, &seg, err);
  if (rc != KS_OK) return rc;
  if (ks_segment_ndocs(seg) != ms->ndocs ||
      ks_segment_ndocs(seg) - ks_segment_nlive(seg) != ms->ndeleted) {
    rc = ks_err_set(err, KS_ECORRUPT,
                    "[srch][check] %s: segment %06u has %u documents (%u "
                    "deleted) but MANIFEST says %u (%u deleted)",
                    dir, ms->segno, ks_segment_ndocs(seg),
                    ks_segment_ndocs(seg) - ks_segment_nlive(seg), ms->ndocs,
                    ms->ndeleted);
  }
  if (rc == KS_OK) rc = ks_segment_check(seg, c->report, c->ctx, err);
  if (rc == KS_OK) rc = ks_deletions_check(seg, err);
  if (rc == KS_OK)
    say(c, "segment %06u: ok (%u documents, %u deleted, %llu terms)",
        ms->segno, ks_segment_ndocs(seg),
        ks_segment_ndocs(seg) - ks_segment_nlive(seg),
        (unsigned long long)ks_segment_nterms(seg));
  ks_segment_close(seg);
  return rc;
}

/* Contract: index.h. */
int ks_index_check(const char *dir, void (*report)(void *ctx, const char *line),
                   void *ctx, ks_err *err) {
  check_ctx c = {report, ctx};
  if (!dir || !*dir)
    return ks_err_set(err, KS_EINVAL, "[srch][check] no index directory");
  /* Hold the snapshot: lease the commit and make sure it is still the
   * current one, so that no writer removes its files while they are
   * checked (docs/live.md). */
  ks_manifest m;
  ks_lease lease;
  int rc = ks_lease_current(dir, &m, &lease, err);
  if (rc != KS_OK) {
    say(&c, "MANIFEST: %s", err ? err->msg : ks_strerror(rc));
    return rc;
  }
  say(&c, "MANIFEST: ok (generation %llu, %u segments, analyzer version %u)",
      (unsigned long long)m.generation, m.nsegs, m.tok_version);
  int first = KS_OK;
  ks_err first_err;
  ks_err_clear(&first_err);
  if (m.tok_version != KS_TOK_VERSION) {
    first = ks_err_set(&first_err, KS_EVERSION,
                       "[srch][check] %s: index was built with analyzer "
                       "version %u, this program has version %u",
                       dir, m.tok_version, (unsigned)KS_TOK_VERSION);
    say(&c, "%s", first_err.msg);
  }
  for (uint32_t s = 0; s < m.nsegs; s++) {
    for (uint32_t t = 0; t < s; t++) {
      if (m.segs[t].segno == m.segs[s].segno && first == KS_OK) {
        first = ks_err_set(&first_err, KS_ECORRUPT,
                           "[srch][check] %s/MANIFEST: segment %06u is "
                           "listed twice", dir, m.segs[s].segno);
        say(&c, "%s", first_err.msg);
      }
    }
    ks_err e;
    ks_err_clear(&e);
    rc = check_segment(dir, &m.segs[s], &c, &e);
    if (rc != KS_OK) {
      say(&c, "segment %06u: FAILED: %s", m.segs[s].segno, e.msg);
      if (first == KS_OK) {
        first = rc;
        first_err = e;
      }
    }
  }
  ks_manifest_free(&m);
  ks_lease_release(&lease);
  if (first != KS_OK) {
    if (err) *err = first_err;
    return first;
  }
  say(&c, "index %s: ok", dir);
  return KS_OK;
}
