/*
 * ks_fault_index.c - implements ks_fault_index.h.
 */
#include "ks_fault_index.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "index.h"
#include "index_writer.h"
#include "ks_test_util.h"

static char base[2048], dir[2048];
static int use_fsync;

static const char *texts[] = {
    "대통령은 보스턴에서 첨단 산업 클러스터를 논의했다",
    "K-바이오 기업들이 보스턴 클러스터에 진출했다",
    "서울 바이오 허브에서 회의가 열렸다",
    "첨단산업 육성 전략과 대통령의 발언",
    "보스턴 마라톤 대회가 열렸다",
};

static ks_writer_opts wopts(int threads, int merge) {
  ks_writer_opts wo;
  ks_writer_opts_default(&wo);
  wo.fsync = use_fsync;
  wo.threads = threads;
  wo.merge = merge;
  wo.mem_budget = 1u << 20;
  return wo;
}

static int add(ks_index_writer *w, int i, const char *suffix, ks_err *err) {
  char id[32], text[256];
  snprintf(id, sizeof id, "d%d", i);
  snprintf(text, sizeof text, "%s %d%s", texts[i % 5], i, suffix);
  ks_doc d = {.id = id, .id_len = strlen(id), .text = text, .text_len = strlen(text)};
  return ks_index_writer_add(w, &d, err);
}

static void sh(const char *fmt, const char *a, const char *b) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, fmt, a, b);
  assert_int_equal(system(cmd), 0);
}

void ks_fi_build_base(const char *tag) {
  const char *t = ks_test_tmpdir(tag);
  snprintf(base, sizeof base, "%.2000s/base", t);
  snprintf(dir, sizeof dir, "%.2000s/work", t);
  sh("rm -rf '%s' '%s'", base, dir);
  ks_writer_opts wo = wopts(1, 0);
  for (int s = 0; s < 3; s++) {
    ks_index_writer *w = NULL;
    assert_int_equal(ks_index_writer_open(base, &wo, &w, NULL), KS_OK);
    for (int i = 10 * s; i < 10 * s + 10; i++) assert_int_equal(add(w, i, "", NULL), KS_OK);
    assert_int_equal(ks_index_writer_commit(w, NULL), KS_OK);
    ks_index_writer_close(w);
  }
}

const char *ks_fi_fresh_copy(void) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dir, base, dir);
  assert_int_equal(system(cmd), 0);
  return dir;
}

void ks_fi_set_fsync(int on) { use_fsync = on; }

const char *ks_fi_dir(void) { return dir; }

int ks_fi_add_commit(int threads, ks_err *err) {
  ks_writer_opts wo = wopts(threads, 0);
  ks_index_writer *w = NULL;
  int rc = ks_index_writer_open(dir, &wo, &w, err);
  for (int i = 28; rc == KS_OK && i < 35; i++) rc = add(w, i, " 새 문서", err);
  if (rc == KS_OK) rc = ks_index_writer_commit(w, err);
  ks_index_writer_close(w);
  return rc;
}

int ks_fi_delete_commit(int threads, ks_err *err) {
  ks_writer_opts wo = wopts(threads, 0);
  ks_index_writer *w = NULL;
  int rc = ks_index_writer_open(dir, &wo, &w, err);
  const char *ids[] = {"d3", "d14", "d15", "d27"};
  for (int i = 0; rc == KS_OK && i < 4; i++)
    rc = ks_index_writer_delete(w, ids[i], strlen(ids[i]), err);
  if (rc == KS_OK) rc = ks_index_writer_commit(w, err);
  ks_index_writer_close(w);
  return rc;
}

int ks_fi_merge_commit(int threads, ks_err *err) {
  ks_writer_opts wo = wopts(threads, 1);
  ks_index_writer *w = NULL;
  int rc = ks_index_writer_open(dir, &wo, &w, err);
  if (rc == KS_OK) rc = ks_index_writer_merge(w, 1, err);
  if (rc == KS_OK) rc = ks_index_writer_commit(w, err);
  ks_index_writer_close(w);
  return rc;
}

uint64_t ks_fi_live_ids(void) {
  ks_index *ix = NULL;
  ks_err e;
  if (ks_index_open(dir, &ix, &e) != KS_OK) fail_msg("index does not open: %s", e.msg);
  uint64_t set = 0;
  for (int i = 0; i < 64; i++) {
    char id[16];
    snprintf(id, sizeof id, "d%d", i);
    uint64_t doc;
    if (ks_index_find_id(ix, id, strlen(id), &doc, NULL) == KS_OK) set |= (uint64_t)1 << i;
  }
  ks_index_close(ix);
  if (ks_index_check(dir, NULL, NULL, &e) != KS_OK) fail_msg("check fails: %s", e.msg);
  return set;
}

uint64_t ks_fi_range(int lo, int hi) {
  uint64_t s = 0;
  for (int i = lo; i < hi; i++) s |= (uint64_t)1 << i;
  return s;
}

uint64_t ks_fi_before(void) { return ks_fi_range(0, 30); }
uint64_t ks_fi_after_add(void) { return ks_fi_range(0, 35); }
uint64_t ks_fi_after_delete(void) {
  return ks_fi_range(0, 30) & ~(((uint64_t)1 << 3) | ((uint64_t)1 << 14) |
                                ((uint64_t)1 << 15) | ((uint64_t)1 << 27));
}
