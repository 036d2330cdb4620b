/*
 * server.h - `kosearch serve`: an HTTP/JSON server over one index
 * (docs/http.md). The only entry point cli/cmd_serve.c needs.
 *
 * The server uses the public API only (include/kosearch*.h), plus
 * libmicrohttpd and cJSON. Files: server.c (daemon lifecycle, limits,
 * signals, shutdown), router.c (method + path dispatch), read_api.c,
 * write_api.c, snapshot.c (the refreshing snapshot of the index),
 * deadline.c (per-request arrival deadline), http_json.c (JSON answers,
 * query strings, percent-decoding), page.c (the embedded search page).
 */
#ifndef KS_SERVER_H
#define KS_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ks_server_opts {
  const char *index;            /* INDEX path, or NULL with shards */
  const char *const *shards;    /* --shard SPECs (nshards > 0: no index) */
  size_t nshards;
  const char *listen;           /* "HOST:PORT" (default 127.0.0.1:8080) */
  unsigned threads;             /* request threads (0: number of cores) */
  int allow_writes;             /* --allow-writes */
  const char *writer_backend;   /* the index's backend for the writer:
                                   "native" or "xapian" (NULL: native) */
  uint32_t writer_shards;       /* xapian: shards of the layout (0: one
                                   database) */
  int create;                   /* allow_writes and no index yet: create
                                   an empty one */
  const char *api_key_file;     /* NULL: no key needed */
  unsigned refresh_ms;          /* refresher period (>= 1) */
  uint64_t max_body_bytes;      /* largest request body */
  size_t max_query_bytes;       /* longest q */
  uint32_t max_hits;            /* largest k + offset */
  unsigned max_connections;     /* open connections at once */
  unsigned idle_timeout_s;      /* idle connection timeout */
  unsigned request_timeout_s;   /* request arrival deadline (0: none) */
  size_t max_header_bytes;      /* per-connection memory for headers */
  int quiet;                    /* no access log */
} ks_server_opts;

/* Fill *o with the defaults of docs/http.md. */
void ks_server_opts_default(ks_server_opts *o);

/* Open the index (and the writer with allow_writes), listen, print
 * "listening on http://HOST:PORT" on stderr, serve until SIGTERM or
 * SIGINT, then shut down as docs/http.md says. Returns 0 (clean stop), 1
 * (a startup failure or a failed final commit: message printed on stderr
 * as "kosearch: error: ..."). Blocks SIGTERM/SIGINT/SIGPIPE in the calling
 * thread; call it from the main thread, once. */
int ks_server_run(const ks_server_opts *o);

#endif /* KS_SERVER_H */
