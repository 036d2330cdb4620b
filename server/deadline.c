/*
 * deadline.c - implements the deadline.c section of server_int.h: a total
 * time limit on the arrival of each request (--request-timeout-s).
 *
 * Why: libmicrohttpd's connection timeout (--idle-timeout-s) restarts on
 * every byte, so a client that sends its headers or body one byte a second
 * would keep a connection slot forever. A watchdog thread therefore
 * tracks every connection (libmicrohttpd's connection notification) with
 * the time its current request began - the connection's start, or the end
 * of its previous answer - and shuts down the socket of a connection whose
 * request has not fully arrived within the limit. libmicrohttpd then sees
 * the socket closed and cleans the connection up in its own thread.
 *
 * Invariants:
 *   - the table is touched only under `lock`;
 *   - libmicrohttpd calls the CLOSED notification before it closes the
 *     socket, and the entry leaves the table there, so the watchdog only
 *     ever shuts down a socket that is still this connection's (never a
 *     reused descriptor number);
 *   - a connection whose request has arrived (busy) is never cut: a slow
 *     search or commit is not the client's fault.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "server_int.h"

typedef struct conn_entry {
  struct MHD_Connection *conn;
  int fd;
  double since;               /* start of the current request's arrival */
  int busy;                   /* request arrived: no deadline */
  struct conn_entry *prev, *next;
} conn_entry;

struct srv_deadlines {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  conn_entry *head;
  int stop;
  pthread_t thread;
  double limit;               /* seconds */
};

static void *watchdog(void *arg) {
  srv_server *s = arg;
  srv_deadlines *d = s->deadlines;
  pthread_mutex_lock(&d->lock);
  while (!d->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 250 * 1000000L; /* check four times a second */
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&d->wake, &d->lock, &ts);
    double now = srv_http_now();
    for (conn_entry *c = d->head; c; c = c->next)
      if (!c->busy && c->fd >= 0 && now - c->since > d->limit) {
        shutdown(c->fd, SHUT_RDWR);
        c->busy = 1; /* once is enough */
      }
  }
  pthread_mutex_unlock(&d->lock);
  return NULL;
}

/* Contract: server_int.h. */
int srv_deadlines_start(srv_server *s) {
  srv_deadlines *d = calloc(1, sizeof *d);
  if (!d) return -1;
  pthread_mutex_init(&d->lock, NULL);
  pthread_cond_init(&d->wake, NULL);
  d->limit = s->opts.request_timeout_s;
  s->deadlines = d;
  if (pthread_create(&d->thread, NULL, watchdog, s) != 0) {
    s->deadlines = NULL;
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
    return -1;
  }
  return 0;
}

/* Contract: server_int.h. Called after the daemon stopped (no more
 * notifications). */
void srv_deadlines_stop(srv_server *s) {
  srv_deadlines *d = s->deadlines;
  if (!d) return;
  pthread_mutex_lock(&d->lock);
  d->stop = 1;
  pthread_cond_signal(&d->wake);
  pthread_mutex_unlock(&d->lock);
  pthread_join(d->thread, NULL);
  while (d->head) {
    conn_entry *c = d->head;
    d->head = c->next;
    free(c);
  }
  pthread_cond_destroy(&d->wake);
  pthread_mutex_destroy(&d->lock);
  free(d);
  s->deadlines = NULL;
}

/* Contract: server_int.h. */
void srv_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                         enum MHD_ConnectionNotificationCode code) {
  srv_server *s = cls;
  srv_deadlines *d = s->deadlines;
  if (!d) return;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    conn_entry *c = calloc(1, sizeof *c);
    *socket_context = c;
    if (!c) return; /* untracked: only the idle timeout applies */
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->conn = conn;
    c->fd = ci ? ci->connect_fd : -1;
    c->since = srv_http_now();
    pthread_mutex_lock(&d->lock);
    c->next = d->head;
    if (d->head) d->head->prev = c;
    d->head = c;
    pthread_mutex_unlock(&d->lock);
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    conn_entry *c = *socket_context;
    if (!c) return;
    pthread_mutex_lock(&d->lock);
    if (c->prev) c->prev->next = c->next;
    else d->head = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&d->lock);
    free(c);
    *socket_context = NULL;
  }
}

/* Contract: server_int.h. */
void srv_deadlines_busy(srv_server *s, struct MHD_Connection *conn, int busy) {
  srv_deadlines *d = s->deadlines;
  if (!d) return;
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  conn_entry *c = ci ? ci->socket_context : NULL;
  if (!c) return;
  pthread_mutex_lock(&d->lock);
  c->busy = busy;
  if (!busy) c->since = srv_http_now();
  pthread_mutex_unlock(&d->lock);
}
