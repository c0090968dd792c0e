/* SPDX-License-Identifier: MIT */
/* The event loop: calx's libuv adapter. Everything else reaches libuv
 * through evloop.h, so another loop library would need only this file
 * replaced.
 *
 * Shutdown (calx_loop_close) is here too: a loop counts what calx has
 * outstanding on it (holds for other threads' work, thread-pool jobs and
 * name lookups, timers and fd watches until libuv has closed them) and
 * knows its users (engines), so that freeing it can refuse what it cannot
 * finish and run the loop until the rest is done, instead of closing the
 * wake-up handle under a worker thread that is about to post to it. */
#include <stdlib.h>
#include <string.h>

#include "calx/error.h"
#include "calx/loop.h"
#include "core/logging.h"
#include "core/loop_int.h"
#include "core/nomem.h"
#include "core/tasks.h"

/* A loop as loop.c allocates it: the part the core modules share
 * (loop_int.h), then what only shutdown reads. */
typedef struct loop_full {
    calx_loop base;
    uv_timer_t drain_timer;    /* bounds calx_loop_close's drain */
    bool drain_expired;
    calx_loop_user *users;     /* attached users (engines) */
    size_t nhandles;           /* calx timers and fd watches not yet closed by libuv */
    size_t nreqs;              /* name lookups and thread-pool jobs in flight */
    uint64_t io_wakeups;       /* fd watches reported readable (calx__loop_io_wakeups) */
} loop_full;

static loop_full *full(const calx_loop *loop)
{
    return (loop_full *)loop;
}

static _Thread_local calx_loop *default_loop;

/* Runs the deferred work in up to CALX_LOOP_DRAIN_ROUNDS rounds (evloop.h
 * says why), then lets libuv poll. */
static void drain_ready(calx_loop *loop)
{
    loop->inside++;
    for (int round = 0; round < CALX_LOOP_DRAIN_ROUNDS && loop->ready_head; round++) {
        calx_work *w = loop->ready_head;
        loop->ready_head = loop->ready_tail = NULL;
        while (w) {
            calx_work *next = w->next;
            w->next = NULL;
            w->fn(w);
            w = next;
        }
    }
    loop->inside--;
    if (!loop->ready_head)
        uv_idle_stop(&loop->idle);
}

static void on_idle(uv_idle_t *h)
{
    drain_ready(h->data);
}

static void on_async(uv_async_t *h)
{
    calx_loop *loop = h->data;
    uv_mutex_lock(&loop->posted_mu);
    calx_work *w = loop->posted_head;
    loop->posted_head = loop->posted_tail = NULL;
    uv_mutex_unlock(&loop->posted_mu);
    loop->inside++;
    while (w) {
        calx_work *next = w->next;
        w->next = NULL;
        w->fn(w);
        w = next;
    }
    loop->inside--;
}

calx_loop *calx_loop_new(uv_loop_t *uv, calx_error *err)
{
    loop_full *lf = calloc(1, sizeof *lf);
    if (!lf) {
        calx__nomem(err, "making a loop");
        return NULL;
    }
    calx_loop *loop = &lf->base;
    if (uv) {
        loop->uv = uv;
    } else {
        int rc = uv_loop_init(&loop->own_uv);
        if (rc) {
            calx_error_set(err, CALX_ERR_OPERATIONAL, "uv_loop_init: %s", uv_strerror(rc));
            free(lf);
            return NULL;
        }
        loop->uv = &loop->own_uv;
        loop->owns_uv = true;
    }
    uv_mutex_init(&loop->posted_mu);
    uv_async_init(loop->uv, &loop->async, on_async);
    loop->async.data = loop;
    uv_unref((uv_handle_t *)&loop->async);
    uv_idle_init(loop->uv, &loop->idle);
    loop->idle.data = loop;
    uv_timer_init(loop->uv, &lf->drain_timer);
    lf->drain_timer.data = loop;
    return loop;
}

calx_loop *calx_loop_default(void)
{
    if (!default_loop)
        default_loop = calx_loop_new(NULL, NULL);
    return default_loop;
}

int calx_loop_free_default(void)
{
    /* calx_loop_close forgets the default loop once it is freed. */
    return calx_loop_free(default_loop);
}

int calx_loop_run(calx_loop *loop)
{
    if (!loop)
        return CALX_ERR_ARGUMENT; /* no err to fill: the code says it */
    if (loop->inside)
        return CALX_ERR_STATE;
    uv_run(loop->uv, UV_RUN_DEFAULT);
    return 0;
}

/* ---- shutdown ---- */

void calx__loop_attach(calx_loop *loop, calx_loop_user *u)
{
    loop_full *lf = full(loop);
    u->loop = loop;
    u->prev = NULL;
    u->next = lf->users;
    if (lf->users)
        lf->users->prev = u;
    lf->users = u;
}

void calx__loop_detach(calx_loop_user *u)
{
    if (!u->loop)
        return;
    loop_full *lf = full(u->loop);
    if (u->prev)
        u->prev->next = u->next;
    else
        lf->users = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->loop = NULL;
    u->next = u->prev = NULL;
}

/* Something calx started is not finished: a loop freed now would be
 * reached later by a worker thread's post or a libuv callback. */
static bool has_outstanding(const calx_loop *loop)
{
    const loop_full *lf = full(loop);
    /* Posted work is not read here (another thread's): a worker posts only
     * while the loop is held for it. */
    return loop->holds > 0 || lf->nreqs > 0 || lf->nhandles > 0 || loop->ready_head;
}

static void on_drain_expired(uv_timer_t *h)
{
    full(h->data)->drain_expired = true;
}

/* Counts the handles on an owned libuv loop other than calx's own three:
 * after the drain, those the program made through calx_loop_uv. */
typedef struct foreign_count {
    calx_loop *loop;
    size_t n;
} foreign_count;

static void count_foreign(uv_handle_t *h, void *arg)
{
    foreign_count *fc = arg;
    if (h != (uv_handle_t *)&fc->loop->async && h != (uv_handle_t *)&fc->loop->idle &&
        h != (uv_handle_t *)&full(fc->loop)->drain_timer && !uv_is_closing(h))
        fc->n++;
}

/* Runs the loop until calx's outstanding work is done, or the bound is
 * reached. The bound's timer keeps uv_run from returning at once while
 * only an unreferenced handle (a worker's wake-up) has something coming. */
static int drain(calx_loop *loop, calx_error *err)
{
    loop_full *lf = full(loop);
    if (!has_outstanding(loop))
        return 0;
    lf->drain_expired = false;
    uv_update_time(loop->uv);
    uv_timer_start(&lf->drain_timer, on_drain_expired, CALX_LOOP_DRAIN_MS, 0);
    while (has_outstanding(loop) && !lf->drain_expired)
        uv_run(loop->uv, UV_RUN_ONCE);
    uv_timer_stop(&lf->drain_timer);
    if (has_outstanding(loop))
        return calx_error_set(err, CALX_ERR_TIMEOUT,
                              "calx_loop_free: work calx started on the loop was still "
                              "running after %d ms (%d background operations, %zu "
                              "timers or socket watches, %zu lookups or thread-pool "
                              "jobs); the loop was kept: free it again later",
                              CALX_LOOP_DRAIN_MS, loop->holds, lf->nhandles, lf->nreqs);
    return 0;
}

/* Refuses what running the loop cannot finish: a call from inside it, a
 * task, a user (an engine) with something checked out. */
static int check_closable(calx_loop *loop, calx_error *err)
{
    if (loop->inside)
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_loop_free called from inside the loop (a callback or "
                              "a task running on it); free the loop after calx_loop_run "
                              "or calx_wait has returned");
    if (loop->ntasks)
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_loop_free: %zu task(s) on this loop have not finished; "
                              "wait for them (calx_wait) or cancel them first",
                              loop->ntasks);
    for (calx_loop_user *u = full(loop)->users; u; u = u->next) {
        int rc = u->busy(u, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* After the drain, on a libuv loop calx owns: handles the program made on
 * it (calx_loop_uv) would keep uv_loop_close from succeeding, and would
 * point into freed memory. */
static int check_foreign(calx_loop *loop, calx_error *err)
{
    foreign_count fc = { loop, 0 };
    if (loop->owns_uv)
        uv_walk(loop->uv, count_foreign, &fc);
    if (fc.n)
        return calx_error_set(err, CALX_ERR_STATE,
                              "calx_loop_free: %zu libuv handle(s) the program made on the "
                              "loop's own libuv loop (calx_loop_uv) are still open; close "
                              "them first",
                              fc.n);
    return 0;
}

static void on_own_closed(uv_handle_t *h)
{
    calx_loop *loop = h->data;
    loop->closing_handles--;
}

int calx_loop_close(calx_loop *loop, calx_error *err)
{
    if (!loop)
        return 0;
    loop_full *lf = full(loop);
    int rc = check_closable(loop, err);
    if (rc)
        return rc;
    /* Users go first: what they release (connections) is what the drain
     * then waits for. A user freed during the drain finds itself detached. */
    while (lf->users) {
        calx_loop_user *u = lf->users;
        calx__loop_detach(u);
        u->release(u);
    }
    rc = drain(loop, err);
    if (!rc)
        rc = check_foreign(loop, err);
    if (rc)
        return rc;

    if (default_loop == loop)
        default_loop = NULL;
    loop->closing_handles = 3;
    uv_close((uv_handle_t *)&loop->async, on_own_closed);
    uv_close((uv_handle_t *)&loop->idle, on_own_closed);
    uv_close((uv_handle_t *)&lf->drain_timer, on_own_closed);
    /* Close callbacks run in the next iteration's closing phase; NOWAIT
     * because on the program's loop other handles may keep it alive. */
    while (loop->closing_handles > 0)
        uv_run(loop->uv, UV_RUN_NOWAIT);
    if (loop->owns_uv)
        uv_loop_close(loop->uv);  /* nothing is left open: checked above */
    uv_mutex_destroy(&loop->posted_mu);
    calx__task_free_spares(loop);
    free(lf);
    return 0;
}

int calx_loop_free(calx_loop *loop)
{
    calx_error err;
    int rc = calx_loop_close(loop, &err);
    if (rc)
        calx__log_emit(NULL, NULL, CALX_LOG_WARNING, "calx.loop", err.message);
    return rc;
}

uv_loop_t *calx_loop_uv(calx_loop *loop)
{
    return loop ? loop->uv : NULL;
}

uint64_t calx_loop_now(calx_loop *loop)
{
    return uv_now(loop->uv);
}

void calx__loop_defer(calx_loop *loop, calx_work *w)
{
    w->next = NULL;
    if (loop->ready_tail)
        loop->ready_tail->next = w;
    else
        loop->ready_head = w;
    loop->ready_tail = w;
    if (!uv_is_active((uv_handle_t *)&loop->idle))
        uv_idle_start(&loop->idle, on_idle);
}

void calx__loop_post(calx_loop *loop, calx_work *w)
{
    w->next = NULL;
    uv_mutex_lock(&loop->posted_mu);
    if (loop->posted_tail)
        loop->posted_tail->next = w;
    else
        loop->posted_head = w;
    loop->posted_tail = w;
    uv_mutex_unlock(&loop->posted_mu);
    uv_async_send(&loop->async);
}

void calx__loop_hold(calx_loop *loop)
{
    if (loop->holds++ == 0)
        uv_ref((uv_handle_t *)&loop->async);
}

void calx__loop_unhold(calx_loop *loop)
{
    if (--loop->holds == 0)
        uv_unref((uv_handle_t *)&loop->async);
}

bool calx__loop_inside(const calx_loop *loop)
{
    return loop->inside > 0;
}

/* ---- timers ---- */

struct calx_timer {
    uv_timer_t h;
    calx_loop *loop;
    void (*cb)(void *arg);
    void *arg;
};

static void on_timer(uv_timer_t *h)
{
    calx_timer *t = h->data;
    t->loop->inside++;
    t->cb(t->arg);
    t->loop->inside--;
}

calx_timer *calx__timer_new(calx_loop *loop, void (*cb)(void *arg), void *arg)
{
    calx_timer *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    uv_timer_init(loop->uv, &t->h);
    full(loop)->nhandles++;
    t->h.data = t;
    t->loop = loop;
    t->cb = cb;
    t->arg = arg;
    return t;
}

void calx__timer_start(calx_timer *t, uint64_t ms)
{
    uv_timer_start(&t->h, on_timer, ms, 0);
}

void calx__timer_stop(calx_timer *t)
{
    uv_timer_stop(&t->h);
}

void calx__timer_unref(calx_timer *t)
{
    uv_unref((uv_handle_t *)&t->h);
}

static void timer_closed(uv_handle_t *h)
{
    calx_timer *t = h->data;
    full(t->loop)->nhandles--;
    free(t);
}

void calx__timer_free(calx_timer *t)
{
    if (!t)
        return;
    uv_timer_stop(&t->h);
    uv_close((uv_handle_t *)&t->h, timer_closed);
}

/* ---- file descriptors ---- */

struct calx_io {
    uv_poll_t h;
    calx_loop *loop;
    void (*cb)(void *arg, int events);
    void *arg;
};

static void on_poll(uv_poll_t *h, int status, int events)
{
    calx_io *io = h->data;
    int ev = 0;
    if (status < 0) {
        ev = status;
    } else {
        if (events & UV_READABLE) {
            ev |= CALX_IO_READ;
            full(io->loop)->io_wakeups++;
        }
        if (events & UV_WRITABLE)
            ev |= CALX_IO_WRITE;
    }
    io->loop->inside++;
    io->cb(io->arg, ev);
    io->loop->inside--;
}

calx_io *calx__io_new(calx_loop *loop, int fd, void (*cb)(void *arg, int events),
                      void *arg)
{
    calx_io *io = malloc(sizeof *io);
    if (!io)
        return NULL;
    if (uv_poll_init(loop->uv, &io->h, fd) != 0) {
        free(io);
        return NULL;
    }
    full(loop)->nhandles++;
    io->h.data = io;
    io->loop = loop;
    io->cb = cb;
    io->arg = arg;
    return io;
}

int calx__io_set(calx_io *io, int events)
{
    int uvev = 0;
    if (events & CALX_IO_READ)
        uvev |= UV_READABLE;
    if (events & CALX_IO_WRITE)
        uvev |= UV_WRITABLE;
    if (!uvev)
        return uv_poll_stop(&io->h);
    return uv_poll_start(&io->h, uvev, on_poll);
}

uint64_t calx__loop_io_wakeups(const calx_loop *loop)
{
    return loop ? full(loop)->io_wakeups : 0;
}

static void io_closed(uv_handle_t *h)
{
    calx_io *io = h->data;
    full(io->loop)->nhandles--;
    free(io);
}

void calx__io_free(calx_io *io)
{
    if (!io)
        return;
    uv_poll_stop(&io->h);
    uv_close((uv_handle_t *)&io->h, io_closed);
}

void calx__io_ref(calx_io *io, bool ref)
{
    if (ref)
        uv_ref((uv_handle_t *)&io->h);
    else
        uv_unref((uv_handle_t *)&io->h);
}

/* ---- name resolution ---- */

#define CALX_RESOLVE_MAX 16  /* addresses handed back at most */

typedef struct calx_resolving {
    uv_getaddrinfo_t req;
    calx_loop *loop;
    calx_resolve_cb cb;
    void *arg;
} calx_resolving;

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    calx_resolving *r = req->data;
    char bufs[CALX_RESOLVE_MAX][INET6_ADDRSTRLEN];
    const char *addrs[CALX_RESOLVE_MAX];
    size_t n = 0;
    for (struct addrinfo *ai = res; status == 0 && ai && n < CALX_RESOLVE_MAX;
         ai = ai->ai_next) {
        int rc = ai->ai_family == AF_INET6
                     ? uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, bufs[n],
                                   sizeof bufs[n])
                     : ai->ai_family == AF_INET
                           ? uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, bufs[n],
                                         sizeof bufs[n])
                           : -1;
        if (rc != 0)
            continue;
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(bufs[i], bufs[n]) == 0;
        if (!dup) {
            addrs[n] = bufs[n];
            n++;
        }
    }
    uv_freeaddrinfo(res);
    if (status == 0 && n == 0)
        status = UV_EAI_NODATA;
    r->loop->inside++;
    r->cb(r->arg, status, status ? uv_strerror(status) : NULL, addrs, status ? 0 : n);
    r->loop->inside--;
    full(r->loop)->nreqs--;
    free(r);
}

int calx__resolve(calx_loop *loop, const char *host, calx_resolve_cb cb, void *arg)
{
    calx_resolving *r = malloc(sizeof *r);
    if (!r)
        return UV_ENOMEM;
    r->loop = loop;
    r->cb = cb;
    r->arg = arg;
    r->req.data = r;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int rc = uv_getaddrinfo(loop->uv, &r->req, on_resolved, host, NULL, &hints);
    if (rc != 0)
        free(r);
    else
        full(loop)->nreqs++;
    return rc;
}

/* ---- blocking calls on the thread pool ---- */

typedef struct calx_pool_job {
    uv_work_t req;
    calx_loop *loop;
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
} calx_pool_job;

static void job_work(uv_work_t *req)
{
    calx_pool_job *j = req->data;
    j->work(j->arg);
}

static void job_done(uv_work_t *req, int status)
{
    (void)status;  /* never cancelled: calx does not call uv_cancel */
    calx_pool_job *j = req->data;
    j->loop->inside++;
    j->done(j->arg);
    j->loop->inside--;
    full(j->loop)->nreqs--;
    free(j);
}

int calx__loop_work(calx_loop *loop, void (*work)(void *arg), void (*done)(void *arg),
                    void *arg)
{
    calx_pool_job *j = malloc(sizeof *j);
    if (!j)
        return UV_ENOMEM;
    j->req.data = j;
    j->loop = loop;
    j->work = work;
    j->done = done;
    j->arg = arg;
    int rc = uv_queue_work(loop->uv, &j->req, job_work, job_done);
    if (rc != 0)
        free(j);
    else
        full(loop)->nreqs++;
    return rc;
}
