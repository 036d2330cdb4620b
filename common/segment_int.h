/*
 * segment_int.h - one immutable on-disk segment as a whole: opening its
 * files, its counts, its integrity check (internal API shared by indexer/
 * and searcher/).
 *
 * Format: docs/format/ (overview in docs/format/README.md). A segment
 * NNNNNN is the set of files NNNNNN.tid (term dictionary), NNNNNN.doc (doc
 * ids + term frequencies + skip/score-bound data), NNNNNN.pos (positions),
 * NNNNNN.len (per-document field lengths + field totals), NNNNNN.sto
 * (stored documents + document id table) and optionally NNNNNN.del
 * (deleted docs). All files are mmapped read-only; every decoder bounds its
 * reads by the mapping and reports KS_ECORRUPT instead of reading past it.
 *
 * Each file kind has its own header, declaring both its reader and its
 * writer, and its own .c file in common/:
 *   dict_int.h       .tid        dict.c
 *   postings_int.h   .doc .pos   postings.c
 *   lengths_int.h    .len        lengths.c
 *   deletions_int.h  .del        deletions.c
 *   docstore_int.h   .sto        docstore.c
 *   manifest_int.h   MANIFEST    manifest.c
 * and dir_int.h (dir.c) names the files of an index directory.
 *
 * Threading: a ks_segment is immutable after open and may be shared by any
 * number of threads. A ks_postings cursor belongs to one thread.
 *
 * Implemented by common/segment.c (open/close/accessors) and
 * common/segment_check.c (integrity walk).
 */
#ifndef KS_SEGMENT_INT_H
#define KS_SEGMENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"

/* Largest document number + 1 in a segment. */
#define KS_MAX_DOCS 0x7fffffffu

typedef struct ks_segment ks_segment;

/* ---- segment.c ----------------------------------------------------------- */

/* Open segment `segno` of the index directory `dir`: mmaps its files and
 * checks magic, version, page frames, sizes and trailers, reading O(1)
 * bytes per file (plus the small .del, CRC included). Every other byte of
 * .tid .doc .pos .len .sto is verified against its page checksum when a
 * reader first uses it (KS_ECORRUPT then, never a wrong result).
 * `verify_all` = 1 also checks the whole-file CRC32 of every file (reads
 * everything once: `kosearch check`; the searcher and merge pass 0).
 * Returns KS_OK, KS_EIO, KS_ECORRUPT, KS_EVERSION, KS_ENOMEM.
 * Close with ks_segment_close. */
int ks_segment_open(const char *dir, uint32_t segno, int verify_all,
                    ks_segment **out, ks_err *err);
/* The same, with the deletions of generation del_gen (NNNNNN_G.del; 0 =
 * none: what ks_segment_open does). A segment as a commit names it is
 * (segno, del_gen), ks_manifest_seg. */
int ks_segment_open_gen(const char *dir, uint32_t segno, uint64_t del_gen,
                        int verify_all, ks_segment **out, ks_err *err);
/* Segments are reference-counted so that snapshots can share them
 * (ks_index_reopen): ks_segment_ref adds a reference (returns seg);
 * ks_segment_close drops one and closes the segment with the last. */
ks_segment *ks_segment_ref(ks_segment *seg);
void ks_segment_close(ks_segment *seg);  /* NULL allowed */

uint32_t ks_segment_number(const ks_segment *seg);
uint32_t ks_segment_ndocs(const ks_segment *seg);     /* incl. deleted */
uint32_t ks_segment_nlive(const ks_segment *seg);     /* excl. deleted */
uint64_t ks_segment_nterms(const ks_segment *seg);
uint64_t ks_segment_del_gen(const ks_segment *seg);   /* 0: no .del */
/* The segment's deletion bitmap (bit d of byte d/8 set: document d is
 * deleted; borrowed from the mapping, valid while the segment is open),
 * or NULL when nothing is deleted. */
const uint8_t *ks_segment_deleted_bitmap(const ks_segment *seg);
/* Bytes of each file kind (for stats): kind is one of ".tid", ".doc", ... */
uint64_t ks_segment_file_size(const ks_segment *seg, const char *ext);

/* ---- segment_check.c ------------------------------------------------------ */

/* Walk the whole segment: CRC of every file and of every page, every
 * dictionary entry (keys strictly increasing), every postings list fully
 * decoded (doc numbers increasing and < ndocs, df/cf and term/block score
 * bounds match, positions increasing), per-document field lengths equal
 * to the sum of their term frequencies, field totals equal to the sum of
 * the lengths, every stored document decompressing to a JSON object with
 * an id, the id hash table (sorted, every document once, hashes of the
 * ids). `report`
 * (may be NULL) gets one line per finding. Returns KS_OK or the first
 * error. */
int ks_segment_check(const ks_segment *seg,
                     void (*report)(void *ctx, const char *line), void *ctx,
                     ks_err *err);

#endif /* KS_SEGMENT_INT_H */
