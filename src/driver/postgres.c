/* SPDX-License-Identifier: MIT */
/* The PostgreSQL driver: libpq's non-blocking API on the loop thread.
 *
 * This file is the driver interface (driver.h) and the connection's life
 * around its requests: a request handed to its pipeline, interrupts and
 * the timeouts that keep a request from waiting forever, the socket watch
 * between and during requests, deferred completions, alive(), close and
 * freeing. What a request does on the wire is pg_pipeline.c's; the
 * driver's other files are pg_connect.c (options, name lookup, the
 * non-blocking connect), pg_params.c (calx values as libpq parameters),
 * pg_prepare.c (the prepared-statement cache), pg_result.c (SQLSTATE
 * classes, values decoded by column type) and pg_error.c (the request's
 * error). All of it runs on the loop thread (pg_int.h).
 *
 * A lost connection (PQstatus CONNECTION_BAD, or SQLSTATE 57P01-57P03 /
 * class 08) fails the request in flight with CALX_ERR_DISCONNECT, and
 * alive() says false from then on. Between requests the socket stays
 * watched (without keeping the loop alive), so a server that hangs up on
 * an idle pooled connection is noticed before the connection is handed
 * out again.
 *
 * Nothing waits forever on a server that stopped answering: with
 * command_timeout set, a request that runs longer is cancelled on the
 * server (PQcancel, as an interrupt is) and fails with CALX_ERR_TIMEOUT;
 * a server that answers neither the request nor the cancel within the same
 * time again (CALX_PG_CANCEL_GRACE_S after an interrupt when no
 * command_timeout is set) costs the connection: the request fails at once,
 * alive() says false, and the pool replaces it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/nomem.h"
#include "driver/pg_int.h"

static void on_req_timer(void *arg);

/* A timer's milliseconds for s seconds. */
static uint64_t seconds_ms(double s)
{
    return (uint64_t)(s * 1000.0 + 0.5);
}

/* ---- the socket watch ---- */

void calx__pg_watch(pg_conn *c, int events, bool ref)
{
    int fd = c->pg ? PQsocket(c->pg) : -1;
    /* A watch on a socket libpq has closed must go now, before the fd
     * number can come back as another socket. */
    if (c->io && fd != c->io_fd) {
        calx__io_free(c->io);
        c->io = NULL;
    }
    if (fd < 0)
        return;
    if (!c->io) {
        if (!events)
            return;
        c->io = calx__io_new(c->base.loop, fd, calx__pg_on_io, c);
        if (!c->io)
            return;
        c->io_fd = fd;
        c->io_events = 0;
        c->io_ref = true;
    }
    if (events != c->io_events) {
        if (calx__io_set(c->io, events) != 0) {
            calx__io_free(c->io);
            c->io = NULL;
            return;
        }
        c->io_events = events;
    }
    if (ref != c->io_ref) {
        calx__io_ref(c->io, ref);
        c->io_ref = ref;
    }
}

/* Drops the socket watch (before the socket goes, or for good). */
void calx__pg_unwatch(pg_conn *c)
{
    calx__io_free(c->io);
    c->io = NULL;
}

/* ---- deferred completions ---- */

/* A completion queued by calx__pg_defer, on the loop's next turn. */
static void on_deferred(calx_work *w)
{
    pg_conn *c = (pg_conn *)((char *)w - offsetof(pg_conn, deferred));
    c->deferred_queued = false;
    if (c->closing) {
        if (c->cancel_jobs == 0)
            calx__pg_free(c);
        return;
    }
    if (c->deferred_is_connect) {
        calx__pg_connect_deferred(c);
    } else if (c->deferred_read) {
        c->deferred_read = false;
        calx__pg_pump(c, CALX_IO_READ);
    } else {
        calx__pg_complete(c);
    }
}

void calx__pg_defer(pg_conn *c, bool is_connect)
{
    c->deferred_is_connect = is_connect;
    c->deferred_read = false;
    c->deferred_queued = true;
    c->deferred.fn = on_deferred;
    calx__loop_defer(c->base.loop, &c->deferred);
}

/* ---- freeing ---- */

void calx__pg_free(pg_conn *c)
{
    if (!c)
        return;
    calx__pg_unwatch(c);
    calx__timer_free(c->timer);
    calx__timer_free(c->req_timer);
    if (c->pg)
        PQfinish(c->pg);  /* sends Terminate without blocking: the socket is non-blocking */
    for (size_t i = 0; i < c->nkv; i++) {
        free(c->keys[i]);
        free(c->vals[i]);
    }
    free(c->keys);
    free(c->vals);
    for (size_t i = 0; i < c->nhosts; i++) {
        free(c->hosts[i].name);
        free(c->hosts[i].port);
        for (size_t k = 0; k < c->hosts[i].naddrs; k++)
            free(c->hosts[i].addrs[k]);
        free(c->hosts[i].addrs);
        free(c->hosts[i].error);
    }
    free(c->hosts);
    for (size_t i = 0; i < c->ncached; i++)
        calx__pg_cached_free(c->cache[i]);
    free(c->cache);
    free(c->dealloc);
    free(c->cmds);
    calx__pg_free_rsets(c);
    free(c->rsets);
    free(c->scratch);
    free(c->pvals);
    free(c->plens);
    free(c->pfmts);
    free(c->ptypes);
    free(c);
}

/* ---- socket events ---- */

/* Reads what the server sent between requests, without blocking: a
 * notification (dropped), or its last words and its hang-up (a restart,
 * pg_terminate_backend). The second read finds the end of the stream that
 * follows a FATAL message. Marks the connection dead when it is gone. */
static void probe(pg_conn *c)
{
    if (c->dead || !c->pg)
        return;
    /* One peek says whether anything waits at all: the common case,
     * nothing, costs a single syscall. */
    int fd = PQsocket(c->pg);
    char byte;
    c->stats.probes++;
    if (fd >= 0 && recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
        (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    for (int i = 0; i < 2; i++) {
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
            c->dead = true;
            calx__pg_unwatch(c);
            return;
        }
        PGnotify *n;
        while ((n = PQnotifies(c->pg)) != NULL)  /* also parses what came */
            PQfreemem(n);
    }
}

void calx__pg_on_io(void *arg, int events)
{
    pg_conn *c = arg;
    if (events < 0)
        c->io_events = 0;  /* libuv stops a watch that reports an error */
    if (c->connecting) {
        calx__pg_connect_io(c, events);
        return;
    }
    if (c->busy && c->sent) {
        calx__pg_pump(c, events);
        return;
    }
    if (c->nahead && !c->busy) {
        calx__pg_read_ahead(c);
        return;
    }
    probe(c);
    if (!c->dead && !c->busy)
        calx__pg_watch(c, CALX_IO_READ, false);
}

/* ---- the driver interface ---- */

int calx__pg_ready(pg_conn *c, calx_error *err)
{
    if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
        char msg[300];
        calx__pg_trim_copy(msg, sizeof msg, PQerrorMessage(c->pg));
        return calx_error_set(err, CALX_ERR_OPERATIONAL,
                              "cannot put the PostgreSQL connection in non-blocking "
                              "pipeline mode: %s",
                              msg);
    }
    c->stats.backend_pid = PQbackendPID(c->pg);
    c->notice[0] = '\0';
    c->req_timer = calx__timer_new(c->base.loop, on_req_timer, c);
    if (!c->req_timer)
        return calx__nomem(err, "making a timer");
    calx__pg_watch(c, CALX_IO_READ, false);
    if (!c->io)
        return calx_error_set(err, CALX_ERR_OPERATIONAL,
                              "cannot watch the PostgreSQL connection's socket");
    return 0;
}

/* The driver's request: validates req (CALX_ERR_ARGUMENT), refuses a
 * closed connection (CALX_ERR_CLOSED) or a busy one (CALX_ERR_BUSY), and
 * otherwise sends its pipeline; cb runs once, later, on the loop thread,
 * with the rowsets (the callee owns them) or the error. req must live until
 * then; the driver copies the parameters into libpq's buffer as it sends. */
static int pg_request(calx_dconn *base, const calx_dreq *req, calx_dreq_cb cb, void *udata,
                      calx_error *err)
{
    pg_conn *c = (pg_conn *)base;
    int rc = calx__dreq_check("postgresql", base, req, cb, err);
    if (rc)
        return rc;
    if (c->closing)
        return calx_error_set(err, CALX_ERR_CLOSED, "the PostgreSQL connection is closed");
    if (c->busy)
        return calx_error_set(err, CALX_ERR_BUSY,
                              "the PostgreSQL connection is already running a request");
    c->busy = true;
    c->req = req;
    c->cb = cb;
    c->udata = udata;
    c->cancel_requested = false;
    if (c->dead || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        c->dead = true;
        calx__pg_lost(c);
        calx__pg_defer(c, false);
        return 0;
    }
    if (c->command_timeout_s > 0)
        calx__timer_start(c->req_timer, seconds_ms(c->command_timeout_s));
    if (c->cancel_jobs > 0) {
        /* A cancel for the previous request is still on its way: starting
         * now could let it hit this one. */
        c->start_waiting = true;
        return 0;
    }
    calx__pg_start_request(c);
    return 0;
}

/* A cancel on its way: the PGcancel is the job's own, so the connection
 * may be used (not freed: close waits for cancel_jobs) meanwhile. */
typedef struct cancel_job {
    pg_conn *c;
    PGcancel *cancel;
    char errbuf[256];
} cancel_job;

/* On the thread pool: the blocking PQcancel. */
static void cancel_work(void *arg)
{
    cancel_job *j = arg;
    /* Blocking: connects to the server and sends the cancel request. */
    PQcancel(j->cancel, j->errbuf, (int)sizeof j->errbuf);
}

/* Back on the loop: a request held back by the cancel starts now. */
static void cancel_done(void *arg)
{
    cancel_job *j = arg;
    pg_conn *c = j->c;
    PQfreeCancel(j->cancel);
    free(j);
    c->cancel_jobs--;
    if (c->closing) {
        if (c->cancel_jobs == 0 && !c->deferred_queued)
            calx__pg_free(c);
        return;
    }
    if (c->start_waiting && c->cancel_jobs == 0) {
        c->start_waiting = false;
        calx__pg_start_request(c);
    }
}

/* Asks the server to cancel the request in flight (PQcancel, blocking, so
 * on the thread pool), and bounds the wait for its answer: a server that
 * answers neither the request nor the cancel within the grace (the
 * command_timeout again, else CALX_PG_CANCEL_GRACE_S) is given up by
 * on_req_timer. A request not yet sent fails as cancelled when it starts. */
static void start_cancel(pg_conn *c)
{
    c->cancelling = true;
    calx__timer_start(c->req_timer, seconds_ms(c->command_timeout_s > 0 ? c->command_timeout_s
                                                                     : CALX_PG_CANCEL_GRACE_S));
    if (!c->sent || c->cancel_jobs > 0)
        return;
    cancel_job *j = calloc(1, sizeof *j);
    PGcancel *pc = j ? PQgetCancel(c->pg) : NULL;
    if (!pc) {
        free(j);
        return;  /* the grace still bounds the wait */
    }
    j->c = c;
    j->cancel = pc;
    if (calx__loop_work(c->base.loop, cancel_work, cancel_done, j) != 0) {
        PQfreeCancel(pc);
        free(j);
        return;
    }
    c->cancel_jobs++;
    c->stats.cancels++;
}

/* The server answered neither the request nor its cancel: the connection
 * is given up (alive() says false, so the pool replaces it) and the request
 * fails now, with nothing on the loop left waiting for the server. */
static void give_up(pg_conn *c)
{
    calx_error err;
    calx_error_clear(&err);
    double grace = c->command_timeout_s > 0 ? c->command_timeout_s : CALX_PG_CANCEL_GRACE_S;
    if (!c->timed_out) {
        err.code = CALX_ERR_CANCELED;
        snprintf(err.message, sizeof err.message,
                 "the PostgreSQL server did not answer the cancel within %g s; the "
                 "connection was given up",
                 grace);
    } else if (c->sent) {
        err.code = CALX_ERR_TIMEOUT;
        snprintf(err.message, sizeof err.message,
                 "the PostgreSQL server did not answer: the statement ran longer than "
                 "command_timeout (%g s) and the cancel got no answer in a further %g s; "
                 "the connection was given up",
                 c->command_timeout_s, grace);
    } else {
        err.code = CALX_ERR_TIMEOUT;
        snprintf(err.message, sizeof err.message,
                 "the request could not start within command_timeout (%g s): the PostgreSQL "
                 "server did not answer the cancel of the previous one; the connection was "
                 "given up",
                 c->command_timeout_s);
    }
    c->failed = false;
    calx__pg_fail(c, &err);
    c->dead = true;
    c->start_waiting = false;
    calx__pg_complete(c);
}

/* req_timer ran out: first command_timeout (the request is cancelled on
 * the server), then the grace for the cancel (the connection is given up). */
static void on_req_timer(void *arg)
{
    pg_conn *c = arg;
    if (c->busy && c->deferred_queued && c->deferred_read) {
        /* The reply of a FETCH sent ahead is read on this loop turn:
         * bound the request once that has run. */
        calx__timer_start(c->req_timer, 1);
        return;
    }
    if (!c->busy || c->closing || c->deferred_queued)
        return;  /* a completion is already on its way */
    if (!c->cancelling && c->sent) {
        c->timed_out = true;
        start_cancel(c);
        return;
    }
    if (!c->cancelling)
        c->timed_out = true;  /* still waiting behind an earlier cancel */
    give_up(c);
}

/* The driver's interrupt: asks the server to cancel the running request.
 * It then fails with CALX_ERR_CANCELED (SQLSTATE 57014), or finishes if it
 * was about to; a server that does not answer the cancel costs the
 * connection (see start_cancel). A request not yet sent fails as cancelled
 * when it starts. Loop thread only; nothing running: no effect. */
static void pg_interrupt(calx_dconn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c || !c->busy || c->closing || c->cancel_requested)
        return;
    c->cancel_requested = true;
    if (!c->cancelling)
        start_cancel(c);  /* else command_timeout's cancel is on its way */
}

/* Between requests this reads what the server sent (without blocking), so
 * that a connection the server hung up on since its last use reads as
 * dead at checkout, and the pool replaces it before anyone sees an error. */
static bool pg_alive(const calx_dconn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c || c->closing)
        return false;
    /* A connection that read a reply under CALX_PG_FRESH_REPLY_NS ago is
     * not probed: a hang-up inside that window is one that could as well
     * have come just after the probe. Fifty tasks sharing a pool hand a
     * connection from one transaction's end to the next one's start
     * within microseconds, every time, and the probe is a syscall. */
    if (!c->busy && !c->connecting && calx__mono_ns() - c->heard_ns >= CALX_PG_FRESH_REPLY_NS)
        probe(c);
    return !c->dead && c->pg && PQstatus(c->pg) == CONNECTION_OK;
}

/* The driver's close: PQfinish (a Terminate message, without blocking)
 * and the memory, now or once a cancel in flight is back. */
static void pg_close(calx_dconn *base)
{
    pg_conn *c = (pg_conn *)base;
    if (!c || c->closing)
        return;
    c->closing = true;
    /* The engine never closes under a running request; should it happen,
     * the request is dropped without a callback. */
    calx__pg_unwatch(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (c->cancel_jobs == 0 && !c->deferred_queued)
        calx__pg_free(c);
}

void calx__pg_conn_stats(const calx_dconn *base, calx_pg_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!base || base->driver != &calx__postgres_driver)
        return;
    const pg_conn *c = (const pg_conn *)base;
    *out = c->stats;
    out->cached = c->ncached;
}

/* The driver's describe (driver.h): nothing to add to an engine's repr. */
static void pg_describe(const calx_url *url, const calx_kv *args, size_t nargs, char *buf,
                        size_t n)
{
    (void)url, (void)args, (void)nargs;
    if (n)
        buf[0] = '\0';
}

const calx_driver calx__postgres_driver = {
    .name = "postgresql",
    .check_options = calx__pg_check_options,
    .describe = pg_describe,
    .connect = calx__pg_connect,
    .request = pg_request,
    .interrupt = pg_interrupt,
    .alive = pg_alive,
    .close = pg_close,
    .command_timeout = true,
};
