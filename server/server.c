/*
 * server.c - implements server.h: the life of `kosearch serve`. Startup
 * (API key, writer, first snapshot, listening socket, libmicrohttpd
 * daemon with its limits), the refresher thread, the access log, signals,
 * and the shutdown order of docs/http.md.
 *
 * Threads: the main thread waits for SIGTERM/SIGINT (sigwait; the signals
 * are blocked in every thread, which inherit the mask from here);
 * libmicrohttpd's pool of opts.threads threads runs the requests; the
 * refresher commits pending writes and reopens the index every tick;
 * deadline.c's watchdog enforces the request arrival deadline.
 *
 * Shutdown order (each step relies on the previous):
 *   1. shutting_down = 1: requests that start now get 503;
 *   2. MHD_quiesce_daemon: no new connections;
 *   3. wait (at most SHUTDOWN_WAIT_S) for the requests in flight;
 *   4. stop the refresher, then the daemon (joins its threads), then the
 *      watchdog;
 *   5. commit pending writes and close the writer (releases the LOCK);
 *   6. close the snapshot.
 */
#include "server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SHUTDOWN_WAIT_S 30
#define LOG_PATH_MAX 200

/* Contract: server.h. */
void ks_server_opts_default(ks_server_opts *o) {
  memset(o, 0, sizeof *o);
  o->listen = "127.0.0.1:8080";
  o->refresh_ms = 1000;
  o->max_body_bytes = (uint64_t)64 << 20;
  o->max_query_bytes = 4096;
  o->max_hits = 10000;
  o->max_connections = 1024;
  o->idle_timeout_s = 30;
  o->request_timeout_s = 30;
  o->max_header_bytes = 32 << 10;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("kosearch: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

/* ---- access log and request lifetime ------------------------------------------ */

/* MHD_OPTION_URI_LOG_CALLBACK: the request line has arrived; its return
 * value becomes the request's context (*req_cls of the handler). */
static void *request_begin(void *cls, const char *uri, struct MHD_Connection *conn) {
  srv_server *s = cls;
  srv_request *rq = calloc(1, sizeof *rq);
  if (!rq) return NULL;
  rq->uri = strdup(uri ? uri : "");
  if (!rq->uri) {
    free(rq);
    return NULL;
  }
  rq->t0 = srv_http_now();
  rq->conn = conn;
  atomic_fetch_add(&s->in_flight, 1);
  return rq;
}

/* One access-log line: METHOD PATH STATUS MS, control bytes escaped. */
static void log_request(const srv_request *rq, const char *method) {
  char path[LOG_PATH_MAX * 4 + 8];
  size_t j = 0;
  for (size_t i = 0; rq->uri[i] && i < LOG_PATH_MAX; i++) {
    unsigned char c = (unsigned char)rq->uri[i];
    if (c < 0x20 || c == 0x7F || c == ' ') j += (size_t)snprintf(path + j, 5, "%%%02X", c);
    else path[j++] = (char)c;
  }
  path[j] = '\0';
  char status[16] = "-";
  if (rq->status) snprintf(status, sizeof status, "%u", rq->status);
  fprintf(stderr, "%s %s%s %s %.2f\n", method, path, strlen(rq->uri) > LOG_PATH_MAX ? "..." : "",
          status, (srv_http_now() - rq->t0) * 1000.0);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over (answered, or the
 * connection failed). */
static void request_end(void *cls, struct MHD_Connection *conn, void **req_cls,
                        enum MHD_RequestTerminationCode toe) {
  srv_server *s = cls;
  srv_request *rq = *req_cls;
  (void)toe;
  if (!rq) return;
  *req_cls = NULL;
  if (!s->opts.quiet) {
    log_request(rq, rq->method[0] ? rq->method : "-");
  }
  srv_deadlines_busy(s, conn, 0);
  free(rq->uri);
  free(rq->id);
  free(rq->body);
  free(rq);
  atomic_fetch_sub(&s->in_flight, 1);
}

/* The access handler, recording the method for the log first. */
static SRV_MHD_RESULT handle(void *cls, struct MHD_Connection *conn, const char *url,
                            const char *method, const char *version, const char *upload_data,
                            size_t *upload_data_size, void **req_cls) {
  srv_request *rq = *req_cls;
  if (rq && !rq->method[0]) snprintf(rq->method, sizeof rq->method, "%s", method);
  return srv_router_handle(cls, conn, url, method, version, upload_data, upload_data_size, req_cls);
}

/* ---- refresher ------------------------------------------------------------------ */

/* Every tick: commit pending writes once they are refresh_ms old, and
 * reopen the index after a commit or every refresh_ms (to see other
 * processes' commits). Errors are printed once per distinct message. */
static void *refresher(void *arg) {
  srv_server *s = arg;
  unsigned tick_ms = s->opts.refresh_ms / 4;
  if (tick_ms < 5) tick_ms = 5;
  if (tick_ms > s->opts.refresh_ms) tick_ms = s->opts.refresh_ms;
  double last_reopen = srv_http_now();
  char last_msg[256] = "";
  pthread_mutex_lock(&s->stop_lock);
  while (!s->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += tick_ms / 1000;
    ts.tv_nsec += (long)(tick_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &ts);
    if (s->stop) break;
    pthread_mutex_unlock(&s->stop_lock);
    ks_err e;
    ks_err_clear(&e);
    int reopen = srv_http_now() - last_reopen >= s->opts.refresh_ms / 1000.0;
    if (s->writer || s->opts.allow_writes) {
      unsigned long long before = atomic_load(&s->pending);
      int rc = srv_writer_flush(s, 0, &e);
      if (rc) fprintf(stderr, "kosearch: error: commit failed: %s\n", srv_http_strip_tags(e.msg));
      if (before && !atomic_load(&s->pending)) reopen = 1;
    }
    if (reopen) {
      last_reopen = srv_http_now();
      if (srv_snapshot_refresh(s, &e)) {
        if (strncmp(last_msg, e.msg, sizeof last_msg - 1) != 0) {
          fprintf(stderr, "kosearch: warning: cannot reopen the index (still serving the previous commit): %s\n",
                  srv_http_strip_tags(e.msg));
          snprintf(last_msg, sizeof last_msg, "%.255s", e.msg);
        }
      } else {
        last_msg[0] = '\0';
      }
    }
    pthread_mutex_lock(&s->stop_lock);
  }
  pthread_mutex_unlock(&s->stop_lock);
  return NULL;
}

/* ---- startup --------------------------------------------------------------------- */

/* Read the API key: the first line of `path`, trimmed. 0 or 1 (printed). */
static int read_key(srv_server *s, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return fail("--api-key-file %s: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, f);
  fclose(f);
  if (n < 0) n = 0;
  char *p = line ? line : "";
  size_t len = (size_t)n;
  while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
  while (len && (*p == ' ' || *p == '\t')) p++, len--;
  if (!len) {
    free(line);
    return fail("--api-key-file %s: the first line is empty (it must hold the key)", path);
  }
  s->api_key = strndup(p, len);
  s->api_key_len = len;
  free(line);
  return s->api_key ? 0 : fail("out of memory");
}

/* Open a listening TCP socket on "HOST:PORT" ("[v6]:PORT"). Returns the
 * socket (its bound address in *addr) or -1 after a message. */
static int listen_on(const char *spec, struct sockaddr_storage *addr, socklen_t *alen) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec || !colon[1]) {
    fail("--listen %s: expected HOST:PORT (e.g. 127.0.0.1:8080)", spec);
    return -1;
  }
  size_t hl = (size_t)(colon - spec);
  const char *h = spec;
  if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') h = spec + 1, hl -= 2;
  if (hl >= sizeof host) {
    fail("--listen %s: host name too long", spec);
    return -1;
  }
  memcpy(host, h, hl);
  host[hl] = '\0';
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int g = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
  if (g) {
    fail("--listen %s: %s", spec, gai_strerror(g));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 511) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    fail("--listen %s: %s", spec, strerror(err));
    return -1;
  }
  *alen = sizeof *addr;
  getsockname(fd, (struct sockaddr *)addr, alen);
  return fd;
}

/* "HOST:PORT" of a bound address, for the "listening on" line. */
static void addr_text(const struct sockaddr_storage *a, char *buf, size_t n) {
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (a->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
    inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
    port = ntohs(v6->sin6_port);
    snprintf(buf, n, "[%s]:%u", ip, port);
  } else {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
    inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    port = ntohs(v4->sin_port);
    snprintf(buf, n, "%s:%u", ip, port);
  }
}

static unsigned cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

/* Commit pending writes and close the writer (shutdown). 0 or 1. */
static int close_writer(srv_server *s) {
  int rc = 0;
  ks_err e;
  ks_err_clear(&e);
  if (s->writer && srv_writer_flush(s, 1, &e)) {
    fprintf(stderr, "kosearch: error: final commit failed: %s\n", srv_http_strip_tags(e.msg));
    rc = 1;
  }
  ks_writer_close(s->writer); /* may wait for a background merge */
  s->writer = NULL;
  return rc;
}

/* Contract: server.h. */
int ks_server_run(const ks_server_opts *o) {
  srv_server *s = calloc(1, sizeof *s);
  if (!s) return fail("out of memory");
  s->opts = *o;
  if (!s->opts.threads) s->opts.threads = cores();
  pthread_mutex_init(&s->snap_lock, NULL);
  pthread_mutex_init(&s->refresh_lock, NULL);
  pthread_mutex_init(&s->writer_lock, NULL);
  pthread_mutex_init(&s->stop_lock, NULL);
  pthread_cond_init(&s->stop_cond, NULL);
  s->index_label = strdup(o->index ? o->index : "shards");

  /* every thread started from here on inherits this mask */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = 0, lfd = -1;
  ks_err e;
  ks_err_clear(&e);
  if (o->api_key_file && read_key(s, o->api_key_file)) rc = 1;
  if (!rc && o->allow_writes) {
    if (srv_writer_start(s, &e)) {
      rc = fail("%s", srv_http_strip_tags(e.msg));
    } else if (o->create && ks_writer_commit(s->writer, &e)) { /* an empty index */
      rc = fail("%s", srv_http_strip_tags(e.msg));
    }
  }
  if (!rc && srv_snapshot_init(s, &e)) rc = fail("%s", srv_http_strip_tags(e.msg));
  struct sockaddr_storage addr;
  socklen_t alen;
  if (!rc && (lfd = listen_on(o->listen, &addr, &alen)) < 0) rc = 1;
  if (!rc && s->opts.request_timeout_s && srv_deadlines_start(s))
    rc = fail("cannot start a thread: %s", strerror(errno));
  if (!rc) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
    if (!o->quiet) flags |= MHD_USE_ERROR_LOG;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, s, MHD_OPTION_LISTEN_SOCKET, lfd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(s->opts.threads > 1 ? s->opts.threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)o->max_header_bytes,
        MHD_OPTION_URI_LOG_CALLBACK, request_begin, s,
        MHD_OPTION_NOTIFY_COMPLETED, request_end, s,
        MHD_OPTION_NOTIFY_CONNECTION, srv_deadlines_notify, s, MHD_OPTION_END);
    if (!s->daemon) rc = fail("cannot start the HTTP daemon (libmicrohttpd)");
  }
  if (!rc) {
    if (pthread_create(&s->refresher, NULL, refresher, s) != 0)
      rc = fail("cannot start a thread: %s", strerror(errno));
    else
      s->refresher_started = 1;
  }
  if (!rc) {
    char at[INET6_ADDRSTRLEN + 16];
    addr_text(&addr, at, sizeof at);
    /* the first line is exactly "listening on http://HOST:PORT": scripts
     * wait for it and read the address from it */
    fprintf(stderr, "listening on http://%s\n", at);
    fprintf(stderr, "kosearch serve: %s index, %u thread%s, %s\n",
            o->nshards ? "sharded xapian" : (o->writer_backend ? o->writer_backend : "native"),
            s->opts.threads, s->opts.threads == 1 ? "" : "s",
            o->allow_writes ? "writes allowed" : "read-only");
    fflush(stderr);
    int sig = 0;
    sigwait(&sigs, &sig);
    if (!o->quiet) fprintf(stderr, "kosearch: %s: shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&s->shutting_down, 1);
    MHD_socket q = MHD_quiesce_daemon(s->daemon);
    if (q != MHD_INVALID_SOCKET) close(q);
    lfd = -1;
    double t0 = srv_http_now();
    while (atomic_load(&s->in_flight) > 0 && srv_http_now() - t0 < SHUTDOWN_WAIT_S) {
      struct timespec ts = {0, 10 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  if (s->refresher_started) {
    pthread_mutex_lock(&s->stop_lock);
    s->stop = 1;
    pthread_cond_signal(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    pthread_join(s->refresher, NULL);
  }
  if (s->daemon) MHD_stop_daemon(s->daemon);
  else if (lfd >= 0) close(lfd);
  srv_deadlines_stop(s);
  if (close_writer(s)) rc = 1;
  if (s->current) srv_snapshot_shutdown(s);
  free(s->api_key);
  free(s->index_label);
  pthread_cond_destroy(&s->stop_cond);
  pthread_mutex_destroy(&s->stop_lock);
  pthread_mutex_destroy(&s->writer_lock);
  pthread_mutex_destroy(&s->refresh_lock);
  pthread_mutex_destroy(&s->snap_lock);
  free(s);
  return rc;
}
