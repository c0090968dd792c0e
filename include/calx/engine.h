/* SPDX-License-Identifier: MIT */
/* calx — engines and connection pools (SQLAlchemy's create_async_engine).
 *
 *     calx_engine *engine = calx_create_engine("sqlite+aiosqlite:///app.db",
 *         &(calx_engine_opts){ .echo = true, .pool_size = 5, .max_overflow = 2 },
 *         &err);
 *
 * An engine opens no connection until first use. Options left zero take
 * SQLAlchemy's defaults.
 */
#ifndef CALX_ENGINE_H
#define CALX_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "export.h"
#include "future.h"
#include "log.h"
#include "loop.h"
#include "schema.h"
#include "url.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_engine calx_engine;

typedef enum calx_poolclass {
    CALX_POOL_DEFAULT = 0, /* static for in-memory SQLite, queue otherwise */
    CALX_POOL_QUEUE,       /* QueuePool: pool_size kept + max_overflow more */
    CALX_POOL_NULL,        /* NullPool: open and close per checkout */
    CALX_POOL_STATIC       /* StaticPool: one connection, shared */
} calx_poolclass;

typedef enum calx_reset_on_return {
    CALX_RESET_DEFAULT = 0, /* rollback */
    CALX_RESET_ROLLBACK,
    CALX_RESET_NONE
} calx_reset_on_return;

/* max_overflow values besides a positive count. */
#define CALX_OVERFLOW_UNLIMITED (-1) /* as SQLAlchemy's max_overflow=-1 */
#define CALX_OVERFLOW_NONE (-2)      /* max_overflow=0 (0 means "default") */

/* pool_overflow_idle: a connection above pool_size closes as soon as it
 * is returned, as SQLAlchemy's QueuePool does. */
#define CALX_OVERFLOW_IDLE_NONE (-1.0)

/* query_cache_size: no statement cache, SQLAlchemy's query_cache_size=0
 * (0 means "default" here, as for every option). */
#define CALX_QUERY_CACHE_OFF (-1)

typedef struct calx_engine_opts {
    calx_loop *loop;            /* NULL: calx_loop_default(); outlived by the engine's use */
    bool echo;                  /* log SQL, parameters, BEGIN/COMMIT/ROLLBACK */
    bool echo_pool;             /* log checkouts, check-ins, invalidations */
    int pool_size;              /* 0: 5 */
    int max_overflow;           /* 0: 10; or CALX_OVERFLOW_UNLIMITED / _NONE */
    double pool_timeout;        /* seconds to wait for a connection; 0: 30 */
    double pool_recycle;        /* replace connections older than this (s); 0: never */
    bool pool_pre_ping;         /* test a connection at checkout */
    calx_reset_on_return pool_reset_on_return;
    bool pool_use_lifo;         /* reuse the most recently returned first */
    /* Seconds a connection above pool_size may stay idle before it is
     * closed (0: 1.0; CALX_OVERFLOW_IDLE_NONE: closed on return, as
     * SQLAlchemy's QueuePool). SQLAlchemy closes an overflow connection the
     * moment it comes back to a full pool, so a load that keeps more than
     * pool_size connections busy opens and closes one every few requests
     * (a SQLite connection is a thread and a file; PostgreSQL's, a server
     * process). calx keeps it a while and hands out the most recently
     * returned while there are more than pool_size idle, so the spare
     * ones age out once the load drops. */
    double pool_overflow_idle;
    calx_poolclass poolclass;
    const calx_kv *connect_args;   /* copied by calx_create_engine */
    size_t nconnect_args;
    const char *isolation_level;   /* "SERIALIZABLE", "READ UNCOMMITTED", "AUTOCOMMIT", ...; NULL: driver default */
    double command_timeout;     /* seconds a statement may run (asyncpg's command_timeout);
                                   0: no limit. PostgreSQL: a request running longer is
                                   cancelled on the server and fails with CALX_ERR_TIMEOUT;
                                   a server that answers neither it nor the cancel within
                                   the same time again costs the connection (the request
                                   fails, the pool replaces it). Wins over a
                                   command_timeout in the URL or connect_args. Drivers
                                   without a statement timeout (SQLite) ignore it. */
    calx_log_fn log;            /* NULL: the process-wide handler (log.h) */
    void *log_udata;
    /* SQLAlchemy's query_cache_size: how many statement shapes the engine
     * keeps compiled (0: 500; CALX_QUERY_CACHE_OFF: none). A Core select,
     * insert, update or delete (calx_conn_execute_select and the others)
     * is compiled once per shape, its tables, columns, operators and
     * clauses and the kind of each literal, never its values: running the
     * same shape again with other values compiles nothing, only binds
     * them, and echo says "[cached since 2.1s ago]" instead of "[generated
     * in 0.00012s]". The least recently used shape goes first when the
     * cache is full; with CALX_QUERY_CACHE_OFF echo says "[caching
     * disabled 0.00012s]". (SQL text given as text keeps its own cache of
     * translated placeholders, whatever this says.) */
    int query_cache_size;
    /* Read replicas (docs/replicas.md): the URLs of standbys that stream
     * from the primary (url), each with a pool of its own made with the
     * options above. calx_engine_connect always goes to the primary;
     * calx_engine_connect_replica and sessions' reads go to a replica.
     * Copied by calx_create_engine; nreplicas of them (NULL with 0: none).
     * Each must name the same database as url; a database without
     * streaming replicas (SQLite) refuses them. */
    const char *const *replicas;
    size_t nreplicas;
    /* Seconds a replica whose connect or pre-ping failed is skipped
     * before it is tried again; 0: 5. */
    double replica_retry_interval;
} calx_engine_opts;

/* Makes an engine for url (see url.h). opts may be NULL. Opens nothing yet.
 * Returns the engine, owned by the caller (free with calx_engine_free), or
 * NULL with err filled: CALX_ERR_URL for a malformed URL,
 * CALX_ERR_ARGUMENT for a NULL url or an option out of range (a negative
 * or non-finite command_timeout, a query_cache_size below
 * CALX_QUERY_CACHE_OFF, a bad value in the URL or connect_args),
 * CALX_ERR_NOT_SUPPORTED for a dialect calx has no driver for. */
CALX_API calx_engine *calx_create_engine(const char *url, const calx_engine_opts *opts,
                                         calx_error *err);
#define calx_create_async_engine calx_create_engine

/* Checks a connection out of the pool, opening one when needed, waiting
 * (FIFO) up to pool_timeout when all are out. The future's value is a
 * calx_connection *, owned by the caller until calx_conn_close. Errors:
 * CALX_ERR_TIMEOUT (in SQLAlchemy's words: "QueuePool limit of size 5
 * overflow 10 reached, connection timed out, timeout 30.00"; or, with
 * pool_pre_ping, a pre-ping that got no answer before pool_timeout ran
 * out, the connection then invalidated), the driver's
 * connect error, CALX_ERR_CLOSED after calx_engine_free or once the
 * engine's loop has been freed, and for a NULL e. */
CALX_API calx_future *calx_engine_connect(calx_engine *e, calx_error *err);

/* As calx_engine_connect, from a replica's pool (opts.replicas): the next
 * healthy replica in turn (round-robin). A replica whose checkout fails
 * (its connect, or its pre-ping and the reconnect after it) is skipped for
 * replica_retry_interval and the next one is tried; with none healthy, or
 * an engine without replicas, the connection is the primary's
 * (calx_conn_is_replica tells). The future's value is a calx_connection
 * *, owned by the caller until calx_conn_close. Errors: those of
 * calx_engine_connect, the primary's only (a replica's are logged with
 * echo_pool and end in the fallback). */
CALX_API calx_future *calx_engine_connect_replica(calx_engine *e, calx_error *err);

/* Closes the idle connections and starts a fresh pool; connections checked
 * out now are closed when they come back. The engine stays usable. NULL
 * is a no-op. */
CALX_API void calx_engine_dispose(calx_engine *e);

/* Disposes the engine and frees it once its last connection is back.
 * Connections still checked out stay usable until closed. Waiting
 * checkouts fail with CALX_ERR_CLOSED. NULL is a no-op, and so is a
 * second call.
 *
 * Closing a connection finishes on the loop (a SQLite connection's worker
 * thread ends, a reset ROLLBACK may still run): this call starts the
 * closes, the loop's next run or calx_loop_free finishes them, so no loop
 * run is needed in between. It may come before or after calx_loop_free
 * of the engine's loop (see calx/loop.h, "Lifecycle"): freeing the loop
 * first shuts the engine down, and this call then only frees its memory.
 * The loop cannot be freed while a connection of the engine is still
 * checked out; close those first. Loop thread only. */
CALX_API void calx_engine_free(calx_engine *e);

/* The engine's URL, owned by the engine. e must not be NULL, here and in
 * the accessors below (dialect, repr, status, stats). */
CALX_API const calx_url *calx_engine_url(const calx_engine *e);
/* The dialect's name: "sqlite" or "postgresql". Static. */
CALX_API const char *calx_engine_dialect(const calx_engine *e);

/* "Engine(postgresql://scott:***@localhost/test)", the password as ***; a
 * driver may add its settings, as SQLite its journal mode ("Engine(sqlite:
 * ///app.db, journal_mode=wal)"). malloc'd; caller frees. */
CALX_API char *calx_engine_repr(const calx_engine *e);

/* The pool's state as SQLAlchemy's QueuePool.status() gives it: "Pool size:
 * 5  Connections in pool: 1 Current Overflow: -4 Current Checked out
 * connections: 0". With replicas, one line per pool, each after its
 * server's name: "primary (127.0.0.1:5432): Pool size: ...", then
 * "replica 1 (127.0.0.1:5433): Pool size: ..." and so on, a replica being
 * skipped saying so. malloc'd; the caller frees it with free(). */
CALX_API char *calx_engine_status(const calx_engine *e);

typedef struct calx_pool_stats {
    int size;               /* pool_size (1 for static, 0 for null) */
    int checked_in;         /* idle connections */
    int checked_out;
    int overflow;           /* as SQLAlchemy: opened - pool_size (negative while below) */
    int waiting;            /* checkouts waiting now */
    uint64_t checkouts;     /* successful checkouts */
    uint64_t waits;         /* checkouts that had to wait */
    double wait_seconds;    /* total time spent waiting */
    uint64_t timeouts;      /* checkouts that timed out */
    uint64_t opened;        /* connections opened */
    uint64_t closed;        /* connections closed */
    uint64_t invalidated;   /* connections thrown away as dead or recycled */
} calx_pool_stats;

/* Reads the primary's pool's counters into *out. e and out must not be
 * NULL. */
CALX_API void calx_engine_stats(const calx_engine *e, calx_pool_stats *out);

/* ---- the tables of a metadata (calx/schema.h) ---- */

/* As SQLAlchemy's metadata.create_all(engine): checks out a connection,
 * runs calx_metadata_create_all in one transaction, commits, and returns
 * the connection to the pool (rolled back on error). Value NULL. Errors: as
 * calx_metadata_create_all (CALX_ERR_ARGUMENT for a NULL e or md), and
 * calx_engine_connect's. */
CALX_API calx_future *calx_engine_create_all(calx_engine *e, const calx_metadata *md,
                                             calx_error *err);

/* As calx_engine_create_all, dropping. */
CALX_API calx_future *calx_engine_drop_all(calx_engine *e, const calx_metadata *md,
                                           calx_error *err);

#ifdef __cplusplus
}
#endif
#endif
