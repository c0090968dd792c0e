/* SPDX-License-Identifier: MIT */
/* The connection pool. Checkouts that find nothing free wait in one FIFO
 * queue; a connection coming back goes to the first waiter before anything
 * else, so no waiter is overtaken and none waits while a connection idles.
 *
 * Counting follows SQLAlchemy's QueuePool: nopen counts connections open
 * or opening, and "overflow" is nopen - size. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/evloop.h"
#include "core/logging.h"
#include "core/number_text.h"
#include "core/nomem.h"
#include "core/promise.h"
#include "core/spares.h"
#include "engine/pool.h"

typedef struct waiter {
    calx_pool *pool;
    calx_future *f;
    uint64_t since;
    struct waiter *next, *prev;
} waiter;

/* Ended waiters a pool keeps (calx_pool.spare_waiters). */
#define POOL_SPARE_WAITERS 16

struct calx_pool {
    calx_pool_config cfg;
    calx_pconn *idle_head, *idle_tail;
    int nidle;
    int nopen;
    int nout;
    int inflight;              /* connects, pings and resets under way */
    int nresetting;            /* of those, resets: connections on their way back */
    waiter *wait_head, *wait_tail;
    int nwait;
    /* One timer for the queue, armed for the first waiter's deadline:
     * every waiter waits timeout_ms from when it joined at the tail, so
     * the queue's order is its deadlines' (a timer per waiter cost a
     * malloc, a libuv handle and its close each time a checkout waited). */
    calx_timer *wait_timer;
    bool wait_armed;
    unsigned generation;
    unsigned next_id;
    bool freed;
    calx_timer *trim;          /* closes idle connections above size (trim_idle) */
    bool trim_armed;
    calx_pool_stats stats;
    /* Waiters' structs kept for the next checkouts that wait (a checkout
     * of a busy pool waits each time: B5's 50 tasks over 15 connections). */
    void *spare_waiters[POOL_SPARE_WAITERS];
    size_t nspare_waiters;
};

static const char *pool_name(const calx_pool *p)
{
    switch (p->cfg.kind) {
    case CALX_POOL_NULL: return "NullPool";
    case CALX_POOL_STATIC: return "StaticPool";
    default: return "QueuePool";
    }
}

static void plog(const calx_pool *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void plog(const calx_pool *p, const char *fmt, ...)
{
    if (!p->cfg.echo)
        return;
    char logger[64], msg[512];
    snprintf(logger, sizeof logger, "calx.pool.impl.%s", pool_name(p));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    calx__log_emit(p->cfg.log, p->cfg.log_udata, CALX_LOG_INFO, logger, msg);
}

static double ms_to_s(uint64_t ms)
{
    return (double)ms / 1000.0;
}

static uint64_t now(const calx_pool *p)
{
    return calx_loop_now(p->cfg.loop);
}

static void maybe_free(calx_pool *p)
{
    if (p->freed && p->nout == 0 && p->inflight == 0 && p->nidle == 0) {
        if (p->cfg.on_empty)
            p->cfg.on_empty(p->cfg.on_empty_ctx);
        calx__timer_free(p->trim);
        calx__timer_free(p->wait_timer);
        calx__spares_free(p->spare_waiters, &p->nspare_waiters, sizeof(waiter));
        free(p);
    }
}

calx_pool *calx__pool_new(const calx_pool_config *cfg)
{
    calx_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = *cfg;
    return p;
}

/* Frees w, which is out of the queue, or keeps it for the next waiter. */
static void waiter_free(calx_pool *p, waiter *w)
{
    if (!calx__spare_give(p->spare_waiters, &p->nspare_waiters, POOL_SPARE_WAITERS, w,
                          sizeof *w))
        free(w);
}

static bool can_open(const calx_pool *p)
{
    switch (p->cfg.kind) {
    case CALX_POOL_NULL:
        return true;
    case CALX_POOL_STATIC:
        return p->nopen < 1;
    default:
        return p->cfg.max_overflow < 0 || p->nopen < p->cfg.size + p->cfg.max_overflow;
    }
}

/* ---- closing ---- */

static void process_waiters(calx_pool *p);

static void close_pc(calx_pconn *pc, const char *why)
{
    calx_pool *p = pc->pool;
    plog(p, "Connection <conn %u> closed (%s)", pc->id, why);
    p->nopen--;
    p->stats.closed++;
    pc->dconn->driver->close(pc->dconn);
    free(pc);
}

/* ---- handing out ---- */

static void hand(calx_pool *p, calx_future *f, calx_pconn *pc)
{
    p->nout++;
    p->stats.checkouts++;
    plog(p, "Connection <conn %u> checked out from pool", pc->id);
    /* A cancelled f gives pc straight back through its destructor. */
    calx__future_resolve(f, pc);
}

typedef struct opening {
    calx_pool *pool;
    calx_future *f;
} opening;

static void on_connected(void *udata, calx_dconn *dc, const calx_error *err)
{
    opening *op = udata;
    calx_pool *p = op->pool;
    calx_future *f = op->f;
    free(op);
    p->inflight--;
    if (err) {
        p->nopen--;
        calx__future_reject(f, err);
        process_waiters(p);
        maybe_free(p);
        return;
    }
    calx_pconn *pc = calloc(1, sizeof *pc);
    if (!pc) {
        p->nopen--;
        dc->driver->close(dc);
        calx__future_rejectf(f, CALX_ERR_NOMEM, "out of memory opening a connection");
        maybe_free(p);
        return;
    }
    pc->pool = p;
    pc->dconn = dc;
    pc->created_ms = now(p);
    pc->generation = p->generation;
    pc->id = ++p->next_id;
    p->stats.opened++;
    plog(p, "Created new connection <conn %u>", pc->id);
    hand(p, f, pc);
    maybe_free(p);
}

static void open_new(calx_pool *p, calx_future *f)
{
    calx_error err;
    opening *op = malloc(sizeof *op);
    if (!op) {
        calx__future_rejectf(f, CALX_ERR_NOMEM, "out of memory opening a connection");
        return;
    }
    op->pool = p;
    op->f = f;
    p->nopen++;
    p->inflight++;
    if (p->cfg.driver->connect(p->cfg.loop, p->cfg.url, p->cfg.connect_args,
                               p->cfg.nconnect_args, p->cfg.isolation_level,
                               on_connected, op, &err) != 0) {
        free(op);
        p->nopen--;
        p->inflight--;
        calx__future_reject(f, &err);
    }
}

/* A pre-ping under way. Its timer is what is left of the checkout's
 * pool_timeout: a server that stopped answering fails the checkout then,
 * not whenever the driver gives up. */
typedef struct pinging {
    calx_pconn *pc;
    calx_future *f;           /* NULL once the checkout timed out */
    calx_timer *timer;
    calx_dreq req;
} pinging;

/* The least a pre-ping is given, so that a checkout handed a connection
 * just before its pool_timeout ran out does not throw a live connection
 * away for being late. */
#define CALX_POOL_PING_MIN_MS 100

static void on_ping_timeout(void *arg)
{
    pinging *pg = arg;
    calx_pconn *pc = pg->pc;
    calx_pool *p = pc->pool;
    calx__timer_free(pg->timer);
    pg->timer = NULL;
    p->stats.timeouts++;
    calx__pool_invalidate(pc, "pre-ping got no answer within pool_timeout");
    calx__future_rejectf(pg->f, CALX_ERR_TIMEOUT,
                         "pool pre-ping of connection <conn %u> got no answer within "
                         "pool_timeout (%.2f s); the connection is invalidated",
                         pc->id, ms_to_s(p->cfg.timeout_ms));
    pg->f = NULL;
    /* The driver still owes the ping's callback (exactly once): the
     * interrupt makes it come sooner, and on_pinged then closes pc. */
    pc->dconn->driver->interrupt(pc->dconn);
}

static void on_pinged(void *udata, calx_rowset *rs, const calx_error *err)
{
    pinging *pg = udata;
    calx_pconn *pc = pg->pc;
    calx_future *f = pg->f;
    calx_pool *p = pc->pool;
    calx__timer_free(pg->timer);
    free(pg);
    calx__rowset_free(rs);
    p->inflight--;
    if (!f) {
        /* The checkout already failed with a timeout. */
        close_pc(pc, "pre-ping timed out");
        process_waiters(p);
    } else if (err) {
        /* The pre-ping found it dead: replace it with a fresh one. */
        plog(p, "Pool pre-ping on connection <conn %u> failed, will invalidate: %s",
             pc->id, err->message);
        p->stats.invalidated++;
        close_pc(pc, "pre-ping failed");
        open_new(p, f);
    } else {
        hand(p, f, pc);
    }
    maybe_free(p);
}

/* Serves f, a checkout that began at since, with a connection that sat
 * idle or was handed over from its checkin, after the liveness, recycle
 * and pre-ping checks. The liveness check is made here only, once a
 * checkout, not again at the checkin before: it is a syscall on both
 * drivers (PostgreSQL reads its socket, SQLite stats its file), and a
 * program opening a session per request paid for two of them a request
 * (a tenth of the hero service's GET on SQLite). A connection that died
 * in use is found here all the same, or fails its reset first. */
static void serve(calx_pool *p, calx_future *f, calx_pconn *pc, uint64_t since)
{
    if (!pc->dconn->driver->alive(pc->dconn)) {
        /* The driver saw it die (a server restart, a file replaced):
         * replace it instead of handing out a connection that can only
         * fail. */
        plog(p, "Connection <conn %u> was lost; replacing it", pc->id);
        p->stats.invalidated++;
        close_pc(pc, "lost");
        open_new(p, f);
        return;
    }
    if (p->cfg.recycle_ms && now(p) - pc->created_ms >= p->cfg.recycle_ms) {
        plog(p, "Connection <conn %u> exceeded timeout; recycling", pc->id);
        p->stats.invalidated++;
        close_pc(pc, "recycled");
        open_new(p, f);
        return;
    }
    if (p->cfg.pre_ping) {
        calx_error err;
        pinging *pg = calloc(1, sizeof *pg);
        calx_timer *t = pg ? calx__timer_new(p->cfg.loop, on_ping_timeout, pg) : NULL;
        if (t) {
            pg->pc = pc;
            pg->f = f;
            pg->timer = t;
            pg->req.op = CALX_DOP_PING;
            p->inflight++;
            if (pc->dconn->driver->request(pc->dconn, &pg->req, on_pinged, pg, &err) == 0) {
                uint64_t used = now(p) - since;
                uint64_t left = used < p->cfg.timeout_ms ? p->cfg.timeout_ms - used : 0;
                calx__timer_start(t, left > CALX_POOL_PING_MIN_MS ? left : CALX_POOL_PING_MIN_MS);
                return;
            }
            p->inflight--;
        }
        calx__timer_free(t);
        free(pg);
        p->stats.invalidated++;
        close_pc(pc, "pre-ping could not start");
        open_new(p, f);
        return;
    }
    hand(p, f, pc);
}

static void unlink_idle(calx_pool *p, calx_pconn *pc);

/* The idle list runs from the longest idle (head) to the most recently
 * returned (tail): FIFO takes the head, LIFO the tail, and so does any
 * pool holding more than its size idle, so that the spare connections
 * at the head age out (trim_idle). */
static calx_pconn *pop_idle(calx_pool *p)
{
    bool lifo = p->cfg.use_lifo || p->nidle > p->cfg.size;
    calx_pconn *pc = lifo ? p->idle_tail : p->idle_head;
    unlink_idle(p, pc);
    return pc;
}

static void unlink_idle(calx_pool *p, calx_pconn *pc)
{
    if (pc->prev)
        pc->prev->next = pc->next;
    else
        p->idle_head = pc->next;
    if (pc->next)
        pc->next->prev = pc->prev;
    else
        p->idle_tail = pc->prev;
    pc->next = pc->prev = NULL;
    p->nidle--;
}

static void push_idle(calx_pool *p, calx_pconn *pc)
{
    pc->idle_since_ms = now(p);
    pc->next = NULL;
    pc->prev = p->idle_tail;
    if (p->idle_tail)
        p->idle_tail->next = pc;
    else
        p->idle_head = pc;
    p->idle_tail = pc;
    p->nidle++;
}

/* Whether a checkout finding no idle connection may open one: the pool
 * has room, and no connection on its way back (its rollback-on-return
 * under way) is left over once each checkout already waiting has one.
 * Such a connection is back within a round trip, where opening another
 * costs a connect (a server process forked on PostgreSQL's side, a file
 * and a worker thread on SQLite's) and leaves one more connection open:
 * a program that closes a connection and at once opens a session (a
 * request handler, a loop of transactions) would otherwise pay it. */
static bool may_open(const calx_pool *p)
{
    return can_open(p) && p->nresetting <= p->nwait;
}

/* Serves f, a checkout that began at since, now if a connection is idle
 * or may be opened. */
static bool try_serve(calx_pool *p, calx_future *f, uint64_t since)
{
    if (p->nidle > 0) {
        serve(p, f, pop_idle(p), since);
        return true;
    }
    if (may_open(p)) {
        open_new(p, f);
        return true;
    }
    return false;
}

/* ---- waiting ---- */

static void unlink_waiter(calx_pool *p, waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        p->wait_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        p->wait_tail = w->prev;
    p->nwait--;
    p->stats.wait_seconds += ms_to_s(now(p) - w->since);
    if (!p->wait_head && p->wait_armed) {
        /* Nobody waits: an armed timer would keep the loop running. */
        calx__timer_stop(p->wait_timer);
        p->wait_armed = false;
    }
}

/* Arms the queue's timer for the first waiter's deadline, unless armed
 * already (for the same or an earlier one: a timer that fires early finds
 * nobody due and arms again). */
static void arm_wait_timer(calx_pool *p)
{
    if (p->wait_armed || !p->wait_head)
        return;
    uint64_t due = p->wait_head->since + p->cfg.timeout_ms, t = now(p);
    calx__timer_start(p->wait_timer, due > t ? due - t : 0);
    p->wait_armed = true;
}

static void time_out(calx_pool *p, waiter *w)
{
    unlink_waiter(p, w);
    p->stats.timeouts++;
    char secs[32];
    calx__double_fixed(secs, sizeof secs, 2, ms_to_s(p->cfg.timeout_ms));
    if (p->cfg.kind == CALX_POOL_STATIC)
        calx__future_rejectf(w->f, CALX_ERR_TIMEOUT,
                             "StaticPool connection is in use, connection timed out, "
                             "timeout %s", secs);
    else
        calx__future_rejectf(w->f, CALX_ERR_TIMEOUT,
                             "QueuePool limit of size %d overflow %d reached, connection "
                             "timed out, timeout %s",
                             p->cfg.size, p->cfg.max_overflow, secs);
    waiter_free(p, w);
}

/* The queue's timer: every waiter whose timeout_ms has passed fails, in
 * the order they came. */
static void on_wait_timer(void *arg)
{
    calx_pool *p = arg;
    p->wait_armed = false;
    uint64_t t = now(p);
    while (p->wait_head && p->wait_head->since + p->cfg.timeout_ms <= t)
        time_out(p, p->wait_head);
    arm_wait_timer(p);
}

static void on_wait_cancel(void *arg)
{
    waiter *w = arg;
    calx_pool *p = w->pool;
    unlink_waiter(p, w);
    calx__future_reject(w->f, NULL); /* already cancelled: just let go */
    waiter_free(p, w);
}

static void process_waiters(calx_pool *p)
{
    /* The head waiter is unlinked before try_serve, which then sees one
     * waiter fewer: open for it only while the connections on their way
     * back are fewer than the waiters (each of those serves one). */
    while (p->wait_head && (p->nidle > 0 || (can_open(p) && p->nresetting < p->nwait))) {
        waiter *w = p->wait_head;
        calx_future *f = w->f;
        uint64_t since = w->since;
        unlink_waiter(p, w);
        waiter_free(p, w);
        try_serve(p, f, since);
    }
}

/* ---- the pool's interface ---- */

static void give_back(void *value)
{
    calx__pool_checkin(value);
}

calx_future *calx__pool_checkout(calx_pool *p, calx_error *err)
{
    if (p->freed) {
        calx_error_set(err, CALX_ERR_CLOSED, "the engine has been freed");
        return NULL;
    }
    calx_future *f = calx__future_new(p->cfg.loop);
    if (!f) {
        calx__nomem(err, "checking out a connection");
        return NULL;
    }
    calx__future_set_dtor(f, give_back);
    /* Only serve at once when nobody is queued: waiters go first. */
    if (!p->wait_head && try_serve(p, f, now(p)))
        return f;

    if (!p->wait_timer)
        p->wait_timer = calx__timer_new(p->cfg.loop, on_wait_timer, p);
    waiter *w = p->wait_timer
                    ? calx__spare_take(p->spare_waiters, &p->nspare_waiters, sizeof *w)
                    : NULL;
    if (!w) {
        calx_future_release(f);
        calx__future_reject(f, NULL);
        calx__nomem(err, "checking out a connection");
        return NULL;
    }
    w->pool = p;
    w->f = f;
    w->since = now(p);
    w->prev = p->wait_tail;
    if (p->wait_tail)
        p->wait_tail->next = w;
    else
        p->wait_head = w;
    p->wait_tail = w;
    p->nwait++;
    p->stats.waits++;
    calx__future_set_cancel(f, on_wait_cancel, w);
    arm_wait_timer(p);
    /* Waiters queued for connections on their way back may be more than
     * those connections now: the first of the others gets a new one. */
    process_waiters(p);
    return f;
}

/* Closes the idle connections above the pool's size that have been idle
 * overflow_idle_ms, longest idle first, and waits for the next one. */
static void trim_idle(void *arg)
{
    calx_pool *p = arg;
    p->trim_armed = false;
    uint64_t t = now(p);
    while (p->nidle > p->cfg.size) {
        calx_pconn *pc = p->idle_head;
        uint64_t idle = t - pc->idle_since_ms;
        if (idle < p->cfg.overflow_idle_ms) {
            calx__timer_start(p->trim, p->cfg.overflow_idle_ms - idle);
            p->trim_armed = true;
            return;
        }
        unlink_idle(p, pc);
        close_pc(pc, "overflow");
    }
}

/* Keeps pc, an idle connection above the pool's size, for a while: false
 * when the pool closes such connections at once (or has no timer). */
static bool keep_spare(calx_pool *p, calx_pconn *pc)
{
    if (!p->cfg.overflow_idle_ms)
        return false;
    if (!p->trim) {
        if (!(p->trim = calx__timer_new(p->cfg.loop, trim_idle, p)))
            return false;
        calx__timer_unref(p->trim);   /* upkeep: no reason to keep the loop running */
    }
    push_idle(p, pc);
    if (!p->trim_armed) {
        calx__timer_start(p->trim, p->cfg.overflow_idle_ms);
        p->trim_armed = true;
    }
    return true;
}

/* pc is back from its checkin and reset: give it to a waiter (serve
 * checks it is alive), keep it, or close it. */
static void return_ready(calx_pconn *pc)
{
    calx_pool *p = pc->pool;
    if (p->freed || pc->generation != p->generation || pc->invalidated) {
        close_pc(pc, p->freed ? "engine freed" : "pool disposed or invalidated");
        process_waiters(p);
    } else if (p->wait_head) {
        waiter *w = p->wait_head;
        calx_future *f = w->f;
        uint64_t since = w->since;
        unlink_waiter(p, w);
        waiter_free(p, w);
        serve(p, f, pc, since);
    } else if (p->cfg.kind == CALX_POOL_QUEUE && p->nidle >= p->cfg.size) {
        if (!keep_spare(p, pc))
            close_pc(pc, "overflow");
    } else {
        push_idle(p, pc);
    }
    maybe_free(p);
}

typedef struct resetting {
    calx_pconn *pc;
    calx_dreq req;
} resetting;

static void on_reset(void *udata, calx_rowset *rs, const calx_error *err)
{
    resetting *r = udata;
    calx_pconn *pc = r->pc;
    calx_pool *p = pc->pool;
    free(r);
    calx__rowset_free(rs);
    p->inflight--;
    p->nresetting--;
    if (err)
        calx__pool_invalidate(pc, err->message);
    else
        pc->dirty = false;
    /* inflight went down; return_ready may free the pool, so it goes last. */
    return_ready(pc);
}

void calx__pool_checkin(calx_pconn *pc)
{
    calx_pool *p = pc->pool;
    p->nout--;
    plog(p, "Connection <conn %u> being returned to pool", pc->id);
    if (pc->invalidated || p->cfg.kind == CALX_POOL_NULL || p->freed ||
        pc->generation != p->generation) {
        close_pc(pc, pc->invalidated ? "invalidated" : "not pooled");
        process_waiters(p);
        maybe_free(p);
        return;
    }
    if (p->cfg.reset_rollback && pc->dirty) {
        calx_error err;
        resetting *r = calloc(1, sizeof *r);
        if (r) {
            r->pc = pc;
            r->req.op = CALX_DOP_ROLLBACK;
            p->inflight++;
            p->nresetting++;
            plog(p, "Connection <conn %u> rollback-on-return", pc->id);
            if (pc->dconn->driver->request(pc->dconn, &r->req, on_reset, r, &err) == 0)
                return;
            p->inflight--;
            p->nresetting--;
            free(r);
        }
        calx__pool_invalidate(pc, "could not reset on return");
    }
    return_ready(pc);
}

void calx__pool_invalidate(calx_pconn *pc, const char *reason)
{
    if (pc->invalidated)
        return;
    pc->invalidated = true;
    pc->pool->stats.invalidated++;
    plog(pc->pool, "Invalidate connection <conn %u> (reason: %s)", pc->id, reason);
}

void calx__pool_dispose(calx_pool *p)
{
    if (p->trim_armed) {
        calx__timer_stop(p->trim);
        p->trim_armed = false;
    }
    p->generation++;
    while (p->nidle > 0)
        close_pc(pop_idle(p), "pool disposed");
    plog(p, "Pool disposed.");
}

void calx__pool_free(calx_pool *p)
{
    if (!p)
        return;
    calx__pool_dispose(p);
    p->freed = true;
    while (p->wait_head) {
        waiter *w = p->wait_head;
        calx_future *f = w->f;
        unlink_waiter(p, w);
        waiter_free(p, w);
        calx__future_rejectf(f, CALX_ERR_CLOSED,
                             "the engine was freed while this checkout waited");
    }
    maybe_free(p);
}

void calx__pool_read_stats(const calx_pool *p, calx_pool_stats *out)
{
    *out = p->stats;
    out->size = p->cfg.kind == CALX_POOL_NULL ? 0
              : p->cfg.kind == CALX_POOL_STATIC ? 1 : p->cfg.size;
    out->checked_in = p->nidle;
    out->checked_out = p->nout;
    out->overflow = p->nopen - out->size;
    out->waiting = p->nwait;
}

char *calx__pool_status(const calx_pool *p)
{
    char *s = NULL;
    if (p->cfg.kind == CALX_POOL_QUEUE) {
        if (asprintf(&s, "Pool size: %d  Connections in pool: %d Current Overflow: %d "
                         "Current Checked out connections: %d",
                     p->cfg.size, p->nidle, p->nopen - p->cfg.size,
                     p->nopen - p->nidle) < 0)
            s = NULL;
    } else if (asprintf(&s, "%s", pool_name(p)) < 0) {
        s = NULL;
    }
    return s;
}
