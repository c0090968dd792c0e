/* SPDX-License-Identifier: MIT */
/* The SQLite driver: what a failure means.
 *
 * SQLite's result codes mapped onto calx's error codes (the classes
 * CPython's sqlite3 module gives them), the notes an error gets (how long a
 * lock was waited for), and the transactions SQLite ends by itself after
 * some failures, which the driver turns into PostgreSQL's aborted
 * transaction: every statement fails with SQLSTATE 25P02 until a ROLLBACK.
 * It is a file of its own because both the statements (sqlite_stmt.c) and
 * the worker's requests (sqlite_worker.c) ask it what a failure leaves
 * behind; it decides the error, never how anything runs. Worker thread
 * (or the loop thread running a read inline), like the handle it reads.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "driver/sqlite_int.h"
#include "driver/sqlscan.h"

/* ---- errors ---- */

/* The class CPython's sqlite3 module gives a result code (what SQLAlchemy
 * users see), mapped onto calx codes. One is calx's own: SQLITE_BUSY_SNAPSHOT,
 * a transaction that read and then tried to write after another
 * connection committed (WAL), can never go on and may succeed when run
 * again: PostgreSQL's serialization failure (40001), which
 * calx_session_run_transaction retries. */
static int errcode_for(int rc)
{
    if (rc == SQLITE_BUSY_SNAPSHOT)
        return CALX_ERR_SERIALIZATION;
    switch (rc & 0xff) {
    case SQLITE_INTERNAL:
    case SQLITE_NOTFOUND:
        return CALX_ERR_INTERNAL;
    case SQLITE_NOMEM:
        return CALX_ERR_NOMEM;
    case SQLITE_ERROR:
    case SQLITE_PERM:
    case SQLITE_ABORT:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_EMPTY:
    case SQLITE_SCHEMA:
        return CALX_ERR_OPERATIONAL;
    case SQLITE_TOOBIG:
        return CALX_ERR_DATA;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
        return CALX_ERR_INTEGRITY;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return CALX_ERR_PROGRAMMING;
    default:
        return CALX_ERR_DATABASE;
    }
}

/* Fills err from the handle's last error; rc is what the failing call
 * returned, in case the handle holds no error of its own. */
int calx__sqlite_db_error(calx_sqlite_conn *c, int rc, calx_error *err)
{
    bool mine = c->db && (sqlite3_extended_errcode(c->db) & 0xff) == (rc & 0xff);
    int ext = mine ? sqlite3_extended_errcode(c->db) : rc;
    if ((rc & 0xff) == SQLITE_INTERRUPT && atomic_load(&c->interrupted))
        calx_error_set(err, CALX_ERR_CANCELED, "the SQLite statement was interrupted");
    else
        calx_error_set(err, errcode_for(ext), "%s",
                       mine ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    err->driver_code = ext;
    return err->code;
}

int calx__sqlite_canceled(calx_error *err)
{
    calx_error_set(err, CALX_ERR_CANCELED, "the SQLite statement was interrupted");
    err->driver_code = SQLITE_INTERRUPT;
    return CALX_ERR_CANCELED;
}

/* A lock another connection held for the whole busy timeout: say so, and
 * how long was waited, since "database is locked" alone does not. The time
 * is read back from the handle: what SQLite really waited. */
void calx__sqlite_note_lock_held(const calx_sqlite_conn *c, calx_error *err)
{
    /* A stale snapshot waits for nothing: it failed at once. */
    if ((err->driver_code & 0xff) != SQLITE_BUSY || err->driver_code == SQLITE_BUSY_SNAPSHOT)
        return;
    int ms = calx__sqlite_pragma_int(c->db, "PRAGMA busy_timeout", -1);
    calx__error_note(err, "another connection held the lock for longer than the timeout of "
                     "%d ms", ms);
}

/* ---- transactions SQLite ends by itself ---- */

/* SQLite rolls a whole transaction back on its own after some failures: a
 * write interrupted mid-way, a full disk or an I/O error once the page
 * cache has spilled into the file, ON CONFLICT ROLLBACK, RAISE(ROLLBACK);
 * and the driver rolls it back itself when a request that had begun
 * running is cancelled (calx__sqlite_cancel_ends_tx), as PostgreSQL aborts it.
 * Left alone, the next statement would run in autocommit mode and commit at
 * once, and the COMMIT would find nothing to do and succeed: the program
 * would believe in a transaction of which only the later half exists. So
 * after a failure, when a transaction was open before the statement and is
 * gone after it, remember why; from then on every statement and the COMMIT
 * fail (calx__sqlite_tx_lost_error), as PostgreSQL fails them in an aborted
 * transaction, until the program rolls back. */
void calx__sqlite_lose_tx_if_ended(calx_sqlite_conn *c, bool was_in_tx, calx_error *err)
{
    if (!was_in_tx || !c->db || !sqlite3_get_autocommit(c->db))
        return;
    c->tx_lost = true;
    c->tx_lost_code = err->driver_code;
    snprintf(c->tx_lost_why, sizeof c->tx_lost_why, "%.200s", err->message);
    calx__error_note(err, "the whole transaction was rolled back: roll back before "
                     "running more statements");
}

/* The error every statement and COMMIT get in a transaction SQLite ended:
 * InternalError with PostgreSQL's SQLSTATE for the same state (25P02,
 * in_failed_sql_transaction), so that a program tests one condition on
 * both databases. */
int calx__sqlite_tx_lost_error(const calx_sqlite_conn *c, calx_error *err)
{
    calx_error_set(err, CALX_ERR_INTERNAL,
                   "the transaction was rolled back when an earlier statement failed (%s); "
                   "every statement and the COMMIT fail until the program rolls back",
                   c->tx_lost_why);
    err->driver_code = c->tx_lost_code;
    memcpy(err->sqlstate, "25P02", sizeof "25P02");
    return err->code;
}

/* True for ROLLBACK [TRANSACTION] without TO: the statement that ends a
 * transaction, as opposed to rolling back to a savepoint. */
bool calx__sqlite_is_whole_rollback(const char *sql)
{
    sql = calx__sql_skip_space(sql, false);
    if (!calx__sql_starts_with_word(sql, "ROLLBACK"))
        return false;
    sql = calx__sql_skip_space(sql + strlen("ROLLBACK"), false);
    if (calx__sql_starts_with_word(sql, "TRANSACTION"))
        sql = calx__sql_skip_space(sql + strlen("TRANSACTION"), false);
    return !calx__sql_starts_with_word(sql, "TO");
}

/* A cancel that stopped a request part-way inside a transaction (a write
 * SQLite did not undo itself, a read, a batch or execute-many between two
 * statements) leaves a transaction the program cannot reason about: end it,
 * so that a cancel means the same on SQLite as on PostgreSQL. A cancel that
 * came before anything ran changes nothing. */
void calx__sqlite_cancel_ends_tx(calx_sqlite_conn *c, calx_error *err)
{
    if (err->code != CALX_ERR_CANCELED || !c->request_ran || c->tx_lost ||
        sqlite3_get_autocommit(c->db))
        return;
    calx_error rollback_err;
    if (calx__sqlite_run_simple(c, "ROLLBACK", &rollback_err) == 0)
        calx__sqlite_lose_tx_if_ended(c, true, err);
}
