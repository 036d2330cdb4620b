/*
 * commit.c - implements ks_index_writer_commit (index_writer.h): the only
 * step that changes what readers see.
 *
 *   1. everything queued is analyzed and indexed, the segment in flight
 *      and the current one are written (flush.c);
 *   2. with opts.merge, all written segments are merged into one, dropping
 *      the documents replaced by a later duplicate id (merge.c); else each
 *      segment with replaced documents gets a .del file;
 *   3. the directory is fsync'ed (new files' entries are durable), then
 *      ks_manifest_write (temp + fsync + rename + directory fsync);
 *   4. files no longer named by the new MANIFEST are deleted.
 * A failure before the rename in step 3 leaves the previous commit intact
 * and readable (the writer is then unusable; its files are removed by
 * ks_index_writer_close or the next writer's garbage collection).
 */
#include "writer_int.h"

#include <string.h>

#include "deletions_int.h"
#include "dir_int.h"
#include "ks_alloc.h"
#include "merge_int.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

/* Contract: index_writer.h. */
int ks_index_writer_commit(ks_index_writer *w, ks_err *err) {
  if (w->broken || w->committed)
    return ks_err_set(err, KS_EINVAL, "[idx][commit] writer is %s",
                      w->committed ? "already committed" : "unusable after an earlier error");
  int rc = w->analysis ? ks_analysis_drain(w->analysis, err) : KS_OK;
  if (!rc) rc = ks_flush_wait(w, err);
  if (!rc) rc = ks_flush_segment(w, err);
  ks_manifest m;
  memset(&m, 0, sizeof m);
  if (!rc && !(m.segs = ks_calloc(w->nsegs + 1, sizeof *m.segs))) rc = oom(err);
  uint32_t total_del = 0;
  for (uint32_t i = 0; i < w->nsegs && !rc; i++)
    for (uint32_t d = 0; d < w->segs[i].ndocs; d++)
      total_del += (uint32_t)ks_dedup_is_deleted(&w->dedup, w->segs[i].base + d);
  if (!rc && w->opts.merge && (w->nsegs > 1 || total_del > 0)) {
    ks_merge_input *in = ks_calloc(w->nsegs, sizeof *in);
    uint32_t cnt;
    if (!in) rc = oom(err);
    for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
      in[i].segno = w->segs[i].segno;
      in[i].deleted = ks_dedup_bitmap(&w->dedup, w->segs[i].base, w->segs[i].ndocs, &cnt);
      if (cnt && !in[i].deleted) rc = oom(err);
    }
    ks_merge_result res;
    uint32_t out = w->next_segno++;
    if (!rc) rc = ks_merge_segments(w->dir, in, w->nsegs, out, w->opts.fsync,
                                    w->threaded, &res, err);
    for (uint32_t i = 0; in && i < w->nsegs; i++) ks_free((void *)in[i].deleted);
    ks_free(in);
    if (!rc) {
      m.nsegs = res.ndocs > 0 ? 1 : 0;
      m.segs[0].segno = out;
      m.segs[0].ndocs = res.ndocs;
      w->st.terms = res.nterms;
      w->st.postings = res.npostings;
    }
  } else if (!rc) {
    for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
      uint32_t cnt;
      uint8_t *bm = ks_dedup_bitmap(&w->dedup, w->segs[i].base, w->segs[i].ndocs, &cnt);
      if (cnt && !bm) { rc = oom(err); break; }
      if (bm)
        rc = ks_deletions_write(w->dir, w->segs[i].segno, w->segs[i].ndocs, bm, cnt,
                                w->opts.fsync, err);
      ks_free(bm);
      m.segs[m.nsegs].segno = w->segs[i].segno;
      m.segs[m.nsegs].ndocs = w->segs[i].ndocs;
      m.segs[m.nsegs].ndeleted = cnt;
      m.nsegs++;
    }
  }
  /* New segment files' directory entries are durable before the MANIFEST
   * that names them can be. */
  if (!rc && w->opts.fsync) rc = ks_dir_fsync(w->dir, err);
  if (!rc) {
    m.generation = (w->have_old ? w->old.generation : 0) + 1;
    m.next_segno = w->next_segno;
    m.tok_version = KS_TOK_VERSION;
    m.tok = w->opts.tok;
    rc = ks_manifest_write(w->dir, &m, w->opts.fsync, err);
  }
  if (!rc) {
    w->committed = 1;
    ks_directory_collect_garbage(w->dir, &m);
    w->st.docs_live = w->st.docs_added - w->st.docs_replaced;
    w->st.segments = m.nsegs;
    w->st.index_bytes = ks_dir_commit_bytes(w->dir, &m);
  } else {
    w->broken = 1;
  }
  ks_free(m.segs);
  return rc;
}

/* Contract: index_writer.h. */
int ks_index_writer_delete(ks_index_writer *w, const char *id, size_t len, ks_err *err) {
  (void)w; (void)id; (void)len;
  return ks_err_set(err, KS_EUNSUPPORTED, "[idx][delete] not implemented yet");
}

/* Contract: index_writer.h. */
int ks_index_writer_merge(ks_index_writer *w, uint32_t max_segments, ks_err *err) {
  (void)w; (void)max_segments;
  return ks_err_set(err, KS_EUNSUPPORTED, "[idx][merge] not implemented yet");
}
