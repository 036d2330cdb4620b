/*
 * test_worker_queue.c - the background worker of common/worker_int.h: jobs
 * run in submission order, at most `capacity` are unfinished, the first
 * failure is sticky and discards the jobs after it, stop finishes or
 * discards what is queued, and a worker that never got a job stops
 * cleanly. Run under TSan for the memory-ordering claims.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "worker_int.h"

#define NJOBS 200

typedef struct ctx {
  int order[NJOBS];   /* job numbers in the order they ran */
  int n;              /* jobs run */
  int fail_at;        /* job number that fails, or -1 */
  int slow;           /* sleep a little in each job */
} ctx;

static int run(void *c, void *job, ks_err *err) {
  ctx *x = c;
  int k = *(int *)job;
  if (x->slow) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  x->order[x->n++] = k;
  if (k == x->fail_at) return ks_err_set(err, KS_EIO, "[test] job %d failed", k);
  return KS_OK;
}

static void test_order_and_capacity(void **state) {
  (void)state;
  static ctx x;
  memset(&x, 0, sizeof x);
  x.fail_at = -1;
  static int jobs[NJOBS];
  ks_worker *wk;
  assert_int_equal(ks_worker_start(&wk, run, &x, 3), KS_OK);
  ks_err e;
  for (int i = 0; i < NJOBS; i++) {
    jobs[i] = i;
    assert_int_equal(ks_worker_submit(wk, &jobs[i], &e), KS_OK);
    /* at most 3 unfinished right after a submit */
    assert_true(ks_worker_finished(wk) + 3 >= (uint64_t)i + 1);
    if (i % 17 == 0) {
      assert_int_equal(ks_worker_wait(wk, (uint64_t)i + 1, &e), KS_OK);
      assert_true(ks_worker_finished(wk) >= (uint64_t)i + 1);
    }
  }
  assert_int_equal(ks_worker_drain(wk, &e), KS_OK);
  assert_int_equal(ks_worker_finished(wk), NJOBS);
  assert_int_equal(x.n, NJOBS); /* visible after the drain */
  for (int i = 0; i < NJOBS; i++) assert_int_equal(x.order[i], i);
  ks_worker_stop(wk, 0);
}

static void test_sticky_error(void **state) {
  (void)state;
  static ctx x;
  memset(&x, 0, sizeof x);
  x.fail_at = 5;
  static int jobs[20];
  ks_worker *wk;
  assert_int_equal(ks_worker_start(&wk, run, &x, 4), KS_OK);
  ks_err e;
  int first_err = -1;
  for (int i = 0; i < 20; i++) {
    jobs[i] = i;
    int rc = ks_worker_submit(wk, &jobs[i], &e);
    if (rc != KS_OK && first_err < 0) first_err = i;
  }
  memset(&e, 0, sizeof e);
  assert_int_equal(ks_worker_drain(wk, &e), KS_EIO);
  assert_int_equal(e.rc, KS_EIO);
  assert_non_null(strstr(e.msg, "job 5 failed"));
  assert_true(first_err < 0 || first_err > 5); /* reported only after job 5 ran */
  assert_int_equal(ks_worker_finished(wk), 20);
  assert_int_equal(x.n, 6); /* jobs 6.. were discarded */
  assert_int_equal(ks_worker_wait(wk, 1, &e), KS_EIO); /* still sticky */
  ks_worker_stop(wk, 0);
}

static void test_stop(void **state) {
  (void)state;
  ks_worker *wk;
  static ctx x;
  /* never used */
  memset(&x, 0, sizeof x);
  assert_int_equal(ks_worker_start(&wk, run, &x, 1), KS_OK);
  ks_worker_stop(wk, 0);
  ks_worker_stop(NULL, 0);
  /* stop runs what is queued */
  memset(&x, 0, sizeof x);
  x.fail_at = -1;
  x.slow = 1;
  static int jobs[8];
  assert_int_equal(ks_worker_start(&wk, run, &x, 8), KS_OK);
  ks_err e;
  for (int i = 0; i < 8; i++) {
    jobs[i] = i;
    assert_int_equal(ks_worker_submit(wk, &jobs[i], &e), KS_OK);
  }
  ks_worker_stop(wk, 0);
  assert_int_equal(x.n, 8);
  /* stop with discard drops the jobs not started */
  memset(&x, 0, sizeof x);
  x.fail_at = -1;
  x.slow = 1;
  assert_int_equal(ks_worker_start(&wk, run, &x, 8), KS_OK);
  for (int i = 0; i < 8; i++) assert_int_equal(ks_worker_submit(wk, &jobs[i], &e), KS_OK);
  ks_worker_stop(wk, 1);
  assert_true(x.n <= 8);
  for (int i = 0; i < x.n; i++) assert_int_equal(x.order[i], i);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_and_capacity),
      cmocka_unit_test(test_sticky_error),
      cmocka_unit_test(test_stop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
