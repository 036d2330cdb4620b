/*
 * snapshot.c - implements the snapshot.c section of server_int.h: the
 * index as the server serves it, a reference-counted snapshot with a pool
 * of ks_db handles, swapped atomically by srv_snapshot_refresh.
 *
 * Why: a ks_db is used by one thread at a time (kosearch/db.h), and
 * ks_db_reopen gives a NEW handle while the old one stays valid. So a
 * snapshot keeps one `root` handle (used only under its lock, for
 * ks_db_dup and ks_db_reopen) and a pool of duplicates handed out to
 * requests, one request per handle. Refreshing opens the next commit from
 * the current root and makes it current; requests that took the old
 * snapshot keep using it, and it is closed when the last of them gives its
 * handle back. A reopen therefore never fails or pauses a query in flight.
 *
 * Invariants:
 *   - refs counts the requests holding the snapshot plus 1 while it is
 *     current; it is changed only under srv_server.snap_lock; the snapshot
 *     is destroyed by whoever drops refs to 0, with no lock held;
 *   - root and the pool (free handles) are touched only under the
 *     snapshot's own lock; every handle in the pool is idle;
 *   - one refresh at a time (srv_server.refresh_lock).
 * Xapian: ks_db_dup opens the database again at its latest revision, so
 * the handles of one Xapian snapshot may differ by the commits that
 * happened since it was made (docs/http.md accepts it: the next refresh
 * moves every request to the latest commit anyway).
 */
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

struct srv_snapshot {
  pthread_mutex_t lock;  /* guards root and the pool */
  ks_db *root;           /* never searched: dup and reopen only */
  ks_db **pool;          /* idle handles */
  size_t npool, cap;
  unsigned long refs;    /* see invariants (srv_server.snap_lock) */
};

static srv_snapshot *snapshot_new(ks_db *root) {
  srv_snapshot *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  pthread_mutex_init(&s->lock, NULL);
  s->root = root;
  s->refs = 1; /* current */
  return s;
}

static void snapshot_destroy(srv_snapshot *s) {
  if (!s) return;
  for (size_t i = 0; i < s->npool; i++) ks_db_close(s->pool[i]);
  free(s->pool);
  ks_db_close(s->root);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* Drop one reference to `snap`; destroy it at 0. */
static void unref(srv_server *s, srv_snapshot *snap) {
  pthread_mutex_lock(&s->snap_lock);
  unsigned long left = --snap->refs;
  pthread_mutex_unlock(&s->snap_lock);
  if (left == 0) snapshot_destroy(snap);
}

/* Contract: server_int.h. */
int srv_snapshot_init(srv_server *s, ks_err *e) {
  ks_db *db = NULL;
  int rc = s->opts.nshards ? ks_db_open_shards((const char *const *)s->opts.shards,
                                               s->opts.nshards, &db, e)
                           : ks_db_open(s->opts.index, &db, e);
  if (rc) return rc;
  s->current = snapshot_new(db);
  if (!s->current) {
    ks_db_close(db);
    return ks_err_set(e, KS_ENOMEM, "[serve][open] out of memory");
  }
  return 0;
}

/* Contract: server_int.h. */
int srv_snapshot_acquire(srv_server *s, srv_snapshot **snap, ks_db **db, ks_err *e) {
  pthread_mutex_lock(&s->snap_lock);
  srv_snapshot *cur = s->current;
  cur->refs++;
  pthread_mutex_unlock(&s->snap_lock);
  ks_db *h = NULL;
  int rc = 0;
  pthread_mutex_lock(&cur->lock);
  if (cur->npool) h = cur->pool[--cur->npool];
  else rc = ks_db_dup(cur->root, &h, e);
  pthread_mutex_unlock(&cur->lock);
  if (rc) {
    unref(s, cur);
    *snap = NULL;
    *db = NULL;
    return rc;
  }
  *snap = cur;
  *db = h;
  return 0;
}

/* Contract: server_int.h. */
void srv_snapshot_release(srv_server *s, srv_snapshot *snap, ks_db *db) {
  if (!snap) return;
  if (db) {
    pthread_mutex_lock(&snap->lock);
    if (snap->npool == snap->cap) {
      size_t cap = snap->cap ? 2 * snap->cap : 8;
      ks_db **p = realloc(snap->pool, cap * sizeof *p);
      if (p) {
        snap->pool = p;
        snap->cap = cap;
      }
    }
    if (snap->npool < snap->cap) {
      snap->pool[snap->npool++] = db;
      db = NULL;
    }
    pthread_mutex_unlock(&snap->lock);
    ks_db_close(db); /* NULL unless the pool could not grow */
  }
  unref(s, snap);
}

/* Contract: server_int.h. */
int srv_snapshot_refresh(srv_server *s, ks_err *e) {
  pthread_mutex_lock(&s->refresh_lock);
  pthread_mutex_lock(&s->snap_lock);
  srv_snapshot *cur = s->current;
  cur->refs++;
  pthread_mutex_unlock(&s->snap_lock);
  ks_db *next = NULL;
  pthread_mutex_lock(&cur->lock);
  int rc = ks_db_reopen(cur->root, &next, e);
  pthread_mutex_unlock(&cur->lock);
  if (rc == 0 && next) {
    srv_snapshot *ns = snapshot_new(next);
    if (!ns) {
      ks_db_close(next);
      rc = ks_err_set(e, KS_ENOMEM, "[serve][refresh] out of memory");
    } else {
      pthread_mutex_lock(&s->snap_lock);
      s->current = ns;
      pthread_mutex_unlock(&s->snap_lock);
      unref(s, cur); /* it is no longer current */
    }
  }
  unref(s, cur);
  pthread_mutex_unlock(&s->refresh_lock);
  return rc;
}

/* Contract: server_int.h. */
void srv_snapshot_shutdown(srv_server *s) {
  srv_snapshot *cur = s->current;
  s->current = NULL;
  if (cur) unref(s, cur);
}
