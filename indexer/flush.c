/*
 * flush.c - implements section flush.c of writer_int.h: writing a full
 * segment's files (term files through ks_segw from the memindex, then the
 * .sto finished) on the caller's thread or on the flusher thread, and the
 * list of written segments.
 *
 * Invariants: at most one segment is in flight (w->finflight, job w->fjob);
 * a segment is recorded in w->segs only once all its files are written,
 * and segments are recorded in the order their documents were added (the
 * in-flight one is always recorded before the next is sealed or flushed),
 * so w->segs[i].base increases with i. term and posting counts are summed
 * over the flushed segments (commit replaces them with the merged
 * segment's exact figures).
 */
#include "writer_int.h"

#include <string.h>

#include "ks_alloc.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

/* Write a segment's term files from mi and finish its .sto; consumes mi
 * and sto whatever the result. Adds its term and posting counts to
 * *nterms / *npostings. Runs on the caller's thread or on the flusher. */
static int write_segment(const char *dir, ks_memindex *mi, ks_stow *sto, uint32_t segno,
                         uint32_t ndocs, const uint32_t *lens, int do_fsync, int async,
                         uint64_t *nterms, uint64_t *npostings, ks_err *err) {
  ks_segw *sw = NULL;
  int rc = ks_segw_open(&sw, dir, segno, ndocs, lens, do_fsync, err);
  if (!rc && async) rc = ks_segw_set_async(sw, err); /* encode while mi is read */
  if (!rc) rc = ks_memindex_write(mi, sw, err);
  if (!rc) rc = ks_segw_drain(sw, err);
  if (!rc) {
    *nterms += ks_segw_nterms(sw);
    *npostings += ks_segw_npostings(sw);
    rc = ks_segw_finish(sw, err);
    sw = NULL;
  }
  ks_segw_abort(sw);
  if (!rc) rc = ks_stow_finish(sto, err);
  else ks_stow_abort(sto);
  ks_memindex_free(mi);
  return rc;
}

/* Append a written segment to w->segs. */
static int record_segment(ks_index_writer *w, uint32_t segno, uint32_t ndocs, uint64_t base,
                          ks_err *err) {
  if (w->nsegs == w->segs_cap) {
    uint32_t cap = w->segs_cap ? w->segs_cap * 2 : 8;
    ks_flushed *p = ks_realloc(w->segs, cap * sizeof *p);
    if (!p) return oom(err);
    w->segs = p;
    w->segs_cap = cap;
  }
  w->segs[w->nsegs].segno = segno;
  w->segs[w->nsegs].ndocs = ndocs;
  w->segs[w->nsegs].base = base;
  w->nsegs++;
  w->st.segments_flushed = w->nsegs;
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_flush_segment(ks_index_writer *w, ks_err *err) {
  if (!w->mi) return KS_OK;
  /* Summed over flushed segments; the merge replaces them with exact
   * figures for the single merged segment. */
  int rc = write_segment(w->dir, w->mi, w->sto, w->cur_segno, w->cur_ndocs,
                         (const uint32_t *)w->lens.data, w->opts.fsync, w->threaded,
                         &w->st.terms, &w->st.postings, err);
  w->sto = NULL;
  w->mi = NULL;
  if (rc) return rc;
  return record_segment(w, w->cur_segno, w->cur_ndocs, w->ndocs_total - w->cur_ndocs, err);
}

/* ---- the flusher thread (opts.threads >= 2) ---------------------------------- */

/* The flusher's job (ks_worker_fn): write the sealed segment. */
static int flush_job_run(void *ctx, void *job, ks_err *err) {
  ks_index_writer *w = ctx;
  ks_flush_job *j = job;
  j->nterms = j->npostings = 0;
  int rc = write_segment(w->dir, j->mi, j->sto, j->segno, j->ndocs,
                         (const uint32_t *)j->lens.data, w->opts.fsync, 1, &j->nterms,
                         &j->npostings, err);
  j->mi = NULL;
  j->sto = NULL;
  return rc;
}

/* Contract: writer_int.h. */
int ks_flush_start(ks_index_writer *w, ks_err *err) {
  if (ks_worker_start(&w->flusher, flush_job_run, w, 1))
    return ks_err_set(err, KS_ENOMEM, "[idx][open] cannot start the flush thread");
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_flush_wait(ks_index_writer *w, ks_err *err) {
  if (!w->finflight) return KS_OK;
  int rc = ks_worker_drain(w->flusher, err);
  w->finflight = 0;
  if (rc) return rc;
  ks_flush_job *j = &w->fjob;
  w->st.terms += j->nterms;
  w->st.postings += j->npostings;
  return record_segment(w, j->segno, j->ndocs, j->base, err);
}

/* Contract: writer_int.h. */
int ks_flush_seal(ks_index_writer *w, ks_err *err) {
  int rc = ks_flush_wait(w, err);
  if (rc || !w->mi) return rc;
  ks_flush_job *j = &w->fjob;
  j->mi = w->mi;
  j->sto = w->sto;
  ks_buf t = j->lens; /* swap: the job gets this segment's lengths */
  j->lens = w->lens;
  w->lens = t;
  ks_buf_reset(&w->lens);
  j->segno = w->cur_segno;
  j->ndocs = w->cur_ndocs;
  j->base = w->ndocs_total - w->cur_ndocs;
  j->bytes = ks_memindex_bytes(w->mi) + j->lens.cap;
  w->mi = NULL;
  w->sto = NULL;
  w->finflight = 1;
  rc = ks_worker_submit(w->flusher, j, err); /* never waits: none in flight */
  if (rc) { /* the flusher failed before: the job is discarded, not run */
    ks_worker_drain(w->flusher, NULL);
    ks_memindex_free(j->mi);
    ks_stow_abort(j->sto);
    j->mi = NULL;
    j->sto = NULL;
    w->finflight = 0;
  }
  return rc;
}

/* Contract: writer_int.h. */
size_t ks_flush_in_flight_bytes(const ks_index_writer *w) {
  return w->finflight ? w->fjob.bytes : 0;
}

/* Contract: writer_int.h. */
void ks_flush_stop(ks_index_writer *w) {
  if (!w->flusher) return;
  ks_err ignored;
  ks_flush_wait(w, &ignored); /* its files are removed by the caller if uncommitted */
  ks_worker_stop(w->flusher, 0);
  w->flusher = NULL;
  ks_buf_free(&w->fjob.lens);
}
