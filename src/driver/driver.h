/* SPDX-License-Identifier: MIT */
/* The interface every database driver (sqlite.c, later postgres.c)
 * implements for the engine layer. A driver knows nothing of pools or
 * transactions-as-objects: it opens a connection, runs requests one at a
 * time, and calls back on the loop thread.
 *
 * Rules all drivers keep:
 *  - Everything runs on the loop thread and nothing blocks it: SQLite
 *    works on a thread per connection, PostgreSQL on libpq's non-blocking
 *    API with the socket watched by the loop.
 *  - A call that fails before it starts returns an error code and its
 *    callback never fires; otherwise the callback fires exactly once, on
 *    the loop thread, never from inside the call.
 *  - One request at a time per connection (the engine serialises).
 *  - SQL arrives in the dialect's paramstyle with positional parameters,
 *    already deep-copied into the request (the driver owns nothing of the
 *    caller's).
 *  - Errors are classified into calx_errcode (integrity, operational,
 *    programming, ..., disconnect) with the database's message, its own
 *    code in driver_code and the SQLSTATE where there is one.
 */
#ifndef CALX_DRIVER_DRIVER_H
#define CALX_DRIVER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include "calx/error.h"
#include "calx/loop.h"
#include "calx/url.h"
#include "calx/value.h"
#include "driver/rowset.h"

typedef struct calx_driver calx_driver;

/* Each driver's connection struct begins with this. */
typedef struct calx_dconn {
    const calx_driver *driver;
    calx_loop *loop;
} calx_dconn;

/* What a parameter meets in its statement, when the statement knows: the
 * type of the column it is compared with or written into (an INTEGER
 * column's values go to PostgreSQL as int4, where a bare integer would go
 * as int8 and meet the column with no common hash function). 0 is none:
 * the parameter is typed from its value. An array is CALX_DTYPE_ARRAY or'ed
 * with its element's type. A driver that types its parameters uses it where
 * the value is of the column's kind (an integer for INT32, an array for an
 * array) and types the value as without it otherwise; others ignore it. */
typedef enum calx_dtype {
    CALX_DTYPE_VALUE = 0,
    CALX_DTYPE_INT32,
    CALX_DTYPE_INT64,
    CALX_DTYPE_DOUBLE,
    CALX_DTYPE_BOOL,
    CALX_DTYPE_TEXT,
    CALX_DTYPE_TIMESTAMP,      /* an instant: timestamp with time zone */
    CALX_DTYPE_DECIMAL,
    CALX_DTYPE_UUID,
    CALX_DTYPE_DATE,
    CALX_DTYPE_TIME,
    CALX_DTYPE_DATETIME,       /* naive: timestamp without time zone */
    CALX_DTYPE_INTERVAL,
    CALX_DTYPE_JSON,           /* json: alone untyped (the column says json or jsonb) */
    CALX_DTYPE_ARRAY = 0x40    /* | the element's type */
} calx_dtype;

/* The type of calx value a column of type t (its element type, for an
 * array) holds: CALX_INT for INT32 and INT64, CALX_TEXT for TEXT, ...;
 * CALX_NULL for CALX_DTYPE_VALUE and anything unknown. */
calx_type calx__dtype_value_type(calx_dtype t);

/* One statement: SQL text and nsets parameter sets of nparams values each
 * (nsets 1 for a plain execute; more for execute-many). */
typedef struct calx_dstmt {
    const char *sql;
    size_t nparams;
    size_t nsets;
    const calx_value *params;  /* nsets * nparams, row-major */
    bool rowids;               /* an INSERT run per set: return one row per
                                  set holding the rowid it made (drivers with
                                  a lastrowid; others use RETURNING) */
    const calx_dtype *types;   /* nparams: what each parameter meets (the same
                                  in every set), or NULL: all typed from
                                  their values (SQL text) */
    uint64_t sql_hash;         /* calx__hash_str(CALX_HASH_INIT, sql), which
                                  the engine keeps with its plan, or 0: not
                                  known (a driver whose statement cache
                                  needs it hashes sql then) */
} calx_dstmt;

typedef enum calx_dop {
    CALX_DOP_EXEC,      /* run stmts in order, stop at the first error */
    CALX_DOP_BEGIN,     /* begin a transaction (the driver may defer it to the first statement) */
    CALX_DOP_COMMIT,    /* commit; nothing if no transaction is open */
    CALX_DOP_ROLLBACK,  /* roll back; nothing if no transaction is open */
    CALX_DOP_PING,      /* check the connection is alive */
    CALX_DOP_FETCH,     /* streaming: the next chunk of the open statement.
                           The engine asks when the program does; a driver
                           reads the next chunks ahead by itself, so that
                           the database works while the program does
                           (SQLite's worker, PostgreSQL's FETCHes ahead) */
    CALX_DOP_CLOSE_CURSOR /* streaming: drop the open statement's remaining rows */
} calx_dop;

/* A request. The engine builds it and keeps it alive until the callback;
 * the driver only reads it. */
typedef struct calx_dreq {
    calx_dop op;
    size_t nstmts;
    const calx_dstmt *stmts;
    size_t stream_rows;  /* EXEC/FETCH: 0 buffers every row; N streams the
                            last statement N rows at a time (rowset->more) */
    size_t stream_next_rows; /* EXEC/FETCH streaming: the rows the next FETCH
                            will ask for (0: stream_rows), which a driver
                            reading ahead may read then (SQLite's worker
                            does; PostgreSQL's FETCHes ahead ask as many as
                            the FETCH before). The ORM's streams start small
                            and grow (engine/connection.c) */
    bool begin;          /* EXEC: begin a transaction first (as CALX_DOP_BEGIN,
                            in the same handoff: autobegin costs no round trip) */
    bool commit;         /* EXEC: commit after the last statement, in the same
                            handoff (a flush and its COMMIT: one round trip);
                            nothing is committed when a statement fails */
    bool writes;         /* EXEC with begin: the transaction will write, whatever
                            its first statement (create_all reads the catalog
                            first): a driver that locks takes the write lock
                            when it begins (SQLite: BEGIN IMMEDIATE, which waits
                            its busy timeout, where a reader asking for the
                            lock later fails at once) */
} calx_dreq;

/* What read_row answers. */
typedef enum calx_dread {
    CALX_DREAD_ROW,      /* it ran: the one row it gave is in row */
    CALX_DREAD_NONE,     /* it ran and gave no row */
    CALX_DREAD_FAILED,   /* it ran and failed: err says why, as request's
                            callback would have */
    CALX_DREAD_DECLINED  /* it did not run (nothing the program can see
                            happened): send the request with request() */
} calx_dread;

/* Completion of a connect: conn on success (owned by the engine, closed
 * with driver->close), or err. */
typedef void (*calx_dconnect_cb)(void *udata, calx_dconn *conn, const calx_error *err);

/* Completion of a request: on success rs is the chain of rowsets, one per
 * statement (NULL for ops that return none), owned by the callee from here
 * on; on failure rs is NULL and err says why. */
typedef void (*calx_dreq_cb)(void *udata, calx_rowset *rs, const calx_error *err);

struct calx_driver {
    const char *name;      /* "sqlite", "postgresql" */

    /* Opens a connection for url. args are the engine's connect_args
     * (copied by the driver if kept); isolation_level may be NULL. */
    int (*connect)(calx_loop *loop, const calx_url *url, const calx_kv *args,
                   size_t nargs, const char *isolation_level,
                   calx_dconnect_cb cb, void *udata, calx_error *err);

    /* Checks url's options, args and isolation_level as connect would,
     * without connecting, so that calx_create_engine rejects a bad option
     * at once: 0, or CALX_ERR_ARGUMENT naming the option. url is not NULL,
     * nor args when nargs is not 0; isolation_level may be NULL. */
    int (*check_options)(const calx_url *url, const calx_kv *args, size_t nargs,
                         const char *isolation_level, calx_error *err);

    /* Writes into buf (n bytes, always terminated) what an engine's repr
     * adds for this driver's settings, such as SQLite's ", journal_mode=wal";
     * "" when there is nothing to add. */
    void (*describe)(const calx_url *url, const calx_kv *args, size_t nargs, char *buf,
                     size_t n);

    /* Runs req. CALX_ERR_BUSY if a request is already running. */
    int (*request)(calx_dconn *c, const calx_dreq *req, calx_dreq_cb cb,
                   void *udata, calx_error *err);

    /* Optional (NULL: every statement goes through request). Runs req
     * within this call, on the loop thread, when the driver can do so
     * without waiting for anything (a lock, the disk, another thread): a
     * single query with one parameter set that gives one row at most (a
     * get by primary key), with a BEGIN first when req->begin, never a
     * write, a commit or a stream. The row needs no rowset, no result and
     * no deferred callback, most of what a get costs beyond the database's
     * own work. Its values land in row (maxcols of room, *ncols set), each
     * text and blob copied into buf (size bytes); they are the caller's.
     * CALX_DREAD_DECLINED when the driver cannot run it so (busy, a read
     * that would wait, more columns or bytes than the room, a second row):
     * request() then runs it as if this had never been called. No request
     * may be running. */
    calx_dread (*read_row)(calx_dconn *c, const calx_dreq *req, calx_value *row,
                           size_t maxcols, size_t *ncols, char *buf, size_t size,
                           calx_error *err);

    /* Asks the running request to stop soon (it then fails with
     * CALX_ERR_CANCELED, or finishes). Any thread-safety is the driver's. */
    void (*interrupt)(calx_dconn *c);

    /* True while the driver still thinks the connection usable (no
     * disconnect seen). Never blocks; a driver may read what is already
     * waiting on its socket to find out (PostgreSQL does, so that the pool
     * replaces a connection the server hung up on while it was idle). */
    bool (*alive)(const calx_dconn *c);

    /* Gives back a rowset of c's open stream that the program is done with
     * (a chunk a later FETCH's replaced), so that the driver may fill it
     * again for a chunk to come rather than allocate one: a large load's
     * chunks then reuse the memory they fault in, not fresh pages each.
     * The driver takes rs (it frees what it has no use for). NULL in a
     * driver that reuses nothing: the engine frees such rowsets. Called on
     * the loop thread, with no request running or a FETCH's read-ahead;
     * any thread-safety is the driver's. */
    void (*recycle)(calx_dconn *c, calx_rowset *rs);

    /* Closes the connection and frees it, in the background. No request may
     * be running. Safe to call with the loop about to stop: the driver keeps
     * the loop alive until it has finished. */
    void (*close)(calx_dconn *c);

    /* True when connect takes a "command_timeout" connect arg (seconds a
     * request may run before the driver cancels it and fails it with
     * CALX_ERR_TIMEOUT): the engine passes its command_timeout option down
     * as one to such drivers only. */
    bool command_timeout;

    /* True when request() takes the request whole off the loop thread
     * (SQLite's worker thread runs it): from its return to the callback
     * the loop thread does none of its I/O, so what the program does on
     * the loop meanwhile holds nothing of it up. False when the loop
     * thread writes and reads it as the socket allows (PostgreSQL): work
     * on the loop between its events delays it. The flush applies a
     * segment's rows while the next segment runs only on the former
     * (orm/flush.c, apply_early). */
    bool runs_off_loop;
};

/* The checks every driver's request() makes first: a connection, a
 * request and a callback, a known op, and statements that are whole. 0 or
 * CALX_ERR_ARGUMENT naming driver ("sqlite", "postgresql"). */
int calx__dreq_check(const char *driver, const calx_dconn *c, const calx_dreq *req,
                     calx_dreq_cb cb, calx_error *err);

/* Adds " (context)" to err's message (where in a batch an error came
 * from, what to do about it), keeping its code. Cut to the message's room;
 * a NULL err is a no-op. */
void calx__error_note(calx_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Notes which statement and parameter set of req failed ("statement 2 of
 * 3, parameter set 5 of 10"), saying only what is ambiguous. */
void calx__error_note_where(calx_error *err, const calx_dreq *req, size_t stmt, size_t set);

extern const calx_driver calx__sqlite_driver;
extern const calx_driver calx__postgres_driver;

#endif
