/*
 * ks_idx.h - building a kosearch index (public, stable API).
 *
 *   ks_writer_opts o; ks_writer_opts_default(&o);
 *   ks_writer *w; ks_err e;
 *   if (ks_writer_open("my.idx", &o, &w, &e)) { puts(e.msg); ... }
 *   ks_doc d = {.id = "a1", .id_len = 2, .text = "...", .text_len = n};
 *   rc = ks_writer_add(w, &d, &e);   // a rejected document changes nothing
 *   rc = ks_writer_commit(w, &e);    // atomic: all or nothing
 *   ks_writer_close(w);
 *
 * An index is a directory of immutable segment files plus a MANIFEST
 * (docs/format/README.md). ks_writer_open on an existing index starts a
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
 * Threading: a ks_writer is used by one thread at a time.
 */
#ifndef KS_IDX_H
#define KS_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "ks_error.h"
#include "ks_tok.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A document to index. All pointers are borrowed for the duration of
 * ks_writer_add only. Strings are UTF-8 with explicit lengths. */
typedef struct ks_doc {
  const char *id;     size_t id_len;     /* required, 1..KS_MAX_ID_BYTES */
  const char *title;  size_t title_len;  /* may be NULL/0 */
  const char *text;   size_t text_len;   /* required, non-empty */
  /* Stored form: a complete JSON object with at least "id" and "text"
   * (other fields are kept verbatim and returned by the searcher). NULL:
   * the writer builds {"id","title","text"} itself. Not validated beyond
   * being non-empty: callers must pass well-formed JSON. */
  const char *json;   size_t json_len;
} ks_doc;

/* Longest accepted document id, in bytes. */
#define KS_MAX_ID_BYTES 1024

/* The checks ks_writer_add applies to a document, for other backends that
 * must accept exactly the same documents: id present and at most
 * KS_MAX_ID_BYTES, text present and non-empty, title + text at most
 * max_doc_bytes, no NUL byte, valid UTF-8 in id, title and text.
 * Returns KS_OK, KS_EINPUT, KS_EUTF8 or KS_ELIMIT (err says why, without a
 * location: callers add FILE:LINE). */
int ks_doc_validate(const ks_doc *doc, size_t max_doc_bytes, ks_err *err);

/* Analyze a document exactly as ks_writer_add does, for other backends
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

typedef struct ks_writer_opts {
  size_t mem_budget;      /* flush threshold in bytes (default 256 MiB,
                             minimum 1 MiB) */
  int merge;              /* 1: merge all segments into one at commit */
  size_t max_doc_bytes;   /* larger title+text is KS_ELIMIT (default 64 MiB) */
  ks_tok_config tok;      /* analyzer options (stored in the manifest) */
  int fsync;              /* 1: fsync files and directory at commit (default;
                             0 only for throwaway test indexes) */
  int threads;            /* 2 (default): analyze documents on a second
                             thread while indexing the previous batch, and
                             compress stored documents, write segments and
                             encode the merge on helper threads;
                             1: everything on the caller's thread. The
                             index has the same content either way (the
                             same documents, terms, postings and stored
                             documents; with opts.merge the term files are
                             byte-identical, only .sto block boundaries
                             may differ, since segments are cut at half
                             the budget). */
} ks_writer_opts;

void ks_writer_opts_default(ks_writer_opts *o);

typedef struct ks_writer ks_writer;

/* Create the directory if needed, lock it, and start an empty writer.
 * Refuses a non-empty directory that is not a kosearch index (KS_EINVAL).
 * Returns KS_OK, KS_EIO, KS_EINVAL, KS_ELOCKED, KS_ENOMEM, KS_EICU.
 * On failure *out = NULL. */
int ks_writer_open(const char *dir, const ks_writer_opts *opts,
                   ks_writer **out, ks_err *err);

/* Analyze and buffer one document. Checks: id present and <= 1024 bytes,
 * text present and non-empty, no NUL byte, valid UTF-8, size limit.
 * Returns KS_OK; KS_EINPUT / KS_EUTF8 / KS_ELIMIT for a rejected document
 * (the index is unchanged, the writer stays usable; err says why);
 * KS_ENOMEM / KS_EIO (writer unusable except for ks_writer_close). */
int ks_writer_add(ks_writer *w, const ks_doc *doc, ks_err *err);

/* Flush, merge (if opts.merge), and atomically publish a new commit.
 * After KS_OK the writer is finished: only ks_writer_close is allowed.
 * Returns KS_OK, KS_EIO, KS_ENOMEM, KS_ELIMIT. On error the previous
 * commit is intact. */
int ks_writer_commit(ks_writer *w, ks_err *err);

typedef struct ks_writer_stats {
  uint64_t docs_added;      /* documents accepted by ks_writer_add */
  uint64_t docs_replaced;   /* accepted documents replaced by a later id */
  uint64_t docs_live;       /* docs_added - docs_replaced */
  uint64_t bytes_in;        /* title+text bytes of accepted documents */
  uint64_t terms;           /* distinct terms; without the final merge,
                               summed over segments (a term in two
                               segments counts twice) */
  uint64_t postings;        /* (term, document) pairs; without the final
                               merge, replaced documents still count */
  uint64_t index_bytes;     /* total size of committed files */
  uint32_t segments_flushed;/* segments written before the final merge */
  uint32_t segments;        /* segments in the committed index */
  size_t mem_used;          /* bytes currently buffered */
} ks_writer_stats;

void ks_writer_get_stats(const ks_writer *w, ks_writer_stats *st);

/* Release the writer. Without a successful commit, everything added is
 * discarded (its temporary segment files are removed). NULL allowed. */
void ks_writer_close(ks_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* KS_IDX_H */
