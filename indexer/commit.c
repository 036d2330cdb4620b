/*
 * commit.c - implements ks_index_writer_commit, _delete and _merge
 * (index_writer.h): the steps that change what the next commit holds.
 *
 * Commit:
 *   1. settle: everything queued is analyzed and indexed, the segment in
 *      flight and the current one are written (flush.c), and the session's
 *      segments join the live list (live.c) with the documents replaced in
 *      the session marked deleted. The first commit of a KS_WRITER_REPLACE
 *      writer instead merges them into one (with opts.merge), as a fresh
 *      build;
 *   2. a finished background merge is installed, and the merge policy may
 *      start the next one (policy.c);
 *   3. every segment with new deletions gets its next .del, named after
 *      the new generation (copy-on-write: the previous commit's .del files
 *      stay untouched);
 *   4. the directory is fsync'ed (new files' entries are durable), then
 *      ks_manifest_write (temp + fsync + kept copy + rename + directory
 *      fsync);
 *   5. files that neither the new commit, nor a commit a reader leases, nor
 *      the merge in flight needs are deleted.
 * A failure before the rename in step 4 leaves the previous commit intact
 * and readable (the writer is then unusable; its files are removed by
 * ks_index_writer_close or the next writer's garbage collection).
 */
#include "writer_int.h"

#include <string.h>

#include "dir_int.h"
#include "ks_alloc.h"
#include "merge_int.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][commit] out of memory"); }

static int usable(const ks_index_writer *w, const char *op, ks_err *err) {
  if (w->broken)
    return ks_err_set(err, KS_EINVAL, "[idx][%s] writer is unusable after an earlier error", op);
  return KS_OK;
}

/* Merge the session's segments into one (the first commit of a REPLACE
 * writer) and make it the only live segment. */
static int merge_session(ks_index_writer *w, ks_err *err) {
  ks_merge_input *in = ks_calloc(w->nsegs, sizeof *in);
  int rc = in ? KS_OK : oom(err);
  for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
    uint32_t cnt;
    in[i].segno = w->segs[i].segno;
    in[i].deleted = ks_dedup_bitmap(&w->dedup, w->segs[i].base, w->segs[i].ndocs, &cnt);
    if (cnt && !in[i].deleted) rc = oom(err);
  }
  ks_merge_result res;
  uint32_t out = w->next_segno++;
  if (!rc)
    rc = ks_merge_segments(w->dir, in, w->nsegs, out, w->opts.fsync, w->threaded, &res, err);
  for (uint32_t i = 0; in && i < w->nsegs; i++) ks_free((void *)in[i].deleted);
  ks_free(in);
  if (!rc && res.ndocs > 0) rc = ks_live_append(w, out, res.ndocs, NULL, 0, err);
  if (!rc) {
    w->st.terms = res.nterms;
    w->st.postings = res.npostings;
  }
  return rc;
}

/* Step 1: the session's documents become live segments. */
static int settle(ks_index_writer *w, ks_err *err) {
  int rc = w->analysis ? ks_analysis_drain(w->analysis, err) : KS_OK;
  if (!rc) rc = ks_flush_wait(w, err);
  if (!rc) rc = ks_flush_segment(w, err);
  if (rc || w->nsegs == 0) return rc;
  uint32_t total_del = 0;
  for (uint32_t i = 0; i < w->nsegs; i++)
    for (uint32_t d = 0; d < w->segs[i].ndocs; d++)
      total_del += (uint32_t)ks_dedup_is_deleted(&w->dedup, w->segs[i].base + d);
  if (w->replace_pending && w->opts.merge && (w->nsegs > 1 || total_del > 0)) {
    rc = merge_session(w, err);
  } else {
    for (uint32_t i = 0; i < w->nsegs && !rc; i++) {
      uint32_t cnt;
      uint8_t *bm = ks_dedup_bitmap(&w->dedup, w->segs[i].base, w->segs[i].ndocs, &cnt);
      if (cnt && !bm) rc = oom(err);
      else rc = ks_live_append(w, w->segs[i].segno, w->segs[i].ndocs, bm, cnt, err);
    }
  }
  if (!rc) {
    w->nsegs = 0;
    w->ndocs_total = 0;
    ks_dedup_reset(&w->dedup);
  }
  return rc;
}

/* Drop segments left without a live document (not inputs of the merge in
 * flight, which installs them). */
static void drop_empty(ks_index_writer *w) {
  for (uint32_t i = 0; i < w->nlive;) {
    if (w->live[i].ndeleted == w->live[i].ndocs && !w->live[i].merging) {
      ks_live_replace(w, i, 1, 0, 0);
    } else {
      i++;
    }
  }
}

/* Step 5: remove what neither the new commit nor the merge in flight
 * needs. The merge's inputs stay until it is installed, even one that the
 * commit dropped because every document of it was deleted meanwhile: the
 * merge thread may not have opened its files yet (a lost race made the
 * next commit fail with the input's files missing). */
static void collect_garbage(ks_index_writer *w) {
  ks_manifest keep = w->old;
  ks_manifest_seg *segs = NULL;
  uint32_t extra = 0;
  for (uint32_t i = 0; i < w->nlive; i++) extra += (uint32_t)(w->live[i].merging != 0);
  if (extra) {
    segs = ks_calloc((size_t)w->old.nsegs + extra, sizeof *segs);
    if (!segs) return; /* nothing is removed; the next collection will */
    memcpy(segs, w->old.segs, (size_t)w->old.nsegs * sizeof *segs);
    keep.segs = segs;
    for (uint32_t i = 0; i < w->nlive; i++)
      if (w->live[i].merging) {
        ks_manifest_seg *s = &segs[keep.nsegs++];
        s->segno = w->live[i].segno;
        s->ndocs = w->live[i].ndocs;
        s->del_gen = w->live[i].del_gen;
      }
  }
  ks_directory_collect_garbage(w->dir, &keep, ks_policy_reserved(w));
  ks_free(segs);
}

/* Steps 3-5: write the deletions and the MANIFEST, collect garbage. */
static int publish(ks_index_writer *w, ks_err *err) {
  uint64_t gen = (w->have_old ? w->old.generation : 0) + 1;
  drop_empty(w);
  int rc = ks_live_write_deletions(w, gen, err);
  ks_manifest m;
  memset(&m, 0, sizeof m);
  if (!rc) rc = ks_live_manifest(w, &m, err);
  /* New segment files' directory entries are durable before the MANIFEST
   * that names them can be. */
  if (!rc && w->opts.fsync) rc = ks_dir_fsync(w->dir, err);
  if (!rc) {
    m.generation = gen;
    m.index_id = w->have_old ? w->old.index_id : ks_manifest_new_index_id();
    m.next_segno = w->next_segno;
    m.tok_version = KS_TOK_VERSION;
    m.tok = w->opts.tok;
    rc = ks_manifest_write(w->dir, &m, w->opts.fsync, err);
  }
  if (rc) {
    ks_free(m.segs);
    return rc;
  }
  ks_manifest_free(&w->old);
  w->old = m;
  w->have_old = 1;
  w->replace_pending = 0;
  w->dirty = 0;
  collect_garbage(w);
  w->st.docs_live = ks_live_count(w);
  w->st.segments = m.nsegs;
  w->st.generation = gen;
  w->st.index_bytes = ks_dir_commit_bytes(w->dir, &m);
  return KS_OK;
}

/* Contract: index_writer.h. */
int ks_index_writer_commit(ks_index_writer *w, ks_err *err) {
  int rc = usable(w, "commit", err);
  if (!rc) rc = settle(w, err);
  if (!rc) rc = ks_policy_collect(w, 0, err);
  if (!rc && !w->replace_pending) rc = ks_policy_maybe_merge(w, err);
  if (!rc) rc = publish(w, err);
  if (rc) w->broken = 1;
  return rc;
}

/* Contract: index_writer.h. */
int ks_index_writer_merge(ks_index_writer *w, uint32_t max_segments, ks_err *err) {
  int rc = usable(w, "merge", err);
  if (!rc && max_segments == 0)
    return ks_err_set(err, KS_EINVAL, "[idx][merge] max_segments must be at least 1");
  if (!rc) rc = settle(w, err);
  if (!rc) rc = ks_policy_force(w, max_segments, err);
  if (rc) w->broken = 1;
  return rc;
}

/* Contract: index_writer.h. A document queued for analysis may carry the
 * id, so the queue is drained first (deletions are applied in order with
 * additions). */
int ks_index_writer_delete(ks_index_writer *w, const char *id, size_t len, ks_err *err) {
  int rc = usable(w, "delete", err);
  if (rc) return rc;
  if (w->analysis && (rc = ks_analysis_drain(w->analysis, err))) {
    w->broken = 1;
    return rc;
  }
  uint64_t doc;
  rc = ks_dedup_remove(&w->dedup, id, len, &doc);
  if (rc == KS_OK) {
    w->st.docs_deleted++;
    w->dirty = 1;
    return KS_OK;
  }
  if (rc == KS_ENOMEM) {
    w->broken = 1;
    return oom(err);
  }
  uint32_t s, local;
  rc = ks_live_find(w, id, len, &s, &local, err);
  if (rc == KS_NOTFOUND) return KS_NOTFOUND;
  if (!rc) rc = ks_live_delete(w, s, local, err);
  if (rc) {
    w->broken = 1;
    return rc;
  }
  w->st.docs_deleted++;
  w->dirty = 1;
  return KS_OK;
}

/* Contract: writer_int.h. */
void ks_index_writer_finish_merge(ks_index_writer *w) {
  ks_err e;
  /* Each finished merge is published, and the policy may want the next
   * one (a level that fills up moves a level up): they run until it wants
   * none, so a short-lived writer leaves the index as merged as the policy
   * keeps it, not however far its merges lagged behind its commits. */
  while (!w->broken && !w->dirty && w->mjob && w->have_old) {
    if (ks_policy_collect(w, 1, &e) != KS_OK || ks_policy_maybe_merge(w, &e) != KS_OK ||
        publish(w, &e) != KS_OK)
      break;
  }
}

/* Contract: writer_int.h. */
int ks_index_writer_replace_live(ks_index_writer *w, const char *id, size_t len,
                                 int *replaced, ks_err *err) {
  *replaced = 0;
  /* A KS_WRITER_REPLACE writer's live list never holds the old index's
   * segments (ks_live_load is skipped), only its own settled ones (a
   * ks_writer_merge before its first commit settles them): those must be
   * replaced like any other. */
  if (w->nlive == 0) return KS_OK;
  uint32_t s, local;
  int rc = ks_live_find(w, id, len, &s, &local, err);
  if (rc == KS_NOTFOUND) return KS_OK;
  if (!rc) rc = ks_live_delete(w, s, local, err);
  if (!rc) *replaced = 1;
  return rc;
}
