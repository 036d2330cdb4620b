/*
 * xapian.cc - implements ks_xap.h: the Xapian backend (writer, reader,
 * sharded reader, query mapping, BM25Weight search). The only C++ file in
 * the tree; the mapping it implements is specified in docs/xapian.md.
 *
 * Invariants:
 *   - No C++ exception leaves this file: every extern "C" function runs its
 *     Xapian/STL work inside guarded(), which turns exceptions into an rc
 *     and a "[xap][op] ..." message (ks_error.h). The catch handlers only
 *     use non-allocating accessors, so they cannot throw themselves.
 *   - Handles are allocated with ks_mem_alloc and built with placement new,
 *     so the out-of-memory tests of common/ks_alloc.h reach them; Xapian's own
 *     allocations use operator new (bad_alloc -> KS_ENOMEM).
 *   - Every term written or queried goes through make_term() (field
 *     prefix + Xapian's ':' rule) and every id through make_id_term(), so
 *     writer and reader can never disagree on the mapping. Positions are
 *     stored + 1 (glass mis-stores position 0); phrases only compare
 *     relative positions, so nothing else sees the shift.
 *   - Queries never use OP_AND_MAYBE, never OR optional clauses together
 *     below an AND-like operator, and search exhaustively by default:
 *     Xapian 1.4.22 gives wrong results otherwise (see ks_xap_search and
 *     docs/xapian.md, "Xapian problems worked around").
 *   - A ks_xap_writer whose Xapian call failed is "failed": only close is
 *     allowed afterwards (its in-memory state may be inconsistent).
 *   - An atomic writer (opts.atomic) always has a transaction open between
 *     its calls: commit = commit_transaction + begin_transaction, and
 *     close cancels it, so uncommitted changes never reach the disk's
 *     published revision.
 */
#include "ks_xap.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <xapian.h>

extern "C" {
#ifndef KS_BACKEND_UNSTABLE_API
#define KS_BACKEND_UNSTABLE_API
#endif
#include "kosearch/backend.h"
#include "kosearch/tok.h"
}

namespace {

/* ---- error boundary ------------------------------------------------------ */

/* Report a Xapian exception with its type, message and context. Uses only
 * accessors that return existing strings (no allocation). */
int xap_fail(ks_err *err, int rc, const char *op, const char *what,
             const Xapian::Error &e) {
  const char *es = e.get_error_string();
  return ks_err_set(err, rc, "[xap][%s] %s: %s: %s%s%s%s%s%s", op, what,
                    e.get_type(), e.get_msg().c_str(),
                    e.get_context().empty() ? "" : " (context: ",
                    e.get_context().c_str(),
                    e.get_context().empty() ? "" : ")",
                    es ? "; " : "", es ? es : "");
}

/* Run body() (which returns an rc) and convert any exception it throws.
 * `what` names the path, spec or handle the operation is about. */
template <class F>
int guarded(ks_err *err, const char *op, const char *what, F &&body) noexcept {
  try {
    return body();
  } catch (const Xapian::DatabaseNotFoundError &e) {
    return xap_fail(err, KS_NOTFOUND, op, what, e);
  } catch (const Xapian::DatabaseLockError &e) {
    return xap_fail(err, KS_ELOCKED, op, what, e);
  } catch (const Xapian::DatabaseCorruptError &e) {
    return xap_fail(err, KS_ECORRUPT, op, what, e);
  } catch (const Xapian::DatabaseVersionError &e) {
    return xap_fail(err, KS_EVERSION, op, what, e);
  } catch (const Xapian::DatabaseModifiedError &e) {
    /* a reader's revision was overwritten by two later commits */
    int rc = xap_fail(err, KS_EXAPIAN, op, what, e);
    if (err) {
      size_t n = strlen(err->msg);
      snprintf(err->msg + n, sizeof err->msg - n,
               " (the index changed under this handle: reopen it)");
    }
    return rc;
  } catch (const Xapian::Error &e) {
    return xap_fail(err, KS_EXAPIAN, op, what, e);
  } catch (const std::bad_alloc &) {
    return ks_err_set(err, KS_ENOMEM, "[xap][%s] %s: out of memory", op, what);
  } catch (const std::exception &e) {
    return ks_err_set(err, KS_EXAPIAN, "[xap][%s] %s: C++ exception: %s", op,
                      what, e.what());
  } catch (...) {
    return ks_err_set(err, KS_EXAPIAN, "[xap][%s] %s: unknown C++ exception",
                      op, what);
  }
}

/* Handles live in ks_mem_alloc'ed memory (libkosearch's allocator, so
 * its fault injection reaches them). */
template <class T>
T *new_handle() {
  void *p = ks_mem_alloc(sizeof(T));
  if (!p) throw std::bad_alloc();
  try {
    return new (p) T();
  } catch (...) {
    ks_mem_free(p);
    throw;
  }
}

/* A document's data (its stored JSON) as a NUL-terminated copy in
 * ks_mem_alloc'ed memory, which the caller frees with ks_mem_free. */
void copy_out(const std::string &data, char **out, size_t *len) {
  char *p = static_cast<char *>(ks_mem_alloc(data.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, data.data(), data.size());
  p[data.size()] = '\0';
  *out = p;
  if (len) *len = data.size();
}

template <class T>
void free_handle(T *h) noexcept {
  if (!h) return;
  h->~T();
  ks_mem_free(h);
}

/* ---- term mapping (docs/xapian.md) ---------------------------------------- */

const char kFieldPrefix[KS_NFIELDS] = {'W', 'B'};
const Xapian::valueno kIdSlot = 0;
const char kMetaBackend[] = "kosearch:backend";
const char kMetaTokVersion[] = "kosearch:tok_version";
const char kMetaCommit[] = "kosearch:commit"; /* commit number, decimal */
const size_t kShortIdMax = 240;   /* "Q:" + 240 bytes fits Xapian's 245 */
const size_t kLongIdKeep = 200;   /* id bytes kept in a hashed id term */

/* Xapian's convention: a ':' separates the prefix from a term that starts
 * with an ASCII capital (or ':'), so the split stays unambiguous. */
void make_term(std::string &out, char prefix, const char *t, size_t len) {
  out.clear();
  out.push_back(prefix);
  if (len && ((t[0] >= 'A' && t[0] <= 'Z') || t[0] == ':')) out.push_back(':');
  out.append(t, len);
}

uint64_t fnv1a64(const char *p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* The unique boolean term of a document id. Returns 1 for a hashed (long)
 * id, whose term does not determine the id by itself. */
int make_id_term(std::string &out, const char *id, size_t len) {
  if (len <= kShortIdMax) {
    make_term(out, 'Q', id, len);
    return 0;
  }
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv1a64(id, len));
  out.assign("XQH");
  out.append(hex, 16);
  out.append(id, kLongIdKeep);
  return 1;
}

int field_ok(int field) { return field >= 0 && field < KS_NFIELDS; }

int dir_is_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 0;
  int empty = 1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      empty = 0;
      break;
    }
  }
  closedir(d);
  return empty;
}

/* A database we open must have been written by this wrapper with the same
 * analyzer version; otherwise query terms would not match its terms. */
int check_marker(const Xapian::Database &d, const char *op, const char *what,
                 ks_err *err) {
  if (d.get_metadata(kMetaBackend) != "xapian")
    return ks_err_set(err, KS_EINVAL,
                      "[xap][%s] %s: a Xapian database not written by "
                      "kosearch (metadata \"%s\" missing)",
                      op, what, kMetaBackend);
  std::string v = d.get_metadata(kMetaTokVersion);
  if (v != std::to_string(KS_TOK_VERSION))
    return ks_err_set(err, KS_EVERSION,
                      "[xap][%s] %s: built with analyzer version \"%s\", this "
                      "program has version %d; rebuild the index",
                      op, what, v.c_str(), KS_TOK_VERSION);
  return KS_OK;
}

/* The commit number stored in a database (0 when absent or malformed). */
uint64_t commit_number(const Xapian::Database &d) {
  std::string v = d.get_metadata(kMetaCommit);
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || n > UINT64_MAX / 10) return 0;
    n = n * 10 + (uint64_t)(c - '0');
  }
  return n;
}

}  // namespace

/* ---- handles --------------------------------------------------------------- */

struct ks_xap_writer {
  Xapian::WritableDatabase db;
  std::string path;           /* for messages */
  ks_xap_writer_opts opts;
  int failed = KS_OK;         /* rc that made the writer unusable */
  uint64_t added = 0, replaced = 0, deleted = 0, postings = 0, positions = 0;
  uint64_t commit = 0;        /* commit number of the last commit */
  uint64_t revision = 0;      /* Xapian revision of the last commit */
  uint32_t since_commit = 0;  /* documents added since the last commit */
  std::string term, idterm;   /* scratch */
};

struct ks_xap_db {
  Xapian::Database db;        /* one sub-database per shard */
  std::vector<Xapian::Database> subs; /* the same, one by one */
  std::vector<char> remote;   /* subs[i] is a tcp:// shard */
  uint32_t shards = 0;
  std::string label;          /* path or first spec, for messages */
};

struct ks_xap_results {
  std::vector<ks_xap_hit> hits;        /* id pointers filled on access */
  std::vector<std::string> ids;        /* the documents' own ids */
  std::vector<Xapian::Document> docs;  /* for stored data on demand */
  uint64_t lower = 0, estimated = 0, upper = 0;
};

/* ---- writer ---------------------------------------------------------------- */

/* Contract: ks_xap.h. */
extern "C" void ks_xap_writer_opts_default(ks_xap_writer_opts *o) {
  o->flush_docs = 0;
  o->fsync = 1;
  o->open = KS_XAP_OVERWRITE;
  o->atomic = 0;
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_writer_open(const char *path,
                                  const ks_xap_writer_opts *opts,
                                  ks_xap_writer **out, ks_err *err) {
  if (out) *out = NULL;
  if (!path || !*path || !out)
    return ks_err_set(err, KS_EINVAL, "[xap][writer_open] no path given");
  struct stat st;
  if (stat(path, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return ks_err_set(err, KS_EINVAL,
                        "[xap][writer_open] %s: exists and is not a directory",
                        path);
    if (!ks_xap_is_database(path) && !dir_is_empty(path))
      return ks_err_set(err, KS_EINVAL,
                        "[xap][writer_open] %s: non-empty directory that is "
                        "not a Xapian database; refusing to overwrite it",
                        path);
  }
  ks_xap_writer_opts o;
  ks_xap_writer_opts_default(&o);
  if (opts) o = *opts;
  if (o.open != KS_XAP_OVERWRITE && o.open != KS_XAP_OPEN &&
      o.open != KS_XAP_CREATE_OR_OPEN)
    return ks_err_set(err, KS_EINVAL, "[xap][writer_open] %s: bad open mode %d",
                      path, o.open);
  return guarded(err, "writer_open", path, [&]() -> int {
    ks_xap_writer *w = new_handle<ks_xap_writer>();
    try {
      int flags = o.open == KS_XAP_OPEN            ? Xapian::DB_OPEN
                  : o.open == KS_XAP_CREATE_OR_OPEN ? Xapian::DB_CREATE_OR_OPEN
                                                    : Xapian::DB_CREATE_OR_OVERWRITE;
      if (!o.fsync) flags |= Xapian::DB_NO_SYNC;
      w->db = Xapian::WritableDatabase(path, flags);
      w->path = path;
      w->opts = o;
      /* a database that has documents or our marker must be ours; an
       * empty one without it is new (or was emptied) and gets the marker */
      int fresh = w->db.get_metadata(kMetaBackend).empty() &&
                  w->db.get_doccount() == 0;
      int rc = fresh ? KS_OK : check_marker(w->db, "writer_open", path, err);
      if (rc != KS_OK) {
        free_handle(w);
        return rc;
      }
      if (fresh) {
        w->db.set_metadata(kMetaBackend, "xapian");
        w->db.set_metadata(kMetaTokVersion, std::to_string(KS_TOK_VERSION));
        if (o.atomic) w->db.commit(); /* readers can open the new database */
      }
      w->commit = commit_number(w->db);
      w->revision = w->db.get_revision();
      if (o.atomic) w->db.begin_transaction(true);
    } catch (...) {
      free_handle(w);
      throw;
    }
    *out = w;
    return KS_OK;
  });
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_writer_add(ks_xap_writer *w, const char *id,
                                 size_t id_len, const char *json,
                                 size_t json_len, const ks_xap_term *terms,
                                 size_t nterms, ks_err *err) {
  if (!w) return ks_err_set(err, KS_EINVAL, "[xap][add] no writer");
  if (w->failed)
    return ks_err_set(err, KS_EINVAL,
                      "[xap][add] %s: writer failed earlier (%s); close it",
                      w->path.c_str(), ks_strerror(w->failed));
  if (!id || id_len == 0 || id_len > KS_XAP_MAX_ID)
    return ks_err_set(err, KS_EINVAL,
                      "[xap][add] %s: document id must be 1..%d bytes "
                      "(got %zu)",
                      w->path.c_str(), KS_XAP_MAX_ID, id ? id_len : 0);
  if ((!json && json_len) || (!terms && nterms))
    return ks_err_set(err, KS_EINVAL, "[xap][add] %s: NULL data with length",
                      w->path.c_str());
  for (size_t i = 0; i < nterms; i++) {
    const ks_xap_term &t = terms[i];
    if (!field_ok(t.field) || !t.term || t.len == 0 ||
        t.len > KS_XAP_MAX_TERM || t.pos == UINT32_MAX)
      return ks_err_set(err, KS_EINVAL,
                        "[xap][add] %s: term %zu of document \"%.*s\": bad "
                        "field %d, length %zu (1..%d) or position",
                        w->path.c_str(), i, (int)(id_len > 64 ? 64 : id_len),
                        id, (int)t.field, t.len, KS_XAP_MAX_TERM);
  }
  int rc = guarded(err, "add", w->path.c_str(), [&]() -> int {
    Xapian::Document doc;
    if (json_len) doc.set_data(std::string(json, json_len));
    doc.add_value(kIdSlot, std::string(id, id_len));
    int hashed = make_id_term(w->idterm, id, id_len);
    doc.add_boolean_term(w->idterm);
    for (size_t i = 0; i < nterms; i++) {
      make_term(w->term, kFieldPrefix[terms[i].field], terms[i].term,
                terms[i].len);
      doc.add_posting(w->term, (Xapian::termpos)terms[i].pos + 1, 1);
    }
    bool exists = w->db.term_exists(w->idterm);
    if (exists && hashed) {
      Xapian::PostingIterator p = w->db.postlist_begin(w->idterm);
      std::string old = w->db.get_document(*p).get_value(kIdSlot);
      if (old.size() != id_len || memcmp(old.data(), id, id_len) != 0)
        return ks_err_set(err, KS_ELIMIT,
                          "[xap][add] %s: ids longer than %zu bytes collide "
                          "in their hash (%.40s...); document rejected",
                          w->path.c_str(), kShortIdMax, id);
    }
    w->db.replace_document(w->idterm, doc);
    w->added++;
    if (exists) w->replaced++;
    w->postings += doc.termlist_count() - 1; /* minus the id term */
    w->positions += nterms;
    if (!w->opts.atomic && w->opts.flush_docs &&
        ++w->since_commit >= w->opts.flush_docs) {
      w->db.commit();
      w->since_commit = 0;
    }
    return KS_OK;
  });
  if (rc != KS_OK && rc != KS_ELIMIT) w->failed = rc;
  return rc;
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_writer_commit(ks_xap_writer *w, ks_err *err) {
  if (!w) return ks_err_set(err, KS_EINVAL, "[xap][commit] no writer");
  if (w->failed)
    return ks_err_set(err, KS_EINVAL,
                      "[xap][commit] %s: writer failed earlier (%s); close it",
                      w->path.c_str(), ks_strerror(w->failed));
  int rc = guarded(err, "commit", w->path.c_str(), [&]() -> int {
    w->db.set_metadata(kMetaCommit, std::to_string(w->commit + 1));
    if (w->opts.atomic) {
      w->db.commit_transaction();
      w->commit++;
      w->db.begin_transaction(true);
    } else {
      w->db.commit();
      w->commit++;
    }
    w->revision = w->db.get_revision();
    w->since_commit = 0;
    return KS_OK;
  });
  if (rc != KS_OK) w->failed = rc;
  return rc;
}

/* Contract: ks_xap.h. */
extern "C" void ks_xap_writer_set_commit_number(ks_xap_writer *w, uint64_t n) {
  if (w) w->commit = n;
}

/* Contract: ks_xap.h. The id term finds the document; for a hashed (long)
 * id the id in value slot 0 must match too (two long ids may share the
 * term, although the writer rejects the second one). */
extern "C" int ks_xap_writer_delete(ks_xap_writer *w, const char *id,
                                    size_t id_len, ks_err *err) {
  if (!w) return ks_err_set(err, KS_EINVAL, "[xap][delete] no writer");
  if (w->failed)
    return ks_err_set(err, KS_EINVAL,
                      "[xap][delete] %s: writer failed earlier (%s); close it",
                      w->path.c_str(), ks_strerror(w->failed));
  if (!id || id_len == 0 || id_len > KS_XAP_MAX_ID)
    return ks_err_set(err, KS_EINVAL,
                      "[xap][delete] %s: document id must be 1..%d bytes "
                      "(got %zu)",
                      w->path.c_str(), KS_XAP_MAX_ID, id ? id_len : 0);
  int rc = guarded(err, "delete", w->path.c_str(), [&]() -> int {
    int hashed = make_id_term(w->idterm, id, id_len);
    /* the writable database counts its own uncommitted changes */
    if (!w->db.term_exists(w->idterm)) return KS_NOTFOUND;
    if (hashed) {
      Xapian::PostingIterator p = w->db.postlist_begin(w->idterm);
      std::string old = w->db.get_document(*p).get_value(kIdSlot);
      if (old.size() != id_len || memcmp(old.data(), id, id_len) != 0)
        return KS_NOTFOUND;
    }
    w->db.delete_document(w->idterm);
    w->deleted++;
    return KS_OK;
  });
  if (rc != KS_OK && rc != KS_NOTFOUND) w->failed = rc;
  return rc;
}

/* Contract: ks_xap.h. */
extern "C" void ks_xap_writer_get_stats(ks_xap_writer *w,
                                        ks_xap_writer_stats *st) {
  memset(st, 0, sizeof *st);
  if (!w) return;
  st->docs_added = w->added;
  st->docs_replaced = w->replaced;
  st->docs_deleted = w->deleted;
  st->postings = w->postings;
  st->positions = w->positions;
  st->commit_number = w->commit;
  st->revision = w->revision;
  guarded(NULL, "stats", "", [&]() -> int {
    st->docs_live = w->db.get_doccount();
    return KS_OK;
  });
}

/* Contract: ks_xap.h. */
extern "C" void ks_xap_writer_close(ks_xap_writer *w) {
  if (!w) return;
  guarded(NULL, "writer_close", "", [&]() -> int {
    /* without opts.atomic this commits pending changes (Xapian
     * semantics); with it, the open transaction is cancelled */
    w->db.close();
    return KS_OK;
  });
  free_handle(w);
}

/* Contract: ks_xap.h. */
extern "C" uint32_t ks_xap_shard_of(const char *id, size_t id_len,
                                    uint32_t nshards) {
  if (nshards == 0) return 0;
  return (uint32_t)(fnv1a64(id, id_len) % nshards);
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_is_database(const char *path) {
  static const char *const markers[] = {"iamglass", "iamchert"};
  if (!path) return 0;
  for (const char *m : markers) {
    char buf[4096];
    struct stat st;
    if (snprintf(buf, sizeof buf, "%s/%s", path, m) >= (int)sizeof buf)
      return 0;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) return 1;
  }
  return 0;
}

/* ---- reader ---------------------------------------------------------------- */

namespace {

/* Parse "tcp://HOST:PORT" (HOST may be "[v6addr]"). Returns KS_OK or
 * KS_EINVAL; *is_tcp = 0 for a local path. */
int parse_spec(const char *spec, int *is_tcp, std::string &host,
               unsigned *port, ks_err *err) {
  static const char scheme[] = "tcp://";
  *is_tcp = strncmp(spec, scheme, sizeof scheme - 1) == 0;
  if (!*is_tcp) return KS_OK;
  const char *h = spec + sizeof scheme - 1, *colon;
  if (*h == '[') {
    const char *close = strchr(h, ']');
    if (!close || close[1] != ':')
      return ks_err_set(err, KS_EINVAL,
                        "[xap][open] %s: expected tcp://[ADDR]:PORT", spec);
    host.assign(h + 1, (size_t)(close - h - 1));
    colon = close + 1;
  } else {
    colon = strrchr(h, ':');
    if (!colon)
      return ks_err_set(err, KS_EINVAL,
                        "[xap][open] %s: expected tcp://HOST:PORT", spec);
    host.assign(h, (size_t)(colon - h));
  }
  unsigned long p = 0;
  const char *d = colon + 1;
  for (; *d; d++) {
    if (*d < '0' || *d > '9' || p > 65535) { p = 0; break; }
    p = p * 10 + (unsigned long)(*d - '0');
  }
  if (host.empty() || p == 0 || p > 65535)
    return ks_err_set(err, KS_EINVAL,
                      "[xap][open] %s: bad host or port (expected "
                      "tcp://HOST:PORT with PORT in 1..65535)",
                      spec);
  *port = (unsigned)p;
  return KS_OK;
}

}  // namespace

/* Contract: ks_xap.h. */
extern "C" int ks_xap_open_shards(const char *const *specs, size_t n,
                                  unsigned timeout_ms, ks_xap_db **out,
                                  ks_err *err) {
  if (out) *out = NULL;
  if (!specs || n == 0 || !out)
    return ks_err_set(err, KS_EINVAL, "[xap][open] no database given");
  for (size_t i = 0; i < n; i++)
    if (!specs[i] || !*specs[i])
      return ks_err_set(err, KS_EINVAL, "[xap][open] shard %zu: empty spec", i);
  if (timeout_ms == 0) timeout_ms = 10000;
  ks_xap_db *db = NULL;
  int rc = guarded(err, "open", specs[0], [&]() -> int {
    db = new_handle<ks_xap_db>();
    db->label = specs[0];
    return KS_OK;
  });
  if (rc) return rc;
  for (size_t i = 0; i < n && rc == KS_OK; i++) {
    const char *spec = specs[i];
    rc = guarded(err, "open", spec, [&]() -> int {
      int is_tcp;
      std::string host;
      unsigned port = 0;
      int r = parse_spec(spec, &is_tcp, host, &port, err);
      if (r) return r;
      Xapian::Database sub =
          is_tcp ? Xapian::Remote::open(host, port, timeout_ms, timeout_ms)
                 : Xapian::Database(spec);
      r = check_marker(sub, "open", spec, err);
      if (r) return r;
      db->db.add_database(sub);
      db->subs.push_back(sub);
      db->remote.push_back((char)is_tcp);
      db->shards++;
      return KS_OK;
    });
  }
  if (rc) {
    ks_xap_close(db);
    return rc;
  }
  *out = db;
  return KS_OK;
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_open(const char *path, ks_xap_db **out, ks_err *err) {
  if (out) *out = NULL;
  if (!path || !*path)
    return ks_err_set(err, KS_EINVAL, "[xap][open] no path given");
  struct stat st;
  if (stat(path, &st) != 0)
    return ks_err_set(err, KS_NOTFOUND,
                      "[xap][open] %s: no such file or directory", path);
  return ks_xap_open_shards(&path, 1, 0, out, err);
}

/* Contract: ks_xap.h. */
extern "C" void ks_xap_close(ks_xap_db *db) {
  if (!db) return;
  guarded(NULL, "close", "", [&]() -> int {
    db->db.close();
    return KS_OK;
  });
  free_handle(db);
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_get_stats(ks_xap_db *db, ks_xap_stats *st, ks_err *err) {
  if (!db || !st) return ks_err_set(err, KS_EINVAL, "[xap][stats] no database");
  memset(st, 0, sizeof *st);
  return guarded(err, "stats", db->label.c_str(), [&]() -> int {
    st->docs = db->db.get_doccount();
    st->total_length = db->db.get_total_length();
    st->avg_length = db->db.get_average_length();
    st->shards = db->shards;
    return KS_OK;
  });
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_term_stats(ks_xap_db *db, int field, const char *term,
                                 size_t len, uint64_t *df, uint64_t *cf,
                                 ks_err *err) {
  if (df) *df = 0;
  if (cf) *cf = 0;
  if (!db || !field_ok(field) || !term || len == 0 || len > KS_XAP_MAX_TERM)
    return ks_err_set(err, KS_EINVAL, "[xap][term_stats] bad argument");
  return guarded(err, "term_stats", db->label.c_str(), [&]() -> int {
    std::string t;
    make_term(t, kFieldPrefix[field], term, len);
    if (df) *df = db->db.get_termfreq(t);
    if (cf) *cf = db->db.get_collection_freq(t);
    return KS_OK;
  });
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_sub_info_get(ks_xap_db *db, size_t i,
                                   ks_xap_sub_info *info, ks_err *err) {
  if (info) memset(info, 0, sizeof *info);
  if (!db || !info || i >= db->subs.size())
    return ks_err_set(err, KS_EINVAL, "[xap][sub_info] no sub-database %zu", i);
  return guarded(err, "sub_info", db->label.c_str(), [&]() -> int {
    const Xapian::Database &d = db->subs[i];
    info->remote = db->remote[i];
    std::string u = d.get_uuid();
    snprintf(info->uuid, sizeof info->uuid, "%s", u.c_str());
    info->revision = info->remote ? 0 : d.get_revision();
    info->commit_number = commit_number(d);
    return KS_OK;
  });
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_count_terms(ks_xap_db *db, uint64_t *words,
                                  uint64_t *bigrams, ks_err *err) {
  if (words) *words = 0;
  if (bigrams) *bigrams = 0;
  if (!db) return ks_err_set(err, KS_EINVAL, "[xap][count_terms] no database");
  return guarded(err, "count_terms", db->label.c_str(), [&]() -> int {
    const char prefix[2] = {kFieldPrefix[KS_FIELD_WORD], 0};
    const char bprefix[2] = {kFieldPrefix[KS_FIELD_BIGRAM], 0};
    uint64_t n = 0;
    for (Xapian::TermIterator t = db->db.allterms_begin(prefix);
         t != db->db.allterms_end(prefix); ++t)
      n++;
    if (words) *words = n;
    n = 0;
    for (Xapian::TermIterator t = db->db.allterms_begin(bprefix);
         t != db->db.allterms_end(bprefix); ++t)
      n++;
    if (bigrams) *bigrams = n;
    return KS_OK;
  });
}

/* ---- search ---------------------------------------------------------------- */

/* Contract: ks_xap.h. */
extern "C" void ks_xap_search_opts_default(ks_xap_search_opts *o) {
  o->k = 10;
  o->k1 = KS_XAP_DEFAULT_K1;
  o->b = KS_XAP_DEFAULT_B;
  o->min_normlen = 0.5;
  o->bigram_weight = KS_XAP_DEFAULT_BIGRAM_WEIGHT;
  o->exhaustive = 1;
}

namespace {

int check_opts(const ks_xap_search_opts &o, ks_err *err) {
  const char *bad = NULL;
  if (!std::isfinite(o.k1) || o.k1 < 0) bad = "k1 must be >= 0";
  else if (!std::isfinite(o.b) || o.b < 0 || o.b > 1) bad = "b must be in [0, 1]";
  else if (!std::isfinite(o.min_normlen) || o.min_normlen < 0)
    bad = "min_normlen must be >= 0";
  else if (!std::isfinite(o.bigram_weight) || o.bigram_weight < 0)
    bad = "bigram_weight must be >= 0";
  if (bad) return ks_err_set(err, KS_EINVAL, "[xap][search] %s", bad);
  return KS_OK;
}

int check_clause(const ks_xap_clause &c, size_t ci, ks_err *err) {
  if (c.op != KS_OP_OPTIONAL && c.op != KS_OP_REQUIRED &&
      c.op != KS_OP_EXCLUDED)
    return ks_err_set(err, KS_EINVAL, "[xap][search] clause %zu: bad op %d",
                      ci, c.op);
  if (!c.terms || c.nterms == 0)
    return ks_err_set(err, KS_EINVAL, "[xap][search] clause %zu: no terms", ci);
  for (size_t i = 0; i < c.nterms; i++) {
    const ks_xap_qterm &t = c.terms[i];
    if (!field_ok(t.field) || !t.term || t.len == 0 || t.len > KS_XAP_MAX_TERM)
      return ks_err_set(err, KS_EINVAL,
                        "[xap][search] clause %zu term %zu: bad field %d or "
                        "length %zu",
                        ci, i, (int)t.field, t.len);
    if (c.phrase && t.field != KS_FIELD_WORD)
      return ks_err_set(err, KS_EINVAL,
                        "[xap][search] clause %zu term %zu: phrase terms must "
                        "be word-field terms",
                        ci, i);
    if (c.phrase && c.offsets &&
        (i == 0 ? c.offsets[0] != 0 : c.offsets[i] <= c.offsets[i - 1]))
      return ks_err_set(err, KS_EINVAL,
                        "[xap][search] clause %zu: phrase offsets must start "
                        "at 0 and increase",
                        ci);
  }
  if (c.nalts && (c.phrase || !c.alts))
    return ks_err_set(err, KS_EINVAL,
                      "[xap][search] clause %zu: alternatives need a word "
                      "clause",
                      ci);
  for (size_t a = 0; a < c.nalts; a++) {
    const ks_xap_alt &x = c.alts[a];
    if (!x.idx || !x.offsets || x.nterms == 0)
      return ks_err_set(err, KS_EINVAL,
                        "[xap][search] clause %zu alternative %zu: empty", ci,
                        a);
    for (size_t i = 0; i < x.nterms; i++)
      if (x.idx[i] >= c.nterms ||
          (i == 0 ? x.offsets[0] != 0 : x.offsets[i] <= x.offsets[i - 1]) ||
          c.terms[x.idx[i]].field != c.terms[x.idx[0]].field)
        return ks_err_set(err, KS_EINVAL,
                          "[xap][search] clause %zu alternative %zu: bad term "
                          "index, offset or field",
                          ci, a);
  }
  return KS_OK;
}

Xapian::Query leaf(const ks_xap_qterm &t, double bigram_weight) {
  std::string s;
  make_term(s, kFieldPrefix[t.field], t.term, t.len);
  Xapian::Query q(s, t.wqf ? t.wqf : 1);
  if (t.field == KS_FIELD_BIGRAM)
    q = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, bigram_weight);
  return q;
}

/* One clause as a Xapian query (docs/xapian.md, "Query mapping"). */
Xapian::Query clause_query(const ks_xap_clause &c, double bigram_weight) {
  std::vector<Xapian::Query> leaves;
  leaves.reserve(c.nterms);
  for (size_t i = 0; i < c.nterms; i++)
    leaves.push_back(leaf(c.terms[i], bigram_weight));
  if (c.nalts) {
    /* strict word clause: weighted by every term (the left side of
     * FILTER), matching where an alternative does (the unweighted right
     * side) */
    std::vector<Xapian::Query> alts;
    alts.reserve(c.nalts);
    for (size_t a = 0; a < c.nalts; a++) {
      const ks_xap_alt &x = c.alts[a];
      /* plain leaves: OP_PHRASE takes leaf subqueries only, and weights
       * do not matter on this side */
      std::vector<Xapian::Query> ph;
      ph.reserve(x.nterms);
      for (size_t i = 0; i < x.nterms; i++) {
        const ks_xap_qterm &t = c.terms[x.idx[i]];
        std::string s;
        make_term(s, kFieldPrefix[t.field], t.term, t.len);
        ph.push_back(Xapian::Query(s));
      }
      if (x.nterms == 1) {
        alts.push_back(ph[0]);
        continue;
      }
      alts.push_back(Xapian::Query(Xapian::Query::OP_PHRASE, ph.begin(),
                                   ph.end(),
                                   (Xapian::termcount)x.offsets[x.nterms - 1] +
                                       1));
    }
    Xapian::Query any =
        leaves.size() == 1
            ? leaves[0]
            : Xapian::Query(Xapian::Query::OP_OR, leaves.begin(), leaves.end());
    Xapian::Query match =
        alts.size() == 1
            ? alts[0]
            : Xapian::Query(Xapian::Query::OP_OR, alts.begin(), alts.end());
    return Xapian::Query(Xapian::Query::OP_FILTER, any, match);
  }
  if (leaves.size() == 1) return leaves[0];
  if (!c.phrase)
    return Xapian::Query(Xapian::Query::OP_OR, leaves.begin(), leaves.end());
  /* exact for consecutive offsets (window = number of terms); with gaps,
   * terms in order within the span (Xapian has no exact-gap phrase) */
  Xapian::termcount window = (Xapian::termcount)c.nterms;
  if (c.offsets) window = (Xapian::termcount)c.offsets[c.nterms - 1] + 1;
  return Xapian::Query(Xapian::Query::OP_PHRASE, leaves.begin(), leaves.end(),
                       window);
}

Xapian::Query combine(Xapian::Query::op op, std::vector<Xapian::Query> &v) {
  if (v.size() == 1) return v[0];
  return Xapian::Query(op, v.begin(), v.end());
}

}  // namespace

/* Contract: ks_xap.h. */
extern "C" int ks_xap_search(ks_xap_db *db, const ks_xap_clause *clauses,
                             size_t nclauses, const ks_xap_search_opts *opts,
                             ks_xap_results **out, ks_err *err) {
  if (out) *out = NULL;
  if (!db || !out || (!clauses && nclauses))
    return ks_err_set(err, KS_EINVAL, "[xap][search] bad argument");
  ks_xap_search_opts o;
  ks_xap_search_opts_default(&o);
  if (opts) o = *opts;
  int rc = check_opts(o, err);
  for (size_t i = 0; i < nclauses && rc == KS_OK; i++)
    rc = check_clause(clauses[i], i, err);
  if (rc) return rc;
  ks_xap_results *r = NULL;
  rc = guarded(err, "search", db->label.c_str(), [&]() -> int {
    r = new_handle<ks_xap_results>();
    std::vector<Xapian::Query> req, opt, exc;
    for (size_t i = 0; i < nclauses; i++) {
      const ks_xap_clause &c = clauses[i];
      std::vector<Xapian::Query> &dst =
          c.op == KS_OP_REQUIRED ? req : c.op == KS_OP_EXCLUDED ? exc : opt;
      dst.push_back(clause_query(c, o.bigram_weight));
    }
    if (req.empty() && opt.empty()) return KS_OK; /* nothing can match */
    /* Required clauses must all match and add weight; optional ones add
     * weight where they match; excluded ones only filter:
     *   no required:  OR(o1, ..., on)
     *   no optional:  AND(r1, ..., rm)
     *   both:         OR(R, FILTER(o1, R), ..., FILTER(on, R)), R = AND(r...)
     * then AND_NOT OR(e1, ...). The right sides of FILTER and AND_NOT are
     * unweighted, and every FILTER(oi, R) matches a subset of R, so a
     * document matches iff it satisfies R, and scores w(R) + the weights of
     * the optional clauses it satisfies. Two other natural forms give wrong
     * results with Xapian 1.4.22 (docs/xapian.md, "Xapian problems worked
     * around"): R AND_MAYBE OR(o...) adds the weight of a non-matching
     * phrase nested in the OR, and so does FILTER(OR(r..., o...), R). */
    Xapian::Query q;
    if (req.empty()) {
      q = combine(Xapian::Query::OP_OR, opt);
    } else if (opt.empty()) {
      q = combine(Xapian::Query::OP_AND, req);
    } else {
      Xapian::Query r = combine(Xapian::Query::OP_AND, req);
      std::vector<Xapian::Query> parts;
      parts.reserve(opt.size() + 1);
      parts.push_back(r);
      for (const Xapian::Query &oq : opt)
        parts.push_back(Xapian::Query(Xapian::Query::OP_FILTER, oq, r));
      q = Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
    }
    if (!exc.empty())
      q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
                        combine(Xapian::Query::OP_OR, exc));
    Xapian::Enquire enq(db->db);
    enq.set_query(q);
    enq.set_weighting_scheme(
        Xapian::BM25Weight(o.k1, 0.0, 1.0, o.b, o.min_normlen));
    enq.set_docid_order(Xapian::Enquire::ASCENDING);
    /* exhaustive: every matching document is evaluated, which switches off
     * Xapian's weight-bound pruning (check_at_least >= N); with 1.4.22 that
     * pruning can drop or misweigh top-k hits (docs/xapian.md) */
    Xapian::doccount check = o.exhaustive ? db->db.get_doccount() : 0;
    Xapian::MSet m = enq.get_mset(0, o.k, check);
    m.fetch(); /* one batch of document requests for remote shards */
    r->hits.reserve(m.size());
    r->ids.reserve(m.size());
    r->docs.reserve(m.size());
    for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
      Xapian::Document d = it.get_document();
      ks_xap_hit h;
      h.docid = *it;
      h.score = it.get_weight();
      h.id = NULL;
      h.id_len = 0;
      r->ids.push_back(d.get_value(kIdSlot));
      r->docs.push_back(d);
      r->hits.push_back(h);
    }
    r->lower = m.get_matches_lower_bound();
    r->estimated = m.get_matches_estimated();
    r->upper = m.get_matches_upper_bound();
    return KS_OK;
  });
  if (rc) {
    free_handle(r);
    return rc;
  }
  *out = r;
  return KS_OK;
}

/* Contract: ks_xap.h. */
extern "C" size_t ks_xap_results_count(const ks_xap_results *r) {
  return r ? r->hits.size() : 0;
}

/* Contract: ks_xap.h. */
extern "C" void ks_xap_results_matches(const ks_xap_results *r, uint64_t *lower,
                                       uint64_t *estimated, uint64_t *upper) {
  if (lower) *lower = r ? r->lower : 0;
  if (estimated) *estimated = r ? r->estimated : 0;
  if (upper) *upper = r ? r->upper : 0;
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_results_hit(const ks_xap_results *r, size_t i,
                                  ks_xap_hit *hit) {
  if (!r || !hit || i >= r->hits.size()) return KS_EINVAL;
  *hit = r->hits[i];
  hit->id = r->ids[i].data();
  hit->id_len = r->ids[i].size();
  return KS_OK;
}

/* Contract: ks_xap.h. */
extern "C" int ks_xap_results_json(ks_xap_results *r, size_t i, char **json,
                                   size_t *len, ks_err *err) {
  if (json) *json = NULL;
  if (len) *len = 0;
  if (!r || !json || i >= r->hits.size())
    return ks_err_set(err, KS_EINVAL, "[xap][doc_json] hit %zu out of range",
                      i);
  return guarded(err, "doc_json", r->ids[i].c_str(), [&]() -> int {
    copy_out(r->docs[i].get_data(), json, len);
    return KS_OK;
  });
}

/* Contract: ks_xap.h. */
extern "C" void ks_xap_results_free(ks_xap_results *r) { free_handle(r); }

/* ---- by id, check ------------------------------------------------------------ */

/* Contract: ks_xap.h. The id term finds the candidates; the id in value
 * slot 0 decides (a hashed id term may be shared by two long ids). */
extern "C" int ks_xap_get(ks_xap_db *db, const char *id, size_t id_len,
                          char **json, size_t *len, ks_err *err) {
  if (json) *json = NULL;
  if (len) *len = 0;
  if (!db || !id || !json || id_len == 0 || id_len > KS_XAP_MAX_ID)
    return ks_err_set(err, KS_EINVAL, "[xap][get] bad argument");
  return guarded(err, "get", db->label.c_str(), [&]() -> int {
    std::string t;
    make_id_term(t, id, id_len);
    for (Xapian::PostingIterator p = db->db.postlist_begin(t);
         p != db->db.postlist_end(t); ++p) {
      Xapian::Document d = db->db.get_document(*p);
      if (d.get_value(kIdSlot) != std::string(id, id_len)) continue;
      copy_out(d.get_data(), json, len);
      return KS_OK;
    }
    return ks_err_set(err, KS_NOTFOUND, "[xap][get] %s: no document with id '%.*s'",
                      db->label.c_str(), (int)(id_len > 200 ? 200 : id_len), id);
  });
}

/* Contract: ks_xap.h. Xapian::Database::check walks every table; its
 * report goes line by line to `report`. */
extern "C" int ks_xap_check(const char *path,
                            void (*report)(void *ctx, const char *line),
                            void *ctx, ks_err *err) {
  if (!path || !*path) return ks_err_set(err, KS_EINVAL, "[xap][check] no path");
  return guarded(err, "check", path, [&]() -> int {
    std::ostringstream out;
    size_t errors = Xapian::Database::check(std::string(path), 0, &out);
    if (report) {
      std::istringstream in(out.str());
      std::string line;
      while (std::getline(in, line))
        if (!line.empty()) report(ctx, line.c_str());
    }
    if (errors)
      return ks_err_set(err, KS_ECORRUPT, "[xap][check] %s: %zu error%s found by Xapian's check",
                        path, errors, errors == 1 ? "" : "s");
    return KS_OK;
  });
}
