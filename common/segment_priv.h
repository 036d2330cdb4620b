/*
 * segment_priv.h - the ks_segment structure and the format constants that
 * the reader and the writer of each file kind share (internal to common/:
 * indexer/ and searcher/ use the per-kind headers listed in segment_int.h).
 *
 * One banner per .c file that attaches a file kind to an opening segment:
 * lengths.c (.len), deletions.c (.del), dict.c (.tid), postings.c
 * (.doc/.pos), docstore.c (.sto); segment.c maps the files and calls them
 * in that order; segment_check.c reads the structure directly. Byte
 * layouts: docs/format/ (one file per kind).
 *
 * Page rule: an attach function may read only the bytes it verifies with
 * ks_map_verify (a trailer: O(1)); every reader verifies the bytes it is
 * about to trust the same way, so that a page is checked the first time
 * any reader of this process touches it (file_int.h).
 */
#ifndef KS_SEGMENT_PRIV_H
#define KS_SEGMENT_PRIV_H

#include "file_int.h"
#include "kosearch/tok.h"
#include "segment_int.h"

/* Magics (8 bytes, no NUL) */
#define KS_MAGIC_TID "KSIDXTID"
#define KS_MAGIC_DOC "KSIDXDOC"
#define KS_MAGIC_POS "KSIDXPOS"
#define KS_MAGIC_LEN "KSIDXLEN"
#define KS_MAGIC_STO "KSIDXSTO"
#define KS_MAGIC_DEL "KSIDXDEL"
#define KS_MAGIC_MAN "KSIDXMAN"

#define KS_TID_TRAILER 40      /* nterms, nblocks, index_off, keys_off, tpb, 0 */
#define KS_TID_INDEX_ENTRY 32  /* block_off, doc_offset, pos_offset, key_off, key_len */
#define KS_TID_TERMS_PER_BLOCK 32
#define KS_SKIP_ENTRY 20       /* last_doc, doc_off, pos_off, max_tf, min_len */
#define KS_DATA_TRAILER 8      /* .doc/.pos: u64 data_end */
#define KS_LEN_MIN_BODY (8 + 8 * KS_NFIELDS) /* ndocs, nfields, totals */
#define KS_STO_TRAILER 40      /* ndocs, nblocks, index_off, idoff_off, ids_off,
                                  hash_off */
#define KS_STO_INDEX_ENTRY 20  /* first_doc, raw_len, offset(u64), comp_len */
#define KS_STO_HASH_ENTRY 12   /* id hash (u64), document (u32) */
#define KS_STO_BLOCK_TARGET (16 * 1024) /* raw bytes per stored block */

struct ks_segment {
  uint32_t segno;
  char *dir;
  ks_map tid, doc, pos, len, sto, del;
  uint32_t ndocs, nlive;
  /* .len */
  const uint8_t *lens;        /* ndocs * KS_NFIELDS u32 */
  uint64_t total[KS_NFIELDS]; /* live totals */
  /* .tid */
  uint64_t nterms, nblocks;
  const uint8_t *tid_index;   /* nblocks * KS_TID_INDEX_ENTRY */
  const uint8_t *tid_keys;    /* start of the key area */
  uint64_t keys_len;
  /* .doc / .pos data areas */
  uint64_t doc_end, pos_end;
  /* .sto */
  uint32_t sto_nblocks;
  const uint8_t *sto_index;   /* nblocks * KS_STO_INDEX_ENTRY */
  const uint8_t *sto_idoffs;  /* (ndocs + 1) u32 */
  const uint8_t *sto_ids;
  uint64_t sto_ids_len;       /* bytes of the id area */
  const uint8_t *sto_hash;    /* ndocs * KS_STO_HASH_ENTRY, sorted */
  uint64_t sto_data_end;      /* = index_off */
  /* .del */
  uint64_t del_gen;           /* its generation (0: none) */
  const uint8_t *delbits;     /* NULL when nothing is deleted */
  size_t del_nterms;          /* deleted-term table */
  const uint8_t *del_counts, *del_keyoff, *del_keys;
  /* sharing between snapshots (ks_segment_ref) */
  int refs;                   /* atomic */
};

/* ---- lengths.c ------------------------------------------------------------ */

/* Validate the mapped .len (seg->len) and set ndocs, lens and total. */
int ks_lengths_attach(ks_segment *seg, ks_err *err);

/* ---- deletions.c ---------------------------------------------------------- */

/* Map NNNNNN_G.del for G = del_gen > 0 (CRC always checked), validate it
 * against ndocs and .len, set delbits, the deleted-term table and nlive,
 * and subtract the deleted documents' lengths from total. del_gen = 0: no
 * deletions, nlive = ndocs. */
int ks_deletions_attach(ks_segment *seg, uint64_t del_gen, ks_err *err);

/* ---- dict.c ----------------------------------------------------------------- */

/* Validate the .tid trailer and set the tid_* fields (block index
 * entries are validated when a lookup or an iteration uses them). */
int ks_dict_attach(ks_segment *seg, ks_err *err);

/* ---- postings.c ------------------------------------------------------------- */

/* Validate the .doc and .pos trailers and set doc_end and pos_end. */
int ks_postings_attach(ks_segment *seg, ks_err *err);

/* ---- docstore.c ------------------------------------------------------------- */

/* Validate the .sto trailer and set the sto_* fields (id offsets, block
 * index and hash entries are validated when used). */
int ks_docstore_attach(ks_segment *seg, ks_err *err);

#endif /* KS_SEGMENT_PRIV_H */
