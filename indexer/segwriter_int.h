/*
 * segwriter_int.h - ks_segw, the writer of one immutable segment's term
 * files (indexer-internal): the term dictionary (.tid), postings (.doc),
 * positions (.pos) and field lengths (.len), fed terms in strictly
 * increasing key order and, per term, documents in increasing order. Used
 * by a flush of the in-memory index and by merge; the stored documents
 * (.sto) have their own writer, ks_stow (common/docstore_int.h).
 * Files are written under their final names; they only become part of the
 * index when a MANIFEST naming them is committed (manifest_int.h), and are
 * removed by ks_segw_abort or by the next writer's garbage collection.
 * The encoding of each file kind is in common/ (dict_int.h,
 * postings_int.h, lengths_int.h); formats: docs/format/.
 */
#ifndef KS_SEGWRITER_INT_H
#define KS_SEGWRITER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"

typedef struct ks_segw ks_segw;

/* Start segment `segno` in `dir` with `ndocs` documents whose field
 * lengths are lens[doc * KS_NFIELDS + field] (copied). KS_OK, KS_EIO,
 * KS_ENOMEM. */
int ks_segw_open(ks_segw **out, const char *dir, uint32_t segno,
                 uint32_t ndocs, const uint32_t *lens, int do_fsync,
                 ks_err *err);
/* Begin a term; keys must be strictly increasing (KS_EINVAL otherwise). */
int ks_segw_begin_term(ks_segw *w, const char *key, size_t keylen,
                       ks_err *err);
/* Add one posting of the current term: doc (> previous doc, < ndocs),
 * tf >= 1 and tf strictly increasing positions. */
int ks_segw_add(ks_segw *w, uint32_t doc, uint32_t tf, const uint32_t *pos,
                ks_err *err);
/* Finish the current term (a term with no postings is dropped). */
int ks_segw_end_term(ks_segw *w, ks_err *err);
/* Encode and write on a thread of this ks_segw from now on (the files are
 * identical). Errors of the calls below may then surface later, at a
 * later call, ks_segw_drain or ks_segw_finish. KS_OK or KS_ENOMEM. */
int ks_segw_set_async(ks_segw *w, ks_err *err);
/* Wait until every call so far has been carried out; the first error of
 * the asynchronous encoder, else KS_OK (no-op when not async). Call before
 * ks_segw_nterms / ks_segw_npostings. */
int ks_segw_drain(ks_segw *w, ks_err *err);
/* Write trailers, .len, fsync and close all files. The ks_segw is freed
 * whatever the result; on error its files are removed. */
int ks_segw_finish(ks_segw *w, ks_err *err);
/* Free and remove the files (error paths). NULL allowed. */
void ks_segw_abort(ks_segw *w);
uint64_t ks_segw_nterms(const ks_segw *w);
uint64_t ks_segw_npostings(const ks_segw *w);

#endif /* KS_SEGWRITER_INT_H */
