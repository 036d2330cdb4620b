/*
 * worker_int.h - one background thread that runs jobs from a bounded queue
 * in submission order (internal; used by the indexer's analysis and flush
 * threads, the segment writer's encoder and the stored-document
 * compressor). Implemented by common/worker.c.
 *
 *   ks_worker *wk;
 *   if (ks_worker_start(&wk, run_job, ctx, 4)) return <caller's error>;
 *   rc = ks_worker_submit(wk, job, err);   // waits while 4 are unfinished
 *   ...
 *   rc = ks_worker_drain(wk, err);         // every job so far is finished
 *   ks_worker_stop(wk, 0);                 // runs what is queued, joins
 *
 * Jobs are opaque pointers owned by the submitter; a job's memory must
 * stay valid until the job is finished (ks_worker_finished counts past it).
 * Jobs finish in submission order, so "job number i (0-based) is finished"
 * is ks_worker_finished() > i, and everything the job wrote is then visible
 * to the thread that saw it finished.
 *
 * Errors: the first job that fails (fn returns non-zero) makes the worker
 * failed: its rc and message are kept (sticky) and returned by every later
 * ks_worker_submit, ks_worker_wait and ks_worker_drain, and the jobs after
 * it are discarded (finished without running fn).
 *
 * Threading: the submitting side (submit, wait, drain, finished, stop) is
 * used by one thread at a time; fn runs on the worker's own thread.
 */
#ifndef KS_WORKER_INT_H
#define KS_WORKER_INT_H

#include <stdint.h>

#include "kosearch/error.h"

typedef struct ks_worker ks_worker;

/* Run one job on the worker thread: KS_OK, or an error rc with err filled
 * (err is the worker's own; never NULL). */
typedef int (*ks_worker_fn)(void *ctx, void *job, ks_err *err);

/* Start a thread that runs fn(ctx, job, err) for each submitted job, with
 * at most `capacity` (>= 1) jobs unfinished at a time. KS_OK, or KS_ENOMEM
 * when memory or the thread cannot be had (no message: the caller names
 * the worker); *out = NULL then. */
int ks_worker_start(ks_worker **out, ks_worker_fn fn, void *ctx,
                    uint32_t capacity);

/* Queue `job` behind every job submitted before it, first waiting while
 * `capacity` jobs are unfinished. Returns KS_OK, or the worker's sticky
 * error (err filled; the job is still queued and will be discarded). */
int ks_worker_submit(ks_worker *wk, void *job, ks_err *err);

/* Jobs finished (run or discarded) so far; does not wait. */
uint64_t ks_worker_finished(ks_worker *wk);

/* Wait until the first n submitted jobs are finished (n <= jobs
 * submitted). KS_OK, or the worker's sticky error (err filled). */
int ks_worker_wait(ks_worker *wk, uint64_t n, ks_err *err);

/* Wait until every submitted job is finished: ks_worker_wait(all). */
int ks_worker_drain(ks_worker *wk, ks_err *err);

/* Finish the queued jobs (or, with `discard`, drop those not started),
 * join the thread and free the worker. NULL allowed. */
void ks_worker_stop(ks_worker *wk, int discard);

#endif /* KS_WORKER_INT_H */
