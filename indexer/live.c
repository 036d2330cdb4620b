/*
 * live.c - implements section live.c of writer_int.h: the segments of the
 * index as an update writer sees them, in document order (the MANIFEST's
 * order), with their current deletions.
 *
 * Deleting is cheap: a bit in the segment's bitmap (copied from its .del
 * on first use) and the document number in `pending`. The statistics of
 * the pending documents (delstats.c: a re-analysis of their stored text)
 * are computed once, when the commit writes the segment's next .del, and
 * never for documents a merge drops before that.
 *
 * Invariants: live[i].del is NULL or holds ndocs bits, of which ndeleted
 * are set; every pending document's bit is set; a segment with pending
 * documents is written a new .del at the next commit; segments are opened
 * (ks_segment_open_gen with their del_gen on disk) only when looked into.
 */
#include "writer_int.h"

#include <string.h>

#include "dir_int.h"
#include "docstore_int.h"
#include "ks_alloc.h"
#include "lengths_int.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][live] out of memory"); }

static int grow(ks_index_writer *w, ks_err *err) {
  if (w->nlive < w->live_cap) return KS_OK;
  uint32_t cap = w->live_cap ? 2 * w->live_cap : 16;
  ks_live_seg *p = ks_realloc(w->live, cap * sizeof *p);
  if (!p) return oom(err);
  w->live = p;
  w->live_cap = cap;
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_live_load(ks_index_writer *w, const ks_manifest *m, ks_err *err) {
  for (uint32_t i = 0; i < m->nsegs; i++) {
    if (grow(w, err)) return KS_ENOMEM;
    ks_live_seg *l = &w->live[w->nlive++];
    memset(l, 0, sizeof *l);
    l->segno = m->segs[i].segno;
    l->ndocs = m->segs[i].ndocs;
    l->ndeleted = m->segs[i].ndeleted;
    l->del_gen = m->segs[i].del_gen;
  }
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_live_append(ks_index_writer *w, uint32_t segno, uint32_t ndocs, uint8_t *deleted,
                   uint32_t count, ks_err *err) {
  if (grow(w, err)) {
    ks_free(deleted);
    return KS_ENOMEM;
  }
  ks_live_seg *l = &w->live[w->nlive];
  memset(l, 0, sizeof *l);
  l->segno = segno;
  l->ndocs = ndocs;
  if (count) {
    l->pending = ks_malloc(count * sizeof *l->pending);
    if (!l->pending) {
      ks_free(deleted);
      return oom(err);
    }
    for (uint32_t d = 0; d < ndocs; d++)
      if ((deleted[d >> 3] >> (d & 7)) & 1) l->pending[l->npending++] = d;
    l->pcap = count;
    l->del = deleted;
    l->ndeleted = count;
  } else {
    ks_free(deleted);
  }
  w->nlive++;
  return KS_OK;
}

/* Contract: writer_int.h. */
int ks_live_open(ks_index_writer *w, uint32_t i, ks_err *err) {
  ks_live_seg *l = &w->live[i];
  if (l->seg) return KS_OK;
  int rc = ks_segment_open_gen(w->dir, l->segno, l->del_gen, 0, &l->seg, err);
  if (rc) return rc;
  if (ks_segment_ndocs(l->seg) != l->ndocs)
    return ks_err_set(err, KS_ECORRUPT, "[idx][live] segment %06u has %u documents, "
                      "MANIFEST says %u", l->segno, ks_segment_ndocs(l->seg), l->ndocs);
  return KS_OK;
}

/* Contract: writer_int.h. Newest segments first: recently added ids are
 * the likeliest to be replaced again. */
int ks_live_find(ks_index_writer *w, const char *id, size_t len, uint32_t *seg,
                 uint32_t *local, ks_err *err) {
  for (uint32_t i = w->nlive; i-- > 0;) {
    ks_live_seg *l = &w->live[i];
    if (l->ndeleted == l->ndocs) continue;
    int rc = ks_live_open(w, i, err);
    if (rc) return rc;
    const uint8_t *del = l->del ? l->del : ks_segment_deleted_bitmap(l->seg);
    rc = ks_segment_find_id(l->seg, id, len, del, local, err);
    if (rc == KS_OK) {
      *seg = i;
      return KS_OK;
    }
    if (rc != KS_NOTFOUND) return rc;
  }
  return KS_NOTFOUND;
}

/* Contract: writer_int.h. */
int ks_live_delete(ks_index_writer *w, uint32_t i, uint32_t local, ks_err *err) {
  ks_live_seg *l = &w->live[i];
  size_t nbytes = ((size_t)l->ndocs + 7) / 8;
  if (!l->del) {
    int rc = ks_live_open(w, i, err);
    if (rc) return rc;
    if (!(l->del = ks_calloc(nbytes + 1, 1))) return oom(err);
    const uint8_t *on_disk = ks_segment_deleted_bitmap(l->seg);
    if (on_disk) memcpy(l->del, on_disk, nbytes);
  }
  if (l->npending == l->pcap) {
    size_t cap = l->pcap ? 2 * l->pcap : 64;
    uint32_t *p = ks_realloc(l->pending, cap * sizeof *p);
    if (!p) return oom(err);
    l->pending = p;
    l->pcap = cap;
  }
  l->del[local >> 3] |= (uint8_t)(1u << (local & 7));
  l->pending[l->npending++] = local;
  l->ndeleted++;
  return KS_OK;
}

/* Write segment i's next .del: its current .del's statistics plus the
 * pending documents'. */
static int write_del(ks_index_writer *w, uint32_t i, uint64_t gen, ks_err *err) {
  ks_live_seg *l = &w->live[i];
  int rc = ks_live_open(w, i, err);
  if (rc) return rc;
  ks_delstats ds;
  memset(&ds, 0, sizeof ds);
  rc = ks_delstats_load(&ds, l->seg, err);
  uint8_t *odd = NULL; /* documents whose stored JSON does not reproduce them */
  for (size_t k = 0; k < l->npending && !rc; k++) {
    int mismatch;
    rc = ks_delstats_add_doc(&ds, w->tok, l->seg, l->pending[k], &w->scratch, &mismatch, err);
    if (!rc && mismatch) {
      if (!odd && !(odd = ks_calloc(((size_t)l->ndocs + 7) / 8 + 1, 1))) rc = oom(err);
      else odd[l->pending[k] >> 3] |= (uint8_t)(1u << (l->pending[k] & 7));
    }
  }
  if (!rc && odd) rc = ks_delstats_add_docs_from_postings(&ds, l->seg, odd, err);
  ks_free(odd);
  uint64_t dellen[KS_NFIELDS] = {0};
  for (uint32_t d = 0; d < l->ndocs && !rc; d++)
    if ((l->del[d >> 3] >> (d & 7)) & 1)
      for (int f = 0; f < KS_NFIELDS; f++) dellen[f] += ks_segment_doclen(l->seg, d, f);
  ks_deleted_term *tab = NULL;
  size_t nt = 0;
  if (!rc) rc = ks_delstats_table(&ds, &tab, &nt, err);
  if (!rc)
    rc = ks_deletions_write(w->dir, l->segno, gen, l->ndocs, l->del, l->ndeleted, dellen, tab,
                            nt, w->opts.fsync, err);
  ks_free(tab);
  ks_delstats_free(&ds);
  return rc;
}

/* Contract: writer_int.h. */
int ks_live_write_deletions(ks_index_writer *w, uint64_t gen, ks_err *err) {
  for (uint32_t i = 0; i < w->nlive; i++) {
    ks_live_seg *l = &w->live[i];
    if (!l->npending) continue;
    int rc = write_del(w, i, gen, err);
    if (rc) return rc;
  }
  /* Only now (every file written): the segments name their new .del. */
  for (uint32_t i = 0; i < w->nlive; i++) {
    ks_live_seg *l = &w->live[i];
    if (!l->npending) continue;
    l->npending = 0;
    l->del_gen = gen;
    ks_segment_close(l->seg); /* it maps the old .del */
    l->seg = NULL;
  }
  return KS_OK;
}

static void seg_free(ks_live_seg *l) {
  ks_segment_close(l->seg);
  ks_free(l->del);
  ks_free(l->pending);
  memset(l, 0, sizeof *l);
}

/* Contract: writer_int.h. */
void ks_live_replace(ks_index_writer *w, uint32_t i, uint32_t n, uint32_t segno,
                     uint32_t ndocs) {
  for (uint32_t k = i; k < i + n; k++) seg_free(&w->live[k]);
  uint32_t keep = ndocs > 0; /* the merged segment, unless nothing was live */
  memmove(&w->live[i + keep], &w->live[i + n], (w->nlive - i - n) * sizeof *w->live);
  w->nlive -= n - keep;
  if (!keep) return;
  ks_live_seg *l = &w->live[i];
  memset(l, 0, sizeof *l);
  l->segno = segno;
  l->ndocs = ndocs;
}

/* Contract: writer_int.h. Segments left without a live document are
 * dropped from the commit. */
int ks_live_manifest(const ks_index_writer *w, ks_manifest *m, ks_err *err) {
  m->nsegs = 0;
  m->segs = ks_calloc(w->nlive + 1, sizeof *m->segs);
  if (!m->segs) return oom(err);
  for (uint32_t i = 0; i < w->nlive; i++) {
    const ks_live_seg *l = &w->live[i];
    if (l->ndeleted == l->ndocs) continue;
    ks_manifest_seg *s = &m->segs[m->nsegs++];
    s->segno = l->segno;
    s->ndocs = l->ndocs;
    s->ndeleted = l->ndeleted;
    s->del_gen = l->ndeleted ? l->del_gen : 0;
  }
  return KS_OK;
}

/* Contract: writer_int.h. */
uint64_t ks_live_count(const ks_index_writer *w) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < w->nlive; i++) n += w->live[i].ndocs - w->live[i].ndeleted;
  return n;
}

/* Contract: writer_int.h. */
void ks_live_free(ks_index_writer *w) {
  for (uint32_t i = 0; i < w->nlive; i++) seg_free(&w->live[i]);
  ks_free(w->live);
  w->live = NULL;
  w->nlive = w->live_cap = 0;
}
