/* SPDX-License-Identifier: MIT */
/* calx — connections (SQLAlchemy's AsyncConnection).
 *
 * A connection comes from calx_engine_connect and goes back to the pool with
 * calx_conn_close. It runs one operation at a time; starting a second while
 * one runs gives CALX_ERR_BUSY. The exception is an operation whose future
 * was cancelled: the database takes a moment to stop it, and one next
 * operation may be started meanwhile; it waits behind the cancelled one
 * (a third gets CALX_ERR_BUSY).
 *
 * A transaction the database has ended stays failed until the program rolls
 * back: after a statement inside a transaction is cancelled (once it had
 * begun to run), or after a failure that made the database roll the whole
 * transaction back (on SQLite: an interrupted write, a full disk, ON
 * CONFLICT ROLLBACK), every later statement and the COMMIT fail with
 * CALX_ERR_INTERNAL and SQLSTATE "25P02" naming the first failure, on
 * SQLite as on PostgreSQL; calx_conn_rollback clears it. So a COMMIT never
 * reports success for half a transaction.
 *
 * Transactions begin by themselves (autobegin, as SQLAlchemy 2.0): the first
 * statement starts one, and it lasts until calx_conn_commit or
 * calx_conn_rollback. calx_conn_begin begins one explicitly.
 * calx_conn_begin_nested opens a SAVEPOINT; savepoints nest as a stack.
 */
#ifndef CALX_CONNECTION_H
#define CALX_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include "engine.h"
#include "error.h"
#include "export.h"
#include "future.h"
#include "result.h"
#include "schema.h"
#include "sql.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct calx_connection calx_connection;

/* NULL: every call below that starts an operation fails at once, nothing
 * run, with CALX_ERR_ARGUMENT ("the connection is NULL") for a NULL c —
 * what a failed calx_engine_connect leaves — and with CALX_ERR_ARGUMENT
 * for NULL sql, stmts or sets; params may be NULL (no parameters). The
 * accessors answer for a NULL c as for a connection with no transaction
 * (false, 0, NULL); calx_conn_invalidate and calx_conn_close take NULL as
 * a no-op. */

/* Runs one statement with bound parameters (params may be NULL). The
 * future's value is a buffered calx_result *, owned by the caller (free with
 * calx_result_free). Database errors come classified (CALX_ERR_INTEGRITY,
 * CALX_ERR_PROGRAMMING, ...) with the driver's message and code. */
CALX_API calx_future *calx_conn_execute(calx_connection *c, const char *sql,
                                        const calx_params *params, calx_error *err);

/* Runs a select (calx/sql.h), compiled for the connection's dialect, as
 * calx_conn_execute runs SQL text: the future's value is a buffered
 * calx_result *, owned by the caller, with the table's columns in order. q
 * stays the caller's and may be freed as soon as this returns. A sticky
 * error in q (calx_select_error) fails the call at once: NULL with err
 * filled, nothing run; so does a NULL q (CALX_ERR_NOMEM, as sql.h counts
 * it). Unlike the calls around it, a NULL c gives CALX_ERR_CLOSED here.
 * Other errors: as calx_conn_execute. */
CALX_API calx_future *calx_conn_execute_select(calx_connection *c, const calx_select *q,
                                               calx_error *err);

/* Run an INSERT, UPDATE or DELETE (calx/sql.h), compiled for the
 * connection's dialect, as calx_conn_execute runs SQL text (plan cache,
 * echo, autobegin). The future's value is a buffered calx_result *, owned
 * by the caller: calx_result_rowcount is the number of rows inserted,
 * updated or deleted, and a RETURNING clause's rows are its rows. s stays
 * the caller's and may be freed as soon as the call returns.
 *
 * A many-row insert that needs more parameters than one statement of the
 * dialect may carry runs as several statements in one request (one round
 * trip on PostgreSQL), answered as one: the rowcount is their sum, and the
 * RETURNING rows come statement by statement, in the order the rows were
 * added, each statement's in the order the database gives them. When one
 * of them fails, the error says which ("statement 2 of 2") and the ones
 * before it have run inside the transaction, as with
 * calx_conn_execute_batch.
 *
 * Errors: s's sticky error and the whole-statement checks
 * (calx_insert_error ...) fail the call at once, nothing run; so do what
 * the dialect lacks (UPDATE ... FROM, DELETE ... USING: CALX_ERR_NOT_SUPPORTED
 * naming the dialect) and more parameters than a statement may carry
 * (CALX_ERR_ARGUMENT); a NULL s is CALX_ERR_NOMEM, a NULL c
 * CALX_ERR_CLOSED (as calx_conn_execute_select). The database's errors
 * come as calx_conn_execute's. */
CALX_API calx_future *calx_conn_execute_insert(calx_connection *c, const calx_insert *s,
                                               calx_error *err);
CALX_API calx_future *calx_conn_execute_update(calx_connection *c, const calx_update *s,
                                               calx_error *err);
CALX_API calx_future *calx_conn_execute_delete(calx_connection *c, const calx_delete *s,
                                               calx_error *err);

/* Runs one statement once per parameter set, as one handoff to the driver.
 * The result's rowcount is the sum; rows a RETURNING clause gives are
 * gathered in parameter-set order. Value: calx_result *, caller-owned. */
CALX_API calx_future *calx_conn_execute_many(calx_connection *c, const char *sql,
                                             const calx_params *sets, size_t nsets,
                                             calx_error *err);

/* One statement of a batch: SQL text and its parameters (NULL for none). */
typedef struct calx_stmt {
    const char *sql;
    const calx_params *params; /* nsets parameter sets (NULL: no parameters) */
    size_t nsets;              /* 0 or 1: one execution; N: an execute-many */
    bool rowids;               /* SQLite INSERTs: the result has one row per
                                  set with the rowid that set's row got */
} calx_stmt;

/* Runs n statements in order as one handoff to the driver (one round trip
 * where the driver pipelines), stopping at the first that fails: the error
 * says which ("statement 3 of 5"), and the statements before it have run
 * inside the transaction. Each is echoed as if run on its own. Value: one
 * calx_result * (caller-owned) over the first statement's rows;
 * calx_result_nextset moves it to the next statement's. */
CALX_API calx_future *calx_conn_execute_batch(calx_connection *c, const calx_stmt *stmts,
                                              size_t n, calx_error *err);

/* As calx_conn_execute_batch, then commits the transaction in the same
 * handoff (one round trip for a flush and its COMMIT). When a statement
 * fails nothing is committed and the transaction stays open for a
 * rollback; when the COMMIT itself fails the error says so. */
CALX_API calx_future *calx_conn_execute_batch_commit(calx_connection *c, const calx_stmt *stmts,
                                                     size_t n, calx_error *err);

/* Runs a statement whose rows are read chunk_rows at a time (0: 1000)
 * without holding them all. Value: a streaming calx_result *, caller-owned;
 * the connection is busy until it is read to the end or freed. The next
 * chunks are read ahead while the program works through the last (besides
 * the program's chunk, at most two more are on their way or held by the
 * driver), so a large SELECT costs about the slower of the database and
 * the program, not their sum. */
CALX_API calx_future *calx_conn_stream(calx_connection *c, const char *sql,
                                       const calx_params *params, size_t chunk_rows,
                                       calx_error *err);

/* Transactions. Each future's value is NULL. begin fails with
 * CALX_ERR_STATE inside a transaction; commit and rollback outside one
 * do nothing. commit and rollback also end every savepoint. */
CALX_API calx_future *calx_conn_begin(calx_connection *c, calx_error *err);
CALX_API calx_future *calx_conn_commit(calx_connection *c, calx_error *err);
CALX_API calx_future *calx_conn_rollback(calx_connection *c, calx_error *err);

/* Savepoints: begin_nested opens one (beginning the transaction first when
 * needed); release_savepoint and rollback_savepoint end the innermost. */
CALX_API calx_future *calx_conn_begin_nested(calx_connection *c, calx_error *err);
CALX_API calx_future *calx_conn_release_savepoint(calx_connection *c, calx_error *err);
CALX_API calx_future *calx_conn_rollback_savepoint(calx_connection *c, calx_error *err);

/* Whether a transaction is open, how many savepoints are, and the engine
 * c came from; false, 0 and NULL for a NULL c. */
CALX_API bool calx_conn_in_transaction(const calx_connection *c);
CALX_API size_t calx_conn_savepoint_depth(const calx_connection *c);
CALX_API calx_engine *calx_conn_engine(const calx_connection *c);

/* Where c runs its statements: the server's name as echo and errors give
 * it, "primary (127.0.0.1:5432)" or "replica 2 (127.0.0.1:5434)" (its
 * URL's hosts and ports). Owned by the engine, valid while c is; NULL for
 * a NULL c. calx_conn_is_replica: whether that is one of the engine's
 * replicas (calx_engine_connect_replica); false for a NULL c. */
CALX_API const char *calx_conn_server(const calx_connection *c);
CALX_API bool calx_conn_is_replica(const calx_connection *c);

/* Marks the connection dead: it is closed, not pooled, when it comes back.
 * NULL is a no-op. */
CALX_API void calx_conn_invalidate(calx_connection *c);

/* Gives the connection back to its pool and frees the handle. Never blocks:
 * an open transaction is rolled back (pool_reset_on_return) and an
 * operation still running is let finish first, in the background, before
 * the connection is used again. NULL is a no-op. */
CALX_API void calx_conn_close(calx_connection *c);

/* ---- the tables of a metadata (calx/schema.h) ---- */

/* Creates the tables of md that do not exist yet, with their indexes, on
 * conn: for each table a check that it exists (PRAGMA table_info on
 * SQLite), then CREATE TABLE and CREATE INDEX in foreign-key order, inside
 * the connection's transaction (begun if needed, and left open: the caller
 * commits, as with SQLAlchemy's metadata.create_all(conn)). The future's
 * value is NULL. Errors: those of calx_metadata_sorted (then nothing runs),
 * the database's (CALX_ERR_PROGRAMMING, ...) with the failing DDL,
 * CALX_ERR_BUSY / CALX_ERR_CLOSED for a connection that cannot run now,
 * CALX_ERR_ARGUMENT for a NULL conn or md (nothing runs). */
CALX_API calx_future *calx_metadata_create_all(calx_connection *conn, const calx_metadata *md,
                                               calx_error *err);

/* Drops the tables of md that exist, children first (DROP TABLE; their
 * indexes go with them), on conn, as calx_metadata_create_all. */
CALX_API calx_future *calx_metadata_drop_all(calx_connection *conn, const calx_metadata *md,
                                             calx_error *err);

#ifdef __cplusplus
}
#endif
#endif
