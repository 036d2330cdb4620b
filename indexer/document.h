/*
 * document.h - the checks and the analysis every backend applies to a
 * document, ks_doc_* (internal; the native writer, indexer/writer.c, and
 * the other backends use them so that all accept exactly the same
 * documents and index the same terms). Implemented by indexer/document.c.
 */
#ifndef KS_DOCUMENT_H
#define KS_DOCUMENT_H

#include <stddef.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"
#include "kosearch/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The checks ks_index_writer_add applies to a document, for other backends
 * that must accept exactly the same documents: id present and at most
 * KS_MAX_ID_BYTES, text present and non-empty, title + text at most
 * max_doc_bytes, no NUL byte, valid UTF-8 in id, title and text.
 * Returns KS_OK, KS_EINPUT, KS_EUTF8 or KS_ELIMIT (err says why, without a
 * location: callers add FILE:LINE). */
int ks_doc_validate(const ks_doc *doc, size_t max_doc_bytes, ks_err *err);

/* The id checks of ks_doc_validate alone (for deletion by id): KS_OK,
 * KS_EINPUT (empty, longer than KS_MAX_ID_BYTES, NUL byte), KS_EUTF8. */
int ks_doc_validate_id(const char *id, size_t len, ks_err *err);

/* Analyze a document exactly as ks_index_writer_add does, for other
 * backends that must index the same terms: the title, then the text, whose
 * positions continue after a gap of one (no phrase spans the two); cb gets
 * every term with tok->pos already at its document-level position.
 * Returns KS_OK, the analyzer's errors (ks_tok_run), KS_ELIMIT, or cb's
 * non-zero value. The document should have passed ks_doc_validate. */
int ks_doc_analyze(ks_tok *tok, const ks_doc *doc, ks_tok_cb cb, void *ctx,
                   ks_err *err);

/* The stored JSON the writer builds for a document given without one:
 * {"id":...,"title":...,"text":...}. *json is NUL-terminated (length in
 * *len if non-NULL); free it with ks_mem_free (kosearch/error.h). KS_OK or
 * KS_ENOMEM (*json = NULL). */
int ks_doc_default_json(const ks_doc *doc, char **json, size_t *len,
                        ks_err *err);

#ifdef __cplusplus
}
#endif
#endif /* KS_DOCUMENT_H */
