/*
 * memindex_int.h - the in-memory inverted index of the documents added
 * since the last flush (indexer-internal).
 *
 * Terms are interned in an open-addressing hash table; each term's
 * postings are appended, already compressed (varints), to a chain of
 * slices in a paged byte pool, so memory grows with the compressed size of
 * the postings and nothing is ever copied on growth. ks_memindex_bytes()
 * is what the writer compares with its memory budget.
 */
#ifndef KS_MEMINDEX_INT_H
#define KS_MEMINDEX_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "segwriter_int.h"

typedef struct ks_memindex ks_memindex;

int ks_memindex_new(ks_memindex **out, ks_err *err);
void ks_memindex_free(ks_memindex *mi);  /* NULL allowed */

/* Begin document number `doc` (0, 1, 2... in order). */
void ks_memindex_begin_doc(ks_memindex *mi, uint32_t doc);
/* Record one occurrence of key (field byte + term) at position pos in the
 * current document. KS_OK or KS_ENOMEM. */
int ks_memindex_add(ks_memindex *mi, const char *key, size_t keylen,
                    uint32_t pos, ks_err *err);
/* The same with the key's hash (ks_memindex_hash) computed beforehand,
 * e.g. on the analysis thread. */
int ks_memindex_add_hashed(ks_memindex *mi, const char *key, size_t keylen,
                           uint32_t hash, uint32_t pos, ks_err *err);
uint32_t ks_memindex_hash(const char *key, size_t keylen);
/* Software prefetch for a key that will be added soon: its hash slot
 * (some 16 keys ahead), then its term record (some 8 keys ahead, once the
 * slot is cached). Hints only; never fail. */
void ks_memindex_prefetch(const ks_memindex *mi, uint32_t hash);
void ks_memindex_prefetch_term(const ks_memindex *mi, uint32_t hash);

/* End the current document: its occurrences become postings.
 * KS_OK, KS_ENOMEM, KS_ELIMIT (pool exceeds 4 GiB). */
int ks_memindex_end_doc(ks_memindex *mi, ks_err *err);
/* Drop the occurrences of the current document (it was rejected). */
void ks_memindex_cancel_doc(ks_memindex *mi);

/* Bytes currently held (pool pages, tables, key arena, scratch). */
size_t ks_memindex_bytes(const ks_memindex *mi);
uint64_t ks_memindex_nterms(const ks_memindex *mi);

/* Write every term, in key order, with its postings to w (begin_term /
 * add / end_term). KS_OK or the first error. The memindex is unchanged. */
int ks_memindex_write(ks_memindex *mi, ks_segw *w, ks_err *err);

#endif /* KS_MEMINDEX_INT_H */
