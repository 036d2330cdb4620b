/*
 * worker.c - implements worker_int.h: one thread, a ring of job pointers,
 * a mutex and two condition variables (jobs to run; jobs finished).
 *
 * Invariants (under `lock`): finished <= submitted <= finished + capacity;
 * the unfinished jobs are ring[finished % capacity ..], in submission
 * order; the worker runs job number `finished` (outside the lock) and
 * counts it finished afterwards, so jobs finish in submission order and
 * the counter's increment publishes everything the job wrote. Once
 * `failed`, jobs are discarded without running; `rc`/`err` never change
 * again.
 */
#include "worker_int.h"

#include <pthread.h>
#include <string.h>

#include "ks_alloc.h"

struct ks_worker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t has_job;    /* signalled on submit and stop */
  pthread_cond_t done;       /* broadcast when a job finishes */
  ks_worker_fn fn;
  void *ctx;
  void **ring;               /* capacity slots */
  uint32_t capacity;
  uint64_t submitted;        /* jobs queued so far */
  uint64_t finished;         /* jobs finished (run or discarded) */
  int quit;                  /* stop once the queue is empty */
  int discard;               /* drop the jobs not started */
  int failed;                /* a job failed: rc/err hold its error */
  int rc;
  ks_err err;
};

static void *worker_main(void *arg) {
  ks_worker *wk = arg;
  pthread_mutex_lock(&wk->lock);
  for (;;) {
    while (!wk->quit && wk->finished == wk->submitted)
      pthread_cond_wait(&wk->has_job, &wk->lock);
    if (wk->finished == wk->submitted) break; /* quit with nothing queued */
    void *job = wk->ring[wk->finished % wk->capacity];
    int skip = wk->failed || wk->discard;
    pthread_mutex_unlock(&wk->lock);
    ks_err e;
    ks_err_clear(&e);
    int rc = skip ? KS_OK : wk->fn(wk->ctx, job, &e);
    pthread_mutex_lock(&wk->lock);
    if (rc && !wk->failed) {
      wk->failed = 1;
      wk->rc = rc;
      wk->err = e;
    }
    wk->finished++;
    pthread_cond_broadcast(&wk->done);
  }
  pthread_mutex_unlock(&wk->lock);
  return NULL;
}

/* The sticky error (lock held). */
static int status(const ks_worker *wk, ks_err *err) {
  if (!wk->failed) return KS_OK;
  if (err) *err = wk->err;
  return wk->rc;
}

/* Contract: worker_int.h. */
int ks_worker_start(ks_worker **out, ks_worker_fn fn, void *ctx,
                    uint32_t capacity) {
  *out = NULL;
  if (capacity == 0) capacity = 1;
  ks_worker *wk = ks_calloc(1, sizeof *wk);
  void **ring = ks_calloc(capacity, sizeof *ring);
  if (!wk || !ring) {
    ks_free(wk);
    ks_free(ring);
    return KS_ENOMEM;
  }
  wk->fn = fn;
  wk->ctx = ctx;
  wk->ring = ring;
  wk->capacity = capacity;
  pthread_mutex_init(&wk->lock, NULL);
  pthread_cond_init(&wk->has_job, NULL);
  pthread_cond_init(&wk->done, NULL);
  if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0) {
    pthread_mutex_destroy(&wk->lock);
    pthread_cond_destroy(&wk->has_job);
    pthread_cond_destroy(&wk->done);
    ks_free(ring);
    ks_free(wk);
    return KS_ENOMEM;
  }
  *out = wk;
  return KS_OK;
}

/* Contract: worker_int.h. */
int ks_worker_submit(ks_worker *wk, void *job, ks_err *err) {
  pthread_mutex_lock(&wk->lock);
  while (wk->submitted - wk->finished == wk->capacity)
    pthread_cond_wait(&wk->done, &wk->lock);
  wk->ring[wk->submitted % wk->capacity] = job;
  wk->submitted++;
  pthread_cond_signal(&wk->has_job);
  int rc = status(wk, err);
  pthread_mutex_unlock(&wk->lock);
  return rc;
}

/* Contract: worker_int.h. */
uint64_t ks_worker_finished(ks_worker *wk) {
  pthread_mutex_lock(&wk->lock);
  uint64_t n = wk->finished;
  pthread_mutex_unlock(&wk->lock);
  return n;
}

/* Contract: worker_int.h. */
int ks_worker_wait(ks_worker *wk, uint64_t n, ks_err *err) {
  pthread_mutex_lock(&wk->lock);
  if (n > wk->submitted) n = wk->submitted;
  while (wk->finished < n) pthread_cond_wait(&wk->done, &wk->lock);
  int rc = status(wk, err);
  pthread_mutex_unlock(&wk->lock);
  return rc;
}

/* Contract: worker_int.h. */
int ks_worker_drain(ks_worker *wk, ks_err *err) {
  pthread_mutex_lock(&wk->lock);
  uint64_t n = wk->submitted;
  pthread_mutex_unlock(&wk->lock);
  return ks_worker_wait(wk, n, err);
}

/* Contract: worker_int.h. */
void ks_worker_stop(ks_worker *wk, int discard) {
  if (!wk) return;
  pthread_mutex_lock(&wk->lock);
  wk->quit = 1;
  if (discard) wk->discard = 1;
  pthread_cond_signal(&wk->has_job);
  pthread_mutex_unlock(&wk->lock);
  pthread_join(wk->thread, NULL);
  pthread_mutex_destroy(&wk->lock);
  pthread_cond_destroy(&wk->has_job);
  pthread_cond_destroy(&wk->done);
  ks_free(wk->ring);
  ks_free(wk);
}
