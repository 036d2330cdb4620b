/*
 * backend.c - the backend registry of engine_int.h and kosearch/backend.h.
 *
 * A fixed table of KS_BACKEND_MAX entries; entry 0 is the native backend,
 * always there. Others are added by ks_backend_register, called by the
 * program (ks_xapian_register). Entries are never removed, so a pointer
 * read under the lock stays valid forever.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_int.h"
#include "ks_alloc.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const ks_backend_ops *reg[KS_BACKEND_MAX] = {&ks_native_backend};
static int nreg = 1;

/* Contract: kosearch/backend.h. */
int ks_backend_register(const ks_backend_ops *ops, ks_err *err) {
  if (!ops || !ops->name || !ops->name[0])
    return ks_err_set(err, KS_EINVAL, "[engine][register] backend without a name");
  if (ops->abi != KS_BACKEND_ABI)
    return ks_err_set(err, KS_EVERSION,
                      "[engine][register] backend '%s' was built for backend ABI %d, this "
                      "libkosearch %s has ABI %d (use libraries of the same version)",
                      ops->name, ops->abi, ks_version(), KS_BACKEND_ABI);
  int reads = ops->search_text || ops->search;
  int writes = ops->writer_add_doc || ops->writer_add;
  if (!ops->detect || !ops->open || !ops->dup || !ops->close || !reads || !ops->results_count ||
      !ops->results_hit || !ops->results_matches || !ops->results_json || !ops->results_free ||
      !ops->reopen || !ops->get || !ops->stats || !ops->writer_open || !writes ||
      !ops->writer_delete || !ops->writer_commit ||
      !ops->writer_stats || !ops->writer_close)
    return ks_err_set(err, KS_EINVAL, "[engine][register] backend '%s' lacks a required operation",
                      ops->name);
  int rc = KS_OK;
  pthread_mutex_lock(&reg_lock);
  int have = 0;
  for (int i = 0; i < nreg; i++)
    if (reg[i] == ops || strcmp(reg[i]->name, ops->name) == 0) have = 1;
  if (!have) {
    if (nreg == KS_BACKEND_MAX)
      rc = ks_err_set(err, KS_ELIMIT, "[engine][register] %d backends registered already",
                      KS_BACKEND_MAX);
    else
      reg[nreg++] = ops;
  }
  pthread_mutex_unlock(&reg_lock);
  return rc;
}

/* Contract: engine_int.h. */
const ks_backend_ops *ks_backend_find(const char *name) {
  if (!name) name = "native";
  const ks_backend_ops *found = NULL;
  pthread_mutex_lock(&reg_lock);
  for (int i = 0; i < nreg && !found; i++)
    if (strcmp(reg[i]->name, name) == 0) found = reg[i];
  pthread_mutex_unlock(&reg_lock);
  return found;
}

/* Contract: engine_int.h. */
const ks_backend_ops *ks_backend_detect(const char *path) {
  const ks_backend_ops *list[KS_BACKEND_MAX];
  pthread_mutex_lock(&reg_lock);
  int n = nreg;
  memcpy(list, reg, sizeof list);
  pthread_mutex_unlock(&reg_lock);
  for (int i = 0; i < n; i++)
    if (list[i]->detect(path)) return list[i];
  return NULL;
}

static int has_file(const char *dir, const char *name) {
  char p[4096];
  struct stat st;
  if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p) return 0;
  return stat(p, &st) == 0;
}

/* Contract: engine_int.h. Xapian marks its databases with an "iam<format>"
 * file; kosearch's shard directories have a KOSEARCH-SHARDS marker
 * (docs/xapian.md). */
int ks_backend_looks_xapian(const char *path) {
  return has_file(path, "iamglass") || has_file(path, "iamchert") ||
         has_file(path, "iamhoney") || has_file(path, "KOSEARCH-SHARDS");
}

/* Contract: engine_int.h. */
int ks_backend_missing(const char *name, const char *path, ks_err *err) {
  if (strcmp(name, "xapian") == 0)
    return ks_err_set(err, KS_EUNSUPPORTED,
                      "[engine][open] %s: a Xapian index, but this program was built without "
                      "Xapian (the Xapian backend is not registered: link libkosearch-xapian "
                      "and call ks_xapian_register)",
                      path ? path : "");
  return ks_err_set(err, KS_EUNSUPPORTED, "[engine][open] %s%sno backend named '%s'",
                    path ? path : "", path ? ": " : "", name);
}

/* Contract: kosearch/backend.h. */
void *ks_mem_alloc(size_t n) { return ks_malloc(n ? n : 1); }

/* Contract: kosearch/version.h. */
const char *ks_version(void) { return KS_VERSION_STRING; }
