/*
 * manifest_int.h - the MANIFEST file kind: the table of contents of an
 * index, naming the segments of its current commit (reader and writer;
 * internal API shared by indexer/ and searcher/). Spec:
 * docs/format/manifest.md. Implemented by common/manifest.c.
 *
 * The MANIFEST is replaced only by rename(2), so a reader sees either the
 * old or the new commit, never a mix.
 */
#ifndef KS_MANIFEST_INT_H
#define KS_MANIFEST_INT_H

#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/tok.h"

/* Snapshot of an index's MANIFEST. */
typedef struct ks_manifest_seg {
  uint32_t segno;     /* segment number (file name NNNNNN) */
  uint32_t ndocs;     /* documents in the segment, incl. deleted */
  uint32_t ndeleted;  /* deleted documents (.del present when > 0) */
  uint64_t del_gen;   /* generation of the commit that wrote its .del
                         (file NNNNNN_G.del); 0 exactly when ndeleted = 0 */
} ks_manifest_seg;

typedef struct ks_manifest {
  uint64_t generation;      /* commit counter, +1 per commit */
  uint64_t index_id;        /* random, chosen when the index is created:
                               tells a rebuilt index from the old one */
  uint32_t next_segno;      /* next free segment number */
  uint32_t tok_version;     /* KS_TOK_VERSION used to build */
  ks_tok_config tok;        /* analyzer options used to build */
  uint32_t nsegs;
  ks_manifest_seg *segs;    /* heap; freed by ks_manifest_free */
} ks_manifest;

/* Read DIR/MANIFEST (gen = 0) or the kept copy of commit `gen`,
 * DIR/MANIFEST.<gen> (docs/live.md), into *m (zeroed first); every field
 * is validated (docs/format/manifest.md, "A reader must reject"), the
 * analyzer options included. KS_OK, KS_NOTFOUND (no such file),
 * KS_EIO, KS_ECORRUPT, KS_EVERSION, KS_ENOMEM. */
int ks_manifest_read_gen(const char *dir, uint64_t gen, ks_manifest *m,
                         ks_err *err);

/* Read DIR/MANIFEST into *m (zeroed first). KS_OK, KS_NOTFOUND (no
 * MANIFEST: not an index), KS_EIO, KS_ECORRUPT, KS_EVERSION, KS_ENOMEM.
 * On success free with ks_manifest_free; on failure nothing is held. */
int ks_manifest_read(const char *dir, ks_manifest *m, ks_err *err);
/* Atomically replace DIR/MANIFEST: write MANIFEST.tmp, fsync (if
 * do_fsync), hard-link it as DIR/MANIFEST.<generation> (the commit's kept
 * copy, read by garbage collection while readers lease the commit),
 * rename, fsync the directory (if do_fsync). KS_OK, KS_EIO,
 * KS_ENOMEM; on failure MANIFEST is unchanged and MANIFEST.tmp removed. */
int ks_manifest_write(const char *dir, const ks_manifest *m, int do_fsync,
                      ks_err *err);
/* The generation of DIR/MANIFEST now; 0 if it cannot be read. */
uint64_t ks_manifest_generation(const char *dir);

/* A fresh random nonzero index id (getrandom; the time and pid if that
 * fails). */
uint64_t ks_manifest_new_index_id(void);

/* Release m->segs; m stays usable as an empty manifest. */
void ks_manifest_free(ks_manifest *m);

#endif /* KS_MANIFEST_INT_H */
