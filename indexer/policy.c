/*
 * policy.c - implements section policy.c of writer_int.h: which segments
 * to merge, and the merge in flight.
 *
 * Policy (docs/live.md, "Merge policy"): a log-structured policy over
 * ADJACENT segments, so that merging never reorders documents (the order
 * of the live documents, and so tie-breaking and a fully merged index,
 * never depend on when merges ran). A segment's level is
 * floor(log_F(live / KS_MERGE_MIN_DOCS)) (0 below F * MIN_DOCS), F =
 * KS_MERGE_FACTOR. In order of preference:
 *   1. F adjacent segments of the same level are merged (the lowest such
 *      level first): a level fills up F times before it moves up, which
 *      bounds each document's rewrites by the number of levels, log_F(N);
 *   2. a segment whose deleted documents exceed KS_MERGE_DELETED_PCT % of
 *      it is rewritten alone, reclaiming them;
 *   3. if there are more than F * (levels + 1) segments (levels being
 *      interleaved by deletions), the F adjacent segments with the fewest
 *      live documents are merged: the count stays logarithmic.
 *
 * One merge is in flight at a time. With a merge thread (opts.threads >=
 * 2) it runs there while documents are added; its inputs' deletions are
 * snapshotted when it starts (their bitmaps are copied), and deletions made
 * since are carried over to the merged segment when it is installed
 * (ks_policy_collect), so no deletion is ever lost. The result becomes
 * visible at the next commit. Without a merge thread the merge runs at
 * once.
 */
#include "writer_int.h"

#include <string.h>
#include <sys/stat.h>

#include "dir_int.h"
#include "ks_alloc.h"
#include "merge_int.h"

typedef struct ks_merge_job {
  const char *dir;      /* borrowed from the writer */
  uint32_t n;           /* inputs */
  uint32_t *segnos;     /* n input segment numbers, in order */
  uint32_t *ndocs;      /* n */
  uint8_t **snap;       /* n deletion bitmaps at the start (NULL: none) */
  ks_merge_input *in;
  uint32_t out_segno;
  int do_fsync, async;
  ks_merge_result res;
} ks_merge_job;

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][merge] out of memory"); }

static void job_free(ks_merge_job *j) {
  if (!j) return;
  for (uint32_t i = 0; j->snap && i < j->n; i++) ks_free(j->snap[i]);
  ks_free(j->snap);
  ks_free(j->segnos);
  ks_free(j->ndocs);
  ks_free(j->in);
  ks_free(j);
}

static int run_job(void *ctx, void *job, ks_err *err) {
  (void)ctx;
  ks_merge_job *j = job;
  return ks_merge_segments(j->dir, j->in, j->n, j->out_segno, j->do_fsync, j->async,
                           &j->res, err);
}

static uint64_t live_docs(const ks_live_seg *l) { return l->ndocs - l->ndeleted; }

static int level(const ks_live_seg *l) {
  uint64_t n = live_docs(l) / KS_MERGE_MIN_DOCS;
  int lv = 0;
  while (n >= KS_MERGE_FACTOR) {
    n /= KS_MERGE_FACTOR;
    lv++;
  }
  return lv;
}

/* The first of the n (<= nlive) adjacent segments with the fewest live
 * documents together. */
static uint32_t cheapest_window(const ks_index_writer *w, uint32_t n) {
  uint64_t best = UINT64_MAX;
  uint32_t first = 0;
  for (uint32_t i = 0; i + n <= w->nlive; i++) {
    uint64_t sum = 0;
    for (uint32_t k = i; k < i + n; k++) sum += live_docs(&w->live[k]);
    if (sum < best) {
      best = sum;
      first = i;
    }
  }
  return first;
}

/* The window [*first, *first + *n) the policy wants merged; 0 if none. */
static int choose(const ks_index_writer *w, uint32_t *first, uint32_t *n) {
  const uint32_t F = KS_MERGE_FACTOR;
  int best = -1, maxlv = 0;
  for (uint32_t i = 0; i < w->nlive; i++) {
    int lv = level(&w->live[i]);
    if (lv > maxlv) maxlv = lv;
  }
  /* 1. F adjacent segments of one level, the lowest level first */
  for (uint32_t i = 0; i < w->nlive;) {
    int lv = level(&w->live[i]);
    uint32_t j = i + 1;
    while (j < w->nlive && level(&w->live[j]) == lv) j++;
    if (j - i >= F && (best < 0 || lv < best)) {
      best = lv;
      *first = i;
      *n = F;
    }
    i = j;
  }
  if (best >= 0) return 1;
  /* 2. a segment with too many deleted documents */
  for (uint32_t i = 0; i < w->nlive; i++) {
    const ks_live_seg *l = &w->live[i];
    if ((uint64_t)l->ndeleted * 100 > (uint64_t)l->ndocs * KS_MERGE_DELETED_PCT) {
      *first = i;
      *n = 1;
      return 1;
    }
  }
  /* 3. too many segments: the cheapest F adjacent ones */
  if (w->nlive > F * (uint32_t)(maxlv + 2)) {
    *first = cheapest_window(w, F);
    *n = F;
    return 1;
  }
  return 0;
}

/* A job merging live segments [first, first + n), their deletions
 * snapshotted. */
static int make_job(ks_index_writer *w, uint32_t first, uint32_t n, ks_merge_job **out,
                    ks_err *err) {
  ks_merge_job *j = ks_calloc(1, sizeof *j);
  if (!j) return oom(err);
  j->dir = w->dir;
  j->n = n;
  j->segnos = ks_calloc(n, sizeof *j->segnos);
  j->ndocs = ks_calloc(n, sizeof *j->ndocs);
  j->snap = ks_calloc(n, sizeof *j->snap);
  j->in = ks_calloc(n, sizeof *j->in);
  if (!j->segnos || !j->ndocs || !j->snap || !j->in) {
    job_free(j);
    return oom(err);
  }
  for (uint32_t k = 0; k < n; k++) {
    ks_live_seg *l = &w->live[first + k];
    j->segnos[k] = l->segno;
    j->ndocs[k] = l->ndocs;
    j->in[k].segno = l->segno;
    if (l->ndeleted) {
      int rc = KS_OK;
      if (!l->del) { /* deletions only on disk: load them */
        rc = ks_live_open(w, first + k, err);
        if (!rc) {
          size_t nb = ((size_t)l->ndocs + 7) / 8;
          if (!(l->del = ks_calloc(nb + 1, 1))) rc = oom(err);
          else memcpy(l->del, ks_segment_deleted_bitmap(l->seg), nb);
        }
      }
      size_t nb = ((size_t)l->ndocs + 7) / 8;
      if (!rc && !(j->snap[k] = ks_malloc(nb + 1))) rc = oom(err);
      if (rc) {
        job_free(j);
        return rc;
      }
      memcpy(j->snap[k], l->del, nb);
      j->in[k].deleted = j->snap[k];
    }
  }
  j->out_segno = w->next_segno++;
  j->do_fsync = w->opts.fsync;
  j->async = w->threaded;
  for (uint32_t k = 0; k < n; k++) w->live[first + k].merging = 1;
  *out = j;
  return KS_OK;
}

/* Put a finished job's segment in place of its inputs, carrying over the
 * deletions made since it started. */
static int install(ks_index_writer *w, ks_merge_job *j, ks_err *err) {
  uint32_t first = UINT32_MAX;
  for (uint32_t i = 0; i < w->nlive; i++)
    if (w->live[i].segno == j->segnos[0]) first = i;
  if (first == UINT32_MAX || first + j->n > w->nlive)
    return ks_err_set(err, KS_EINVAL, "[idx][merge] merge inputs are gone");
  /* Output numbers of documents deleted since the snapshot. */
  uint32_t *carried = NULL;
  size_t ncarried = 0, cap = 0;
  uint32_t out = 0;
  for (uint32_t k = 0; k < j->n; k++) {
    const ks_live_seg *l = &w->live[first + k];
    if (l->segno != j->segnos[k])
      return ks_err_set(err, KS_EINVAL, "[idx][merge] merge inputs were reordered");
    for (uint32_t d = 0; d < l->ndocs; d++) {
      if (j->snap[k] && ((j->snap[k][d >> 3] >> (d & 7)) & 1)) continue;
      if (l->del && ((l->del[d >> 3] >> (d & 7)) & 1)) {
        if (ncarried == cap) {
          cap = cap ? 2 * cap : 64;
          uint32_t *p = ks_realloc(carried, cap * sizeof *p);
          if (!p) {
            ks_free(carried);
            return oom(err);
          }
          carried = p;
        }
        carried[ncarried++] = out;
      }
      out++;
    }
  }
  int rc = KS_OK;
  /* res.ndocs = 0 (nothing was live): the inputs just go, no carried
   * deletions then */
  ks_live_replace(w, first, j->n, j->out_segno, j->res.ndocs);
  for (size_t c = 0; c < ncarried && j->res.ndocs && !rc; c++)
    rc = ks_live_delete(w, first, carried[c], err);
  ks_free(carried);
  if (!rc) {
    w->st.merges++;
    for (int k = 0; k < KS_SEGMENT_NKINDS; k++) {
      char *p = ks_dir_segment_file(w->dir, j->out_segno, ks_segment_exts[k]);
      struct stat sb;
      if (p && stat(p, &sb) == 0) w->st.merged_bytes += (uint64_t)sb.st_size;
      ks_free(p);
    }
  }
  return rc;
}

/* Contract: writer_int.h. */
int ks_policy_collect(ks_index_writer *w, int wait, ks_err *err) {
  ks_merge_job *j = w->mjob;
  if (!j) return KS_OK;
  if (w->merger) {
    if (!wait && ks_worker_finished(w->merger) == 0) return KS_OK;
    int rc = ks_worker_wait(w->merger, 1, err);
    ks_worker_stop(w->merger, 0);
    w->merger = NULL;
    if (rc) return rc;
  }
  w->mjob = NULL;
  int rc = install(w, j, err);
  for (uint32_t i = 0; i < w->nlive; i++) w->live[i].merging = 0;
  job_free(j);
  return rc;
}

/* Start job j: on a merge thread (threaded writers), or run it now. */
static int start(ks_index_writer *w, ks_merge_job *j, ks_err *err) {
  w->mjob = j;
  if (w->threaded) {
    int rc = ks_worker_start(&w->merger, run_job, NULL, 1);
    if (rc) return ks_err_set(err, rc, "[idx][merge] cannot start the merge thread");
    return ks_worker_submit(w->merger, j, err);
  }
  int rc = run_job(NULL, j, err);
  if (rc) return rc;
  return ks_policy_collect(w, 1, err);
}

/* Contract: writer_int.h. */
int ks_policy_maybe_merge(ks_index_writer *w, ks_err *err) {
  if (!w->opts.merge || w->mjob) return KS_OK;
  uint32_t first = 0, n = 0;
  if (!choose(w, &first, &n)) return KS_OK;
  ks_merge_job *j;
  int rc = make_job(w, first, n, &j, err);
  if (rc) return rc;
  return start(w, j, err);
}

/* Contract: writer_int.h. */
int ks_policy_force(ks_index_writer *w, uint32_t max_segments, ks_err *err) {
  int rc = ks_policy_collect(w, 1, err);
  while (!rc) {
    uint32_t first = 0, n = 0;
    if (w->nlive > max_segments) {
      /* the cheapest window that brings the count down to the maximum */
      n = w->nlive - max_segments + 1;
      first = cheapest_window(w, n);
    } else if (max_segments == 1 && w->nlive == 1 && w->live[0].ndeleted) {
      n = 1; /* reclaim the deleted documents */
    } else {
      break;
    }
    ks_merge_job *j;
    if ((rc = make_job(w, first, n, &j, err))) break;
    w->mjob = j;
    rc = run_job(NULL, j, err);
    if (!rc) rc = ks_policy_collect(w, 1, err);
    else {
      w->mjob = NULL;
      job_free(j);
    }
  }
  return rc;
}

/* Contract: writer_int.h. */
void ks_policy_stop(ks_index_writer *w) {
  if (w->merger) ks_worker_stop(w->merger, 0);
  w->merger = NULL;
  job_free(w->mjob);
  w->mjob = NULL;
}

/* Contract: writer_int.h. */
uint32_t ks_policy_reserved(const ks_index_writer *w) {
  return w->mjob ? w->mjob->out_segno : UINT32_MAX;
}
