/*
 * writer.c - implements index_writer.h (with commit.c) and section
 * writer.c of writer_int.h: the native index writer's orchestration.
 *
 * Life of a document: ks_index_writer_add validates it (document.c) and
 * analyzes it into token records (analysis.c: on the caller's thread, or
 * batched on the analysis thread with opts.threads >= 2); then, always on
 * the caller's thread and in order, ks_index_writer_add_analyzed replays
 * the records into the memindex of the current segment (title positions
 * first; text positions continue after a gap of one so that no phrase
 * spans title and text), appends its stored JSON to the segment's .sto
 * writer and its field lengths to `lens`, and records its id (dedup.c).
 * When the memindex exceeds the memory budget the segment is written
 * (flush.c) and a new one starts with the next document.
 *
 * Invariants: documents get consecutive global numbers in the order they
 * were added (replaced ones included), segment after segment, whatever
 * the threads; any error other than a rejected document makes the writer
 * unusable (broken) except for ks_index_writer_close; files of uncommitted
 * segments are removed by ks_index_writer_close, and any left by a crash
 * by the next ks_index_writer_open (garbage collection under the lock), so
 * the previous commit stays readable until commit.c renames a new
 * MANIFEST into place.
 */
#include "writer_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "document.h"
#include "ks_alloc.h"
#include "segment_int.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

/* Contract: kosearch/writer.h. */
void ks_writer_opts_default(ks_writer_opts *o) {
  memset(o, 0, sizeof *o);
  o->mem_budget = (size_t)256 << 20;
  o->merge = 1;
  o->max_doc_bytes = (size_t)64 << 20;
  ks_tok_config_default(&o->tok);
  o->fsync = 1;
  o->threads = 2;
}

/* Contract: index_writer.h. */
int ks_index_writer_open(const char *dir, const ks_writer_opts *opts,
                         ks_index_writer **out, ks_err *err) {
  *out = NULL;
  ks_index_writer *w = ks_calloc(1, sizeof *w);
  if (!w) return oom(err);
  w->lock_fd = -1;
  if (opts) w->opts = *opts;
  else ks_writer_opts_default(&w->opts);
  if (w->opts.mem_budget < ((size_t)1 << 20)) w->opts.mem_budget = (size_t)1 << 20; /* a fresh memindex already holds ~0.3 MiB */
  int rc = KS_OK;
  if (!(w->dir = ks_strndup(dir, strlen(dir)))) rc = oom(err);
  if (!rc) rc = ks_directory_lock(dir, &w->lock_fd, err);
  if (!rc) {
    int r = ks_manifest_read(dir, &w->old, err);
    if (r == KS_OK) {
      w->have_old = 1;
      w->next_segno = w->old.next_segno;
      if (w->old.tok_version != KS_TOK_VERSION)
        rc = ks_err_set(err, KS_EVERSION, "[idx][open] %s was built with analyzer version %u, "
                        "this program has version %u: rebuild it with `kosearch index`",
                        dir, w->old.tok_version, (unsigned)KS_TOK_VERSION);
      /* An update continues with the index's own analyzer options. */
      else if (w->opts.mode != KS_WRITER_REPLACE) w->opts.tok = w->old.tok;
      if (!rc && w->opts.mode != KS_WRITER_REPLACE) rc = ks_live_load(w, &w->old, err);
    } else if (r == KS_NOTFOUND) {
      ks_err_clear(err);
      w->next_segno = 1;
    } else {
      char msg[sizeof err->msg];
      snprintf(msg, sizeof msg, "%s", err ? err->msg : "[idx][open] cannot read MANIFEST");
      rc = ks_err_set(err, r, "%s (remove the directory to rebuild the index)", msg);
    }
  }
  w->replace_pending = w->opts.mode == KS_WRITER_REPLACE;
  if (!rc && w->opts.mode != KS_WRITER_UPDATE && w->opts.mode != KS_WRITER_REPLACE)
    rc = ks_err_set(err, KS_EINVAL, "[idx][open] unknown writer mode %d", w->opts.mode);
  if (!rc) ks_directory_collect_garbage(dir, w->have_old ? &w->old : NULL, UINT32_MAX);
  w->st.docs_live = ks_live_count(w);
  w->st.generation = w->have_old ? w->old.generation : 0;
  w->st.segments = w->nlive;
  if (!rc) rc = ks_tok_new(&w->opts.tok, &w->tok, err);
  if (!rc && w->opts.threads >= 2) {
    rc = ks_analysis_new(&w->analysis, &w->opts.tok, ks_index_writer_add_analyzed, w, err);
    if (!rc) {
      w->threaded = 1;
      rc = ks_flush_start(w, err);
    }
  }
  if (rc) {
    ks_index_writer_close(w);
    return rc;
  }
  *out = w;
  return KS_OK;
}

/* Start a new current segment (its number, memindex and .sto writer). */
static int start_segment(ks_index_writer *w, ks_err *err) {
  int rc = ks_memindex_new(&w->mi, err);
  if (rc) return rc;
  w->cur_segno = w->next_segno++;
  w->cur_ndocs = 0;
  ks_buf_reset(&w->lens);
  rc = ks_stow_open(&w->sto, w->dir, w->cur_segno, w->opts.fsync, err);
  if (!rc && w->threaded) rc = ks_stow_set_async(w->sto, err);
  return rc;
}

/* Contract: writer_int.h. */
int ks_index_writer_add_analyzed(void *ctx, const ks_doc *d, const uint8_t *toks,
                                 size_t ntok_bytes, const uint32_t doclen[KS_NFIELDS],
                                 ks_err *err) {
  ks_index_writer *w = ctx;
  int rc = KS_OK;
  if (!w->mi && (rc = start_segment(w, err))) return rc;
  ks_memindex_begin_doc(w->mi, w->cur_ndocs);
  rc = ks_analysis_replay(w->mi, toks, ntok_bytes, err);
  if (!rc) rc = ks_memindex_end_doc(w->mi, err);
  if (rc) return rc;
  /* Stored form. */
  char *built = NULL;
  const char *js = d->json;
  size_t jl = d->json_len;
  if (!js || !jl) {
    if ((rc = ks_doc_default_json(d, &built, &jl, err))) return rc;
    js = built;
  }
  rc = ks_stow_add(w->sto, d->id, d->id_len, js, jl, err);
  ks_free(built);
  if (rc) return rc;
  for (int f = 0; f < KS_NFIELDS; f++)
    if (ks_buf_put_u32(&w->lens, doclen[f])) return oom(err);
  int replaced;
  if (ks_dedup_add(&w->dedup, d->id, d->id_len, w->ndocs_total, &replaced)) return oom(err);
  if (!replaced && (rc = ks_index_writer_replace_live(w, d->id, d->id_len, &replaced, err)))
    return rc;
  if (replaced) w->st.docs_replaced++;
  w->dirty = 1;
  w->cur_ndocs++;
  w->ndocs_total++;
  w->st.docs_added++;
  w->st.bytes_in += d->text_len + d->title_len;
  size_t used = ks_memindex_bytes(w->mi) + w->lens.cap + ks_dedup_id_bytes(&w->dedup);
  if (w->flusher) {
    /* the segment in flight counts too: wait for it rather than exceed */
    if (w->finflight && used + w->fjob.bytes >= w->opts.mem_budget) rc = ks_flush_wait(w, err);
    if (!rc && (used >= w->opts.mem_budget / 2 || w->cur_ndocs >= KS_MAX_DOCS - 1))
      rc = ks_flush_seal(w, err);
  } else if (used >= w->opts.mem_budget || w->cur_ndocs >= KS_MAX_DOCS - 1) {
    rc = ks_flush_segment(w, err);
  }
  return rc;
}

/* Contract: index_writer.h. */
int ks_index_writer_add(ks_index_writer *w, const ks_doc *d, ks_err *err) {
  if (w->broken)
    return ks_err_set(err, KS_EINVAL, "[idx][add] writer is unusable after an earlier error");
  int rc = ks_doc_validate(d, w->opts.max_doc_bytes, err);
  if (rc) return rc;
  uint64_t queued = w->analysis ? ks_analysis_queued(w->analysis) : 0;
  if (w->ndocs_total + queued >= 0xffffffffull * 16)
    return ks_err_set(err, KS_ELIMIT, "[idx][add] too many documents");
  if (w->analysis) {
    rc = ks_analysis_add(w->analysis, d, err);
  } else {
    uint32_t doclen[KS_NFIELDS];
    ks_buf_reset(&w->toks);
    rc = ks_analysis_doc(w->tok, d, &w->toks, doclen, err);
    if (!rc) rc = ks_index_writer_add_analyzed(w, d, w->toks.data, w->toks.len, doclen, err);
  }
  if (rc) w->broken = 1;
  return rc;
}

/* Contract: index_writer.h. */
void ks_index_writer_get_stats(const ks_index_writer *w, ks_writer_stats *st) {
  *st = w->st;
  st->mem_used = (w->mi ? ks_memindex_bytes(w->mi) : 0) + w->lens.cap +
                 ks_flush_in_flight_bytes(w) + ks_dedup_bytes(&w->dedup);
}

/* Contract: index_writer.h. */
void ks_index_writer_close(ks_index_writer *w) {
  if (!w) return;
  ks_index_writer_finish_merge(w);
  ks_analysis_free(w->analysis);
  ks_flush_stop(w);
  ks_policy_stop(w);
  ks_buf_free(&w->toks);
  ks_memindex_free(w->mi);
  ks_stow_abort(w->sto);
  if (w->lock_fd >= 0 && w->tok) {
    /* Remove this writer's uncommitted segment files. */
    ks_directory_collect_garbage(w->dir, w->have_old ? &w->old : NULL, UINT32_MAX);
  }
  ks_tok_free(w->tok);
  ks_manifest_free(&w->old);
  ks_free(w->segs);
  ks_buf_free(&w->lens);
  ks_dedup_free(&w->dedup);
  ks_live_free(w);
  ks_buf_free(&w->scratch);
  if (w->lock_fd >= 0) close(w->lock_fd);
  ks_free(w->dir);
  ks_free(w);
}
