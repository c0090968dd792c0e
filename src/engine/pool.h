/* SPDX-License-Identifier: MIT */
/* The connection pool (SQLAlchemy's QueuePool, NullPool, StaticPool): keeps
 * driver connections, hands them out in FIFO order of asking, opens
 * overflow connections under load, recycles, pre-pings, resets on return
 * and counts everything. */
#ifndef CALX_ENGINE_POOL_H
#define CALX_ENGINE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "calx/engine.h"
#include "calx/future.h"
#include "driver/driver.h"

typedef struct calx_pool calx_pool;

/* A pooled connection (SQLAlchemy's _ConnectionRecord). */
typedef struct calx_pconn {
    calx_pool *pool;
    calx_dconn *dconn;
    uint64_t created_ms;       /* loop clock at open, for pool_recycle */
    unsigned generation;       /* the pool generation it was opened in */
    bool invalidated;          /* close instead of pooling on return */
    uint64_t idle_since_ms;    /* loop clock when it last came back idle */
    unsigned id;               /* for echo_pool */
    bool dirty;                /* a transaction may be open: reset on return */
    struct calx_pconn *next, *prev; /* idle list */
} calx_pconn;

typedef struct calx_pool_config {
    calx_loop *loop;
    const calx_driver *driver;
    const calx_url *url;               /* owned by the engine */
    const calx_kv *connect_args;       /* owned by the engine */
    size_t nconnect_args;
    const char *isolation_level;       /* owned by the engine */
    calx_poolclass kind;               /* resolved: QUEUE, NULL or STATIC */
    int size;
    int max_overflow;                  /* -1 unlimited */
    uint64_t timeout_ms;
    uint64_t recycle_ms;               /* 0: never */
    uint64_t overflow_idle_ms;         /* how long a connection above size stays
                                          idle; 0: closed on return */
    bool pre_ping;
    bool reset_rollback;
    bool use_lifo;
    bool echo;                         /* echo_pool */
    calx_log_fn log;
    void *log_udata;
    void (*on_empty)(void *ctx);       /* called when a freed pool has no connection out */
    void *on_empty_ctx;
} calx_pool_config;

/* A new pool; NULL on no memory. Opens nothing. */
calx_pool *calx__pool_new(const calx_pool_config *cfg);

/* A future whose value is a calx_pconn * checked out to the caller (given
 * back with calx__pool_checkin; a value nobody takes goes back by itself). */
calx_future *calx__pool_checkout(calx_pool *p, calx_error *err);

/* The default of calx_engine_opts.pool_overflow_idle, in seconds. */
#define CALX_POOL_OVERFLOW_IDLE_S 1.0

/* Returns pc: reset (rollback), then to the first waiter, the idle list, or
 * closed (invalidated, older generation, pool freed; above size, once it
 * has been idle overflow_idle_ms, or at once when that is 0). */
void calx__pool_checkin(calx_pconn *pc);

/* Marks pc dead: closed rather than pooled when it comes back. */
void calx__pool_invalidate(calx_pconn *pc, const char *reason);

/* Closes idle connections; those out now close on return. */
void calx__pool_dispose(calx_pool *p);

/* Disposes the pool, fails its waiters with CALX_ERR_CLOSED, and frees it
 * once nothing is checked out or in flight (on_empty is then called). */
void calx__pool_free(calx_pool *p);

void calx__pool_read_stats(const calx_pool *p, calx_pool_stats *out);
/* SQLAlchemy's status() text; malloc'd, the caller frees it. */
char *calx__pool_status(const calx_pool *p);

#endif
