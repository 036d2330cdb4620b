/*
 * index_writer.h - the native backend's index writer, ks_index_writer_*
 * (internal; the public writer is kosearch/writer.h, which dispatches here
 * for native indexes), and the document checks and analysis shared with the
 * other backends (ks_doc_*; internal too).
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
 * (docs/format/README.md). ks_index_writer_open on an existing index starts a
 * writer whose commit REPLACES the index contents atomically (the previous
 * commit stays readable until the new MANIFEST is renamed into place; a
 * crash at any point leaves it intact). Only one writer per index: the
 * directory is locked (KS_ELOCKED).
 *
 * Memory: analyzed postings are buffered in memory and flushed to a new
 * segment whenever the buffer exceeds opts.mem_budget bytes; at commit the
 * segments are merged into one (unless opts.merge = 0). With opts.threads
 * >= 2 a segment is written by a helper thread while the next one fills,
 * so the budget is shared: segments are cut at half the budget and the
 * writer waits rather than hold more than the budget in both together.
 *
 * Duplicate ids: a later document with the same id replaces the earlier
 * one (the earlier is deleted; ks_writer_stats counts it in docs_replaced).
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


/* The checks ks_index_writer_add applies to a document, for other backends that
 * must accept exactly the same documents: id present and at most
 * KS_MAX_ID_BYTES, text present and non-empty, title + text at most
 * max_doc_bytes, no NUL byte, valid UTF-8 in id, title and text.
 * Returns KS_OK, KS_EINPUT, KS_EUTF8 or KS_ELIMIT (err says why, without a
 * location: callers add FILE:LINE). */
int ks_doc_validate(const ks_doc *doc, size_t max_doc_bytes, ks_err *err);

/* Analyze a document exactly as ks_index_writer_add does, for other backends
 * that must index the same terms: the title, then the text, whose
 * positions continue after a gap of one (no phrase spans the two); cb gets
 * every term with tok->pos already at its document-level position.
 * Returns KS_OK, the analyzer's errors (ks_tok_run), KS_ELIMIT, or cb's
 * non-zero value. The document should have passed ks_doc_validate. */
int ks_doc_analyze(ks_tok *tok, const ks_doc *doc, ks_tok_cb cb, void *ctx,
                   ks_err *err);

/* The stored JSON the writer builds for a document given without one:
 * {"id":...,"title":...,"text":...}. *json is NUL-terminated (length in
 * *len if non-NULL); free it with ks_mem_free (ks_srch.h). KS_OK or
 * KS_ENOMEM. */
int ks_doc_default_json(const ks_doc *doc, char **json, size_t *len,
                        ks_err *err);


typedef struct ks_index_writer ks_index_writer;

/* Create the directory if needed, lock it, and start an empty writer.
 * Refuses a non-empty directory that is not a kosearch index (KS_EINVAL).
 * Returns KS_OK, KS_EIO, KS_EINVAL, KS_ELOCKED, KS_ENOMEM, KS_EICU.
 * On failure *out = NULL. */
int ks_index_writer_open(const char *dir, const ks_writer_opts *opts,
                   ks_index_writer **out, ks_err *err);

/* Analyze and buffer one document. Checks: id present and <= 1024 bytes,
 * text present and non-empty, no NUL byte, valid UTF-8, size limit.
 * Returns KS_OK; KS_EINPUT / KS_EUTF8 / KS_ELIMIT for a rejected document
 * (the index is unchanged, the writer stays usable; err says why);
 * KS_ENOMEM / KS_EIO (writer unusable except for ks_index_writer_close). */
int ks_index_writer_add(ks_index_writer *w, const ks_doc *doc, ks_err *err);

/* Flush, merge (if opts.merge), and atomically publish a new commit.
 * After KS_OK the writer is finished: only ks_index_writer_close is allowed.
 * Returns KS_OK, KS_EIO, KS_ENOMEM, KS_ELIMIT. On error the previous
 * commit is intact. */
int ks_index_writer_commit(ks_index_writer *w, ks_err *err);


void ks_index_writer_get_stats(const ks_index_writer *w, ks_writer_stats *st);

/* Release the writer. Without a successful commit, everything added is
 * discarded (its temporary segment files are removed). NULL allowed. */
void ks_index_writer_close(ks_index_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* KS_INDEX_WRITER_H */
