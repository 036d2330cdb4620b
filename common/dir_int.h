/*
 * dir_int.h - the index directory (docs/format/README.md, section 1): the
 * names of the files an index holds, their paths, the bytes of a commit,
 * and making directory entries durable. Internal API shared by common/'s
 * format code and indexer/ (which decides when files are created and
 * removed: lock, garbage collection, commit).
 *
 * An index directory holds MANIFEST, MANIFEST.tmp (transient), LOCK and the
 * files of its segments, NNNNNN.ext with NNNNNN = printf("%06u", segno) and
 * ext one of the six segment file kinds (.tid .doc .pos .len .sto .del).
 * Implemented by common/dir.c.
 */
#ifndef KS_DIR_INT_H
#define KS_DIR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "manifest_int.h"

/* The segment file kinds with one file per segment, by extension with
 * its dot (".tid" ...). A segment's deletions are NNNNNN_G.del
 * (ks_dir_del_file), one per commit generation G that changed them. */
#define KS_SEGMENT_NKINDS 5
extern const char *const ks_segment_exts[KS_SEGMENT_NKINDS];

/* "DIR/NAME" as a fresh heap string; NULL when out of memory. Free with
 * ks_free. */
char *ks_dir_file(const char *dir, const char *name);

/* "DIR/NNNNNN.ext" of segment segno, ext with its dot (".tid");
 * NULL when out of memory. Free with ks_free. */
char *ks_dir_segment_file(const char *dir, uint32_t segno, const char *ext);

/* Unlink the files of segment segno with the n extensions exts[] (the
 * five KS_SEGMENT_NKINDS kinds when exts is NULL; not its .del files). Missing files are ignored; used on error
 * paths, so it never fails (a path that cannot be built is skipped). */
void ks_dir_remove_segment_files(const char *dir, uint32_t segno,
                                 const char *const *exts, size_t n);

/* "DIR/NNNNNN_G.del"; NULL when out of memory. Free with ks_free. */
char *ks_dir_del_file(const char *dir, uint32_t segno, uint64_t gen);

/* What kind of index file `name` (a directory entry) is: one of KS_NAME_*,
 * or 0 for a name an index never holds. *segno is the segment number
 * (segment and .del files; else UINT32_MAX), *gen the generation
 * (NNNNNN_G.del, MANIFEST.G, LEASE.G; else 0). */
#define KS_NAME_MANIFEST      1  /* MANIFEST */
#define KS_NAME_TMP           2  /* MANIFEST.tmp */
#define KS_NAME_LOCK          3  /* LOCK */
#define KS_NAME_KEPT_MANIFEST 4  /* MANIFEST.G: commit G's MANIFEST */
#define KS_NAME_LEASE         5  /* LEASE.G: readers of commit G */
#define KS_NAME_SEGMENT       6  /* NNNNNN.tid .doc .pos .len .sto */
#define KS_NAME_DEL           7  /* NNNNNN_G.del */
int ks_dir_name_kind(const char *name, uint32_t *segno, uint64_t *gen);

/* Is `name` (a directory entry, no path) a file an index may hold:
 * MANIFEST, MANIFEST.tmp, LOCK or a segment file (6 to 10 digits, a dot,
 * one of the six extensions)? Returns 1 or 0; *segno is the segment
 * number of a segment file, else UINT32_MAX. */
int ks_dir_own_name(const char *name, uint32_t *segno);

/* Bytes of the commit described by m: its MANIFEST plus every file of its
 * segments (files that cannot be stat'ed count 0). */
uint64_t ks_dir_commit_bytes(const char *dir, const ks_manifest *m);

/* fsync the directory so that the creates and renames in it are durable.
 * KS_OK or KS_EIO. */
int ks_dir_fsync(const char *dir, ks_err *err);

#endif /* KS_DIR_INT_H */
