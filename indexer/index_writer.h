/*
 * index_writer.h - the native backend's index writer, ks_index_writer_*
 * (internal; the public writer is kosearch/writer.h, which dispatches here
 * for native indexes). Implemented by indexer/writer.c and commit.c (with
 * the files listed in writer_int.h). The document checks and analysis
 * shared with the other backends, ks_doc_*, are document.h.
 *
 *   ks_writer_opts o; ks_writer_opts_default(&o);
 *   ks_index_writer *w; ks_err e;
 *   if (ks_index_writer_open("my.idx", &o, &w, &e)) { puts(e.msg); ... }
 *   ks_doc d = {.id = "a1", .id_len = 2, .text = "...", .text_len = n};
 *   rc = ks_index_writer_add(w, &d, &e);   // a rejected document changes nothing
 *   rc = ks_index_writer_commit(w, &e);    // atomic: all or nothing
 *   ks_index_writer_close(w);
 *
 * An index is a directory of immutable segment files plus a MANIFEST
 * (docs/format/README.md). In opts.mode KS_WRITER_UPDATE (the default)
 * the writer continues from the last commit: an added document replaces
 * the live one with its id, ks_index_writer_delete removes one, and every
 * commit publishes the changes since the previous one atomically (a new
 * MANIFEST renamed into place; a crash at any point leaves the previous
 * commit intact). In KS_WRITER_REPLACE the first commit replaces the
 * whole index. Only one writer per index: the directory is locked
 * (KS_ELOCKED). Design: docs/live.md.
 *
 * Memory: analyzed postings are buffered in memory and flushed to a new
 * segment whenever the buffer exceeds opts.mem_budget bytes. The first
 * commit of a REPLACE writer merges its segments into one; otherwise the
 * merge policy (policy.c) merges adjacent segments on a merge thread
 * (opts.merge = 0: never). With opts.threads >= 2 a segment is written by
 * a helper thread while the next one fills, so the budget is shared:
 * segments are cut at half the budget and the writer waits rather than
 * hold more than the budget in both together.
 *
 * Threading: a ks_index_writer is used by one thread at a time.
 */
#ifndef KS_INDEX_WRITER_H
#define KS_INDEX_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"
#include "kosearch/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_index_writer ks_index_writer;

/* Create the directory if needed, lock it, collect garbage, and start a
 * writer that continues from the last commit (KS_WRITER_UPDATE, adopting
 * the index's analyzer options) or from nothing (KS_WRITER_REPLACE).
 * Refuses a non-empty directory that is not a kosearch index (KS_EINVAL).
 * Returns KS_OK, KS_EIO, KS_EINVAL, KS_ELOCKED, KS_EVERSION, KS_ECORRUPT,
 * KS_ENOMEM, KS_EICU. On failure *out = NULL. */
int ks_index_writer_open(const char *dir, const ks_writer_opts *opts,
                         ks_index_writer **out, ks_err *err);

/* Analyze and buffer one document. Checks: id present and <= 1024 bytes,
 * text present and non-empty, no NUL byte, valid UTF-8, size limit.
 * Returns KS_OK; KS_EINPUT / KS_EUTF8 / KS_ELIMIT for a rejected document
 * (the index is unchanged, the writer stays usable; err says why);
 * KS_ENOMEM / KS_EIO (writer unusable except for ks_index_writer_close). */
int ks_index_writer_add(ks_index_writer *w, const ks_doc *doc, ks_err *err);

/* Delete the live document with this id (already validated) at the next
 * commit: KS_OK, KS_NOTFOUND (none; nothing changes), KS_ENOMEM / KS_EIO /
 * KS_ECORRUPT (writer unusable). ks_writer_delete in kosearch/writer.h. */
int ks_index_writer_delete(ks_index_writer *w, const char *id, size_t len,
                           ks_err *err);

/* Merge down to at most max_segments segments (and no deleted documents
 * on disk when max_segments = 1); published by the next commit.
 * ks_writer_merge in kosearch/writer.h. */
int ks_index_writer_merge(ks_index_writer *w, uint32_t max_segments,
                          ks_err *err);

/* Flush, and atomically publish every change since the last commit (a new
 * MANIFEST). The writer stays usable. Returns KS_OK, KS_EIO, KS_ENOMEM,
 * KS_ELIMIT; on error the previous commit is intact and the writer is
 * unusable. */
int ks_index_writer_commit(ks_index_writer *w, ks_err *err);

/* Counters of this writer so far (ks_writer_stats, kosearch/writer.h). */
void ks_index_writer_get_stats(const ks_index_writer *w, ks_writer_stats *st);

/* Release the writer. Without a successful commit, everything added is
 * discarded (its temporary segment files are removed). NULL allowed. */
void ks_index_writer_close(ks_index_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* KS_INDEX_WRITER_H */
