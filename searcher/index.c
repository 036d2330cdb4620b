/*
 * index.c - implements the opening half of index.h: ks_index_open /
 * ks_index_close, document lookup (ks_index_doc_id, ks_index_find_id,
 * ks_index_doc_json), and the analyzer pool of index_int.h.
 *
 * Snapshot rule: the MANIFEST names the segments of one commit. A writer
 * that commits while we open may delete segment files the old MANIFEST
 * still lists; when a segment fails to open we re-read the MANIFEST and, if
 * its generation moved, start over with the new one (at most
 * KS_INDEX_OPEN_RETRIES times). Once every segment is mmapped the snapshot
 * stays readable even if the files are unlinked later.
 */
#include "index_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "deletions_int.h"
#include "docstore_int.h"
#include "ks_alloc.h"
#include "lease_int.h"
#include "ks_buf.h"
#include "lengths_int.h"

/* Close every segment opened so far and free the per-segment arrays. */
static void drop_segments(ks_index *ix) {
  if (ix->segs) {
    for (uint32_t s = 0; s < ix->nsegs; s++) ks_segment_close(ix->segs[s]);
  }
  ks_free(ix->segs);
  ks_free(ix->base);
  ix->segs = NULL;
  ix->base = NULL;
  ix->nsegs = 0;
  ix->nlive = 0;
  for (int f = 0; f < KS_NFIELDS; f++) ix->field_total[f] = 0;
}

/* The segment (segno, del_gen) of `prev`, if it has it: snapshots share
 * unchanged segments (ks_index_reopen). */
static ks_segment *shared_segment(const ks_index *prev, const ks_index *ix,
                                  const ks_manifest_seg *ms) {
  /* a rebuilt index numbers its segments and commits from 1 again */
  if (!prev || prev->man.index_id != ix->man.index_id) return NULL;
  for (uint32_t s = 0; s < prev->nsegs; s++)
    if (prev->man.segs[s].segno == ms->segno && prev->man.segs[s].del_gen == ms->del_gen)
      return ks_segment_ref(prev->segs[s]);
  return NULL;
}

/* Open every segment listed in ix->man (or share it with prev) and compute
 * bases and totals. On failure everything opened here is closed again. */
static int open_segments(ks_index *ix, const ks_index *prev, ks_err *err) {
  const ks_manifest *m = &ix->man;
  ix->segs = ks_calloc(m->nsegs ? m->nsegs : 1, sizeof *ix->segs);
  ix->base = ks_calloc((size_t)m->nsegs + 1, sizeof *ix->base);
  if (!ix->segs || !ix->base) {
    drop_segments(ix);
    return ks_err_set(err, KS_ENOMEM, "[srch][open] %s: out of memory",
                      ix->dir);
  }
  uint64_t base = 0;
  for (uint32_t s = 0; s < m->nsegs; s++) {
    ks_segment *seg = shared_segment(prev, ix, &m->segs[s]);
    int rc = KS_OK;
    /* No whole-file CRCs: opening reads O(1) bytes per file, and every
     * page is verified against its checksum when a query first reads it
     * (KS_ECORRUPT then, never a wrong result; docs/format/README.md
     * section 8). */
    if (!seg)
      rc = ks_segment_open_gen(ix->dir, m->segs[s].segno, m->segs[s].del_gen, 0, &seg, err);
    if (rc != KS_OK) {
      drop_segments(ix);
      return rc;
    }
    ix->segs[s] = seg;
    ix->nsegs = s + 1;
    if (ks_segment_ndocs(seg) != m->segs[s].ndocs ||
        ks_segment_ndocs(seg) - ks_segment_nlive(seg) != m->segs[s].ndeleted) {
      rc = ks_err_set(err, KS_ECORRUPT,
                      "[srch][open] %s: segment %06u has %u documents (%u "
                      "deleted) but MANIFEST says %u (%u deleted)",
                      ix->dir, m->segs[s].segno, ks_segment_ndocs(seg),
                      ks_segment_ndocs(seg) - ks_segment_nlive(seg),
                      m->segs[s].ndocs, m->segs[s].ndeleted);
      drop_segments(ix);
      return rc;
    }
    ix->base[s] = base;
    base += ks_segment_ndocs(seg);
    ix->nlive += ks_segment_nlive(seg);
    for (int f = 0; f < KS_NFIELDS; f++)
      ix->field_total[f] += ks_segment_field_total(seg, f);
  }
  ix->base[m->nsegs] = base;
  return KS_OK;
}

static uint64_t manifest_size(const char *dir) {
  char path[4096];
  struct stat st;
  if ((size_t)snprintf(path, sizeof path, "%s/MANIFEST", dir) >= sizeof path)
    return 0;
  return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Refuse a snapshot of another analyzer version. */
static int check_analyzer(const ks_index *ix, ks_err *err) {
  if (ix->man.tok_version == KS_TOK_VERSION) return KS_OK;
  return ks_err_set(err, KS_EVERSION,
                    "[srch][open] %s: index was built with analyzer version "
                    "%u, this program has version %u: rebuild the index with "
                    "`kosearch index`",
                    ix->dir, ix->man.tok_version, (unsigned)KS_TOK_VERSION);
}

/* Open the current commit as ix's snapshot (sharing prev's unchanged
 * segments): the MANIFEST and its lease (ks_lease_current), then the
 * segments. A file missing from a commit that is no longer current (a
 * reader that could not take a lease) means starting over with the new
 * commit (docs/live.md). */
static int open_snapshot(ks_index *ix, const ks_index *prev, ks_err *err) {
  int rc = KS_OK;
  for (int attempt = 0; attempt < KS_INDEX_OPEN_RETRIES; attempt++) {
    if ((rc = ks_lease_current(ix->dir, &ix->man, &ix->lease, err)) != KS_OK) {
      memset(&ix->man, 0, sizeof ix->man);
      return rc;
    }
    ix->manifest_bytes = manifest_size(ix->dir);
    uint64_t gen = ix->man.generation;
    if ((rc = check_analyzer(ix, err)) != KS_OK) return rc;
    rc = open_segments(ix, prev, err);
    if (rc == KS_OK) return KS_OK;
    if (rc != KS_EIO && rc != KS_NOTFOUND) return rc;
    /* A file of a current, leased commit is missing: a real error. */
    if (ks_manifest_generation(ix->dir) == gen) return rc;
    ks_lease_release(&ix->lease);
    ks_manifest_free(&ix->man);
  }
  return rc;
}

/* A new, empty ks_index for `dir`. */
static int index_new(const char *dir, ks_index **out, ks_err *err) {
  ks_index *ix = ks_calloc(1, sizeof *ix);
  if (!ix) return ks_err_set(err, KS_ENOMEM, "[srch][open] out of memory");
  ix->lease.fd = -1;
  ix->dir = ks_strndup(dir, strlen(dir));
  if (!ix->dir) {
    ks_free(ix);
    return ks_err_set(err, KS_ENOMEM, "[srch][open] out of memory");
  }
  if (pthread_mutex_init(&ix->tok_lock, NULL) != 0) {
    ks_free(ix->dir);
    ks_free(ix);
    return ks_err_set(err, KS_ENOMEM, "[srch][open] cannot create a mutex");
  }
  *out = ix;
  return KS_OK;
}

/* Contract: index.h. */
int ks_index_open(const char *dir, ks_index **out, ks_err *err) {
  if (!out) return ks_err_set(err, KS_EINVAL, "[srch][open] out is NULL");
  *out = NULL;
  if (!dir || !*dir)
    return ks_err_set(err, KS_EINVAL, "[srch][open] no index directory");
  ks_index *ix = NULL;
  int rc = index_new(dir, &ix, err);
  if (rc == KS_OK) rc = open_snapshot(ix, NULL, err);
  if (rc != KS_OK) {
    ks_index_close(ix);
    return rc;
  }
  *out = ix;
  return KS_OK;
}

/* Contract: index.h. */
int ks_index_reopen(ks_index *ix, ks_index **out, ks_err *err) {
  *out = NULL;
  if (!ix) return ks_err_set(err, KS_EINVAL, "[srch][reopen] NULL index");
  ks_manifest m;
  int rc = ks_manifest_read(ix->dir, &m, err);
  if (rc != KS_OK) return rc;
  uint64_t gen = m.generation, id = m.index_id;
  ks_manifest_free(&m);
  if (gen == ix->man.generation && id == ix->man.index_id) return KS_OK;
  ks_index *nix = NULL;
  rc = index_new(ix->dir, &nix, err);
  if (rc == KS_OK) rc = open_snapshot(nix, ix, err);
  if (rc != KS_OK) {
    ks_index_close(nix);
    return rc;
  }
  *out = nix;
  return KS_OK;
}

/* Contract: index.h. */
void ks_index_close(ks_index *ix) {
  if (!ix) return;
  drop_segments(ix);
  ks_lease_release(&ix->lease);
  ks_manifest_free(&ix->man);
  for (int i = 0; i < ix->ntok; i++) ks_tok_free(ix->tok_pool[i]);
  pthread_mutex_destroy(&ix->tok_lock);
  ks_free(ix->dir);
  ks_free(ix);
}

/* Contract: index_int.h. Binary search over the segment bases. */
int ks_index_locate(const ks_index *ix, uint64_t doc, uint32_t *seg,
                    uint32_t *local, const char *op, ks_err *err) {
  if (!ix || doc >= ix->base[ix->nsegs])
    return ks_err_set(err, KS_EINVAL,
                      "[srch][%s] no document number %llu in this index", op,
                      (unsigned long long)doc);
  uint32_t lo = 0, hi = ix->nsegs; /* base[lo] <= doc < base[hi] */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ix->base[mid] <= doc) lo = mid;
    else hi = mid;
  }
  *seg = lo;
  *local = (uint32_t)(doc - ix->base[lo]);
  return KS_OK;
}

/* Contract: index.h. */
int ks_index_doc_id(ks_index *ix, uint64_t doc, const char **id, size_t *len,
                    ks_err *err) {
  uint32_t s, local;
  if (!id || !len)
    return ks_err_set(err, KS_EINVAL, "[srch][doc_id] NULL output");
  *id = NULL;
  *len = 0;
  int rc = ks_index_locate(ix, doc, &s, &local, "doc_id", err);
  if (rc != KS_OK) return rc;
  return ks_segment_doc_id(ix->segs[s], local, id, len, err);
}

/* Contract: index.h. */
int ks_index_doc_json(ks_index *ix, uint64_t doc, char **json, size_t *len,
                      ks_err *err) {
  uint32_t s, local;
  if (!json) return ks_err_set(err, KS_EINVAL, "[srch][doc_json] NULL output");
  *json = NULL;
  if (len) *len = 0;
  int rc = ks_index_locate(ix, doc, &s, &local, "doc_json", err);
  if (rc != KS_OK) return rc;
  ks_buf b = KS_BUF_INIT;
  rc = ks_segment_doc_json(ix->segs[s], local, &b, err);
  if (rc == KS_OK && ks_buf_put_u8(&b, 0) != KS_OK)
    rc = ks_err_set(err, KS_ENOMEM, "[srch][doc_json] out of memory");
  if (rc != KS_OK) {
    ks_buf_free(&b);
    return rc;
  }
  *json = (char *)b.data; /* ks_buf memory comes from ks_malloc */
  if (len) *len = b.len - 1;
  return KS_OK;
}

/* Contract: index.h. Newest segment first (a replaced document is deleted
 * in its older segment, so the first live match is the only one); in each
 * segment a binary search in its id hash table: O(segments x log docs). */
int ks_index_find_id(ks_index *ix, const char *id, size_t len, uint64_t *doc,
                     ks_err *err) {
  for (uint32_t s = ix->nsegs; s-- > 0;) {
    const ks_segment *seg = ix->segs[s];
    uint32_t local;
    int rc = ks_segment_find_id(seg, id, len, ks_segment_deleted_bitmap(seg), &local, err);
    if (rc == KS_NOTFOUND) continue;
    if (rc == KS_OK) *doc = ix->base[s] + local;
    return rc;
  }
  return KS_NOTFOUND;
}

/* Contract: index_int.h. */
int ks_index_tok_acquire(ks_index *ix, ks_tok **tok, ks_err *err) {
  *tok = NULL;
  pthread_mutex_lock(&ix->tok_lock);
  if (ix->ntok > 0) *tok = ix->tok_pool[--ix->ntok];
  pthread_mutex_unlock(&ix->tok_lock);
  if (*tok) return KS_OK;
  return ks_tok_new(&ix->man.tok, tok, err);
}

/* Contract: index_int.h. */
void ks_index_tok_release(ks_index *ix, ks_tok *tok) {
  if (!tok) return;
  pthread_mutex_lock(&ix->tok_lock);
  if (ix->ntok < KS_INDEX_TOK_POOL) {
    ix->tok_pool[ix->ntok++] = tok;
    tok = NULL;
  }
  pthread_mutex_unlock(&ix->tok_lock);
  ks_tok_free(tok);
}

