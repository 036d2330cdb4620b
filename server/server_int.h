/*
 * server_int.h - what the files of server/ share: the server state, the
 * per-request state, and the functions each file exports to the others.
 * One banner section per file (its contracts are here; the file's header
 * comment gives its invariants).
 *
 * Names: non-static symbols of server/ are srv_*, never ks_*: the program
 * links libkosearch statically, whose internal (hidden) ks_* symbols share
 * the link's namespace, so a server ks_query_parse would replace the
 * engine's own.
 */
#ifndef KS_SERVER_INT_H
#define KS_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kosearch.h"
#include "server.h"

/* libmicrohttpd >= 0.9.71 returns enum MHD_Result from callbacks. */
#if MHD_VERSION < 0x00097100
#define SRV_MHD_RESULT int
#else
#define SRV_MHD_RESULT enum MHD_Result
#endif

typedef struct srv_snapshot srv_snapshot;
typedef struct srv_deadlines srv_deadlines;

/* The whole server. Fields after `opts` are set up by server.c before the
 * daemon starts and torn down after it stops. */
typedef struct srv_server {
  ks_server_opts opts;
  char *index_label;            /* index path or "shards" (for /stats) */
  char *api_key;                /* NULL: writes need no key */
  size_t api_key_len;

  /* snapshot.c */
  pthread_mutex_t snap_lock;    /* guards `current` and every refcount */
  pthread_mutex_t refresh_lock; /* one reopen at a time */
  srv_snapshot *current;         /* the snapshot new requests use */

  /* write_api.c: the writer, behind writer_lock */
  pthread_mutex_t writer_lock;
  ks_writer *writer;            /* NULL without --allow-writes */
  const char *writer_backend;   /* backend of the writer ("native", "xapian") */
  uint32_t writer_shards;
  atomic_ullong pending;        /* writes accepted since the last commit
                                   (changed under writer_lock, read freely) */
  double first_pending;         /* clock when pending became non-zero */

  /* server.c */
  struct MHD_Daemon *daemon;
  atomic_int shutting_down;     /* 1 once a stop signal arrived */
  atomic_long in_flight;        /* requests begun and not yet completed */
  pthread_t refresher;
  int refresher_started;
  pthread_mutex_t stop_lock;    /* with stop_cond: wakes the refresher */
  pthread_cond_t stop_cond;
  int stop;                     /* the refresher must exit (stop_lock) */
  srv_deadlines *deadlines;      /* deadline.c (NULL: no request timeout) */
} srv_server;

/* Routes (router.c). */
enum {
  ROUTE_NONE = 0,
  ROUTE_PAGE,
  ROUTE_SEARCH,
  ROUTE_DOC,        /* /docs/{id} */
  ROUTE_DOCS,       /* /docs */
  ROUTE_ANALYZE,
  ROUTE_STATS,
  ROUTE_HEALTH,
  ROUTE_COMMIT
};

/* One request: created by the URI log callback (server.c) when the
 * request line has arrived, freed when the request completes. */
typedef struct srv_request {
  char *uri;                /* raw request target as received (heap) */
  double t0;                /* monotonic clock at the request line */
  char method[16];          /* for the access log ("" until known) */
  unsigned status;          /* status of the answer queued (0: none) */
  int route;                /* ROUTE_*, set on the first handler call */
  int started;              /* the handler saw this request's headers */
  int answered;             /* an answer is queued: discard further body */
  int too_large;            /* the body passed the limit: discard it, then 413 */
  uint64_t discarded;       /* body bytes discarded so far */
  char *id;                 /* ROUTE_DOC: decoded id (heap) */
  size_t id_len;
  char *body;               /* request body so far (heap) */
  size_t body_len, body_cap;
  struct MHD_Connection *conn;
} srv_request;

/* A decoded query string: pairs of NUL-terminated strings (heap). */
typedef struct srv_query {
  char **name, **value;
  size_t *value_len;        /* bytes of value (it has no NUL inside) */
  size_t n;
} srv_query;

/* ==== http_json.c ========================================================= */

/* Queue `body` (heap, taken over: freed by libmicrohttpd) as the answer
 * with `status` and content type `ctype` (NULL: application/json). Sets
 * rq->status and rq->answered. Returns MHD_YES, or MHD_NO when the answer
 * could not be queued (libmicrohttpd then closes the connection). */
SRV_MHD_RESULT srv_http_send(srv_request *rq, unsigned status, char *body, size_t len,
                           const char *ctype);

/* Queue the JSON of `o` (taken over, deleted here). NULL o: 500. */
struct cJSON;
SRV_MHD_RESULT srv_http_send_json(srv_request *rq, unsigned status, struct cJSON *o);

/* Queue {"error":{"code","message"}} with `status`; the message is
 * printf-formatted. `code` is the string of docs/http.md for the status
 * (srv_http_code). Adds "Allow: allow" when allow is non-NULL (405). */
SRV_MHD_RESULT srv_http_error(srv_request *rq, unsigned status, const char *allow,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The error code string of an HTTP status (docs/http.md); "internal" for
 * any status without one. */
const char *srv_http_code(unsigned status);

/* The status for an engine rc: 400 for KS_EQUERY/KS_EINVAL/KS_EINPUT/
 * KS_EUTF8/KS_ELIMIT, 404 for KS_NOTFOUND, else 500. */
unsigned srv_http_status_of(int rc);

/* A library message without its leading "[component][operation] " tags
 * (a pointer into msg). */
const char *srv_http_strip_tags(const char *msg);

/* Percent-decode s[0, n) into a new heap string *out (NUL-terminated,
 * length *out_len). plus_is_space: '+' decodes to ' ' (query strings).
 * Returns 0; -1 for a '%' not followed by two hex digits, -2 for a
 * decoded NUL byte, -3 for bytes that are not valid UTF-8, -4 out of
 * memory (*out = NULL on failure). */
int srv_http_decode(const char *s, size_t n, int plus_is_space, char **out, size_t *out_len);

/* Parse the query string s[0, n) (without '?') into *q. Returns 0, or a
 * srv_http_decode failure code (-1..-4), or -5 for a parameter given twice;
 * *bad (out, heap: free it; NULL when none) names the offending
 * parameter. Free q with srv_query_free. */
int srv_query_parse(const char *s, size_t n, srv_query *q, char **bad);
void srv_query_free(srv_query *q);

/* The value of parameter `name` (NULL when absent). */
const char *srv_query_get(const srv_query *q, const char *name, size_t *len);

/* The first parameter of q not in the NULL-terminated list `known`, or
 * NULL when all are known. */
const char *srv_query_unknown(const srv_query *q, const char *const *known);

/* Human text for a srv_http_decode / srv_query_parse failure code. */
const char *srv_http_decode_error(int code);

/* Monotonic clock in seconds. */
double srv_http_now(void);

/* ==== router.c ============================================================= */

/* The libmicrohttpd access handler (MHD_AccessHandlerCallback), cls = the
 * srv_server. Routes, checks method, writes, auth, media type and body
 * size, collects the body, and calls the endpoint. */
SRV_MHD_RESULT srv_router_handle(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **req_cls);

/* ==== read_api.c ============================================================ */

/* GET /search, /docs/{id}, /analyze, /stats, /health: queue the answer. */
SRV_MHD_RESULT srv_api_search(srv_server *s, srv_request *rq, const srv_query *q);
SRV_MHD_RESULT srv_api_get_doc(srv_server *s, srv_request *rq);
SRV_MHD_RESULT srv_api_analyze(srv_server *s, srv_request *rq, const srv_query *q);
SRV_MHD_RESULT srv_api_stats(srv_server *s, srv_request *rq);
SRV_MHD_RESULT srv_api_health(srv_server *s, srv_request *rq);

/* ==== write_api.c =========================================================== */

/* PUT /docs/{id} (rq->body: one JSON object), POST /docs (JSON Lines),
 * DELETE /docs/{id}, POST /commit: queue the answer. */
SRV_MHD_RESULT srv_api_put_doc(srv_server *s, srv_request *rq);
SRV_MHD_RESULT srv_api_post_docs(srv_server *s, srv_request *rq);
SRV_MHD_RESULT srv_api_delete_doc(srv_server *s, srv_request *rq);
SRV_MHD_RESULT srv_api_commit(srv_server *s, srv_request *rq);

/* 1 when `header` (the Authorization value, may be NULL) carries the API
 * key ("Bearer KEY"), compared in time independent of the key's bytes;
 * 1 when no key is configured. */
int srv_api_authorized(const srv_server *s, const char *header);

/* Open the writer on the index (KS_WRITER_UPDATE). 0, or -1 with *e set. */
int srv_writer_start(srv_server *s, ks_err *e);

/* Commit pending writes if any (writer_lock taken inside). 0 (nothing to
 * do, or committed), or the rc of a failed commit with *e set (the writer
 * was then reopened: the uncommitted writes are lost). force: commit even
 * when the refresh period has not passed yet. */
int srv_writer_flush(srv_server *s, int force, ks_err *e);

/* ==== snapshot.c ============================================================ */

/* Open the index (opts.index or opts.shards) as the first snapshot. 0, or
 * an rc with *e set. */
int srv_snapshot_init(srv_server *s, ks_err *e);

/* Take a handle on the current snapshot for this request: *snap and *db
 * (out). Returns 0 or an rc (ks_db_dup failed) with *e set. Give both back
 * with srv_snapshot_release, from any thread. */
int srv_snapshot_acquire(srv_server *s, srv_snapshot **snap, ks_db **db, ks_err *e);
void srv_snapshot_release(srv_server *s, srv_snapshot *snap, ks_db *db);

/* Move to the index's latest commit (ks_db_reopen); in-flight requests keep
 * their snapshot. Returns 0 (moved, or nothing new) or an rc with *e set
 * (the current snapshot stays). */
int srv_snapshot_refresh(srv_server *s, ks_err *e);

/* Close the current snapshot (at shutdown, after the daemon stopped). */
void srv_snapshot_shutdown(srv_server *s);

/* ==== deadline.c ============================================================ */

/* Start the watchdog closing connections whose request has not arrived
 * within opts.request_timeout_s. 0 or -1 (errno). */
int srv_deadlines_start(srv_server *s);
void srv_deadlines_stop(srv_server *s);

/* libmicrohttpd's connection notification (MHD_NotifyConnectionCallback). */
void srv_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                         enum MHD_ConnectionNotificationCode code);

/* The connection's request has fully arrived (busy = 1: the deadline no
 * longer applies) or its answer was sent (busy = 0: the clock restarts). */
void srv_deadlines_busy(srv_server *s, struct MHD_Connection *conn, int busy);

/* ==== page.c ================================================================ */

/* GET / and /index.html: the embedded page. */
SRV_MHD_RESULT srv_api_page(srv_server *s, srv_request *rq);

#endif /* KS_SERVER_INT_H */
