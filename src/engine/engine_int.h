/* SPDX-License-Identifier: MIT */
/* The engine's insides, shared by the engine layer's modules (engine.c,
 * connection.c, result.c, echo.c). */
#ifndef CALX_ENGINE_ENGINE_INT_H
#define CALX_ENGINE_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "calx/connection.h"
#include "calx/engine.h"
#include "core/clock.h"
#include "core/evloop.h"
#include "driver/driver.h"
#include "engine/pool.h"
#include "engine/stmt_cache.h"
#include "sql/dialect.h"
#include "sql/text.h"

/* A compiled SQL text, cached per engine by its source text. */
typedef struct calx_plan_entry {
    char *source;
    calx_text_plan plan;
    uint64_t sql_hash;         /* plan.sql's (calx_dstmt.sql_hash): hashed once
                                  here, not by a driver's statement cache at
                                  every execution */
    uint64_t created_ns;       /* for echo's "cached since" */
    double compile_s;          /* for echo's "generated in" */
    bool uncached;             /* compiled for one use: the cache was full */
    struct calx_plan_entry *next;
} calx_plan_entry;

typedef struct calx__memo_entry calx__memo_entry;

/* Compiled texts kept per engine (the text cache here, and sql_memo.c's);
 * more are compiled for one use each. */
#define CALX_PLAN_CACHE_MAX 2048

/* One server an engine reaches: the primary (its url, its pool) or a
 * replica (replicas.c). */
typedef struct calx__server {
    calx_engine *engine;
    calx_url *url;             /* a replica's own; the primary's is the engine's */
    calx_pool *pool;           /* NULL once freed */
    char *name;                /* "primary (h:p)", "replica 1 (h:p)": errors */
    char *tag;                 /* "[replica 1 (h:p)] " before each echo line
                                  when the engine has replicas, else "" */
    bool replica;
    uint64_t down_until_ms;    /* loop clock: a replica skipped until then */
} calx__server;

/* Seconds a replica that failed is skipped by default (replica_retry_interval). */
#define CALX_REPLICA_RETRY_DEFAULT_S 5.0

/* Ended operations an engine keeps for the next ones (connection.c). */
#define CALX__SPARE_OPS 16
/* Closed connection handles an engine keeps for the next checkouts. */
#define CALX__SPARE_CONNS 16
/* Ended checkouts' structs an engine keeps (engine.c's connecting). */
#define CALX__SPARE_CHECKOUTS 16

struct calx_engine {
    calx_loop *loop;
    calx_url *url;
    const struct calx__database *database;   /* the registry's row (registry.h) */
    const calx_driver *driver;               /* database->driver */
    const calx_dialect *dialect;             /* database->dialect */
    calx__server primary;      /* url and pool */
    calx__server *replicas;    /* nreplicas of them (replicas.c) */
    size_t nreplicas;
    size_t next_replica;       /* round-robin: where the next pick starts */
    uint64_t replica_retry_ms;
    size_t pools_live;         /* pools not yet emptied after a free */
    calx_engine_opts pool_opts; /* what every server's pool is made with */
    calx_kv *connect_args;     /* deep copy of opts->connect_args */
    size_t nconnect_args;
    char *isolation_level;
    bool autocommit;           /* isolation_level "AUTOCOMMIT" */
    bool echo;
    calx_log_fn log;
    void *log_udata;
    size_t nconns;             /* connection handles alive, and checkouts under way */
    bool freed;                /* calx_engine_free was called */
    bool loop_gone;            /* the loop shut the engine down (calx_loop_close) */
    calx_loop_user on_loop;    /* how the loop asks and shuts the engine down */
    calx_plan_entry **plans;   /* hash table of compiled texts */
    size_t nplans, plans_cap;
    calx_plan_entry *last_plan; /* the entry the last lookup gave, tried first
                                  by text alone (entries stay until the
                                  engine goes); NULL at first */
    /* The last text the engine keeps itself (sql_memo.c) that was looked
     * up, and its cached entry: found again by the text's address (both
     * live, unchanged, until the engine goes). NULL at first. */
    const char *kept_sql;
    calx_plan_entry *kept_plan;
    calx__stmt_cache *stmts;   /* Core statements compiled per shape; NULL:
                                  query_cache_size CALX_QUERY_CACHE_OFF */
    struct calx__memo_entry *memo;  /* texts made once per engine (sql_memo.c) */
    size_t memo_n, memo_cap;
    /* Operation structs of ended statements, kept for the next (a malloc
     * and a free less per statement; connection.c): an op ends only when
     * nothing reaches it any more, and a connection, which keeps the
     * engine alive, outlives its ops. Freed with the engine. */
    void *spare_ops[CALX__SPARE_OPS];
    size_t nspare_ops;
    /* Handles of closed connections, kept for the next checkouts (a
     * session's transaction takes one: a calloc and a free less); a
     * closed handle is the program's no more. Freed with the engine. */
    void *spare_conns[CALX__SPARE_CONNS];
    size_t nspare_conns;
    /* Checkouts' structs (engine.c), kept likewise: one a transaction. */
    void *spare_checkouts[CALX__SPARE_CHECKOUTS];
    size_t nspare_checkouts;
};

/* Looks up or compiles sql for params' style. The entry is owned by the
 * engine and lives as long as it, unless the cache was full: then the
 * caller gives it back with calx__plan_entry_release once the statement has
 * run (a no-op for cached entries). *fresh tells whether it was compiled
 * now. */
int calx__engine_plan(calx_engine *e, const char *sql, const calx_params *params,
                      calx_plan_entry **out, bool *fresh, calx_error *err);
/* calx__engine_plan for a text e keeps itself (sql_memo.c: at the same
 * address, unchanged, until e is freed): the last such text is found by
 * its address, without reading it. */
int calx__engine_plan_kept(calx_engine *e, const char *sql, const calx_params *params,
                           calx_plan_entry **out, bool *fresh, calx_error *err);
void calx__plan_entry_release(calx_plan_entry *pe);

/* A connection handle closed: the engine may now be freed. */
void calx__engine_conn_closed(calx_engine *e);

/* connection.c: frees the operation structs and connection handles e
 * keeps (spare_ops, spare_conns). */
void calx__conn_spares_free(calx_engine *e);

/* A new connection handle over a checked-out pooled connection of
 * server srv. */
calx_connection *calx__connection_new(calx_engine *e, const calx__server *srv,
                                      calx_pconn *pc);

/* engine.c: the pool configuration every server of e shares, for url. */
calx_pool *calx__engine_pool_new(calx_engine *e, calx__server *srv, const calx_url *url);

/* replicas.c: the replica set. Parses and checks opts' replica URLs
 * (same database as the primary, one that has replicas) and makes their
 * pools: 0, or CALX_ERR_ARGUMENT / _NOT_SUPPORTED / _URL naming the
 * replica, or CALX_ERR_NOMEM (what was made is freed by
 * calx__replicas_free). */
int calx__replicas_new(calx_engine *e, const calx_engine_opts *opts, calx_error *err);
/* Frees what calx__replicas_new made (the pools must be gone). */
void calx__replicas_free(calx_engine *e);
/* Names a server ("primary (h:p)") into srv->name; 0 or -1 (no memory). */
int calx__server_name(calx__server *srv, const char *what, size_t n);
/* The next replica to try after the ones in tried[0..nreplicas), in
 * round-robin order, skipping those down; NULL when none is left. */
calx__server *calx__replica_pick(calx_engine *e, const bool *tried);
/* calx_engine_status with replicas: a line per server. malloc'd. */
char *calx__replicas_status(const calx_engine *e);
/* A replica's checkout failed: skipped until the retry interval passes. */
void calx__replica_down(calx__server *r, const calx_error *why);

/* The driver connection under c (owned by the pool), for driver-level
 * counters in tests and diagnostics. */
calx_dconn *calx__conn_dconn(const calx_connection *c);

/* echo.c: SQLAlchemy-style statement logging. */
void calx__echo(const calx_engine *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* calx__echo with tag ("" or "[replica 1 (h:p)] ") before the line. */
void calx__echo_tagged(const calx_engine *e, const char *tag, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Writes s seconds as echo's badges show a time: SQLAlchemy's five
 * decimals ("0.00012"), and as many more as a time shorter than that needs
 * to show a digit ("0.0000031"), so that a real compile never reads as
 * zero. buf has n bytes and is always terminated. */
void calx__echo_seconds(char *buf, size_t n, double s);

/* Logs the parameter line: "[badge] (1, 'x', None)", or for a batch at most
 * ten sets, as SQLAlchemy does. vals holds nsets * nparams values. */
void calx__echo_params(const calx_engine *e, const char *badge, const calx_value *vals,
                       size_t nparams, size_t nsets);

/* How echo labels a statement's parameter line: SQLAlchemy's
 * compiled-cache badge ("generated in 0.00012s" / "cached since 2.1s ago"),
 * "raw sql" (exec_driver_sql: the checkfirst PRAGMAs), or "no key 0.00005s"
 * (DDL, which SQLAlchemy never caches). */
typedef enum calx_echo_badge {
    CALX_BADGE_CACHE = 0,
    CALX_BADGE_RAW,
    CALX_BADGE_NO_KEY
} calx_echo_badge;

/* connection.c: calx_conn_execute, echoed with the badge given (used by
 * schema_run.c). */
calx_future *calx__conn_execute_badge(calx_connection *c, const char *sql,
                                      const calx_params *params, calx_echo_badge badge,
                                      calx_error *err);

/* connection.c: calx_conn_execute_batch for one statement compiled to
 * several parts (a many-row INSERT split at the dialect's max_params):
 * the result reads as one statement's, the parts' rows one after another
 * and their rowcounts summed (calx__rowset_merge). note: as
 * calx__conn_execute_noted's. */
calx_future *calx__conn_execute_parts(calx_connection *c, const calx_stmt *stmts, size_t n,
                                      const calx__compile_note *note, calx_error *err);

/* connection.c: calx_conn_execute for a statement the statement cache
 * readied: echo's badge tells how it was compiled (note), not whether the
 * text was translated before. */
calx_future *calx__conn_execute_noted(calx_connection *c, const char *sql,
                                      const calx_params *params,
                                      const calx__compile_note *note, calx_error *err);

/* connection.c: calx_conn_execute, calx_conn_stream (chunk_rows 0: 1,000)
 * and calx_conn_execute_batch[_commit] for SQL the SQL layer compiled
 * (the ORM's loads and flush), with what each parameter meets: types is
 * NULL or one entry per parameter (calx_compiled's types), for a batch one
 * such array (or NULL) per statement; they are copied. The driver may
 * type the parameters so (PostgreSQL: an INTEGER column's as int4). */
calx_future *calx__conn_execute_typed(calx_connection *c, const char *sql,
                                      const calx_params *params, const calx_dtype *types,
                                      calx_error *err);
/* calx__conn_execute_typed for a text the engine keeps (sql_memo.c; see
 * calx__engine_plan_kept): a get by key's. */
calx_future *calx__conn_execute_kept(calx_connection *c, const char *sql,
                                     const calx_params *params, const calx_dtype *types,
                                     calx_error *err);
/* A get by key's statement run at once where the driver can
 * (calx_driver.read_row: SQLite's inline reads), with no operation,
 * future, rowset or result between the row and the caller: sql, params,
 * types and kept as calx__conn_execute_kept takes them. The row's values
 * land in row (maxcols of room, *ncols set), their texts and blobs in buf
 * (size bytes), both the caller's. CALX_DREAD_ROW, CALX_DREAD_NONE,
 * CALX_DREAD_FAILED with err (described as execute's are), or
 * CALX_DREAD_DECLINED when it could not run so: nothing happened, and
 * calx__conn_execute_kept runs it (and reports what was wrong, if
 * anything was). The BEGIN a transaction's first statement carries is
 * run and echoed as execute's. */
calx_dread calx__conn_read_row(calx_connection *c, const char *sql, const calx_params *params,
                               const calx_dtype *types, bool kept, calx_value *row,
                               size_t maxcols, size_t *ncols, char *buf, size_t size,
                               calx_error *err);
/* calx__conn_stream_typed (and calx__conn_stream_select,
 * calx__conn_stream_noted below): a stream's first chunk has first_rows
 * rows when that is fewer than chunk_rows (not 0), each chunk after twice
 * the rows of the one before, up to chunk_rows (the ORM's loads:
 * session_int.h's CALX__LOAD_FIRST_ROWS). */
calx_future *calx__conn_stream_typed(calx_connection *c, const char *sql,
                                     const calx_params *params, const calx_dtype *types,
                                     size_t first_rows, size_t chunk_rows, calx_error *err);

/* connection.c: calx_conn_execute_batch[_commit] in two steps, for SQL the
 * SQL layer compiled (the flush's segments), with types as above, one
 * array (or NULL) per statement. calx__conn_batch_make plans the n
 * statements and copies every value they bind (stmts, types and what
 * they point at can go after it) without sending anything, so it works
 * while c still runs the batch before: the flush copies segment k+1 while
 * the database runs segment k. NULL with err set on a bad statement or no
 * memory. calx__conn_batch_send starts a made batch on c, which must be
 * ready by then (its BEGIN and echo go now), and takes b whether it
 * succeeds or not: the batch's future, or NULL with err set.
 * calx__batch_free frees a batch never sent (NULL is accepted). */
typedef struct conn_op calx__batch;
calx__batch *calx__conn_batch_make(calx_connection *c, const calx_stmt *stmts,
                                   const calx_dtype *const *types, size_t n, calx_error *err);
calx_future *calx__conn_batch_send(calx_connection *c, calx__batch *b, bool commit,
                                   calx_error *err);
void calx__batch_free(calx__batch *b);

/* statement_run.c: calx_conn_execute_select streaming its rows in chunks
 * of chunk_rows (0: 1,000), as calx_conn_stream does: the ORM's queries,
 * compiled through the statement cache. */
calx_future *calx__conn_stream_select(calx_connection *c, const calx_select *q,
                                      size_t first_rows, size_t chunk_rows, calx_error *err);

/* connection.c: calx_conn_stream for a statement the statement cache
 * readied, echo's badge as calx__conn_execute_noted's. */
calx_future *calx__conn_stream_noted(calx_connection *c, const char *sql,
                                     const calx_params *params, size_t first_rows,
                                     size_t chunk_rows, const calx__compile_note *note,
                                     calx_error *err);

/* The rows of a stream's chunk after one of rows, its chunks growing to
 * most: twice as many, up to most. */
static inline size_t calx__next_chunk(size_t rows, size_t most)
{
    return rows < most / 2 ? 2 * rows : most;
}

/* result.c: results over driver rowsets. A stream's (stream_conn set)
 * first fetch asks for fetch_rows rows (0: as many as rs has), each after
 * for twice the one before up to fetch_max. */
calx_result *calx__result_new(calx_rowset *rs, calx_connection *stream_conn, size_t fetch_rows,
                              size_t fetch_max);
/* connection.c: a streaming result asks its connection for more. */
calx_future *calx__conn_fetch(calx_connection *c, calx_result *r, size_t nrows,
                              size_t next_rows, calx_error *err);
void calx__conn_stream_done(calx_connection *c, bool close_cursor);
/* connection.c: the transaction c begins next (or has begun but not yet
 * sent) will write whatever its first statement: the driver takes the
 * write lock when it begins (calx_dreq.writes). For work that reads before
 * it writes (create_all, drop_all). No effect on a transaction already
 * under way. */
void calx__conn_tx_will_write(calx_connection *c);
/* result.c: the rows of rs (its first statement's) in their columns'
 * types: column i by d's stored_value for types[i] (ntypes of them; NULL
 * entries, and all columns when types is NULL, are left as they came).
 * Errors: CALX_ERR_DATA from the hook, naming the column and value. */
int calx__rowset_convert(const calx_dialect *d, const calx_column *const *types,
                         size_t ntypes, calx_rowset *rs, calx_error *err);
/* result.c: a streaming result keeps its columns' types (taking the
 * array, freed with it) to convert the chunks still to come; and gives
 * them back (NULL when it has none). */
void calx__result_keep_types(calx_result *r, const calx_column **types, size_t n);
const calx_column *const *calx__result_types(const calx_result *r, size_t *n);
/* result.c: a fetched chunk replaces the rows held (r takes rs); the
 * rowset replaced is given back, the caller's to free or recycle (NULL
 * when there was none, or r lives in it). */
calx_rowset *calx__result_set_chunk(calx_result *r, calx_rowset *rs);
/* result.c: the stream is over (read to the end, failed, or its connection
 * closed): r keeps the rows it holds and forgets the connection. */
void calx__result_detach(calx_result *r);
/* result.c: the row k rows past the one calx_result_next gave last, in
 * the chunk at hand, or NULL past its end (a reader prefetching what the
 * coming rows will touch). r may be NULL. */
const calx_row *calx__result_ahead(const calx_result *r, size_t k);

#endif
