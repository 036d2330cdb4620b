/*
 * manifest.c - implements manifest_int.h: the MANIFEST file kind, reader
 * and writer (atomically replacing DIR/MANIFEST). Spec: docs/format/manifest.md.
 *
 * Commit protocol (the only way an index changes): the writer first makes
 * every new segment file durable (fsync), then writes MANIFEST.tmp, fsyncs
 * it, renames it over MANIFEST and fsyncs the directory. rename(2) is
 * atomic, so a reader sees either the old or the new MANIFEST, and the old
 * one only names files that still exist until the writer removes them
 * after the rename.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "manifest_int.h"

#include "ks_io.h"

#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "dir_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "segment_priv.h"

#define MAN_FIXED 40 /* generation u64, index_id u64, next_segno, tok_version, stems, bigrams, min_stem, nsegs */
#define MAN_SEG 24   /* segno, ndocs, ndeleted, reserved, del_gen u64 */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Contract: manifest_int.h. */
int ks_manifest_read(const char *dir, ks_manifest *m, ks_err *err) {
  return ks_manifest_read_gen(dir, 0, m, err);
}

/* Contract: manifest_int.h. */
int ks_manifest_read_gen(const char *dir, uint64_t gen, ks_manifest *m, ks_err *err) {
  memset(m, 0, sizeof *m);
  char *path = gen ? ks_path("%s/MANIFEST.%llu", dir, (unsigned long long)gen)
                   : ks_path("%s/MANIFEST", dir);
  if (!path) return ks_err_set(err, KS_ENOMEM, "[manifest][read] out of memory");
  ks_map map;
  int rc = ks_map_open(&map, path, err);
  ks_free(path);
  if (rc == KS_NOTFOUND && gen)
    return ks_err_set(err, KS_NOTFOUND, "[manifest][read] %s: no kept MANIFEST of "
                      "commit %llu", dir, (unsigned long long)gen);
  if (rc == KS_NOTFOUND)
    return ks_err_set(err, KS_NOTFOUND, "[manifest][read] %s: not a kosearch index "
                      "(no MANIFEST)", dir);
  if (rc) return rc;
  rc = ks_map_check(&map, KS_MAGIC_MAN, MAN_FIXED, 1, err);
  if (!rc) {
    const uint8_t *p = map.data + KS_FILE_HEADER;
    m->generation = ks_load_u64(p);
    m->index_id = ks_load_u64(p + 8);
    m->next_segno = ks_load_u32(p + 16);
    m->tok_version = ks_load_u32(p + 20);
    m->tok.stems = (int)ks_load_u32(p + 24);
    m->tok.bigrams = (int)ks_load_u32(p + 28);
    m->tok.min_stem = (int)ks_load_u32(p + 32);
    m->nsegs = ks_load_u32(p + 36);
    uint32_t st = (uint32_t)m->tok.stems, bg = (uint32_t)m->tok.bigrams,
             ms = (uint32_t)m->tok.min_stem;
    if (m->generation == 0 || m->index_id == 0 || st > 1 || bg > 1 || ms < 1 || ms > 64) {
      rc = ks_err_set(err, KS_ECORRUPT, "[manifest][read] %s: invalid header field "
                      "(generation %llu, index id %s, stems %u, bigrams %u, min_stem %u; "
                      "want >= 1, nonzero, 0/1, 0/1, 1..64)", map.path,
                      (unsigned long long)m->generation, m->index_id ? "set" : "0", st, bg, ms);
    } else if ((uint64_t)KS_FILE_HEADER + MAN_FIXED + (uint64_t)m->nsegs * MAN_SEG +
            KS_FILE_FOOTER != map.size) {
      rc = ks_err_set(err, KS_ECORRUPT, "[manifest][read] %s: size does not match "
                      "%u segments", map.path, m->nsegs);
    } else if (m->nsegs > 0 && !(m->segs = ks_calloc(m->nsegs, sizeof *m->segs))) {
      rc = ks_err_set(err, KS_ENOMEM, "[manifest][read] out of memory");
    } else {
      p += MAN_FIXED;
      for (uint32_t i = 0; i < m->nsegs && !rc; i++, p += MAN_SEG) {
        m->segs[i].segno = ks_load_u32(p);
        m->segs[i].ndocs = ks_load_u32(p + 4);
        m->segs[i].ndeleted = ks_load_u32(p + 8);
        uint32_t reserved = ks_load_u32(p + 12);
        m->segs[i].del_gen = ks_load_u64(p + 16);
        if (m->segs[i].segno >= m->next_segno || m->segs[i].ndeleted > m->segs[i].ndocs ||
            m->segs[i].ndocs == 0 || reserved != 0 ||
            (m->segs[i].ndeleted == 0) != (m->segs[i].del_gen == 0) ||
            m->segs[i].del_gen > m->generation)
          rc = ks_err_set(err, KS_ECORRUPT, "[manifest][read] %s: bad segment entry %u",
                          map.path, i);
      }
    }
  }
  /* Segments are listed in document order, which merges keep, so their
   * numbers need not increase; each is listed once. */
  if (!rc && m->nsegs > 1) {
    uint32_t *sorted = ks_malloc(m->nsegs * sizeof *sorted);
    if (!sorted) {
      rc = ks_err_set(err, KS_ENOMEM, "[manifest][read] out of memory");
    } else {
      for (uint32_t i = 0; i < m->nsegs; i++) sorted[i] = m->segs[i].segno;
      qsort(sorted, m->nsegs, sizeof *sorted, cmp_u32);
      for (uint32_t i = 1; i < m->nsegs && !rc; i++)
        if (sorted[i] == sorted[i - 1])
          rc = ks_err_set(err, KS_ECORRUPT, "[manifest][read] %s: segment %06u is listed "
                          "twice", map.path, sorted[i]);
      ks_free(sorted);
    }
  }
  ks_map_close(&map);
  if (rc) ks_manifest_free(m);
  return rc;
}

/* Contract: manifest_int.h. */
int ks_manifest_write(const char *dir, const ks_manifest *m, int do_fsync,
                      ks_err *err) {
  char *tmp = ks_path("%s/MANIFEST.tmp", dir);
  char *dst = ks_path("%s/MANIFEST", dir);
  int rc = (tmp && dst) ? KS_OK : ks_err_set(err, KS_ENOMEM, "[manifest][write] out of memory");
  ks_wfile w;
  if (!rc) rc = ks_wfile_open(&w, tmp, KS_MAGIC_MAN, err);
  if (!rc) {
    ks_wfile_u64(&w, m->generation);
    ks_wfile_u64(&w, m->index_id);
    ks_wfile_u32(&w, m->next_segno);
    ks_wfile_u32(&w, m->tok_version);
    ks_wfile_u32(&w, (uint32_t)m->tok.stems);
    ks_wfile_u32(&w, (uint32_t)m->tok.bigrams);
    ks_wfile_u32(&w, (uint32_t)m->tok.min_stem);
    ks_wfile_u32(&w, m->nsegs);
    for (uint32_t i = 0; i < m->nsegs; i++) {
      ks_wfile_u32(&w, m->segs[i].segno);
      ks_wfile_u32(&w, m->segs[i].ndocs);
      ks_wfile_u32(&w, m->segs[i].ndeleted);
      ks_wfile_u32(&w, 0);
      ks_wfile_u64(&w, m->segs[i].del_gen);
    }
    rc = ks_wfile_finish(&w, do_fsync, err);
    if (rc) unlink(tmp);
  }
  /* The commit's kept copy (same inode): garbage collection reads it while
   * a reader leases this commit. A stale copy of a failed earlier attempt
   * at the same generation is replaced. */
  char *kept = rc ? NULL : ks_path("%s/MANIFEST.%llu", dir, (unsigned long long)m->generation);
  if (!rc && !kept) rc = ks_err_set(err, KS_ENOMEM, "[manifest][write] out of memory");
  if (!rc) {
    unlink(kept);
    if (ks_io_link(tmp, kept) != 0) {
      rc = ks_err_set(err, KS_EIO, "[manifest][write] link %s: %s", kept, strerror(errno));
      unlink(tmp);
    }
  }
  ks_free(kept);
  if (!rc && ks_io_rename(tmp, dst) != 0) {
    rc = ks_err_set(err, KS_EIO, "[manifest][write] rename %s: %s", tmp, strerror(errno));
    unlink(tmp);
  }
  if (!rc && do_fsync) rc = ks_dir_fsync(dir, err);
  ks_free(tmp);
  ks_free(dst);
  return rc;
}

/* Contract: manifest_int.h. */
uint64_t ks_manifest_generation(const char *dir) {
  ks_manifest m;
  ks_err e;
  if (ks_manifest_read(dir, &m, &e) != KS_OK) return 0;
  uint64_t g = m.generation;
  ks_manifest_free(&m);
  return g;
}

/* Contract: manifest_int.h. */
uint64_t ks_manifest_new_index_id(void) {
  uint64_t id = 0;
  if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id || id == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    id = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
         ((uint64_t)getpid() << 32);
    id = id ? id : 1;
  }
  return id;
}

/* Contract: manifest_int.h. */
void ks_manifest_free(ks_manifest *m) {
  ks_free(m->segs);
  m->segs = NULL;
  m->nsegs = 0;
}
